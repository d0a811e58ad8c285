//! Background work of a running node: re-reading the key table (so a key
//! rotated by the CLI or another node is published here in time), following
//! the change feed (so caches learn of revocations, client, policy and
//! attribute changes made elsewhere: woken by PostgreSQL LISTEN/NOTIFY, with
//! a poll as the fallback) and sweeping expired rows (and old audit events)
//! in bounded batches.

use std::time::Duration;

use latchkey_domain::UnixTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::keyring::KeyManager;
use crate::state::AppState;

pub fn spawn(state: AppState, stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let keys = tokio::spawn(reload_keys(state.clone(), stop.clone()));
        let changes = tokio::spawn(follow_changes(state.clone(), stop.clone()));
        let known = tokio::spawn(refresh_known_entities(state.clone(), stop.clone()));
        let sweep = tokio::spawn(sweep(state, stop));
        let _ = tokio::join!(keys, changes, known, sweep);
    })
}

async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = stop.wait_for(|s| *s) => true,
    }
}

async fn reload_keys(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if sleep_or_stop(state.config.keys.reload_interval, &mut stop).await {
            return;
        }
        let manager = KeyManager { store: &state.store, master: &state.master, events: state.events.as_ref() };
        // Keep serving the last good key set if the store is unreachable.
        if let Err(e) = state.keys.reload(&manager).await {
            tracing::error!(error = %e, "reloading signing keys failed; keeping the current set");
        }
    }
}

/// Tops up the decision point's set of stored entity keys (see
/// `Runtime::refresh_known`).
async fn refresh_known_entities(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if sleep_or_stop(crate::authz::runtime::KNOWN_REFRESH, &mut stop).await {
            return;
        }
        if let Err(e) = state.caches.authz.refresh_known(&state.store).await {
            tracing::warn!(error = %e, "refreshing the known entity keys failed; trying again later");
        }
    }
}

/// How soon a change written by another node or process reaches this
/// node's caches (the product's bar: nodes agree within a second).
pub const CHANGE_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Between attempts to re-open a lost LISTEN connection.
const LISTEN_RETRY: Duration = Duration::from_secs(2);

/// On PostgreSQL, wakes the change follower as soon as another node
/// commits a change (LISTEN/NOTIFY); the poll stays as the fallback.
async fn listen_for_changes(
    state: AppState,
    wake: std::sync::Arc<tokio::sync::Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let mut listener = match state.store.listen_for_changes().await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for changes; polling only until it works");
                if sleep_or_stop(LISTEN_RETRY, &mut stop).await {
                    return;
                }
                continue;
            }
        };
        loop {
            tokio::select! {
                got = listener.next() => match got {
                    Ok(()) => wake.notify_one(),
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                        // Whatever was missed meanwhile, the poll reads.
                        wake.notify_one();
                        break;
                    }
                },
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        if sleep_or_stop(LISTEN_RETRY, &mut stop).await {
            return;
        }
    }
}

async fn follow_changes(state: AppState, mut stop: watch::Receiver<bool>) {
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let listener = tokio::spawn(listen_for_changes(state.clone(), wake.clone(), stop.clone()));
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(CHANGE_POLL_INTERVAL) => {}
            _ = wake.notified() => {}
            _ = stop.wait_for(|s| *s) => {
                listener.abort();
                return;
            }
        }
        if let Err(e) = state.caches.sync(&state.store).await {
            tracing::warn!(error = %e, "reading the change feed failed; retrying");
        }
        if state.caches.take_keys_changed() {
            let manager = KeyManager { store: &state.store, master: &state.master, events: state.events.as_ref() };
            if let Err(e) = state.keys.reload(&manager).await {
                tracing::error!(error = %e, "re-reading changed signing keys failed; the periodic re-read retries");
            }
        }
        ticks = ticks.wrapping_add(1);
        if ticks.is_multiple_of(120) {
            state.caches.prune(UnixTime::now());
        }
    }
}

async fn sweep(state: AppState, mut stop: watch::Receiver<bool>) {
    let batch = i64::from(state.config.sweep_batch);
    loop {
        if sleep_or_stop(state.config.sweep_interval, &mut stop).await {
            return;
        }
        // A bounded number of batches per tick keeps each tick short.
        for _ in 0..10 {
            let now = UnixTime::now();
            let cutoff = now.minus(state.config.session_client_info_retention);
            if let Err(e) = state.store.forget_session_client_info(cutoff, batch).await {
                tracing::warn!(error = %e, "forgetting old session client info failed");
            }
            let audit = sweep_audit(&state, batch).await;
            match state.store.sweep_expired(now, now.minus(state.config.event_retention), batch).await {
                Ok(report) if report.total() > 0 || audit > 0 => {
                    tracing::debug!(?report, audit, "swept expired rows")
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "sweeping expired rows failed");
                    break;
                }
            }
        }
    }
}

/// Deletes audit rows past the retention and clears network details past
/// theirs, one batch of each; how many rows it touched.
async fn sweep_audit(state: &AppState, batch: i64) -> u64 {
    let now_ms = latchkey_domain::time::now_millis();
    let audit = &state.config.audit;
    let cutoff = |d: Duration| latchkey_domain::time::millis_before(now_ms, d);
    let deleted = state.store.sweep_audit(cutoff(audit.retention), batch).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "sweeping old audit events failed");
        0
    });
    let scrubbed =
        state.store.forget_audit_network_details(cutoff(audit.network_retention), batch).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "clearing old audit network details failed");
            0
        });
    deleted + scrubbed
}
