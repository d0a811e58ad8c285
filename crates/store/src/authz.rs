//! Authorization data: versioned policy sets, the entity directory
//! (attributes and parents of subjects and resources), capabilities and
//! identity-signal receipts. Every write that decisions depend on appends
//! a change in the same transaction, so every node's decision cache learns
//! of it.

use latchkey_domain::UnixTime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::Row;

use crate::changes::{self, Change};
use crate::codec::{from_json, to_json};
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    pub version: i64,
    pub schema: String,
    pub policies: String,
    pub digest: String,
    pub source: String,
    pub comment: Option<String>,
    pub created_at: UnixTime,
}

/// A parent of an entity (a role, a group, a folder).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParentRef {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoredEntity {
    pub entity_type: String,
    pub entity_id: String,
    pub attributes: Map<String, Value>,
    /// Attribute -> `occurred_at` of the signal that last set it.
    pub attribute_times: Map<String, Value>,
    pub parents: Vec<ParentRef>,
    pub updated_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capability {
    pub id: String,
    pub subject_type: String,
    pub subject_id: String,
    pub action: String,
    pub resource_type: String,
    /// `*` for every resource of the type.
    pub resource_id: String,
    pub expires_at: UnixTime,
    pub created_at: UnixTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a signal merge did, attribute by attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalMerge {
    pub applied: Vec<String>,
    /// Older than what the store holds: "an old verified never overwrites
    /// a newer fraud flag".
    pub stale: Vec<String>,
}

const ENTITY_COLUMNS: &str = "entity_type, entity_id, attributes, attribute_times, parents, updated_at, revision";
const CAPABILITY_COLUMNS: &str =
    "id, subject_type, subject_id, action, resource_type, resource_id, expires_at, created_at, note";

/// Attempts of a compare-and-swap merge before giving up as contended.
const MERGE_ATTEMPTS: usize = 8;

impl Store {
    /// The active policy set: the newest version.
    pub async fn active_policy_version(&self) -> Result<Option<PolicyVersion>> {
        let row = sqlx::query(
            "SELECT version, schema_text, policies_text, digest, source, comment, created_at \
             FROM policy_versions ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| policy_from_row(&r)).transpose()
    }

    pub async fn policy_version(&self, version: i64) -> Result<Option<PolicyVersion>> {
        let row = sqlx::query(
            "SELECT version, schema_text, policies_text, digest, source, comment, created_at \
             FROM policy_versions WHERE version = $1",
        )
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| policy_from_row(&r)).transpose()
    }

    /// Newest first, without the texts.
    pub async fn policy_versions(&self, limit: i64) -> Result<Vec<PolicyVersion>> {
        let rows = sqlx::query(
            "SELECT version, '' AS schema_text, '' AS policies_text, digest, source, comment, created_at \
             FROM policy_versions ORDER BY version DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(policy_from_row).collect()
    }

    /// Stores a new version (already compiled and validated by the caller)
    /// and announces it; returns its number.
    pub async fn put_policy_version(
        &self,
        schema: &str,
        policies: &str,
        digest: &str,
        source: &str,
        comment: Option<&str>,
        now: UnixTime,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO policy_versions (schema_text, policies_text, digest, source, comment, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING version",
        )
        .bind(schema)
        .bind(policies)
        .bind(digest)
        .bind(source)
        .bind(comment)
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await?;
        let version: i64 = row.try_get("version")?;
        changes::append(&mut *tx, &Change::PolicyChanged { version }, now).await?;
        tx.commit().await?;
        Ok(version)
    }

    pub async fn entity(&self, entity_type: &str, entity_id: &str) -> Result<Option<StoredEntity>> {
        Ok(self.entity_with_revision(entity_type, entity_id).await?.map(|(e, _)| e))
    }

    async fn entity_with_revision(&self, entity_type: &str, entity_id: &str) -> Result<Option<(StoredEntity, i64)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTITY_COLUMNS} FROM authz_entities WHERE entity_type = $1 AND entity_id = $2"
        )))
        .bind(entity_type)
        .bind(entity_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((entity_from_row(&r)?, r.try_get::<i64, _>("revision")?))).transpose()
    }

    /// The stored entities among `keys` ((type, id) pairs), in one query
    /// per 100 keys: a batch of decisions reads its unseen ids at once
    /// instead of one round trip each. Keys the store does not hold are
    /// simply absent from the answer.
    pub async fn entities_many(&self, keys: &[(String, String)]) -> Result<Vec<StoredEntity>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut sql = format!("SELECT {ENTITY_COLUMNS} FROM authz_entities WHERE ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(" OR ");
                }
                sql.push_str(&format!("(entity_type = ${} AND entity_id = ${})", 2 * i + 1, 2 * i + 2));
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (ty, id) in chunk {
                query = query.bind(ty.as_str()).bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push(entity_from_row(&row)?);
            }
        }
        Ok(found)
    }

    /// The (type, id) of up to `limit` stored entities, in no order: what
    /// a node needs to know which ids the store does not hold.
    pub async fn entity_keys(&self, limit: i64) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT entity_type, entity_id FROM authz_entities LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("entity_type")?, r.try_get("entity_id")?))).collect()
    }

    /// Entities of one type with an id after `after`, in id order: the
    /// candidates of an AuthZEN search.
    pub async fn entities_of_type(&self, entity_type: &str, after: &str, limit: i64) -> Result<Vec<StoredEntity>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTITY_COLUMNS} FROM authz_entities WHERE entity_type = $1 AND entity_id > $2 \
             ORDER BY entity_id LIMIT $3"
        )))
        .bind(entity_type)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entity_from_row).collect()
    }

    /// Replaces an entity's attributes and parents (an administrator's or
    /// the configuration's word, which resets the signal times).
    pub async fn put_entity(
        &self,
        entity_type: &str,
        entity_id: &str,
        attributes: &Map<String, Value>,
        parents: &[ParentRef],
        now: UnixTime,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO authz_entities (entity_type, entity_id, attributes, attribute_times, parents, revision, updated_at) \
             VALUES ($1, $2, $3, '{}', $4, 1, $5) \
             ON CONFLICT (entity_type, entity_id) DO UPDATE SET attributes = $3, attribute_times = '{}', \
               parents = $4, revision = authz_entities.revision + 1, updated_at = $5",
        )
        .bind(entity_type)
        .bind(entity_id)
        .bind(to_json(attributes)?)
        .bind(to_json(&parents)?)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        changes::append(&mut *tx, &entity_changed(entity_type, entity_id), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets some attributes, keeping the others (admin PATCH). Values that
    /// are JSON `null` remove the attribute.
    pub async fn patch_entity(
        &self,
        entity_type: &str,
        entity_id: &str,
        attributes: &Map<String, Value>,
        now: UnixTime,
    ) -> Result<()> {
        self.merge_attributes(entity_type, entity_id, attributes, None, now).await.map(|_| ())
    }

    /// Merges a signal's attributes, each only if the signal is newer than
    /// the one that last set it (`occurred_at`, seconds).
    pub async fn merge_signal(
        &self,
        entity_type: &str,
        entity_id: &str,
        attributes: &Map<String, Value>,
        occurred_at: i64,
        now: UnixTime,
    ) -> Result<SignalMerge> {
        self.merge_attributes(entity_type, entity_id, attributes, Some(occurred_at), now).await
    }

    async fn merge_attributes(
        &self,
        entity_type: &str,
        entity_id: &str,
        attributes: &Map<String, Value>,
        occurred_at: Option<i64>,
        now: UnixTime,
    ) -> Result<SignalMerge> {
        for _ in 0..MERGE_ATTEMPTS {
            let current = self.entity_with_revision(entity_type, entity_id).await?;
            let (mut entity, revision) = current.unwrap_or_else(|| {
                (
                    StoredEntity {
                        entity_type: entity_type.to_owned(),
                        entity_id: entity_id.to_owned(),
                        ..Default::default()
                    },
                    0,
                )
            });
            let mut merge = SignalMerge::default();
            for (name, value) in attributes {
                if let Some(at) = occurred_at {
                    let newer_stored = entity.attribute_times.get(name).and_then(Value::as_i64).is_some_and(|t| t > at);
                    if newer_stored {
                        merge.stale.push(name.clone());
                        continue;
                    }
                    entity.attribute_times.insert(name.clone(), Value::from(at));
                } else {
                    entity.attribute_times.remove(name);
                }
                if value.is_null() {
                    entity.attributes.remove(name);
                } else {
                    entity.attributes.insert(name.clone(), value.clone());
                }
                merge.applied.push(name.clone());
            }
            if merge.applied.is_empty() {
                return Ok(merge);
            }
            let mut tx = self.pool.begin().await?;
            let written = if revision == 0 {
                sqlx::query(
                    "INSERT INTO authz_entities (entity_type, entity_id, attributes, attribute_times, parents, revision, updated_at) \
                     VALUES ($1, $2, $3, $4, '[]', 1, $5) ON CONFLICT (entity_type, entity_id) DO NOTHING",
                )
                .bind(entity_type)
                .bind(entity_id)
                .bind(to_json(&entity.attributes)?)
                .bind(to_json(&entity.attribute_times)?)
                .bind(now.0)
                .execute(&mut *tx)
                .await?
            } else {
                sqlx::query(
                    "UPDATE authz_entities SET attributes = $3, attribute_times = $4, revision = revision + 1, updated_at = $5 \
                     WHERE entity_type = $1 AND entity_id = $2 AND revision = $6",
                )
                .bind(entity_type)
                .bind(entity_id)
                .bind(to_json(&entity.attributes)?)
                .bind(to_json(&entity.attribute_times)?)
                .bind(now.0)
                .bind(revision)
                .execute(&mut *tx)
                .await?
            };
            if written.rows_affected() == 1 {
                changes::append(&mut *tx, &entity_changed(entity_type, entity_id), now).await?;
                tx.commit().await?;
                return Ok(merge);
            }
            // Someone else wrote in between: read again and re-merge.
            tx.rollback().await?;
        }
        Err(StoreError::Conflict(format!("entity {entity_type}::{entity_id} is being updated concurrently")))
    }

    /// Deletes an entity; `false` if there was none.
    pub async fn delete_entity(&self, entity_type: &str, entity_id: &str, now: UnixTime) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM authz_entities WHERE entity_type = $1 AND entity_id = $2")
            .bind(entity_type)
            .bind(entity_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        changes::append(&mut *tx, &entity_changed(entity_type, entity_id), now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn grant_capability(&self, cap: &Capability) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO capabilities ({CAPABILITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(&cap.id)
        .bind(&cap.subject_type)
        .bind(&cap.subject_id)
        .bind(&cap.action)
        .bind(&cap.resource_type)
        .bind(&cap.resource_id)
        .bind(cap.expires_at.0)
        .bind(cap.created_at.0)
        .bind(cap.note.as_deref())
        .execute(&mut *tx)
        .await?;
        changes::append(&mut *tx, &entity_changed(&cap.subject_type, &cap.subject_id), cap.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A subject's unexpired capabilities.
    pub async fn capabilities_of(
        &self,
        subject_type: &str,
        subject_id: &str,
        now: UnixTime,
    ) -> Result<Vec<Capability>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CAPABILITY_COLUMNS} FROM capabilities WHERE subject_type = $1 AND subject_id = $2 \
             AND expires_at > $3 ORDER BY created_at, id"
        )))
        .bind(subject_type)
        .bind(subject_id)
        .bind(now.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(capability_from_row).collect()
    }

    /// Removes a capability; `None` if there was none.
    pub async fn revoke_capability(&self, id: &str, now: UnixTime) -> Result<Option<Capability>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM capabilities WHERE id = $1 RETURNING {CAPABILITY_COLUMNS}"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let cap = capability_from_row(&row)?;
        changes::append(&mut *tx, &entity_changed(&cap.subject_type, &cap.subject_id), now).await?;
        tx.commit().await?;
        Ok(Some(cap))
    }

    /// Forgets a receipt whose signal could not be applied.
    pub async fn forget_signal_receipt(&self, source: &str, event_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM signal_receipts WHERE source = $1 AND event_id = $2")
            .bind(source)
            .bind(event_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Writes configured seed data: its parents and attributes, except
    /// attributes a signal has set since (signals are newer news than a
    /// file read at every start).
    pub async fn seed_entity(
        &self,
        entity_type: &str,
        entity_id: &str,
        attributes: &Map<String, Value>,
        parents: &[ParentRef],
        now: UnixTime,
    ) -> Result<()> {
        let Some(existing) = self.entity(entity_type, entity_id).await? else {
            return self.put_entity(entity_type, entity_id, attributes, parents, now).await;
        };
        let mut merged = existing.attributes.clone();
        for (k, v) in attributes {
            if !existing.attribute_times.contains_key(k) {
                merged.insert(k.clone(), v.clone());
            }
        }
        if merged == existing.attributes && parents == existing.parents.as_slice() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE authz_entities SET attributes = $3, parents = $4, revision = revision + 1, updated_at = $5 \
             WHERE entity_type = $1 AND entity_id = $2",
        )
        .bind(entity_type)
        .bind(entity_id)
        .bind(to_json(&merged)?)
        .bind(to_json(&parents)?)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        changes::append(&mut *tx, &entity_changed(entity_type, entity_id), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a signal's event id; `false` if this source sent it before
    /// (within the retention of receipts).
    pub async fn record_signal_receipt(&self, source: &str, event_id: &str, expires_at: UnixTime) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO signal_receipts (source, event_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (source, event_id) DO NOTHING",
        )
        .bind(source)
        .bind(event_id)
        .bind(expires_at.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn entity_changed(entity_type: &str, entity_id: &str) -> Change {
    Change::EntityChanged { entity_type: entity_type.to_owned(), entity_id: entity_id.to_owned() }
}

fn policy_from_row(r: &sqlx::any::AnyRow) -> Result<PolicyVersion> {
    Ok(PolicyVersion {
        version: r.try_get("version")?,
        schema: r.try_get("schema_text")?,
        policies: r.try_get("policies_text")?,
        digest: r.try_get("digest")?,
        source: r.try_get("source")?,
        comment: r.try_get("comment")?,
        created_at: UnixTime(r.try_get("created_at")?),
    })
}

fn entity_from_row(r: &sqlx::any::AnyRow) -> Result<StoredEntity> {
    Ok(StoredEntity {
        entity_type: r.try_get("entity_type")?,
        entity_id: r.try_get("entity_id")?,
        attributes: from_json("attributes", &r.try_get::<String, _>("attributes")?)?,
        attribute_times: from_json("attribute_times", &r.try_get::<String, _>("attribute_times")?)?,
        parents: from_json("parents", &r.try_get::<String, _>("parents")?)?,
        updated_at: UnixTime(r.try_get("updated_at")?),
    })
}

fn capability_from_row(r: &sqlx::any::AnyRow) -> Result<Capability> {
    Ok(Capability {
        id: r.try_get("id")?,
        subject_type: r.try_get("subject_type")?,
        subject_id: r.try_get("subject_id")?,
        action: r.try_get("action")?,
        resource_type: r.try_get("resource_type")?,
        resource_id: r.try_get("resource_id")?,
        expires_at: UnixTime(r.try_get("expires_at")?),
        created_at: UnixTime(r.try_get("created_at")?),
        note: r.try_get("note")?,
    })
}
