//! OAuth clients.

use latchkey_domain::client::{AuthMethod, Client, ClientKind, GrantType};
use latchkey_domain::user::Origin;
use latchkey_domain::{ScopeSet, UnixTime};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::{flag_from_db, flag_to_db, from_json, parse, to_json, ttl_from_db, ttl_to_db};
use crate::{Result, Store, StoreError};

const COLUMNS: &str = "id, name, kind, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, scopes, \
    audiences, auth_method, id_token_alg, access_token_ttl, refresh_token_ttl, id_token_ttl, first_party, refresh_token_grace, \
    jwks_uri, origin, created_at, updated_at, jwks, token_exchange, backchannel_logout_uri";

fn from_row(r: &AnyRow) -> Result<Client> {
    let grant_names: Vec<String> = from_json("grant_types", &r.try_get::<String, _>("grant_types")?)?;
    let grant_types = grant_names.iter().map(|g| parse::<GrantType>("grant_types", g)).collect::<Result<Vec<_>>>()?;
    let scopes: ScopeSet = from_json("scopes", &r.try_get::<String, _>("scopes")?)?;
    let origin: String = r.try_get("origin")?;
    Ok(Client {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: parse::<ClientKind>("kind", &r.try_get::<String, _>("kind")?)?,
        secret_hash: r.try_get("secret_hash")?,
        redirect_uris: from_json("redirect_uris", &r.try_get::<String, _>("redirect_uris")?)?,
        post_logout_redirect_uris: from_json(
            "post_logout_redirect_uris",
            &r.try_get::<String, _>("post_logout_redirect_uris")?,
        )?,
        grant_types,
        scopes,
        audiences: from_json("audiences", &r.try_get::<String, _>("audiences")?)?,
        auth_method: parse::<AuthMethod>("auth_method", &r.try_get::<String, _>("auth_method")?)?,
        id_token_alg: parse("id_token_alg", &r.try_get::<String, _>("id_token_alg")?)?,
        access_token_ttl: ttl_from_db(r.try_get("access_token_ttl")?),
        refresh_token_ttl: ttl_from_db(r.try_get("refresh_token_ttl")?),
        id_token_ttl: ttl_from_db(r.try_get("id_token_ttl")?),
        first_party: flag_from_db(r.try_get("first_party")?),
        refresh_token_grace: u64::try_from(r.try_get::<i64, _>("refresh_token_grace")?).unwrap_or(0),
        jwks_uri: r.try_get("jwks_uri")?,
        jwks: r.try_get("jwks")?,
        token_exchange: from_json("token_exchange", &r.try_get::<String, _>("token_exchange")?)?,
        backchannel_logout_uri: r.try_get("backchannel_logout_uri")?,
        origin: Origin::parse(&origin).ok_or_else(|| StoreError::Corrupt(format!("client origin {origin:?}")))?,
        created_at: UnixTime(r.try_get("created_at")?),
        updated_at: UnixTime(r.try_get("updated_at")?),
    })
}

impl Store {
    /// Inserts a new client; `Conflict` if the id is taken.
    pub async fn insert_client(&self, c: &Client) -> Result<()> {
        self.write_client(c, false).await
    }

    /// Inserts or replaces a client (declarative config). Keeps `created_at`.
    pub async fn upsert_client(&self, c: &Client) -> Result<()> {
        self.write_client(c, true).await
    }

    async fn write_client(&self, c: &Client, upsert: bool) -> Result<()> {
        let grant_names: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
        let conflict = if upsert {
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, secret_hash = excluded.secret_hash, \
             redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris, \
             grant_types = excluded.grant_types, scopes = excluded.scopes, audiences = excluded.audiences, \
             auth_method = excluded.auth_method, id_token_alg = excluded.id_token_alg, \
             access_token_ttl = excluded.access_token_ttl, refresh_token_ttl = excluded.refresh_token_ttl, \
             id_token_ttl = excluded.id_token_ttl, first_party = excluded.first_party, refresh_token_grace = excluded.refresh_token_grace, jwks_uri = excluded.jwks_uri, \
             jwks = excluded.jwks, token_exchange = excluded.token_exchange, \
             backchannel_logout_uri = excluded.backchannel_logout_uri, \
             origin = excluded.origin, updated_at = excluded.updated_at"
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23){conflict}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&c.id)
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(c.secret_hash.clone())
            .bind(to_json(&c.redirect_uris)?)
            .bind(to_json(&c.post_logout_redirect_uris)?)
            .bind(to_json(&grant_names)?)
            .bind(to_json(&c.scopes)?)
            .bind(to_json(&c.audiences)?)
            .bind(c.auth_method.as_str())
            .bind(c.id_token_alg.as_str())
            .bind(ttl_to_db(c.access_token_ttl))
            .bind(ttl_to_db(c.refresh_token_ttl))
            .bind(ttl_to_db(c.id_token_ttl))
            .bind(flag_to_db(c.first_party))
            .bind(i64::try_from(c.refresh_token_grace).unwrap_or(i64::MAX))
            .bind(c.jwks_uri.clone())
            .bind(c.origin.as_str())
            .bind(c.created_at.0)
            .bind(c.updated_at.0)
            .bind(c.jwks.clone())
            .bind(to_json(&c.token_exchange)?)
            .bind(c.backchannel_logout_uri.clone())
            .execute(&self.pool)
            .await?;
        self.client_changed(&c.id).await
    }

    pub async fn get_client(&self, id: &str) -> Result<Option<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn list_clients(&self) -> Result<Vec<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM clients ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes a client and, by cascade, its grants and refresh tokens.
    pub async fn delete_client(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM clients WHERE id = $1").bind(id).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.client_changed(id).await
    }

    /// Tells every node's client cache (the change feed).
    async fn client_changed(&self, id: &str) -> Result<()> {
        let change = crate::Change::ClientChanged { client_id: id.to_string() };
        crate::changes::append(&self.pool, &change, UnixTime::now()).await
    }

    pub async fn set_client_secret_hash(&self, id: &str, hash: &[u8], now: UnixTime) -> Result<()> {
        let done = sqlx::query("UPDATE clients SET secret_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now.0)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.client_changed(id).await
    }

    /// Removes the clients of `origin` whose ids are not in `keep`: what the
    /// declarative config no longer declares. Returns the removed ids.
    pub async fn delete_clients_of_origin_except(&self, origin: Origin, keep: &[String]) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT id FROM clients WHERE origin = $1").bind(origin.as_str()).fetch_all(&self.pool).await?;
        let mut removed = Vec::new();
        for r in rows {
            let id: String = r.try_get("id")?;
            if !keep.contains(&id) {
                self.delete_client(&id).await?;
                removed.push(id);
            }
        }
        Ok(removed)
    }
}
