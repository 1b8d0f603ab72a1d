//! Structured logging. Log messages carry ids and counts, never names, note
//! text, passwords, cookies or tokens.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Log targets that write what users typed (the Markdown parser) or full request URIs, which carry invitation
/// and calendar-feed tokens (the CSRF layer, at trace): held at `warn`
/// whatever RUST_LOG asks for.
const SECRET_LOGGING_TARGETS: [&str; 2] = ["pulldown_cmark", "tower_http::csrf"];

pub fn init(format: LogFormat) {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    for target in SECRET_LOGGING_TARGETS {
        if let Ok(directive) = format!("{target}=warn").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (as in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
