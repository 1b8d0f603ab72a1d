//! Peer loops: a candidate invites peers who interview them, one round each.
//! Most tests start from [`peer_loop`](crate::support::peer_loop): two rounds,
//! avery interviewing round 1 and blake round 2, sasha a stranger.

mod invitations;
mod round;
mod scoring;
mod visibility;
mod withdrawal;

use axum::http::StatusCode;

use crate::support::TestApp;

/// The pages and exports where a round's scorecards can be read, joined.
pub(crate) async fn feedback_seen_by(app: &TestApp, cookie: &str, loop_path: &str, rounds: &[&String]) -> String {
    let mut paths: Vec<String> = ["", ".md", ".json"].iter().map(|ext| format!("{loop_path}/feedback{ext}")).collect();
    paths.extend(rounds.iter().map(|round| format!("{round}/feedback")));
    let mut bodies = Vec::new();
    for path in &paths {
        let response = app.get(path, Some(cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
        bodies.push(response.body);
    }
    bodies.join("\n")
}
