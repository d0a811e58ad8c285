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

    /// The Cedar entity. Every entity gets an `id` attribute holding its
    /// id (Cedar cannot read an entity's id, and policies often compare it:
    /// `resource.owner == principal.id`); no attribute of that name given
    /// by anyone else survives. JSON `null` is a missing attribute (which
    /// `has` tests); a value Cedar cannot hold is an error, never silently
    /// dropped (a dropped `risk_score` would switch a forbid off).
    pub(crate) fn to_cedar(&self) -> Result<Entity, String> {
        let uid = self.reference().to_uid().ok_or_else(|| format!("type `{}` is not a Cedar type name", self.ty))?;
        let mut attrs: HashMap<String, RestrictedExpression> = HashMap::with_capacity(self.attrs.len() + 1);
        for (k, v) in &self.attrs {
            if let Some(expr) = json_to_cedar(v).map_err(|e| format!("attribute `{k}`: {e}"))? {
                attrs.insert(k.clone(), expr);
            }
        }
        attrs.insert("id".to_owned(), RestrictedExpression::new_string(self.id.clone()));
        let parents: HashSet<EntityUid> = self.parents.iter().filter_map(EntityRef::to_uid).collect();
        Entity::new(uid, attrs, parents).map_err(|e| e.to_string())
    }
}

/// A JSON value as a Cedar value: strings, booleans, integers (Long),
/// numbers with at most four decimals (`decimal`), arrays (Set), objects
/// (Record), and `{"__entity": {"type", "id"}}` (an entity reference, as
/// in Cedar's JSON entity format). `Ok(None)` for `null` (absent); an
/// error for what Cedar cannot hold.
pub fn json_to_cedar(v: &Value) -> Result<Option<RestrictedExpression>, String> {
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::Bool(b) => RestrictedExpression::new_bool(*b),
        Value::String(s) => RestrictedExpression::new_string(s.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => RestrictedExpression::new_long(i),
            None => decimal(n.as_f64().unwrap_or(f64::NAN))
                .ok_or_else(|| format!("{n} is not a Cedar number (a 64-bit integer, or at most four decimals)"))?,
        },
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(e) = json_to_cedar(item)? {
                    out.push(e);
                }
            }
            RestrictedExpression::new_set(out)
        }
        Value::Object(map) => {
            if let Some(e) = map.get("__entity") {
                let r = e
                    .get("type")
                    .and_then(Value::as_str)
                    .zip(e.get("id").and_then(Value::as_str))
                    .map(|(t, i)| EntityRef::new(t, i))
                    .ok_or("`__entity` needs a string type and id")?;
                return Ok(Some(RestrictedExpression::new_entity_uid(
                    r.to_uid().ok_or("`__entity` type is not a Cedar type name")?,
                )));
            }
            let mut fields = Vec::with_capacity(map.len());
            for (k, v) in map {
                if let Some(e) = json_to_cedar(v)? {
                    fields.push((k.clone(), e));
                }
            }
            RestrictedExpression::new_record(fields).map_err(|e| e.to_string())?
        }
    }))
}

/// Whether Cedar can hold this value (for checking writes up front).
pub fn representable(v: &Value) -> Result<(), String> {
    json_to_cedar(v).map(|_| ())
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
    fn type_names_must_be_cedar_identifiers() {
        assert!(EntityRef::new("user", "x").to_uid().is_some());
        assert!(EntityRef::new("Acme::Doc", "\"quoted\" id").to_uid().is_some());
        assert!(EntityRef::new("two words", "x").to_uid().is_none());
        assert!(EntityRef::new("", "x").to_uid().is_none());
    }
}
