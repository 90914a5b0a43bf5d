//! Incidents (SPEC §4, §6) over HTTP against a real PostgreSQL, with the injected clock and
//! the SMTP sink: routing, visibility, parent/child rules and the propagation matrix, SLA
//! clocks, validation links, auto-close, reopen, follow-ups, contact attempts.
use chrono::{DateTime, Utc};
use gmud_tests::{at_sp, Resp, TestApp};
use serde_json::{json, Value};

fn ts(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not an instant: {v}"))
        .parse()
        .unwrap()
}

async fn item(app: &TestApp, code: &str) -> i64 {
    let t = app.token("rh1").await;
    let r = app.get(&t, "/api/v1/support-items").await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("no item {code}"))["id"]
        .as_i64()
        .unwrap()
}

/// Opens an incident as a customer; returns the answer.
async fn open_as(app: &TestApp, user: &str, item_code: &str, priority: &str, title: &str) -> Resp {
    let item = item(app, item_code).await;
    let t = app.token(user).await;
    app.post(
        &t,
        "/api/v1/tickets",
        json!({"item_id": item, "title": title, "description": "Eventos S-1200 rejeitados", "priority": priority}),
    )
    .await
}

async fn open_acme(app: &TestApp, priority: &str) -> i64 {
    let r = open_as(
        app,
        "customer.acme",
        "esocial",
        priority,
        "eSocial fora do ar",
    )
    .await;
    assert_eq!(r.status, 201, "{r:?}");
    r.body["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, user: &str, id: i64, action: &str, body: Value) -> Resp {
    let t = app.token(user).await;
    app.post(&t, &format!("/api/v1/tickets/{id}/{action}"), body)
        .await
}

async fn must(app: &TestApp, user: &str, id: i64, action: &str, body: Value, to: &str) -> Resp {
    let r = act(app, user, id, action, body).await;
    assert_eq!(r.status, 200, "{user} {action}: {r:?}");
    assert_eq!(r.body["state"], to, "{user} {action}");
    r
}

async fn get(app: &TestApp, user: &str, id: i64) -> Resp {
    let t = app.token(user).await;
    app.get(&t, &format!("/api/v1/tickets/{id}")).await
}

async fn child(app: &TestApp, parent: i64, kind: &str, team: &str) -> Resp {
    let t = app.token("rh1").await;
    app.post(
        &t,
        &format!("/api/v1/tickets/{parent}/children"),
        json!({"kind": kind, "team": team, "title": format!("{kind} para {team}")}),
    )
    .await
}

async fn child_id(app: &TestApp, parent: i64, kind: &str, team: &str) -> i64 {
    let r = child(app, parent, kind, team).await;
    assert_eq!(r.status, 201, "{r:?}");
    r.body["id"].as_i64().unwrap()
}

async fn resolve(app: &TestApp, id: i64) -> Resp {
    must(
        app,
        "rh1",
        id,
        "resolve",
        json!({"solution": "Certificado renovado"}),
        "resolved",
    )
    .await
}

/// The confirm and reopen URLs of a resolution mail.
fn ticket_links(text: &str) -> (String, String) {
    let urls: Vec<&str> = text
        .split_whitespace()
        .filter(|w| w.contains("/ticket-links/"))
        .collect();
    let confirm = urls
        .iter()
        .find(|u| u.contains(".c."))
        .expect("confirm link");
    let reopen = urls
        .iter()
        .find(|u| u.contains(".o."))
        .expect("reopen link");
    (confirm.to_string(), reopen.to_string())
}

#[tokio::test]
async fn intake_routes_by_contract_and_falls_back_to_the_default_queue_visibly() {
    let app = TestApp::spawn().await;
    // ACME holds a SMART eSocial contract: eSocial goes to `rh`, counted in its contract's
    // calendar (São Paulo capital: national, state and municipal holidays).
    let acme = open_as(
        &app,
        "customer.acme",
        "esocial",
        "high",
        "eSocial fora do ar",
    )
    .await;
    assert_eq!(acme.status, 201, "{acme:?}");
    assert_eq!(acme.body["queue"]["code"], "rh");
    assert_eq!(acme.body["team"], "rh");
    assert_eq!(acme.body["calendar"]["code"], "SP-CAPITAL");
    assert_eq!(acme.body["state"], "new");
    assert_eq!(
        acme.body["number"],
        format!("INC-{:06}", acme.body["id"].as_i64().unwrap())
    );
    // GLOBEX has no eSocial contract: no rule matches, the default queue takes it, and the
    // history says so.
    let globex = open_as(
        &app,
        "customer.globex",
        "esocial",
        "high",
        "Erro no eSocial",
    )
    .await;
    assert_eq!(globex.status, 201, "{globex:?}");
    assert_eq!(globex.body["queue"]["code"], "triagem");
    assert_eq!(globex.body["calendar"]["code"], "AM-MANAUS");
    assert_eq!(globex.body["calendar"]["timezone"], "America/Manaus");
    let id = globex.body["id"].as_i64().unwrap();
    let t = app.token("rh1").await;
    let h = app.get(&t, &format!("/api/v1/tickets/{id}/history")).await;
    assert_eq!(h.body[0]["action"], "open");
    assert_eq!(h.body[0]["detail"]["route"]["default_queue"], true);
    assert_eq!(h.body[0]["detail"]["route"]["rule_id"], Value::Null);
    let h = app
        .get(&t, &format!("/api/v1/tickets/{}/history", acme.body["id"]))
        .await;
    assert_eq!(h.body[0]["detail"]["route"]["default_queue"], false);
    // The 24×7 item routes to cloud for anyone.
    let cloud = open_as(
        &app,
        "customer.globex",
        "cloud-infra",
        "critical",
        "VM parada",
    )
    .await;
    assert_eq!(cloud.body["queue"]["code"], "cloud");
    assert_eq!(cloud.body["item"]["round_the_clock"], true);
}

#[tokio::test]
async fn bad_intake_names_every_field_and_customers_stay_in_their_organisation() {
    let app = TestApp::spawn().await;
    let t = app.token("rh1").await;
    // The form: a blank title and a description that is not text, named together.
    let r = app
        .post(
            &t,
            "/api/v1/tickets",
            json!({"item_id": 1, "title": "   ", "priority": "high", "description": 42}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["description", "title"]);
    // What it refers to: support must name the organisation; the item does not exist.
    let r = app
        .post(
            &t,
            "/api/v1/tickets",
            json!({"item_id": 999999, "title": "Sem organização", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["item_id", "organization_id"]);
    assert_eq!(app.count("SELECT count(*) FROM tickets").await, 0);
    // A customer cannot open for another organisation.
    let globex_org = app
        .count("SELECT id FROM organizations WHERE code = 'GLOBEX'")
        .await;
    let item = item(&app, "esocial").await;
    let c = app.token("customer.acme").await;
    let r = app
        .post(
            &c,
            "/api/v1/tickets",
            json!({"organization_id": globex_org, "item_id": item, "title": "Outra empresa", "priority": "low"}),
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    // Nor read another organisation's tickets, nor list them.
    let globex = open_as(&app, "customer.globex", "esocial", "low", "Da Globex").await;
    let gid = globex.body["id"].as_i64().unwrap();
    let r = get(&app, "customer.acme", gid).await;
    assert_eq!(r.status, 404, "{r:?}");
    let mine = open_acme(&app, "low").await;
    let list = app.get(&c, "/api/v1/tickets").await;
    let ids: Vec<i64> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![mine]);
    // Nor act on them: the same 404 as a missing ticket.
    let r = act(&app, "customer.acme", gid, "cancel", json!({"reason": "x"})).await;
    assert_eq!(r.status, 404, "{r:?}");
    // Nor see children (internal work) of its own incident.
    let ch = child_id(&app, mine, "internal", "rh").await;
    assert_eq!(get(&app, "customer.acme", ch).await.status, 404);
    // A customer does not work tickets: 403 before anything is read.
    let r = act(&app, "customer.acme", mine, "start", json!({})).await;
    assert_eq!(r.status, 403, "{r:?}");
}

#[tokio::test]
async fn a_parent_waits_for_its_children_and_its_assignee_hears_when_the_last_one_resolves() {
    let app = TestApp::spawn().await;
    let parent = open_acme(&app, "high").await;
    must(&app, "rh1", parent, "start", json!({}), "in_progress").await;
    let esc = child_id(&app, parent, "escalation", "cloud").await;
    let nc = child_id(&app, parent, "non_conformity", "dev").await;
    // The statement that writes a child writes its events and timers with it, naming the
    // new id: the parent's history points at each child, each child's clocks have their
    // breach jobs (keyed and addressed to the child, not to a placeholder).
    let t = app.token("rh1").await;
    let h = app
        .get(&t, &format!("/api/v1/tickets/{parent}/history"))
        .await;
    let opened: Vec<&Value> = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "child_opened")
        .collect();
    assert_eq!(opened.len(), 2, "{h:?}");
    assert_eq!(opened[0]["detail"]["child_id"], esc);
    assert_eq!(opened[1]["detail"]["child_id"], nc);
    for kid in [esc, nc] {
        let due = app
            .count(&format!(
                "SELECT count(*) FROM jobs j JOIN job_keys k ON k.key = j.dedup_key \
                 WHERE j.kind = 'sla_breach' AND (j.payload->>'ticket_id')::bigint = {kid} \
                 AND j.dedup_key LIKE 'ticket:{kid}:%:due:%' AND j.status = 'pending'"
            ))
            .await;
        assert_eq!(due, 2, "ticket {kid}'s two breach timers");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE dedup_key LIKE '%{ticket}%'")
            .await,
        0
    );
    // Wrong team for the kind: refused, naming the field.
    let r = child(&app, parent, "non_conformity", "cloud").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), vec!["team"]);
    // No child under a child.
    let r = child(&app, esc, "internal", "rh").await;
    assert_eq!(r.status, 409, "{r:?}");
    let r = act(&app, "rh1", parent, "resolve", json!({"solution": "feito"})).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "open_children");
    assert_eq!(r.body["current_state"], "in_progress");
    assert_eq!(r.body["blocking"], json!([esc, nc]));
    assert!(!r.body["allowed_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("resolve")));
    must(
        &app,
        "cloud1",
        esc,
        "resolve",
        json!({"solution": "VM reiniciada"}),
        "resolved",
    )
    .await;
    app.run_jobs().await;
    assert!(app.mails_to("rh1").await.is_empty(), "one child still open");
    must(
        &app,
        "tester",
        nc,
        "resolve",
        json!({"solution": "Correção publicada"}),
        "resolved",
    )
    .await;
    app.run_jobs().await;
    let mails = app.mails_to("rh1").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0]
            .subject
            .contains("todos os chamados filhos resolvidos"),
        "{}",
        mails[0].subject
    );
    resolve(&app, parent).await;
}

/// Every cell of the README's propagation matrix.
#[tokio::test]
async fn propagation_matrix() {
    let app = TestApp::spawn().await;
    // Parent cancelled: open children (new, in progress, pending) are cancelled; a resolved
    // child is left alone.
    let p = open_acme(&app, "medium").await;
    let c_new = child_id(&app, p, "internal", "rh").await;
    let c_prog = child_id(&app, p, "escalation", "taf_tss").await;
    must(&app, "rh1", c_prog, "start", json!({}), "in_progress").await;
    let c_pend = child_id(&app, p, "escalation", "cloud").await;
    must(&app, "cloud1", c_pend, "start", json!({}), "in_progress").await;
    must(
        &app,
        "cloud1",
        c_pend,
        "pend",
        json!({"pending_on": "third_party", "reason": "AWS"}),
        "pending",
    )
    .await;
    let c_res = child_id(&app, p, "non_conformity", "dev").await;
    must(
        &app,
        "tester",
        c_res,
        "resolve",
        json!({"solution": "ok"}),
        "resolved",
    )
    .await;
    must(
        &app,
        "rh1",
        p,
        "cancel",
        json!({"reason": "aberto por engano"}),
        "cancelled",
    )
    .await;
    for (id, state) in [
        (c_new, "cancelled"),
        (c_prog, "cancelled"),
        (c_pend, "cancelled"),
        (c_res, "resolved"),
    ] {
        assert_eq!(
            get(&app, "rh1", id).await.body["state"],
            state,
            "child {id}"
        );
    }
    // No child under a cancelled parent.
    assert_eq!(child(&app, p, "internal", "rh").await.status, 409);

    // Parent resolved: children (all resolved, since open ones block) stay resolved; a child
    // cannot be reopened under a resolved parent, nor a new child opened.
    let p = open_acme(&app, "medium").await;
    let c = child_id(&app, p, "internal", "rh").await;
    must(
        &app,
        "rh1",
        c,
        "resolve",
        json!({"solution": "ok"}),
        "resolved",
    )
    .await;
    resolve(&app, p).await;
    assert_eq!(get(&app, "rh1", c).await.body["state"], "resolved");
    let r = act(&app, "rh1", c, "reopen", json!({"reason": "voltou"})).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "transition_blocked");
    assert_eq!(child(&app, p, "internal", "rh").await.status, 409);
    // Parent reopened: children untouched; then the child may reopen, and blocks resolving.
    must(
        &app,
        "customer.acme",
        p,
        "reopen",
        json!({"reason": "continua falhando"}),
        "in_progress",
    )
    .await;
    assert_eq!(get(&app, "rh1", c).await.body["state"], "resolved");
    must(
        &app,
        "rh1",
        c,
        "reopen",
        json!({"reason": "voltou"}),
        "in_progress",
    )
    .await;
    let r = act(&app, "rh1", p, "resolve", json!({"solution": "x"})).await;
    assert_eq!(r.body["blocking"], json!([c]));
    // Child resolved → parent unchanged (its assignee is told: previous test).
    must(
        &app,
        "rh1",
        c,
        "resolve",
        json!({"solution": "ok"}),
        "resolved",
    )
    .await;
    assert_eq!(get(&app, "rh1", p).await.body["state"], "in_progress");
    // Parent closed (confirmed): resolved children close with it; a cancelled child stays
    // cancelled.
    let c2 = child_id(&app, p, "internal", "rh").await;
    must(
        &app,
        "rh1",
        c2,
        "cancel",
        json!({"reason": "não precisa"}),
        "cancelled",
    )
    .await;
    resolve(&app, p).await;
    must(&app, "customer.acme", p, "confirm", json!({}), "closed").await;
    assert_eq!(get(&app, "rh1", c).await.body["state"], "closed");
    assert_eq!(get(&app, "rh1", c2).await.body["state"], "cancelled");
    // Child cancelled → parent unchanged; closed children never reopen.
    assert_eq!(get(&app, "rh1", p).await.body["state"], "closed");
    assert_eq!(
        act(&app, "rh1", c, "reopen", json!({"reason": "x"}))
            .await
            .status,
        409
    );
    // No child under a closed parent.
    assert_eq!(child(&app, p, "internal", "rh").await.status, 409);
    let follows = app
        .count(&format!("SELECT count(*) FROM events WHERE entity = 'ticket' AND action = 'follow_parent' AND entity_id IN ({c}, {c2})"))
        .await;
    assert_eq!(follows, 1, "only the resolved child followed the close");
}

#[tokio::test]
async fn clocks_count_business_hours_across_a_holiday_and_a_weekend_pause_while_pending_and_keep_elapsed_on_a_priority_change(
) {
    let app = TestApp::spawn().await;
    // Thursday 24 December 17:00: Friday is Christmas, then the weekend.
    app.set_now(at_sp(2026, 12, 24, 17, 0));
    let id = open_acme(&app, "high").await; // 60 min response, 8 h resolution
    let v = get(&app, "rh1", id).await.body;
    assert_eq!(
        ts(&v["clocks"]["first_response"]["due_at"]),
        at_sp(2026, 12, 24, 18, 0)
    );
    // 2 h on Thursday, 6 h on Monday 28.
    assert_eq!(
        ts(&v["clocks"]["resolution"]["due_at"]),
        at_sp(2026, 12, 28, 13, 0)
    );
    assert_eq!(v["clocks"]["resolution"]["target_minutes"], 480);

    // First response on Monday 07:30: late (due Thursday 18:00), recorded at the due instant.
    app.set_now(at_sp(2026, 12, 28, 7, 30));
    app.run_jobs().await; // the breach timer of the first response
    let v = must(&app, "rh1", id, "start", json!({}), "in_progress")
        .await
        .body;
    assert_eq!(v["clocks"]["first_response"]["state"], "breached");
    assert_eq!(
        ts(&v["clocks"]["first_response"]["breached_at"]),
        at_sp(2026, 12, 24, 18, 0)
    );
    let breached = app
        .get(&app.token("rh1").await, "/api/v1/tickets?breached=true")
        .await;
    assert_eq!(breached.body["items"][0]["id"], id);

    // Pending from Monday 09:00 (4 h counted) to Tuesday 07:00: paused time never counts.
    app.set_now(at_sp(2026, 12, 28, 9, 0));
    let v = must(
        &app,
        "rh1",
        id,
        "pend",
        json!({"pending_on": "customer", "reason": "aguardando XML"}),
        "pending",
    )
    .await
    .body;
    assert_eq!(v["clocks"]["resolution"]["state"], "paused");
    assert_eq!(v["clocks"]["resolution"]["due_at"], Value::Null);
    assert_eq!(v["clocks"]["resolution"]["elapsed_minutes"], 240);
    // What-if while pending: resuming Tuesday 07:00 would end it at 11:00.
    let w = app
        .get(
            &app.token("rh1").await,
            &format!(
                "/api/v1/tickets/{id}/what-if?pending=true&resume_at={}",
                at_sp(2026, 12, 29, 7, 0).to_rfc3339().replace('+', "%2B")
            ),
        )
        .await;
    assert_eq!(w.status, 200, "{w:?}");
    assert_eq!(
        ts(&w.body["clocks"]["resolution"]["due_at"]),
        at_sp(2026, 12, 29, 11, 0)
    );
    app.set_now(at_sp(2026, 12, 29, 7, 0));
    let v = must(&app, "rh1", id, "resume", json!({}), "in_progress")
        .await
        .body;
    assert_eq!(v["clocks"]["resolution"]["elapsed_minutes"], 240);
    assert_eq!(
        ts(&v["clocks"]["resolution"]["due_at"]),
        at_sp(2026, 12, 29, 11, 0)
    );

    // Tuesday 08:00, 5 h counted. What-if critical (4 h): breached; nothing changes.
    app.set_now(at_sp(2026, 12, 29, 8, 0));
    let w = app
        .get(
            &app.token("rh1").await,
            &format!("/api/v1/tickets/{id}/what-if?priority=critical"),
        )
        .await;
    assert_eq!(w.body["clocks"]["resolution"]["state"], "breached");
    assert_eq!(get(&app, "rh1", id).await.body["priority"], "high");
    // Priority medium (24 h): the 5 h counted are kept, the new target applies: 19 h left
    // from 08:00 Tuesday → 11 h Tuesday, 8 h Wednesday → Wednesday 15:00.
    let r = app
        .post(
            &app.token("rh1").await,
            &format!("/api/v1/tickets/{id}/priority"),
            json!({"priority": "medium", "reason": "contornado"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["clocks"]["resolution"]["target_minutes"], 1440);
    assert_eq!(r.body["clocks"]["resolution"]["elapsed_minutes"], 300);
    assert_eq!(
        ts(&r.body["clocks"]["resolution"]["due_at"]),
        at_sp(2026, 12, 30, 15, 0)
    );
    let h = app
        .get(
            &app.token("rh1").await,
            &format!("/api/v1/tickets/{id}/history"),
        )
        .await;
    let change = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "priority_changed")
        .unwrap();
    assert_eq!(change["detail"]["from"], "high");
    assert_eq!(change["detail"]["to"], "medium");
    assert_eq!(change["reason"], "contornado");
    // The breach timer queued for the old due instant does nothing.
    app.set_now(at_sp(2026, 12, 29, 12, 0));
    app.run_jobs().await;
    assert_eq!(
        get(&app, "rh1", id).await.body["clocks"]["resolution"]["state"],
        "running"
    );
}

#[tokio::test]
async fn a_child_gets_its_teams_ola_from_when_the_team_received_it() {
    let app = TestApp::spawn().await;
    let parent = open_acme(&app, "high").await;
    // The parent waited a day and a half before being handed to taf_tss.
    app.set_now(at_sp(2026, 11, 24, 15, 0));
    let r = child(&app, parent, "escalation", "taf_tss").await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(ts(&r.body["received_at"]), at_sp(2026, 11, 24, 15, 0));
    // taf_tss's OLA for high: 8 h from its receipt: 4 h Tuesday, 4 h Wednesday.
    assert_eq!(
        ts(&r.body["clocks"]["resolution"]["due_at"]),
        at_sp(2026, 11, 25, 11, 0)
    );
    assert_eq!(r.body["clocks"]["resolution"]["state"], "running");
    // Moved to cloud on Wednesday 09:00: cloud's OLA (4 h for high) from then.
    let cid = r.body["id"].as_i64().unwrap();
    app.set_now(at_sp(2026, 11, 25, 9, 0));
    let cloud_queue = app
        .count("SELECT id FROM queues WHERE code = 'cloud'")
        .await;
    let t = app.token("rh1").await;
    let r = app
        .patch(
            &t,
            &format!("/api/v1/tickets/{cid}/assignment"),
            json!({"queue_id": cloud_queue}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["team"], "cloud");
    assert_eq!(ts(&r.body["received_at"]), at_sp(2026, 11, 25, 9, 0));
    assert_eq!(
        ts(&r.body["clocks"]["resolution"]["due_at"]),
        at_sp(2026, 11, 25, 13, 0)
    );
}

#[tokio::test]
async fn resolve_mails_signed_links_get_never_decides_post_confirms_once() {
    let app = TestApp::spawn().await;
    let id = open_acme(&app, "medium").await;
    must(&app, "rh1", id, "start", json!({}), "in_progress").await;
    resolve(&app, id).await;
    app.run_jobs().await;
    let mails = app.mails_to("customer.acme").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].subject.contains("resolvido"),
        "{}",
        mails[0].subject
    );
    assert!(mails[0].text.contains("Certificado renovado"));
    let (confirm, reopen) = ticket_links(&mails[0].text);
    // GET shows a page and decides nothing (mail scanners follow links).
    let page = app.client.get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Confirmar"));
    assert_eq!(get(&app, "rh1", id).await.body["state"], "resolved");
    // Tampering with the action or the signature: nothing happens.
    let forged = confirm.replace(".c.", ".o.");
    let r = app
        .client
        .post(&forged)
        .form(&[("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let mut bad = confirm.clone();
    bad.pop();
    bad.push(if confirm.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        app.client
            .post(&bad)
            .form(&[("reason", "")])
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(get(&app, "rh1", id).await.body["state"], "resolved");
    // Reopen without a reason: the form again, nothing recorded.
    let r = app
        .client
        .post(&reopen)
        .form(&[("reason", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Confirm: closed.
    let r = app
        .client
        .post(&confirm)
        .form(&[("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = get(&app, "rh1", id).await.body;
    assert_eq!(v["state"], "closed");
    assert_eq!(v["close_reason"], "confirmed by the customer");
    // Replayed, or the other link of the same mail: spent.
    assert_eq!(
        app.client
            .post(&confirm)
            .form(&[("reason", "")])
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    assert_eq!(
        app.client
            .post(&reopen)
            .form(&[("reason", "de novo")])
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    let closes = app
        .count(&format!("SELECT count(*) FROM events WHERE entity = 'ticket' AND entity_id = {id} AND action = 'confirm'"))
        .await;
    assert_eq!(closes, 1);
}

#[tokio::test]
async fn a_link_of_an_earlier_resolution_does_nothing_and_reopen_by_link_needs_a_reason() {
    let app = TestApp::spawn().await;
    let id = open_acme(&app, "medium").await;
    resolve(&app, id).await;
    app.run_jobs().await;
    let (first_confirm, first_reopen) = ticket_links(&app.mails_to("customer.acme").await[0].text);
    let r = app
        .client
        .post(&first_reopen)
        .form(&[("reason", "Ainda rejeita o S-1200")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = get(&app, "rh1", id).await.body;
    assert_eq!(v["state"], "in_progress");
    assert_eq!(v["reopen_count"], 1);
    resolve(&app, id).await;
    // The first mail's confirm link belongs to the first resolution.
    let r = app
        .client
        .post(&first_confirm)
        .form(&[("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(get(&app, "rh1", id).await.body["state"], "resolved");
    app.run_jobs().await;
    let mails = app.mails_to("customer.acme").await;
    assert_eq!(mails.len(), 2);
    let (confirm, _) = ticket_links(&mails[1].text);
    assert_ne!(confirm, first_confirm);
    assert_eq!(
        app.client
            .post(&confirm)
            .form(&[("reason", "")])
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// SPEC §6's examples, end to end: the auto-close instant is shown, and the timer closes the
/// ticket at that instant, not a minute before.
#[tokio::test]
async fn auto_close_at_exactly_60_business_hours_across_weekends_and_holidays() {
    let app = TestApp::spawn().await;
    let cases = [
        (at_sp(2026, 11, 23, 9, 0), at_sp(2026, 11, 30, 9, 0)),
        (at_sp(2026, 11, 27, 18, 0), at_sp(2026, 12, 4, 18, 0)),
        // Christmas and New Year's Day on the way: 9 h Thursday, Friday off, 12 h a day
        // Monday to Thursday, Friday 1 January off, 3 h Monday 4 January.
        (at_sp(2026, 12, 24, 10, 0), at_sp(2027, 1, 4, 10, 0)),
    ];
    // The clock only moves forward: each ticket is resolved when its case says, and checked
    // at its closing instant before the next case that starts later.
    let mut pending: Vec<(i64, DateTime<Utc>)> = Vec::new();
    let mut steps: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = Vec::new();
    for (resolved_at, closes_at) in cases {
        steps.push((resolved_at, Some(closes_at)));
        steps.push((closes_at, None));
    }
    steps.sort_by_key(|s| s.0);
    for (at, resolves_until) in steps {
        let Some(closes_at) = resolves_until else {
            let i = pending
                .iter()
                .position(|p| p.1 == at)
                .expect("a ticket closes now");
            let (id, closes_at) = pending.remove(i);
            check_close(&app, id, closes_at).await;
            continue;
        };
        app.set_now(at);
        let id = open_acme(&app, "low").await;
        let v = resolve(&app, id).await.body;
        assert_eq!(ts(&v["auto_close_at"]), closes_at, "resolved {at}");
        pending.push((id, closes_at));
    }
    assert!(pending.is_empty());
}

async fn check_close(app: &TestApp, id: i64, closes_at: DateTime<Utc>) {
    {
        app.set_now(closes_at - chrono::Duration::minutes(1));
        app.run_jobs().await;
        assert_eq!(
            get(app, "rh1", id).await.body["state"],
            "resolved",
            "a minute early"
        );
        app.set_now(closes_at);
        app.run_jobs().await;
        let v = get(app, "rh1", id).await.body;
        assert_eq!(v["state"], "closed");
        assert_eq!(ts(&v["closed_at"]), closes_at);
    }
}

#[tokio::test]
async fn the_customer_is_reminded_before_the_auto_close() {
    let app = TestApp::spawn().await;
    let id = open_acme(&app, "low").await;
    let v = resolve(&app, id).await.body;
    assert_eq!(ts(&v["auto_close_at"]), at_sp(2026, 11, 30, 9, 0));
    app.run_jobs().await;
    assert_eq!(app.mails_to("customer.acme").await.len(), 1);
    // 12 business hours before (48 after the resolution): 10 h Monday, 12 h Tuesday to
    // Thursday, 2 h Friday → Friday 27 09:00.
    app.set_now(at_sp(2026, 11, 27, 8, 59));
    app.run_jobs().await;
    assert_eq!(app.mails_to("customer.acme").await.len(), 1);
    app.set_now(at_sp(2026, 11, 27, 9, 0));
    app.run_jobs().await;
    let mails = app.mails_to("customer.acme").await;
    assert_eq!(mails.len(), 2);
    assert!(
        mails[1].subject.starts_with("Lembrete"),
        "{}",
        mails[1].subject
    );
    // Same links as the first mail (one link row per resolution and recipient).
    assert_eq!(ticket_links(&mails[0].text), ticket_links(&mails[1].text));
}

#[tokio::test]
async fn reopen_only_while_resolved_then_a_follow_up() {
    let app = TestApp::spawn().await;
    let id = open_acme(&app, "medium").await;
    // Not resolved yet: reopen is illegal.
    let r = act(&app, "customer.acme", id, "reopen", json!({"reason": "x"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["current_state"], "new");
    resolve(&app, id).await;
    // Reason required.
    let r = act(&app, "customer.acme", id, "reopen", json!({})).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["missing"], json!(["reason"]));
    must(
        &app,
        "customer.acme",
        id,
        "reopen",
        json!({"reason": "continua"}),
        "in_progress",
    )
    .await;
    resolve(&app, id).await;
    app.set_now(at_sp(2026, 12, 1, 9, 0));
    app.run_jobs().await;
    assert_eq!(get(&app, "rh1", id).await.body["state"], "closed");
    let r = act(
        &app,
        "customer.acme",
        id,
        "reopen",
        json!({"reason": "voltou"}),
    )
    .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "illegal_transition");
    assert_eq!(r.body["current_state"], "closed");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("POST /api/v1/tickets/{id}/follow-ups")),
        "{r:?}"
    );
    assert_eq!(r.body["allowed_actions"], json!([]));
    // A follow-up opens a new ticket linked to the closed one.
    let t = app.token("customer.acme").await;
    let f = app
        .post(
            &t,
            &format!("/api/v1/tickets/{id}/follow-ups"),
            json!({"description": "O erro voltou hoje"}),
        )
        .await;
    assert_eq!(f.status, 201, "{f:?}");
    assert_eq!(f.body["follow_up_of"], id);
    assert_eq!(f.body["state"], "new");
    assert_eq!(f.body["queue"]["code"], "rh");
    assert!(f.body["title"]
        .as_str()
        .unwrap()
        .starts_with("Acompanhamento de INC-"));
    let v = get(&app, "customer.acme", id).await.body;
    assert_eq!(v["follow_ups"], json!([f.body["id"]]));
    assert_eq!(v["reopen_count"], 1);
    // A follow-up of a ticket that is not closed is refused.
    let open = f.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &t,
            &format!("/api/v1/tickets/{open}/follow-ups"),
            json!({"description": "x"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["code"], "not_closed");
}

#[tokio::test]
async fn critical_contact_attempts_are_limited_and_allow_support_to_close() {
    let app = TestApp::spawn().await;
    let id = open_acme(&app, "critical").await;
    let path = format!("/api/v1/tickets/{id}/contact-attempts");
    let attempt = |h: u32| json!({"channel": "phone", "at": at_sp(2026, 11, 23, h, 0), "answered": false, "evidence": format!("ligação às {h}h sem resposta")});
    // Not resolved yet: no attempts.
    let r = app.post(&app.token("rh1").await, &path, attempt(9)).await;
    assert_eq!(r.status, 409, "{r:?}");
    app.set_now(at_sp(2026, 11, 23, 10, 0));
    resolve(&app, id).await;
    // Support cannot close before the attempts.
    let r = act(&app, "rh1", id, "close", json!({})).await;
    assert_eq!(r.status, 409, "{r:?}");
    app.set_now(at_sp(2026, 11, 23, 16, 0));
    // An attempt in the future, or before the resolution, is refused.
    assert_eq!(
        app.post(&app.token("rh1").await, &path, attempt(17))
            .await
            .status,
        422
    );
    assert_eq!(
        app.post(&app.token("rh1").await, &path, attempt(9))
            .await
            .status,
        422
    );
    for h in [11, 13, 15] {
        let r = app.post(&app.token("rh1").await, &path, attempt(h)).await;
        assert_eq!(r.status, 201, "{r:?}");
    }
    let r = app.post(&app.token("rh1").await, &path, attempt(16)).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "contact_attempts_exhausted");
    assert_eq!(
        app.get(&app.token("rh1").await, &path).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let v = must(&app, "rh1", id, "close", json!({}), "closed")
        .await
        .body;
    assert!(v["close_reason"]
        .as_str()
        .unwrap()
        .contains("3 unanswered contact attempts"));
    let h = app
        .get(
            &app.token("rh1").await,
            &format!("/api/v1/tickets/{id}/history"),
        )
        .await;
    let close = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "close")
        .unwrap();
    assert_eq!(
        close["detail"]["contact_attempts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn two_instances_close_each_due_ticket_once() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        let id = open_acme(&app, "low").await;
        resolve(&app, id).await;
        ids.push(id);
    }
    app.set_now(at_sp(2026, 11, 30, 9, 0));
    let a = app.state.worker();
    let b = app.another_instance().worker();
    let (ra, rb) = tokio::join!(a.drain(), b.drain());
    ra.unwrap();
    rb.unwrap();
    for id in &ids {
        assert_eq!(get(&app, "rh1", *id).await.body["state"], "closed");
    }
    let closes = app
        .count("SELECT count(*) FROM events WHERE entity = 'ticket' AND action = 'auto_close'")
        .await;
    assert_eq!(closes, ids.len() as i64);
}

#[tokio::test]
async fn comments_public_internal_and_solution_proposals_and_the_first_response() {
    let app = TestApp::spawn().await;
    let id = open_acme(&app, "high").await;
    let rh = app.token("rh1").await;
    let cust = app.token("customer.acme").await;
    let path = format!("/api/v1/tickets/{id}/comments");
    let r = app
        .post(
            &rh,
            &path,
            json!({"body": "Nota interna", "visibility": "internal"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    // An internal note is not the first response.
    assert_eq!(
        get(&app, "rh1", id).await.body["clocks"]["first_response"]["state"],
        "running"
    );
    app.post(
        &rh,
        &path,
        json!({"body": "Reinicie o TSS", "visibility": "solution_proposal"}),
    )
    .await;
    let r = app
        .post(&rh, &path, json!({"body": "Estamos verificando"}))
        .await;
    assert_eq!(r.status, 201);
    let v = get(&app, "rh1", id).await.body;
    assert_eq!(v["clocks"]["first_response"]["state"], "met");
    // The customer reads public comments only, and may not write internal ones.
    let seen = app.get(&cust, &path).await.body;
    assert_eq!(seen.as_array().unwrap().len(), 1);
    assert_eq!(seen[0]["body"], "Estamos verificando");
    let r = app
        .post(&cust, &path, json!({"body": "x", "visibility": "internal"}))
        .await;
    assert_eq!(r.status, 422);
    // Every analyst of the team lists its proposals.
    let p = app
        .get(
            &app.token("coord").await,
            "/api/v1/solution-proposals?team=rh",
        )
        .await;
    assert_eq!(p.status, 200, "{p:?}");
    assert_eq!(p.body["items"][0]["body"], "Reinicie o TSS");
    assert_eq!(p.body["items"][0]["ticket_id"], id);
}

#[tokio::test]
async fn an_incident_and_the_rdm_that_fixes_it_are_linked_both_ways() {
    let app = TestApp::spawn().await;
    let id = open_acme(&app, "high").await;
    let ci = app.count("SELECT min(id) FROM configuration_items").await;
    let rdm = app
        .create_rdm("tester", gmud_tests::normal_rdm("Corrige S-1200", ci))
        .await;
    let t = app.token("tester").await;
    let r = app
        .post(
            &t,
            &format!("/api/v1/tickets/{id}/rdms"),
            json!({"rdm_id": rdm}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, json!([rdm]));
    assert_eq!(get(&app, "rh1", id).await.body["rdm_ids"], json!([rdm]));
    let back = app.get(&t, &format!("/api/v1/rdms/{rdm}/tickets")).await;
    assert_eq!(back.body[0]["id"], id);
    // A support analyst does not link changes; an unknown RDM is named.
    let rh = app.token("rh1").await;
    assert_eq!(
        app.post(
            &rh,
            &format!("/api/v1/tickets/{id}/rdms"),
            json!({"rdm_id": rdm})
        )
        .await
        .status,
        403
    );
    let r = app
        .post(
            &t,
            &format!("/api/v1/tickets/{id}/rdms"),
            json!({"rdm_id": 999999}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), vec!["rdm_id"]);
}

/// Holiday rules and included calendars through the calendar API: 2028's Carnival and Ash
/// Wednesday (never typed anywhere) and São Paulo's own holiday (from the included
/// municipal rules).
#[tokio::test]
async fn calendars_compute_easter_holidays_of_any_year_and_include_others() {
    let app = TestApp::spawn().await;
    let cal = app
        .count("SELECT id FROM calendars WHERE code = 'SP-CAPITAL'")
        .await;
    let t = app.token("rh1").await;
    let deadline = |from: DateTime<Utc>, hours: u32| {
        format!(
            "/api/v1/calendars/{cal}/deadline?from={}&hours={hours}",
            from.to_rfc3339().replace('+', "%2B")
        )
    };
    // Friday 25 Feb 2028 18:00 + 2 h: 1 h Friday; Carnival Monday and Tuesday closed; Ash
    // Wednesday opens at 12:00 → 13:00.
    let r = app.get(&t, &deadline(at_sp(2028, 2, 25, 18, 0), 2)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(ts(&r.body["deadline"]), at_sp(2028, 3, 1, 13, 0));
    // Monday 24 Jan 2028 18:00 + 2 h: Tuesday 25 is São Paulo's anniversary → Wednesday 08:00.
    let r = app.get(&t, &deadline(at_sp(2028, 1, 24, 18, 0), 2)).await;
    assert_eq!(ts(&r.body["deadline"]), at_sp(2028, 1, 26, 8, 0));
    // The national calendar alone does not have the municipal holiday.
    let br = app
        .count("SELECT id FROM calendars WHERE code = 'BR-SP'")
        .await;
    let r = app
        .get(
            &t,
            &format!(
                "/api/v1/calendars/{br}/deadline?from={}&hours=2",
                at_sp(2028, 1, 24, 18, 0).to_rfc3339().replace('+', "%2B")
            ),
        )
        .await;
    assert_eq!(ts(&r.body["deadline"]), at_sp(2028, 1, 25, 8, 0));
}

async fn escalations(app: &TestApp, id: i64) -> Vec<Value> {
    let t = app.token("rh1").await;
    app.get(&t, &format!("/api/v1/tickets/{id}/history"))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "escalate")
        .cloned()
        .collect()
}

/// A business-hours item: levels rise at their share of the clock, the mail of a level
/// reached after closing waits for Monday's opening, pending pauses the levels, and a
/// resolved ticket stops escalating.
#[tokio::test]
async fn escalation_rises_waits_for_the_opening_pauses_while_pending_and_stops_on_resolution() {
    let app = TestApp::spawn().await;
    // Friday 18:30, critical eSocial: first response 30 min, resolution 4 h.
    app.set_now(at_sp(2026, 11, 27, 18, 30));
    let id = open_acme(&app, "critical").await;
    let v = get(&app, "rh1", id).await.body;
    assert_eq!(v["escalation"]["level"], 0);
    assert_eq!(v["escalation"]["next_level"], 1);
    assert_eq!(ts(&v["escalation"]["next_at"]), at_sp(2026, 11, 27, 18, 45));
    // Level 1 (half the first-response target) at 18:45: the queue's team, at once.
    app.set_now(at_sp(2026, 11, 27, 18, 45));
    app.run_jobs().await;
    let e = escalations(&app, id).await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["detail"]["level"], 1);
    assert_eq!(e[0]["detail"]["deferred"], false);
    let mails = app.mails_to("rh1").await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].subject.starts_with("Escalonamento nível 1"),
        "{}",
        mails[0].subject
    );
    // Level 2 (the whole target) at 19:00, closing time: recorded then, mailed Monday 07:00.
    app.set_now(at_sp(2026, 11, 27, 19, 0));
    app.run_jobs().await;
    let e = escalations(&app, id).await;
    assert_eq!(e.len(), 2);
    assert_eq!(e[1]["detail"]["level"], 2);
    assert_eq!(e[1]["detail"]["deferred"], true);
    assert_eq!(ts(&e[1]["detail"]["notify_at"]), at_sp(2026, 11, 30, 7, 0));
    app.set_now(at_sp(2026, 11, 28, 12, 0));
    app.run_jobs().await;
    assert!(
        app.mails_to("coord").await.is_empty(),
        "no mail at the weekend"
    );
    app.set_now(at_sp(2026, 11, 30, 7, 0));
    app.run_jobs().await;
    let mails = app.mails_to("coord").await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.starts_with("Escalonamento nível 2"));
    // Level 3: 75 % of the resolution target (3 h: 30 min Friday, then 09:30 Monday).
    let v = must(&app, "rh1", id, "start", json!({}), "in_progress")
        .await
        .body;
    assert_eq!(ts(&v["escalation"]["next_at"]), at_sp(2026, 11, 30, 9, 30));
    // Pending from 08:00 (1 h 30 counted): no level rises while it waits.
    app.set_now(at_sp(2026, 11, 30, 8, 0));
    let v = must(
        &app,
        "rh1",
        id,
        "pend",
        json!({"pending_on": "customer", "reason": "logs"}),
        "pending",
    )
    .await
    .body;
    assert_eq!(v["escalation"]["next_level"], Value::Null);
    app.set_now(at_sp(2026, 11, 30, 9, 45));
    app.run_jobs().await;
    assert_eq!(escalations(&app, id).await.len(), 2, "paused");
    // Resumed at 10:00: the remaining 1 h 30 → 11:30.
    app.set_now(at_sp(2026, 11, 30, 10, 0));
    let v = must(&app, "rh1", id, "resume", json!({}), "in_progress")
        .await
        .body;
    assert_eq!(ts(&v["escalation"]["next_at"]), at_sp(2026, 11, 30, 11, 30));
    app.set_now(at_sp(2026, 11, 30, 11, 29));
    app.run_jobs().await;
    assert_eq!(escalations(&app, id).await.len(), 2);
    app.set_now(at_sp(2026, 11, 30, 11, 30));
    app.run_jobs().await;
    let e = escalations(&app, id).await;
    assert_eq!(e.len(), 3);
    assert_eq!(get(&app, "rh1", id).await.body["escalation"]["level"], 3);
    // Each level once: running the jobs again changes nothing.
    app.run_jobs().await;
    assert_eq!(escalations(&app, id).await.len(), 3);
    assert_eq!(app.mails_to("coord").await.len(), 2);

    // Resolved before its first level: it never escalates.
    let other = open_acme(&app, "critical").await;
    resolve(&app, other).await;
    app.set_now(at_sp(2026, 11, 30, 14, 0));
    app.run_jobs().await;
    assert!(escalations(&app, other).await.is_empty());
    assert_eq!(
        get(&app, "rh1", other).await.body["escalation"]["next_level"],
        Value::Null
    );
}

/// A 24×7 item at night: the on-call person of the rota is told at once; an override
/// takes the rota's place.
#[tokio::test]
async fn escalation_at_night_goes_to_whoever_is_on_call() {
    let app = TestApp::spawn().await;
    let t = app.token("coord").await;
    let at = |when: DateTime<Utc>| {
        format!(
            "/api/v1/on-call/cloud?at={}",
            when.to_rfc3339().replace('+', "%2B")
        )
    };
    // The Thursday 00:00–06:00 window rotation, week by week; the stand-by outside business
    // hours; nobody during business hours.
    let who = |r: Resp| r.body["username"].as_str().map(str::to_string);
    assert_eq!(
        who(app.get(&t, &at(at_sp(2026, 11, 26, 3, 0))).await),
        Some("cloud2".into())
    );
    assert_eq!(
        who(app.get(&t, &at(at_sp(2026, 12, 3, 3, 0))).await),
        Some("cloud1".into())
    );
    assert_eq!(
        who(app.get(&t, &at(at_sp(2026, 11, 26, 6, 0))).await),
        Some("cloud1".into())
    );
    let day = app.get(&t, &at(at_sp(2026, 11, 26, 10, 0))).await;
    assert_eq!(day.body["source"], "none");
    assert_eq!(
        who(app.get(&t, &at(at_sp(2026, 12, 5, 12, 0))).await),
        Some("cloud2".into())
    );

    // Saturday 02:00, a critical cloud incident (24×7: first response 15 min).
    app.set_now(at_sp(2026, 11, 28, 2, 0));
    let r = open_as(
        &app,
        "customer.globex",
        "cloud-infra",
        "critical",
        "Banco fora do ar",
    )
    .await;
    let id = r.body["id"].as_i64().unwrap();
    app.set_now(at_sp(2026, 11, 28, 2, 8));
    app.run_jobs().await;
    let e = escalations(&app, id).await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["detail"]["target"]["kind"], "on_call");
    assert_eq!(e[0]["detail"]["deferred"], false);
    let mails = app.mails_to("cloud1").await;
    assert_eq!(mails.len(), 1, "the stand-by is told at night");
    assert!(app.mails_to("cloud2").await.is_empty());

    // An override puts cloud2 on call for the rest of the weekend.
    let t = app.token("coord").await;
    let cloud2 = app.user_id("cloud2").await;
    let r = app
        .post(
            &t,
            "/api/v1/on-call/cloud/overrides",
            json!({"user_id": cloud2, "starts_at": at_sp(2026, 11, 28, 3, 0), "ends_at": at_sp(2026, 11, 30, 7, 0), "reason": "troca de plantão"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["source"], "override");
    assert_eq!(r.body["username"], "cloud2");
    // Bad periods are named; an analyst may not edit the rota.
    let r = app
        .post(&t, "/api/v1/on-call/cloud/overrides", json!({"user_id": cloud2, "starts_at": at_sp(2026, 11, 28, 3, 0), "ends_at": at_sp(2026, 11, 28, 2, 0), "reason": "x"}))
        .await;
    assert_eq!(r.fields(), vec!["ends_at"]);
    let rh = app.token("rh1").await;
    let r = app
        .post(&rh, "/api/v1/on-call/cloud/overrides", json!({"user_id": cloud2, "starts_at": at_sp(2026, 11, 28, 3, 0), "ends_at": at_sp(2026, 11, 29, 3, 0), "reason": "x"}))
        .await;
    assert_eq!(r.status, 403);
    app.set_now(at_sp(2026, 11, 28, 4, 0));
    let r = open_as(
        &app,
        "customer.globex",
        "cloud-infra",
        "critical",
        "Storage lento",
    )
    .await;
    let id = r.body["id"].as_i64().unwrap();
    app.set_now(at_sp(2026, 11, 28, 4, 8));
    app.run_jobs().await;
    assert_eq!(escalations(&app, id).await.len(), 1);
    // The new ticket's level 1 (and the first ticket's level 3, at 03:30, also on call) go
    // to the override.
    let to_cloud2: Vec<String> = app
        .mails_to("cloud2")
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert!(
        to_cloud2.contains(&format!("Escalonamento nível 1: INC-{id:06}")),
        "{to_cloud2:?}"
    );
    assert!(
        to_cloud2
            .iter()
            .any(|s| s.starts_with("Escalonamento nível 3")),
        "{to_cloud2:?}"
    );
    assert_eq!(app.mails_to("cloud1").await.len(), 1, "cloud1 is off call");
}

/// The auto-close closes due tickets in batches: a parent's resolved children close with it,
/// and a ticket reopened since its first resolution is left alone.
#[tokio::test]
async fn auto_close_carries_resolved_children_and_skips_a_reopened_ticket() {
    let app = TestApp::spawn().await;
    let parent = open_acme(&app, "medium").await;
    let kid = child_id(&app, parent, "internal", "rh").await;
    must(
        &app,
        "rh1",
        kid,
        "resolve",
        json!({"solution": "ok"}),
        "resolved",
    )
    .await;
    resolve(&app, parent).await;
    let other = open_acme(&app, "medium").await;
    resolve(&app, other).await;
    must(
        &app,
        "customer.acme",
        other,
        "reopen",
        json!({"reason": "não resolveu"}),
        "in_progress",
    )
    .await;
    app.set_now(at_sp(2026, 11, 30, 9, 0));
    app.run_jobs().await;
    assert_eq!(get(&app, "rh1", parent).await.body["state"], "closed");
    let k = get(&app, "rh1", kid).await.body;
    assert_eq!(k["state"], "closed");
    assert_eq!(k["close_reason"], format!("INC-{parent:06} closed"));
    assert_eq!(get(&app, "rh1", other).await.body["state"], "in_progress");
    let t = app.token("rh1").await;
    let h = app.get(&t, &format!("/api/v1/tickets/{kid}/history")).await;
    assert_eq!(
        h.body.as_array().unwrap().last().unwrap()["action"],
        "follow_parent"
    );
}

/// Rules and includes through the API: a state's rule added to a new calendar that includes
/// the national one; the effective holidays of any year; refusals named.
#[tokio::test]
async fn calendar_rules_and_includes_through_the_api() {
    let app = TestApp::spawn().await;
    let t = app.token("admin").await;
    let r = app
        .post(
            &t,
            "/api/v1/calendars",
            json!({"code": "RJ", "name": "Rio de Janeiro", "timezone": "America/Sao_Paulo"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let rj = r.body["id"].as_i64().unwrap();
    let br = app
        .count("SELECT id FROM calendars WHERE code = 'BR-SP'")
        .await;
    let r = app
        .put(
            &t,
            &format!("/api/v1/calendars/{rj}/includes"),
            json!({"calendar_ids": [br]}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["includes"], json!(["BR-SP"]));
    // São Jorge (23 April) every year; Carnival's Friday... as an Easter-relative half day.
    let r = app
        .post(
            &t,
            &format!("/api/v1/calendars/{rj}/rules"),
            json!({"name": "São Jorge", "kind": "fixed", "month": 4, "day": 23}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = app
        .post(
            &t,
            &format!("/api/v1/calendars/{rj}/rules"),
            json!({"name": "Sexta antes do Carnaval", "kind": "easter", "offset_days": -51, "open": [{"start": "07:00", "end": "12:00"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let hs = app
        .get(
            &t,
            &format!("/api/v1/calendars/{rj}/effective-holidays?year=2031"),
        )
        .await;
    assert_eq!(hs.status, 200, "{hs:?}");
    let names: Vec<(String, String)> = hs
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["date"].as_str().unwrap().to_string(),
                h["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Easter 2031 is 13 April: Carnival Monday 24 February, the Friday before 21 February.
    for (date, name) in [
        ("2031-02-21", "Sexta antes do Carnaval"),
        ("2031-02-24", "Carnaval (segunda-feira)"),
        ("2031-04-11", "Sexta-feira Santa"),
        ("2031-04-23", "São Jorge"),
        ("2031-06-12", "Corpus Christi"),
    ] {
        assert!(
            names.contains(&(date.to_string(), name.to_string())),
            "{date} {name} in {names:?}"
        );
    }
    // Refusals name the field: a day the month never has; an Easter rule with a month; a
    // cycle of includes.
    let r = app
        .post(
            &t,
            &format!("/api/v1/calendars/{rj}/rules"),
            json!({"name": "x", "kind": "fixed", "month": 2, "day": 30}),
        )
        .await;
    assert_eq!(r.fields(), vec!["day"]);
    let r = app
        .post(
            &t,
            &format!("/api/v1/calendars/{rj}/rules"),
            json!({"name": "x", "kind": "easter", "offset_days": 1, "month": 3}),
        )
        .await;
    assert_eq!(r.fields(), vec!["month"]);
    let r = app
        .put(
            &t,
            &format!("/api/v1/calendars/{br}/includes"),
            json!({"calendar_ids": [rj]}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["code"], "cycle");
    // A customer may read, not edit.
    let c = app.token("customer.acme").await;
    assert_eq!(
        app.get(&c, &format!("/api/v1/calendars/{rj}/rules"))
            .await
            .status,
        200
    );
    let r = app
        .post(
            &c,
            &format!("/api/v1/calendars/{rj}/rules"),
            json!({"name": "x", "kind": "fixed", "month": 1, "day": 2}),
        )
        .await;
    assert_eq!(r.status, 403);
}

/// Routing is data: a contract and a rule added through the API change where the next ticket
/// goes, and the calendar it counts in.
#[tokio::test]
async fn a_contract_and_a_rule_added_through_the_api_route_the_next_ticket() {
    let app = TestApp::spawn().await;
    let coord = app.token("coord").await;
    let globex = app
        .count("SELECT id FROM organizations WHERE code = 'GLOBEX'")
        .await;
    let taf = item(&app, "taf").await;
    // Before: GLOBEX has no TAF contract → default queue.
    let r = open_as(&app, "customer.globex", "taf", "medium", "Apuração do ICMS").await;
    assert_eq!(r.body["queue"]["code"], "triagem");
    let sp = app
        .count("SELECT id FROM calendars WHERE code = 'SP-CAPITAL'")
        .await;
    let r = app
        .post(&coord, "/api/v1/contracts", json!({"organization_id": globex, "product": "TAF", "calendar_id": sp, "valid_from": "2026-01-01"}))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = open_as(
        &app,
        "customer.globex",
        "taf",
        "medium",
        "Apuração do ICMS de novo",
    )
    .await;
    assert_eq!(
        r.body["queue"]["code"], "taf_tss",
        "the seeded TAF rule now matches"
    );
    assert_eq!(
        r.body["calendar"]["code"], "SP-CAPITAL",
        "the contract's calendar"
    );
    // A rule ahead of the others, for GLOBEX only: its TAF tickets go to dev.
    let dev = app.count("SELECT id FROM queues WHERE code = 'dev'").await;
    let r = app
        .post(
            &coord,
            "/api/v1/routing-rules",
            json!({"position": 1, "item_id": taf, "organization_id": globex, "queue_id": dev}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let rule = r.body["id"].as_i64().unwrap();
    let r = open_as(&app, "customer.globex", "taf", "medium", "Terceira").await;
    assert_eq!(r.body["queue"]["code"], "dev");
    let r = open_as(
        &app,
        "customer.acme",
        "taf",
        "medium",
        "ACME segue no taf_tss",
    )
    .await;
    assert_eq!(r.body["queue"]["code"], "taf_tss");
    // Bad references are named; a taken position too; analysts read but do not edit.
    let r = app
        .post(
            &coord,
            "/api/v1/routing-rules",
            json!({"position": 1, "item_id": 999999, "queue_id": 999999}),
        )
        .await;
    let mut f = r.fields();
    f.sort();
    assert_eq!(f, vec!["item_id", "queue_id"]);
    let r = app
        .post(
            &coord,
            "/api/v1/routing-rules",
            json!({"position": 1, "queue_id": dev}),
        )
        .await;
    assert_eq!(r.fields(), vec!["position"]);
    let rh = app.token("rh1").await;
    assert_eq!(app.get(&rh, "/api/v1/routing-rules").await.status, 200);
    assert_eq!(
        app.delete(&rh, &format!("/api/v1/routing-rules/{rule}"))
            .await
            .status,
        403
    );
    assert_eq!(
        app.delete(&coord, &format!("/api/v1/routing-rules/{rule}"))
            .await
            .status,
        204
    );
}

/// A backlog larger than one batch: the first run closes a batch and queues the next; every
/// due ticket ends closed, each once.
#[tokio::test]
async fn a_backlog_larger_than_a_batch_is_closed_in_several_short_runs() {
    let app = TestApp::spawn().await;
    let id = open_acme(&app, "low").await;
    resolve(&app, id).await;
    let cols = "organization_id, kind, parent_id, follow_up_of, item_id, title, description, priority, state, \
        pending_on, pending_reason, queue_id, team, assignee_id, requester_id, calendar_id, round_the_clock, \
        opened_at, received_at, sla_pinned_at, response_target_s, response_accrued_s, response_running_since, \
        response_due_at, response_breached_at, response_stopped_at, resolution_target_s, resolution_accrued_s, \
        resolution_running_since, resolution_due_at, resolution_breached_at, resolution_stopped_at, solution, \
        resolved_at, resolution_no, auto_close_at, closed_at, close_reason, reopen_count, version, updated_at, \
        escalation_policy_id, escalation_level";
    let copies = gmud_api::tickets::timers::AUTO_CLOSE_BATCH + 1;
    let made = app
        .count(&format!(
            "WITH ins AS (INSERT INTO tickets ({cols}) SELECT {cols} FROM tickets, generate_series(1, {copies}) \
             WHERE id = {id} RETURNING 1) SELECT count(*) FROM ins"
        ))
        .await;
    assert_eq!(made, copies);
    app.set_now(at_sp(2026, 11, 30, 9, 0));
    app.run_jobs().await;
    assert_eq!(
        app.count("SELECT count(*) FROM tickets WHERE state = 'resolved'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE entity = 'ticket' AND action = 'auto_close'")
            .await,
        copies + 1
    );
    // More than one run did it, each within one batch.
    let runs = app
        .count("SELECT count(*) FROM jobs WHERE kind = 'ticket_auto_close' AND status = 'done'")
        .await;
    assert!(runs >= 2, "{runs} runs");
    // The full batch started two chains (two workers can take batches side by side); the
    // batches after it were not full, so neither went on.
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind = 'ticket_auto_close' AND payload->>'continuation' = 'true'")
            .await,
        2
    );
}

#[tokio::test]
async fn a_text_search_pages_through_the_newest_tickets_and_then_the_older_matches() {
    let app = TestApp::spawn().await;
    let oldest = open_as(
        &app,
        "customer.acme",
        "esocial",
        "low",
        "Plano de contingência acionado na filial",
    )
    .await;
    assert_eq!(oldest.status, 201, "{oldest:?}");
    // More tickets than a page of one reads in id order (40 × 2) lie between it and the others.
    for i in 0..81 {
        let r = open_as(
            &app,
            "customer.acme",
            "esocial",
            "low",
            &format!("Erro no evento S-1200 número {i}"),
        )
        .await;
        assert_eq!(r.status, 201, "{r:?}");
    }
    let middle = open_as(
        &app,
        "customer.acme",
        "esocial",
        "low",
        "Contingências do eSocial",
    )
    .await;
    let newest = open_as(&app, "customer.acme", "esocial", "low", "Nova contingência").await;
    let ids = |r: &Resp| -> Vec<i64> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    let t = app.token("rh1").await;
    let mut seen = vec![];
    let mut path = "/api/v1/tickets?q=conting%C3%AAncia&limit=1".to_string();
    loop {
        let r = app.get(&t, &path).await;
        assert_eq!(r.status, 200, "{r:?}");
        seen.extend(ids(&r));
        match r.body["next_cursor"].as_i64() {
            Some(c) => path = format!("/api/v1/tickets?q=conting%C3%AAncia&limit=1&cursor={c}"),
            None => break,
        }
        assert!(seen.len() <= 3, "{seen:?}");
    }
    let want: Vec<i64> = [&newest, &middle, &oldest]
        .iter()
        .map(|r| r.body["id"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, want);
    // One page of ten: both steps in one answer, newest first.
    let r = app
        .get(&t, "/api/v1/tickets?q=conting%C3%AAncia&limit=10")
        .await;
    assert_eq!(ids(&r), want);
    assert_eq!(r.body["next_cursor"], Value::Null);
    // Another organisation's customer finds none of them.
    let g = app.token("customer.globex").await;
    let r = app.get(&g, "/api/v1/tickets?q=conting%C3%AAncia").await;
    assert_eq!(ids(&r), Vec::<i64>::new());
}
