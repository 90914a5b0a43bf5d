use gmud_tests::TestApp;

/// The committed document must equal what the code generates.
#[test]
fn committed_openapi_matches_the_code() {
    let generated = gmud_api::http::openapi::document_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p gmud-tests --test integration openapi` and commit it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_its_document_and_docs() {
    let app = TestApp::spawn().await;
    let r = app.get("", "/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["info"]["title"], "gmud");
    assert!(r.body["paths"]["/api/v1/rdms/{id}/submit"]["post"].is_object());
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("", "/health").await.status, 200);
    let r = app.get("", "/ready").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    let r = app.get("", "/api/v1/nowhere").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "not_found");
    // A known route with a method it does not answer: 405 naming the ones it does.
    let r = app.delete("", "/api/v1/rdms/7").await;
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.body["code"], "method_not_allowed");
    assert_eq!(r.headers.get("allow").unwrap(), "GET, PATCH");
}
