//! Logins and tokens under attack and after an account changes: throttling, bounded password
//! checking, revocation of tokens already issued, bodies that are too large.
use gmud_tests::{Options, TestApp, DEMO_PASSWORD};
use serde_json::json;
use std::time::Duration;

async fn login(app: &TestApp, username: &str, password: &str) -> gmud_tests::Resp {
    app.post(
        "",
        "/api/v1/auth/token",
        json!({"username": username, "password": password}),
    )
    .await
}

fn retry_after(r: &gmud_tests::Resp) -> u64 {
    r.headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {r:?}"))
}

#[tokio::test]
async fn an_address_over_its_login_rate_waits_and_costs_no_password_check() {
    let app = TestApp::spawn_with(Options {
        logins_per_address_per_minute: Some(5),
        ..Options::default()
    })
    .await;
    // Five attempts on five accounts: each a plain failure.
    for i in 0..5 {
        let r = login(&app, &format!("ninguem{i}"), "errada-errada").await;
        assert_eq!(r.status, 401, "{r:?}");
    }
    let checked = app.state.password_checks.peak();
    // The sixth, even with the right password, waits.
    let r = login(&app, "tester", DEMO_PASSWORD).await;
    assert_eq!(r.status, 429, "{r:?}");
    assert_eq!(r.body["code"], "too_many_requests");
    assert_eq!(r.content_type(), "application/problem+json");
    let wait = retry_after(&r);
    assert!((1..=12).contains(&wait), "{wait}");
    assert_eq!(r.body["retry_after_seconds"], wait);
    assert_eq!(app.state.password_checks.peak(), checked);
    // A minute later the address may try again.
    app.set_now(app.now() + chrono::Duration::seconds(60));
    assert_eq!(login(&app, "tester", DEMO_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn failures_on_one_account_make_it_wait_longer_each_time_until_a_success() {
    let app = TestApp::spawn_with(Options {
        logins_per_address_per_minute: Some(1000),
        ..Options::default()
    })
    .await;
    for _ in 0..6 {
        assert_eq!(login(&app, "tester", "senha-errada").await.status, 401);
    }
    // Six failures in a row: one second before the next try, right password or not.
    let r = login(&app, "tester", DEMO_PASSWORD).await;
    assert_eq!(r.status, 429, "{r:?}");
    assert_eq!(retry_after(&r), 1);
    // Other accounts are not held up.
    assert_eq!(login(&app, "gm", DEMO_PASSWORD).await.status, 200);
    app.set_now(app.now() + chrono::Duration::seconds(1));
    assert_eq!(login(&app, "tester", "senha-errada").await.status, 401);
    // The seventh failure doubles the wait.
    let r = login(&app, "tester", DEMO_PASSWORD).await;
    assert_eq!(r.status, 429);
    assert_eq!(retry_after(&r), 2);
    app.set_now(app.now() + chrono::Duration::seconds(2));
    assert_eq!(login(&app, "tester", DEMO_PASSWORD).await.status, 200);
    // A success forgives the failures.
    assert_eq!(login(&app, "tester", "senha-errada").await.status, 401);
    assert_eq!(login(&app, "tester", DEMO_PASSWORD).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_logins_never_check_more_passwords_at_once_than_allowed() {
    let app = TestApp::spawn_with(Options {
        logins_per_address_per_minute: Some(10_000),
        password_checks: Some(1),
        ..Options::default()
    })
    .await;
    let token = app.token("gm").await;
    let attempts = (0..32).map(|i| {
        let app = &app;
        async move { login(app, &format!("atacante{i}"), "qualquer-uma").await }
    });
    let during = async {
        // The API keeps answering while the logins queue for the password check.
        app.get(&token, "/api/v1/rdms?limit=1").await
    };
    let (results, other) = tokio::join!(futures_util::future::join_all(attempts), during);
    assert_eq!(other.status, 200);
    assert_eq!(app.state.password_checks.peak(), 1);
    for r in &results {
        match r.status {
            401 => assert_eq!(r.body["code"], "invalid_credentials"),
            503 => {
                assert_eq!(r.body["code"], "overloaded");
                assert!(retry_after(r) >= 1);
            }
            s => panic!("unexpected {s}: {r:?}"),
        }
    }
    assert!(results.iter().any(|r| r.status == 401));
}

/// Changes `username`'s access as the admin.
async fn change_access(app: &TestApp, username: &str, body: serde_json::Value) -> gmud_tests::Resp {
    let admin = app.token("admin").await;
    // From the database: the account's own token may be revoked by now.
    let id = app
        .count(&format!(
            "SELECT id FROM users WHERE username = '{username}'"
        ))
        .await;
    app.patch(&admin, &format!("/api/v1/users/{id}"), body, None)
        .await
}

#[tokio::test]
async fn a_deactivated_account_loses_its_tokens_at_once_and_reactivation_does_not_revive_them() {
    let app = TestApp::spawn().await;
    let token = app.token("tester").await;
    assert_eq!(app.get(&token, "/api/v1/me").await.status, 200);
    let r = change_access(
        &app,
        "tester",
        json!({"active": false, "reason": "Saiu da empresa"}),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["active"], false);
    let r = app
        .post(
            &token,
            "/api/v1/rdms",
            gmud_tests::normal_rdm("Depois de desligado", 1),
        )
        .await;
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body["code"], "token_revoked");
    assert_eq!(
        app.count("SELECT count(*) FROM rdms WHERE title = 'Depois de desligado'")
            .await,
        0
    );
    assert_eq!(login(&app, "tester", DEMO_PASSWORD).await.status, 401);
    // The change is in the account's history, with who and why.
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE entity = 'user' AND action = 'access_changed' AND to_state = 'inactive' AND reason = 'Saiu da empresa'").await,
        1
    );
    change_access(&app, "tester", json!({"active": true})).await;
    assert_eq!(app.get(&token, "/api/v1/me").await.status, 401);
    app.forget_tokens();
    let fresh = app.token("tester").await;
    assert_eq!(app.get(&fresh, "/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn a_role_change_applies_to_tokens_already_issued() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    assert_eq!(app.get(&gm, "/api/v1/users").await.status, 200);
    let r = change_access(&app, "gm", json!({"roles": ["requester"]})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["roles"], json!(["requester"]));
    assert_eq!(app.get(&gm, "/api/v1/users").await.status, 403);
    let me = app.get(&gm, "/api/v1/me").await;
    assert_eq!(me.body["roles"], json!(["requester"]));
    // And back: the same token lists users again.
    change_access(&app, "gm", json!({"roles": ["change_manager"]})).await;
    assert_eq!(app.get(&gm, "/api/v1/users").await.status, 200);
}

#[tokio::test]
async fn a_signed_token_for_an_account_that_does_not_exist_is_refused() {
    let app = TestApp::spawn().await;
    let keys = gmud_api::identity::tokens::JwtKeys::new(
        gmud_tests::JWT_SECRET,
        chrono::Duration::minutes(15),
    );
    let ghost = gmud_api::identity::principal::AuthUser {
        id: 987_654,
        username: "fantasma".into(),
        roles: domain::roles::RoleSet::new([domain::roles::Role::Admin]),
        organization_id: None,
    };
    let (token, _) = keys.issue(&ghost, 0, app.now()).unwrap();
    let r = app.get(&token, "/api/v1/users").await;
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body["code"], "token_revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_refuses_a_deactivated_accounts_token_within_seconds() {
    let app = TestApp::spawn().await;
    let (other, other_state) = app.another_server().await;
    // The other instance listens for account changes, and knows the account.
    let mut changes = other_state.access.watch();
    tokio::time::timeout(
        Duration::from_secs(10),
        changes.wait_for(|_| other_state.access.is_live()),
    )
    .await
    .expect("the other instance listens")
    .unwrap();
    let token = app.token("requester").await;
    let me = app
        .client
        .get(format!("{other}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let seen = *changes.borrow_and_update();
    change_access(&app, "requester", json!({"active": false})).await;
    // PostgreSQL's notification reaches the other instance.
    tokio::time::timeout(Duration::from_secs(10), changes.wait_for(|e| *e > seen))
        .await
        .expect("notified within seconds")
        .unwrap();
    let r = app
        .client
        .get(format!("{other}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn access_changes_are_checked_and_the_last_admin_stays() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let tester = app.user_id("tester").await;
    // Only an admin; refused before anything else is looked at.
    let r = app
        .patch(&gm, "/api/v1/users/999999", json!({"active": false}), None)
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    // Every bad field named at once.
    let r = change_access(&app, "tester", json!({"roles": [], "reason": " "})).await;
    assert_eq!(r.status, 422, "{r:?}");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, ["reason", "roles"]);
    // A support analyst needs a team; a customer nothing else.
    let r = change_access(&app, "tester", json!({"roles": ["support_analyst"]})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["team"]);
    let r = change_access(
        &app,
        "tester",
        json!({"roles": ["support_analyst"], "team": "cloud"}),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["team"], "cloud");
    // Dropping the role drops the team.
    let r = change_access(&app, "tester", json!({"roles": ["requester"]})).await;
    assert_eq!(r.body["team"], serde_json::Value::Null);
    let admin = app.token("admin").await;
    let admin_id = app.user_id("admin").await;
    let r = app
        .patch(
            &admin,
            &format!("/api/v1/users/{admin_id}"),
            json!({"active": false}),
            None,
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "last_admin");
    let r = app
        .patch(
            &admin,
            &format!("/api/v1/users/{admin_id}"),
            json!({"roles": ["requester"]}),
            None,
        )
        .await;
    assert_eq!(r.body["code"], "last_admin");
    // With a second admin, the first may step down.
    let r = app
        .patch(
            &admin,
            &format!("/api/v1/users/{tester}"),
            json!({"roles": ["admin"]}),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .patch(
            &admin,
            &format!("/api/v1/users/{admin_id}"),
            json!({"roles": ["requester"]}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_whether_or_not_its_length_is_declared() {
    let app = TestApp::spawn().await;
    let token = app.token("tester").await;
    let big = json!({"title": "x".repeat(300 * 1024)});
    let r = app.post(&token, "/api/v1/rdms", big.clone()).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.body["code"], "payload_too_large");
    assert_eq!(r.content_type(), "application/problem+json");
    // Streamed without a Content-Length.
    let body = serde_json::to_vec(&big).unwrap();
    let stream = futures_util::stream::iter(
        body.chunks(16 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let r = app
        .client
        .post(app.url("/api/v1/rdms"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}
