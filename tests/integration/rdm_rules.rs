//! Booking rules, roles, bad input, concurrency and idempotency.
use gmud_tests::{at_sp, json, normal_rdm, TestApp};

async fn approved(app: &TestApp, title: &str, item: i64, minutes: i64, rollback: i64) -> i64 {
    let mut body = normal_rdm(title, item);
    body["estimated_duration_minutes"] = json!(minutes);
    body["estimated_rollback_minutes"] = json!(rollback);
    body["risk"] = json!("low");
    let id = app.rdm_po_approved(body).await;
    // Low risk: the change manager's approval is final.
    app.must("gm", id, "approve", None, "approved").await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_does_not_fit_the_window_is_refused() {
    let app = TestApp::spawn().await;
    let id = approved(&app, "Migração longa", 1, 300, 61).await;
    let wid = app.windows_from(app.now()).await[0]["id"].as_i64().unwrap();
    let r = app
        .act("gm", id, "schedule", Some(json!({"window_id": wid})))
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "window_id");
    assert_eq!(r.body["errors"][0]["code"], "window_too_short");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("361"),
        "{r:?}"
    );
    // Starting later leaves less room: 2h in, 4h left for 5h + 1h.
    let id2 = approved(&app, "Cabe no início", 3, 300, 60).await;
    let late = at_sp(2026, 11, 26, 2, 0).to_rfc3339();
    let r = app
        .act(
            "gm",
            id2,
            "schedule",
            Some(json!({"window_id": wid, "planned_start": late})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "planned_start");
    app.must(
        "gm",
        id2,
        "schedule",
        Some(json!({"window_id": wid})),
        "scheduled",
    )
    .await;
    assert_eq!(
        app.rdm(id).await.body["state"],
        "approved",
        "the refused booking changed nothing"
    );
    // What was approved is what runs: no shrinking it to fit the window afterwards.
    let r = app
        .edit("gm", id, json!({"estimated_rollback_minutes": 60}))
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "not_editable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_changes_on_one_item_in_one_window_are_a_reported_conflict() {
    let app = TestApp::spawn().await;
    let a = approved(&app, "Pacote A", 1, 60, 30).await;
    let b = approved(&app, "Pacote B", 1, 60, 30).await;
    let c = approved(&app, "Outro item", 5, 60, 30).await;
    let wid = app.windows_from(app.now()).await[0]["id"].as_i64().unwrap();
    for id in [a, b, c] {
        app.must(
            "gm",
            id,
            "schedule",
            Some(json!({"window_id": wid})),
            "scheduled",
        )
        .await;
    }
    let gm = app.token("gm").await;
    let w = app.get(&gm, &format!("/api/v1/windows/{wid}")).await;
    assert_eq!(w.status, 200, "{w:?}");
    assert_eq!(
        w.body["conflicts"],
        json!([{"item_id": 1, "rdm_ids": [a, b]}])
    );
    let h = app.get(&gm, &format!("/api/v1/rdms/{b}/history")).await;
    let booking = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "schedule")
        .unwrap()
        .clone();
    assert_eq!(
        booking["detail"]["conflicts"],
        json!([{"item_id": 1, "rdm_ids": [a, b]}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_enforced_on_every_step() {
    let app = TestApp::spawn().await;
    let customer = app.token("customer.acme").await;
    let r = app
        .post(&customer, "/api/v1/rdms", normal_rdm("Cliente tentando", 1))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["code"], "forbidden");
    assert_eq!(app.get(&customer, "/api/v1/rdms").await.status, 403);
    let id = app.create_rdm("tester", normal_rdm("Papéis", 1)).await;
    // Someone else's draft cannot be submitted by a plain requester.
    let r = app.act("requester", id, "submit", None).await;
    assert_eq!(r.status, 403, "{r:?}");
    app.must("tester", id, "submit", None, "submitted").await;
    let r = app.act("tester", id, "start-assessment", None).await;
    assert_eq!(r.status, 403);
    assert!(
        r.body.get("allowed_actions").is_none() && r.body.get("current_state").is_none(),
        "a 403 says nothing about the record: {r:?}"
    );
    let tester = app.token("tester").await;
    let r = app.get(&tester, &format!("/api/v1/rdms/{id}")).await;
    assert_eq!(
        r.body["allowed_actions"],
        json!(["cancel"]),
        "the requester may still cancel"
    );
    app.must("gm", id, "start-assessment", None, "assessment")
        .await;
    let r = app.act("gm", id, "po-approve", None).await;
    assert_eq!(r.status, 403, "only the product owner approves as PO");
    let r = app.act("po", id, "po-approve", None).await;
    assert_eq!(r.status, 409, "technical opinion first: {r:?}");
    assert_eq!(r.body["missing"], json!(["technical_opinion"]));
    let t = app.token("agent").await;
    let r = app.get(&t, &format!("/api/v1/rdms/{id}")).await;
    assert_eq!(
        r.body["allowed_actions"],
        json!([]),
        "nothing for a change agent in assessment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_each_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.token("tester").await;
    let before = app.count("SELECT count(*) FROM rdms").await;
    let r = app
        .post(
            &t,
            "/api/v1/rdms",
            json!({"title": "x", "estimated_duration_minutes": 0, "configuration_item_ids": [1]}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.content_type(), "application/problem+json");
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["estimated_duration_minutes", "title"]);
    let r = app
        .post(
            &t,
            "/api/v1/rdms",
            json!({"title": "Tipo errado", "rdm_type": "urgent"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "rdm_type");
    let r = app
        .post(
            &t,
            "/api/v1/rdms",
            json!({"title": "Campo a mais", "colour": "blue"}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "colour");
    let r = app
        .post(
            &t,
            "/api/v1/rdms",
            json!({"title": "Item inexistente", "configuration_item_ids": [999]}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "configuration_item_ids");
    let raw = app
        .client
        .post(app.url("/api/v1/rdms"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(
        app.count("SELECT count(*) FROM rdms").await,
        before,
        "nothing half-written"
    );
    assert_eq!(app.get(&t, "/api/v1/rdms/abc").await.status, 404);
    let r = app.get(&t, "/api/v1/rdms?limit=0").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_edits_get_409_and_missing_if_match_428() {
    let app = TestApp::spawn().await;
    let id = app.create_rdm("tester", normal_rdm("Versões", 1)).await;
    let t = app.token("tester").await;
    let path = format!("/api/v1/rdms/{id}");
    let r = app
        .patch(&t, &path, json!({"title": "Sem If-Match"}), None)
        .await;
    assert_eq!(r.status, 428);
    assert_eq!(r.body["code"], "if_match_required");
    let r = app
        .patch(
            &t,
            &path,
            json!({"title": "Primeira edição"}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.etag(), "\"2\"");
    let r = app
        .patch(
            &t,
            &path,
            json!({"title": "Edição atrasada"}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["code"], "version_mismatch");
    assert_eq!(r.body["current_version"], 2);
    assert_eq!(app.rdm(id).await.body["title"], "Primeira edição");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_actions_on_one_rdm_give_one_winner_and_one_conflict() {
    let app = TestApp::spawn().await;
    for round in 0..5 {
        let id = app
            .create_rdm("tester", normal_rdm(&format!("Corrida {round}"), 1))
            .await;
        app.must("tester", id, "submit", None, "submitted").await;
        app.must("gm", id, "start-assessment", None, "assessment")
            .await;
        let veto = app.act("gm", id, "veto", Some(json!({"reason": "não"})));
        let cancel = app.act("gm", id, "cancel", Some(json!({"reason": "desistimos"})));
        let (a, b) = tokio::join!(veto, cancel);
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: {a:?} / {b:?}");
        let loser = if a.status == 409 { &a } else { &b };
        assert_eq!(loser.body["code"], "illegal_transition");
        let terminal = app.rdm(id).await.body["state"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(terminal == "rejected" || terminal == "cancelled");
        assert_eq!(loser.body["current_state"], terminal.as_str());
        let n = app
            .count(&format!("SELECT count(*) FROM events WHERE entity = 'rdm' AND entity_id = {id} AND action IN ('veto', 'cancel')"))
            .await;
        assert_eq!(n, 1, "exactly one transition recorded");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_idempotency_key_returns_the_first_result() {
    let app = TestApp::spawn().await;
    let t = app.token("tester").await;
    let send = |key: &'static str, title: &'static str| {
        let rb = app
            .client
            .post(app.url("/api/v1/rdms"))
            .bearer_auth(&t)
            .header("Idempotency-Key", key)
            .json(&normal_rdm(title, 1));
        async move {
            let r = rb.send().await.unwrap();
            let status = r.status().as_u16();
            let replayed = r.headers().contains_key("idempotent-replayed");
            (
                status,
                replayed,
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (s1, rep1, b1) = send("chave-1", "Idempotente").await;
    let (s2, rep2, b2) = send("chave-1", "Idempotente").await;
    assert_eq!((s1, rep1), (201, false));
    assert_eq!((s2, rep2), (201, true));
    assert_eq!(b1["id"], b2["id"]);
    // Same key, different request: refused.
    let (s3, _, b3) = send("chave-1", "Outra coisa").await;
    assert_eq!(s3, 409);
    assert_eq!(b3["code"], "idempotency_key_reused");
    // Concurrent duplicates still make one RDM.
    let (x, y) = tokio::join!(send("chave-2", "Corrida"), send("chave-2", "Corrida"));
    assert_eq!((x.0, y.0), (201, 201));
    assert_eq!(x.2["id"], y.2["id"]);
    assert_eq!(app.count("SELECT count(*) FROM rdms").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_are_refused_by_field_not_crashed_on() {
    // PostgreSQL text cannot hold U+0000; the fuzzer found these answered 500.
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "",
            "/api/v1/auth/token",
            json!({"username": "a\u{0}b", "password": "x"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "username");
    let t = app.token("tester").await;
    let r = app
        .post(&t, "/api/v1/rdms", normal_rdm("Título\u{0}", 1))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "title");
    let r = app.get(&t, "/api/v1/rdms?q=a%00b").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "q");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standard_change_runs_its_templates_plan_only() {
    let app = TestApp::spawn().await;
    let t = app.token("requester").await;
    let r = app
        .post(
            &t,
            "/api/v1/rdms",
            json!({"rdm_type": "standard", "title": "Padrão com outro plano", "standard_template_id": 1,
                   "implementation_plan": "DROP DATABASE producao", "estimated_rollback_minutes": 0,
                   "configuration_item_ids": [1]}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(
        r.fields(),
        ["implementation_plan", "estimated_rollback_minutes"]
    );
    assert_eq!(r.body["errors"][0]["code"], "template_owned");
    let id = app
        .create_rdm(
            "requester",
            json!({"rdm_type": "standard", "title": "Padrão", "standard_template_id": 1, "configuration_item_ids": [1]}),
        )
        .await;
    let r = app
        .edit("requester", id, json!({"rollback_plan": "nenhum"}))
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["code"], "template_owned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committee_that_cannot_reach_its_policy_is_not_asked() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    // The CME (2 members) set to need 3 approvals.
    let r = app
        .patch(
            &admin,
            "/api/v1/committees/2",
            json!({"approval_policy": "n_of_m", "approval_n": 3}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let mut body = normal_rdm("Emergência sem quórum possível", 1);
    body["rdm_type"] = json!("emergency");
    body["homologation_evidence"] = json!("ok");
    let id = app.create_rdm("tester", body).await;
    app.must("tester", id, "submit", None, "submitted").await;
    app.must("gm", id, "start-assessment", None, "assessment")
        .await;
    app.edit("cloud1", id, json!({"technical_opinion": "Viável"}))
        .await;
    let r = app.act("gm", id, "send-to-committee", None).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "committee_cannot_decide");
    assert_eq!(app.rdm(id).await.body["state"], "assessment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_into_a_running_window_counts_what_is_left() {
    let app = TestApp::spawn().await;
    let long = approved(&app, "Longa", 1, 300, 60).await;
    let short = approved(&app, "Curta", 3, 30, 30).await;
    let wid = app.windows_from(app.now()).await[0]["id"].as_i64().unwrap();
    // Thursday 05:00: one hour of the window is left.
    app.set_now(at_sp(2026, 11, 26, 5, 0));
    let r = app
        .act("gm", long, "schedule", Some(json!({"window_id": wid})))
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["code"], "window_too_short");
    let r = app
        .act(
            "gm",
            short,
            "schedule",
            Some(
                json!({"window_id": wid, "planned_start": at_sp(2026, 11, 26, 1, 0).to_rfc3339()}),
            ),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "planned_start");
    let r = app
        .must(
            "gm",
            short,
            "schedule",
            Some(json!({"window_id": wid})),
            "scheduled",
        )
        .await;
    assert_eq!(r.body["planned_start"], "2026-11-26T08:00:00Z");
    app.must("agent", short, "start-execution", None, "in_execution")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_change_manager_classifies_once_submitted() {
    let app = TestApp::spawn().await;
    let id = app
        .create_rdm("tester", normal_rdm("Classificação", 1))
        .await;
    assert_eq!(
        app.edit("tester", id, json!({"risk": "high"})).await.status,
        200,
        "the draft is the requester's"
    );
    app.must("tester", id, "submit", None, "submitted").await;
    let r = app.edit("tester", id, json!({"risk": "low"})).await;
    assert_eq!(r.status, 403, "{r:?}");
    let r = app.edit("gm", id, json!({"risk": "low"})).await;
    assert_eq!((r.status, r.body["risk"].as_str()), (200, Some("low")));
    // Required texts cannot be blanked either.
    let r = app.edit("gm", id, json!({"rollback_plan": "   "})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "rollback_plan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_notice_covers_the_items_it_was_given_for() {
    let app = TestApp::spawn().await;
    let mut body = normal_rdm("Aviso ao cliente", 1);
    body["rdm_type"] = json!("emergency");
    let id = app.create_rdm("tester", body).await;
    let gm = app.token("gm").await;
    let path = format!("/api/v1/rdms/{id}/customer-notification");
    let r = app
        .post(
            &gm,
            &path,
            json!({"note": "aviso", "notified_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "notified_at");
    let r = app.post(&gm, &path, json!({"note": "ACME avisada"})).await;
    assert!(r.body["customers_notified_at"].is_string(), "{r:?}");
    // Another organisation's item joins the change: the notice no longer covers everyone.
    let r = app
        .edit("tester", id, json!({"configuration_item_ids": [1, 7]}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body["customers_notified_at"].is_null());
}
