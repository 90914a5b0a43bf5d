//! What the OpenAPI document promises, the server does: bodies are JSON objects (an array is
//! not matched to fields by position), an optional action body may be `null`, a job's payload
//! is an object, and the `Idempotency-Key` limits are both enforced and documented.
use gmud_tests::{json, normal_rdm, TestApp, DEMO_PASSWORD};
use serde_json::Value;

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_array_is_not_a_login() {
    let app = TestApp::spawn().await;
    // serde would take the items as `username` and `password`, in order.
    let r = app
        .post("", "/api/v1/auth/token", json!(["admin", DEMO_PASSWORD]))
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.content_type(), "application/problem+json");
    assert_eq!(r.body["code"], "validation_failed", "{r:?}");
    assert_eq!(r.fields(), ["body"]);
    assert!(r.body["access_token"].is_null());
    // Nor any other JSON that is not an object; what is not JSON stays malformed.
    for body in [json!("admin"), json!(7), json!(true), Value::Null] {
        let r = app.post("", "/api/v1/auth/token", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {r:?}");
        assert_eq!(r.fields(), ["body"], "{body}");
    }
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body("[\"admin\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_array_creates_nothing() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let orgs = app.get(&gm, "/api/v1/organizations").await;
    let org = orgs.body[0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an organisation: {orgs:?}"));
    let before = app.count("SELECT count(*) FROM topologies").await;
    let r = app
        .post(
            &gm,
            &format!("/api/v1/organizations/{org}/topologies"),
            json!(["x"]),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["body"]);
    let r = app
        .post(&gm, "/api/v1/rdms", json!([normal_rdm("x", 1)]))
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(app.count("SELECT count(*) FROM topologies").await, before);
    assert_eq!(
        app.count("SELECT count(*) FROM rdms WHERE title = 'x'")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_or_empty_action_body_is_no_body() {
    let app = TestApp::spawn().await;
    let id = app
        .create_rdm("requester", normal_rdm("Corpo nulo", 1))
        .await;
    // `null`, as the document allows (`null | ActionBody`).
    let r = app.act("requester", id, "submit", Some(Value::Null)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["state"], "submitted");
    // An empty body, with or without a JSON content type, and blank space.
    let gm = app.token("gm").await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/rdms/{id}/start-assessment")))
        .bearer_auth(&gm)
        .header("content-type", "application/json")
        .body(" \n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // No body at all, and no content type.
    let other = app
        .create_rdm("requester", normal_rdm("Sem corpo", 1))
        .await;
    let r = app.act("requester", other, "submit", None).await;
    assert_eq!(r.status, 200, "{r:?}");
    // Anything else must still be an object.
    let r = app.act("gm", id, "veto", Some(json!(["no"]))).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["body"]);
    assert_eq!(app.rdm(id).await.body["state"], "assessment");
    // A flex decision takes the same optional body: `null` reaches the lookup.
    let cm1 = app.token("cm1").await;
    let r = app
        .post(&cm1, "/api/v1/windows/1/flexes/999999/approve", Value::Null)
        .await;
    assert_eq!(r.status, 404, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_tick_payload_is_an_object() {
    let app = TestApp::spawn().await;
    app.state.ensure_recurring_jobs().await.unwrap();
    let admin = app.token("admin").await;
    let r = app.get(&admin, "/api/v1/jobs?kind=calendar_tick").await;
    assert_eq!(r.status, 200, "{r:?}");
    let items = r.body["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{r:?}");
    for j in items {
        assert!(j["payload"].is_object(), "{j}");
    }
    // The database keeps it so: a payload that is not an object is refused.
    let db = client(&app.db_url).await;
    let e = db
        .batch_execute(
            "INSERT INTO jobs (kind, lane, payload, run_at, max_attempts, created_at)
             VALUES ('calendar_tick', 'timers', 'null', now(), 8, now())",
        )
        .await
        .expect_err("a null payload");
    assert!(
        e.as_db_error()
            .unwrap()
            .message()
            .contains("jobs_payload_is_object"),
        "{e}"
    );
}

fn url_for(db: &str) -> String {
    let base = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut u = url::Url::parse(&base).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

/// Ticks queued by an older release stored a `null` payload: the upgrade makes them objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_turns_null_payloads_into_objects() {
    let name = format!("gmud_payload_upgrade_{}", std::process::id());
    let admin = client(&url_for("postgres")).await;
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
    let url = url_for(&name);
    let run = |n: Option<usize>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::Connection;
            use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
            use diesel_async::AsyncPgConnection;
            use diesel_migrations::MigrationHarness;
            let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
            match n {
                Some(n) => {
                    for _ in 0..n {
                        conn.run_next_migration(gmud_api::platform::pool::MIGRATIONS)
                            .unwrap();
                    }
                }
                None => {
                    conn.run_pending_migrations(gmud_api::platform::pool::MIGRATIONS)
                        .unwrap();
                }
            }
        })
    };
    // The queue as the release that introduced it left it.
    run(Some(2)).await.unwrap();
    let db = client(&url).await;
    db.batch_execute(
        "INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at) VALUES
           ('calendar_tick', 'null', now(), 8, now()),
           ('meeting_cutoff', '{\"meeting_id\": 3}', now(), 8, now())",
    )
    .await
    .unwrap();
    run(None).await.unwrap();
    let payloads: Vec<String> = db
        .query("SELECT payload::text FROM jobs ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(payloads, ["{}", "{\"meeting_id\": 3}"]);
    drop(db);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_limits_are_enforced_and_documented() {
    let app = TestApp::spawn().await;
    let t = app.token("requester").await;
    let send = |key: String| {
        app.client
            .post(app.url("/api/v1/rdms"))
            .bearer_auth(&t)
            .header("Idempotency-Key", key)
            .json(&normal_rdm("Chave longa", 1))
            .send()
    };
    for key in ["k".repeat(201), String::new()] {
        let r = send(key.clone()).await.unwrap();
        assert_eq!(r.status(), 422, "{} characters", key.len());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "Idempotency-Key", "{body}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM rdms WHERE title = 'Chave longa'")
            .await,
        0
    );
    let r = send("k".repeat(200)).await.unwrap();
    assert_eq!(r.status(), 201);
    // A key that is not visible ASCII is refused, not ignored.
    let r = app
        .client
        .post(app.url("/api/v1/rdms"))
        .bearer_auth(&t)
        .header(
            "Idempotency-Key",
            reqwest::header::HeaderValue::from_bytes(b"chave-\xe9").unwrap(),
        )
        .json(&normal_rdm("Chave latina", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // The document states the limits on every create that takes the key.
    let doc = app.get("", "/api/v1/openapi.json").await.body;
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "Idempotency-Key" {
                    seen += 1;
                    assert_eq!(p["in"], "header", "{method} {path}");
                    assert_eq!(p["schema"]["minLength"], 1, "{method} {path}");
                    assert_eq!(p["schema"]["maxLength"], 200, "{method} {path}");
                }
            }
        }
    }
    assert_eq!(
        seen, 6,
        "POST /rdms, /delegations, /tickets, /problems, /postmortems and /kb/articles"
    );
}
