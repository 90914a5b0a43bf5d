//! Committees, CM meetings, maintenance windows and the calendar policy (SPEC §3.2 step 6, §3.4).
use gmud_tests::{at_sp, json, TestApp};
use serde_json::Value;

fn policy_body(calendar_id: i64) -> Value {
    json!({
        "timezone": "America/Sao_Paulo",
        "calendar_id": calendar_id,
        "meeting_weekday": "wednesday",
        "meeting_start": "15:00",
        "meeting_duration_minutes": 90,
        "cutoff_time": "11:00",
        "window_weekday": "friday",
        "window_start": "01:00",
        "window_duration_minutes": 300,
        "note": "CM passa para quarta; janela na sexta"
    })
}

/// Drives an RDM through the committee (both CM members approve).
async fn approved_rdm(app: &TestApp, title: &str, item: i64) -> i64 {
    let id = app.rdm_awaiting_committee(title, item).await;
    for u in ["cm1", "cm2"] {
        let t = app.token(u).await;
        let r = app
            .post(
                &t,
                &format!("/api/v1/rdms/{id}/votes"),
                json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(r.status, 200, "{u}: {r:?}");
    }
    assert_eq!(app.rdm(id).await.body["state"], "approved");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committees_are_listed_created_and_staffed() {
    let app = TestApp::spawn().await;
    let requester = app.token("requester").await;
    let r = app.get(&requester, "/api/v1/committees").await;
    assert_eq!(r.status, 200, "{r:?}");
    let list = r.body.as_array().unwrap();
    let codes: Vec<&str> = list.iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["CM", "CME"]);
    let cm = &list[0];
    assert_eq!(cm["kind"], "cm");
    assert_eq!(cm["approval_policy"], "consensual");
    assert!(cm["approval_n"].is_null());
    let members: Vec<&str> = cm["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["cm1", "cm2"]);
    let cm_id = cm["id"].as_i64().unwrap();
    let r = app
        .get(&requester, &format!("/api/v1/committees/{cm_id}"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["members"][0]["display_name"], "Membro do CM 1");
    let r = app.get(&requester, "/api/v1/committees/99999").await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("not_found"))
    );
    let customer = app.token("customer.acme").await;
    let r = app.get(&customer, "/api/v1/committees").await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );

    // Creating.
    let r = app
        .post(
            &requester,
            "/api/v1/committees",
            json!({"code": "CAB2", "name": "Outro", "kind": "cm"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            "/api/v1/committees",
            json!({"code": "CAB2", "name": "Comitê de TI", "kind": "cm"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["approval_policy"], "consensual", "the default");
    assert_eq!(r.body["members"], json!([]));
    let id = r.body["id"].as_i64().unwrap();
    let admin = app.token("admin").await;
    let r = app
        .post(
            &admin,
            "/api/v1/committees",
            json!({"code": "CAB2", "name": "De novo", "kind": "cme"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("already_exists")),
        "{r:?}"
    );
    let r = app
        .post(
            &gm,
            "/api/v1/committees",
            json!({"code": "N", "name": "N", "kind": "cm", "approval_policy": "n_of_m"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["approval_n"]);
    let r = app
        .post(&gm, "/api/v1/committees", json!({"code": "N", "name": "N", "kind": "cm", "approval_policy": "any", "approval_n": 2}))
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["approval_n".to_string()])
    );
    let r = app
        .post(
            &gm,
            "/api/v1/committees",
            json!({"code": "N", "name": "N", "kind": "cab"}),
        )
        .await;
    assert_eq!((r.status, r.fields()), (422, vec!["kind".to_string()]));
    let r = app
        .post(
            &gm,
            "/api/v1/committees",
            json!({"code": "", "name": "N", "kind": "cm"}),
        )
        .await;
    assert_eq!((r.status, r.fields()), (422, vec!["code".to_string()]));
    let r = app
        .post(&gm, "/api/v1/committees", json!({"code": "N3", "name": "N", "kind": "cm", "approval_policy": "n_of_m", "approval_n": 2}))
        .await;
    assert_eq!(
        (r.status, r.body["approval_n"].as_i64()),
        (201, Some(2)),
        "{r:?}"
    );

    // Changing the policy.
    let path = format!("/api/v1/committees/{id}");
    let r = app
        .patch(&gm, &path, json!({"approval_policy": "n_of_m"}), None)
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["approval_n".to_string()])
    );
    let r = app
        .patch(
            &gm,
            &path,
            json!({"approval_policy": "n_of_m", "approval_n": 2}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        (
            r.body["approval_policy"].as_str(),
            r.body["approval_n"].as_i64()
        ),
        (Some("n_of_m"), Some(2))
    );
    let r = app.patch(&gm, &path, json!({"approval_n": 3}), None).await;
    assert_eq!(r.body["approval_n"], 3, "{r:?}");
    let r = app
        .patch(&gm, &path, json!({"approval_policy": "majority"}), None)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body["approval_n"].is_null(), "dropped with n_of_m");
    let r = app
        .patch(&gm, &path, json!({"name": "Comitê de TI e Infra"}), None)
        .await;
    assert_eq!(
        (r.body["name"].as_str(), r.body["approval_policy"].as_str()),
        (Some("Comitê de TI e Infra"), Some("majority"))
    );
    let r = app.patch(&gm, &path, json!({}), None).await;
    assert_eq!((r.status, r.fields()), (422, vec!["body".to_string()]));
    let r = app
        .patch(&requester, &path, json!({"name": "x"}), None)
        .await;
    assert_eq!(r.status, 403);

    // Members.
    let cm3 = app.user_id("cm3").await;
    let gm_id = app.user_id("gm").await;
    let members = format!("/api/v1/committees/{id}/members");
    let r = app.post(&gm, &members, json!({"user_id": cm3})).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["members"][0]["username"], "cm3");
    let r = app.post(&gm, &members, json!({"user_id": cm3})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("already_exists")),
        "{r:?}"
    );
    let r = app.post(&gm, &members, json!({"user_id": gm_id})).await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["user_id".to_string()]),
        "not a committee member"
    );
    let r = app.post(&gm, &members, json!({"user_id": 999999})).await;
    assert_eq!((r.status, r.fields()), (422, vec!["user_id".to_string()]));
    let r = app
        .post(
            &gm,
            "/api/v1/committees/99999/members",
            json!({"user_id": cm3}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app.delete(&requester, &format!("{members}/{cm3}")).await;
    assert_eq!(r.status, 403);
    let r = app.delete(&gm, &format!("{members}/{cm3}")).await;
    assert_eq!(r.status, 204, "{r:?}");
    let r = app.delete(&gm, &format!("{members}/{cm3}")).await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meetings_are_tuesday_afternoons_with_a_ten_oclock_cutoff() {
    let app = TestApp::spawn().await;
    let t = app.token("requester").await;
    // Monday 2026-11-23 09:00 São Paulo: the next meeting is tomorrow.
    let r = app.get(&t, "/api/v1/meetings").await;
    assert_eq!(r.status, 200, "{r:?}");
    let ms = r.body.as_array().unwrap();
    assert_eq!(ms.len(), 8, "eight weeks by default");
    assert_eq!(ms[0]["starts_at"], "2026-11-24T17:00:00Z");
    assert_eq!(ms[0]["ends_at"], "2026-11-24T19:00:00Z");
    assert_eq!(ms[0]["cutoff_at"], "2026-11-24T13:00:00Z");
    assert_eq!(ms[0]["original_date"], "2026-11-24");
    assert_eq!(ms[0]["status"], "scheduled");
    assert_eq!(ms[1]["starts_at"], "2026-12-01T17:00:00Z");
    // Listing twice gives the same occurrences (materialised once).
    let again = app.get(&t, "/api/v1/meetings").await;
    assert_eq!(again.body, r.body);

    let r = app
        .get(
            &t,
            "/api/v1/meetings?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z",
        )
        .await;
    assert_eq!((r.status, r.fields()), (422, vec!["to".to_string()]));
    let r = app.get(&t, "/api/v1/meetings?from=yesterday").await;
    assert_eq!(r.status, 422, "{r:?}");
    let cme = app.get(&t, "/api/v1/committees").await.body[1]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .get(&t, &format!("/api/v1/meetings?committee_id={cme}"))
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["committee_id".to_string()]),
        "the CME has no meetings"
    );
    let r = app.get(&t, "/api/v1/meetings?committee_id=99999").await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["committee_id".to_string()])
    );
    let customer = app.token("customer.acme").await;
    let r = app.get(&customer, "/api/v1/meetings").await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let r = app.get(&t, "/api/v1/meetings/99999").await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holiday_meeting_is_flagged_and_moved_in_advance() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let list = "/api/v1/meetings?from=2027-02-01T00:00:00Z&to=2027-02-20T00:00:00Z";
    let r = app.get(&gm, list).await;
    assert_eq!(r.status, 200, "{r:?}");
    let ms = r.body.as_array().unwrap().clone();
    let dates: Vec<&str> = ms
        .iter()
        .map(|m| m["original_date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2027-02-02", "2027-02-09", "2027-02-16"]);
    let flagged: Vec<bool> = ms
        .iter()
        .map(|m| m["needs_reschedule"].as_bool().unwrap())
        .collect();
    assert_eq!(flagged, [false, true, false], "Carnival Tuesday");
    assert_eq!(ms[1]["on_holiday"], true);
    let carnival = ms[1]["id"].as_i64().unwrap();
    let path = format!("/api/v1/meetings/{carnival}/reschedule");

    // Who and what.
    let body = json!({"starts_at": at_sp(2027, 2, 11, 14, 0), "ends_at": at_sp(2027, 2, 11, 16, 0), "reason": "Carnaval"});
    for u in ["requester", "cm1"] {
        let t = app.token(u).await;
        let r = app.post(&t, &path, body.clone()).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (403, Some("forbidden")),
            "{u}"
        );
    }
    let r = app
        .post(&gm, &path, json!({"starts_at": at_sp(2027, 2, 11, 14, 0), "ends_at": at_sp(2027, 2, 11, 13, 0), "reason": "x"}))
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["ends_at".to_string()]),
        "{r:?}"
    );
    let r = app
        .post(&gm, &path, json!({"starts_at": at_sp(2026, 11, 20, 14, 0), "ends_at": at_sp(2026, 11, 20, 16, 0), "reason": "x"}))
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["starts_at".to_string()]),
        "{r:?}"
    );
    let r = app
        .post(
            &gm,
            &path,
            json!({"starts_at": at_sp(2027, 2, 11, 14, 0), "ends_at": at_sp(2027, 2, 11, 16, 0)}),
        )
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["reason".to_string()]),
        "{r:?}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM events WHERE entity = 'meeting' AND action = 'reschedule' AND entity_id = {carnival}"
        ))
        .await,
        0
    );

    // Thursday after Carnival, same hours; the cut-off follows (10:00 that day).
    let r = app.post(&gm, &path, body).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["starts_at"], "2027-02-11T17:00:00Z");
    assert_eq!(r.body["ends_at"], "2027-02-11T19:00:00Z");
    assert_eq!(r.body["cutoff_at"], "2027-02-11T13:00:00Z");
    assert_eq!(r.body["original_date"], "2027-02-09", "keeps its identity");
    assert_eq!(
        (
            r.body["rescheduled"].as_bool(),
            r.body["needs_reschedule"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let audit = &r.body["reschedules"][0];
    assert_eq!(audit["old_starts_at"], "2027-02-09T17:00:00Z");
    assert_eq!(audit["new_starts_at"], "2027-02-11T17:00:00Z");
    assert_eq!(audit["reason"], "Carnaval");
    assert_eq!(audit["actor_id"], app.user_id("gm").await);
    assert_eq!(audit["at"], "2026-11-23T12:00:00Z", "the injected clock");
    let r = app.get(&gm, list).await;
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["needs_reschedule"] == false),
        "{r:?}"
    );

    // Moved to a morning: its agenda closes when it starts.
    let r = app
        .post(&gm, &path, json!({"starts_at": at_sp(2027, 2, 11, 9, 0), "ends_at": at_sp(2027, 2, 11, 11, 0), "reason": "Manhã"}))
        .await;
    assert_eq!(r.body["cutoff_at"], "2027-02-11T12:00:00Z", "{r:?}");
    assert_eq!(r.body["reschedules"].as_array().unwrap().len(), 2);

    // Once it has started it can no longer move.
    app.set_now(at_sp(2027, 2, 11, 9, 30));
    let gm = app.token("gm").await;
    let r = app
        .post(&gm, &path, json!({"starts_at": at_sp(2027, 2, 12, 14, 0), "ends_at": at_sp(2027, 2, 12, 16, 0), "reason": "x"}))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("meeting_started")),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_meeting_carries_pending_rdms_over() {
    let app = TestApp::spawn().await;
    let pending = app.rdm_awaiting_committee("Votos incompletos", 1).await;
    let decided = approved_rdm(&app, "Aprovada na reunião", 3).await;
    let meeting = app.rdm(pending).await.body["meeting_id"].as_i64().unwrap();
    assert_eq!(app.rdm(decided).await.body["meeting_id"], meeting);
    let gm = app.token("gm").await;
    let r = app.get(&gm, &format!("/api/v1/meetings/{meeting}")).await;
    let agenda: Vec<i64> = r.body["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(agenda, [pending, decided]);
    assert_eq!(r.body["agenda"][0]["number"], format!("RDM-{pending:06}"));
    assert_eq!(r.body["agenda"][0]["state"], "awaiting_committee");

    let close = format!("/api/v1/meetings/{meeting}/close");
    let r = app.post_empty(&gm, &close).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("meeting_not_started")),
        "{r:?}"
    );

    // One vote is missing when the meeting ends (Tuesday 16:00).
    let cm1 = app.token("cm1").await;
    let r = app
        .post(
            &cm1,
            &format!("/api/v1/rdms/{pending}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.body["state"], "awaiting_committee", "{r:?}");
    app.set_now(at_sp(2026, 11, 24, 16, 30));
    let cm1 = app.token("cm1").await;
    let version = app.rdm(pending).await.body["version"].as_i64().unwrap();
    let r = app.post_empty(&cm1, &close).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let gm = app.token("gm").await;
    let r = app
        .post(&gm, &close, json!({"note": "Quórum parcial"}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["meeting"]["status"], "closed");
    assert_eq!(r.body["meeting"]["close_note"], "Quórum parcial");
    assert!(
        r.body["meeting"]["closed_by"].is_i64(),
        "who closed it is kept"
    );
    assert_eq!(r.body["carried_over"], json!([pending]));
    let next = r.body["next_meeting_id"].as_i64().unwrap();
    let m = app.get(&gm, &format!("/api/v1/meetings/{next}")).await;
    assert_eq!(m.body["starts_at"], "2026-12-01T17:00:00Z");
    assert_eq!(m.body["agenda"][0]["id"], pending);

    let rdm = app.rdm(pending).await;
    assert_eq!(
        (rdm.body["meeting_id"].as_i64(), rdm.body["state"].as_str()),
        (Some(next), Some("awaiting_committee"))
    );
    assert_eq!(
        rdm.body["version"].as_i64(),
        Some(version + 1),
        "a carry-over is a new revision"
    );
    assert_eq!(
        app.rdm(decided).await.body["meeting_id"],
        meeting,
        "decided RDMs stay"
    );
    let h = app
        .get(&gm, &format!("/api/v1/rdms/{pending}/history"))
        .await;
    let last = h.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "carry_over");
    assert_eq!(last["detail"]["from_meeting_id"], meeting);
    assert_eq!(last["detail"]["to_meeting_id"], next);
    assert_eq!(last["detail"]["note"], "Quórum parcial");
    assert_eq!(last["at"], "2026-11-24T19:30:00Z");

    let r = app.post_empty(&gm, &close).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("meeting_closed")),
        "{r:?}"
    );
    let r = app
        .post(
            &gm,
            &format!("/api/v1/meetings/{meeting}/reschedule"),
            json!({"starts_at": at_sp(2026, 11, 30, 14, 0), "ends_at": at_sp(2026, 11, 30, 16, 0), "reason": "x"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("meeting_closed"))
    );
    let r = app
        .get(
            &gm,
            "/api/v1/meetings?from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z",
        )
        .await;
    assert_eq!(r.body[0]["status"], "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_show_bookings_conflicts_and_flexes() {
    let app = TestApp::spawn().await;
    let windows = app.windows_from(app.now()).await;
    assert_eq!(windows.len(), 8);
    let w = &windows[0];
    assert_eq!(w["starts_at"], "2026-11-26T03:00:00Z");
    assert_eq!(w["ends_at"], "2026-11-26T09:00:00Z");
    assert_eq!(
        (
            w["flexed"].as_bool(),
            w["booked_minutes"].as_i64(),
            w["conflict_count"].as_i64()
        ),
        (Some(false), Some(0), Some(0))
    );
    let wid = w["id"].as_i64().unwrap();

    // Two RDMs on the same item: a conflict, reported.
    let a = approved_rdm(&app, "Pacote eSocial", 1).await;
    let b = approved_rdm(&app, "Certificado eSocial", 1).await;
    app.must(
        "gm",
        a,
        "schedule",
        Some(json!({"window_id": wid})),
        "scheduled",
    )
    .await;
    app.must(
        "gm",
        b,
        "schedule",
        Some(json!({"window_id": wid, "planned_start": at_sp(2026, 11, 26, 3, 0)})),
        "scheduled",
    )
    .await;
    let gm = app.token("gm").await;
    let r = app.get(&gm, &format!("/api/v1/windows/{wid}")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["booked_minutes"], 360, "2 × (120 + 60)");
    assert_eq!(r.body["conflict_count"], 1);
    assert_eq!(
        r.body["conflicts"],
        json!([{"item_id": 1, "rdm_ids": [a, b]}])
    );
    let bookings: Vec<i64> = r.body["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    assert_eq!(bookings, [a, b]);
    assert_eq!(r.body["bookings"][0]["configuration_item_ids"], json!([1]));
    assert_eq!(
        r.body["bookings"][1]["planned_start"],
        "2026-11-26T06:00:00Z"
    );
    assert_eq!(r.body["bookings"][0]["fits"], true);
    let listed = app.windows_from(app.now()).await;
    assert_eq!(
        (
            listed[0]["booked_minutes"].as_i64(),
            listed[0]["conflict_count"].as_i64()
        ),
        (Some(360), Some(1))
    );

    // Asking for a flex: 02:00–08:00 São Paulo instead of 00:00–06:00.
    let flexes = format!("/api/v1/windows/{wid}/flexes");
    let flex = json!({"starts_at": at_sp(2026, 11, 26, 2, 0), "ends_at": at_sp(2026, 11, 26, 8, 0), "reason": "Fornecedor de nuvem em manutenção até 02h"});
    for u in ["requester", "cm1"] {
        let t = app.token(u).await;
        let r = app.post(&t, &flexes, flex.clone()).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (403, Some("forbidden")),
            "{u}"
        );
    }
    let r = app
        .post(&gm, &flexes, json!({"starts_at": at_sp(2026, 11, 26, 2, 0), "ends_at": at_sp(2026, 11, 26, 1, 0), "reason": "x"}))
        .await;
    assert_eq!((r.status, r.fields()), (422, vec!["ends_at".to_string()]));
    let r = app
        .post(&gm, &flexes, json!({"starts_at": at_sp(2026, 11, 26, 0, 0), "ends_at": at_sp(2026, 11, 27, 0, 1), "reason": "x"}))
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["ends_at".to_string()]),
        "longer than a day"
    );
    let r = app.post(&gm, &flexes, flex.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["new_starts_at"], "2026-11-26T05:00:00Z");
    let fid = r.body["id"].as_i64().unwrap();
    let r = app.post(&gm, &flexes, flex.clone()).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("flex_pending"))
    );
    let listed = app.windows_from(app.now()).await;
    assert_eq!(
        listed[0]["starts_at"], "2026-11-26T03:00:00Z",
        "pending until the CM approves"
    );

    // Deciding: members of the CM only.
    let approve = format!("{flexes}/{fid}/approve");
    let reject = format!("{flexes}/{fid}/reject");
    for u in ["gm", "cme1", "cm3"] {
        let t = app.token(u).await;
        let r = app.post_empty(&t, &approve).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (403, Some("forbidden")),
            "{u}: {r:?}"
        );
    }
    let cm1 = app.token("cm1").await;
    let r = app.post_empty(&cm1, &reject).await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["reason".to_string()]),
        "a rejection says why"
    );
    let r = app
        .post_empty(&cm1, &format!("{flexes}/99999/approve"))
        .await;
    assert_eq!(r.status, 404);
    // Consensual: cm1's approval alone leaves it pending, the window unchanged.
    let r = app.post_empty(&cm1, &approve).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["flex"]["status"], "pending");
    assert_eq!(r.body["flex"]["approvals"], 1);
    assert_eq!(
        r.body["flex"]["pending_voter_ids"],
        json!([app.user_id("cm2").await])
    );
    assert_eq!(r.body["window"]["starts_at"], "2026-11-26T03:00:00Z");
    assert_eq!(r.body["window"]["flexed"], false);
    assert_eq!(r.body["misfits"], json!([]));
    let r = app.post_empty(&cm1, &approve).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("already_voted")),
        "{r:?}"
    );
    // cm2, the last CM member, completes it: the window takes the new times.
    let cm2 = app.token("cm2").await;
    let r = app.post_empty(&cm2, &approve).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["flex"]["status"], "approved");
    assert_eq!(r.body["flex"]["decided_by"], app.user_id("cm2").await);
    assert_eq!(r.body["flex"]["approvals"], 2);
    assert_eq!(r.body["flex"]["pending_voter_ids"], json!([]));
    assert_eq!(r.body["window"]["starts_at"], "2026-11-26T05:00:00Z");
    assert_eq!(r.body["window"]["ends_at"], "2026-11-26T11:00:00Z");
    assert_eq!(r.body["window"]["flexed"], true);
    // `a` starts at 03:00Z, now before the window; `b` (06:00Z + 3h) still fits.
    assert_eq!(r.body["misfits"], json!([a]));
    assert_eq!(
        app.rdm(a).await.body["window_id"],
        wid,
        "not unbooked: the change manager decides"
    );
    let r = app.post_empty(&cm2, &approve).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("flex_decided")),
        "{r:?}"
    );
    let r = app
        .post(&cm2, &reject, json!({"reason": "tarde demais"}))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("flex_decided"))
    );

    // A second flex, rejected: the window keeps its times.
    let r = app
        .post(&gm, &flexes, json!({"starts_at": at_sp(2026, 11, 26, 2, 0), "ends_at": at_sp(2026, 11, 26, 12, 0), "reason": "Estender"}))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let fid2 = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &cm2,
            &format!("{flexes}/{fid2}/reject"),
            json!({"reason": "Horário comercial"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        (r.body["flex"]["status"].as_str(), r.body["misfits"].clone()),
        (Some("rejected"), json!([]))
    );
    assert_eq!(r.body["flex"]["decision_reason"], "Horário comercial");
    assert_eq!(r.body["window"]["ends_at"], "2026-11-26T11:00:00Z");
    let r = app.get(&gm, &format!("/api/v1/windows/{wid}")).await;
    let statuses: Vec<&str> = r.body["flexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["approved", "rejected"]);
    assert_eq!(r.body["bookings"][0]["fits"], false);

    // A window that is over cannot be flexed.
    app.set_now(at_sp(2026, 11, 26, 9, 0));
    let gm = app.token("gm").await;
    let r = app
        .post(&gm, &flexes, json!({"starts_at": at_sp(2026, 11, 26, 10, 0), "ends_at": at_sp(2026, 11, 26, 12, 0), "reason": "x"}))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("window_over")),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_policy_version_regenerates_future_occurrences() {
    let app = TestApp::spawn().await;
    let requester = app.token("requester").await;
    let r = app.get(&requester, "/api/v1/calendar-policy").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.etag(), "\"1\"");
    let v1 = r.body.clone();
    assert_eq!(v1["version"], 1);
    assert_eq!(
        (
            v1["meeting_weekday"].as_str(),
            v1["meeting_start"].as_str(),
            v1["cutoff_time"].as_str()
        ),
        (Some("tuesday"), Some("14:00"), Some("10:00"))
    );
    assert_eq!(
        (
            v1["window_weekday"].as_str(),
            v1["window_duration_minutes"].as_i64()
        ),
        (Some("thursday"), Some(360))
    );
    assert_eq!(v1["timezone"], "America/Sao_Paulo");
    let calendar = v1["calendar_id"].as_i64().unwrap();

    // Occurrences exist; one meeting has an RDM on its agenda and must stay.
    let booked = app.rdm_awaiting_committee("Já na pauta", 1).await;
    app.windows_from(app.now()).await;
    let gm = app.token("gm").await;
    let before = app.get(&gm, "/api/v1/meetings").await;
    assert_eq!(before.body.as_array().unwrap().len(), 8);

    let r = app
        .put(&requester, "/api/v1/calendar-policy", policy_body(calendar))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let r = app
        .put(&gm, "/api/v1/calendar-policy", policy_body(calendar))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.etag(), "\"2\"");
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["meeting_weekday"], "wednesday");
    assert_eq!(r.body["created_by"], app.user_id("gm").await);
    assert_eq!(r.body["created_at"], "2026-11-23T12:00:00Z");

    let r = app
        .get(&requester, "/api/v1/calendar-policy/versions")
        .await;
    let versions: Vec<i64> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(
        app.get(&requester, "/api/v1/calendar-policy").await.body["version"],
        2
    );

    // The booked Tuesday stays; the rest are now Wednesdays 15:00–16:30, cut-off 11:00.
    let r = app.get(&gm, "/api/v1/meetings").await;
    let ms = r.body.as_array().unwrap();
    let meeting = app.rdm(booked).await.body["meeting_id"].as_i64().unwrap();
    assert_eq!(
        (ms[0]["id"].as_i64(), ms[0]["starts_at"].as_str()),
        (Some(meeting), Some("2026-11-24T17:00:00Z"))
    );
    assert_eq!(ms[0]["policy_version"], 1);
    assert_eq!(ms[1]["starts_at"], "2026-11-25T18:00:00Z");
    assert_eq!(ms[1]["ends_at"], "2026-11-25T19:30:00Z");
    assert_eq!(ms[1]["cutoff_at"], "2026-11-25T14:00:00Z");
    assert_eq!(ms[1]["policy_version"], 2);
    assert!(ms[1..].iter().all(|m| m["policy_version"] == 2), "{r:?}");
    let w = app.windows_from(app.now()).await;
    assert_eq!(
        (w[0]["starts_at"].as_str(), w[0]["ends_at"].as_str()),
        (Some("2026-11-27T04:00:00Z"), Some("2026-11-27T09:00:00Z"))
    );
    assert!(w.iter().all(|w| w["policy_version"] == 2));

    // A stale If-Match is refused; a current one is accepted.
    let mut body = policy_body(calendar);
    body["meeting_start"] = json!("16:00");
    let t = gm.clone();
    let stale = app
        .client
        .put(app.url("/api/v1/calendar-policy"))
        .bearer_auth(&t)
        .header("If-Match", "\"1\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 409);
    let p: Value = stale.json().await.unwrap();
    assert_eq!(p["code"], "version_mismatch");
    let ok = app
        .client
        .put(app.url("/api/v1/calendar-policy"))
        .bearer_auth(&t)
        .header("If-Match", "\"2\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(app.count("SELECT count(*) FROM calendar_policies").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_policy_input_names_the_field() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let calendar = app.get(&gm, "/api/v1/calendar-policy").await.body["calendar_id"]
        .as_i64()
        .unwrap();
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "cut-off after the start",
            json!({"cutoff_time": "15:30", "meeting_start": "15:00"}),
            vec!["cutoff_time"],
        ),
        (
            "unknown time zone",
            json!({"timezone": "Mars/Olympus_Mons"}),
            vec!["timezone"],
        ),
        (
            "unknown calendar",
            json!({"calendar_id": 99999}),
            vec!["calendar_id"],
        ),
        (
            "bad weekday",
            json!({"meeting_weekday": "funday"}),
            vec!["meeting_weekday"],
        ),
        (
            "bad time",
            json!({"window_start": "25:00"}),
            vec!["window_start"],
        ),
        (
            "zero duration",
            json!({"window_duration_minutes": 0}),
            vec!["window_duration_minutes"],
        ),
        (
            "several",
            json!({"meeting_weekday": "x", "cutoff_time": "10h"}),
            vec!["cutoff_time", "meeting_weekday"],
        ),
        ("unknown field", json!({"colour": "blue"}), vec!["colour"]),
    ];
    for (what, patch, want) in cases {
        let mut body = policy_body(calendar);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.put(&gm, "/api/v1/calendar-policy", body).await;
        assert_eq!(r.status, 422, "{what}: {r:?}");
        assert_eq!(r.body["code"], "validation_failed", "{what}");
        let mut got = r.fields();
        got.sort();
        assert_eq!(got, want, "{what}: {r:?}");
    }
    let mut body = policy_body(calendar);
    body.as_object_mut().unwrap().remove("timezone");
    let r = app.put(&gm, "/api/v1/calendar-policy", body).await;
    assert_eq!((r.status, r.fields()), (422, vec!["timezone".to_string()]));
    assert_eq!(
        app.count("SELECT count(*) FROM calendar_policies").await,
        1,
        "nothing written"
    );
    // Weekdays and times are normalised.
    let mut body = policy_body(calendar);
    body["meeting_weekday"] = json!("Wed");
    body["meeting_start"] = json!("9:30");
    body["cutoff_time"] = json!("08:00");
    let r = app.put(&gm, "/api/v1/calendar-policy", body).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        (
            r.body["meeting_weekday"].as_str(),
            r.body["meeting_start"].as_str()
        ),
        (Some("wednesday"), Some("09:30"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_policy_changes_never_share_a_version() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let calendar = app.get(&gm, "/api/v1/calendar-policy").await.body["calendar_id"]
        .as_i64()
        .unwrap();
    let put = |i: i32| {
        let mut body = policy_body(calendar);
        body["note"] = json!(format!("versão {i}"));
        app.put(&gm, "/api/v1/calendar-policy", body)
    };
    let (a, b, c, d) = tokio::join!(put(1), put(2), put(3), put(4));
    let mut versions = Vec::new();
    for r in [a, b, c, d] {
        match r.status {
            200 => versions.push(r.body["version"].as_i64().unwrap()),
            409 => assert_eq!(r.body["code"], "concurrent_update", "{r:?}"),
            _ => panic!("{r:?}"),
        }
    }
    let n = versions.len();
    assert!(n >= 1);
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), n, "{versions:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM calendar_policies").await,
        1 + n as i64
    );
}

/// Listing windows and meetings reads: once the coming weeks exist (the daily tick makes
/// them), a listing runs in a read-only transaction; only a range past them creates occurrences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_windows_and_meetings_writes_nothing_once_they_exist() {
    let app = TestApp::spawn().await;
    let now = app.now();
    let (from, to) = (now, now + chrono::Duration::weeks(8));
    // First listing (as the tick would) creates them.
    let gm = app.token("gm").await;
    assert_eq!(app.get(&gm, "/api/v1/windows").await.status, 200);
    assert_eq!(app.get(&gm, "/api/v1/meetings").await.status, 200);
    let mut conn = app.state.pool.get().await.unwrap();
    let (windows, meetings) = conn
        .build_transaction()
        .read_only()
        .run::<_, gmud_api::platform::error::ApiError, _>(async |conn| {
            let w = gmud_api::changes::windows::list(conn, from, to).await?;
            let m = gmud_api::changes::meetings::list(conn, None, from, to, now).await?;
            Ok((w, m))
        })
        .await
        .expect("a listing of existing occurrences only reads");
    assert_eq!((windows.len(), meetings.len()), (8, 8));
    // Past what exists, the read-only transaction refuses the write: a listing creates them.
    let later = to + chrono::Duration::weeks(8);
    let r = conn
        .build_transaction()
        .read_only()
        .run::<_, gmud_api::platform::error::ApiError, _>(async |conn| {
            gmud_api::changes::windows::list(conn, to, later).await
        })
        .await;
    assert!(r.is_err(), "new occurrences are written");
}
