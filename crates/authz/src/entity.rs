//! Entity data in, Cedar entities out.
//!
//! Values are converted through Cedar's `RestrictedExpression` constructors,
//! never by formatting Cedar text, so no attribute value can inject syntax.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An entity's type and id, as AuthZEN and the store spell them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
}

impl EntityRef {
    pub fn new(ty: impl Into<String>, id: impl Into<String>) -> Self {
        EntityRef { ty: ty.into(), id: id.into() }
    }

    /// `None` when the type is not a Cedar type name (`Foo` or `ns::Foo`).
    pub fn to_uid(&self) -> Option<EntityUid> {
        let ty = EntityTypeName::from_str(&self.ty).ok()?;
        Some(EntityUid::from_type_name_and_id(ty, EntityId::new(&self.id)))
    }
}

/// One entity: its attributes (JSON values) and its ancestors (already
/// expanded transitively by the caller, which owns the hierarchy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityData {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
    #[serde(default)]
    pub attrs: serde_json::Map<String, Value>,
    #[serde(default)]
    pub parents: Vec<EntityRef>,
}

impl EntityData {
    pub fn new(ty: impl Into<String>, id: impl Into<String>) -> Self {
        EntityData { ty: ty.into(), id: id.into(), ..Default::default() }
    }

    pub fn reference(&self) -> EntityRef {
        EntityRef::new(self.ty.clone(), self.id.clone())
    }

    /// The Cedar entity. Every entity also gets an `id` attribute holding
    /// its id, unless it has one: Cedar cannot read an entity's id, and
    /// policies often compare it with another attribute (`resource.owner
    /// == principal.id`). Attributes whose values Cedar cannot hold (JSON
    /// `null`, fractions beyond four digits) are left out, so a policy
    /// reading them sees a missing attribute, which `has` can test.
    pub(crate) fn to_cedar(&self) -> Option<Entity> {
        let uid = self.reference().to_uid()?;
        let mut attrs: HashMap<String, RestrictedExpression> = HashMap::with_capacity(self.attrs.len() + 1);
        for (k, v) in &self.attrs {
            if let Some(expr) = json_to_cedar(v) {
                attrs.insert(k.clone(), expr);
            }
        }
        attrs.entry("id".to_owned()).or_insert_with(|| RestrictedExpression::new_string(self.id.clone()));
        let parents: HashSet<EntityUid> = self.parents.iter().filter_map(EntityRef::to_uid).collect();
        Entity::new(uid, attrs, parents).ok()
    }
}

/// A JSON value as a Cedar value: strings, booleans, integers (Long),
/// numbers with at most four decimals (`decimal`), arrays (Set), objects
/// (Record), and `{"__entity": {"type", "id"}}` (an entity reference, as
/// in Cedar's JSON entity format).
pub fn json_to_cedar(v: &Value) -> Option<RestrictedExpression> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(RestrictedExpression::new_bool(*b)),
        Value::String(s) => Some(RestrictedExpression::new_string(s.clone())),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(RestrictedExpression::new_long(i)),
            None => decimal(n.as_f64()?),
        },
        Value::Array(items) => Some(RestrictedExpression::new_set(items.iter().filter_map(json_to_cedar))),
        Value::Object(map) => {
            if let Some(Value::Object(e)) = map.get("__entity") {
                let r = EntityRef::new(e.get("type")?.as_str()?, e.get("id")?.as_str()?);
                return Some(RestrictedExpression::new_entity_uid(r.to_uid()?));
            }
            let fields: Vec<(String, RestrictedExpression)> =
                map.iter().filter_map(|(k, v)| Some((k.clone(), json_to_cedar(v)?))).collect();
            RestrictedExpression::new_record(fields).ok()
        }
    }
}

/// Cedar decimals carry four digits after the point; anything finer would
/// be silently rounded, so it is left out instead.
fn decimal(f: f64) -> Option<RestrictedExpression> {
    if !f.is_finite() {
        return None;
    }
    let scaled = f * 10_000.0;
    if (scaled - scaled.round()).abs() > 1e-6 {
        return None;
    }
    Some(RestrictedExpression::new_decimal(format!("{f:.4}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_convert_and_nulls_are_dropped() {
        assert!(json_to_cedar(&json!(null)).is_none());
        assert!(json_to_cedar(&json!(1.23456)).is_none());
        for v in [json!("a"), json!(1), json!(0.25), json!(true), json!(["a", 1]), json!({"a": {"b": 1}})] {
            assert!(json_to_cedar(&v).is_some(), "{v}");
        }
        assert!(json_to_cedar(&json!({"__entity": {"type": "User", "id": "alice"}})).is_some());
        assert!(json_to_cedar(&json!({"__entity": {"type": "not a type", "id": "x"}})).is_none());
    }

    #[test]
    fn type_names_must_be_cedar_identifiers() {
        assert!(EntityRef::new("user", "x").to_uid().is_some());
        assert!(EntityRef::new("Acme::Doc", "\"quoted\" id").to_uid().is_some());
        assert!(EntityRef::new("two words", "x").to_uid().is_none());
        assert!(EntityRef::new("", "x").to_uid().is_none());
    }
}
