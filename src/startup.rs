//! Building the router with its middleware, binding, serving, shutting down.

use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{Request, StatusCode};
use axum::middleware;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::state::AppState;
use crate::web;
use crate::web::error::ErrorPage;

/// The whole app as a service: routes plus the middleware every request goes through.
pub fn build_router(state: AppState) -> Router {
    let secure = state.settings.secure_cookies;
    let body_deadline = state.limits.request_body_deadline;
    let site_scheme = web::security::scheme_of(&state.settings.base_url);
    web::routes()
        .with_state(state)
        .layer(web::limits::body_limit())
        .layer(middleware::from_fn(web::limits::refuse_announced_oversized_bodies))
        .layer(web::security::csrf_layer())
        .layer(middleware::from_fn(move |request, next| {
            web::security::refuse_origins_of_another_scheme(site_scheme, request, next)
        }))
        .layer(middleware::from_fn(move |request, next| web::limits::cut_off_slow_bodies(body_deadline, request, next)))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(middleware::from_fn(web::limits::render_bare_errors))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            ErrorPage::response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The error has been logged. Please try again.",
            )
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    // The matched route, not the raw path: paths can carry tokens.
                    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str());
                    tracing::info_span!("request", method = %request.method(), route)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // Errors are logged once where they arise (AppError, the panic handler); a 503
                // in an outage is expected, and the response line above carries every status.
                .on_failure(()),
        )
        .layer(middleware::from_fn(move |request, next| web::security::add_security_headers(secure, request, next)))
}

/// Longest a client may take to send a request's headers. hyper enforces it only
/// when given a timer, which `axum::serve` does not do: without it a client
/// trickling headers holds its connection (and a file descriptor) for ever.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest a stop waits for open requests, so that SIGTERM ends the process promptly.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(7);

/// A bound, not yet serving, HTTP server. Binding first lets tests ask for port 0.
pub struct Application {
    listener: TcpListener,
    router: Router,
    live: crate::live::LiveHub,
}

impl Application {
    pub async fn bind(state: AppState, address: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let live = state.live.clone();
        Ok(Application { listener, router: build_router(state), live })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then ends the live streams and lets
    /// open requests finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Application { listener, router, live } = self;
        let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
        let connections = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) if gave_up_before_accept(&error) => continue,
                    // Out of file descriptors, say: wait for some to close rather than spin.
                    Err(error) => {
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Ok(service) = make_service.call(remote).await;
            let service = service.map_request(|request: Request<Incoming>| request.map(Body::new));
            let connection =
                connections.watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
            tokio::spawn(async move {
                // A client gone mid-request, or cut off for slowness, is routine.
                let _ = connection.await;
            });
        }
        drop(listener);
        live.close();
        // Open requests get a grace period; a client that would hold the stop up
        // longer (an upload stalled half-way) is cut off with the process.
        if tokio::time::timeout(SHUTDOWN_GRACE, connections.shutdown()).await.is_err() {
            tracing::warn!("requests still open after the shutdown grace period; stopping anyway");
        }
        Ok(())
    }
}

/// The client went away between connecting and our accept: nothing to report.
fn gave_up_before_accept(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Every minute, tells both sides of each peer swap about to start (a notice,
/// and an e-mail when the operator configured SMTP).
pub fn spawn_reminders(db: sqlx::PgPool, mailer: Option<std::sync::Arc<crate::mail::Mailer>>, base_url: String) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(60));
        loop {
            interval.tick().await;
            let soon = crate::domain::peer_board::STARTING_SOON;
            match crate::db::peer_board::notice_starting_soon(&db, soon).await {
                Ok(added) => {
                    for (user, swap) in added {
                        let kind = crate::domain::peer_board::NoticeKind::StartingSoon;
                        crate::mail::send_notice(mailer.clone(), db.clone(), base_url.clone(), user, swap, kind);
                    }
                }
                Err(error) => tracing::warn!(%error, "starting-soon notices failed"),
            }
        }
    });
}

/// Removes expired sessions and old sign-in and sign-up attempts every hour.
pub fn spawn_housekeeping(db: sqlx::PgPool) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(3600));
        loop {
            interval.tick().await;
            let sessions = crate::db::sessions::delete_expired(&db).await;
            let attempts = crate::db::sign_in_attempts::prune(&db).await;
            let sign_ups = crate::db::sign_up_attempts::prune(&db).await;
            let signals = crate::db::call::prune(&db).await;
            if let (Err(error), _, _, _) | (_, Err(error), _, _) | (_, _, Err(error), _) | (_, _, _, Err(error)) =
                (&sessions, &attempts, &sign_ups, &signals)
            {
                tracing::warn!(%error, "housekeeping failed");
            }
        }
    });
}
