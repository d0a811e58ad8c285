//! The audit log: every security event, with the request's context (time,
//! trace id, source address, user agent, authenticated actor), is queued
//! and written to the store in batches by one background writer per node.
//!
//! Why a bounded queue and `try_send`: auditing must never slow or block
//! the request that caused an event. When the queue is full (the database
//! is slow or down) the event is dropped, counted in
//! `latchkey_audit_events_total{result="dropped_queue_full"}` and logged
//! (at most one warning per ten seconds, with the count).
//!
//! Every event also passes the anomaly detector (bursts of failures, one
//! user's sessions from many addresses); flagged events are counted and,
//! if configured, delivered to a signed webhook.

pub mod config;
mod network;
pub mod webhook;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use latchkey_domain::anomaly::AnomalyDetector;
use latchkey_domain::event::AnomalyKind;
use latchkey_domain::{AuditRecord, EventOrigin, EventSink, SecurityEvent, UnixTime};
use latchkey_store::Store;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::{mpsc, oneshot};

use crate::error::REQUEST_CONTEXT;
use crate::metrics::{AnomalyLabels, AuditLabels};
use config::AuditConfig;

/// User agents are cut to this many characters.
const USER_AGENT_CHARS: usize = 256;
/// Between two "events dropped" warnings.
const DROP_WARNING_INTERVAL_MS: i64 = 10_000;
/// Attempts at writing one batch before its events are dropped.
const WRITE_ATTEMPTS: u32 = 4;

enum Message {
    Record(Box<AuditRecord>),
    /// Answered once everything queued before it was handled: `true` if
    /// all of it was written.
    Flush(oneshot::Sender<bool>),
}

pub struct AuditLog {
    queue: mpsc::Sender<Message>,
    /// Where events also go: the log (and, in tests, memory).
    also: Arc<dyn EventSink>,
    config: AuditConfig,
    node: Option<String>,
    detector: Mutex<AnomalyDetector>,
    webhook: Option<webhook::Webhook>,
    counts: Family<AuditLabels, Counter>,
    anomalies: Family<AnomalyLabels, Counter>,
    dropped_unreported: AtomicU64,
    last_drop_warning_ms: AtomicI64,
}

impl AuditLog {
    /// Starts the writer (and the webhook's sender) on the current runtime.
    pub fn start(
        store: Store,
        config: AuditConfig,
        node: String,
        also: Arc<dyn EventSink>,
        metrics: &crate::metrics::Metrics,
    ) -> Arc<AuditLog> {
        let (queue, rx) = mpsc::channel(config.queue_capacity);
        let counts = metrics.audit_events.clone();
        tokio::spawn(write_batches(store, rx, config.batch, counts.clone()));
        let webhook = config.webhook.clone().map(|w| webhook::Webhook::start(w, metrics.webhook_deliveries.clone()));
        Arc::new(AuditLog {
            queue,
            also,
            detector: Mutex::new(AnomalyDetector::new(config.anomalies.clone())),
            node: Some(config.node.clone().unwrap_or(node)),
            config,
            webhook,
            counts,
            anomalies: metrics.anomalies.clone(),
            dropped_unreported: AtomicU64::new(0),
            last_drop_warning_ms: AtomicI64::new(0),
        })
    }

    /// Waits (at most `timeout`) until every event queued so far is
    /// handled; `true` if all of them were written.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        let sent = tokio::time::timeout(timeout, self.queue.send(Message::Flush(tx))).await;
        matches!(sent, Ok(Ok(()))) && matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(true)))
    }

    /// The current request's context, as recorded.
    fn origin(&self) -> EventOrigin {
        REQUEST_CONTEXT
            .try_with(|c| EventOrigin {
                trace_id: Some(c.request_id.clone()),
                source_ip: c.source_ip.and_then(|ip| network::recorded(ip, &self.config)),
                user_agent: c
                    .user_agent
                    .as_ref()
                    .filter(|_| !self.config.network_retention.is_zero())
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).chars().take(USER_AGENT_CHARS).collect()),
                actor: c.facts.actor.get().cloned(),
            })
            .unwrap_or_default()
    }

    fn record(&self, event: &SecurityEvent, origin: EventOrigin) {
        if let Some(kind) = AnomalyKind::of(event) {
            self.anomalies.get_or_create(&AnomalyLabels { kind: kind.as_str() }).inc();
        }
        let record = AuditRecord::new(event, origin, latchkey_domain::time::now_millis(), self.node.clone());
        if event.outcome() == latchkey_domain::Outcome::Flagged
            && let Some(w) = &self.webhook
        {
            w.deliver(&record);
        }
        match self.queue.try_send(Message::Record(Box::new(record))) {
            Ok(()) => {}
            Err(_) => self.dropped(),
        }
    }

    fn dropped(&self) {
        self.counts.get_or_create(&AuditLabels { result: "dropped_queue_full" }).inc();
        let unreported = self.dropped_unreported.fetch_add(1, Ordering::Relaxed) + 1;
        let now = latchkey_domain::time::now_millis();
        let last = self.last_drop_warning_ms.load(Ordering::Relaxed);
        if now - last >= DROP_WARNING_INTERVAL_MS
            && self.last_drop_warning_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            self.dropped_unreported.fetch_sub(unreported, Ordering::Relaxed);
            tracing::warn!(
                dropped = unreported,
                capacity = self.config.queue_capacity,
                "audit queue full: events dropped (see latchkey_audit_events_total)"
            );
        }
    }
}

/// The JSON form of an event (query API, CLI, webhook): the record, with
/// its time also in RFC 3339.
pub fn event_json(r: &AuditRecord) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
    if let Some(map) = v.as_object_mut() {
        let time = std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(r.at_ms).unwrap_or(0));
        map.insert("time".into(), serde_json::Value::String(humantime::format_rfc3339_millis(time).to_string()));
    }
    v
}

impl EventSink for AuditLog {
    fn emit(&self, event: SecurityEvent) {
        let origin = self.origin();
        let found = if AnomalyDetector::watches(&event) {
            let mut detector = self.detector.lock().unwrap_or_else(|p| p.into_inner());
            detector.observe(&event, origin.source_ip.as_deref(), UnixTime::now().0)
        } else {
            Vec::new()
        };
        self.record(&event, origin.clone());
        self.also.emit(event);
        // Anomalies are recorded after their cause. One about an address
        // carries that address; the others the request's context.
        for (anomaly, address) in found {
            let mut anomaly_origin = origin.clone();
            if address.is_some() {
                anomaly_origin.source_ip = address;
            }
            self.record(&anomaly, anomaly_origin);
            self.also.emit(anomaly);
        }
    }
}

/// The writer: takes up to `batch` queued events at a time and appends
/// them in one transaction, retrying a failed batch a few times (with
/// back-off). If it still fails, the events are tried one by one, so that
/// one bad row cannot take its whole batch down; what fails then is
/// dropped, counted.
async fn write_batches(
    store: Store,
    mut rx: mpsc::Receiver<Message>,
    batch: usize,
    counts: Family<AuditLabels, Counter>,
) {
    let mut messages = Vec::with_capacity(batch);
    let mut records = Vec::with_capacity(batch);
    // Whether everything since the last flush was written.
    let mut all_written = true;
    while rx.recv_many(&mut messages, batch).await > 0 {
        let mut flushes = Vec::new();
        for m in messages.drain(..) {
            match m {
                Message::Record(r) => records.push(*r),
                Message::Flush(done) => flushes.push(done),
            }
        }
        let mut attempt = 0;
        loop {
            match store.append_audit(&records).await {
                Ok(()) => {
                    counts.get_or_create(&AuditLabels { result: "written" }).inc_by(records.len() as u64);
                    break;
                }
                Err(e) if attempt + 1 < WRITE_ATTEMPTS => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "writing audit events failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200) * 2u32.pow(attempt)).await;
                }
                Err(e) => {
                    let mut dropped = 0u64;
                    for r in &records {
                        if store.append_audit(std::slice::from_ref(r)).await.is_err() {
                            dropped += 1;
                        }
                    }
                    let written = records.len() as u64 - dropped;
                    counts.get_or_create(&AuditLabels { result: "written" }).inc_by(written);
                    counts.get_or_create(&AuditLabels { result: "dropped_write_failed" }).inc_by(dropped);
                    if dropped > 0 {
                        all_written = false;
                        tracing::error!(error = %e, dropped, "writing audit events failed; events dropped");
                    }
                    break;
                }
            }
        }
        records.clear();
        for done in flushes {
            let _ = done.send(all_written);
            all_written = true;
        }
    }
}
