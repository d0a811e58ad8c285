//! The `[portal]` section: whether developers may register their own
//! sandbox clients, what those clients may reach, and who administers the
//! portal (sees every trace, uses the policy playground).

use serde::Deserialize;

use crate::config::{ConfigError, invalid};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalFile {
    /// Self-service sandbox clients (on with `--dev`).
    pub sandbox: Option<bool>,
    /// The APIs sandbox clients may get tokens for (default with `--dev`:
    /// the sandbox's orders API).
    pub sandbox_audiences: Option<Vec<String>>,
    /// Sandbox clients per developer.
    pub sandbox_quota: Option<usize>,
    /// Usernames of portal administrators.
    #[serde(default)]
    pub admins: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PortalConfig {
    pub sandbox: bool,
    pub sandbox_audiences: Vec<String>,
    pub sandbox_quota: usize,
    pub admins: Vec<String>,
}

pub fn resolve(file: PortalFile, dev: bool) -> Result<PortalConfig, ConfigError> {
    let audiences = match file.sandbox_audiences {
        Some(list) => list,
        None if dev => vec![crate::bootstrap::DEV_RESOURCE.to_string()],
        None => vec![],
    };
    for a in &audiences {
        if url::Url::parse(a).is_err() {
            return Err(invalid("portal.sandbox_audiences", format!("{a:?} is not an absolute URI")));
        }
    }
    let sandbox = file.sandbox.unwrap_or(dev);
    if sandbox && audiences.is_empty() {
        return Err(invalid(
            "portal.sandbox_audiences",
            "sandbox clients need at least one API to call: list the sandbox APIs' identifiers",
        ));
    }
    Ok(PortalConfig {
        sandbox,
        sandbox_audiences: audiences,
        sandbox_quota: file.sandbox_quota.unwrap_or(10).clamp(1, 1000),
        admins: file.admins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_turns_the_sandbox_on_with_its_api() {
        let c = resolve(PortalFile::default(), true).unwrap();
        assert!(c.sandbox);
        assert_eq!(c.sandbox_audiences, vec![crate::bootstrap::DEV_RESOURCE.to_string()]);
        assert!(!resolve(PortalFile::default(), false).unwrap().sandbox);
    }

    #[test]
    fn a_sandbox_without_an_api_is_refused() {
        let file = PortalFile { sandbox: Some(true), ..Default::default() };
        assert!(resolve(file, false).is_err());
    }
}
