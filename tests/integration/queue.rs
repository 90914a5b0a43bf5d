//! The job queue knows no job kinds: jobs are types registered in one place; a panicking job
//! is a failed attempt and the worker goes on; done jobs are pruned and their keys still keep
//! jobs single; timers never wait behind a slow delivery.
use chrono::{DateTime, Duration, Utc};
use gmud_api::app::{registry, AppState};
use gmud_api::events::{self, Entity, NewEvent};
use gmud_api::platform::error::ApiResult;
use gmud_api::queue::prune::{prune, Retention};
use gmud_api::queue::{enqueue, Lane, Queued, Ran, Timer, Worker};
use gmud_tests::{Options, SmtpMode, TestApp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A timer that panics.
#[derive(Debug, Serialize, Deserialize)]
struct Explodes {}

impl Queued for Explodes {
    const KIND: &'static str = "test_explodes";
    const LANE: Lane = Lane::Timers;
}

impl Timer for Explodes {
    type Context = ();
    async fn run(
        &self,
        _: &(),
        _: &mut diesel_async::AsyncPgConnection,
        _: DateTime<Utc>,
    ) -> ApiResult<()> {
        panic!("boom");
    }
}

/// A timer that leaves a trace in the event log.
#[derive(Debug, Serialize, Deserialize)]
struct Touch {
    n: i64,
}

impl Queued for Touch {
    const KIND: &'static str = "test_touch";
    const LANE: Lane = Lane::Timers;
    /// Forgotten 10 days after its instant.
    const KEY_RETENTION: Option<Duration> = Some(Duration::days(10));
}

impl Timer for Touch {
    type Context = ();
    async fn run(
        &self,
        _: &(),
        conn: &mut diesel_async::AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        events::append(
            conn,
            NewEvent::on(Entity::Committee, self.n, "test_touched"),
            now,
        )
        .await?;
        Ok(())
    }
}

/// The clock [`TakesFiveMinutes`] moves while it runs.
static SLOW_CLOCK: std::sync::Mutex<Option<gmud_api::platform::clock::ManualClock>> =
    std::sync::Mutex::new(None);

/// A timer during which five minutes pass on the server's clock.
#[derive(Debug, Serialize, Deserialize)]
struct TakesFiveMinutes {}

impl Queued for TakesFiveMinutes {
    const KIND: &'static str = "test_takes_five_minutes";
    const LANE: Lane = Lane::Timers;
}

impl Timer for TakesFiveMinutes {
    type Context = ();
    async fn run(
        &self,
        _: &(),
        _: &mut diesel_async::AsyncPgConnection,
        _: DateTime<Utc>,
    ) -> ApiResult<()> {
        let clock = SLOW_CLOCK
            .lock()
            .unwrap()
            .clone()
            .expect("the test's clock");
        clock.advance(Duration::minutes(5));
        Ok(())
    }
}

/// The app's workers, with the test's job kinds added.
fn worker(app: &TestApp) -> Worker<AppState> {
    let mut w = app.state.worker();
    w.registry = Arc::new(
        registry()
            .timer::<Explodes>()
            .timer::<Touch>()
            .timer::<TakesFiveMinutes>(),
    );
    w
}

async fn job(app: &TestApp, kind: &str) -> (String, i32, Option<String>, DateTime<Utc>) {
    let (client, conn) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let r = client
        .query_one(
            "SELECT status::text, attempts, last_error, run_at FROM jobs WHERE kind = $1",
            &[&kind],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_is_a_failed_attempt_and_the_worker_goes_on() {
    let app = TestApp::spawn().await;
    let now = app.now();
    {
        let mut conn = app.state.pool.get().await.unwrap();
        enqueue(&mut conn, &Explodes {}, now, None, now)
            .await
            .unwrap();
        enqueue(&mut conn, &Touch { n: 1 }, now, None, now)
            .await
            .unwrap();
    }
    let w = worker(&app);
    let ran = w.drain().await.expect("the worker survives the panic");
    assert!(
        ran.iter()
            .any(|r| matches!(r, Ran::Retry { kind, error, .. } if kind == "test_explodes" && error.contains("panicked: boom"))),
        "{ran:?}"
    );
    assert!(
        ran.iter()
            .any(|r| matches!(r, Ran::Done { kind, .. } if kind == "test_touch")),
        "the next job ran: {ran:?}"
    );
    let (status, attempts, error, run_at) = job(&app, "test_explodes").await;
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert_eq!(error.as_deref(), Some("panicked: boom"));
    assert_eq!(
        run_at,
        now + Duration::seconds(30),
        "retried with the usual backoff"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE action = 'test_touched'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn done_jobs_are_pruned_after_the_retention_and_their_keys_still_keep_jobs_single() {
    let app = TestApp::spawn().await;
    let w = worker(&app);
    let now = app.now();
    let mut conn = app.state.pool.get().await.unwrap();
    assert!(
        enqueue(&mut conn, &Touch { n: 1 }, now, Some("touch:1".into()), now)
            .await
            .unwrap()
    );
    assert!(
        !enqueue(&mut conn, &Touch { n: 1 }, now, Some("touch:1".into()), now)
            .await
            .unwrap(),
        "a key makes a job exist once"
    );
    // A job whose key is kept for good (as every e-mail's is).
    let mail_like = "forever:1".to_string();
    assert!(enqueue(
        &mut conn,
        &Touch { n: 2 },
        now + Duration::days(60),
        Some(mail_like.clone()),
        now
    )
    .await
    .unwrap());
    drop(conn);
    w.drain().await.unwrap();
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE status = 'done'")
            .await,
        1
    );

    // Within the retention nothing goes; after it, the done job goes.
    let retention = Retention {
        done_jobs: Duration::days(30),
    };
    let mut conn = app.state.pool.get().await.unwrap();
    assert_eq!(
        prune(&mut conn, retention, now + Duration::days(9))
            .await
            .unwrap(),
        (0, 0)
    );
    let (jobs, keys) = prune(&mut conn, retention, now + Duration::days(31))
        .await
        .unwrap();
    assert_eq!(
        (jobs, keys),
        (1, 1),
        "the done job, and its key 10 days after its instant"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE status = 'done'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE status = 'pending'")
            .await,
        1,
        "pending jobs stay"
    );
    // The forgotten key can be used again; the kept one still keeps its job single.
    assert!(
        enqueue(&mut conn, &Touch { n: 1 }, now, Some("touch:1".into()), now)
            .await
            .unwrap()
    );
    assert!(
        !enqueue(&mut conn, &Touch { n: 2 }, now, Some(mail_like), now)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_prune_is_a_recurring_timer() {
    let app = TestApp::spawn().await;
    app.state.ensure_recurring_jobs().await.unwrap();
    let ran = app.run_jobs().await;
    assert!(
        ran.iter()
            .any(|r| matches!(r, Ran::Done { kind, .. } if kind == "prune_jobs")),
        "{ran:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind = 'prune_jobs' AND status = 'pending'")
            .await,
        1,
        "tomorrow's is queued"
    );
    // Its payload is an object (the document says so), not null.
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind IN ('prune_jobs', 'calendar_tick') AND jsonb_typeof(payload) <> 'object'").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_run_while_a_silent_smtp_server_holds_a_delivery() {
    let app = TestApp::spawn_with(Options {
        smtp_timeout: Some(std::time::Duration::from_secs(2)),
        ..Options::default()
    })
    .await;
    app.smtp.set_mode(SmtpMode::Silent);
    // A message to deliver (the veto tells the requester) and a timer due at the same time.
    app.vetoed_rdm("Entrega lenta", "Sem janela").await;
    let now = app.now();
    {
        let mut conn = app.state.pool.get().await.unwrap();
        enqueue(&mut conn, &Touch { n: 9 }, now, None, now)
            .await
            .unwrap();
    }
    let w = worker(&app);
    let delivering = {
        let w = w.clone();
        tokio::spawn(async move { w.run_next(Lane::Deliveries).await })
    };
    // The delivery is under way: the server accepted the connection and is silent.
    app.smtp.connected.notified().await;
    let started = std::time::Instant::now();
    let timer = w.run_next(Lane::Timers).await.unwrap();
    assert!(
        matches!(timer, Some(Ran::Done { ref kind, .. }) if kind == "test_touch"),
        "{timer:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "the timer did not wait for the delivery"
    );
    // The hung delivery holds no connection in a transaction.
    let idle_in_tx = app
        .count(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND state LIKE 'idle in transaction%'",
            app.db_name
        ))
        .await;
    assert_eq!(idle_in_tx, 0);
    // The silent server counts as down: the attempt fails within the bound and is retried.
    let ran = delivering.await.unwrap().unwrap();
    assert!(
        matches!(&ran, Some(Ran::Retry { kind, error, .. }) if kind == "mail" && error.contains("no answer within 2 s")),
        "{ran:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_server_that_refuses_the_recipient_for_good_makes_the_mail_dead_at_once() {
    let app = TestApp::spawn().await;
    app.smtp.set_mode(SmtpMode::RefuseRecipients);
    app.vetoed_rdm("Destinatário inválido", "Sem janela").await;
    let ran = app.run_jobs().await;
    let dead: Vec<_> = ran
        .iter()
        .filter_map(|r| match r {
            Ran::Dead { kind, error, .. } if kind == "mail" => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert!(!dead.is_empty(), "{ran:?}");
    assert!(
        dead[0].contains("550"),
        "the server's answer is kept: {}",
        dead[0]
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM jobs WHERE kind = 'mail' AND status = 'dead' AND attempts = 1"
        )
        .await,
        dead.len() as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_finished_when_it_finishes_not_when_it_was_claimed() {
    let app = TestApp::spawn().await;
    *SLOW_CLOCK.lock().unwrap() = Some(app.clock.clone());
    let claimed_at = app.now();
    {
        let mut conn = app.state.pool.get().await.unwrap();
        enqueue(
            &mut conn,
            &TakesFiveMinutes {},
            claimed_at,
            None,
            claimed_at,
        )
        .await
        .unwrap();
    }
    let ran = worker(&app).drain().await.unwrap();
    assert!(
        ran.iter()
            .any(|r| matches!(r, Ran::Done { kind, .. } if kind == "test_takes_five_minutes")),
        "{ran:?}"
    );
    let (client, conn) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let finished: DateTime<Utc> = client
        .query_one(
            "SELECT finished_at FROM jobs WHERE kind = 'test_takes_five_minutes'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(finished, claimed_at + Duration::minutes(5));
}
