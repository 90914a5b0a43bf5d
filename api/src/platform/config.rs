//! Typed configuration, read from environment variables (or the matching flags).
//! This struct is the one place they are documented; `gmud --help` prints them.
use clap::Args;
use std::fmt;
use std::net::SocketAddr;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/gmud";

#[derive(Args, Clone)]
pub struct DatabaseConfig {
    /// PostgreSQL connection URL. The database is created if missing by `serve` and `migrate`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
    /// Maximum connections in the pool.
    #[arg(long, env = "GMUD_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,
    /// A read replica for reports (the operations review): its own small pool. Unset: reports
    /// read the primary.
    #[arg(long, env = "GMUD_REPORTS_DATABASE_URL", hide_env_values = true)]
    pub reports_database_url: Option<String>,
    /// Connections in the reports pool (with GMUD_REPORTS_DATABASE_URL).
    #[arg(long, env = "GMUD_REPORTS_DB_POOL_SIZE", default_value_t = 4)]
    pub reports_db_pool_size: usize,
}

impl DatabaseConfig {
    /// The URL with any password masked, safe to log.
    pub fn redacted_url(&self) -> String {
        redact(&self.database_url)
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("database_url", &self.redacted_url())
            .field("db_pool_size", &self.db_pool_size)
            .field(
                "reports_database_url",
                &self.reports_database_url.as_deref().map(redact),
            )
            .field("reports_db_pool_size", &self.reports_db_pool_size)
            .finish()
    }
}

pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable DATABASE_URL>".to_string(),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per line, fields as keys (for a log collector).
    Json,
}

#[derive(Args, Clone, Debug)]
pub struct LogConfig {
    /// Log format: `text`, or `json` (one object per line, for a log collector). The level
    /// is set by RUST_LOG (default `info`).
    #[arg(long, env = "GMUD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Args, Clone)]
pub struct ServerConfig {
    /// Address the HTTP server listens on.
    #[arg(long, env = "GMUD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Secret that signs access tokens (HS256). Unset: a random one per process (tokens die
    /// with it), fine for a demo, not for several instances.
    #[arg(long, env = "GMUD_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of an access token, in minutes.
    #[arg(long, env = "GMUD_TOKEN_TTL_MINUTES", default_value_t = 15)]
    pub token_ttl_minutes: i64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "GMUD_WORKERS")]
    pub workers: Option<usize>,
    /// Replay from this instant (RFC 3339): every rule reads a clock that starts here and runs
    /// on. Unset: the system clock.
    #[arg(long, env = "GMUD_CLOCK_START")]
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// Login attempts a minute accepted from one client address (a burst of as many); more
    /// answer 429 with Retry-After. Failures per account are throttled apart (five free, then
    /// a wait doubling from 1 s up to 15 min).
    #[arg(long, env = "GMUD_LOGINS_PER_ADDRESS_PER_MINUTE", default_value_t = 30)]
    pub logins_per_address_per_minute: u32,
    /// Passwords checked at once (argon2: 19 MiB and a core each). Default: half the cores.
    #[arg(long, env = "GMUD_PASSWORD_CHECKS")]
    pub password_checks: Option<usize>,
    /// Take the client address from `X-Forwarded-For`/`Forwarded` (only behind a proxy you
    /// run, which sets it): login throttling is per client address.
    #[arg(long, env = "GMUD_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("bind", &self.bind)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "****"))
            .field("token_ttl_minutes", &self.token_ttl_minutes)
            .field("workers", &self.workers)
            .field("clock_start", &self.clock_start)
            .field(
                "logins_per_address_per_minute",
                &self.logins_per_address_per_minute,
            )
            .field("password_checks", &self.password_checks)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish()
    }
}

/// E-mail, links and the job workers.
#[derive(Args, Clone)]
pub struct MailConfig {
    /// SMTP server, e.g. `smtp://mail:25`, `smtp://user:pass@mail:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@mail:465`. Unset: mail is written as `.eml` files to
    /// GMUD_MAIL_DIR.
    #[arg(long, env = "GMUD_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Folder for `.eml` files when no SMTP server is set.
    #[arg(long, env = "GMUD_MAIL_DIR", default_value = "var/mail")]
    pub mail_dir: std::path::PathBuf,
    /// Sender of every message.
    #[arg(long, env = "GMUD_MAIL_FROM", default_value = "gmud <gmud@localhost>")]
    pub mail_from: String,
    /// SMTP timeout, in seconds: a slow server delays mail, it does not hold a worker forever.
    #[arg(long, env = "GMUD_SMTP_TIMEOUT_SECONDS", default_value_t = 20)]
    pub smtp_timeout_seconds: u64,
    /// Base URL members reach this server at; vote links in e-mails start with it.
    /// Default: http://<GMUD_BIND>.
    #[arg(long, env = "GMUD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Key that signs vote links (at least 32 characters). Unset: a random key kept in the
    /// database, shared by every instance.
    #[arg(long, env = "GMUD_LINK_SECRET", hide_env_values = true)]
    pub link_secret: Option<String>,
    /// Job workers per process (mail, committee timers). 0 runs none (use `gmud worker`).
    #[arg(long, env = "GMUD_JOB_WORKERS", default_value_t = 2)]
    pub job_workers: usize,
    /// How long an idle worker naps before looking for due jobs again, in milliseconds.
    #[arg(long, env = "GMUD_JOB_POLL_MS", default_value_t = 1000)]
    pub job_poll_ms: u64,
    /// Days a done job is kept before the daily prune deletes it (dead jobs are kept; the keys
    /// that make jobs single outlive their jobs).
    #[arg(long, env = "GMUD_JOB_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub job_retention_days: u32,
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact))
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field("link_secret", &self.link_secret.as_ref().map(|_| "****"))
            .field("job_workers", &self.job_workers)
            .field("job_poll_ms", &self.job_poll_ms)
            .field("job_retention_days", &self.job_retention_days)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_the_logs() {
        let r = super::redact("postgres://gmud:s3cret@db:5432/gmud");
        assert!(!r.contains("s3cret"), "{r}");
        assert!(r.contains("****"));
    }
}
