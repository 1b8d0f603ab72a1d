//! mockloop: a self-hostable practice tool for machine-learning-engineer
//! interview loops.

pub mod commands;
pub mod config;
pub mod content;
pub mod db;
pub mod domain;
pub mod live;
pub mod localpg;
pub mod mail;
pub mod password_work;
pub mod question_texts;
pub mod selection;
pub mod sessions_held;
pub mod shipped;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod write_batches;
