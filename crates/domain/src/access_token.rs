//! JWT access tokens (RFC 9068): the claims, and the rules a token must meet
//! to be valid at an instant. Signature checking is the crypto crate's job.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::scope::ScopeSet;
use crate::time::UnixTime;

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(list) => list.iter().any(|a| a == aud),
        }
    }
}

/// Deserialized by hand (through [`AccessTokenClaimsRef`], below), not
/// derived: serde's `flatten` for `extra` buffers every claim before
/// reading it, which costs more than the rest of checking a token apart
/// from the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// RFC 8693 §4.1: who acts for the subject (token exchange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<crate::token_exchange::Actor>,
    /// RFC 8693 §4.4: who may act for the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub may_act: Option<crate::token_exchange::Actor>,
    /// Claims forwarded to the audience by its configuration (user claims
    /// such as `email`), kept apart from the registered ones.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for AccessTokenClaims {
    /// Through the borrowed view: one reader, so the owned claims and the
    /// view accept exactly the same tokens, with the same words.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AccessTokenClaimsRef::deserialize(deserializer).map(AccessTokenClaimsRef::into_owned)
    }
}

/// [`AccessTokenClaims`] read in place: the text borrowed from the JSON
/// (copied only for a string with escapes), so a typical token is read
/// without allocating. For checking a token on every request (the
/// resource-server kit) before, or without, building the owned claims.
/// `act`, `may_act` and claims beyond the registered ones are rare and
/// read owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenClaimsRef<'a> {
    pub iss: Cow<'a, str>,
    pub sub: Cow<'a, str>,
    pub aud: AudienceRef<'a>,
    pub exp: i64,
    pub iat: i64,
    pub nbf: Option<i64>,
    pub jti: Cow<'a, str>,
    pub client_id: Cow<'a, str>,
    pub scope: Option<Cow<'a, str>>,
    pub sid: Option<Cow<'a, str>>,
    pub auth_time: Option<i64>,
    pub acr: Option<Cow<'a, str>>,
    pub amr: Option<Vec<Cow<'a, str>>>,
    pub act: Option<crate::token_exchange::Actor>,
    pub may_act: Option<crate::token_exchange::Actor>,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// [`Audience`], borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceRef<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl AudienceRef<'_> {
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            AudienceRef::One(a) => a == aud,
            AudienceRef::Many(list) => list.iter().any(|a| a == aud),
        }
    }

    pub fn into_owned(self) -> Audience {
        match self {
            AudienceRef::One(a) => Audience::One(a.into_owned()),
            AudienceRef::Many(list) => Audience::Many(list.into_iter().map(Cow::into_owned).collect()),
        }
    }
}

impl AccessTokenClaimsRef<'_> {
    pub fn into_owned(self) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: self.iss.into_owned(),
            sub: self.sub.into_owned(),
            aud: self.aud.into_owned(),
            exp: self.exp,
            iat: self.iat,
            nbf: self.nbf,
            jti: self.jti.into_owned(),
            client_id: self.client_id.into_owned(),
            scope: self.scope.map(Cow::into_owned),
            sid: self.sid.map(Cow::into_owned),
            auth_time: self.auth_time,
            acr: self.acr.map(Cow::into_owned),
            amr: self.amr.map(|amr| amr.into_iter().map(Cow::into_owned).collect()),
            act: self.act,
            may_act: self.may_act,
            extra: self.extra,
        }
    }

    /// [`AccessTokenClaims::check`].
    pub fn check(&self, issuer: &str, now: UnixTime, leeway: std::time::Duration) -> Result<(), TokenProblem> {
        check_validity(&self.iss, self.exp, self.nbf, self.iat, issuer, now, leeway)
    }
}

impl<'de> Deserialize<'de> for AccessTokenClaimsRef<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

/// A string, borrowed when the input allows it (`Cow<str>`'s own
/// `Deserialize` always copies). Refuses what `String` refuses, in the
/// same words.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_string(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> serde::de::Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

/// `aud` read as `Audience`'s `#[serde(untagged)]` reads it: a string or
/// an array of strings; anything else is read whole (recursion limit
/// included) before the claims reader refuses it, so that the refusal has
/// the same words and position as before.
enum AudienceSlot<'a> {
    Matched(AudienceRef<'a>),
    Unmatched,
}

/// serde's words for a value no variant of an untagged enum accepts.
const AUDIENCE_UNMATCHED: &str = "data did not match any variant of untagged enum Audience";

impl<'de> Deserialize<'de> for AudienceSlot<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AudienceVisitor)
    }
}

struct AudienceVisitor;

impl<'de> serde::de::Visitor<'de> for AudienceVisitor {
    type Value = AudienceSlot<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(AudienceSlot::Matched(AudienceRef::One(Cow::Borrowed(v))))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(AudienceSlot::Matched(AudienceRef::One(Cow::Owned(v.to_owned()))))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(AudienceSlot::Matched(AudienceRef::One(Cow::Owned(v))))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut many, mut matched) = (Vec::new(), true);
        // Nested values are read the same way, which reads them whole.
        while let Some(item) = seq.next_element::<AudienceSlot<'de>>()? {
            match item {
                AudienceSlot::Matched(AudienceRef::One(a)) => many.push(a),
                _ => matched = false,
            }
        }
        Ok(if matched { AudienceSlot::Matched(AudienceRef::Many(many)) } else { AudienceSlot::Unmatched })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<serde::de::IgnoredAny, AudienceSlot<'de>>()?.is_some() {}
        Ok(AudienceSlot::Unmatched)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(AudienceSlot::Unmatched)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(AudienceSlot::Unmatched)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(AudienceSlot::Unmatched)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(AudienceSlot::Unmatched)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(AudienceSlot::Unmatched)
    }
}

struct ClaimsVisitor;

/// Sets `slot` from the next value; a claim given twice is refused
/// (RFC 7519 §4: a JWT's claim names must be unique).
fn once<'de, A: serde::de::MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(serde::de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

fn required<T, E: serde::de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

impl<'de> serde::de::Visitor<'de> for ClaimsVisitor {
    type Value = AccessTokenClaimsRef<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of access-token claims")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<AccessTokenClaimsRef<'de>, A::Error> {
        use serde::de::Error;
        // `None` until the claim is read; `Some(None)`: an optional claim given as null.
        let (mut iss, mut sub, mut jti, mut client_id) = (None::<Text>, None::<Text>, None::<Text>, None::<Text>);
        let (mut scope, mut sid, mut acr) = (None::<Option<Text>>, None::<Option<Text>>, None::<Option<Text>>);
        let mut amr = None::<Option<Vec<Text>>>;
        let (mut aud, mut exp, mut iat, mut nbf, mut auth_time, mut act, mut may_act) =
            (None, None, None, None, None, None, None);
        let mut extra = serde_json::Map::new();
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            match key.as_ref() {
                "iss" => once(&mut map, &mut iss, "iss")?,
                "sub" => once(&mut map, &mut sub, "sub")?,
                "aud" => {
                    if aud.is_some() {
                        return Err(A::Error::duplicate_field("aud"));
                    }
                    match map.next_value::<AudienceSlot<'de>>()? {
                        AudienceSlot::Matched(a) => aud = Some(a),
                        AudienceSlot::Unmatched => return Err(A::Error::custom(AUDIENCE_UNMATCHED)),
                    }
                }
                "exp" => once(&mut map, &mut exp, "exp")?,
                "iat" => once(&mut map, &mut iat, "iat")?,
                "nbf" => once(&mut map, &mut nbf, "nbf")?,
                "jti" => once(&mut map, &mut jti, "jti")?,
                "client_id" => once(&mut map, &mut client_id, "client_id")?,
                "scope" => once(&mut map, &mut scope, "scope")?,
                "sid" => once(&mut map, &mut sid, "sid")?,
                "auth_time" => once(&mut map, &mut auth_time, "auth_time")?,
                "acr" => once(&mut map, &mut acr, "acr")?,
                "amr" => once(&mut map, &mut amr, "amr")?,
                "act" => once(&mut map, &mut act, "act")?,
                "may_act" => once(&mut map, &mut may_act, "may_act")?,
                other => {
                    let value: serde_json::Value = map.next_value()?;
                    if extra.insert(other.to_owned(), value).is_some() {
                        return Err(A::Error::custom(format!("duplicate claim `{other}`")));
                    }
                }
            }
        }
        Ok(AccessTokenClaimsRef {
            iss: required(iss, "iss")?.0,
            sub: required(sub, "sub")?.0,
            aud: required(aud, "aud")?,
            exp: required(exp, "exp")?,
            iat: required(iat, "iat")?,
            nbf: nbf.flatten(),
            jti: required(jti, "jti")?.0,
            client_id: required(client_id, "client_id")?.0,
            scope: scope.flatten().map(|t| t.0),
            sid: sid.flatten().map(|t| t.0),
            auth_time: auth_time.flatten(),
            acr: acr.flatten().map(|t| t.0),
            amr: amr.flatten().map(|amr| amr.into_iter().map(|t| t.0).collect()),
            act: act.flatten(),
            may_act: may_act.flatten(),
            extra,
        })
    }
}

/// Why a token is not valid now, in words a developer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("signature: {0}")]
    Signature(String),
    #[error("typ must be at+jwt (RFC 9068 §4), got {0:?}")]
    WrongType(Option<String>),
    #[error("issuer mismatch: expected {expected}, got {got}")]
    WrongIssuer { expected: String, got: String },
    #[error("audience does not include {0}")]
    WrongAudience(String),
    #[error("expired at {0}")]
    Expired(UnixTime),
    #[error("not valid before {0}")]
    NotYetValid(UnixTime),
    #[error("issued in the future ({0})")]
    IssuedInFuture(UnixTime),
    #[error("revoked")]
    Revoked,
    /// The revocation state could not be read: the token is refused (fail
    /// closed), but the caller should answer 503, not 401.
    #[error("cannot check revocation now: {0}")]
    CheckUnavailable(String),
}

impl AccessTokenClaims {
    pub fn scopes(&self) -> ScopeSet {
        self.scope.as_deref().and_then(|s| ScopeSet::parse(s).ok()).unwrap_or_default()
    }

    /// Time and issuer checks. `leeway` absorbs clock skew between nodes.
    pub fn check(&self, issuer: &str, now: UnixTime, leeway: std::time::Duration) -> Result<(), TokenProblem> {
        check_validity(&self.iss, self.exp, self.nbf, self.iat, issuer, now, leeway)
    }
}

/// The rules of [`AccessTokenClaims::check`], for both forms of the claims.
fn check_validity(
    iss: &str,
    exp: i64,
    nbf: Option<i64>,
    iat: i64,
    issuer: &str,
    now: UnixTime,
    leeway: std::time::Duration,
) -> Result<(), TokenProblem> {
    if iss != issuer {
        return Err(TokenProblem::WrongIssuer { expected: issuer.to_string(), got: iss.to_owned() });
    }
    if now.minus(leeway) >= UnixTime(exp) {
        return Err(TokenProblem::Expired(UnixTime(exp)));
    }
    if let Some(nbf) = nbf
        && now.plus(leeway) < UnixTime(nbf)
    {
        return Err(TokenProblem::NotYetValid(UnixTime(nbf)));
    }
    if now.plus(leeway) < UnixTime(iat) {
        return Err(TokenProblem::IssuedInFuture(UnixTime(iat)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn claims() -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "https://as".into(),
            sub: "u".into(),
            aud: Audience::One("https://as".into()),
            exp: 1000,
            iat: 900,
            nbf: None,
            jti: "j".into(),
            client_id: "c".into(),
            scope: Some("a b".into()),
            sid: None,
            auth_time: None,
            acr: None,
            amr: None,
            act: None,
            may_act: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn claims_round_trip_keep_extra_claims_and_refuse_duplicates() {
        let mut c = claims();
        c.nbf = Some(950);
        c.extra.insert("email".into(), serde_json::json!("a@example.com"));
        let text = serde_json::to_string(&c).unwrap_or_default();
        let back: AccessTokenClaims = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back, c);
        let many: AccessTokenClaims = serde_json::from_str(
            r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":2,"iat":1,"jti":"j","client_id":"c","scope":null}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(many.aud.contains("b") && many.scope.is_none());
        for bad in [
            r#"{"iss":"i","iss":"evil","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}"#,
            r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","x":1,"x":2}"#,
            r#"{"sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}"#,
            r#"{"iss":"i","sub":"s","aud":[1],"exp":2,"iat":1,"jti":"j","client_id":"c"}"#,
            r#"{"iss":"i","sub":"s","aud":"a","exp":"soon","iat":1,"jti":"j","client_id":"c"}"#,
        ] {
            assert!(serde_json::from_str::<AccessTokenClaims>(bad).is_err(), "{bad}");
        }
    }

    /// The refusals of the claims reader, in serde_json's words with their
    /// positions, as they were before the reader borrowed its text: they
    /// reach developers (the kit's `Malformed` reason, the explainer).
    #[test]
    fn refusals_keep_their_words() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let nested_aud = format!(r#"{{"iss":"i","sub":"s","aud":{deep},"exp":2,"iat":1,"jti":"j","client_id":"c"}}"#);
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            (r#"{"iss":"i","iss":"evil","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "duplicate field `iss` at line 1 column 16"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","x":1,"x":2}"#, "duplicate claim `x` at line 1 column 85"),
            (r#"{"i\u0073s":"i","iss":"evil","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "duplicate field `iss` at line 1 column 21"),
            (r#"{"sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "missing field `iss` at line 1 column 63"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j"}"#, "missing field `client_id` at line 1 column 57"),
            (r#"{"iss":null,"sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "invalid type: null, expected a string at line 1 column 11"),
            (r#"{"iss":"i","sub":"s","aud":[1],"exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "data did not match any variant of untagged enum Audience at line 1 column 30"),
            (r#"{"iss":"i","sub":"s","aud":[ "a" , 1 ] ,"exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "data did not match any variant of untagged enum Audience at line 1 column 39"),
            (r#"{"iss":"i","sub":"s","aud":5,"exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "data did not match any variant of untagged enum Audience at line 1 column 28"),
            (r#"{"iss":"i","sub":"s","aud":null,"exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "data did not match any variant of untagged enum Audience at line 1 column 31"),
            (r#"{"iss":"i","sub":"s","aud":{"a":1},"exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "data did not match any variant of untagged enum Audience at line 1 column 34"),
            (r#"{"iss":"i","sub":"s","aud":[{"a":[1,{"b":null}]},"x"],"exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "data did not match any variant of untagged enum Audience at line 1 column 53"),
            (r#"{"iss":"i","sub":"s","aud":-1.5 ,"exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "data did not match any variant of untagged enum Audience at line 1 column 32"),
            (r#"{"iss":"i","sub":"s","aud":"a","aud":"b","exp":2,"iat":1,"jti":"j","client_id":"c"}"#, "duplicate field `aud` at line 1 column 36"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":"soon","iat":1,"jti":"j","client_id":"c"}"#, "invalid type: string \"soon\", expected i64 at line 1 column 43"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":1.5,"iat":1,"jti":"j","client_id":"c"}"#, "invalid type: floating point `1.5`, expected i64 at line 1 column 40"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"nbf":"x","jti":"j","client_id":"c"}"#, "invalid type: string \"x\", expected i64 at line 1 column 56"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"nbf":null,"nbf":3,"jti":"j","client_id":"c"}"#, "duplicate field `nbf` at line 1 column 63"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","scope":5}"#, "invalid type: integer `5`, expected a string at line 1 column 82"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","amr":"pwd"}"#, "invalid type: string \"pwd\", expected a sequence at line 1 column 84"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","amr":["pwd",1]}"#, "invalid type: integer `1`, expected a string at line 1 column 87"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","act":{"iss":"x"}}"#, "missing field `sub` at line 1 column 90"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","act":"x"}"#, "invalid type: string \"x\", expected struct Actor at line 1 column 82"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","act":{"sub":"a","act":{"sub":1}}}"#, "invalid type: integer `1`, expected a string at line 1 column 104"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","may_act":{"sub":"a","sub":"b"}}"#, "duplicate field `sub` at line 1 column 99"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","act":{"sub":"a"},"act":null}"#, "duplicate field `act` at line 1 column 96"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c",}"#, "trailing comma at line 1 column 74"),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"} x"#, "trailing characters at line 1 column 75"),
            (r#"[]"#, "invalid type: sequence, expected a JSON object of access-token claims at line 1 column 0"),
            (r#""#, "EOF while parsing a value at line 1 column 0"),
        ];
        let cases = cases.iter().map(|(p, m)| (p.to_string(), *m));
        let cases = cases.chain([(nested_aud, "recursion limit exceeded at line 1 column 154")]);
        for (payload, words) in cases {
            let refused = serde_json::from_str::<AccessTokenClaims>(&payload).map(|_| ()).map_err(|e| e.to_string());
            assert_eq!(refused, Err(words.to_owned()), "{payload}");
            // From a JSON value (the explainer): the same words, no position.
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&payload)
                && let Err(e) = serde_json::from_value::<AccessTokenClaims>(value)
            {
                assert!(words.starts_with(&format!("{e} at line 1 column ")), "{payload}: {e}");
            }
        }
    }

    #[test]
    fn the_borrowed_view_borrows_and_agrees_with_the_owned_claims() {
        let text = r#"{"iss":"i","sub":"a\"b","aud":["x","y"],"exp":2,"iat":1,"nbf":null,"jti":"j","client_id":"c",
                       "amr":["pwd","otp"],"act":{"sub":"svc","act":{"sub":"first"}},"email":"e@example.com"}"#;
        let view: AccessTokenClaimsRef = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(view.iss, Cow::Borrowed("i")));
        assert!(matches!(&view.sub, Cow::Owned(s) if s == "a\"b"), "escaped: unescaped into a copy");
        assert!(view.aud.contains("y") && !view.aud.contains("z"));
        let owned: AccessTokenClaims = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.into_owned(), owned);
        assert_eq!(owned.act.map(|a| a.depth()), Some(2));
        assert_eq!(owned.extra["email"], "e@example.com");
    }

    #[test]
    fn time_and_issuer_rules() {
        let c = claims();
        let leeway = Duration::from_secs(30);
        assert_eq!(c.check("https://as", UnixTime(950), leeway), Ok(()));
        assert_eq!(c.check("https://as", UnixTime(1029), leeway), Ok(()));
        assert!(matches!(c.check("https://as", UnixTime(1030), leeway), Err(TokenProblem::Expired(_))));
        assert!(matches!(c.check("https://other", UnixTime(950), leeway), Err(TokenProblem::WrongIssuer { .. })));
        assert!(matches!(c.check("https://as", UnixTime(800), leeway), Err(TokenProblem::IssuedInFuture(_))));
        assert!(c.scopes().contains("b"));
    }
}
