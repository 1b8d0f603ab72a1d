//! A PostgreSQL server of mockloop's own, run from the machine's PostgreSQL
//! binaries when no `DATABASE_URL` is given: initialised on first use, reused
//! while running, listening only on a private Unix socket.

use std::fs::{self, File};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::unistd::{Uid, User, chown};
use sqlx::postgres::PgConnectOptions;

/// The role `initdb` creates; connections over the private socket are trusted.
const SUPERUSER: &str = "mockloop";
/// The port only names the socket file, so a fixed one cannot collide.
const PORT: u16 = 5432;
/// sun_path is 108 bytes on Linux; leave room for the terminating NUL.
const MAX_SOCKET_PATH: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    #[error(
        "no DATABASE_URL is set and no PostgreSQL server binaries (initdb, pg_ctl) were found on PATH, \
         via `pg_config --bindir`, or under /usr/lib/postgresql/*/bin. Install PostgreSQL \
         (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; \
         macOS: `brew install postgresql@16`) or set DATABASE_URL to a database you run yourself."
    )]
    BinariesNotFound,
    #[error("{0}")]
    Setup(String),
}

/// Whether the cluster may trade crash safety for speed (throwaway test clusters only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    Throwaway,
}

/// A running local PostgreSQL cluster.
#[derive(Debug)]
pub struct LocalPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<User>,
    started_here: bool,
}

impl LocalPostgres {
    /// Initialises `data_dir` if it is new, then starts the server unless one is
    /// already running on it. Safe to call from several processes at once.
    pub fn start(data_dir: &Path, durability: Durability) -> Result<Self, LocalPgError> {
        let bin_dir = find_bin_dir().ok_or(LocalPgError::BinariesNotFound)?;
        let run_as = unprivileged_user_if_root()?;
        let data_dir = usable_data_dir(data_dir, run_as.as_ref())?;
        let parent = data_dir.parent().unwrap_or(Path::new("/"));
        fs::create_dir_all(parent).map_err(|e| setup(format!("cannot create {}: {e}", parent.display())))?;

        // One process at a time initialises and starts the cluster.
        let lock_path = data_dir.with_extension("lock");
        let lock =
            File::create(&lock_path).map_err(|e| setup(format!("cannot create {}: {e}", lock_path.display())))?;
        lock.lock().map_err(|e| setup(format!("cannot lock {}: {e}", lock_path.display())))?;

        let mut server =
            LocalPostgres { bin_dir, socket_dir: socket_dir_for(&data_dir), data_dir, run_as, started_here: false };
        if !server.data_dir.join("PG_VERSION").exists() {
            server.initdb(durability)?;
        }
        match server.running_socket_dir() {
            Some(socket_dir) => server.socket_dir = socket_dir,
            None => {
                server.write_settings(durability)?;
                server.pg_ctl(&["start", "-w", "-t", "60", "-s", "-l", &server.log_path().to_string_lossy()])?;
                server.started_here = true;
            }
        }
        Ok(server)
    }

    /// Connection options for `database` on this cluster.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.socket_dir).port(PORT).username(SUPERUSER).database(database)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the server if this process started it (a reused one is left running).
    pub fn stop(&self) -> Result<(), LocalPgError> {
        if self.started_here {
            self.pg_ctl(&["stop", "-w", "-s", "-m", "fast"])?;
        }
        Ok(())
    }

    fn log_path(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    fn initdb(&self, durability: Durability) -> Result<(), LocalPgError> {
        fs::create_dir_all(&self.data_dir)
            .map_err(|e| setup(format!("cannot create {}: {e}", self.data_dir.display())))?;
        fs::set_permissions(&self.data_dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| setup(format!("cannot set permissions on {}: {e}", self.data_dir.display())))?;
        self.give_to_run_as(&self.data_dir)?;
        let mut args = vec!["-D", self.data_dir.to_str().unwrap_or_default(), "-U", SUPERUSER];
        args.extend(["--auth=trust", "--encoding=UTF8", "--no-locale"]);
        if durability == Durability::Throwaway {
            args.push("--no-sync");
        }
        self.run(&self.bin_dir.join("initdb"), &args)?;
        let conf = self.data_dir.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).map_err(|e| setup(format!("cannot read {}: {e}", conf.display())))?;
        text.push_str("\n# Written on every start by mockloop.\ninclude_if_exists = 'mockloop.conf'\n");
        fs::write(&conf, text).map_err(|e| setup(format!("cannot write {}: {e}", conf.display())))
    }

    /// Settings that depend on where the cluster lives, rewritten at each start.
    fn write_settings(&self, durability: Durability) -> Result<(), LocalPgError> {
        if self.socket_dir != self.data_dir {
            fs::create_dir_all(&self.socket_dir)
                .and_then(|()| fs::set_permissions(&self.socket_dir, fs::Permissions::from_mode(0o700)))
                .map_err(|e| setup(format!("cannot create {}: {e}", self.socket_dir.display())))?;
            self.give_to_run_as(&self.socket_dir)?;
        }
        let mut settings = format!(
            "listen_addresses = ''\nport = {PORT}\nunix_socket_directories = '{}'\nunix_socket_permissions = 0700\n\
             max_connections = 200\nshared_buffers = 128MB\n",
            self.socket_dir.display()
        );
        if durability == Durability::Throwaway {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let path = self.data_dir.join("mockloop.conf");
        fs::write(&path, settings).map_err(|e| setup(format!("cannot write {}: {e}", path.display())))?;
        self.give_to_run_as(&path)
    }

    /// The socket directory of a server already running on this data directory.
    fn running_socket_dir(&self) -> Option<PathBuf> {
        let status =
            self.command(&self.bin_dir.join("pg_ctl")).args(["status", "-D"]).arg(&self.data_dir).output().ok()?;
        if !status.status.success() {
            return None;
        }
        // postmaster.pid: line 5 is the socket directory.
        let pid_file = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(4).filter(|dir| !dir.is_empty()).map(PathBuf::from)
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), LocalPgError> {
        let mut full = vec!["-D", self.data_dir.to_str().unwrap_or_default()];
        full.extend_from_slice(args);
        self.run(&self.bin_dir.join("pg_ctl"), &full).map_err(|error| {
            let log = fs::read_to_string(self.log_path()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            setup(format!(
                "{error}\nlast lines of {}:\n{}",
                self.log_path().display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ))
        })
    }

    fn run(&self, program: &Path, args: &[&str]) -> Result<(), LocalPgError> {
        let output = self
            .command(program)
            .args(args)
            .output()
            .map_err(|e| setup(format!("cannot run {}: {e}", program.display())))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(setup(format!(
                "{} {} failed ({}): {}",
                program.display(),
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        }
    }

    /// A command that runs as the unprivileged user when we are root.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.data_dir).env_remove("PGDATA");
        if let Some(user) = &self.run_as {
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        }
        command
    }

    fn give_to_run_as(&self, path: &Path) -> Result<(), LocalPgError> {
        match &self.run_as {
            Some(user) => chown(path, Some(user.uid), Some(user.gid))
                .map_err(|e| setup(format!("cannot give {} to user {}: {e}", path.display(), user.name))),
            None => Ok(()),
        }
    }
}

fn setup(message: String) -> LocalPgError {
    LocalPgError::Setup(message)
}

/// Where a cluster asked for at `requested` actually lives (see `usable_data_dir`).
pub fn effective_data_dir(requested: &Path) -> Result<PathBuf, LocalPgError> {
    usable_data_dir(requested, unprivileged_user_if_root()?.as_ref())
}

/// PostgreSQL refuses to run as root, so root runs it as `postgres` (or `nobody`).
fn unprivileged_user_if_root() -> Result<Option<User>, LocalPgError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Ok(Some(user)) = User::from_name(name) {
            return Ok(Some(user));
        }
    }
    Err(setup("running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as".into()))
}

/// The data directory to use: `requested` made absolute, unless the user that
/// runs PostgreSQL cannot reach it (say, under root's 0700 home), in which case a
/// stable directory under /var/lib/mockloop is used instead.
fn usable_data_dir(requested: &Path, run_as: Option<&User>) -> Result<PathBuf, LocalPgError> {
    let absolute =
        std::path::absolute(requested).map_err(|e| setup(format!("cannot resolve {}: {e}", requested.display())))?;
    let Some(user) = run_as else { return Ok(absolute) };
    if ancestors_traversable_by(&absolute, user) {
        return Ok(absolute);
    }
    let fallback = PathBuf::from("/var/lib/mockloop").join(short_hash(&absolute)).join("postgres");
    tracing::warn!(
        requested = %absolute.display(),
        using = %fallback.display(),
        user = %user.name,
        "the PostgreSQL user cannot reach the data directory; using another"
    );
    fs::create_dir_all(fallback.parent().unwrap_or(Path::new("/var/lib/mockloop")))
        .map_err(|e| setup(format!("cannot create {}: {e}", fallback.display())))?;
    Ok(fallback)
}

fn ancestors_traversable_by(path: &Path, user: &User) -> bool {
    path.ancestors().skip(1).all(|dir| match fs::metadata(dir) {
        Ok(meta) => {
            let mode = meta.mode();
            if meta.uid() == user.uid.as_raw() {
                mode & 0o100 != 0
            } else if meta.gid() == user.gid.as_raw() {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        }
        // Not created yet: we create it with default (traversable) permissions.
        Err(_) => true,
    })
}

fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let socket_file = data_dir.join(format!(".s.PGSQL.{PORT}"));
    if socket_file.as_os_str().len() <= MAX_SOCKET_PATH {
        data_dir.to_owned()
    } else {
        std::env::temp_dir().join(format!("mockloop-pg-{}", short_hash(data_dir)))
    }
}

fn short_hash(path: &Path) -> String {
    crate::content::content_hash(&path.to_string_lossy())
}

/// Finds a directory holding `initdb` and `pg_ctl`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_server_binaries = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|dir| has_server_binaries(dir))
    {
        return Some(dir);
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_server_binaries(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server_binaries(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
