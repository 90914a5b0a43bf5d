//! The weekly operations review (SPEC §7) over HTTP: a week built by hand through the API
//! (tickets opened, responded, escalated, breached, pended, resolved, reopened, confirmed,
//! cancelled; RDMs implemented, failed, rolled back, one emergency; a change that caused an
//! incident) plus problems and knowledge-base uses written in SQL (their API is the lead's),
//! then every figure checked against values worked out by hand below, in JSON, CSV and the
//! HTML page (in a real headless browser); roles, bad periods, drill-downs and the replica.
use gmud_tests::{at_sp, json, normal_rdm, Resp, TestApp};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

async fn open(app: &TestApp, user: &str, item: i64, priority: &str, title: &str) -> i64 {
    let t = app.token(user).await;
    let r = app
        .post(
            &t,
            "/api/v1/tickets",
            json!({"item_id": item, "title": title, "description": "Revisão semanal", "priority": priority}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    r.body["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, user: &str, id: i64, action: &str, body: Value, to: &str) {
    let t = app.token(user).await;
    let r = app
        .post(&t, &format!("/api/v1/tickets/{id}/{action}"), body)
        .await;
    assert_eq!(r.status, 200, "{user} {action} {id}: {r:?}");
    assert_eq!(r.body["state"], to, "{user} {action} {id}");
}

/// An emergency RDM taken to execution (CME approval, customers notified), as in
/// rdm_lifecycle.rs.
async fn emergency_in_execution(app: &TestApp, title: &str) -> i64 {
    let mut body = normal_rdm(title, 1);
    body["rdm_type"] = json!("emergency");
    let id = app.create_rdm("tester", body).await;
    app.must("tester", id, "submit", None, "submitted").await;
    app.must("gm", id, "start-assessment", None, "assessment")
        .await;
    let r = app
        .edit(
            "tester",
            id,
            json!({"homologation_evidence": "Validado em homologação"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .edit("cloud1", id, json!({"technical_opinion": "Seguro"}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    app.must("gm", id, "send-to-committee", None, "awaiting_committee")
        .await;
    for u in ["cme1", "cme2"] {
        let t = app.token(u).await;
        app.post(
            &t,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    }
    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            &format!("/api/v1/rdms/{id}/customer-notification"),
            json!({"note": "Aviso no portal"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    app.must("agent", id, "start-execution", None, "in_execution")
        .await;
    id
}

fn figure<'a>(figures: &'a Value, key: &str) -> &'a Value {
    figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no figure {key} in {figures}"))
}

/// Checks a figure's value, numerator and denominator.
fn check(figures: &Value, key: &str, value: Option<f64>, num: i64, den: Option<i64>) {
    let f = figure(figures, key);
    match value {
        Some(v) => {
            let got = f["value"]
                .as_f64()
                .unwrap_or_else(|| panic!("{key}: no value in {f}"));
            assert!((got - v).abs() < 1e-6, "{key}: {got} != {v} ({f})");
        }
        None => assert!(f["value"].is_null(), "{key}: {f}"),
    }
    assert_eq!(f["numerator"], json!(num), "{key}: {f}");
    assert_eq!(f["denominator"], json!(den), "{key}: {f}");
    assert!(
        !f["formula"].as_str().unwrap_or_default().is_empty(),
        "{key}: {f}"
    );
}

async fn drill(app: &TestApp, token: &str, query: &str) -> (Vec<i64>, Value) {
    let r = app
        .get(
            token,
            &format!("/api/v1/reports/ops-review/drill-down?{query}"),
        )
        .await;
    assert_eq!(r.status, 200, "{query}: {r:?}");
    let ids = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    (ids, r.body)
}

fn set(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().copied().collect()
}

async fn chromium(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("chromium")
            .args([
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
            ])
            .args(args)
            .output()
            .expect("run chromium (apt-get install -y chromium; .ci/run installs it)")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_review_matches_a_week_worked_out_by_hand() {
    let app = TestApp::spawn().await;
    let (esocial, cloud) = (1, 3);
    let (acme, globex) = (1, 2);
    // Monday 2026-11-23, São Paulo. T1: medium eSocial (ACME).
    app.set_now(at_sp(2026, 11, 23, 9, 0));
    let t1 = open(
        &app,
        "customer.acme",
        esocial,
        "medium",
        "Falha no envio do S-1200",
    )
    .await;
    // T2: high eSocial (ACME): escalates at 50 % (09:30) and 100 % (10:00) of its 60-minute
    // first-response target, which breaches at 10:00.
    let t2 = open(
        &app,
        "customer.acme",
        esocial,
        "high",
        "Lote rejeitado pelo governo",
    )
    .await;
    // The change that will fix T1, through the committee (Thursday's window).
    let n1 = app
        .rdm_awaiting_committee("Atualizar leiaute eSocial", 1)
        .await;
    for u in ["cm1", "cm2"] {
        let t = app.token(u).await;
        app.post(
            &t,
            &format!("/api/v1/rdms/{n1}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    }
    let wid = app.windows_from(app.now()).await[0]["id"].as_i64().unwrap();
    app.must(
        "gm",
        n1,
        "schedule",
        Some(json!({"window_id": wid})),
        "scheduled",
    )
    .await;

    app.set_now(at_sp(2026, 11, 23, 9, 45));
    app.run_jobs().await;
    app.set_now(at_sp(2026, 11, 23, 10, 0));
    // T4: medium cloud (GLOBEX, 24×7 clocks).
    let t4 = open(&app, "customer.globex", cloud, "medium", "VM sem rede").await;
    act(&app, "rh1", t1, "start", json!({}), "in_progress").await; // first response: 1 h
    app.set_now(at_sp(2026, 11, 23, 10, 15));
    app.run_jobs().await;
    app.set_now(at_sp(2026, 11, 23, 10, 30));
    act(&app, "cloud1", t4, "start", json!({}), "in_progress").await; // 0.5 h
    app.set_now(at_sp(2026, 11, 23, 11, 0));
    // T3: low eSocial (GLOBEX): never answered, the backlog at the week's end.
    let t3 = open(
        &app,
        "customer.globex",
        esocial,
        "low",
        "Dúvida sobre o evento S-2200",
    )
    .await;
    act(&app, "rh1", t2, "start", json!({}), "in_progress").await; // 2 h, breached
    act(
        &app,
        "cloud1",
        t4,
        "pend",
        json!({"pending_on": "customer", "reason": "Aguardando acesso"}),
        "pending",
    )
    .await;
    app.set_now(at_sp(2026, 11, 23, 13, 0));
    act(
        &app,
        "rh1",
        t1,
        "resolve",
        json!({"solution": "Reenvio do lote"}),
        "resolved",
    )
    .await;
    act(&app, "cloud1", t4, "resume", json!({}), "in_progress").await;
    app.set_now(at_sp(2026, 11, 23, 14, 0));
    act(
        &app,
        "rh1",
        t2,
        "resolve",
        json!({"solution": "Lote corrigido"}),
        "resolved",
    )
    .await;
    act(&app, "customer.acme", t1, "confirm", json!({}), "closed").await;
    app.set_now(at_sp(2026, 11, 23, 15, 0));
    act(
        &app,
        "cloud1",
        t4,
        "resolve",
        json!({"solution": "Rota refeita"}),
        "resolved",
    )
    .await;
    act(
        &app,
        "customer.acme",
        t2,
        "reopen",
        json!({"reason": "Voltou a falhar"}),
        "in_progress",
    )
    .await;
    app.set_now(at_sp(2026, 11, 23, 15, 30));
    act(&app, "customer.globex", t4, "confirm", json!({}), "closed").await;
    app.set_now(at_sp(2026, 11, 23, 16, 30));
    act(
        &app,
        "rh1",
        t2,
        "resolve",
        json!({"solution": "Certificado trocado"}),
        "resolved",
    )
    .await;
    // Two emergency changes: one fails and is rolled back, one is implemented (and caused T4).
    app.set_now(at_sp(2026, 11, 23, 17, 0));
    let e1 = emergency_in_execution(&app, "Correção emergencial do certificado").await;
    app.must(
        "agent",
        e1,
        "fail",
        Some(json!({"reason": "Certificado rejeitado"})),
        "failed",
    )
    .await;
    app.must("agent", e1, "roll-back", None, "rolled_back")
        .await;
    let e2 = emergency_in_execution(&app, "Troca emergencial da rota").await;
    app.must("agent", e2, "complete", None, "implemented").await;

    // Tuesday: T5 opened and cancelled; the links between incidents and changes.
    app.set_now(at_sp(2026, 11, 24, 9, 0));
    let t5 = open(
        &app,
        "customer.acme",
        esocial,
        "low",
        "Aberto em duplicidade",
    )
    .await;
    app.set_now(at_sp(2026, 11, 24, 9, 30));
    act(
        &app,
        "rh1",
        t5,
        "cancel",
        json!({"reason": "Duplicado"}),
        "cancelled",
    )
    .await;
    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            &format!("/api/v1/tickets/{t4}/rdms"),
            json!({"rdm_id": e2, "relation": "caused_by"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .post(
            &gm,
            &format!("/api/v1/tickets/{t1}/rdms"),
            json!({"rdm_id": n1}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .post(
            &gm,
            &format!("/api/v1/tickets/{t2}/rdms"),
            json!({"rdm_id": n1, "relation": "broke_it"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    let r = app.get(&gm, &format!("/api/v1/rdms/{e2}/tickets")).await;
    assert_eq!(r.body[0]["id"], json!(t4), "{r:?}");
    assert_eq!(r.body[0]["relation"], "caused_by", "{r:?}");
    let r = app.get(&gm, &format!("/api/v1/rdms/{n1}/tickets")).await;
    assert_eq!(r.body[0]["relation"], "fixed_by", "{r:?}");

    // Problems and the knowledge base (SQL: their API is not on this branch).
    let owner = app.user_id("coord").await;
    app.exec(&format!(
        "INSERT INTO problems (id, title, owner_id, opened_at, updated_at) VALUES
           (901, 'Certificado do eSocial expira sem aviso', {owner}, '2026-11-24 12:00Z', '2026-11-24 12:00Z'),
           (902, 'Rota da VPC perdida após manutenção', {owner}, '2026-11-24 12:00Z', '2026-11-24 12:00Z'),
           (903, 'Fora do período', {owner}, '2026-11-24 12:00Z', '2026-11-24 12:00Z');
         INSERT INTO problem_incidents (problem_id, ticket_id, organization_id, linked_by, linked_at) VALUES
           (901, {t1}, {acme}, {owner}, '2026-11-24 13:00Z'),
           (901, {t2}, {acme}, {owner}, '2026-11-24 13:00Z'),
           (902, {t4}, {globex}, {owner}, '2026-11-25 13:00Z'),
           (903, {t3}, {globex}, {owner}, '2026-12-01 13:00Z');
         INSERT INTO kb_articles (id, kind, title, body, author_id, created_at, updated_at) VALUES
           (801, 'how_to', 'Reenviar lote do eSocial', 'Passo a passo', {owner}, '2026-11-20 12:00Z', '2026-11-20 12:00Z');
         INSERT INTO kb_article_uses (article_id, ticket_id, organization_id, used_by, used_at, solved) VALUES
           (801, {t1}, {acme}, {owner}, '2026-11-23 15:00Z', true),
           (801, {t4}, {globex}, {owner}, '2026-11-23 16:00Z', false),
           (801, {t3}, {globex}, {owner}, '2026-12-01 16:00Z', true);"
    ))
    .await;

    // Thursday's window: the normal change is implemented.
    app.set_now(at_sp(2026, 11, 26, 0, 30));
    app.must("agent", n1, "start-execution", None, "in_execution")
        .await;
    app.must("agent", n1, "complete", None, "implemented").await;
    // The next Monday: T6 falls after the period.
    app.set_now(at_sp(2026, 11, 30, 10, 0));
    let t6 = open(&app, "customer.acme", esocial, "low", "Semana seguinte").await;

    // What happened, to the second: T2 escalated to levels 1 and 2.
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM events WHERE entity = 'ticket' AND action = 'escalate' AND entity_id = {t2}")).await,
        2
    );

    let coord = app.token("coord").await;
    // Default period: the last full week (Monday 23 to Sunday 29), São Paulo.
    let r = app.get(&coord, "/api/v1/reports/ops-review").await;
    assert_eq!(r.status, 200, "{r:?}");
    let b = &r.body;
    assert_eq!(b["period"]["from"], "2026-11-23");
    assert_eq!(b["period"]["to"], "2026-11-29");
    let f = &b["figures"];
    check(f, "opened", Some(5.0), 5, None); // T1–T5 (T6 is the next week)
    check(f, "resolved", Some(3.0), 3, None); // T1, T2 (last resolution 16:30), T4
    check(f, "closed", Some(2.0), 2, None); // T1, T4 confirmed
    check(f, "cancelled", Some(1.0), 1, None); // T5
    check(f, "backlog", Some(1.0), 1, None); // T3
                                             // First response: T1 met (1 h of 4), T4 met (0.5 h of 2), T2 breached (2 h of 1).
    check(f, "response_sla", Some(0.6667), 2, Some(3));
    // Resolution: T1 4 h of 24, T2 5 h + 1.5 h of 8, T4 3 h (2 h pending) of 12.
    check(f, "resolution_sla", Some(1.0), 3, Some(3));
    // MTTA: (1 h + 2 h + 0.5 h) / 3, the same in business and wall-clock hours here.
    check(f, "mtta_business_hours", Some(1.17), 12600, Some(3));
    check(f, "mtta_wall_hours", Some(1.17), 12600, Some(3));
    // MTTR business: (4 + 6.5 + 3) h / 3; wall: (4 + 7.5 + 5) h / 3.
    check(f, "mttr_business_hours", Some(4.5), 48600, Some(3));
    check(f, "mttr_wall_hours", Some(5.5), 59400, Some(3));
    check(f, "reopen_rate", Some(0.3333), 1, Some(3)); // T2
    check(f, "escalations", Some(2.0), 2, None);
    check(f, "escalations_level_1", Some(1.0), 1, None);
    check(f, "escalations_level_2", Some(1.0), 1, None);
    check(f, "problem_linked_incidents", Some(3.0), 3, None);
    check(f, "problems_with_incidents", Some(2.0), 2, None);
    check(f, "kb_used", Some(2.0), 2, None); // T1, T4 (T3's use is in December)
    check(f, "kb_solved", Some(0.5), 1, Some(2));
    // Changes: E1 failed and rolled back, E2 implemented (emergency both), N1 implemented.
    check(f, "changes_executed", Some(3.0), 3, None);
    check(f, "changes_failed", Some(1.0), 1, None);
    check(f, "changes_rolled_back", Some(1.0), 1, None);
    check(f, "emergency_share", Some(0.6667), 2, Some(3));
    check(f, "change_success_rate", Some(0.6667), 2, Some(3));
    check(f, "change_failure_rate", Some(0.3333), 1, Some(3)); // E2 caused T4
    check(f, "incidents_caused_by_changes", Some(1.0), 1, None);
    assert_eq!(
        b["top_problems"],
        json!([
            {"problem_id": 901, "title": "Certificado do eSocial expira sem aviso", "state": "new", "incidents": 2},
            {"problem_id": 902, "title": "Rota da VPC perdida após manutenção", "state": "new", "incidents": 1}
        ])
    );
    // The breakdowns.
    let groups = |key: &str| -> BTreeMap<i64, Value> {
        b[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["id"].as_i64().unwrap(), g["figures"].clone()))
            .collect()
    };
    let items = groups("by_item");
    assert_eq!(
        items.keys().copied().collect::<Vec<_>>(),
        vec![esocial, cloud]
    );
    check(&items[&esocial], "opened", Some(4.0), 4, None);
    check(&items[&esocial], "backlog", Some(1.0), 1, None);
    check(&items[&esocial], "response_sla", Some(0.5), 1, Some(2));
    check(
        &items[&esocial],
        "mttr_business_hours",
        Some(5.25),
        37800,
        Some(2),
    );
    check(&items[&cloud], "opened", Some(1.0), 1, None);
    check(&items[&cloud], "mttr_wall_hours", Some(5.0), 18000, Some(1));
    let orgs = groups("by_organization");
    check(&orgs[&acme], "opened", Some(3.0), 3, None);
    check(&orgs[&acme], "reopen_rate", Some(0.5), 1, Some(2));
    check(&orgs[&globex], "opened", Some(2.0), 2, None);
    check(&orgs[&globex], "backlog", Some(1.0), 1, None);
    // The trend: 8 weeks ending Sunday 29, only the last one has tickets.
    let trend = b["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 8);
    assert_eq!(trend[7]["from"], "2026-11-23");
    assert_eq!(trend[0]["from"], "2026-10-05");
    assert_eq!(
        (trend[7]["opened"].clone(), trend[7]["resolved"].clone()),
        (json!(5), json!(3))
    );
    assert_eq!(trend[7]["mttr_business_hours"], json!(4.5));
    assert_eq!(trend[6]["opened"], json!(0));

    // Filters: one organisation (GLOBEX: T3, T4); one service (eSocial).
    let r = app
        .get(
            &coord,
            &format!(
                "/api/v1/reports/ops-review?from=2026-11-23&to=2026-11-29&organization_id={globex}"
            ),
        )
        .await;
    let f = &r.body["figures"];
    check(f, "opened", Some(2.0), 2, None);
    check(f, "resolved", Some(1.0), 1, None);
    check(f, "mttr_business_hours", Some(3.0), 10800, Some(1));
    check(f, "kb_used", Some(1.0), 1, None);
    check(f, "kb_solved", Some(0.0), 0, Some(1));
    check(f, "escalations", Some(0.0), 0, None);
    check(f, "problem_linked_incidents", Some(1.0), 1, None);
    check(f, "changes_executed", Some(3.0), 3, None); // changes are not per organisation
    let r = app
        .get(
            &coord,
            &format!("/api/v1/reports/ops-review?from=2026-11-23&to=2026-11-29&item_id={esocial}"),
        )
        .await;
    check(&r.body["figures"], "resolution_sla", Some(1.0), 2, Some(2));
    // The next week: T6 opened, the backlog carried over.
    let r = app
        .get(
            &coord,
            "/api/v1/reports/ops-review?from=2026-11-30&to=2026-12-06",
        )
        .await;
    check(&r.body["figures"], "opened", Some(1.0), 1, None);
    check(&r.body["figures"], "backlog", Some(2.0), 2, None);
    check(&r.body["figures"], "response_sla", None, 0, Some(0));

    // Drill-downs: the records behind the figures, paginated.
    let q = "from=2026-11-23&to=2026-11-29";
    let (ids, _) = drill(&app, &coord, &format!("figure=opened&{q}")).await;
    assert_eq!(set(&ids), set(&[t1, t2, t3, t4, t5]));
    let (ids, page) = drill(&app, &coord, &format!("figure=opened&{q}&limit=2")).await;
    assert_eq!(ids, vec![t5, t3]); // newest first: T3 was opened after T4
    let cursor = page["next_cursor"].as_i64().unwrap();
    let (ids, _) = drill(
        &app,
        &coord,
        &format!("figure=opened&{q}&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids, vec![t4, t2]);
    assert_eq!(
        drill(&app, &coord, &format!("figure=backlog&{q}")).await.0,
        vec![t3]
    );
    // A ratio lists its denominator, each record saying whether it is in the numerator.
    let numerators = |page: &Value| -> Vec<(i64, Value)> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["id"].as_i64().unwrap(), i["in_numerator"].clone()))
            .collect()
    };
    let (_, page) = drill(&app, &coord, &format!("figure=reopen_rate&{q}")).await;
    assert_eq!(
        numerators(&page),
        vec![(t4, json!(false)), (t2, json!(true)), (t1, json!(false))]
    );
    let (_, page) = drill(&app, &coord, &format!("figure=opened&{q}&limit=1")).await;
    assert_eq!(numerators(&page), vec![(t5, Value::Null)]);
    assert_eq!(
        set(&drill(&app, &coord, &format!("figure=response_sla&{q}"))
            .await
            .0),
        set(&[t1, t2, t4])
    );
    assert_eq!(
        drill(&app, &coord, &format!("figure=escalations_level_2&{q}"))
            .await
            .0,
        vec![t2]
    );
    assert_eq!(
        set(&drill(
            &app,
            &coord,
            &format!("figure=problem_linked_incidents&{q}")
        )
        .await
        .0),
        set(&[t1, t2, t4])
    );
    assert_eq!(
        drill(
            &app,
            &coord,
            &format!("figure=kb_used&{q}&organization_id={globex}")
        )
        .await
        .0,
        vec![t4]
    );
    assert_eq!(
        set(
            &drill(&app, &coord, &format!("figure=changes_executed&{q}"))
                .await
                .0
        ),
        set(&[e1, e2, n1])
    );
    let (_, page) = drill(&app, &coord, &format!("figure=change_failure_rate&{q}")).await;
    // Newest first: N1 was created before the two emergencies.
    assert_eq!(
        numerators(&page),
        vec![(e2, json!(true)), (e1, json!(false)), (n1, json!(false))]
    );
    let rdm_numbers: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert!(
        rdm_numbers.contains(&format!("RDM-{e2:06}").as_str()),
        "{rdm_numbers:?}"
    );
    let (_, page) = drill(&app, &coord, &format!("figure=emergency_share&{q}")).await;
    let emergency: BTreeSet<i64> = numerators(&page)
        .into_iter()
        .filter(|(_, n)| *n == json!(true))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(emergency, set(&[e1, e2]));
    assert_eq!(
        drill(
            &app,
            &coord,
            &format!("figure=incidents_caused_by_changes&{q}")
        )
        .await
        .0,
        vec![t4]
    );
    assert_eq!(
        drill(&app, &coord, &format!("figure=changes_rolled_back&{q}"))
            .await
            .0,
        vec![e1]
    );
    let link = figure(f, "opened")["drill_down"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        link.contains("figure=opened") && link.contains(&format!("organization_id={globex}")),
        "{link}"
    );
    assert!(!drill(&app, &coord, &format!("figure=opened&{q}"))
        .await
        .0
        .contains(&t6));

    // CSV: one figure per row, with its formula.
    let r = app.get(&coord, "/api/v1/reports/ops-review.csv").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.content_type().starts_with("text/csv"),
        "{}",
        r.content_type()
    );
    let csv = r.body.as_str().unwrap().to_string();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "from,to,group,group_id,figure,label,value,unit,numerator,denominator,formula"
    );
    let row = |prefix: &str| {
        csv.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row {prefix} in\n{csv}"))
            .to_string()
    };
    assert!(row("2026-11-23,2026-11-29,all,,opened,")
        .contains(",5,count,5,,incidents opened in the period"));
    assert!(row("2026-11-23,2026-11-29,all,,change_failure_rate,").contains(",0.3333,ratio,1,3,"));
    assert!(row(&format!("2026-11-23,2026-11-29,item,{esocial},opened,")).contains(",4,count,4,"));
    assert!(row(&format!(
        "2026-11-23,2026-11-29,organization,{globex},backlog,"
    ))
    .contains(",1,count,1,"));

    // The HTML page: the signed link opens it without a token, in a real browser.
    let html_url = b["html_url"].as_str().unwrap().to_string();
    assert!(
        html_url.starts_with(&app.url("/reports/ops-review?from=2026-11-23&to=2026-11-29&user=")),
        "{html_url}"
    );
    let page = app.client.get(&html_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let out = chromium(vec!["--dump-dom".into(), html_url.clone()]).await;
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in [
        "grafico-abertos-resolvidos",
        "grafico-sla-servico",
        "grafico-mttr",
        "grafico-mudancas",
    ] {
        let at = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no chart {id} in the DOM"));
        assert!(
            dom[at..].find("<svg").is_some_and(|s| s < 400),
            "{id} holds no SVG"
        );
    }
    assert!(dom.matches("<svg").count() >= 4);
    assert!(
        dom.matches("<rect").count() >= 4 && dom.contains("<polyline"),
        "bars and lines drawn"
    );
    assert!(
        dom.contains("Abertos x resolvidos por semana")
            && dom.contains("Taxa de falha de mudanças")
    );
    assert!(!dom.contains("gráfico indisponível"));
    assert!(
        dom.contains("relógios de resolução atendidos / relógios de resolução encerrados"),
        "pt-BR formulas"
    );
    let pdf = std::env::temp_dir().join(format!("{}-ops-review.pdf", app.db_name));
    let out = chromium(vec![
        format!("--print-to-pdf={}", pdf.display()),
        "--no-pdf-header-footer".into(),
        html_url.clone(),
    ])
    .await;
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).expect("the page printed to PDF");
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
    let _ = std::fs::remove_file(&pdf);
    if let Ok(path) = std::env::var("OPS_REVIEW_SCREENSHOT") {
        chromium(vec![
            format!("--screenshot={path}"),
            "--window-size=1200,1400".into(),
            html_url.clone(),
        ])
        .await;
    }
    // Altered or expired links open nothing.
    let tampered = html_url.replace("to=2026-11-29", "to=2026-11-28");
    assert_eq!(
        app.client.get(&tampered).send().await.unwrap().status(),
        403
    );
    app.set_now(at_sp(2026, 11, 30, 10, 16));
    assert_eq!(
        app.client.get(&html_url).send().await.unwrap().status(),
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_read_the_review_bad_periods_and_the_replica() {
    let app = TestApp::spawn().await;
    app.set_now(at_sp(2026, 11, 23, 9, 0));
    open(&app, "customer.acme", 1, "medium", "Antes do relatório").await;
    for u in ["coord", "gm", "admin"] {
        let t = app.token(u).await;
        let r = app
            .get(
                &t,
                "/api/v1/reports/ops-review?from=2026-11-23&to=2026-11-29",
            )
            .await;
        assert_eq!(r.status, 200, "{u}: {r:?}");
    }
    for u in ["customer.acme", "rh1", "requester"] {
        let t = app.token(u).await;
        for path in [
            "/api/v1/reports/ops-review",
            "/api/v1/reports/ops-review.csv",
            "/api/v1/reports/ops-review/drill-down?figure=opened",
        ] {
            let r = app.get(&t, path).await;
            assert_eq!(r.status, 403, "{u} {path}: {r:?}");
        }
    }
    assert_eq!(app.get("", "/api/v1/reports/ops-review").await.status, 401);
    let coord = app.token("coord").await;
    let bad = |r: &Resp| {
        assert_eq!(r.status, 400, "{r:?}");
        assert_eq!(r.content_type(), "application/problem+json");
        assert_eq!(r.body["code"], "invalid_query");
        r.fields()
    };
    let r = app
        .get(
            &coord,
            "/api/v1/reports/ops-review?from=2026-11-31&to=ontem&item_id=x&organization_id=2",
        )
        .await;
    assert_eq!(bad(&r), vec!["from", "to", "item_id"]);
    let r = app
        .get(
            &coord,
            "/api/v1/reports/ops-review.csv?from=2026-11-29&to=2026-11-23",
        )
        .await;
    assert_eq!(bad(&r), vec!["from", "to"]);
    let r = app
        .get(
            &coord,
            "/api/v1/reports/ops-review?from=2024-01-01&to=2026-11-23",
        )
        .await;
    assert_eq!(bad(&r), vec!["to"]);
    let r = app
        .get(
            &coord,
            "/api/v1/reports/ops-review/drill-down?figure=nada&limit=0&from=x",
        )
        .await;
    assert_eq!(bad(&r), vec!["figure", "limit", "from"]);
    let r = app.get(&coord, "/api/v1/reports/ops-review?week=1").await;
    assert_eq!(r.status, 422, "an unknown parameter: {r:?}");

    // The replica: a server whose reports read another database (here a copy without the
    // ticket) answers from it, while its tickets come from the primary.
    let (name, url) = app.spare_database("replica").await;
    let state = app
        .another_instance()
        .with_reports_pool(gmud_api::platform::pool::build_pool(&url, 2).expect("pool"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = gmud_api::http::serve(
        listener,
        state,
        1,
        gmud_api::platform::pool::PoolSpec {
            url: app.db_url.clone(),
            size: 2,
        },
    )
    .unwrap();
    let handle = tokio::spawn(server);
    let get = |base: String| {
        let client = app.client.clone();
        let coord = coord.clone();
        async move {
            let r = client
                .get(format!(
                    "{base}/api/v1/reports/ops-review?from=2026-11-23&to=2026-11-29"
                ))
                .bearer_auth(coord)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let primary = get(app.base.clone()).await;
    let replica = get(base.clone()).await;
    assert_eq!(figure(&primary["figures"], "opened")["value"], json!(1.0));
    assert_eq!(figure(&replica["figures"], "opened")["value"], json!(0.0));
    // Its ticket list still reads the primary.
    let r = app
        .client
        .get(format!("{base}/api/v1/tickets"))
        .bearer_auth(app.token("rh1").await)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    handle.abort();
    app.drop_database(&name).await;
}
