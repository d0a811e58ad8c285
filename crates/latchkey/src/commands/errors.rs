//! `latchkey errors list|show CODE`: the error reference every `error_uri`
//! points at, in the terminal.

use anyhow::{Result, bail};
use latchkey_domain::ErrorCode;

use super::print_json;
use crate::cli::ErrorsCommand;

pub fn run(cmd: ErrorsCommand) -> Result<()> {
    match cmd {
        ErrorsCommand::List => {
            for code in ErrorCode::ALL {
                println!("{}", code.as_str());
            }
            Ok(())
        }
        ErrorsCommand::Show { code, json } => {
            let Some(found) = ErrorCode::ALL.into_iter().find(|c| c.as_str() == code.trim()) else {
                bail!("no error code {code:?}; `latchkey errors list` shows them all");
            };
            if json {
                return print_json(&serde_json::json!({ "error": found.as_str(), "explanation": found.explanation() }));
            }
            println!("{}\n\n{}", found.as_str(), found.explanation());
            Ok(())
        }
    }
}
