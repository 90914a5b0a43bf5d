//! The knowledge base (SPEC §4.2, §5) over HTTP against a real PostgreSQL: Portuguese search as
//! people type, suggestions for a ticket, uses, versions, and who reads solution proposals.
use gmud_tests::{json, Resp, TestApp};
use serde_json::Value;

async fn article(app: &TestApp, user: &str, body: Value) -> i64 {
    let t = app.token(user).await;
    let r = app.post(&t, "/api/v1/kb/articles", body).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["state"], "draft");
    r.body["id"].as_i64().unwrap()
}

async fn publish(app: &TestApp, id: i64) -> Resp {
    let t = app.token("rh1").await;
    let r = app
        .post(&t, &format!("/api/v1/kb/articles/{id}/publish"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r
}

async fn search(app: &TestApp, user: &str, q: &str) -> Vec<Value> {
    let t = app.token(user).await;
    let q: String = url_encode(q);
    let r = app.get(&t, &format!("/api/v1/kb/search?q={q}")).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body.as_array().unwrap().clone()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ids(hits: &[Value]) -> Vec<i64> {
    hits.iter().map(|h| h["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ignores_accents_stems_ranks_titles_first_and_completes_the_last_word() {
    let app = TestApp::spawn().await;
    let in_title = article(
        &app,
        "rh1",
        json!({"kind": "how_to", "title": "Tratamento de não-conformidades no eSocial",
               "body": "Passo a passo para o analista."}),
    )
    .await;
    let in_body = article(
        &app,
        "rh1",
        json!({"kind": "how_to", "title": "Rotina de fechamento da folha",
               "body": "Antes de fechar, confira se há nao conformidade pendente <script>alert(1)</script> no lote."}),
    )
    .await;
    let draft = article(
        &app,
        "rh1",
        json!({"kind": "how_to", "title": "Não conformidade em rascunho", "body": "Ainda em revisão."}),
    )
    .await;
    publish(&app, in_title).await;
    publish(&app, in_body).await;

    // "nao conformidade" finds "não-conformidades" (accents, plural): the title hit first.
    let hits = search(&app, "rh1", "nao conformidade ").await;
    assert_eq!(ids(&hits), [in_title, in_body], "{hits:?}");
    assert!(hits[0]["rank"].as_f64() > hits[1]["rank"].as_f64());
    let hl = hits[0]["title_highlight"].as_str().unwrap();
    assert!(
        hl.contains("<mark>não</mark>-<mark>conformidades</mark>"),
        "{hl}"
    );
    // Snippets are escaped: an article's markup never reaches the page as HTML.
    let snippet = hits[1]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>conformidade</mark>"), "{snippet}");
    assert!(!snippet.contains("<script"), "{snippet}");
    // The other way round, accented and in the plural.
    assert_eq!(
        ids(&search(&app, "rh1", "não-conformidades ").await),
        [in_title, in_body]
    );
    // As people type: the last word is a prefix.
    assert_eq!(
        ids(&search(&app, "rh1", "conformi").await),
        [in_title, in_body]
    );
    assert_eq!(
        ids(&search(&app, "rh1", "fechamento da fol").await),
        [in_body]
    );
    assert_eq!(
        ids(&search(&app, "rh1", "fechamento da fol ").await),
        Vec::<i64>::new(),
        "a finished word is whole"
    );
    // Drafts only on request; archived no longer.
    let t = app.token("rh1").await;
    let r = app
        .get(&t, "/api/v1/kb/search?q=rascunho&include_drafts=true")
        .await;
    assert_eq!(ids(r.body.as_array().unwrap()), [draft]);
    assert!(search(&app, "rh1", "rascunho").await.is_empty());
    let r = app
        .post(
            &t,
            &format!("/api/v1/kb/articles/{in_body}/archive"),
            json!({}),
        )
        .await;
    assert_eq!(r.body["state"], "archived", "{r:?}");
    assert_eq!(
        ids(&search(&app, "rh1", "nao conformidade").await),
        [in_title]
    );
    // Archiving again is illegal: 409 with the state and what may be done.
    let r = app
        .post(
            &t,
            &format!("/api/v1/kb/articles/{in_body}/archive"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["current_state"], "archived");
    assert_eq!(r.body["allowed_actions"], json!(["publish"]));
    // Operators typed in the query are words, not syntax; blank is a named error.
    assert!(search(&app, "rh1", "conformidade & | ! :*").await.len() <= 1);
    let r = app.get(&t, "/api/v1/kb/search?q=%20%20").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["q"]);
    // Customers do not read the base.
    let c = app.token("customer.acme").await;
    assert_eq!(app.get(&c, "/api/v1/kb/search?q=eSocial").await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_gets_suggestions_and_records_the_article_that_solved_it() {
    let app = TestApp::spawn().await;
    let t = app.token("rh1").await;
    let items = app.get(&t, "/api/v1/support-items").await;
    let esocial = items
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "esocial")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let c = app.token("customer.acme").await;
    let ticket = app
        .post(
            &c,
            "/api/v1/tickets",
            json!({"item_id": esocial, "title": "Eventos S-1200 rejeitados pelo governo",
                   "description": "O lote de remunerações volta com erro de certificado.", "priority": "high"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let exact = article(
        &app,
        "rh1",
        json!({"kind": "how_to", "title": "S-1200 rejeitado: renovar o certificado",
               "body": "Quando o lote de remunerações é rejeitado por certificado, renove-o e reenvie."}),
    )
    .await;
    let same_item_only = article(
        &app,
        "rh1",
        json!({"kind": "how_to", "title": "Cadastro de rubricas", "body": "Tabela de rubricas.", "item_id": esocial}),
    )
    .await;
    let unrelated = article(
        &app,
        "rh1",
        json!({"kind": "how_to", "title": "VPN da matriz", "body": "Configurar a VPN."}),
    )
    .await;
    for a in [exact, same_item_only, unrelated] {
        publish(&app, a).await;
    }
    let r = app
        .get(&t, &format!("/api/v1/tickets/{ticket}/kb-suggestions"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let got = ids(r.body.as_array().unwrap());
    assert_eq!(
        got,
        [exact, same_item_only],
        "text first, then the item's own; {r:?}"
    );
    let r = app.get(&t, "/api/v1/tickets/999999/kb-suggestions").await;
    assert_eq!(r.status, 404, "{r:?}");

    // Using an article is recorded (once per article and ticket; solved may change).
    let path = format!("/api/v1/tickets/{ticket}/kb-uses");
    let r = app.post(&t, &path, json!({"article_id": exact})).await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .post(&t, &path, json!({"article_id": exact, "solved": true}))
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{r:?}");
    assert_eq!(r.body[0]["solved"], true);
    let draft = article(
        &app,
        "rh1",
        json!({"kind": "how_to", "title": "Ainda não publicado", "body": "x"}),
    )
    .await;
    let r = app.post(&t, &path, json!({"article_id": draft})).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["article_id"]);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM kb_article_uses WHERE ticket_id = {ticket} AND solved"
        ))
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_kept_and_solution_proposals_are_read_by_their_team() {
    let app = TestApp::spawn().await;
    let rh = app.token("rh1").await;
    let items = app.get(&rh, "/api/v1/support-items").await;
    let esocial = items
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "esocial")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let c = app.token("customer.acme").await;
    let ticket = app
        .post(
            &c,
            "/api/v1/tickets",
            json!({"item_id": esocial, "title": "Erro no S-2200", "priority": "low"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();

    // A proposal comes from a ticket and follows its team.
    let r = app
        .post(
            &rh,
            "/api/v1/kb/articles",
            json!({"kind": "solution_proposal", "title": "Proposta", "body": "Reprocessar"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["ticket_id"]);
    let r = app
        .post(
            &rh,
            "/api/v1/kb/articles",
            json!({"kind": "known_error", "title": "Erro", "body": "x", "ticket_id": 999999}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.fields(), ["kind", "ticket_id"]);
    let id = article(
        &app,
        "rh1",
        json!({"kind": "solution_proposal", "title": "Reprocessar o S-2200", "body": "Reenviar o evento", "ticket_id": ticket}),
    )
    .await;
    let r = app.get(&rh, &format!("/api/v1/kb/articles/{id}")).await;
    assert_eq!(r.body["team"], "rh");
    assert_eq!(r.body["item_id"], esocial, "the ticket's item");
    let cloud = app.token("cloud1").await;
    assert_eq!(
        app.get(&cloud, &format!("/api/v1/kb/articles/{id}"))
            .await
            .status,
        404
    );
    let coord = app.token("coord").await;
    assert_eq!(
        app.get(&coord, &format!("/api/v1/kb/articles/{id}"))
            .await
            .status,
        200
    );
    publish(&app, id).await;
    assert_eq!(ids(&search(&app, "rh1", "reprocessar").await), [id]);
    assert!(search(&app, "cloud1", "reprocessar").await.is_empty());

    // Each edit is a version; a stale ETag is refused.
    let etag = app
        .get(&rh, &format!("/api/v1/kb/articles/{id}"))
        .await
        .etag();
    let r = app
        .patch(
            &rh,
            &format!("/api/v1/kb/articles/{id}"),
            json!({"body": "Reenviar o evento S-2200 com o recibo"}),
            Some(&etag),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = app
        .patch(
            &rh,
            &format!("/api/v1/kb/articles/{id}"),
            json!({"title": "Outro"}),
            Some(&etag),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    let r = app
        .get(&rh, &format!("/api/v1/kb/articles/{id}/versions"))
        .await;
    let bodies: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["Reenviar o evento", "Reenviar o evento S-2200 com o recibo"]
    );
}
