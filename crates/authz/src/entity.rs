//! Entity data in, Cedar entities out.
//!
//! Values are converted through Cedar's restricted-expression constructors,
//! never by formatting Cedar text, so no attribute value can inject syntax.
//!
//! Entities are built as `cedar_policy_core` entities (the type behind the
//! facade's `Entity`), because a decision then hands them to Cedar by
//! reference count: the server converts a known subject once and reuses
//! it, and the schema's action entities are never copied per decision.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use cedar_policy_core::ast;
use cedar_policy_core::extensions::Extensions;
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

/// [`EntityRef::to_uid`], with the type name taken from `names` when it
/// is there (parsing a type name costs more than the rest of the
/// conversion of a small entity).
fn uid_of(ty: &str, id: &str, names: &TypeNames) -> Option<ast::EntityUID> {
    let ty = match names.get(ty) {
        Some(t) => t.clone(),
        None => EntityTypeName::from_str(ty).ok()?,
    };
    Some(EntityUid::from_type_name_and_id(ty, EntityId::new(id)).into())
}

/// Parsed type names by their text: the schema's entity types, filled
/// once when a policy set is compiled. The keys are the types' normalized
/// text, which is also the only text `EntityTypeName::from_str` accepts
/// for them, so a hit gives exactly what parsing would.
pub(crate) type TypeNames = HashMap<String, EntityTypeName>;

/// An entity converted to Cedar's form once, to be used in many
/// decisions (see [`crate::PolicySet::prepare`]). It holds exactly what
/// converting its [`EntityData`] at decision time would produce.
#[derive(Debug, Clone)]
pub struct PreparedEntity {
    pub(crate) ty: String,
    pub(crate) entity: Arc<ast::Entity>,
}

impl PreparedEntity {
    pub fn entity_type(&self) -> &str {
        &self.ty
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

    /// The Cedar entity. Every entity gets an `id` attribute holding its
    /// id (Cedar cannot read an entity's id, and policies often compare it:
    /// `resource.owner == principal.id`); no attribute of that name given
    /// by anyone else survives. JSON `null` is a missing attribute (which
    /// `has` tests); a value Cedar cannot hold is an error, never silently
    /// dropped (a dropped `risk_score` would switch a forbid off).
    ///
    /// Built in core form so that it can be shared (see the module
    /// comment). With plain attributes (nearly always), their values are
    /// made directly (see [`plain`]); otherwise [`EntityData::evaluated`].
    pub(crate) fn to_cedar(&self, names: &TypeNames) -> Result<Arc<ast::Entity>, String> {
        let plain: Option<Vec<(&str, Option<ast::Value>)>> =
            self.attrs.iter().filter(|(k, _)| *k != "id").map(|(k, v)| Some((k.as_str(), plain(v)?))).collect();
        let Some(plain) = plain else { return self.evaluated(names) };
        let uid =
            uid_of(&self.ty, &self.id, names).ok_or_else(|| format!("type `{}` is not a Cedar type name", self.ty))?;
        let parents: HashSet<ast::EntityUID> =
            self.parents.iter().filter_map(|p| uid_of(&p.ty, &p.id, names)).collect();
        // The `id` given here is the only one (the caller's was left out).
        let attrs = plain
            .into_iter()
            .filter_map(|(k, v)| Some((k.into(), ast::PartialValue::from(v?))))
            .chain([("id".into(), ast::PartialValue::from(self.id.as_str()))]);
        Ok(Arc::new(ast::Entity::new_with_attr_partial_value(uid, attrs, HashSet::new(), parents, [])))
    }

    /// The entity as `cedar_policy::Entity::new(uid, attrs, parents)`
    /// builds it: the attributes as restricted expressions, evaluated by
    /// Cedar (the same constructor of Cedar's core, the same error text).
    fn evaluated(&self, names: &TypeNames) -> Result<Arc<ast::Entity>, String> {
        let uid =
            uid_of(&self.ty, &self.id, names).ok_or_else(|| format!("type `{}` is not a Cedar type name", self.ty))?;
        let parents: HashSet<ast::EntityUID> =
            self.parents.iter().filter_map(|p| uid_of(&p.ty, &p.id, names)).collect();
        // A map first, as before: the `id` given here replaces any caller's.
        let mut attrs: HashMap<&str, ast::RestrictedExpr> = HashMap::with_capacity(self.attrs.len() + 1);
        for (k, v) in &self.attrs {
            if let Some(expr) = restricted(v).map_err(|e| format!("attribute `{k}`: {e}"))? {
                attrs.insert(k.as_str(), expr);
            }
        }
        attrs.insert("id", ast::RestrictedExpr::val(self.id.as_str()));
        ast::Entity::new(
            uid,
            attrs.into_iter().map(|(k, v)| (k.into(), v)),
            HashSet::new(),
            parents,
            [],
            Extensions::all_available(),
        )
        .map(Arc::new)
        .map_err(|e| cedar_policy::EntityAttrEvaluationError::from(e).to_string())
    }
}

/// A JSON value as a Cedar value: strings, booleans, integers (Long),
/// numbers with at most four decimals (`decimal`), arrays (Set), objects
/// (Record), and `{"__entity": {"type", "id"}}` (an entity reference, as
/// in Cedar's JSON entity format). `Ok(None)` for `null` (absent); an
/// error for what Cedar cannot hold.
pub fn json_to_cedar(v: &Value) -> Result<Option<RestrictedExpression>, String> {
    Ok(restricted(v)?.map(RestrictedExpression::from))
}

/// [`json_to_cedar`] in the form of Cedar's core, which entities are built
/// from. Each arm is what the facade's `RestrictedExpression::new_*`
/// constructor of that kind builds.
fn restricted(v: &Value) -> Result<Option<ast::RestrictedExpr>, String> {
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::Bool(b) => ast::RestrictedExpr::val(*b),
        Value::String(s) => ast::RestrictedExpr::val(s.as_str()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ast::RestrictedExpr::val(i),
            None => decimal(n.as_f64().unwrap_or(f64::NAN))
                .ok_or_else(|| format!("{n} is not a Cedar number (a 64-bit integer, or at most four decimals)"))?,
        },
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(e) = restricted(item)? {
                    out.push(e);
                }
            }
            ast::RestrictedExpr::set(out)
        }
        Value::Object(map) => {
            if let Some(e) = map.get("__entity") {
                let r = e
                    .get("type")
                    .and_then(Value::as_str)
                    .zip(e.get("id").and_then(Value::as_str))
                    .map(|(t, i)| EntityRef::new(t, i))
                    .ok_or("`__entity` needs a string type and id")?;
                let uid = r.to_uid().ok_or("`__entity` type is not a Cedar type name")?;
                return Ok(Some(ast::RestrictedExpr::val(ast::EntityUID::from(uid))));
            }
            let mut fields = Vec::with_capacity(map.len());
            for (k, v) in map {
                if let Some(e) = restricted(v)? {
                    fields.push((k.as_str().into(), e));
                }
            }
            // Keys of a JSON object are distinct, which is all this checks.
            ast::RestrictedExpr::record(fields).map_err(|e| e.to_string())?
        }
    }))
}

/// The value Cedar's restricted evaluator makes of [`restricted`]`(v)`,
/// made directly, for a plain value: one without decimals (an extension
/// call, which the evaluator runs and which can fail) and without entity
/// references. `None` for any other value, which then takes the way
/// through `restricted` and the evaluator. `Some(None)` is `null`
/// (absent). Building the expression only for the evaluator to take it
/// apart again was half the cost of converting an entity.
///
/// Each arm is what the evaluator returns for the expression `restricted`
/// builds: a literal as it is, a set (`Value::set`) or a record
/// (`Value::record`) of the evaluated members, without source location.
pub(crate) fn plain(v: &Value) -> Option<Option<ast::Value>> {
    Some(Some(match v {
        Value::Null => return Some(None),
        Value::Bool(b) => ast::Value::from(*b),
        Value::String(s) => ast::Value::from(s.as_str()),
        Value::Number(n) => ast::Value::from(n.as_i64()?),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(v) = plain(item)? {
                    out.push(v);
                }
            }
            ast::Value::set(out, None)
        }
        Value::Object(map) => {
            if map.contains_key("__entity") {
                return None;
            }
            let mut fields = Vec::with_capacity(map.len());
            for (k, v) in map {
                if let Some(v) = plain(v)? {
                    fields.push((k.as_str(), v));
                }
            }
            ast::Value::record(fields, None)
        }
    }))
}

/// Whether Cedar can hold this value (for checking writes up front).
pub fn representable(v: &Value) -> Result<(), String> {
    json_to_cedar(v).map(|_| ())
}

/// Cedar decimals carry four digits after the point; anything finer would
/// be silently rounded, so it is left out instead.
fn decimal(f: f64) -> Option<ast::RestrictedExpr> {
    if !f.is_finite() {
        return None;
    }
    let scaled = f * 10_000.0;
    if (scaled - scaled.round()).abs() > 1e-6 {
        return None;
    }
    // Rare enough to go through the facade, which knows the extension's name.
    Some(RestrictedExpression::new_decimal(format!("{f:.4}")).as_ref().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_convert_nulls_are_absent_and_the_rest_is_refused() {
        assert!(matches!(json_to_cedar(&json!(null)), Ok(None)));
        assert!(json_to_cedar(&json!(1.23456)).is_err(), "never silently rounded or dropped");
        assert!(json_to_cedar(&json!([1.23456])).is_err());
        for v in [json!("a"), json!(1), json!(0.25), json!(true), json!(["a", 1]), json!({"a": {"b": 1}})] {
            assert!(matches!(json_to_cedar(&v), Ok(Some(_))), "{v}");
        }
        assert!(matches!(json_to_cedar(&json!({"__entity": {"type": "User", "id": "alice"}})), Ok(Some(_))));
        assert!(json_to_cedar(&json!({"__entity": {"type": "not a type", "id": "x"}})).is_err());
    }

    #[test]
    fn plain_values_are_what_the_evaluator_makes() {
        use cedar_policy_core::evaluator::RestrictedEvaluator;
        let evaluator = RestrictedEvaluator::new(Extensions::all_available());
        for v in [
            json!(1),
            json!(-7),
            json!("a"),
            json!(""),
            json!(true),
            json!([1, "a", [true], null, 1]),
            json!([]),
            json!({}),
            json!({"a": {"b": [1, 2]}, "c": null, "d": "x"}),
        ] {
            let direct = plain(&v).expect("plain").expect("not null");
            let expr = restricted(&v).expect("converts").expect("not null");
            let evaluated = evaluator.interpret(expr.as_borrowed()).expect("evaluates");
            assert_eq!(direct, evaluated, "{v}");
        }
        assert_eq!(plain(&json!(null)), Some(None));
        for v in [json!(0.25), json!([1, 0.5]), json!({"a": 2.5}), json!({"__entity": {"type": "User", "id": "a"}})] {
            assert!(plain(&v).is_none(), "{v} goes through the evaluator");
        }
    }

    #[test]
    fn entities_are_what_cedar_builds() {
        let names: TypeNames = ["User", "Role"]
            .iter()
            .map(|t| ((*t).to_owned(), EntityTypeName::from_str(t).expect("a type name")))
            .collect();
        let mut d = EntityData::new("User", "alice");
        d.attrs = json!({"id": "mallory", "n": 3, "tags": ["a", "b"], "o": {"k": null, "v": "w"}, "gone": null})
            .as_object()
            .cloned()
            .unwrap_or_default();
        d.parents = vec![EntityRef::new("Role", "reader"), EntityRef::new("Group", "g")];
        let direct = d.to_cedar(&names).expect("converts");
        assert_eq!(direct, d.evaluated(&names).expect("converts"));
        assert_eq!(direct, d.evaluated(&TypeNames::new()).expect("converts"), "cached type names change nothing");
        // Not plain: the evaluator's way, errors included.
        d.attrs.insert("score".into(), json!(0.5));
        assert_eq!(d.to_cedar(&names).expect("converts"), d.evaluated(&names).expect("converts"));
        d.attrs.insert("score".into(), json!(1e300));
        assert_eq!(d.to_cedar(&names).err(), d.evaluated(&names).err());
    }

    #[test]
    fn type_names_must_be_cedar_identifiers() {
        assert!(EntityRef::new("user", "x").to_uid().is_some());
        assert!(EntityRef::new("Acme::Doc", "\"quoted\" id").to_uid().is_some());
        assert!(EntityRef::new("two words", "x").to_uid().is_none());
        assert!(EntityRef::new("", "x").to_uid().is_none());
    }
}
