use gmud_tests::{json, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_user_logs_in_and_sees_its_roles() {
    let app = TestApp::spawn().await;
    let t = app.token("tester").await;
    let me = app.get(&t, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.body["username"], "tester");
    assert_eq!(me.body["roles"], json!(["requester", "test_analyst"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_missing_token_are_401_problems() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "",
            "/api/v1/auth/token",
            json!({"username": "gm", "password": "nope"}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["code"], "invalid_credentials");
    assert_eq!(r.content_type(), "application/problem+json");
    let r = app.get("", "/api/v1/rdms").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["code"], "missing_token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused_by_the_injected_clock() {
    let app = TestApp::spawn().await;
    let t = app.token("gm").await;
    assert_eq!(app.get(&t, "/api/v1/rdms").await.status, 200);
    app.clock.advance(chrono::Duration::minutes(16));
    let r = app.get(&t, "/api/v1/rdms").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["code"], "token_expired");
}

fn b64(s: &str) -> String {
    // URL-safe base64 without padding, enough for a forged token.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let good = app.token("gm").await;
    let exp = (app.now() + chrono::Duration::minutes(10)).timestamp();
    let claims = format!(
        r#"{{"sub":"1","name":"admin","roles":["admin","change_manager"],"iat":0,"exp":{exp}}}"#
    );
    // alg: none, no signature.
    let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
    // Right algorithm, signature of another token.
    let sig = good.rsplit('.').next().unwrap();
    let wrong_sig = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&claims),
        sig
    );
    for t in [none, wrong_sig, "garbage".to_string()] {
        let r = app.get(&t, "/api/v1/rdms").await;
        assert_eq!(r.status, 401, "{t}");
        assert_eq!(r.body["code"], "invalid_token");
    }
}
