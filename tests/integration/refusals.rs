//! What a refusal tells, and to whom (issue 8: item 10, behaviour 1–3, 5, 6): a caller without
//! the role learns nothing about the record; a 409 names real request fields; a 422 names every
//! bad field; `allowed_actions` lists what a valid body makes possible.
use gmud_tests::{at_sp, json, normal_rdm, Resp, TestApp};

/// The parts of a 403 that must not vary with the record behind it.
fn shape(r: &Resp) -> serde_json::Value {
    json!({"status": r.status, "code": r.body["code"], "detail": r.body["detail"],
           "current_state": r.body.get("current_state"), "allowed_actions": r.body.get("allowed_actions"),
           "current_version": r.body.get("current_version")})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_the_role_is_refused_before_the_record_is_read() {
    let app = TestApp::spawn().await;
    let id = app
        .rdm_po_approved(normal_rdm("Trocar certificado", 1))
        .await;
    let customer = app.token("customer.acme").await;
    let missing = 9_999_999;

    // approve: an existing RDM, one that does not exist, a stale If-Match, a bad body.
    let existing = app
        .post_empty(&customer, &format!("/api/v1/rdms/{id}/approve"))
        .await;
    let absent = app
        .post_empty(&customer, &format!("/api/v1/rdms/{missing}/approve"))
        .await;
    assert_eq!(existing.status, 403, "{existing:?}");
    assert_eq!(shape(&existing), shape(&absent));
    assert!(existing.body.get("current_state").is_none(), "{existing:?}");
    assert!(
        existing.body.get("allowed_actions").is_none(),
        "{existing:?}"
    );
    let stale = app
        .client
        .post(app.url(&format!("/api/v1/rdms/{id}/approve")))
        .bearer_auth(&customer)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 403);
    let bad_body = app
        .post(
            &customer,
            &format!("/api/v1/rdms/{missing}/cancel"),
            json!({"reason": 5, "colour": "red"}),
        )
        .await;
    assert_eq!(bad_body.status, 403, "{bad_body:?}");

    // Editing and recording a notification: the same, whether the RDM exists or not.
    for path in [
        format!("/api/v1/rdms/{id}"),
        format!("/api/v1/rdms/{missing}"),
    ] {
        let r = app
            .patch(&customer, &path, json!({"title": 5}), Some("\"9\""))
            .await;
        assert_eq!(r.status, 403, "{path}: {r:?}");
    }
    let a = app
        .post(
            &customer,
            &format!("/api/v1/rdms/{id}/customer-notification"),
            json!({"notified_at": "2999-01-01T00:00:00Z"}),
        )
        .await;
    let b = app
        .post(
            &customer,
            &format!("/api/v1/rdms/{missing}/customer-notification"),
            json!({}),
        )
        .await;
    assert_eq!((a.status, b.status), (403, 403), "{a:?} {b:?}");
    assert_eq!(shape(&a), shape(&b));
    // A create with a bad body from a customer: 403, not 422.
    let r = app
        .post(&customer, "/api/v1/rdms", json!({"title": 1}))
        .await;
    assert_eq!(r.status, 403, "{r:?}");

    // Staff without the role read RDMs anyway, but even their 403 carries no state.
    let r = app.act("po", id, "approve", None).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.body.get("current_state").is_none(), "{r:?}");
    // The requester's own actions are open to whoever may file an RDM: the lookup decides.
    let r = app
        .act("requester", id, "cancel", Some(json!({"reason": "x"})))
        .await;
    assert_eq!(r.status, 403, "not the requester: {r:?}");
    assert_eq!(r.body["code"], "forbidden");
    assert!(r.body.get("current_state").is_none(), "{r:?}");
    // Nothing was written by any of it.
    assert_eq!(app.rdm(id).await.body["state"], "po_approved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_actions_list_what_a_valid_body_makes_possible() {
    let app = TestApp::spawn().await;
    let id = app
        .rdm_po_approved(normal_rdm("Atualizar leiaute", 1))
        .await;
    // Medium risk: the change manager cannot approve alone, and is told why.
    let r = app.act("gm", id, "approve", None).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.get("missing").is_none(), "the risk is set: {r:?}");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("only low-risk changes may skip the committee"),
        "{detail}"
    );
    assert!(!r.body["allowed_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("approve")));
    let r = app.edit("gm", id, json!({"risk": "low"})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body["allowed_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("approve")));
    app.must("gm", id, "approve", None, "approved").await;

    // Approved: `schedule` is offered (the window comes in the body) and succeeds.
    let r = app.rdm(id).await;
    assert_eq!(r.body["allowed_actions"], json!(["schedule", "cancel"]));
    let r = app.act("gm", id, "schedule", None).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(
        r.body["missing"],
        json!(["window_id"]),
        "a field of the request"
    );
    let windows = app.windows_from(app.now()).await;
    let wid = windows[0]["id"].as_i64().unwrap();
    let r = app
        .must(
            "gm",
            id,
            "schedule",
            Some(json!({"window_id": wid})),
            "scheduled",
        )
        .await;
    assert_eq!(r.body["allowed_actions"], json!(["unschedule", "cancel"]));

    // After the window has passed, starting is refused with the way out.
    app.set_now(at_sp(2026, 11, 26, 7, 0));
    let r = app.act("agent", id, "start-execution", None).await;
    assert_eq!(r.status, 409, "{r:?}");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("window {wid}")), "{detail}");
    assert!(detail.contains("has passed"), "{detail}");
    assert!(detail.contains("unschedule"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_names_fields_of_the_request_that_supplies_them() {
    let app = TestApp::spawn().await;
    let body = json!({"rdm_type": "normal", "title": "Sem plano"});
    let id = app.create_rdm("tester", body).await;
    let r = app.act("tester", id, "submit", None).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(
        r.body["missing"],
        json!([
            "description",
            "configuration_item_ids",
            "implementation_plan",
            "estimated_duration_minutes"
        ])
    );
    // Every name is a field the form accepts.
    for f in r.body["missing"].as_array().unwrap() {
        let f = f.as_str().unwrap();
        let mut probe = json!({});
        probe[f] = json!(null);
        let e = app.edit("tester", id, probe).await;
        assert_ne!(e.body["errors"][0]["code"], "unknown_field", "{f}: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_names_every_bad_field_at_once() {
    let app = TestApp::spawn().await;
    let t = app.token("tester").await;
    let before = app.count("SELECT count(*) FROM rdms").await;
    let r = app
        .post(
            &t,
            "/api/v1/rdms",
            json!({"title": "ab", "impact": "huge", "estimated_duration_minutes": 0}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(
        r.fields(),
        vec!["estimated_duration_minutes", "impact", "title"]
    );
    // Unknown and badly typed fields, and a missing title, all in one answer.
    let r = app
        .post(
            &t,
            "/api/v1/rdms",
            json!({"urgency": 3, "colour": "red", "risk": "x", "estimated_rollback_minutes": -1}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(
        r.fields(),
        vec![
            "colour",
            "estimated_rollback_minutes",
            "risk",
            "title",
            "urgency"
        ]
    );
    assert_eq!(app.count("SELECT count(*) FROM rdms").await, before);
}
