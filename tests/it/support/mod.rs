//! What the tests share, in one place: the HTTP test client and its
//! per-test database, builders for loops and the rest of a test's set-up,
//! structural HTML checks, live streams, the binary as a process, and
//! Chromium. See `tests/README.md` for how to write a test with them.

pub mod app;
pub mod board;
pub mod browser;
pub mod db;
pub mod html;
pub mod live;
pub mod loops;
pub mod proof;
pub mod questions;
pub mod rounds;
pub mod scorecards;
pub mod server;
pub mod workspace;

pub use app::{JSON, PASSWORD, TestApp, TestResponse};
pub use db::TestDb;
pub use html::Page;
pub use loops::{LoopBuilder, PeerFixture, ScheduledLoop, id_of, peer_loop};
