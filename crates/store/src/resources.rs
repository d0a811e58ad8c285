//! API resources (RFC 8707 audiences).

use latchkey_domain::user::Origin;
use latchkey_domain::{ApiResource, UnixTime};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::{from_json, parse, to_json, ttl_from_db, ttl_to_db};
use crate::{Result, Store};

fn from_row(r: &AnyRow) -> Result<ApiResource> {
    let alg: Option<String> = r.try_get("signing_alg")?;
    Ok(ApiResource {
        identifier: r.try_get("identifier")?,
        name: r.try_get("name")?,
        scopes: from_json("scopes", &r.try_get::<String, _>("scopes")?)?,
        access_token_ttl: ttl_from_db(r.try_get("access_token_ttl")?),
        signing_alg: alg.map(|a| parse("signing_alg", &a)).transpose()?,
        forwarded_claims: from_json("forwarded_claims", &r.try_get::<String, _>("forwarded_claims")?)?,
        introspection_clients: from_json("introspection_clients", &r.try_get::<String, _>("introspection_clients")?)?,
    })
}

impl Store {
    pub async fn upsert_resource(&self, r: &ApiResource, origin: Origin, now: UnixTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_resources (identifier, name, scopes, access_token_ttl, signing_alg, forwarded_claims, introspection_clients, origin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (identifier) DO UPDATE SET name = excluded.name, scopes = excluded.scopes, \
             access_token_ttl = excluded.access_token_ttl, signing_alg = excluded.signing_alg, \
             forwarded_claims = excluded.forwarded_claims, introspection_clients = excluded.introspection_clients, origin = excluded.origin, updated_at = excluded.updated_at",
        )
        .bind(&r.identifier)
        .bind(&r.name)
        .bind(to_json(&r.scopes)?)
        .bind(ttl_to_db(r.access_token_ttl))
        .bind(r.signing_alg.map(|a| a.as_str()))
        .bind(to_json(&r.forwarded_claims)?)
        .bind(to_json(&r.introspection_clients)?)
        .bind(origin.as_str())
        .bind(now.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_resources(&self) -> Result<Vec<ApiResource>> {
        let rows = sqlx::query(
            "SELECT identifier, name, scopes, access_token_ttl, signing_alg, forwarded_claims, introspection_clients FROM api_resources ORDER BY identifier",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn delete_resources_of_origin_except(&self, origin: Origin, keep: &[String]) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT identifier FROM api_resources WHERE origin = $1")
            .bind(origin.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut removed = Vec::new();
        for r in rows {
            let id: String = r.try_get("identifier")?;
            if !keep.contains(&id) {
                sqlx::query("DELETE FROM api_resources WHERE identifier = $1").bind(&id).execute(&self.pool).await?;
                removed.push(id);
            }
        }
        Ok(removed)
    }
}
