//! The server's event sink: security events go to the log (target
//! `latchkey::security`) until the audit store exists, and the ones other
//! nodes must hear about are appended to the store's event table.

use latchkey_domain::{EventSink, SecurityEvent};

pub struct LogSink;

impl EventSink for LogSink {
    fn emit(&self, event: SecurityEvent) {
        let details = serde_json::to_string(&event).unwrap_or_default();
        tracing::info!(target: "latchkey::security", event = event.name(), details, "security event");
    }
}
