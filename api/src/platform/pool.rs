//! PostgreSQL: the pool, creating the database, and migrations.
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool as DeadPool};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::{ManagerConfig, RecyclingMethod};
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::fmt;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

pub type Pool = DeadPool<AsyncPgConnection>;
pub type Conn = Object<AsyncPgConnection>;

/// Why the database could not be set up, in one line an operator can act on.
#[derive(Debug)]
pub struct DbSetupError(pub String);

impl fmt::Display for DbSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for DbSetupError {}

fn unreachable(url: &str, e: impl std::error::Error) -> DbSetupError {
    // tokio-postgres says only "error connecting to server"; the cause is in the source.
    let mut cause = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        cause = format!("{cause}: {s}");
        source = s.source();
    }
    let e = cause;
    DbSetupError(format!(
        "cannot reach PostgreSQL at {} ({e}): start PostgreSQL (e.g. `pg_ctlcluster 15 main start`) or set DATABASE_URL",
        super::config::redact(url)
    ))
}

/// Where and how many connections: what an HTTP worker builds its own pool from.
#[derive(Clone)]
pub struct PoolSpec {
    pub url: String,
    pub size: usize,
}

impl PoolSpec {
    /// `self.size` shared evenly by `parts` pools (each at least one connection).
    pub fn share(&self, parts: usize) -> PoolSpec {
        PoolSpec {
            url: self.url.clone(),
            size: self.size.div_ceil(parts.max(1)).max(1),
        }
    }

    pub fn build(&self) -> Result<Pool, DbSetupError> {
        build_pool(&self.url, self.size)
    }
}

pub fn build_pool(url: &str, size: usize) -> Result<Pool, DbSetupError> {
    // A connection handed back is checked for an open transaction only, not with a round trip
    // (`SELECT 1`) before every request: a connection the server dropped fails its first
    // statement (503), is discarded, and the next request gets a fresh one.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    DeadPool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| DbSetupError(format!("cannot build the connection pool: {e}")))
}

/// What PostgreSQL said, not just "db error".
fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Held by the one process that creates, migrates and seeds a database: instances started
/// together wait here for each other instead of racing (`CREATE DATABASE` twice, one
/// migration's `CREATE TYPE` beside another's). An advisory lock taken in the `postgres`
/// database (advisory locks are per database, and the target may not exist yet), keyed by
/// the target's name; PostgreSQL releases it if the process dies.
pub struct SetupLock {
    client: tokio_postgres::Client,
    driver: tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
}

impl SetupLock {
    pub async fn acquire(url: &str) -> Result<SetupLock, DbSetupError> {
        let (admin, name) = admin_url(url)?;
        let (client, connection) = tokio_postgres::connect(admin.as_str(), tokio_postgres::NoTls)
            .await
            .map_err(|e| unreachable(url, e))?;
        let driver = tokio::spawn(connection);
        client
            .execute(
                "SELECT pg_advisory_lock(hashtextextended('gmud setup: ' || $1, 0))",
                &[&name],
            )
            .await
            .map_err(|e| DbSetupError(format!("cannot take the set-up lock: {}", pg_error(&e))))?;
        Ok(SetupLock { client, driver })
    }

    pub async fn release(self) {
        let _ = self
            .client
            .execute("SELECT pg_advisory_unlock_all()", &[])
            .await;
        drop(self.client);
        let _ = self.driver.await;
    }
}

fn admin_url(url: &str) -> Result<(url::Url, String), DbSetupError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| DbSetupError(format!("DATABASE_URL is not a URL: {e}")))?;
    let name = parsed.path().trim_start_matches('/').to_string();
    if name.is_empty() {
        return Err(DbSetupError(
            "DATABASE_URL must name a database (…/gmud)".into(),
        ));
    }
    let mut admin = parsed;
    admin.set_path("/postgres");
    Ok((admin, name))
}

/// Creates the database named in `url` if it does not exist (connecting to `postgres` to do so).
pub async fn ensure_database(url: &str) -> Result<(), DbSetupError> {
    let (admin, name) = admin_url(url)?;
    let (client, connection) = tokio_postgres::connect(admin.as_str(), tokio_postgres::NoTls)
        .await
        .map_err(|e| unreachable(url, e))?;
    let driver = tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .map_err(|e| DbSetupError(format!("cannot list databases: {}", pg_error(&e))))?
        .is_some();
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match client.batch_execute(&sql).await {
            Ok(()) => tracing::info!(database = %name, "created database"),
            // Another program created it at the same moment (gmud instances wait on the
            // set-up lock; anything else may not).
            Err(e)
                if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE)
                    || e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {}
            Err(e) => {
                return Err(DbSetupError(format!(
                    "cannot create database {name}: {}",
                    pg_error(&e)
                )))
            }
        }
    }
    drop(client);
    let _ = driver.await;
    Ok(())
}

/// Applies pending migrations; returns how many ran.
pub async fn run_migrations(url: &str) -> Result<usize, DbSetupError> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| unreachable(&url, e))?;
        conn.run_pending_migrations(MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| DbSetupError(format!("migrations failed: {e}")))
    })
    .await
    .map_err(|e| DbSetupError(format!("migration task failed: {e}")))?
}
