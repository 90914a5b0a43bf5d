//! `gmud`: the server and its operator commands.

/// mimalloc hands freed memory back to the system (glibc's allocator kept gigabytes after a
/// burst of password hashing) and is faster under the server's many small allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};
use gmud_api::app::AppState;
use gmud_api::fixtures;
use gmud_api::identity::tokens::JwtKeys;
use gmud_api::platform::clock::{Clock, OffsetClock, SystemClock};
use gmud_api::platform::config::{DatabaseConfig, LogConfig, LogFormat, MailConfig, ServerConfig};
use gmud_api::platform::pool as db;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "gmud",
    version,
    about = "gmud: change, incident and problem management (ITSM) backend"
)]
struct Cli {
    #[command(flatten)]
    db: DatabaseConfig,
    #[command(flatten)]
    log: LogConfig,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (creates the database if missing and applies migrations first).
    Serve {
        #[command(flatten)]
        server: ServerConfig,
        #[command(flatten)]
        mail: MailConfig,
        /// Load the demo fixtures (users for every role, organisations, calendar, committees).
        #[arg(long)]
        demo: bool,
    },
    /// Run only the job workers (mail delivery, committee timers), for operators who run
    /// them apart from the HTTP servers. Any number may run against one database.
    Worker {
        #[command(flatten)]
        mail: MailConfig,
        /// Replay from this instant (RFC 3339), as `serve --clock-start`.
        #[arg(long, env = "GMUD_CLOCK_START")]
        clock_start: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Create the database if missing and apply pending migrations.
    Migrate,
    /// Load reference data (calendar, holidays, committees, policy); `--demo` adds demo data.
    Seed {
        #[arg(long)]
        demo: bool,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (the password is read from GMUD_NEW_USER_PASSWORD or prompted on stdin).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: String,
        /// Comma-separated roles, e.g. change_manager,committee_member.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<domain::roles::Role>,
        #[arg(long)]
        team: Option<domain::roles::Team>,
        #[arg(long)]
        organization_id: Option<i64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,actix_server=warn".into());
    match cli.log.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        // Fields at the top level of each object (`request_id`, `status`...), not nested.
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .init(),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gmud: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gmud: {e}");
            ExitCode::from(2)
        }
    }
}

/// Signs the demo's tokens (`serve --demo` without GMUD_JWT_SECRET). Public, like the demo
/// users' password: a demo server is for one machine.
const DEMO_JWT_SECRET: &str = "gmud-demo-secret-not-for-production-use-0001";

fn rand_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut b = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Creates the database if missing, migrates it and, when asked (`Some(demo)`), seeds it:
/// one process at a time (instances started together wait on the set-up lock).
async fn prepare(db: &DatabaseConfig, seed: Option<bool>) -> Result<db::Pool, AnyError> {
    Ok(fixtures::prepare(&db.database_url, db.db_pool_size, seed).await?)
}

fn clock(start: Option<chrono::DateTime<chrono::Utc>>) -> Arc<dyn Clock> {
    match start {
        Some(start) => {
            tracing::warn!(%start, "replaying from GMUD_CLOCK_START: rules read a shifted clock");
            Arc::new(OffsetClock::starting_at(start))
        }
        None => Arc::new(SystemClock),
    }
}

/// The state every handler and job shares; `public_url` defaults to the bound address.
async fn state(
    pool: db::Pool,
    clock: Arc<dyn Clock>,
    jwt: JwtKeys,
    mail: &MailConfig,
    default_public_url: String,
) -> Result<AppState, AnyError> {
    if mail.smtp_url.is_some() && mail.public_url.is_none() {
        // Real mail reaches people's browsers: links to a bind address would not.
        return Err("GMUD_SMTP_URL is set: set GMUD_PUBLIC_URL too (the address members reach this server at; vote links in e-mails start with it)".into());
    }
    let mailer = gmud_api::notify::mail::Mailer::new(
        &mail.mail_from,
        mail.smtp_url.as_deref(),
        mail.mail_dir.clone(),
        std::time::Duration::from_secs(mail.smtp_timeout_seconds),
    )?;
    let key = {
        let mut conn = pool.get().await?;
        gmud_api::platform::links::load_key(&mut conn, mail.link_secret.as_deref(), clock.now())
            .await?
    };
    let notifier = gmud_api::notify::Notifier {
        signer: gmud_api::platform::links::LinkSigner::new(&key),
        public_url: mail
            .public_url
            .clone()
            .unwrap_or(default_public_url)
            .trim_end_matches('/')
            .to_string(),
    };
    Ok(AppState::new(pool, clock, jwt, mailer, notifier)
        .with_retention(chrono::Duration::days(mail.job_retention_days.into())))
}

/// Queues the calendar tick and starts the job workers.
async fn start_workers(state: &AppState, mail: &MailConfig) -> Result<(), AnyError> {
    if mail.job_workers == 0 {
        return Ok(());
    }
    state.ensure_recurring_jobs().await.map_err(|e| e.chain())?;
    state.worker().spawn(
        mail.job_workers,
        std::time::Duration::from_millis(mail.job_poll_ms),
    );
    match state.mailer.folder() {
        Some(dir) => {
            tracing::info!(dir = %dir.display(), "no GMUD_SMTP_URL: mail is written as .eml files")
        }
        None => tracing::info!("mail goes through SMTP"),
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<(), AnyError> {
    match cli.command {
        Command::Migrate => {
            prepare(&cli.db, None).await?;
            println!("database {} is up to date", cli.db.redacted_url());
        }
        Command::Seed { demo } => {
            prepare(&cli.db, Some(demo)).await?;
            println!("seeded{}", if demo { " (with demo data)" } else { "" });
        }
        Command::Openapi => print!("{}", gmud_api::http::openapi::document_json()),
        Command::Worker { mail, clock_start } => {
            let pool = prepare(&cli.db, None).await?;
            let mut mail = mail;
            mail.job_workers = mail.job_workers.max(1);
            let jwt = JwtKeys::new(&rand_secret(), chrono::Duration::minutes(1));
            let state = state(
                pool,
                clock(clock_start),
                jwt,
                &mail,
                "http://127.0.0.1:8080".into(),
            )
            .await?;
            start_workers(&state, &mail).await?;
            println!("gmud worker running {} job workers", mail.job_workers);
            tokio::signal::ctrl_c().await?;
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    display_name,
                    email,
                    roles,
                    team,
                    organization_id,
                },
        } => {
            let pool = prepare(&cli.db, None).await?;
            let password = match std::env::var("GMUD_NEW_USER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprint!("password for {username}: ");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end().to_string()
                }
            };
            let mut conn = pool.get().await?;
            let checks = gmud_api::identity::passwords::PasswordChecks::new(
                1,
                std::time::Duration::from_secs(60),
            );
            let id = gmud_api::identity::users::create_user(
                &mut conn,
                &checks,
                gmud_api::identity::users::NewUserInput {
                    display_name: display_name.unwrap_or_else(|| username.clone()),
                    username,
                    email,
                    password,
                    roles,
                    team,
                    organization_id,
                },
                chrono::Utc::now(),
            )
            .await
            .map_err(|e| e.problem().detail)?;
            println!("created user {id}");
        }
        Command::Serve { server, mail, demo } => {
            tracing::info!(db = ?cli.db, server = ?server, "starting");
            let pool = prepare(&cli.db, Some(demo)).await?;
            let secret = match &server.jwt_secret {
                Some(s) if s.len() >= 32 => s.as_bytes().to_vec(),
                Some(_) => return Err("GMUD_JWT_SECRET must be at least 32 characters".into()),
                // The demo's tokens survive a restart (a newcomer replaying the walkthrough
                // with GMUD_CLOCK_START keeps them); the secret is public, so demo mode only.
                None if demo => {
                    tracing::warn!("demo mode: tokens are signed with the public demo secret; never expose this server");
                    DEMO_JWT_SECRET.as_bytes().to_vec()
                }
                None => {
                    tracing::warn!("GMUD_JWT_SECRET is not set: using a random secret; tokens will not survive a restart");
                    rand_secret()
                }
            };
            let state = state(
                pool,
                clock(server.clock_start),
                JwtKeys::new(&secret, chrono::Duration::minutes(server.token_ttl_minutes)),
                &mail,
                format!("http://{}", server.bind),
            )
            .await?
            .with_login_limits(
                server.logins_per_address_per_minute,
                server
                    .password_checks
                    .unwrap_or_else(gmud_api::identity::passwords::PasswordChecks::default_permits),
            );
            let mut state = AppState {
                trust_forwarded_for: server.trust_forwarded_for,
                ..state
            };
            if let Some(url) = &cli.db.reports_database_url {
                // Built lazily: a replica that is down fails the reports (503), not the start.
                state = state.with_reports_pool(gmud_api::platform::pool::build_pool(
                    url,
                    cli.db.reports_db_pool_size.max(1),
                )?);
                tracing::info!(url = %gmud_api::platform::config::redact(url), "reports read the replica");
            }
            if demo {
                let mut conn = state.pool.get().await?;
                let opened =
                    gmud_api::tickets::demo::seed(&mut conn, &state.notifier, state.clock.now())
                        .await
                        .map_err(|e| e.problem().detail)?;
                if opened > 0 {
                    tracing::info!(opened, "demo tickets opened");
                }
                if gmud_api::problems::demo::seed(&mut conn, state.clock.now())
                    .await
                    .map_err(|e| e.problem().detail)?
                {
                    tracing::info!("demo problem and knowledge-base articles written");
                }
            }
            start_workers(&state, &mail).await?;
            let listener = std::net::TcpListener::bind(server.bind)
                .map_err(|e| format!("cannot listen on {}: {e} (set GMUD_BIND)", server.bind))?;
            let addr = listener.local_addr()?;
            println!("gmud listening on http://{addr}");
            println!("  interactive API docs: http://{addr}/docs/");
            println!("  OpenAPI document:     http://{addr}/api/v1/openapi.json");
            if let Some(dir) = state.mailer.folder() {
                println!("  e-mail (no SMTP set): .eml files in {}", dir.display());
            }
            if demo {
                let d = fixtures::demo();
                println!("  demo users (password `{}`):", d.password);
                for u in &d.users {
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                    println!("    {:<16} {}", u.username, roles.join(", "));
                }
            }
            let workers = server
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let pool = gmud_api::platform::pool::PoolSpec {
                url: cli.db.database_url.clone(),
                size: cli.db.db_pool_size,
            };
            gmud_api::http::serve(listener, state, workers, pool)?.await?;
        }
    }
    Ok(())
}
