//! Integration tests: the router against a real PostgreSQL, the `mockloop`
//! binary as a process, and journeys in a real Chromium.

mod auth;
mod browser;
mod browser_loop;
mod content;
mod helpers;
mod own_questions;
mod questions;
mod security;
mod server_process;
