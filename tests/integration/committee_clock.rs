//! The committee's calendar runs itself: cut-off, reminders, carry-over at the meeting's end,
//! holidays flagged ahead. Time moves through the injected clock; the jobs the server's
//! workers would run are run by the test.
use gmud_tests::{at_sp, json, TestApp};

async fn meeting_of(app: &TestApp, rdm: i64) -> serde_json::Value {
    let gm = app.token("gm").await;
    let mid = app.rdm(rdm).await.body["meeting_id"]
        .as_i64()
        .expect("on a meeting");
    let r = app.get(&gm, &format!("/api/v1/meetings/{mid}")).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

#[tokio::test]
async fn the_cutoff_freezes_the_agenda_and_sends_it_to_the_members() {
    let app = TestApp::spawn().await;
    let id = app
        .rdm_awaiting_committee("Atualizar o leiaute S-1.3", 1)
        .await;
    let m = meeting_of(&app, id).await;
    // Monday 09:00: the next meeting is Tuesday 2026-11-24 14:00, cut-off 10:00.
    assert_eq!(m["cutoff_at"], json!(at_sp(2026, 11, 24, 10, 0)));
    app.run_jobs().await; // the vote requests
    assert!(m["agenda_frozen_at"].is_null());
    // Just before the cut-off: nothing happens.
    app.set_now(at_sp(2026, 11, 24, 9, 59));
    app.run_jobs().await;
    assert!(meeting_of(&app, id).await["agenda_frozen_at"].is_null());
    app.set_now(at_sp(2026, 11, 24, 10, 0));
    app.run_jobs().await;
    let m = meeting_of(&app, id).await;
    assert_eq!(m["agenda_frozen_at"], json!(at_sp(2026, 11, 24, 10, 0)));
    let agenda: Vec<_> = app
        .mails_to("cm1")
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Pauta"))
        .collect();
    assert_eq!(agenda.len(), 1, "{agenda:?}");
    assert!(agenda[0].text.contains(&format!("RDM-{id:06}")));
    // An RDM ready after the cut-off goes to next week's meeting, not this agenda.
    let late = app
        .rdm_awaiting_committee("Pronta depois do corte", 2)
        .await;
    assert_eq!(
        meeting_of(&app, late).await["cutoff_at"],
        json!(at_sp(2026, 12, 1, 10, 0))
    );
}

#[tokio::test]
async fn at_the_meeting_end_undecided_rdms_are_carried_over_and_everyone_is_told() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Migrar banco de dados", 1).await;
    let first = meeting_of(&app, id).await;
    let cm1 = app.token("cm1").await;
    let r = app
        .post(
            &cm1,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    app.run_jobs().await;
    let requests_to_cm2 = app.mails_to("cm2").await.len();
    // The meeting starts: the member still to vote gets a reminder; the one who voted not.
    app.set_now(at_sp(2026, 11, 24, 14, 0));
    app.run_jobs().await;
    let cm2 = app.mails_to("cm2").await;
    assert!(
        cm2.iter().any(|m| m.subject.contains("Lembrete")),
        "{cm2:?}"
    );
    assert!(!app
        .mails_to("cm1")
        .await
        .iter()
        .any(|m| m.subject.contains("Lembrete")));
    // The meeting ends without cm2's vote.
    app.set_now(at_sp(2026, 11, 24, 16, 0));
    app.run_jobs().await;
    let closed = app
        .get(
            &app.token("gm").await,
            &format!("/api/v1/meetings/{}", first["id"]),
        )
        .await;
    assert_eq!(closed.body["status"], "closed", "{closed:?}");
    assert!(closed.body["closed_by"].is_null(), "closed by its timer");
    let rdm = app.rdm(id).await.body;
    assert_eq!(rdm["state"], "awaiting_committee");
    let next = meeting_of(&app, id).await;
    assert_ne!(next["id"], first["id"]);
    assert_eq!(next["starts_at"], json!(at_sp(2026, 12, 1, 14, 0)));
    let h = app
        .get(
            &app.token("gm").await,
            &format!("/api/v1/rdms/{id}/history"),
        )
        .await;
    let carry: Vec<_> = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "carry_over")
        .collect();
    assert_eq!(carry.len(), 1, "{h:?}");
    assert!(carry[0]["actor_id"].is_null());
    // Everyone is told: requester, both members; cm2 also gets fresh links for the new meeting.
    for who in ["tester", "cm1", "cm2"] {
        let told = app
            .mails_to(who)
            .await
            .into_iter()
            .filter(|m| m.subject.contains("adiada"))
            .count();
        assert_eq!(told, 1, "{who}");
    }
    let cm2_after = app.mails_to("cm2").await;
    let fresh: Vec<_> = cm2_after
        .iter()
        .skip(requests_to_cm2)
        .filter(|m| m.subject.contains("aguarda seu voto") && !m.subject.contains("Lembrete"))
        .collect();
    assert_eq!(fresh.len(), 1, "{cm2_after:?}");
    // cm1's vote stands (same revision): cm2's approval at the next meeting decides.
    let cm2t = app.token("cm2").await;
    let r = app
        .post(
            &cm2t,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.body["state"], "approved", "{r:?}");
    // The old meeting's timers do nothing more; running again sends nothing twice.
    let before = app.smtp.received().len();
    app.run_jobs().await;
    assert_eq!(
        app.smtp.received().len(),
        before + 1,
        "the approval, to the requester; no repeats"
    );
}

#[tokio::test]
async fn meetings_on_holidays_are_flagged_ahead_and_the_change_manager_moves_one() {
    let app = TestApp::spawn().await;
    // The daily tick materialises the coming weeks, timers included.
    {
        let mut conn = app.state.pool.get().await.unwrap();
        gmud_api::changes::calendar_tick::ensure_tick(&mut conn, app.now())
            .await
            .unwrap();
    }
    app.run_jobs().await;
    let gm = app.token("gm").await;
    let carnival = at_sp(2027, 2, 9, 14, 0);
    let list = app
        .get(
            &gm,
            &format!(
                "/api/v1/meetings?from={}&to={}",
                "2027-02-08T00:00:00Z", "2027-02-11T00:00:00Z"
            ),
        )
        .await;
    let m = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["starts_at"] == json!(carnival))
        .cloned()
        .expect("carnival meeting");
    assert_eq!(m["needs_reschedule"], true);
    assert!(m["holiday_flagged_at"].is_null());
    // Fifteen days ahead: not yet.
    app.set_now(at_sp(2027, 1, 25, 14, 0));
    app.run_jobs().await;
    assert!(app
        .mails_to("gm")
        .await
        .iter()
        .all(|m| !m.subject.contains("feriado")));
    // Fourteen days ahead (the policy's default): the change managers are told, once.
    app.set_now(at_sp(2027, 1, 26, 14, 0));
    app.run_jobs().await;
    app.run_jobs().await;
    let flagged: Vec<_> = app
        .mails_to("gm")
        .await
        .into_iter()
        .filter(|m| m.subject.contains("feriado"))
        .collect();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert!(flagged[0].text.contains("Carnaval"), "{}", flagged[0].text);
    assert!(flagged[0]
        .text
        .contains(&format!("/api/v1/meetings/{}/reschedule", m["id"])));
    let gm = app.token("gm").await;
    let now_m = app
        .get(&gm, &format!("/api/v1/meetings/{}", m["id"]))
        .await
        .body;
    assert_eq!(
        now_m["holiday_flagged_at"],
        json!(at_sp(2027, 1, 26, 14, 0))
    );
    // Not onto Carnival Monday, nor onto Ash Wednesday's closed morning: each refused by name.
    for (starts, ends, name) in [
        (
            at_sp(2027, 2, 8, 14, 0),
            at_sp(2027, 2, 8, 16, 0),
            "Carnaval (segunda-feira)",
        ),
        (
            at_sp(2027, 2, 10, 9, 0),
            at_sp(2027, 2, 10, 11, 0),
            "Quarta-feira de Cinzas",
        ),
    ] {
        let r = app
            .post(
                &gm,
                &format!("/api/v1/meetings/{}/reschedule", m["id"]),
                json!({"starts_at": starts, "ends_at": ends, "reason": "Carnaval"}),
            )
            .await;
        assert_eq!(r.status, 422, "{r:?}");
        assert_eq!(r.fields(), vec!["starts_at"]);
        assert!(r.body["detail"].as_str().unwrap().contains(name), "{r:?}");
    }
    let still = app
        .get(&gm, &format!("/api/v1/meetings/{}", m["id"]))
        .await
        .body;
    assert_eq!(still["needs_reschedule"], true, "nothing was moved");
    // The change manager moves it to Wednesday afternoon (Ash Wednesday opens at 12:00).
    let r = app
        .post(
            &gm,
            &format!("/api/v1/meetings/{}/reschedule", m["id"]),
            json!({"starts_at": at_sp(2027, 2, 10, 14, 0), "ends_at": at_sp(2027, 2, 10, 16, 0), "reason": "Carnaval"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["needs_reschedule"], false);
    // At the old end nothing happens; at the new end the meeting closes.
    app.set_now(at_sp(2027, 2, 9, 16, 0));
    app.run_jobs().await;
    let gm = app.token("gm").await;
    assert_eq!(
        app.get(&gm, &format!("/api/v1/meetings/{}", m["id"]))
            .await
            .body["status"],
        "scheduled"
    );
    app.set_now(at_sp(2027, 2, 10, 16, 0));
    app.run_jobs().await;
    let gm = app.token("gm").await;
    assert_eq!(
        app.get(&gm, &format!("/api/v1/meetings/{}", m["id"]))
            .await
            .body["status"],
        "closed"
    );
}

#[tokio::test]
async fn cme_voters_still_missing_are_reminded_halfway_to_the_links_expiry() {
    let app = TestApp::spawn().await;
    let mut body = gmud_tests::normal_rdm("Corrigir certificado expirado", 1);
    body["rdm_type"] = json!("emergency");
    body["homologation_evidence"] = json!("Testado em homologação");
    let id = app.create_rdm("tester", body).await;
    app.must("tester", id, "submit", None, "submitted").await;
    app.must("gm", id, "start-assessment", None, "assessment")
        .await;
    let r = app
        .edit("cloud1", id, json!({"technical_opinion": "Viável"}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    app.must("gm", id, "send-to-committee", None, "awaiting_committee")
        .await;
    let cme1 = app.token("cme1").await;
    let r = app
        .post(
            &cme1,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    app.run_jobs().await;
    let reminded = |mails: Vec<gmud_tests::Mail>| {
        mails
            .iter()
            .filter(|m| m.subject.contains("Lembrete"))
            .count()
    };
    // Links last 24 hours (the policy's default): no reminder before 12 hours.
    app.set_now(app.now() + chrono::Duration::hours(11));
    app.run_jobs().await;
    assert_eq!(reminded(app.mails_to("cme2").await), 0);
    app.set_now(app.now() + chrono::Duration::hours(1));
    app.run_jobs().await;
    assert_eq!(reminded(app.mails_to("cme2").await), 1);
    // The member who voted is not reminded, and nobody twice.
    assert_eq!(reminded(app.mails_to("cme1").await), 0);
    app.run_jobs().await;
    assert_eq!(reminded(app.mails_to("cme2").await), 1);
}

#[tokio::test]
async fn a_meeting_start_timer_run_after_the_meeting_sends_no_expired_reminder() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Trocar balanceador", 1).await;
    app.run_jobs().await;
    // The server was down from before the meeting (Tuesday 14:00) until 19:00.
    app.set_now(at_sp(2026, 11, 24, 19, 0));
    app.run_jobs().await;
    for who in ["cm1", "cm2"] {
        let mails = app.mails_to(who).await;
        assert!(
            !mails.iter().any(|m| m.subject.contains("Lembrete")),
            "{who}: {mails:?}"
        );
        // The carry-over is still true, and is sent.
        assert_eq!(
            mails
                .iter()
                .filter(|m| m.subject.contains("adiada"))
                .count(),
            1,
            "{who}: {mails:?}"
        );
    }
    assert_eq!(app.rdm(id).await.body["state"], "awaiting_committee");
}

#[tokio::test]
async fn a_server_down_through_the_notice_and_the_meeting_sends_neither_afterwards() {
    let app = TestApp::spawn().await;
    {
        let mut conn = app.state.pool.get().await.unwrap();
        gmud_api::changes::calendar_tick::ensure_tick(&mut conn, app.now())
            .await
            .unwrap();
    }
    app.run_jobs().await;
    let id = app.rdm_awaiting_committee("Trocar certificado", 1).await;
    app.run_jobs().await;
    // Down from Monday morning until after Carnival Tuesday's meeting (2027-02-09 14:00): the
    // holiday notice (due 14 days before), every cut-off and every meeting in between are late.
    app.set_now(at_sp(2027, 2, 9, 18, 0));
    app.run_jobs().await;
    let gm = app.mails_to("gm").await;
    assert!(
        !gm.iter().any(|m| m.subject.contains("feriado")),
        "no advice to move a meeting already past: {gm:?}"
    );
    let cm1 = app.mails_to("cm1").await;
    assert!(
        !cm1.iter().any(|m| m.subject.contains("Pauta")),
        "no agenda for meetings already held: {cm1:?}"
    );
    assert!(
        !cm1.iter().any(|m| m.subject.contains("Lembrete")),
        "{cm1:?}"
    );
    // What is still true is still said: the RDM moved on to a meeting to come.
    assert_eq!(app.rdm(id).await.body["state"], "awaiting_committee");
    assert!(cm1.iter().any(|m| m.subject.contains("adiada")), "{cm1:?}");
}
