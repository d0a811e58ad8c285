//! Explains a JWT's validation step by step, for people: each check with
//! pass, fail or skipped, what was expected and what was found, and a hint
//! for a failure. Unlike [`crate::Verifier`], which stops at the first
//! failure, every step that can run does, so one look shows everything
//! wrong with a token. Used by `latchkey jwt verify`.

use std::time::Duration;

use latchkey_crypto::jws;
use latchkey_crypto::signing_key::VerifyingKey;
use latchkey_domain::SigningAlg;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `parse`, `claims`, `alg`, `kid`, `signature`, `typ`, `iss`, `aud`,
    /// `exp`, `nbf`, `iat`, `scope`.
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// What to check the token against; `None` skips a check.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// `at+jwt` for access tokens (RFC 9068); `None`: any type.
    pub typ: Option<String>,
    pub scopes: Vec<String>,
    pub algorithms: Vec<SigningAlg>,
    pub leeway: Duration,
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations {
            issuer: None,
            audience: None,
            typ: Some("at+jwt".into()),
            scopes: Vec::new(),
            algorithms: SigningAlg::ALL.to_vec(),
            leeway: Duration::from_secs(5),
        }
    }
}

/// The decoded parts, when the token could be parsed.
#[derive(Debug, Clone)]
pub struct Explained {
    pub header: Option<Value>,
    pub claims: Option<Value>,
    pub steps: Vec<Step>,
}

impl Explained {
    pub fn valid(&self) -> bool {
        !self.steps.iter().any(|s| s.status == Status::Fail)
    }
}

fn step(check: &'static str, status: Status, detail: impl Into<String>, hint: Option<&str>) -> Step {
    Step { check, status, detail: detail.into(), hint: hint.map(str::to_owned) }
}

/// `keys`: `None` when no key set was given (the signature is skipped).
pub fn explain(token: &str, keys: Option<&[VerifyingKey]>, expect: &Expectations, now: i64) -> Explained {
    let mut steps = Vec::new();
    let token = token.trim();
    let decoded = jws::decode_unverified(token);
    let claims: Option<Value> =
        decoded.as_ref().ok().and_then(|(_, payload, _)| serde_json::from_slice::<Value>(payload).ok());
    let (header, claims) = match (&decoded, claims) {
        (Ok((h, _, _)), Some(c)) if c.is_object() => {
            steps.push(step("parse", Status::Pass, "three base64url parts; header and claims are JSON objects", None));
            (h.clone(), c)
        }
        (Err(e), _) => {
            steps.push(step(
                "parse",
                Status::Fail,
                e.to_string(),
                Some("a JWT is header.payload.signature, each base64url without padding; copy the whole token"),
            ));
            return Explained { header: None, claims: None, steps };
        }
        _ => {
            steps.push(step("parse", Status::Fail, "the payload is not a JSON object", Some("is this a JWT at all?")));
            return Explained { header: None, claims: None, steps };
        }
    };
    let header_json = serde_json::to_value(&header).unwrap_or(Value::Null);
    // The claims an access token must have, with the right types (what the
    // verifier reads them into).
    match serde_json::from_value::<latchkey_domain::access_token::AccessTokenClaims>(claims.clone()) {
        Ok(_) => steps.push(step("claims", Status::Pass, "iss, sub, aud, exp, iat, jti and client_id present", None)),
        Err(e) if expect.typ.is_some() => steps.push(step(
            "claims",
            Status::Fail,
            format!("not an RFC 9068 access token: {e}"),
            Some("an access token carries iss, sub, aud, exp, iat, jti and client_id (RFC 9068 §2.2)"),
        )),
        Err(e) => steps.push(step("claims", Status::Skipped, format!("not an access token's claims ({e})"), None)),
    }

    // alg: from the allow-list, never none or HMAC.
    let alg = header.alg.parse::<SigningAlg>().ok().filter(|a| expect.algorithms.contains(a));
    match alg {
        Some(a) => steps.push(step("alg", Status::Pass, format!("{a} is accepted"), None)),
        None => steps.push(step(
            "alg",
            Status::Fail,
            format!("{:?} is not accepted (accepted: {})", header.alg, names(&expect.algorithms)),
            Some("\"none\" and HMAC algorithms are never accepted for tokens signed with public keys: the token is forged or from another issuer"),
        )),
    }

    // kid and signature. Latchkey always names the key; a token without
    // a kid is refused, as the verifier does.
    let kid = header.kid.clone().unwrap_or_default();
    match keys {
        Some(_) if kid.is_empty() => {
            steps.push(step(
                "kid",
                Status::Fail,
                "the header has no kid",
                Some("Latchkey's tokens always name their key"),
            ));
            steps.push(step("signature", Status::Skipped, "no key to check it with", None));
        }
        None => {
            steps.push(step("kid", Status::Skipped, format!("kid {kid:?}; no key set given"), None));
            steps.push(step(
                "signature",
                Status::Skipped,
                "no key set given",
                Some("pass --issuer (its JWKS is fetched) or --jwks"),
            ));
        }
        Some(keys) => {
            let candidates: Vec<&VerifyingKey> = keys.iter().filter(|k| k.kid == kid).collect();
            if candidates.is_empty() {
                let known: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
                steps.push(step(
                    "kid",
                    Status::Fail,
                    format!("no key with kid {kid:?} (the set has {known:?})"),
                    Some("a key newer than your copy of the JWKS? fetch it again; otherwise the token is from another issuer or forged"),
                ));
                steps.push(step("signature", Status::Skipped, "no key to check it with", None));
            } else {
                steps.push(step("kid", Status::Pass, format!("key {kid:?} found"), None));
                let key = candidates.iter().find(|k| Some(k.alg) == alg);
                let checked = key.map(|k| jws::verify(token, |_| Some(*k)));
                match checked {
                    Some(Ok(_)) => steps.push(step("signature", Status::Pass, "verifies with the key", None)),
                    Some(Err(e)) => steps.push(step(
                        "signature",
                        Status::Fail,
                        e.to_string(),
                        Some("the token was changed after signing, or signed by another key with the same kid"),
                    )),
                    None => steps.push(step(
                        "signature",
                        Status::Fail,
                        format!("key {kid:?} is not for {}", header.alg),
                        Some(
                            "the header names another algorithm than the key's: algorithm confusion, refuse the token",
                        ),
                    )),
                }
            }
        }
    }

    // typ (RFC 9068 §4 for access tokens).
    match &expect.typ {
        None => steps.push(step("typ", Status::Skipped, format!("{:?}; any type accepted", header.typ), None)),
        Some(wanted) => {
            let ok = header.typ.as_deref().is_some_and(|t| {
                t.eq_ignore_ascii_case(wanted) || t.eq_ignore_ascii_case(&format!("application/{wanted}"))
            });
            if ok {
                steps.push(step("typ", Status::Pass, wanted.clone(), None));
            } else {
                steps.push(step(
                    "typ",
                    Status::Fail,
                    format!("expected {wanted}, got {:?}", header.typ),
                    Some("an ID token or another JWT is not an access token (RFC 9068 §4): send the access token"),
                ));
            }
        }
    }

    // iss and aud.
    let iss = claims["iss"].as_str();
    match &expect.issuer {
        None => steps.push(step("iss", Status::Skipped, format!("{iss:?}"), None)),
        Some(wanted) if iss == Some(wanted.as_str()) => steps.push(step("iss", Status::Pass, wanted.clone(), None)),
        Some(wanted) => steps.push(step(
            "iss",
            Status::Fail,
            format!("expected {wanted}, got {iss:?}"),
            Some("issuers compare exactly: scheme, host, port, path and trailing slash"),
        )),
    }
    let auds: Vec<&str> = match &claims["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    match &expect.audience {
        None => steps.push(step("aud", Status::Skipped, format!("{auds:?}"), None)),
        Some(wanted) if auds.contains(&wanted.as_str()) => steps.push(step("aud", Status::Pass, wanted.clone(), None)),
        Some(wanted) => steps.push(step(
            "aud",
            Status::Fail,
            format!("{wanted} is not in {auds:?}"),
            Some("request the token for this API: the `resource` parameter (RFC 8707) or `audience` in token exchange"),
        )),
    }

    // Times, against `now` with the leeway.
    let leeway = i64::try_from(expect.leeway.as_secs()).unwrap_or(0);
    match claims["exp"].as_i64() {
        None => steps.push(step("exp", Status::Fail, "no exp claim", Some("access tokens must expire"))),
        Some(exp) if now.saturating_sub(leeway) < exp => {
            steps.push(step("exp", Status::Pass, format!("expires in {}", ago(exp.saturating_sub(now))), None));
        }
        Some(exp) => steps.push(step(
            "exp",
            Status::Fail,
            format!("expired {} ago (leeway {leeway} s)", ago(now.saturating_sub(exp))),
            Some("get a new token (refresh it); if it just expired, check this machine's clock"),
        )),
    }
    match claims["nbf"].as_i64() {
        None => steps.push(step("nbf", Status::Skipped, "no nbf claim", None)),
        Some(nbf) if nbf <= now.saturating_add(leeway) => steps.push(step("nbf", Status::Pass, "already valid", None)),
        Some(nbf) => steps.push(step(
            "nbf",
            Status::Fail,
            format!("not valid for another {}", ago(nbf.saturating_sub(now))),
            Some("clocks differ between the issuer and this machine"),
        )),
    }
    match claims["iat"].as_i64() {
        None => steps.push(step("iat", Status::Fail, "no iat claim", Some("RFC 9068 §2.2 requires iat"))),
        Some(iat) if iat <= now.saturating_add(leeway) => {
            steps.push(step("iat", Status::Pass, format!("issued {} ago", ago(now.saturating_sub(iat))), None))
        }
        Some(iat) => steps.push(step(
            "iat",
            Status::Fail,
            format!("issued {} in the future", ago(iat.saturating_sub(now))),
            Some("clocks differ between the issuer and this machine"),
        )),
    }

    // Scopes.
    if expect.scopes.is_empty() {
        steps.push(step("scope", Status::Skipped, format!("{:?}", claims["scope"].as_str().unwrap_or("")), None));
    } else {
        let granted: Vec<&str> = claims["scope"].as_str().unwrap_or("").split(' ').collect();
        let missing: Vec<&str> = expect.scopes.iter().map(String::as_str).filter(|s| !granted.contains(s)).collect();
        if missing.is_empty() {
            steps.push(step("scope", Status::Pass, expect.scopes.join(" "), None));
        } else {
            steps.push(step(
                "scope",
                Status::Fail,
                format!("missing {}", missing.join(" ")),
                Some("ask for the scope in the authorization or token request; the client must be allowed it"),
            ));
        }
    }
    Explained { header: Some(header_json), claims: Some(claims), steps }
}

fn names(algs: &[SigningAlg]) -> String {
    algs.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
}

/// A duration in seconds for people: "42 s", "5 min", "3 h", "2 d".
fn ago(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_crypto::signing_key::{SigningKey, generate_pkcs8};

    fn fixture() -> (SigningKey, VerifyingKey) {
        let key = SigningKey::from_pkcs8(SigningAlg::ES256, &generate_pkcs8(SigningAlg::ES256).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        let vk = key.verifying_key().unwrap_or_else(|e| panic!("{e}"));
        (key, vk)
    }

    fn status(e: &Explained, check: &str) -> Status {
        e.steps.iter().find(|s| s.check == check).map(|s| s.status).unwrap_or(Status::Skipped)
    }

    #[test]
    fn every_check_is_explained_and_failures_named() {
        let (key, vk) = fixture();
        let claims = serde_json::json!({ "iss": "https://as", "sub": "u", "aud": "https://api", "exp": 1100,
                                         "iat": 1000, "jti": "j", "client_id": "c", "scope": "a b" });
        let token = jws::sign(&key, "at+jwt", &claims).unwrap_or_default();
        let expect = Expectations {
            issuer: Some("https://as".into()),
            audience: Some("https://api".into()),
            scopes: vec!["a".into()],
            ..Expectations::default()
        };
        let keys = [vk.clone()];
        let ok = explain(&token, Some(&keys), &expect, 1050);
        assert!(ok.valid(), "{:?}", ok.steps);
        assert_eq!(status(&ok, "signature"), Status::Pass);

        // Expired, wrong audience and a missing scope: all three named.
        let wrong = Expectations { audience: Some("https://other".into()), scopes: vec!["c".into()], ..expect.clone() };
        let bad = explain(&token, Some(&keys), &wrong, 5000);
        let failed: Vec<&str> = bad.steps.iter().filter(|s| s.status == Status::Fail).map(|s| s.check).collect();
        assert_eq!(failed, vec!["aud", "exp", "scope"]);
        assert!(bad.steps.iter().filter(|s| s.status == Status::Fail).all(|s| s.hint.is_some()));

        // Tampered: the signature step fails, the rest still run.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            serde_json::json!({ "iss": "https://as", "sub": "u", "aud": "https://api", "exp": 1100, "iat": 1000, "jti": "j", "client_id": "c", "scope": "a b admin" })
                .to_string(),
        );
        let tampered = explain(&parts.join("."), Some(&keys), &expect, 1050);
        assert_eq!(status(&tampered, "signature"), Status::Fail);
        assert_eq!(status(&tampered, "exp"), Status::Pass);
        assert!(!tampered.valid());

        assert_eq!(status(&explain("nonsense", None, &expect, 0), "parse"), Status::Fail);
        // Extreme times cannot overflow; a token lacking required claims fails.
        let odd = serde_json::json!({ "iss": "https://as", "exp": i64::MIN, "iat": i64::MIN, "nbf": i64::MAX });
        let odd = explain(&jws::sign(&key, "at+jwt", &odd).unwrap_or_default(), Some(&keys), &expect, i64::MAX);
        assert_eq!(status(&odd, "exp"), Status::Fail);
        assert_eq!(status(&odd, "claims"), Status::Fail);
        assert_eq!(status(&explain(&token, None, &expect, 1050), "signature"), Status::Skipped);
    }
}
