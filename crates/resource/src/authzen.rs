//! Fine-grained decisions: asks the authorization server's AuthZEN
//! endpoint whether the caller (its verified token as the subject) may do
//! an action on a resource. A deny that carries a step-up requirement
//! (`acr_values`, `max_age` in the response context) becomes an RFC 9470
//! challenge; any failure to get an answer refuses (fail closed).

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Rejection, VerifiedToken};

pub struct Decisions {
    url: String,
    credential: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl Decisions {
    /// `credential`: a PEP key configured on the server, or an access token
    /// of a client holding the PEP scope; sent as a bearer credential.
    pub fn new(issuer: &str, credential: impl Into<String>, http: reqwest::Client) -> Self {
        Decisions {
            url: format!("{}/access/v1/evaluation", issuer.trim_end_matches('/')),
            credential: credential.into(),
            http,
            timeout: Duration::from_secs(2),
        }
    }

    /// Allowed, or why not. `resource` is an AuthZEN resource
    /// (`{"type", "id", "properties"}`).
    pub async fn check(&self, token: &VerifiedToken, action: &str, resource: Value) -> Result<(), Rejection> {
        let body = json!({
            "subject": { "type": "access_token", "id": token.token() },
            "action": { "name": action },
            "resource": resource,
        });
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.credential)
            .timeout(self.timeout)
            .json(&body)
            .send()
            .await
            .map_err(|e| Rejection::Unavailable(format!("decision point: {}", e.without_url())))?;
        if !response.status().is_success() {
            return Err(Rejection::Unavailable(format!("decision point answered {}", response.status())));
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|e| Rejection::Unavailable(format!("decision point: {}", e.without_url())))?;
        if answer["decision"] == true {
            return Ok(());
        }
        let context = &answer["context"];
        let acr_values: Vec<String> = context["acr_values"]
            .as_str()
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        let max_age = context["max_age"].as_u64().map(Duration::from_secs);
        if acr_values.is_empty() && max_age.is_none() {
            Err(Rejection::Denied)
        } else {
            Err(Rejection::StepUp { acr_values, max_age })
        }
    }
}
