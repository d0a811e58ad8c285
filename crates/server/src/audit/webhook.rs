//! The anomaly webhook: each flagged audit event is POSTed as JSON to the
//! configured URL, signed like incoming signals (`Latchkey-Signature:
//! t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`) so the receiver can
//! check it came from us and is fresh. Deliveries go through their own
//! bounded queue and are retried with back-off; a full queue drops
//! (counted), it never blocks the request that raised the anomaly.
//!
//! The URL is the operator's own (often a SIEM inside their network), so
//! the outbound guard for client-chosen URLs does not apply; redirects are
//! still not followed.

use std::time::Duration;

use latchkey_domain::AuditRecord;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::mpsc;

use super::config::WebhookConfig;
use crate::metrics::AuditLabels;

pub const SIGNATURE_HEADER: &str = "latchkey-signature";
const QUEUE: usize = 1000;
const ATTEMPTS: u32 = 5;
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Webhook {
    queue: mpsc::Sender<Vec<u8>>,
    counts: Family<AuditLabels, Counter>,
}

impl Webhook {
    pub fn start(config: WebhookConfig, counts: Family<AuditLabels, Counter>) -> Webhook {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(send(config, rx, counts.clone()));
        Webhook { queue, counts }
    }

    pub fn deliver(&self, record: &AuditRecord) {
        let Ok(body) = serde_json::to_vec(&super::event_json(record)) else { return };
        if self.queue.try_send(body).is_err() {
            self.counts.get_or_create(&AuditLabels { result: "dropped" }).inc();
            tracing::warn!("anomaly webhook queue full: an anomaly was not delivered");
        }
    }
}

async fn send(config: WebhookConfig, mut rx: mpsc::Receiver<Vec<u8>>, counts: Family<AuditLabels, Counter>) {
    let client = match reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "the anomaly webhook cannot start: no HTTP client");
            return;
        }
    };
    while let Some(body) = rx.recv().await {
        let mut delivered = false;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500) * 2u32.pow(attempt)).await;
            }
            let t = latchkey_domain::UnixTime::now().0;
            let signature = crate::authz::signals::sign(config.secret.expose(), t, &body);
            let sent = client
                .post(&config.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, signature)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    delivered = true;
                    break;
                }
                Ok(r) => tracing::warn!(status = r.status().as_u16(), attempt, "anomaly webhook refused a delivery"),
                Err(e) => tracing::warn!(error = %e.without_url(), attempt, "anomaly webhook delivery failed"),
            }
        }
        let result = if delivered { "delivered" } else { "failed" };
        counts.get_or_create(&AuditLabels { result }).inc();
    }
}
