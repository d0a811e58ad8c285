//! Conversions between domain values and the column types both backends
//! share: JSON arrays in TEXT, enums as their wire strings.

use std::str::FromStr;

use crate::{Result, StoreError};

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn from_json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
}

pub fn parse<T: FromStr>(column: &str, text: &str) -> Result<T> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("column {column}: unexpected value {text:?}")))
}

pub fn ttl_to_db(ttl: Option<u64>) -> Option<i64> {
    ttl.map(|t| i64::try_from(t).unwrap_or(i64::MAX))
}

pub fn ttl_from_db(ttl: Option<i64>) -> Option<u64> {
    ttl.map(|t| u64::try_from(t).unwrap_or(0))
}

/// Flags are BIGINT 0/1 on both backends.
pub fn flag_to_db(b: bool) -> i64 {
    i64::from(b)
}

pub fn flag_from_db(v: i64) -> bool {
    v != 0
}
