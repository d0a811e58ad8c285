//! A schema's outline for tools (the portal's policy playground builds its
//! request form from it): the entity types, and for each action the
//! principal and resource types it applies to.

use cedar_policy::Schema;
use serde::Serialize;

use crate::CompileError;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ActionOutline {
    /// The action's id (`Action::"read"` → `read`).
    pub name: String,
    pub principals: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SchemaOutline {
    pub entity_types: Vec<String>,
    pub actions: Vec<ActionOutline>,
}

/// The outline of a schema in Cedar schema syntax.
pub fn outline(schema_src: &str) -> Result<SchemaOutline, CompileError> {
    let (schema, _warnings) =
        Schema::from_cedarschema_str(schema_src).map_err(|e| CompileError::Schema(e.to_string()))?;
    let mut entity_types: Vec<String> = schema.entity_types().map(|t| t.to_string()).collect();
    entity_types.sort();
    let mut actions = Vec::new();
    for uid in schema.actions() {
        let names = |it: Option<Box<dyn Iterator<Item = String> + '_>>| {
            let mut v: Vec<String> = it.map(|i| i.collect()).unwrap_or_default();
            v.sort();
            v
        };
        let principals = names(
            schema
                .principals_for_action(uid)
                .map(|i| Box::new(i.map(|t| t.to_string())) as Box<dyn Iterator<Item = String>>),
        );
        let resources = names(
            schema
                .resources_for_action(uid)
                .map(|i| Box::new(i.map(|t| t.to_string())) as Box<dyn Iterator<Item = String>>),
        );
        actions.push(ActionOutline { name: uid.id().unescaped().to_string(), principals, resources });
    }
    actions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SchemaOutline { entity_types, actions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_types_and_actions() {
        let schema = r#"
            entity Role;
            entity User in [Role];
            entity Document;
            action read, write appliesTo { principal: [User], resource: [Document] };
        "#;
        let o = outline(schema).unwrap();
        assert_eq!(o.entity_types, vec!["Document", "Role", "User"]);
        assert_eq!(o.actions.len(), 2);
        assert_eq!(
            o.actions[0],
            ActionOutline { name: "read".into(), principals: vec!["User".into()], resources: vec!["Document".into()] }
        );
    }
}
