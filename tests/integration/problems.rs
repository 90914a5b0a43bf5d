//! Problems, known errors and postmortems (SPEC §5) over HTTP against a real PostgreSQL, with
//! the injected clock and the SMTP sink.
use gmud_tests::{at_sp, json, Resp, TestApp};
use serde_json::Value;

async fn incident(app: &TestApp, title: &str) -> i64 {
    let t = app.token("rh1").await;
    let items = app.get(&t, "/api/v1/support-items").await;
    let item = items
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "esocial")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let c = app.token("customer.acme").await;
    let r = app
        .post(
            &c,
            "/api/v1/tickets",
            json!({"item_id": item, "title": title, "description": "Eventos S-1200 rejeitados", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    r.body["id"].as_i64().unwrap()
}

async fn problem(app: &TestApp, user: &str, body: Value) -> Resp {
    let t = app.token(user).await;
    app.post(&t, "/api/v1/problems", body).await
}

async fn act(app: &TestApp, id: i64, action: &str, body: Value) -> Resp {
    let t = app.token("rh1").await;
    app.post(&t, &format!("/api/v1/problems/{id}/{action}"), body)
        .await
}

async fn must(app: &TestApp, id: i64, action: &str, body: Value, to: &str) -> Resp {
    let r = act(app, id, action, body).await;
    assert_eq!(r.status, 200, "{action}: {r:?}");
    assert_eq!(r.body["state"], to, "{action}");
    r
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// An RDM driven to `in_execution` in Thursday's window (the clock is left at 00:30 Thursday).
async fn rdm_in_execution(app: &TestApp) -> i64 {
    let id = app
        .rdm_awaiting_committee("Corrigir o envio do S-1200", 1)
        .await;
    for member in ["cm1", "cm2"] {
        let t = app.token(member).await;
        let r = app
            .post(
                &t,
                &format!("/api/v1/rdms/{id}/votes"),
                json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
    }
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
    app.set_now(at_sp(2026, 11, 26, 0, 30));
    app.forget_tokens();
    app.must("agent", id, "start-execution", None, "in_execution")
        .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_problem_goes_from_new_to_closed_and_the_shipped_fix_resolves_it() {
    let app = TestApp::spawn().await;
    let i1 = incident(&app, "eSocial rejeita S-1200").await;
    let i2 = incident(&app, "S-1200 rejeitado de novo").await;
    let r = problem(
        &app,
        "rh1",
        json!({"title": "Certificado A1 expira sem aviso", "incident_ids": [i1]}),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["number"], format!("PRB-{id:06}"));
    assert_eq!(r.body["state"], "new");
    assert_eq!(r.body["owner_id"], app.user_id("rh1").await);
    assert_eq!(r.body["incidents"][0]["id"], i1);

    // Linked from the incident's side too, and visible from it.
    let t = app.token("rh1").await;
    let r = app
        .post(
            &t,
            &format!("/api/v1/tickets/{i2}/problem"),
            json!({"problem_id": id}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["incidents"].as_array().unwrap().len(), 2);
    let r = app.get(&t, &format!("/api/v1/tickets/{i2}/problem")).await;
    assert_eq!(r.body["problem"]["id"], id, "{r:?}");

    // Illegal: 409 with the state and what may be done; missing fields named.
    let r = act(&app, id, "start-fix", json!({})).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "illegal_transition");
    assert_eq!(r.body["current_state"], "new");
    assert_eq!(
        strs(&r.body["allowed_actions"]),
        ["analyse", "record_known_error", "close_duplicate", "cancel"]
    );
    let r = act(&app, id, "record-known-error", json!({})).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "transition_blocked");
    assert_eq!(strs(&r.body["missing"]), ["root_cause", "workaround"]);

    must(&app, id, "analyse", json!({}), "root_cause_analysis").await;
    let r = must(
        &app,
        id,
        "record-known-error",
        json!({"root_cause": "O certificado A1 vence e o envio falha sem alerta",
               "workaround": "Reenviar o lote após renovar o certificado"}),
        "known_error",
    )
    .await;
    // The known error is in the knowledge base at once.
    let article = r.body["known_error_article_id"]
        .as_i64()
        .expect("known-error article");
    let a = app.get(&t, &format!("/api/v1/kb/articles/{article}")).await;
    assert_eq!(a.body["kind"], "known_error");
    assert_eq!(a.body["state"], "published");
    assert!(
        a.body["body"].as_str().unwrap().contains("Reenviar o lote"),
        "{a:?}"
    );

    // The RDM must exist; then the fix is in progress, and cannot be resolved before it ships.
    let r = act(&app, id, "start-fix", json!({"rdm_id": 999999})).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "rdm_id");
    let rdm = rdm_in_execution(&app).await;
    let t = app.token("rh1").await;
    let r = must(
        &app,
        id,
        "start-fix",
        json!({"rdm_id": rdm}),
        "fix_in_progress",
    )
    .await;
    assert_eq!(r.body["fix_rdm"]["number"], format!("RDM-{rdm:06}"));
    assert_eq!(r.body["fix_rdm"]["implemented"], false);
    let r = act(&app, id, "resolve", json!({})).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "transition_blocked");

    // The RDM is implemented: the problem resolves by itself and its owner is told, once.
    app.must("agent", rdm, "complete", None, "implemented")
        .await;
    app.run_jobs().await;
    let r = app.get(&t, &format!("/api/v1/problems/{id}")).await;
    assert_eq!(r.body["state"], "resolved", "{r:?}");
    assert_eq!(r.body["fix_rdm"]["implemented"], true);
    assert_eq!(strs(&r.body["allowed_actions"]), ["close"]);
    app.run_jobs().await;
    let told: Vec<_> = app
        .mails_to("rh1")
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Correção implementada"))
        .collect();
    assert_eq!(told.len(), 1, "the owner is told once");
    assert!(
        told[0].text.contains(&format!("RDM-{rdm:06}")),
        "{}",
        told[0].text
    );

    let r = must(&app, id, "close", json!({}), "closed").await;
    assert_eq!(r.body["close_kind"], "fixed");
    assert_eq!(strs(&r.body["allowed_actions"]), Vec::<String>::new());
    let r = act(&app, id, "analyse", json!({})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["current_state"], "closed");
    // A closed problem takes no more incidents.
    let i3 = incident(&app, "Outro S-1200").await;
    let r = app
        .post(
            &t,
            &format!("/api/v1/problems/{id}/incidents"),
            json!({"ticket_id": i3}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "problem_closed");

    // The history is the event log: every step, in order.
    let actions = app
        .count(&format!(
            "SELECT count(*) FROM events WHERE entity = 'problem' AND entity_id = {id} \
             AND action IN ('open', 'link_incident', 'analyse', 'record_known_error', 'start_fix', 'resolve', 'close')"
        ))
        .await;
    // open, two links (one from each side), analyse, known error, fix, resolve, close.
    assert_eq!(actions, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workaround_reaches_the_open_incidents_once() {
    let app = TestApp::spawn().await;
    let assigned = incident(&app, "Folha não fecha").await;
    let unassigned = incident(&app, "Folha não fecha (filial)").await;
    let resolved = incident(&app, "Folha não fechava").await;
    let t = app.token("rh1").await;
    for (id, action, body) in [
        (assigned, "start", json!({})),
        (resolved, "start", json!({})),
        (resolved, "resolve", json!({"solution": "Reprocessado"})),
    ] {
        let r = app
            .post(&t, &format!("/api/v1/tickets/{id}/{action}"), body)
            .await;
        assert_eq!(r.status, 200, "{r:?}");
    }
    let r = problem(
        &app,
        "coord",
        json!({"title": "Fechamento da folha trava", "owner_id": app.user_id("rh1").await,
               "incident_ids": [assigned, unassigned, resolved]}),
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/problems/{id}/communicate-workaround");

    // No workaround yet.
    let r = app
        .post(&t, &path, json!({"include_customers": true}))
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "no_workaround");

    must(
        &app,
        id,
        "record-known-error",
        json!({"root_cause": "Bloqueio na tabela de eventos", "workaround": "Fechar por filial"}),
        "known_error",
    )
    .await;
    app.run_jobs().await;
    let before_rh1 = app.mails_to("rh1").await.len();
    let r = app
        .post(&t, &path, json!({"include_customers": true}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    // The open incidents only: the resolved one is left alone.
    let sent: Vec<i64> = r.body["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ticket_id"].as_i64().unwrap())
        .collect();
    assert_eq!(sent, [assigned, unassigned]);
    assert!(r.body["problem"]["workaround_communicated_at"].is_string());

    // Once: a second request is refused and mails nobody.
    let r = app
        .post(&t, &path, json!({"include_customers": true}))
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "workaround_already_communicated");
    app.run_jobs().await;
    let to_customer: Vec<_> = app
        .mails_to("customer.acme")
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Solução de contorno"))
        .collect();
    assert_eq!(to_customer.len(), 2, "one per open incident");
    assert!(to_customer
        .iter()
        .all(|m| m.text.contains("Fechar por filial")));
    let to_rh1 = app.mails_to("rh1").await;
    assert_eq!(to_rh1.len() - before_rh1, 1, "the one assignee, once");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM events WHERE entity = 'ticket' AND entity_id = {resolved} AND action = 'workaround_communicated'"
        ))
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_and_links_are_refused_or_moved_by_the_rules() {
    let app = TestApp::spawn().await;
    let t = app.token("rh1").await;
    let i1 = incident(&app, "Portal lento").await;
    let keep = problem(&app, "rh1", json!({"title": "Lentidão no portal"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let dup = problem(
        &app,
        "rh1",
        json!({"title": "Portal lento às segundas", "incident_ids": [i1]}),
    )
    .await
    .body["id"]
        .as_i64()
        .unwrap();

    // Bad input names every bad field, and nothing is written.
    let before = app.count("SELECT count(*) FROM problems").await;
    let r = problem(
        &app,
        "rh1",
        json!({"title": "  ", "item_id": 999999, "owner_id": app.user_id("customer.acme").await, "incident_ids": [i1, 999999]}),
    )
    .await;
    assert_eq!(r.status, 422, "{r:?}");
    let fields = r.fields();
    assert!(fields.contains(&"title".to_string()), "{fields:?}");
    let r = problem(
        &app,
        "rh1",
        json!({"title": "Válido", "item_id": 999999, "owner_id": app.user_id("customer.acme").await, "incident_ids": [i1, 999999]}),
    )
    .await;
    assert_eq!(r.status, 422, "{r:?}");
    let fields = r.fields();
    for f in ["item_id", "owner_id"] {
        assert!(fields.contains(&f.to_string()), "{fields:?}");
    }
    let r = problem(
        &app,
        "rh1",
        json!({"title": "Válido", "incident_ids": [i1, 999999]}),
    )
    .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["incident_ids[0]", "incident_ids[1]"], "{r:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM problems").await,
        before,
        "nothing half-written"
    );

    // An incident belongs to one problem; a child is not linked (its parent is).
    let r = app
        .post(
            &t,
            &format!("/api/v1/problems/{keep}/incidents"),
            json!({"ticket_id": i1}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "incident_has_problem");
    let r = app
        .post(&t, &format!("/api/v1/tickets/{i1}/start"), json!({}))
        .await;
    assert_eq!(r.status, 200);
    let child = app
        .post(
            &t,
            &format!("/api/v1/tickets/{i1}/children"),
            json!({"kind": "internal", "team": "rh", "title": "Analisar logs"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            &t,
            &format!("/api/v1/problems/{keep}/incidents"),
            json!({"ticket_id": child}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "not_linkable");

    // Closing as a duplicate needs the other problem and a reason; its incidents move.
    let r = act(&app, dup, "close-duplicate", json!({})).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(strs(&r.body["missing"]), ["duplicate_of", "reason"]);
    let r = act(
        &app,
        dup,
        "close-duplicate",
        json!({"duplicate_of": dup, "reason": "x"}),
    )
    .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["duplicate_of"]);
    let r = must(
        &app,
        dup,
        "close-duplicate",
        json!({"duplicate_of": keep, "reason": "Mesma causa"}),
        "closed",
    )
    .await;
    assert_eq!(r.body["close_kind"], "duplicate");
    assert_eq!(r.body["duplicate_of"], keep);
    assert!(r.body["incidents"].as_array().unwrap().is_empty());
    let r = app.get(&t, &format!("/api/v1/problems/{keep}")).await;
    assert_eq!(r.body["incidents"][0]["id"], i1, "{r:?}");
    // Unlinking from either side.
    let r = app
        .delete(&t, &format!("/api/v1/problems/{keep}/incidents/{i1}"))
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    let r = app.get(&t, &format!("/api/v1/tickets/{i1}/problem")).await;
    assert!(r.body["problem"].is_null(), "{r:?}");
    // From the incident's side: an unknown problem is a bad field, an unknown incident absent.
    let r = app
        .post(
            &t,
            &format!("/api/v1/tickets/{i1}/problem"),
            json!({"problem_id": 999999}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["problem_id"]);
    let r = app
        .post(
            &t,
            "/api/v1/tickets/999999/problem",
            json!({"problem_id": keep}),
        )
        .await;
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(
        app.get(&t, "/api/v1/tickets/999999/problem").await.status,
        404
    );

    // Accepting the risk and cancelling need a reason; customers never see problems.
    let r = act(&app, keep, "cancel", json!({})).await;
    assert_eq!(strs(&r.body["missing"]), ["reason"]);
    let r = must(
        &app,
        keep,
        "cancel",
        json!({"reason": "Não era um problema"}),
        "closed",
    )
    .await;
    assert_eq!(r.body["close_kind"], "cancelled");
    assert_eq!(r.body["close_reason"], "Não era um problema");
    let c = app.token("customer.acme").await;
    assert_eq!(app.get(&c, "/api/v1/problems").await.status, 403);
    assert_eq!(
        app.get(&c, &format!("/api/v1/problems/{keep}"))
            .await
            .status,
        403
    );
    let r = app.get(&t, "/api/v1/problems?state=closed").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postmortem_timeline_is_the_event_log_and_exports_as_markdown() {
    let app = TestApp::spawn().await;
    // Opened Monday 09:00; resolved Monday 15:30: 6.5 hours, all of them business hours.
    let i1 = incident(&app, "eSocial fora do ar").await;
    app.set_now(at_sp(2026, 11, 23, 10, 0));
    app.forget_tokens();
    let t = app.token("rh1").await;
    assert_eq!(
        app.post(&t, &format!("/api/v1/tickets/{i1}/start"), json!({}))
            .await
            .status,
        200
    );
    let p = problem(
        &app,
        "rh1",
        json!({"title": "Queda do eSocial", "incident_ids": [i1]}),
    )
    .await
    .body["id"]
        .as_i64()
        .unwrap();
    must(&app, p, "analyse", json!({}), "root_cause_analysis").await;
    app.set_now(at_sp(2026, 11, 23, 15, 30));
    app.forget_tokens();
    let t = app.token("rh1").await;
    let r = app
        .post(
            &t,
            &format!("/api/v1/tickets/{i1}/resolve"),
            json!({"solution": "Serviço reiniciado"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");

    let r = app
        .post(&t, "/api/v1/postmortems", json!({"problem_id": p}))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let pm = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["title"], "Queda do eSocial");
    assert!(r.body["blameless"]
        .as_str()
        .unwrap()
        .contains("sem culpados"));
    let impact = &r.body["measured_impact"];
    assert_eq!(impact["incidents"], 1);
    assert!(
        impact["organizations"][0]["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("acme"),
        "{impact}"
    );
    assert_eq!(impact["services"].as_array().unwrap().len(), 1);
    assert_eq!(impact["wall_clock_hours"], 6.5);
    assert_eq!(impact["business_hours"], 6.5);
    // One per problem.
    let r = app
        .post(&t, "/api/v1/postmortems", json!({"problem_id": p}))
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "postmortem_exists");
    let r = app
        .post(
            &t,
            "/api/v1/postmortems",
            json!({"problem_id": p, "ticket_id": i1}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");

    // The timeline is exactly the event log of the incident and the problem, in order.
    let r = app.get(&t, &format!("/api/v1/postmortems/{pm}")).await;
    let events: Vec<i64> = r.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "event")
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let logged = app
        .count(&format!(
            "SELECT count(*) FROM events WHERE (entity = 'ticket' AND entity_id = {i1}) OR (entity = 'problem' AND entity_id = {p})"
        ))
        .await;
    assert_eq!(events.len() as i64, logged);
    let first = app
        .count(&format!(
            "SELECT min(id) FROM events WHERE (entity = 'ticket' AND entity_id = {i1}) OR (entity = 'problem' AND entity_id = {p})"
        ))
        .await;
    assert_eq!(events[0], first, "oldest first");
    assert!(
        events.windows(2).all(|w| w[0] < w[1]),
        "in the log's order: {events:?}"
    );

    // Notes sit beside the events; causes and actions with owner and carrier.
    let r = app
        .post(
            &t,
            &format!("/api/v1/postmortems/{pm}/notes"),
            json!({"at": at_sp(2026, 11, 23, 9, 30), "body": "Alerta do monitoramento ignorado"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let note = r.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["source"] == "note")
        .unwrap();
    let at = |i: usize| r.body["timeline"][i]["at"].as_str().unwrap().to_string();
    assert!(
        at(note - 1) <= at(note) && at(note) <= at(note + 1),
        "in time order"
    );
    let etag = r.etag();
    let r = app
        .patch(&t, &format!("/api/v1/postmortems/{pm}"), json!({"summary": "O eSocial ficou fora por 6h30.", "causes": ["Certificado vencido", "Alerta sem dono"]}), Some(&etag))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .post(&t, &format!("/api/v1/postmortems/{pm}/actions"), json!({"title": "Alertar 30 dias antes do vencimento", "owner_id": 999999, "due_on": "2026-12-15"}))
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["owner_id"]);
    let r = app
        .post(&t, &format!("/api/v1/postmortems/{pm}/actions"), json!({"title": "Alertar 30 dias antes do vencimento", "owner_id": app.user_id("cloud1").await, "due_on": "2026-12-15", "ticket_id": i1}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let action = r.body["actions"][0]["id"].as_i64().unwrap();
    let r = app
        .patch(
            &t,
            &format!("/api/v1/postmortems/{pm}/actions/{action}"),
            json!({"state": "done"}),
            None,
        )
        .await;
    assert_eq!(r.body["actions"][0]["state"], "done", "{r:?}");

    let r = app
        .get(&t, &format!("/api/v1/postmortems/{pm}/markdown"))
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.content_type().starts_with("text/markdown"),
        "{}",
        r.content_type()
    );
    let md = r.body.as_str().expect("markdown text").to_string();
    for expected in [
        "# Postmortem: Queda do eSocial",
        "sem culpados",
        "## Linha do tempo",
        &format!("INC-{i1:06}"),
        "Nota: Alerta do monitoramento ignorado",
        "1. Certificado vencido",
        "| Alertar 30 dias antes do vencimento |",
        "6.50 h corridas; 6.50 h úteis",
    ] {
        assert!(md.contains(expected), "missing `{expected}` in:\n{md}");
    }
}
