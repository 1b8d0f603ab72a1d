//! The per-test database: a PostgreSQL database copied from a template that
//! holds the migrated schema and the shipped content, on DATABASE_URL's server
//! or on a throwaway cluster under `target/` shared by all test processes.

use std::path::{Path, PathBuf};

use mockloop::localpg::{Durability, LocalPostgres};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;

/// A path in the checkout.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Where test databases come from: DATABASE_URL's server if set, otherwise a
/// throwaway local cluster under target/ shared by all test processes.
struct TestCluster {
    admin: PgConnectOptions,
    template: String,
}

static CLUSTER: OnceCell<TestCluster> = OnceCell::const_new();

async fn cluster() -> &'static TestCluster {
    CLUSTER.get_or_init(init_cluster).await
}

async fn init_cluster() -> TestCluster {
    let admin: PgConnectOptions = match std::env::var("DATABASE_URL") {
        Ok(url) => url.parse::<PgConnectOptions>().expect("DATABASE_URL parses").database("postgres"),
        Err(_) => {
            let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("postgres");
            let local = tokio::task::spawn_blocking(move || LocalPostgres::start(&data_dir, Durability::Throwaway))
                .await
                .expect("join")
                .expect("local PostgreSQL starts for the tests");
            local.connect_options("postgres")
        }
    };
    let mut conn = PgConnection::connect_with(&admin).await.expect("connect to the test cluster");
    // Serialises template creation across test processes.
    sqlx::query("select pg_advisory_lock(72001)").execute(&mut conn).await.expect("lock");
    drop_stale_test_databases(&mut conn).await;
    let template = format!("mockloop_tpl_{}", fingerprint_of_schema_and_content());
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(&template)
        .fetch_one(&mut conn)
        .await
        .expect("query");
    if !exists {
        let building = format!("{template}_building");
        sqlx::query(&format!("drop database if exists {building}")).execute(&mut conn).await.expect("drop");
        sqlx::query(&format!("create database {building}")).execute(&mut conn).await.expect("create");
        let pool = PgPool::connect_with(admin.clone().database(&building)).await.expect("connect");
        mockloop::db::migrate(&pool).await.expect("migrations apply");
        mockloop::commands::import(&pool, &repo_path("content")).await.expect("shipped content imports");
        pool.close().await;
        sqlx::query(&format!("alter database {building} rename to {template}"))
            .execute(&mut conn)
            .await
            .expect("rename");
    }
    sqlx::query("select pg_advisory_unlock(72001)").execute(&mut conn).await.expect("unlock");
    TestCluster { admin, template }
}

/// Test databases are named t_<unix seconds>_<random>; ones over ten minutes old are leftovers.
async fn drop_stale_test_databases(conn: &mut PgConnection) {
    let cutoff = chrono::Utc::now().timestamp() - 600;
    let names: Vec<String> = sqlx::query_scalar("select datname from pg_database where datname ~ '^t_[0-9]+_'")
        .fetch_all(&mut *conn)
        .await
        .expect("list");
    for name in names {
        let created: i64 = name.split('_').nth(1).and_then(|s| s.parse().ok()).unwrap_or(i64::MAX);
        if created < cutoff {
            let _ = sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut *conn).await;
        }
    }
}

/// The migrations this binary carries (not the files on disk, which may be
/// newer than the build) and the content files the template imports.
fn fingerprint_of_schema_and_content() -> String {
    let mut text = String::new();
    for migration in mockloop::db::MIGRATOR.iter() {
        text.push_str(&format!("{} {:x?}\n", migration.version, migration.checksum));
    }
    let mut pending = vec![repo_path("content")];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            if entry.path().is_dir() { pending.push(entry.path()) } else { files.push(entry.path()) }
        }
    }
    files.sort();
    for file in files {
        text.push_str(&file.to_string_lossy());
        text.push_str(&std::fs::read_to_string(&file).unwrap_or_default());
    }
    mockloop::content::content_hash(&text)
}

/// A fresh database holding the migrated schema and the shipped content.
pub struct TestDb {
    pub pool: PgPool,
    pub options: PgConnectOptions,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let cluster = cluster().await;
        let name = format!("t_{}_{}", chrono::Utc::now().timestamp(), uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&cluster.admin).await.expect("connect");
        sqlx::query(&format!("create database {name} template {}", cluster.template))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let options = cluster.admin.clone().database(&name);
        let pool = mockloop::db::connect(options.clone(), 5).await.expect("connect to test database");
        TestDb { pool, options }
    }

    /// A URL for this database, for running the `mockloop` binary against it.
    pub fn url(&self) -> String {
        let o = &self.options;
        let database = o.get_database().unwrap_or("postgres");
        match o.get_socket() {
            Some(socket) => format!(
                "postgres://{}@localhost:{}/{database}?host={}",
                o.get_username(),
                o.get_port(),
                socket.display()
            ),
            None => format!("postgres://{}@{}:{}/{database}", o.get_username(), o.get_host(), o.get_port()),
        }
    }
}
