//! Test harness: each test gets the real server on a random port over its own PostgreSQL
//! database, cloned from a template that is migrated and seeded once.
use chrono::{DateTime, TimeZone, Utc};
use gmud_api::app::AppState;
use gmud_api::identity::tokens::JwtKeys;
use gmud_api::platform::clock::ManualClock;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

pub mod smtp;

pub use reqwest::header::HeaderMap;
pub use serde_json::json;
pub use smtp::{Mail, Mode as SmtpMode, SmtpSink};

pub const DEMO_PASSWORD: &str = "gmud-demo";
/// The secret every test app signs its access tokens with.
pub const JWT_SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

/// Where the tests' databases live. `TEST_DATABASE_URL` names the server (any database name).
fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn url_for(db: &str) -> String {
    let mut u = url::Url::parse(&server_url()).expect("TEST_DATABASE_URL is a URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

async fn admin() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&url_for("postgres"), tokio_postgres::NoTls)
        .await
        .expect("cannot reach PostgreSQL for tests: start it (pg_ctlcluster 15 main start) or set TEST_DATABASE_URL");
    tokio::spawn(conn);
    client
}

/// A name that changes whenever migrations or fixtures change, so a stale template is never used.
fn template_name() -> String {
    use std::hash::{Hash, Hasher};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["migrations", "fixtures"] {
        collect(&root.join(dir), &mut files);
    }
    // The seeding code too: a change to it must build a new template.
    files.push(root.join("api/src/fixtures.rs"));
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    format!("gmud_tmpl_{:016x}", h.finish())
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out)
            } else {
                out.push(p)
            }
        }
    }
}

/// The instant the template's data was seeded at, and every test's clock starts at:
/// Monday 2026-11-23 09:00 in São Paulo.
pub fn start_of_tests() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let client = admin().await;
            // Serialise template builds across test processes.
            client
                .execute("SELECT pg_advisory_lock(774411)", &[])
                .await
                .expect("lock");
            let exists = client
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                .await
                .expect("list databases")
                .is_some();
            if !exists {
                let building = format!("{name}_building");
                client
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
                    ))
                    .await
                    .expect("drop");
                client
                    .batch_execute(&format!("CREATE DATABASE \"{building}\""))
                    .await
                    .expect("create template");
                gmud_api::platform::pool::run_migrations(&url_for(&building))
                    .await
                    .expect("migrate template");
                {
                    let pool =
                        gmud_api::platform::pool::build_pool(&url_for(&building), 1).expect("pool");
                    let mut conn = pool.get().await.expect("connect template");
                    gmud_api::fixtures::seed(&mut conn, true, start_of_tests())
                        .await
                        .expect("seed template");
                }
                client
                    .batch_execute(&format!(
                        "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
                    ))
                    .await
                    .expect("publish template");
            }
            client
                .execute("SELECT pg_advisory_unlock(774411)", &[])
                .await
                .expect("unlock");
            name
        })
        .await
        .clone()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Resp {
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
    /// The fields named by a problem's `errors`, in order.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

/// How a test app starts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// The SMTP server is down (nothing listens on its port) until `app.smtp.up()`.
    pub smtp_down: bool,
    /// How long the mailer waits on the SMTP server (default 5 s).
    pub smtp_timeout: Option<std::time::Duration>,
    /// Login attempts a minute from one address (default: the server's).
    pub logins_per_address_per_minute: Option<u32>,
    /// Passwords checked at once (default: the server's).
    pub password_checks: Option<usize>,
}

/// The vote-link key of every test app.
pub const LINK_KEY: &[u8] = b"test-link-key-test-link-key-0123456789";

pub struct TestApp {
    pub base: String,
    pub clock: ManualClock,
    /// The server's own state: tests run its job workers' steps through it.
    pub state: AppState,
    /// The SMTP server the app delivers to, on loopback.
    pub smtp: SmtpSink,
    pub client: reqwest::Client,
    pub db_name: String,
    pub db_url: String,
    tokens: Mutex<HashMap<String, String>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(opts: Options) -> TestApp {
        let tmpl = template().await;
        let db_name = format!(
            "gmud_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let client = admin().await;
        client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{db_name}\" WITH (FORCE)"
            ))
            .await
            .expect("drop stale");
        client
            .batch_execute(&format!(
                "CREATE DATABASE \"{db_name}\" TEMPLATE \"{tmpl}\""
            ))
            .await
            .expect("clone template");
        let db_url = url_for(&db_name);
        let smtp = if opts.smtp_down {
            SmtpSink::reserve()
        } else {
            SmtpSink::start().await
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let clock = ManualClock::new(start_of_tests());
        let timeout = opts
            .smtp_timeout
            .unwrap_or(std::time::Duration::from_secs(5));
        let mut state = instance_state(&db_url, &clock, &smtp, &base, timeout);
        if opts.logins_per_address_per_minute.is_some() || opts.password_checks.is_some() {
            state = state.with_login_limits(
                opts.logins_per_address_per_minute
                    .unwrap_or(gmud_api::app::DEFAULT_LOGINS_PER_ADDRESS_PER_MINUTE),
                opts.password_checks
                    .unwrap_or_else(gmud_api::identity::passwords::PasswordChecks::default_permits),
            );
        }
        let server = gmud_api::http::serve(
            listener,
            state.clone(),
            2,
            gmud_api::platform::pool::PoolSpec {
                url: db_url.clone(),
                size: 8,
            },
        )
        .expect("serve");
        tokio::spawn(server);
        TestApp {
            base,
            clock,
            state,
            smtp,
            client: reqwest::Client::new(),
            db_name,
            db_url,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Another server instance's state on the same database, clock and SMTP server: its
    /// workers compete with this one's for the same jobs.
    pub fn another_instance(&self) -> AppState {
        instance_state(
            &self.db_url,
            &self.clock,
            &self.smtp,
            &self.base,
            std::time::Duration::from_secs(5),
        )
    }

    /// Another HTTP server on the same database and clock (a second instance behind the same
    /// load balancer): its base URL and state.
    pub async fn another_server(&self) -> (String, AppState) {
        let state = self.another_instance();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let server = gmud_api::http::serve(
            listener,
            state.clone(),
            1,
            gmud_api::platform::pool::PoolSpec {
                url: self.db_url.clone(),
                size: 4,
            },
        )
        .expect("serve");
        tokio::spawn(server);
        (base, state)
    }

    /// Another HTTP server of this app whose database is unreachable (nothing listens where
    /// its URL points): what answers 503 during an outage. Its base URL.
    pub async fn server_without_database(&self) -> String {
        let nowhere = {
            // A port that was free a moment ago: connections to it are refused.
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = l.local_addr().unwrap().port();
            format!("postgres://postgres@127.0.0.1:{port}/nowhere")
        };
        let state = instance_state(
            &nowhere,
            &self.clock,
            &self.smtp,
            &self.base,
            std::time::Duration::from_secs(5),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let server = gmud_api::http::serve(
            listener,
            state,
            1,
            gmud_api::platform::pool::PoolSpec {
                url: nowhere,
                size: 1,
            },
        )
        .expect("serve");
        tokio::spawn(server);
        base
    }

    /// Runs the due jobs, as the server's workers would (mail goes out through SMTP).
    pub async fn run_jobs(&self) -> Vec<gmud_api::queue::Ran> {
        self.state.worker().drain().await.expect("run jobs")
    }

    /// The messages the SMTP server received for a demo user.
    pub async fn mails_to(&self, username: &str) -> Vec<Mail> {
        let email = self.email_of(username).await;
        self.smtp.mails_to(&email)
    }

    pub async fn email_of(&self, username: &str) -> String {
        let (client, conn) = tokio_postgres::connect(&self.db_url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .query_one("SELECT email FROM users WHERE username = $1", &[&username])
            .await
            .expect("user")
            .get::<_, String>(0)
    }

    /// What the server's clock reads.
    pub fn now(&self) -> DateTime<Utc> {
        use gmud_api::platform::clock::Clock;
        self.clock.now()
    }

    /// Moves the server's clock. Cached tokens are dropped: they may have expired.
    pub fn set_now(&self, at: DateTime<Utc>) {
        self.clock.set(at);
        self.forget_tokens();
    }

    /// São Paulo local time to UTC.
    pub fn at_sp(&self, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        at_sp(y, m, d, h, min)
    }

    /// Logs a demo user in (cached per user).
    pub async fn token(&self, username: &str) -> String {
        if let Some(t) = self.tokens.lock().unwrap().get(username) {
            return t.clone();
        }
        let r = self
            .post(
                "",
                "/api/v1/auth/token",
                json!({"username": username, "password": DEMO_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "login {username}: {r:?}");
        let t = r.body["access_token"].as_str().unwrap().to_string();
        self.tokens
            .lock()
            .unwrap()
            .insert(username.to_string(), t.clone());
        t
    }

    /// A demo user's id.
    pub async fn user_id(&self, username: &str) -> i64 {
        let t = self.token(username).await;
        self.get(&t, "/api/v1/me").await.body["id"]
            .as_i64()
            .expect("me")
    }

    /// Forgets cached tokens (after moving the clock past their expiry).
    pub fn forget_tokens(&self) {
        self.tokens.lock().unwrap().clear();
    }

    async fn send(&self, rb: reqwest::RequestBuilder, token: &str) -> Resp {
        let rb = if token.is_empty() {
            rb
        } else {
            rb.bearer_auth(token)
        };
        let res = rb.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            body,
            headers,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, token: &str, path: &str) -> Resp {
        self.send(self.client.get(self.url(path)), token).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Resp {
        self.send(self.client.post(self.url(path)).json(&body), token)
            .await
    }

    pub async fn post_empty(&self, token: &str, path: &str) -> Resp {
        self.send(self.client.post(self.url(path)), token).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Resp {
        self.send(self.client.put(self.url(path)).json(&body), token)
            .await
    }

    pub async fn patch(
        &self,
        token: &str,
        path: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> Resp {
        let mut rb = self.client.patch(self.url(path)).json(&body);
        if let Some(m) = if_match {
            rb = rb.header("If-Match", m);
        }
        self.send(rb, token).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Resp {
        self.send(self.client.delete(self.url(path)), token).await
    }

    /// Runs SQL on the test's database (fixtures the API does not write yet).
    pub async fn exec(&self, sql: &str) {
        let (client, conn) = tokio_postgres::connect(&self.db_url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client.batch_execute(sql).await.expect("exec");
    }

    /// Another database cloned from the migrated, seeded template (a stand-in for a read
    /// replica that lags behind): its name and URL. The caller drops it.
    pub async fn spare_database(&self, suffix: &str) -> (String, String) {
        let tmpl = template().await;
        let name = format!("{}_{suffix}", self.db_name);
        let client = admin().await;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .expect("drop stale");
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{tmpl}\""))
            .await
            .expect("clone template");
        let url = url_for(&name);
        (name, url)
    }

    /// Drops a database made by [`TestApp::spare_database`].
    pub async fn drop_database(&self, name: &str) {
        admin()
            .await
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .expect("drop");
    }

    /// A direct SQL count, to check that nothing was half-written.
    pub async fn count(&self, sql: &str) -> i64 {
        let (client, conn) = tokio_postgres::connect(&self.db_url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .query_one(sql, &[])
            .await
            .expect("count")
            .get::<_, i64>(0)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let name = self.db_name.clone();
        // The test's runtime is going away: drop the database from a thread of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            rt.block_on(async {
                let client = admin().await;
                let _ = client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
            });
        })
        .join();
    }
}

fn instance_state(
    db_url: &str,
    clock: &ManualClock,
    smtp: &SmtpSink,
    base: &str,
    smtp_timeout: std::time::Duration,
) -> AppState {
    AppState::new(
        gmud_api::platform::pool::build_pool(db_url, 8).expect("pool"),
        Arc::new(clock.clone()),
        JwtKeys::new(JWT_SECRET, chrono::Duration::minutes(15)),
        gmud_api::notify::mail::Mailer::new(
            "gmud <gmud@gmud.test>",
            Some(&smtp.url()),
            std::path::PathBuf::from("unused"),
            smtp_timeout,
        )
        .expect("mailer"),
        gmud_api::notify::Notifier {
            signer: gmud_api::platform::links::LinkSigner::new(LINK_KEY),
            public_url: base.to_string(),
        },
    )
}

/// The approve and reject links of a vote e-mail (from its plain-text part).
pub fn vote_links(mail: &Mail) -> (String, String) {
    let urls: Vec<String> = mail
        .text
        .split_whitespace()
        .filter(|w| w.contains("/vote/"))
        .map(|w| {
            w.trim_matches(|c: char| c == '<' || c == '>' || c == '(' || c == ')')
                .to_string()
        })
        .collect();
    let approve = urls.iter().find(|u| u.contains(".a.")).cloned();
    let reject = urls.iter().find(|u| u.contains(".r.")).cloned();
    match (approve, reject) {
        (Some(a), Some(r)) => (a, r),
        _ => panic!("no vote links in: {}\n{}", mail.subject, mail.text),
    }
}

pub fn at_sp(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::America::Sao_Paulo
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid local time")
        .with_timezone(&Utc)
}

/// A normal RDM with everything the committee needs, touching configuration item `item`.
pub fn normal_rdm(title: &str, item: i64) -> Value {
    json!({
        "rdm_type": "normal",
        "title": title,
        "description": "Atualizar o pacote do eSocial para o leiaute S-1.3",
        "justification": "Obrigatório a partir de janeiro",
        "impact": "medium",
        "urgency": "high",
        "risk": "medium",
        "implementation_plan": "Aplicar o pacote; reiniciar; validar eventos",
        "estimated_duration_minutes": 120,
        "rollback_plan": "Restaurar snapshot",
        "estimated_rollback_minutes": 60,
        "communication_plan": "Aviso no portal 48h antes",
        "configuration_item_ids": [item]
    })
}

impl TestApp {
    /// Creates an RDM as `username`; returns its id.
    pub async fn create_rdm(&self, username: &str, body: Value) -> i64 {
        let t = self.token(username).await;
        let r = self.post(&t, "/api/v1/rdms", body).await;
        assert_eq!(r.status, 201, "create: {r:?}");
        r.body["id"].as_i64().unwrap()
    }

    /// Takes a lifecycle action as `username`.
    pub async fn act(&self, username: &str, id: i64, action: &str, body: Option<Value>) -> Resp {
        let t = self.token(username).await;
        let path = format!("/api/v1/rdms/{id}/{action}");
        match body {
            Some(b) => self.post(&t, &path, b).await,
            None => self.post_empty(&t, &path).await,
        }
    }

    /// Takes an action that must succeed, and checks the state it leads to.
    pub async fn must(
        &self,
        username: &str,
        id: i64,
        action: &str,
        body: Option<Value>,
        to: &str,
    ) -> Resp {
        let r = self.act(username, id, action, body).await;
        assert_eq!(r.status, 200, "{username} {action}: {r:?}");
        assert_eq!(r.body["state"], to, "{username} {action}");
        r
    }

    pub async fn rdm(&self, id: i64) -> Resp {
        let t = self.token("gm").await;
        self.get(&t, &format!("/api/v1/rdms/{id}")).await
    }

    /// Edits as `username` with the current ETag.
    pub async fn edit(&self, username: &str, id: i64, body: Value) -> Resp {
        let etag = self.rdm(id).await.etag();
        let t = self.token(username).await;
        self.patch(&t, &format!("/api/v1/rdms/{id}"), body, Some(&etag))
            .await
    }

    /// An RDM filed by `tester` with `body` and driven to `po_approved`: submitted, assessed,
    /// technical opinion recorded, approved by the product owner.
    pub async fn rdm_po_approved(&self, body: Value) -> i64 {
        let id = self.create_rdm("tester", body).await;
        self.must("tester", id, "submit", None, "submitted").await;
        self.must("gm", id, "start-assessment", None, "assessment")
            .await;
        let r = self
            .edit(
                "cloud1",
                id,
                json!({"technical_opinion": "Viável; sem impacto em outros serviços"}),
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        self.must("po", id, "po-approve", None, "po_approved").await;
        id
    }

    /// An RDM filed by `tester` and vetoed by `gm` with `reason`: the veto mails the requester.
    pub async fn vetoed_rdm(&self, title: &str, reason: &str) -> i64 {
        let id = self.create_rdm("tester", normal_rdm(title, 1)).await;
        self.must("tester", id, "submit", None, "submitted").await;
        self.must("gm", id, "start-assessment", None, "assessment")
            .await;
        self.must(
            "gm",
            id,
            "veto",
            Some(json!({ "reason": reason })),
            "rejected",
        )
        .await;
        id
    }

    /// A normal RDM driven from draft to `awaiting_committee`.
    pub async fn rdm_awaiting_committee(&self, title: &str, item: i64) -> i64 {
        self.committee_for(self.rdm_po_approved(normal_rdm(title, item)).await)
            .await
    }

    /// Sends a `po_approved` RDM to the committee.
    pub async fn committee_for(&self, id: i64) -> i64 {
        self.must("gm", id, "send-to-committee", None, "awaiting_committee")
            .await;
        id
    }

    /// The maintenance windows listed from `from` on (ids in order).
    pub async fn windows_from(&self, from: DateTime<Utc>) -> Vec<Value> {
        let t = self.token("gm").await;
        let r = self
            .get(
                &t,
                &format!(
                    "/api/v1/windows?from={}",
                    from.to_rfc3339().replace('+', "%2B")
                ),
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body.as_array().cloned().unwrap_or_default()
    }
}
