//! What each subcommand does.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use sqlx::PgPool;

use crate::config::{
    Cli, Command, DatabaseArgs, DemoDataArgs, ExportFormat, QuestionsCommand, ServeArgs, UsersCommand,
};
use crate::content::{self, ContentBundle, QuestionFile};
use crate::db;
use crate::domain::call::IceServers;
use crate::domain::question::{Calibration, CodeLanguage, QuestionDraft, Starter};
use crate::domain::username::Username;
use crate::domain::{markdown, password};
use crate::localpg::{Durability, LocalPostgres};
use crate::startup::{self, Application};
use crate::state::{AppState, Limits, Settings};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let database = Database::open(&cli.database).await?;
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&database.pool, cli.serve).await,
        Command::Migrate => Ok(()),
        Command::Questions(QuestionsCommand::Import { path }) => import(&database.pool, &path).await,
        Command::Questions(QuestionsCommand::Export { format, out }) => {
            load_content(&database.pool, cli.serve.content_dir.as_deref()).await?;
            export(&database.pool, format, out.as_deref()).await
        }
        Command::Users(command) => users(&database.pool, command).await,
        Command::DemoData(args) => demo_data(&database.pool, cli.serve.content_dir.as_deref(), &args).await,
    };
    database.close().await;
    result
}

/// The migrated database, and the local server behind it when we started one.
struct Database {
    pool: PgPool,
    local: Option<LocalPostgres>,
}

impl Database {
    async fn open(args: &DatabaseArgs) -> anyhow::Result<Self> {
        let (options, local) = match &args.database_url {
            Some(url) => (url.parse().context("DATABASE_URL is not a valid PostgreSQL URL")?, None),
            None => {
                let data_dir = args.data_dir.join("postgres");
                let local =
                    tokio::task::spawn_blocking(move || LocalPostgres::start(&data_dir, Durability::Durable)).await??;
                ensure_database(&local, "mockloop").await?;
                tracing::info!(data_dir = %local.data_dir().display(), "using local PostgreSQL");
                (local.connect_options("mockloop"), Some(local))
            }
        };
        let pool = db::connect(options, args.db_pool_size).await.context("cannot connect to PostgreSQL")?;
        db::migrate(&pool).await.context("cannot apply database migrations")?;
        Ok(Database { pool, local })
    }

    async fn close(self) {
        self.pool.close().await;
        if let Some(local) = self.local {
            match tokio::task::spawn_blocking(move || local.stop()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "could not stop local PostgreSQL"),
                Err(error) => tracing::warn!(%error, "could not stop local PostgreSQL"),
            }
        }
    }
}

/// Creates `name` on the local cluster unless it exists.
pub async fn ensure_database(local: &LocalPostgres, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect_with(&local.connect_options("postgres")).await?;
    db::ensure_database(&mut admin, name).await?;
    admin.close().await?;
    Ok(())
}

async fn serve(pool: &PgPool, args: ServeArgs) -> anyhow::Result<()> {
    let ice_servers = IceServers::parse(&args.ice_servers, args.turn_secret.clone()).context("--ice-servers")?;
    load_content(pool, args.content_dir.as_deref()).await?;
    let base_url = args.base_url.clone().unwrap_or_else(|| format!("http://{}", args.bind));
    let mailer = match &args.smtp_url {
        Some(url) => Some(crate::mail::Mailer::new(url, &args.smtp_from).context("--smtp-url or --smtp-from")?),
        None => None,
    };
    let state = AppState::new(
        pool.clone(),
        Settings {
            base_url: base_url.trim_end_matches('/').to_owned(),
            secure_cookies: args.secure_cookies,
            behind_proxy: args.behind_proxy,
        },
    )
    .with_limits(Limits {
        max_live_streams_per_user: args.max_live_streams_per_user,
        request_body_deadline: std::time::Duration::from_secs(args.request_body_timeout),
    })
    .with_sign_up(args.sign_up)
    .with_ice_servers(ice_servers)
    .with_peer_board_balance(args.peer_board_balance)
    .with_mailer(mailer);
    let state_mailer = state.mailer.clone();
    let app = Application::bind(state, args.bind).await.with_context(|| format!("cannot listen on {}", args.bind))?;
    startup::spawn_housekeeping(pool.clone());
    startup::spawn_reminders(pool.clone(), state_mailer, base_url.trim_end_matches('/').to_owned());
    tracing::info!(address = %app.local_addr()?, %base_url, sign_up = ?args.sign_up, "mockloop is ready");
    app.run_until(startup::shutdown_signal()).await?;
    Ok(())
}

/// Loads the content built into the binary, with the operator's directory (if
/// any) on top; unchanged entries are not rewritten. Broken content is fatal.
async fn load_content(pool: &PgPool, operator_dir: Option<&Path>) -> anyhow::Result<()> {
    let shipped = content::shipped().context("the built-in content is broken")?;
    let bundle = match operator_dir {
        Some(dir) => shipped.overlaid_with(content::load_dir(dir)?),
        None => shipped,
    };
    store(pool, &bundle).await
}

/// Imports one content directory (the `questions import` command and tests).
pub async fn import(pool: &PgPool, dir: &Path) -> anyhow::Result<()> {
    store(pool, &content::load_dir(dir)?).await
}

async fn store(pool: &PgPool, bundle: &ContentBundle) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let summary = db::content::import(&mut tx, bundle).await?;
    tx.commit().await?;
    tracing::info!(
        questions = bundle.questions.len(),
        rubrics = bundle.rubrics.len(),
        templates = bundle.templates.len(),
        questions_changed = summary.questions_changed,
        rubrics_changed = summary.rubrics_changed,
        templates_changed = summary.templates_changed,
        "content loaded"
    );
    Ok(())
}

async fn export(pool: &PgPool, format: ExportFormat, out: Option<&Path>) -> anyhow::Result<()> {
    let questions: Vec<QuestionFile> =
        db::questions::export_bank(pool).await?.into_iter().map(exported_to_file).collect::<anyhow::Result<_>>()?;
    match (format, out) {
        (ExportFormat::Json, None) => {
            println!("{}", serde_json::to_string_pretty(&questions)?);
        }
        (ExportFormat::Json, Some(dir)) => {
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join("questions.json"), serde_json::to_string_pretty(&questions)?)?;
        }
        (ExportFormat::Markdown, None) => {
            anyhow::bail!("--format markdown writes one file per question: give --out <dir>")
        }
        (ExportFormat::Markdown, Some(dir)) => {
            for question in &questions {
                let path = dir.join(question.question.kind.as_str()).join(format!("{}.md", question.slug));
                std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
                std::fs::write(&path, question.to_markdown())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            eprintln!("wrote {} questions under {}", questions.len(), dir.display());
        }
    }
    Ok(())
}

fn exported_to_file(row: db::questions::StoredQuestion) -> anyhow::Result<QuestionFile> {
    let calibration = match row.calibration_md.as_deref().map(Calibration::parse_markdown).transpose() {
        Ok(calibration) => calibration.map_or_else(Default::default, |c| c.notes().map(str::to_owned)),
        Err(problem) => anyhow::bail!("question {} in the database has unreadable calibration: {problem}", row.slug),
    };
    let draft = QuestionDraft {
        kind: row.kind.as_str().to_owned(),
        title: row.title,
        difficulty: i64::from(row.difficulty),
        levels: row.levels.iter().map(|l| l.as_str().to_owned()).collect(),
        teams: row.teams.iter().map(|t| t.as_str().to_owned()).collect(),
        tags: row.tags,
        topic: row.topic,
        minutes: i64::from(row.suggested_minutes),
        prompt: row.prompt_md,
        follow_ups: row.follow_ups,
        hints: row.hints,
        what_good_looks_like: row.good_answer_md,
        calibration,
    };
    let mut question = draft.validate().map_err(|problems| {
        anyhow::anyhow!("question {} in the database breaks a rule: {}", row.slug, problems[0].message)
    })?;
    question.starter = match (row.starter_language.as_deref().map(CodeLanguage::parse), row.starter_code) {
        (Some(Some(language)), Some(code)) => Some(Starter { language, code }),
        (None, None) => None,
        _ => anyhow::bail!("question {} in the database has an unreadable starter", row.slug),
    };
    question.tests = row.tests.map(|tests| tests.0);
    question.reference_solution = row.reference_solution;
    Ok(QuestionFile {
        path: Path::new(row.kind.as_str()).join(format!("{}.md", row.slug)),
        slug: row.slug,
        question,
        guide_quotes: row.guide_quotes,
        content_hash: String::new(),
    })
}

/// The password every demo user signs in with.
pub const DEMO_PASSWORD: &str = "demo-password";

/// Scratchpads and interviewer notes the demo loops draw from.
const DEMO_NOTES: &[&str] = &[
    "## Plan\n\n1. Clarify inputs and constraints\n2. Brute force first, then `O(n log n)`\n3. Test edge cases: empty, one item, duplicates",
    "**Metrics**: precision@k offline, then an A/B test on engagement.\n\n- Cold start: popularity prior\n- Drift: weekly retrain",
    "Asked about latency budget (< 50 ms p99) and on-device limits.\n\n| option | size | quality |\n|---|---|---|\n| distilled | 40 MB | -2% |\n| full | 400 MB | baseline |",
    "STAR: *situation* — launch slipped; *task* — own the eval pipeline; *action* — cut scope, added canaries; *result* — shipped in 3 weeks.",
    "Bias–variance: more data helps high variance; regularise with L2 or dropout. Checked calibration with a reliability diagram.",
    "Clarified the label noise; proposed weak supervision, then active learning for the hard classes.",
];

/// A demo-data request with the shared password hash and the rendered notes.
pub fn demo_request(users: i32, loops_per_user: i32, seed: i64) -> anyhow::Result<db::demo::DemoRequest> {
    let password_hash =
        password::hash(DEMO_PASSWORD).map_err(|error| anyhow::anyhow!("cannot hash the demo password: {error}"))?;
    Ok(db::demo::DemoRequest {
        users,
        loops_per_user,
        seed,
        password_hash,
        notes_md: DEMO_NOTES.iter().map(|note| (*note).to_owned()).collect(),
        notes_html: DEMO_NOTES.iter().map(|note| markdown::render(note)).collect(),
    })
}

async fn demo_data(pool: &PgPool, content_dir: Option<&Path>, args: &DemoDataArgs) -> anyhow::Result<()> {
    load_content(pool, content_dir).await?;
    let request = demo_request(args.users, args.loops_per_user, args.seed)?;
    let started = std::time::Instant::now();
    let mut conn = pool.acquire().await?;
    let mut progress = DemoProgress::new();
    let generated = db::demo::generate(&mut conn, &request, &mut |step| progress.show(&step)).await;
    progress.finish();
    let summary = generated.map_err(|error| match &error {
        db::demo::DemoError::Database(sqlx::Error::Database(db_error)) if db_error.is_unique_violation() => {
            anyhow::anyhow!(
                "demo users for seed {} exist already (demo-{}-1 …): choose another --seed",
                args.seed,
                args.seed
            )
        }
        _ => anyhow::Error::new(error).context("cannot generate demo data"),
    })?;
    println!(
        "demo data: {} users, {} loops, {} rounds, {} scorecards, {} criterion scores, {} notes in {:.1} s",
        summary.users,
        summary.loops,
        summary.rounds,
        summary.scorecards,
        summary.criterion_scores,
        summary.notes,
        started.elapsed().as_secs_f64()
    );
    println!(
        "sign in as demo-{}-1 … demo-{}-{} with the password \"{DEMO_PASSWORD}\"",
        args.seed, args.seed, summary.users
    );
    Ok(())
}

/// Progress of `demo-data` on stderr: on a terminal one line redrawn with a
/// bar, otherwise a line per finished step (a log keeps them all).
struct DemoProgress {
    on_terminal: bool,
    rows: u64,
}

impl DemoProgress {
    const BAR_WIDTH: usize = 24;

    fn new() -> DemoProgress {
        DemoProgress { on_terminal: std::io::stderr().is_terminal(), rows: 0 }
    }

    fn show(&mut self, step: &db::demo::DemoStep) {
        self.rows += step.rows;
        let seconds = step.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 { self.rows as f64 / seconds } else { 0.0 };
        let line = format!(
            "step {}/{} {}: {} rows; {} rows in {seconds:.1} s ({rate:.0} rows/s)",
            step.step, step.steps, step.label, step.rows, self.rows
        );
        if self.on_terminal {
            let filled = Self::BAR_WIDTH * step.step / step.steps.max(1);
            let bar = format!("{}{}", "#".repeat(filled), ".".repeat(Self::BAR_WIDTH - filled));
            // Carriage return and erase line: the bar redraws in place.
            eprint!("\r\x1b[2K[{bar}] {line}");
        } else {
            eprintln!("demo data: {line}");
        }
    }

    /// Ends the redrawn line, so what follows starts on its own.
    fn finish(&self) {
        if self.on_terminal {
            eprintln!();
        }
    }
}

async fn users(pool: &PgPool, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::List => {
            let users = db::users::list(pool).await?;
            println!(
                "{:<32} {:<8} {:>8} {:<17} {:>5} {:<10} display name",
                "username", "status", "sessions", "last seen", "loops", "created"
            );
            for user in &users {
                println!(
                    "{:<32} {:<8} {:>8} {:<17} {:>5} {:<10} {}",
                    user.username,
                    if user.disabled { "disabled" } else { "active" },
                    user.sessions,
                    user.last_seen_at.map_or("never".to_owned(), |at| at.format("%Y-%m-%d %H:%M").to_string()),
                    user.loops,
                    user.created_at.format("%Y-%m-%d"),
                    user.display_name
                );
            }
            eprintln!("{} account(s)", users.len());
        }
        UsersCommand::Create { username, display_name, generate } => {
            let name =
                Username::parse(&username).map_err(|message| anyhow::anyhow!("username {username:?}: {message}"))?;
            let display_name = display_name.unwrap_or_else(|| name.as_str().to_owned());
            if display_name.trim().is_empty() || display_name.chars().count() > 80 {
                anyhow::bail!("the display name must have 1 to 80 characters");
            }
            let new_password = new_password(generate, name.as_str())?;
            let hash = hash_password(new_password.text().to_owned()).await?;
            db::users::create(pool, &name, display_name.trim(), &hash)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the username {} is taken", name.as_str()))?;
            new_password.announce(name.as_str());
            println!("created {}", name.as_str());
        }
        UsersCommand::ResetPassword { username, generate } => {
            let user_id = existing_user(pool, &username).await?;
            let new_password = new_password(generate, &username)?;
            let hash = hash_password(new_password.text().to_owned()).await?;
            let mut tx = pool.begin().await?;
            db::users::set_password_hash(&mut *tx, user_id, &hash).await?;
            let ended = db::sessions::end(&mut *tx, db::sessions::Ending::All(user_id)).await?;
            tx.commit().await?;
            new_password.announce(&username);
            println!("reset the password of {username}; ended {ended} session(s)");
        }
        UsersCommand::Disable { username } => {
            let user_id = existing_user(pool, &username).await?;
            let mut tx = pool.begin().await?;
            let changed = db::users::set_disabled(&mut *tx, user_id, true).await?;
            let ended = db::sessions::end(&mut *tx, db::sessions::Ending::All(user_id)).await?;
            tx.commit().await?;
            match changed {
                true => println!("disabled {username}; ended {ended} session(s)"),
                false => println!("{username} was already disabled; ended {ended} session(s)"),
            }
        }
        UsersCommand::Enable { username } => {
            let user_id = existing_user(pool, &username).await?;
            match db::users::set_disabled(pool, user_id, false).await? {
                true => println!("enabled {username}"),
                false => println!("{username} was not disabled"),
            }
        }
        UsersCommand::Delete { username, yes } => {
            let user_id = existing_user(pool, &username).await?;
            if !yes {
                let effects = db::account::deletion_effects(pool, user_id).await?;
                eprintln!("Deleting {username} would do this:");
                for line in effects.consequences() {
                    eprintln!("- {line}");
                }
                anyhow::bail!("nothing was deleted: add --yes to delete {username}");
            }
            let mut tx = pool.begin().await?;
            db::account::delete(&mut tx, user_id).await?;
            tx.commit().await?;
            println!("deleted {username}");
        }
    }
    Ok(())
}

async fn existing_user(pool: &PgPool, username: &str) -> anyhow::Result<uuid::Uuid> {
    db::users::id_of(pool, &username.trim().to_lowercase())
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no account named {username:?} (see `mockloop users list`)"))
}

async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await?
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))
}

/// A password for an account: typed in by the operator, or made up here.
enum NewPassword {
    Read(String),
    Generated(String),
}

impl NewPassword {
    fn text(&self) -> &str {
        match self {
            NewPassword::Read(text) | NewPassword::Generated(text) => text,
        }
    }

    /// Prints a generated password, once: it is stored only as a hash.
    fn announce(&self, username: &str) {
        if let NewPassword::Generated(text) = self {
            println!("new password for {username} (shown only now): {text}");
        }
    }
}

/// 144 random bits as 24 URL-safe characters, or the first line of stdin
/// (asked twice, unechoed, when stdin is a terminal).
fn new_password(generate: bool, username: &str) -> anyhow::Result<NewPassword> {
    if generate {
        use base64::Engine;
        use rand::RngCore;
        let mut bytes = [0u8; 18];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        return Ok(NewPassword::Generated(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)));
    }
    let stdin = std::io::stdin();
    let interactive = std::io::IsTerminal::is_terminal(&stdin);
    let first = read_line(interactive, &format!("New password for {username}: "))?;
    password::check_new(&first).map_err(|message| anyhow::anyhow!("the password is refused: {message}"))?;
    if interactive && read_line(true, "Repeat it: ")? != first {
        anyhow::bail!("the two passwords differ; nothing was changed");
    }
    Ok(NewPassword::Read(first))
}

fn read_line(interactive: bool, prompt: &str) -> anyhow::Result<String> {
    use std::io::BufRead;
    let echo_off = interactive.then(|| {
        eprint!("{prompt}");
        EchoOff::start()
    });
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if echo_off.is_some() {
        eprintln!();
    }
    drop(echo_off);
    if read? == 0 {
        anyhow::bail!(
            "no password on stdin: pipe one in (e.g. `printf '%s\\n' \"$PW\" | mockloop users …`) or pass --generate"
        );
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Turns the terminal's echo off while a password is typed, and back on when dropped.
struct EchoOff(Option<nix::sys::termios::Termios>);

impl EchoOff {
    fn start() -> EchoOff {
        use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let Ok(original) = tcgetattr(&stdin) else { return EchoOff(None) };
        let mut quiet = original.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        match tcsetattr(&stdin, SetArg::TCSANOW, &quiet) {
            Ok(()) => EchoOff(Some(original)),
            Err(_) => EchoOff(None),
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(original) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(std::io::stdin(), nix::sys::termios::SetArg::TCSANOW, original);
        }
    }
}
