//! When a signing key is published, signs, stops signing and disappears.
//!
//! A key is *published* in the JWKS from `publish_at`, *signs* from
//! `activate_at` (later, so that every verifier has fetched it before it sees
//! a token signed with it), stops signing at `retire_at`, and stays published
//! until `unpublish_at`, when every token it signed has expired. `revoked_at`
//! removes it at once (compromise). Every node decides from these stored
//! times, so all nodes switch keys at the same instant without talking to
//! each other.

use std::time::Duration;

use crate::algorithm::SigningAlg;
use crate::time::UnixTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTimeline {
    pub kid: String,
    pub alg: SigningAlg,
    pub created_at: UnixTime,
    pub publish_at: UnixTime,
    pub activate_at: UnixTime,
    pub retire_at: Option<UnixTime>,
    pub unpublish_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Not yet in the JWKS (a publish time in the future).
    Scheduled,
    /// In the JWKS, not signing yet.
    Published,
    /// In the JWKS and may sign.
    Active,
    /// In the JWKS so tokens it signed still verify, no longer signing.
    Retired,
    /// Out of the JWKS: every token it signed has expired.
    Expired,
    /// Out of the JWKS at once, never to be trusted again.
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Scheduled => "scheduled",
            KeyState::Published => "published",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Expired => "expired",
            KeyState::Revoked => "revoked",
        }
    }

    pub fn is_published(self) -> bool {
        matches!(self, KeyState::Published | KeyState::Active | KeyState::Retired)
    }
}

impl KeyTimeline {
    /// A key that is published now and signs after `prepublish`.
    pub fn new(kid: String, alg: SigningAlg, now: UnixTime, prepublish: Duration) -> Self {
        KeyTimeline {
            kid,
            alg,
            created_at: now,
            publish_at: now,
            activate_at: now.plus(prepublish),
            retire_at: None,
            unpublish_at: None,
            revoked_at: None,
        }
    }

    pub fn state(&self, now: UnixTime) -> KeyState {
        if self.revoked_at.is_some_and(|t| t <= now) {
            return KeyState::Revoked;
        }
        if self.unpublish_at.is_some_and(|t| t <= now) {
            return KeyState::Expired;
        }
        if now < self.publish_at {
            return KeyState::Scheduled;
        }
        if self.retire_at.is_some_and(|t| t <= now) {
            return KeyState::Retired;
        }
        if now < self.activate_at {
            return KeyState::Published;
        }
        KeyState::Active
    }

    /// Will this key sign at some point from `now` on?
    fn will_sign(&self, now: UnixTime) -> bool {
        matches!(self.state(now), KeyState::Scheduled | KeyState::Published | KeyState::Active)
    }
}

/// The key that signs for `alg` at `now`: among active keys, the one
/// activated last (ties broken by kid, so every node picks the same one).
pub fn signing_key<'a>(
    keys: impl IntoIterator<Item = &'a KeyTimeline>,
    alg: SigningAlg,
    now: UnixTime,
) -> Option<&'a KeyTimeline> {
    keys.into_iter()
        .filter(|k| k.alg == alg && k.state(now) == KeyState::Active)
        .max_by(|a, b| a.activate_at.cmp(&b.activate_at).then_with(|| a.kid.cmp(&b.kid)))
}

/// What a rotation changes: the new key, and the keys it supersedes with
/// their new retire/unpublish times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub new_key: KeyTimeline,
    pub superseded: Vec<KeyTimeline>,
}

/// Plans a rotation of `alg`: the new key is published now and signs after
/// `prepublish`; the keys that would sign until then retire at that instant
/// and stay published for `retention` (the longest token lifetime) after.
pub fn plan_rotation(
    keys: &[KeyTimeline],
    new_kid: String,
    alg: SigningAlg,
    now: UnixTime,
    prepublish: Duration,
    retention: Duration,
) -> Rotation {
    let new_key = KeyTimeline::new(new_kid, alg, now, prepublish);
    let switch = new_key.activate_at;
    let superseded = keys
        .iter()
        .filter(|k| k.alg == alg && k.will_sign(now))
        .map(|k| {
            let mut k = k.clone();
            let retire = k.retire_at.map_or(switch, |r| r.min(switch));
            k.retire_at = Some(retire);
            // A key that never signed need not stay published.
            let unpublish = if k.activate_at > retire { retire } else { retire.plus(retention) };
            k.unpublish_at = Some(k.unpublish_at.map_or(unpublish, |u| u.min(unpublish)));
            k
        })
        .collect();
    Rotation { new_key, superseded }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LifecycleError {
    #[error("no key with kid {0:?}")]
    UnknownKid(String),
    #[error("key {kid} is {state} and cannot be retired")]
    NotRetirable { kid: String, state: &'static str },
    #[error(
        "key {0} is the only {1} key signing now; run `latchkey key rotate --alg {1} --prepublish 0s` first, or wait until the rotated key activates"
    )]
    LastSigningKey(String, SigningAlg),
    #[error("key {0} is already revoked")]
    AlreadyRevoked(String),
}

/// Keys that `pending` was going to supersede, with their retirement
/// undone: cancelling a key that never signed must not leave a gap in
/// which nothing signs.
fn unsupersede(keys: &[KeyTimeline], pending: &KeyTimeline, now: UnixTime) -> Vec<KeyTimeline> {
    if pending.state(now) == KeyState::Active || pending.state(now) == KeyState::Retired {
        return vec![];
    }
    keys.iter()
        .filter(|k| k.kid != pending.kid && k.alg == pending.alg && k.retire_at == Some(pending.activate_at))
        .filter(|k| k.retire_at.is_some_and(|r| r > now))
        .map(|k| {
            let mut k = k.clone();
            k.retire_at = None;
            k.unpublish_at = None;
            k
        })
        .collect()
}

/// Plans retiring `kid` now: it stops signing and stays published for
/// `retention`. An active key may be retired only while another key of its
/// algorithm signs now; a pending key may always be cancelled. Returns every
/// timeline that changes.
pub fn plan_retire(
    keys: &[KeyTimeline],
    kid: &str,
    now: UnixTime,
    retention: Duration,
) -> Result<Vec<KeyTimeline>, LifecycleError> {
    let key = keys.iter().find(|k| k.kid == kid).ok_or_else(|| LifecycleError::UnknownKid(kid.to_string()))?;
    let state = key.state(now);
    if !key.will_sign(now) {
        return Err(LifecycleError::NotRetirable { kid: kid.to_string(), state: state.as_str() });
    }
    let signed_anything = state == KeyState::Active;
    if signed_anything {
        let successor = keys.iter().any(|k| k.kid != kid && k.alg == key.alg && k.state(now) == KeyState::Active);
        if !successor {
            return Err(LifecycleError::LastSigningKey(kid.to_string(), key.alg));
        }
    }
    let mut k = key.clone();
    k.retire_at = Some(now);
    k.unpublish_at = Some(if signed_anything { now.plus(retention) } else { now });
    let mut changed = unsupersede(keys, key, now);
    changed.push(k);
    Ok(changed)
}

/// Plans revoking `kid` now. The caller must generate an immediately active
/// replacement when `needs_replacement` is true, so signing never stops.
/// Returns every timeline that changes.
pub fn plan_revoke(keys: &[KeyTimeline], kid: &str, now: UnixTime) -> Result<(Vec<KeyTimeline>, bool), LifecycleError> {
    let key = keys.iter().find(|k| k.kid == kid).ok_or_else(|| LifecycleError::UnknownKid(kid.to_string()))?;
    if key.state(now) == KeyState::Revoked {
        return Err(LifecycleError::AlreadyRevoked(kid.to_string()));
    }
    let mut k = key.clone();
    k.revoked_at = Some(now);
    let others_sign_now = keys.iter().any(|o| o.kid != kid && o.alg == key.alg && o.state(now) == KeyState::Active);
    let needs_replacement = key.state(now) == KeyState::Active && !others_sign_now;
    let mut changed = unsupersede(keys, key, now);
    changed.push(k);
    Ok((changed, needs_replacement))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn key(kid: &str, t: i64) -> KeyTimeline {
        KeyTimeline::new(kid.into(), SigningAlg::ES256, UnixTime(t), Duration::ZERO)
    }

    #[test]
    fn rotation_prepublishes_then_switches_then_unpublishes() {
        let old = key("old", 0);
        let now = UnixTime(1000);
        let r = plan_rotation(std::slice::from_ref(&old), "new".into(), SigningAlg::ES256, now, 10 * MIN, 60 * MIN);
        let keys = vec![r.superseded[0].clone(), r.new_key.clone()];
        // Before the switch: both published, old signs.
        assert_eq!(r.new_key.state(now), KeyState::Published);
        assert_eq!(signing_key(&keys, SigningAlg::ES256, now).unwrap().kid, "old");
        // At the activation time, exactly: new signs, old retired but published.
        let switch = UnixTime(1600);
        assert_eq!(signing_key(&keys, SigningAlg::ES256, switch).unwrap().kid, "new");
        assert_eq!(keys[0].state(switch), KeyState::Retired);
        assert!(keys[0].state(UnixTime(1600 + 3599)).is_published());
        assert_eq!(keys[0].state(UnixTime(1600 + 3600)), KeyState::Expired);
    }

    #[test]
    fn retire_needs_a_successor() {
        let keys = vec![key("a", 0)];
        assert!(matches!(plan_retire(&keys, "a", UnixTime(10), MIN), Err(LifecycleError::LastSigningKey(..))));
        let keys = vec![key("a", 0), key("b", 5)];
        let changed = plan_retire(&keys, "a", UnixTime(10), MIN).unwrap();
        let a = changed.last().unwrap();
        assert_eq!(a.state(UnixTime(10)), KeyState::Retired);
        assert_eq!(a.state(UnixTime(70)), KeyState::Expired);
    }

    #[test]
    fn retiring_the_active_key_needs_a_signer_now_and_cancelling_restores() {
        let old = key("old", 0);
        let r =
            plan_rotation(std::slice::from_ref(&old), "next".into(), SigningAlg::ES256, UnixTime(100), 10 * MIN, MIN);
        let keys = vec![r.superseded[0].clone(), r.new_key.clone()];
        // `next` only signs from 700: retiring `old` now would leave a gap.
        assert!(matches!(plan_retire(&keys, "old", UnixTime(100), MIN), Err(LifecycleError::LastSigningKey(..))));
        // Cancelling `next` un-retires `old`.
        let changed = plan_retire(&keys, "next", UnixTime(100), MIN).unwrap();
        let restored = changed.iter().find(|k| k.kid == "old").unwrap();
        assert_eq!((restored.retire_at, restored.unpublish_at), (None, None));
        assert_eq!(changed.iter().find(|k| k.kid == "next").unwrap().state(UnixTime(100)), KeyState::Expired);
        let (changed, replace) = plan_revoke(&keys, "next", UnixTime(100)).unwrap();
        assert!(!replace);
        assert!(changed.iter().any(|k| k.kid == "old" && k.retire_at.is_none()));
    }

    #[test]
    fn revoke_is_immediate_and_asks_for_a_replacement() {
        let keys = vec![key("a", 0)];
        let (changed, replace) = plan_revoke(&keys, "a", UnixTime(10)).unwrap();
        let a = changed.last().unwrap();
        assert!(replace);
        assert_eq!(a.state(UnixTime(10)), KeyState::Revoked);
        assert!(!a.state(UnixTime(10)).is_published());
        let keys = vec![key("a", 0), key("b", 0)];
        assert!(!plan_revoke(&keys, "a", UnixTime(10)).unwrap().1);
    }
}
