//! Live events across instances: every change to a round is announced with
//! PostgreSQL NOTIFY; each instance LISTENs once and fans the news out to its
//! open event streams, which then read the current state themselves.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::sync::Arc;

use tokio::sync::{broadcast, watch};
use uuid::Uuid;

pub const CHANNEL: &str = "mockloop_rounds";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveEvent {
    RoundChanged(Uuid),
    /// The listener reconnected and may have missed notifications: everyone re-reads.
    Resync,
}

#[derive(Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<LiveEvent>,
    /// Set at shutdown so that open event streams end and the server can stop.
    closing: Arc<watch::Sender<bool>>,
}

impl LiveHub {
    /// A hub fed by a background task listening on `pool`'s database.
    pub fn start(pool: PgPool) -> LiveHub {
        let (sender, _) = broadcast::channel(1024);
        let hub = LiveHub { sender, closing: Arc::new(watch::Sender::new(false)) };
        tokio::spawn(listen(pool, hub.sender.clone()));
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// Ends every open event stream (browsers reconnect to another instance or after the restart).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once `close` has been called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut receiver = self.closing.subscribe();
        async move {
            let _ = receiver.wait_for(|closing| *closing).await;
        }
    }
}

async fn listen(pool: PgPool, sender: broadcast::Sender<LiveEvent>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(error) = listener.listen(CHANNEL).await {
                    tracing::warn!(%error, "cannot listen for live events");
                } else {
                    let _ = sender.send(LiveEvent::Resync);
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notification)) => {
                                if let Ok(round_id) = notification.payload().parse() {
                                    let _ = sender.send(LiveEvent::RoundChanged(round_id));
                                }
                            }
                            // The connection dropped; the next call reconnects and re-listens.
                            Ok(None) => {
                                let _ = sender.send(LiveEvent::Resync);
                            }
                            // At shutdown the pool closes under the listener: nothing to report.
                            Err(_) if pool.is_closed() => return,
                            Err(error) => {
                                tracing::warn!(%error, "live event listener failed; reconnecting");
                                break;
                            }
                        }
                    }
                }
            }
            Err(_) if pool.is_closed() => return,
            Err(error) => tracing::warn!(%error, "cannot connect the live event listener"),
        }
        if pool.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
