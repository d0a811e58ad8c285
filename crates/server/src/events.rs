//! The process log as an event sink: every security event is also logged
//! (target `latchkey::security`) beside the audit log (`crate::audit`),
//! so a log pipeline sees it even when the database does not.

use latchkey_domain::{EventSink, SecurityEvent};

pub struct LogSink;

impl EventSink for LogSink {
    fn emit(&self, event: SecurityEvent) {
        let details = serde_json::to_string(&event).unwrap_or_default();
        tracing::info!(target: "latchkey::security", event = event.name(), details, "security event");
    }
}
