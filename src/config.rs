//! Command line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::account::SignUp;

/// mockloop: practise machine-learning-engineer interview loops — timed rounds,
/// a question bank, rubric scorecards and feedback, self-hosted.
#[derive(Debug, Parser)]
#[command(name = "mockloop", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub serve: ServeArgs,

    /// Log format.
    #[arg(long, env = "MOCKLOOP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL. Without it, mockloop runs its own PostgreSQL from the
    /// machine's binaries, keeping its files under the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Where mockloop keeps its own PostgreSQL cluster (in `<data-dir>/postgres`).
    #[arg(long, env = "MOCKLOOP_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Largest number of database connections.
    #[arg(long, env = "MOCKLOOP_DB_POOL_SIZE", default_value_t = 12, global = true)]
    pub db_pool_size: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Import or export the question bank.
    #[command(subcommand)]
    Questions(QuestionsCommand),
    /// Manage accounts: list, create, reset passwords, disable, delete.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Fill the database with demo users and completed, scored loops spread
    /// over two years (for trying the app, screenshots and benchmarks).
    DemoData(DemoDataArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DemoDataArgs {
    /// How many users to create (named demo-<seed>-1, demo-<seed>-2, …; password "demo-password").
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i32).range(1..=1_000_000))]
    pub users: i32,
    /// Completed six-round loops per user.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub loops_per_user: i32,
    /// The same seed gives the same names, dates, questions and scores; another seed gives new users.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i64).range(0..))]
    pub seed: i64,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MOCKLOOP_BIND", global = true, default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// The public URL people open, e.g. https://mockloop.example.org (used in
    /// links and calendar files). Defaults to http://<bind>.
    #[arg(long, env = "MOCKLOOP_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// Mark cookies Secure and send HSTS: set this when served over https.
    #[arg(long, env = "MOCKLOOP_SECURE_COOKIES", global = true, default_value_t = false)]
    pub secure_cookies: bool,

    /// Trust the X-Forwarded-For header for the client address (only behind a reverse proxy).
    #[arg(long, env = "MOCKLOOP_BEHIND_PROXY", global = true, default_value_t = false)]
    pub behind_proxy: bool,

    /// Live event streams (open round pages) one account may hold at once; more are refused with 429.
    #[arg(long, env = "MOCKLOOP_MAX_LIVE_STREAMS_PER_USER", global = true, default_value_t = 16)]
    pub max_live_streams_per_user: usize,

    /// Seconds a client may take to send a request body before it is cut off with 408.
    #[arg(long, env = "MOCKLOOP_REQUEST_BODY_TIMEOUT", global = true, default_value_t = 20)]
    pub request_body_timeout: u64,

    /// Who may create accounts: `open` (anyone, from the sign-up page) or `closed`
    /// (only `mockloop users create`, or someone holding a valid invitation link).
    #[arg(long, env = "MOCKLOOP_SIGN_UP", global = true, value_enum, default_value_t = SignUp::Open)]
    pub sign_up: SignUp,

    /// STUN/TURN servers for the round's call, comma-separated (`stun:host:3478,turn:host:3478`).
    /// None by default: browsers connect directly (one machine, a LAN or a VPN) and no third party
    /// learns of the call. A TURN server also needs --turn-secret.
    #[arg(long, env = "MOCKLOOP_ICE_SERVERS", global = true, value_delimiter = ',')]
    pub ice_servers: Vec<String>,

    /// The TURN server's shared secret (coturn's `static-auth-secret`): mockloop gives each
    /// participant time-limited TURN credentials made from it.
    #[arg(long, env = "MOCKLOOP_TURN_SECRET", global = true, hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// Hide from the peer board the slots of anyone more than this many rounds in debt (interviewed
    /// by peers more often than they interviewed others), so that the board stays fair. Off by default.
    #[arg(long, env = "MOCKLOOP_PEER_BOARD_BALANCE", global = true)]
    pub peer_board_balance: Option<u32>,

    /// E-mail peer-board notices through this SMTP server of yours, e.g.
    /// `smtp://user:password@localhost:25` (plain SMTP to a relay you run). Off by default; only
    /// accounts whose username is an e-mail address get mail.
    #[arg(long, env = "MOCKLOOP_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of notice e-mail.
    #[arg(long, env = "MOCKLOOP_SMTP_FROM", global = true, default_value = "mockloop <mockloop@localhost>")]
    pub smtp_from: String,

    /// A content directory of your own (questions, rubrics, templates) loaded at start-up on top of
    /// the content built into the binary; an entry with a built-in slug replaces it.
    #[arg(long, env = "MOCKLOOP_CONTENT_DIR", global = true)]
    pub content_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum QuestionsCommand {
    /// Load questions (and rubrics and templates, when present) from a content
    /// directory; refuses the whole directory if any file is invalid.
    Import {
        /// A content directory (with questions/, rubrics/, templates.toml) or a directory of question files.
        path: PathBuf,
    },
    /// Write the question bank out again.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Directory to write to; JSON goes to stdout when omitted.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Account management for whoever runs the server. Passwords never go on the
/// command line (where shell history and `ps` would keep them): they are read
/// from the first line of stdin, or generated and printed once.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List every account with its status, live sessions and last activity.
    List,
    /// Create an account (how people join when sign-up is closed).
    Create {
        username: String,
        /// Shown to peers; defaults to the username.
        #[arg(long)]
        display_name: Option<String>,
        /// Generate a password and print it once, instead of reading one from stdin.
        #[arg(long)]
        generate: bool,
    },
    /// Set a new password and sign the account out everywhere.
    ResetPassword {
        username: String,
        /// Generate a password and print it once, instead of reading one from stdin.
        #[arg(long)]
        generate: bool,
    },
    /// Refuse the account's sign-ins and end all its sessions.
    Disable { username: String },
    /// Let a disabled account sign in again.
    Enable { username: String },
    /// Delete the account exactly as its owner can from the account page.
    Delete {
        username: String,
        /// Confirm; without it, only what would be deleted is printed.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
