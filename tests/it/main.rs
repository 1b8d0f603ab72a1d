//! Integration tests: the router against a real PostgreSQL, the `mockloop`
//! binary as a process, and journeys in a real Chromium.

mod access_matrix;
mod accessibility;
mod account;
mod auth;
mod browser;
mod browser_loop;
mod browser_peer;
mod calendar;
mod code_runs;
mod content;
mod db_boundary;
mod faults;
mod feedback_history;
mod fuzz;
mod hostile_input;
mod leaks;
mod loops;
mod markdown_bounds;
mod own_questions;
mod peer;
mod peer_history;
mod phone_layout;
mod questions;
mod round_code;
mod rounds;
mod runnable_questions;
mod scale;
mod scorecards;
mod security;
mod selection;
mod server_process;
mod support;
mod whiteboard;
mod workspace_layout;
mod workspace_peer;
