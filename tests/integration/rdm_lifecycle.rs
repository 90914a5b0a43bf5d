//! RDMs driven through the API from draft to their end, as SPEC §3 describes.
use gmud_tests::{at_sp, json, normal_rdm, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_rdm_goes_from_draft_to_closed() {
    let app = TestApp::spawn().await;
    // Monday 09:00: ready before Tuesday's 10:00 cut-off.
    let id = app
        .rdm_awaiting_committee("Atualizar leiaute eSocial", 1)
        .await;
    let r = app.rdm(id).await;
    assert_eq!(r.body["priority"], "high", "medium impact × high urgency");
    let meeting = r.body["meeting_id"].as_i64().expect("booked on a meeting");
    let gm = app.token("gm").await;
    let m = app.get(&gm, &format!("/api/v1/meetings/{meeting}")).await;
    assert_eq!(m.status, 200, "{m:?}");
    assert_eq!(m.body["starts_at"], "2026-11-24T17:00:00Z");

    // Consensual: one approval is not enough.
    let t1 = app.token("cm1").await;
    let r = app
        .post(
            &t1,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["state"], "awaiting_committee");
    let t2 = app.token("cm2").await;
    let r = app
        .post(
            &t2,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.body["state"], "approved", "{r:?}");

    // Book into Thursday's window (00:00–06:00 São Paulo).
    let windows = app.windows_from(app.now()).await;
    let thursday = &windows[0];
    assert_eq!(thursday["starts_at"], "2026-11-26T03:00:00Z");
    let wid = thursday["id"].as_i64().unwrap();
    app.must(
        "gm",
        id,
        "schedule",
        Some(json!({"window_id": wid})),
        "scheduled",
    )
    .await;

    // Not before the window opens.
    let r = app.act("agent", id, "start-execution", None).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "transition_blocked");
    assert!(r.body.get("missing").is_none(), "nothing to fill in: {r:?}");
    // The refusal names the window and its times.
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("window {wid}")), "{detail}");
    assert!(
        detail.contains("2026-11-26T03:00:00Z to 2026-11-26T09:00:00Z"),
        "{detail}"
    );
    assert!(
        !detail.contains("unschedule"),
        "the window is still to come: {detail}"
    );

    app.set_now(at_sp(2026, 11, 26, 0, 30));
    app.must("agent", id, "start-execution", None, "in_execution")
        .await;
    app.must("agent", id, "complete", None, "implemented").await;
    let r = app.act("gm", id, "close", None).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["missing"], json!(["review"]));
    app.must(
        "gm",
        id,
        "close",
        Some(json!({"review": "Executada sem incidentes"})),
        "closed",
    )
    .await;

    // The clock moved past the first tokens' expiry: log in again.
    let gm = app.token("gm").await;
    let r = app.get(&gm, &format!("/api/v1/rdms/{id}")).await;
    assert_eq!(r.body["allowed_actions"], json!([]));
    let h = app.get(&gm, &format!("/api/v1/rdms/{id}/history")).await;
    let actions: Vec<&str> = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "submit",
            "start_assessment",
            "edit",
            "po_approve",
            "send_to_committee",
            "vote",
            "vote",
            "committee_approve",
            "schedule",
            "start_execution",
            "complete",
            "close"
        ]
    );
    let last = h.body.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["from_state"].as_str(), last["to_state"].as_str()),
        (Some("implemented"), Some("closed"))
    );
    assert_eq!(
        last["at"], "2026-11-26T03:30:00Z",
        "history reads the injected clock"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_manager_vetoes_with_a_reason() {
    let app = TestApp::spawn().await;
    let id = app
        .create_rdm("tester", normal_rdm("Mudança arriscada", 1))
        .await;
    app.must("tester", id, "submit", None, "submitted").await;
    app.must("gm", id, "start-assessment", None, "assessment")
        .await;
    let r = app.act("gm", id, "veto", None).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "reason");
    let r = app
        .must(
            "gm",
            id,
            "veto",
            Some(json!({"reason": "Janela de fechamento fiscal"})),
            "rejected",
        )
        .await;
    assert_eq!(r.body["allowed_actions"], json!([]));
    let r = app.act("po", id, "po-approve", None).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["code"], "illegal_transition");
    assert_eq!(r.body["current_state"], "rejected");
    assert_eq!(r.body["allowed_actions"], json!([]));
    let gm = app.token("gm").await;
    let h = app.get(&gm, &format!("/api/v1/rdms/{id}/history")).await;
    let veto = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "veto")
        .unwrap()
        .clone();
    assert_eq!(veto["reason"], "Janela de fechamento fiscal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_committee_rejection_vetoes() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Troca de servidor", 3).await;
    let t1 = app.token("cm1").await;
    let r = app
        .post(
            &t1,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "reject"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "reason");
    let r = app
        .post(
            &t1,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "reject", "reason": "Conflita com o fechamento"}),
        )
        .await;
    assert_eq!(r.body["state"], "rejected", "{r:?}");
    // A member outside the committee cannot vote.
    let id2 = app.rdm_awaiting_committee("Outra", 4).await;
    let t3 = app.token("cm3").await;
    let r = app
        .post(
            &t3,
            &format!("/api/v1/rdms/{id2}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    // The voters are fixed while the committee votes...
    let cm3 = app.user_id("cm3").await;
    let r = app
        .edit("gm", id2, json!({"involved_member_ids": [cm3]}))
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "committee_voting");
    // ...but an RDM that names cm3 as involved from the start makes them a required voter.
    let mut body = normal_rdm("Envolve cm3", 4);
    body["involved_member_ids"] = json!([cm3]);
    let id2 = app.committee_for(app.rdm_po_approved(body).await).await;
    let votes = app.get(&t3, &format!("/api/v1/rdms/{id2}/votes")).await;
    assert_eq!(
        votes.body["required_voter_ids"].as_array().unwrap().len(),
        3
    );
    for u in ["cm1", "cm2"] {
        let t = app.token(u).await;
        let r = app
            .post(
                &t,
                &format!("/api/v1/rdms/{id2}/votes"),
                json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(
            r.body["state"], "awaiting_committee",
            "{u}: cm3 has not voted yet"
        );
    }
    let r = app
        .post(
            &t3,
            &format!("/api/v1/rdms/{id2}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.body["state"], "approved");
    let r = app
        .post(
            &t3,
            &format!("/api/v1/rdms/{id2}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 409, "no vote once decided: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_runs_outside_the_window_only_after_customers_are_notified() {
    let app = TestApp::spawn().await;
    let mut body = normal_rdm("Correção emergencial do certificado", 1);
    body["rdm_type"] = json!("emergency");
    let id = app.create_rdm("tester", body).await;
    app.must("tester", id, "submit", None, "submitted").await;
    app.must("gm", id, "start-assessment", None, "assessment")
        .await;
    // The technical opinion, homologation and rollback plans come before the CME is asked.
    let r = app.act("gm", id, "send-to-committee", None).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body["missing"],
        json!(["technical_opinion", "homologation_evidence"])
    );
    let r = app
        .edit(
            "tester",
            id,
            json!({"homologation_evidence": "Validado em homologação às 08h"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .edit(
            "cloud1",
            id,
            json!({"technical_opinion": "Troca do certificado é segura"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .must("gm", id, "send-to-committee", None, "awaiting_committee")
        .await;
    assert!(
        r.body["meeting_id"].is_null(),
        "the CME decides without a meeting"
    );
    for u in ["cme1", "cme2"] {
        let t = app.token(u).await;
        app.post(
            &t,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    }
    assert_eq!(app.rdm(id).await.body["state"], "approved");
    // Monday 09:00 is outside any window: allowed for an emergency, but not before the notice.
    let r = app.act("agent", id, "start-execution", None).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(
        r.body["missing"],
        json!(["POST /api/v1/rdms/{id}/customer-notification"])
    );
    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            &format!("/api/v1/rdms/{id}/customer-notification"),
            json!({"note": "E-mail a ACME e aviso no portal"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    app.must("agent", id, "start-execution", None, "in_execution")
        .await;
    app.must(
        "agent",
        id,
        "fail",
        Some(json!({"reason": "Certificado rejeitado"})),
        "failed",
    )
    .await;
    app.must("agent", id, "roll-back", None, "rolled_back")
        .await;
    app.must(
        "gm",
        id,
        "close",
        Some(json!({"review": "Revertida; nova RDM aberta"})),
        "closed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standard_change_is_approved_on_submission_and_still_booked() {
    let app = TestApp::spawn().await;
    let tester = app.token("tester").await;
    let r = app
        .post(&tester, "/api/v1/rdms", json!({"rdm_type": "standard", "title": "Atualização de ambiente ACME", "configuration_item_ids": [2]}))
        .await;
    assert_eq!(r.status, 422, "a standard change names its template: {r:?}");
    assert_eq!(r.body["errors"][0]["field"], "standard_template_id");
    let r = app
        .post(
            &tester,
            "/api/v1/rdms",
            json!({"rdm_type": "standard", "title": "Atualização de ambiente ACME", "standard_template_id": 1, "configuration_item_ids": [2]}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        r.body["estimated_duration_minutes"], 60,
        "filled from the template"
    );
    let id = r.body["id"].as_i64().unwrap();
    app.must("tester", id, "submit", None, "approved").await;
    let windows = app.windows_from(app.now()).await;
    let wid = windows[0]["id"].as_i64().unwrap();
    app.must(
        "gm",
        id,
        "schedule",
        Some(json!({"window_id": wid})),
        "scheduled",
    )
    .await;
    let gm = app.token("gm").await;
    let h = app.get(&gm, &format!("/api/v1/rdms/{id}/history")).await;
    let submit = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "submit")
        .unwrap()
        .clone();
    assert_eq!(
        (submit["from_state"].as_str(), submit["to_state"].as_str()),
        (Some("draft"), Some("approved"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ten_oclock_cutoff_decides_the_meeting() {
    let app = TestApp::spawn().await;
    let a = app.rdm_po_approved(normal_rdm("Pronta às 09:59", 1)).await;
    let b = app.rdm_po_approved(normal_rdm("Pronta às 10:00", 3)).await;
    app.set_now(at_sp(2026, 11, 24, 9, 59));
    let ra = app
        .must("gm", a, "send-to-committee", None, "awaiting_committee")
        .await;
    app.set_now(at_sp(2026, 11, 24, 10, 0));
    let rb = app
        .must("gm", b, "send-to-committee", None, "awaiting_committee")
        .await;
    let gm = app.token("gm").await;
    let ma = app
        .get(&gm, &format!("/api/v1/meetings/{}", ra.body["meeting_id"]))
        .await;
    let mb = app
        .get(&gm, &format!("/api/v1/meetings/{}", rb.body["meeting_id"]))
        .await;
    assert_eq!(
        ma.body["starts_at"], "2026-11-24T17:00:00Z",
        "09:59 makes this Tuesday"
    );
    assert_eq!(
        mb.body["starts_at"], "2026-12-01T17:00:00Z",
        "10:00 goes to next week"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_during_the_vote_asks_the_committee_again() {
    let app = TestApp::spawn().await;
    let id = app
        .rdm_awaiting_committee("Plano muda durante a votação", 1)
        .await;
    let vote = |u: &'static str| {
        let app = &app;
        async move {
            let t = app.token(u).await;
            app.post(
                &t,
                &format!("/api/v1/rdms/{id}/votes"),
                json!({"decision": "approve"}),
            )
            .await
        }
    };
    let first = vote("cm1").await;
    assert_eq!(first.body["state"], "awaiting_committee");
    let revision = first.body["revision"].as_i64().unwrap();
    let r = app
        .edit(
            "tester",
            id,
            json!({"rollback_plan": "Restaurar snapshot e reprocessar a fila"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body["revision"],
        revision + 1,
        "a content edit is a new revision"
    );
    // cm1 approved the previous revision: with cm2's vote on revision 2 the RDM is still undecided.
    assert_eq!(vote("cm2").await.body["state"], "awaiting_committee");
    let gm = app.token("gm").await;
    let t = app.get(&gm, &format!("/api/v1/rdms/{id}/votes")).await;
    assert_eq!(t.body["approvals"], 1);
    assert_eq!(t.body["pending_voter_ids"].as_array().unwrap().len(), 1);
    // cm1 votes again on what the RDM now says; a second vote on one revision is refused.
    assert_eq!(vote("cm1").await.body["state"], "approved");
    let again = vote("cm2").await;
    assert_eq!(again.status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_committee_settles_what_its_votes_now_decide() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Comitê muda", 1).await;
    let t1 = app.token("cm1").await;
    let r = app
        .post(
            &t1,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.body["state"], "awaiting_committee");
    let admin = app.token("admin").await;
    let (cm1, cm2) = (app.user_id("cm1").await, app.user_id("cm2").await);
    // cm2 leaves the CM: cm1's approval is now everyone's.
    let r = app
        .delete(&admin, &format!("/api/v1/committees/1/members/{cm2}"))
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(app.rdm(id).await.body["state"], "approved");
    // A committee left with no one to decide a waiting RDM is refused, and nothing changes.
    let id2 = app.rdm_awaiting_committee("Outra", 3).await;
    let r = app
        .delete(&admin, &format!("/api/v1/committees/1/members/{cm1}"))
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "committee_in_use");
    let c = app.get(&admin, "/api/v1/committees/1").await;
    assert_eq!(c.body["members"].as_array().unwrap().len(), 1, "{c:?}");
    assert_eq!(app.rdm(id2).await.body["state"], "awaiting_committee");
}
