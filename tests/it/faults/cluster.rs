//! A PostgreSQL cluster of one test's own, which it may stop, freeze and
//! start again, and the app's `/readyz` watched meanwhile.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mockloop::localpg::{Durability, LocalPostgres};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::server::send;

/// A throwaway PostgreSQL cluster of one test's own, which it may stop and start.
/// Durable, unlike the shared test cluster: an immediate stop must keep every
/// commit it acknowledged, which `synchronous_commit = off` does not promise.
pub(super) struct OwnCluster {
    pub(super) dir: PathBuf,
    pub(super) local: Option<LocalPostgres>,
    pub(super) url: String,
    pub(super) pool: PgPool,
}

impl OwnCluster {
    pub(super) async fn start(name: &str) -> OwnCluster {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", Uuid::new_v4().simple()));
        let local = Self::start_postgres(&dir).await;
        mockloop::commands::ensure_database(&local, "mockloop").await.expect("database");
        let options = local.connect_options("mockloop");
        let socket = options.get_socket().expect("a Unix socket").display().to_string();
        let url =
            format!("postgres://{}@localhost:{}/mockloop?host={socket}", options.get_username(), options.get_port());
        let pool = mockloop::db::pool_options(2).connect_with(options).await.expect("connect");
        OwnCluster { dir, local: Some(local), url, pool }
    }

    async fn start_postgres(dir: &Path) -> LocalPostgres {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || LocalPostgres::start(&dir, Durability::Durable))
            .await
            .expect("join")
            .expect("PostgreSQL starts")
    }

    /// `pg_ctl stop -m immediate`: every backend dies at once, no checkpoint.
    pub(super) async fn stop_immediately(&self) {
        let data_dir = self.local.as_ref().expect("running").data_dir().to_owned();
        let status = tokio::task::spawn_blocking(move || {
            pg_ctl_as_postgres_owner(&data_dir, &["stop", "-m", "immediate", "-w", "-s"])
        })
        .await
        .expect("join");
        assert!(status, "pg_ctl stop -m immediate");
    }

    pub(super) async fn restart(&mut self) {
        self.local = Some(Self::start_postgres(&self.dir).await);
    }
}

impl OwnCluster {
    /// Sends `signal` to the postmaster and every backend (SIGSTOP freezes the
    /// server with its sockets open, as a hung machine does).
    pub(super) fn signal_all(&self, signal: nix::sys::signal::Signal) -> usize {
        let data_dir = self.local.as_ref().expect("running").data_dir();
        let pid_file = std::fs::read_to_string(data_dir.join("postmaster.pid")).expect("postmaster.pid");
        let postmaster: i32 = pid_file.lines().next().and_then(|line| line.trim().parse().ok()).expect("pid");
        let children = std::fs::read_dir("/proc").expect("/proc").flatten().filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The parent pid is the second field after the parenthesised command name.
            let parent: i32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            (parent == postmaster).then_some(pid)
        });
        let pids: Vec<i32> = std::iter::once(postmaster).chain(children).collect();
        for pid in &pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), signal);
        }
        pids.len()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if let Some(local) = &self.local {
            pg_ctl_as_postgres_owner(local.data_dir(), &["stop", "-m", "immediate", "-w", "-s"]);
            let _ = std::fs::remove_dir_all(local.data_dir());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(self.dir.with_extension("lock"));
        if let Some(socket) = self.pool.connect_options().get_socket()
            && socket.starts_with(std::env::temp_dir())
        {
            let _ = std::fs::remove_dir_all(socket);
        }
    }
}

/// Runs pg_ctl on `data_dir` as the owner of that directory (PostgreSQL refuses root).
fn pg_ctl_as_postgres_owner(data_dir: &Path, args: &[&str]) -> bool {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let Ok(meta) = std::fs::metadata(data_dir) else { return false };
    let pg_ctl = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin/pg_ctl"))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("pg_ctl"));
    let mut command = std::process::Command::new(pg_ctl);
    command.arg("-D").arg(data_dir).args(args).current_dir("/").uid(meta.uid()).gid(meta.gid());
    command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    command.status().is_ok_and(|status| status.success())
}

pub(super) async fn readyz(port: u16) -> Option<u16> {
    send(port, "GET", "/readyz", None, &[], "").await.ok().map(|reply| reply.status)
}

/// Polls /readyz until `wanted(status)`, returning how long that took.
pub(super) async fn wait_for_readyz(port: u16, limit: Duration, wanted: impl Fn(Option<u16>) -> bool) -> Duration {
    let began = Instant::now();
    loop {
        if wanted(readyz(port).await) {
            return began.elapsed();
        }
        assert!(began.elapsed() < limit, "/readyz did not change within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
