//! The job queue and e-mail: notifications written with their event, delivered through a
//! real SMTP server on loopback, once, late when SMTP is down, never twice.
use chrono::Duration;
use gmud_api::app::AppState;
use gmud_api::queue::Ran;

async fn drain(state: &AppState) -> gmud_api::platform::error::ApiResult<Vec<Ran>> {
    state.worker().drain().await
}
use gmud_tests::{json, normal_rdm, Options, TestApp};
use std::collections::HashMap;

fn delivered(ran: &[Ran]) -> usize {
    ran.iter()
        .filter(|r| matches!(r, Ran::Done { kind, .. } if kind == "mail"))
        .count()
}

#[tokio::test]
async fn a_veto_tells_the_requester_group_why_once() {
    let app = TestApp::spawn().await;
    let mut body = normal_rdm("Atualizar certificado", 1);
    body["requester_group"] = json!("cloud");
    let id = app.create_rdm("tester", body).await;
    app.must("tester", id, "submit", None, "submitted").await;
    app.must("gm", id, "start-assessment", None, "assessment")
        .await;
    // Nothing is sent before the event: no mail job exists yet for a veto.
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind = 'mail'")
            .await,
        0
    );
    app.must(
        "gm",
        id,
        "veto",
        Some(json!({"reason": "Janela de fim de ano congelada"})),
        "rejected",
    )
    .await;
    // The requester and the members of the requester group (team cloud) are told.
    let jobs = app
        .count("SELECT count(*) FROM jobs WHERE kind = 'mail' AND status = 'pending'")
        .await;
    assert_eq!(jobs, 3, "tester, cloud1 and cloud2");
    assert_eq!(delivered(&app.run_jobs().await), 3);
    for who in ["tester", "cloud1", "cloud2"] {
        let mails = app.mails_to(who).await;
        assert_eq!(mails.len(), 1, "{who}: {mails:?}");
        assert!(
            mails[0].subject.contains(&format!("RDM-{id:06}")),
            "{}",
            mails[0].subject
        );
        assert!(
            mails[0].subject.contains("rejeitada"),
            "{}",
            mails[0].subject
        );
        assert!(mails[0].text.contains("Janela de fim de ano congelada"));
        assert!(mails[0].html.contains("Janela de fim de ano congelada"));
    }
    // Delivered messages keep their recipient and subject, not their body.
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind = 'mail' AND (payload ? 'text' OR payload ? 'html')").await,
        0
    );
    // Running the queue again sends nothing more.
    assert!(app.run_jobs().await.is_empty());
    assert_eq!(app.smtp.received().len(), 3);
    // Someone outside the group heard nothing.
    assert!(app.mails_to("rh1").await.is_empty());
}

#[tokio::test]
async fn a_refused_action_writes_no_notification() {
    let app = TestApp::spawn().await;
    let id = app.create_rdm("tester", normal_rdm("Sem motivo", 1)).await;
    app.must("tester", id, "submit", None, "submitted").await;
    app.must("gm", id, "start-assessment", None, "assessment")
        .await;
    // A veto without its reason is refused: nothing half-written, no mail queued.
    let r = app.act("gm", id, "veto", None).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind = 'mail'")
            .await,
        0
    );
}

#[tokio::test]
async fn an_emergency_is_announced_to_change_managers_before_execution() {
    let app = TestApp::spawn().await;
    let mut body = normal_rdm("Corrigir falha crítica no envio de eventos", 1);
    body["rdm_type"] = json!("emergency");
    let id = app.create_rdm("tester", body).await;
    app.must("tester", id, "submit", None, "submitted").await;
    app.run_jobs().await;
    let mails = app.mails_to("gm").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].subject.contains("emergencial"),
        "{}",
        mails[0].subject
    );
    assert!(mails[0].text.contains(&format!("/api/v1/rdms/{id}")));
    // Only change managers: the product owner is not told at this point.
    assert!(app.mails_to("po").await.is_empty());
}

#[tokio::test]
async fn sending_to_the_committee_mails_each_member_a_personal_link_pair() {
    let app = TestApp::spawn().await;
    let id = app
        .rdm_awaiting_committee("Trocar servidor de filas", 1)
        .await;
    app.run_jobs().await;
    let a = app.mails_to("cm1").await;
    let b = app.mails_to("cm2").await;
    assert_eq!((a.len(), b.len()), (1, 1), "{a:?} {b:?}");
    assert!(a[0].subject.contains(&format!("RDM-{id:06}")));
    // Dated by the server's clock (set to November 2026 by the tests), not the system's.
    assert_eq!(a[0].date, Some(app.now().timestamp()), "{a:?}");
    let (a_yes, a_no) = gmud_tests::vote_links(&a[0]);
    let (b_yes, _) = gmud_tests::vote_links(&b[0]);
    assert_ne!(a_yes, a_no);
    assert_ne!(a_yes, b_yes, "links are personal");
    assert!(a_yes.starts_with(&app.base), "{a_yes}");
    // Not a member: no mail.
    assert!(app.mails_to("cm3").await.is_empty());
    assert!(app.mails_to("cme1").await.is_empty());
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_and_loses_none() {
    let app = TestApp::spawn_with(Options {
        smtp_down: true,
        ..Options::default()
    })
    .await;
    let id = app.rdm_awaiting_committee("Atualizar JDK", 1).await;
    let ran = app.run_jobs().await;
    // Both vote requests failed to connect and wait for a retry.
    let retries = ran
        .iter()
        .filter(|r| matches!(r, Ran::Retry { .. }))
        .count();
    assert_eq!(retries, 2, "{ran:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind = 'mail' AND status = 'pending' AND attempts = 1 AND last_error IS NOT NULL").await,
        2
    );
    // SMTP comes back; nothing is due until the backoff has passed.
    app.smtp.up().await;
    assert!(app.run_jobs().await.is_empty());
    assert!(app.smtp.received().is_empty());
    app.set_now(app.now() + Duration::seconds(31));
    assert_eq!(delivered(&app.run_jobs().await), 2);
    let mails = app.mails_to("cm1").await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains(&format!("RDM-{id:06}")));
    // Later runs send nothing more.
    app.set_now(app.now() + Duration::hours(2));
    app.run_jobs().await;
    assert_eq!(app.smtp.received().len(), 2);
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_dead_visible_to_an_admin_and_can_be_retried() {
    let app = TestApp::spawn_with(Options {
        smtp_down: true,
        ..Options::default()
    })
    .await;
    app.vetoed_rdm("Sem SMTP", "Duplicada").await;
    // Thirty attempts with growing backoff (capped at an hour: about a day in all), then dead.
    let mut waits = Vec::new();
    for _ in 0..domain::jobs::MAIL_MAX_ATTEMPTS {
        let before = app.now();
        let ran = app.run_jobs().await;
        assert_eq!(ran.len(), 1, "{ran:?}");
        let next: i64 = app
            .count("SELECT COALESCE(extract(epoch FROM min(run_at))::bigint, 0) FROM jobs WHERE status = 'pending'")
            .await;
        if next > 0 {
            waits.push(next - before.timestamp());
            app.set_now(chrono::DateTime::from_timestamp(next, 0).unwrap());
        }
    }
    assert_eq!(waits.len(), 29);
    assert_eq!(waits[..7], [30, 60, 120, 240, 480, 960, 1920]);
    assert!(waits[7..].iter().all(|w| *w == 3600), "{waits:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE status = 'dead'")
            .await,
        1
    );
    let admin = app.token("admin").await;
    let r = app.get(&admin, "/api/v1/jobs?status=dead").await;
    assert_eq!(r.status, 200, "{r:?}");
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let job = &items[0];
    assert_eq!(job["kind"], "mail");
    assert_eq!(job["attempts"], 30);
    assert!(
        job["last_error"].as_str().unwrap().contains("SMTP"),
        "{job}"
    );
    // Subject and recipient are shown; the body (which may hold vote links) is not.
    assert!(job["payload"]["subject"].as_str().is_some());
    assert!(job["payload"].get("text").is_none() && job["payload"].get("html").is_none());
    // Only an admin sees the queue.
    let gm = app.token("gm").await;
    assert_eq!(app.get(&gm, "/api/v1/jobs").await.status, 403);
    let bad = app.get(&admin, "/api/v1/jobs?status=lost").await;
    assert_eq!(
        (bad.status, bad.fields()),
        (422, vec!["status".to_string()])
    );
    // A job that is not dead cannot be retried; the dead one can, once SMTP is back.
    let jid = job["id"].as_i64().unwrap();
    app.smtp.up().await;
    let r = app
        .post_empty(&admin, &format!("/api/v1/jobs/{jid}/retry"))
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (200, Some("pending")),
        "{r:?}"
    );
    let again = app
        .post_empty(&admin, &format!("/api/v1/jobs/{jid}/retry"))
        .await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (409, Some("job_not_dead"))
    );
    assert_eq!(delivered(&app.run_jobs().await), 1);
    assert_eq!(app.mails_to("tester").await.len(), 1);
}

#[tokio::test]
async fn two_instances_on_one_database_send_each_message_exactly_once() {
    let app = TestApp::spawn().await;
    for i in 0..8 {
        app.rdm_awaiting_committee(&format!("Mudança {i}"), 1 + (i % 6))
            .await;
    }
    let queued = app
        .count("SELECT count(*) FROM jobs WHERE kind = 'mail' AND status = 'pending'")
        .await;
    assert_eq!(queued, 16, "two members, eight RDMs");
    // Two instances, each with two workers, drain the same queue at once.
    let other = app.another_instance();
    let (a, b, c, d) = tokio::join!(
        drain(&app.state),
        drain(&other),
        drain(&app.state),
        drain(&other)
    );
    let ran: Vec<Ran> = [a, b, c, d]
        .into_iter()
        .flat_map(|r| r.expect("drain"))
        .collect();
    assert_eq!(delivered(&ran), 16, "{ran:?}");
    let mut ids: HashMap<i64, usize> = HashMap::new();
    for r in &ran {
        if let Ran::Done { id, .. } = r {
            *ids.entry(*id).or_default() += 1;
        }
    }
    assert!(ids.values().all(|n| *n == 1), "a job ran twice: {ids:?}");
    // The SMTP server saw each message once.
    let received = app.smtp.mails();
    assert_eq!(received.len(), 16);
    let mut message_ids: Vec<String> = received.iter().map(|m| m.message_id.clone()).collect();
    message_ids.sort();
    message_ids.dedup();
    assert_eq!(message_ids.len(), 16, "duplicate message ids");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM jobs WHERE kind = 'mail' AND status = 'done' AND attempts = 1"
        )
        .await,
        16
    );
}

/// The one gap no queue can close without the SMTP server: the process dies after the server
/// accepted a message and before its `done` mark. The message goes again when its lease ends,
/// and the copy carries the same Message-ID (at least once, and recognisably so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_send_and_commit_resends_with_the_same_message_id() {
    let app = TestApp::spawn().await;
    app.vetoed_rdm("Queda no envio", "Sem janela").await;
    // A worker claims the message (its lease) and the SMTP server accepts it; then the process
    // dies: nothing records the outcome.
    let (client, conn) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let now = app.now();
    let lease_until = now + chrono::Duration::minutes(6);
    let claim = format!(
        "WITH c AS ({}) SELECT payload::text FROM c",
        gmud_api::queue::CLAIM_DELIVERY
    );
    let row = client
        .query_one(&claim, &[&now, &lease_until])
        .await
        .expect("a message to claim");
    let payload: String = row.get(0);
    let mail: gmud_api::notify::mail::OutgoingMail = serde_json::from_str(&payload).unwrap();
    app.state.mailer.send(&mail).await.expect("accepted");
    let copies = || {
        app.smtp
            .mails()
            .into_iter()
            .filter(|m| m.message_id == mail.message_id.trim_matches(['<', '>']))
            .collect::<Vec<_>>()
    };
    assert_eq!(copies().len(), 1);
    // Restarted: not before the lease ends (other messages go), then it is sent again.
    drain(&app.state).await.unwrap();
    assert_eq!(copies().len(), 1);
    app.set_now(lease_until + chrono::Duration::seconds(1));
    drain(&app.state).await.unwrap();
    let c = copies();
    assert_eq!(c.len(), 2, "at least once: {c:?}");
    assert_eq!(c[0].date, c[1].date, "the same message, dated alike");
    assert_eq!(c[0].text, c[1].text);
    // And only that: running again sends nothing more.
    let total = app.smtp.received().len();
    drain(&app.state).await.unwrap();
    assert_eq!(app.smtp.received().len(), total);
}
