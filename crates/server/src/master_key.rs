//! Where the master key (the key-encryption key for signing keys) comes
//! from: `LATCHKEY_MASTER_KEY` / the config, or, with `--dev` only, a
//! generated file in the data directory.

use latchkey_crypto::MasterKey;

use crate::config::Config;

pub const DEV_MASTER_KEY_FILE: &str = "master.key";

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "LATCHKEY_MASTER_KEY is required outside --dev: generate one with `latchkey key generate-master-key` and keep it in your secret store"
    )]
    Missing,
    #[error(
        "LATCHKEY_MASTER_KEY is malformed: it must be 32 bytes as 43 base64url characters or 64 hex digits (`latchkey key generate-master-key` makes one)"
    )]
    Malformed,
    #[error(
        "the dev master key file {path} is unusable ({reason}); delete the data directory to start a fresh sandbox"
    )]
    DevFile { path: String, reason: String },
}

pub fn resolve(config: &Config) -> Result<MasterKey, MasterKeyError> {
    if let Some(text) = &config.master_key {
        return MasterKey::parse(text.expose()).map_err(|_| MasterKeyError::Malformed);
    }
    if !config.dev {
        return Err(MasterKeyError::Missing);
    }
    let path = config.data_dir.join(DEV_MASTER_KEY_FILE);
    let dev_err = |reason: String| MasterKeyError::DevFile { path: path.display().to_string(), reason };
    std::fs::create_dir_all(&config.data_dir).map_err(|e| dev_err(e.to_string()))?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let t = MasterKey::generate_text();
            crate::bootstrap::write_private_file(&path, &t).map_err(|e| dev_err(e.to_string()))?;
            t
        }
        Err(e) => return Err(dev_err(e.to_string())),
    };
    tracing::warn!(path = %path.display(), "dev mode: signing keys are encrypted with a generated master key file; never use this outside development");
    MasterKey::parse(&text).map_err(|_| dev_err("not a master key".into()))
}
