//! `latchkey pkce`: a code verifier and its S256 challenge (RFC 7636), or
//! the challenge of a given verifier after checking it (43 to 128
//! characters of `A-Z a-z 0-9 - . _ ~`).

use anyhow::{Result, bail};

use super::print_json;
use crate::cli::PkceArgs;

pub fn run(args: PkceArgs) -> Result<()> {
    let verifier = match args.verifier {
        Some(v) => {
            if !latchkey_domain::pkce::is_valid_verifier(&v) {
                bail!(
                    "the verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1); it has {}",
                    v.chars().count()
                );
            }
            v
        }
        // 32 random bytes: 43 base64url characters, 256 bits.
        None => latchkey_crypto::random::token(32),
    };
    let challenge = latchkey_crypto::digest::pkce_s256(&verifier);
    if args.json {
        return print_json(&serde_json::json!({
            "code_verifier": verifier, "code_challenge": challenge, "code_challenge_method": "S256",
        }));
    }
    println!("code_verifier={verifier}");
    println!("code_challenge={challenge}");
    println!("code_challenge_method=S256");
    Ok(())
}
