//! E-mail approvals (SPEC §3.5): the links of vote e-mails, followed over HTTP as a member's
//! browser would (no bearer token), against the mail the SMTP sink received.
use chrono::{DateTime, Duration, Utc};
use gmud_tests::{json, normal_rdm, vote_links, Mail, TestApp};
use reqwest::header::HeaderMap;

/// A page as the browser got it.
struct Page {
    status: u16,
    headers: HeaderMap,
    html: String,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.html)
    }
}

async fn page(res: reqwest::Response) -> Page {
    Page {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        html: res.text().await.expect("body"),
    }
}

async fn open(app: &TestApp, url: &str) -> Page {
    page(app.client.get(url).send().await.expect("GET")).await
}

async fn confirm(app: &TestApp, url: &str, reason: Option<&str>) -> Page {
    let form: Vec<(&str, &str)> = reason.map(|r| vec![("reason", r)]).unwrap_or_default();
    page(app.client.post(url).form(&form).send().await.expect("POST")).await
}

/// Every page of these routes: HTML5 in pt-BR with the protective headers, never JSON.
fn assert_html_page(p: &Page) {
    let header = |n: &str| {
        p.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("content-type"), "text/html; charset=utf-8", "{p:?}");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("x-frame-options"), "DENY");
    assert!(
        p.html.starts_with("<!doctype html>\n<html lang=\"pt-BR\">"),
        "{p:?}"
    );
    assert!(p.html.contains("<meta charset=\"utf-8\">"));
    assert!(p.html.contains("<meta name=\"viewport\""));
    assert!(p.html.contains("<main>") && p.html.contains("<h1>"));
    assert!(!p.html.contains("<script"), "no JavaScript");
    assert!(serde_json::from_str::<serde_json::Value>(&p.html).is_err());
}

/// The vote mails (requests, replacements, reminders) a user received, oldest first.
async fn vote_mails(app: &TestApp, who: &str) -> Vec<Mail> {
    app.mails_to(who)
        .await
        .into_iter()
        .filter(|m| m.text.contains("/vote/"))
        .collect()
}

/// The approve and reject links of the latest vote mail to `who` about RDM `id`.
async fn links(app: &TestApp, who: &str, id: i64) -> (String, String) {
    let number = format!("RDM-{id:06}");
    let mails: Vec<Mail> = vote_mails(app, who)
        .await
        .into_iter()
        .filter(|m| m.subject.contains(&number))
        .collect();
    vote_links(
        mails
            .last()
            .unwrap_or_else(|| panic!("no vote mail to {who} about {number}")),
    )
}

/// Everything a vote by link could write: if this is unchanged, nothing was recorded.
async fn footprint(app: &TestApp, id: i64) -> [i64; 5] {
    [
        app.count(&format!("SELECT count(*) FROM rdm_votes WHERE rdm_id = {id}"))
            .await,
        app.count(&format!(
            "SELECT count(*) FROM events WHERE entity = 'rdm' AND entity_id = {id}"
        ))
        .await,
        app.count(&format!(
            "SELECT count(*) FROM vote_links WHERE rdm_id = {id} AND (used_at IS NOT NULL OR used_decision IS NOT NULL)"
        ))
        .await,
        app.count(&format!("SELECT version::bigint FROM rdms WHERE id = {id}"))
            .await,
        app.count("SELECT count(*) FROM jobs").await,
    ]
}

async fn state_of(app: &TestApp, id: i64) -> String {
    app.rdm(id).await.body["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn history(app: &TestApp, id: i64) -> Vec<serde_json::Value> {
    let t = app.token("gm").await;
    let h = app.get(&t, &format!("/api/v1/rdms/{id}/history")).await;
    assert_eq!(h.status, 200, "{h:?}");
    h.body.as_array().cloned().unwrap_or_default()
}

/// The end of the meeting the RDM is booked on.
async fn meeting_end(app: &TestApp, id: i64) -> DateTime<Utc> {
    let mid = app.rdm(id).await.body["meeting_id"]
        .as_i64()
        .expect("meeting");
    let t = app.token("gm").await;
    let m = app.get(&t, &format!("/api/v1/meetings/{mid}")).await;
    assert_eq!(m.status, 200, "{m:?}");
    m.body["ends_at"]
        .as_str()
        .expect("ends_at")
        .parse()
        .expect("RFC 3339")
}

#[tokio::test]
async fn both_members_approve_by_email_and_the_rdm_is_approved() {
    let app = TestApp::spawn().await;
    let title = "Trocar <b>\"fila\"</b> & 'cache'";
    let id = app.rdm_awaiting_committee(title, 1).await;
    app.run_jobs().await;
    let number = format!("RDM-{id:06}");
    let (cm1_yes, _) = links(&app, "cm1", id).await;
    let (cm2_yes, _) = links(&app, "cm2", id).await;

    // The confirmation page: the RDM's essentials, the decision, the form.
    let p = open(&app, &cm1_yes).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert_html_page(&p);
    assert!(p.html.contains(&number));
    assert!(
        p.html
            .contains("Trocar &lt;b&gt;&quot;fila&quot;&lt;/b&gt; &amp; &#39;cache&#39;"),
        "the title is escaped: {}",
        p.html
    );
    assert!(!p.html.contains(title), "never raw");
    for shown in [
        "Aprovar",
        "Membro do CM 1",
        "normal",
        "médio",
        "Atualizar o pacote do eSocial",
        "2 h",
        "Restaurar snapshot",
        "1 h",
        "Reunião",
        "<form method=\"post\">",
        "<label for=\"motivo\">",
        "<textarea id=\"motivo\" name=\"reason\"",
        "<button type=\"submit\">",
    ] {
        assert!(p.html.contains(shown), "{shown} missing: {}", p.html);
    }
    assert!(
        !p.html.contains("required=\"required\""),
        "a reason is optional to approve"
    );

    // cm1 confirms: the vote counts, the RDM still awaits cm2.
    let p = confirm(&app, &cm1_yes, None).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert_html_page(&p);
    assert!(p.html.contains("Voto registrado"));
    assert!(p.html.contains("aguardando"), "{}", p.html);
    assert_eq!(state_of(&app, id).await, "awaiting_committee");

    // cm2 confirms, with a remark: consensual approval.
    let p = confirm(&app, &cm2_yes, Some("De acordo")).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert!(p.html.contains("Voto registrado"));
    assert!(p.html.contains("aprovada"), "{}", p.html);
    assert_eq!(state_of(&app, id).await, "approved");

    // The history shows both votes, by e-mail, and the committee's decision.
    let h = history(&app, id).await;
    let votes: Vec<_> = h.iter().filter(|e| e["action"] == "vote").collect();
    assert_eq!(votes.len(), 2, "{h:?}");
    let cm1 = app.user_id("cm1").await;
    let cm2 = app.user_id("cm2").await;
    for (v, who) in votes.iter().zip([cm1, cm2]) {
        assert_eq!(v["detail"]["channel"], "email", "{v}");
        assert_eq!(v["detail"]["decision"], "approve");
        assert_eq!(v["actor_id"], who);
    }
    assert!(h.iter().any(|e| e["action"] == "committee_approve"));
    let t = app.token("gm").await;
    let tally = app.get(&t, &format!("/api/v1/rdms/{id}/votes")).await;
    assert_eq!(tally.body["approvals"], 2, "{tally:?}");
    let remark = &tally.body["votes"][1];
    assert_eq!(remark["reason"], "De acordo");
    assert_eq!(remark["channel"], "email");
    assert!(remark["cast_by"].is_null());
    // Both links are spent, with what they decided.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM vote_links WHERE rdm_id = {id} AND used_decision = 'approve' AND used_at IS NOT NULL"
        ))
        .await,
        2
    );
}

#[tokio::test]
async fn opening_a_link_records_nothing() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Atualizar JDK", 1).await;
    app.run_jobs().await;
    let (yes, no) = links(&app, "cm1", id).await;
    let before = footprint(&app, id).await;
    assert_eq!(before[0], 0);
    // A scanner follows both links, twice, and probes them with HEAD.
    for url in [&yes, &no, &yes, &no] {
        let p = open(&app, url).await;
        assert_eq!(p.status, 200, "{p:?}");
        let head = app.client.head(url.as_str()).send().await.unwrap();
        assert_eq!(head.status(), 200);
    }
    assert_eq!(footprint(&app, id).await, before, "GET changed something");
    assert_eq!(state_of(&app, id).await, "awaiting_committee");
    // The reject page asks for the reason, required in the form too.
    let p = open(&app, &no).await;
    assert!(p.html.contains("Rejeitar"), "{}", p.html);
    assert!(p.html.contains("Motivo da rejeição"));
    assert!(p.html.contains("required=\"required\""));
    // And the links still work afterwards.
    assert_eq!(confirm(&app, &yes, None).await.status, 200);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM rdm_votes WHERE rdm_id = {id}"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn rejecting_by_link_needs_a_reason_which_reaches_the_history() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Migrar banco de folha", 1).await;
    app.run_jobs().await;
    let (_, no) = links(&app, "cm1", id).await;
    let before = footprint(&app, id).await;

    // No reason, or only blanks: the form again, with the error; nothing written.
    for reason in [None, Some(""), Some("  \r\n  ")] {
        let p = confirm(&app, &no, reason).await;
        assert_eq!(p.status, 422, "{reason:?}: {p:?}");
        assert_html_page(&p);
        assert!(p.html.contains("informe o motivo"), "{}", p.html);
        assert!(p.html.contains("role=\"alert\""));
        assert!(
            p.html.contains("<form method=\"post\">"),
            "the form comes back"
        );
        assert_eq!(footprint(&app, id).await, before, "{reason:?}");
    }
    // Too long: refused too, and what was typed comes back (escaped).
    let long = format!("<i>{}", "x".repeat(2001));
    let p = confirm(&app, &no, Some(&long)).await;
    assert_eq!(p.status, 422, "{p:?}");
    assert!(p.html.contains("2000 caracteres"));
    assert!(p.html.contains(&format!("&lt;i&gt;{}", "x".repeat(2001))));
    assert_eq!(footprint(&app, id).await, before);

    // With the reason: one rejection vetoes (consensual).
    let why = "Conflita com o fechamento da folha";
    let p = confirm(&app, &no, Some(why)).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert!(p.html.contains("Voto registrado"));
    assert!(p.html.contains("rejeitada"), "{}", p.html);
    assert_eq!(state_of(&app, id).await, "rejected");
    let h = history(&app, id).await;
    let vote = h.iter().find(|e| e["action"] == "vote").expect("vote");
    assert_eq!(vote["reason"], why);
    assert_eq!(vote["detail"]["decision"], "reject");
    assert_eq!(vote["detail"]["channel"], "email");
    let decided = h
        .iter()
        .find(|e| e["action"] == "committee_reject")
        .expect("decision");
    assert!(
        decided["reason"].as_str().unwrap().contains(why),
        "{decided}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM vote_links WHERE rdm_id = {id} AND used_decision = 'reject'"
        ))
        .await,
        1
    );

    // cm2's link now finds the vote over, and says where the RDM stands.
    let (cm2_yes, _) = links(&app, "cm2", id).await;
    let before = footprint(&app, id).await;
    for p in [
        open(&app, &cm2_yes).await,
        confirm(&app, &cm2_yes, None).await,
    ] {
        assert_eq!(p.status, 409, "{p:?}");
        assert_html_page(&p);
        assert!(p.html.contains("Votação encerrada"));
        assert!(p.html.contains("rejeitada"));
    }
    assert_eq!(footprint(&app, id).await, before);
}

#[tokio::test]
async fn a_link_works_once() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Renovar certificado", 1).await;
    app.run_jobs().await;
    let (yes, no) = links(&app, "cm1", id).await;
    assert_eq!(confirm(&app, &yes, None).await.status, 200);
    let after_vote = footprint(&app, id).await;
    assert_eq!(after_vote[0], 1);
    // Replayed, by the same link or its pair, by POST or GET: refused, nothing changes.
    for p in [
        confirm(&app, &yes, None).await,
        confirm(&app, &no, Some("Mudei de ideia")).await,
        open(&app, &yes).await,
        open(&app, &no).await,
    ] {
        assert_eq!(p.status, 409, "{p:?}");
        assert_html_page(&p);
        assert!(p.html.contains("Link já utilizado"), "{}", p.html);
        assert!(p.html.contains("para aprovar"), "{}", p.html);
    }
    assert_eq!(footprint(&app, id).await, after_vote);
    let t = app.token("gm").await;
    let tally = app.get(&t, &format!("/api/v1/rdms/{id}/votes")).await;
    assert_eq!(tally.body["votes"][0]["decision"], "approve");
}

#[tokio::test]
async fn two_confirmations_at_once_record_one_vote() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Trocar balanceador", 1).await;
    app.run_jobs().await;
    let (yes, no) = links(&app, "cm1", id).await;
    let (a, b) = tokio::join!(confirm(&app, &yes, None), confirm(&app, &no, Some("Não")));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM rdm_votes WHERE rdm_id = {id}"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM vote_links WHERE rdm_id = {id} AND used_at IS NOT NULL"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn a_link_expires_with_its_meeting_and_the_carried_over_rdm_gets_new_ones() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Atualizar kernel", 1).await;
    app.run_jobs().await;
    let (yes, no) = links(&app, "cm1", id).await;
    let ends = meeting_end(&app, id).await;
    // Until the meeting ends, the link works (no jobs run: the end timer has not fired).
    app.set_now(ends - Duration::seconds(1));
    assert_eq!(open(&app, &yes).await.status, 200);
    // From its end on: gone, whatever the method.
    app.set_now(ends);
    let before = footprint(&app, id).await;
    for p in [
        open(&app, &yes).await,
        confirm(&app, &yes, None).await,
        confirm(&app, &no, Some("Tarde demais")).await,
    ] {
        assert_eq!(p.status, 410, "{p:?}");
        assert_html_page(&p);
        assert!(p.html.contains("Link expirado"), "{}", p.html);
        assert!(p.html.contains(&format!("RDM-{id:06}")));
    }
    assert_eq!(
        footprint(&app, id).await,
        before,
        "an expired link writes nothing"
    );
    assert_eq!(state_of(&app, id).await, "awaiting_committee");

    // The meeting's end timer carries the RDM over and mails fresh links: the old one now
    // points at the newer mail, the new one works.
    let mails_before = vote_mails(&app, "cm1").await.len();
    let first_meeting = app.rdm(id).await.body["meeting_id"].clone();
    app.run_jobs().await;
    let next_meeting = app.rdm(id).await.body["meeting_id"].clone();
    assert!(next_meeting.is_i64(), "still booked");
    assert_ne!(next_meeting, first_meeting, "carried over");
    assert!(
        vote_mails(&app, "cm1").await.len() > mails_before,
        "fresh links"
    );
    let p = open(&app, &yes).await;
    assert_eq!(p.status, 409, "{p:?}");
    assert!(p.html.contains("versão mais nova"), "{}", p.html);
    let (fresh_yes, _) = links(&app, "cm1", id).await;
    assert_ne!(fresh_yes, yes);
    let p = confirm(&app, &fresh_yes, None).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM rdm_votes WHERE rdm_id = {id}"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn a_tampered_link_is_refused_and_records_nothing() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Ajustar DNS", 1).await;
    app.run_jobs().await;
    let (yes, _) = links(&app, "cm1", id).await;
    let (cm2_yes, _) = links(&app, "cm2", id).await;
    let (base, token) = yes.rsplit_once('/').unwrap();
    let (link_id, rest) = token.split_once('.').unwrap();
    let sig = rest.split_once('.').unwrap().1;
    let cm2_id = cm2_yes
        .rsplit_once('/')
        .unwrap()
        .1
        .split_once('.')
        .unwrap()
        .0;
    // One character of the signature changed, in the middle.
    let mut flipped: Vec<char> = sig.chars().collect();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    let forged = [
        format!("{base}/{link_id}.a.{flipped}"),
        // Another member's link id under cm1's signature.
        format!("{base}/{cm2_id}.a.{sig}"),
        format!("{base}/{}.a.{sig}", link_id.parse::<i64>().unwrap() + 1000),
        // The approve link turned into a reject.
        format!("{base}/{link_id}.r.{sig}"),
        format!("{base}/{link_id}.a.{}", &sig[..sig.len() - 4]),
        format!("{base}/{link_id}.a."),
        format!("{base}/{link_id}"),
        format!("{base}/garbage"),
        format!("{base}/0.a.{sig}"),
        format!("{base}/{link_id}.x.{sig}"),
    ];
    let before = footprint(&app, id).await;
    for url in &forged {
        for p in [
            open(&app, url).await,
            confirm(&app, url, Some("Forjado")).await,
        ] {
            assert_eq!(p.status, 400, "{url}: {p:?}");
            assert_html_page(&p);
            assert!(p.html.contains("Link inválido"), "{}", p.html);
            // It tells nothing about the RDM.
            assert!(!p.html.contains(&format!("RDM-{id:06}")), "{}", p.html);
        }
    }
    assert_eq!(footprint(&app, id).await, before);
    // The genuine link still works.
    assert_eq!(confirm(&app, &yes, None).await.status, 200);
}

#[tokio::test]
async fn an_edit_supersedes_older_links_and_the_new_mail_works() {
    let app = TestApp::spawn().await;
    let id = app
        .rdm_awaiting_committee("Atualizar biblioteca de PDF", 1)
        .await;
    app.run_jobs().await;
    let (old_yes, old_no) = links(&app, "cm1", id).await;
    let r = app
        .edit(
            "gm",
            id,
            json!({"description": "Atualizar a biblioteca de PDF para a versão 3.2"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let revision = r.body["revision"].as_i64().unwrap();
    app.run_jobs().await;
    let before = footprint(&app, id).await;
    for p in [
        open(&app, &old_yes).await,
        confirm(&app, &old_yes, None).await,
        confirm(&app, &old_no, Some("Versão antiga")).await,
    ] {
        assert_eq!(p.status, 409, "{p:?}");
        assert_html_page(&p);
        assert!(
            p.html.contains("versão mais nova foi enviada"),
            "{}",
            p.html
        );
        assert!(
            p.html
                .contains(&format!("revisão {}; a atual é a {revision}", revision - 1)),
            "{}",
            p.html
        );
    }
    assert_eq!(footprint(&app, id).await, before);
    // The replacement mail's link shows the edited RDM and works.
    let (new_yes, _) = links(&app, "cm1", id).await;
    assert_ne!(new_yes, old_yes);
    let p = open(&app, &new_yes).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert!(p.html.contains("versão 3.2"), "{}", p.html);
    let p = confirm(&app, &new_yes, None).await;
    assert_eq!(p.status, 200, "{p:?}");
    let t = app.token("gm").await;
    let tally = app.get(&t, &format!("/api/v1/rdms/{id}/votes")).await;
    assert_eq!(tally.body["votes"][0]["revision"], revision, "{tally:?}");
    assert_eq!(tally.body["votes"][0]["channel"], "email");
}

#[tokio::test]
async fn a_member_who_voted_through_the_api_finds_the_vote_recorded() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Reindexar busca", 1).await;
    app.run_jobs().await;
    let (yes, _) = links(&app, "cm1", id).await;
    let t = app.token("cm1").await;
    let r = app
        .post(
            &t,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let before = footprint(&app, id).await;
    for p in [open(&app, &yes).await, confirm(&app, &yes, None).await] {
        assert_eq!(p.status, 409, "{p:?}");
        assert!(p.html.contains("Voto já registrado"), "{}", p.html);
    }
    assert_eq!(footprint(&app, id).await, before);
}

#[tokio::test]
async fn a_substitute_votes_on_behalf_of_the_member_until_the_delegation_ends() {
    let app = TestApp::spawn().await;
    let cm1 = app.user_id("cm1").await;
    let cm3 = app.user_id("cm3").await;
    let t = app.token("cm1").await;
    let d = app
        .post(
            &t,
            "/api/v1/delegations",
            json!({"substitute_id": cm3, "ends_at": app.now() + Duration::days(7), "reason": "Férias"}),
        )
        .await;
    assert_eq!(d.status, 201, "{d:?}");
    let delegation = d.body["id"].as_i64().unwrap();
    let a = app.rdm_awaiting_committee("Atualizar proxy", 1).await;
    let b = app.rdm_awaiting_committee("Atualizar firewall", 2).await;
    app.run_jobs().await;

    // cm3's link says whose vote it is, and counts for cm1.
    let (sub_yes, _) = links(&app, "cm3", a).await;
    let p = open(&app, &sub_yes).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert!(p.html.contains("em nome de Membro do CM 1"), "{}", p.html);
    let p = confirm(&app, &sub_yes, None).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert!(p.html.contains("em nome de Membro do CM 1"), "{}", p.html);
    let tally = app
        .get(&app.token("gm").await, &format!("/api/v1/rdms/{a}/votes"))
        .await;
    let v = &tally.body["votes"][0];
    assert_eq!(v["voter_id"], cm1, "{tally:?}");
    assert_eq!(v["cast_by"], cm3);
    assert_eq!(v["channel"], "email");
    let h = history(&app, a).await;
    let vote = h.iter().find(|e| e["action"] == "vote").unwrap();
    assert_eq!(vote["actor_id"], cm3);
    assert_eq!(vote["detail"]["on_behalf_of"], cm1);
    // cm1's own link: the slot is filled.
    let (own_yes, _) = links(&app, "cm1", a).await;
    assert_eq!(confirm(&app, &own_yes, None).await.status, 409);

    // The delegation is revoked: cm3's link for the other RDM no longer works.
    let (sub_b, _) = links(&app, "cm3", b).await;
    assert_eq!(open(&app, &sub_b).await.status, 200);
    let r = app
        .post_empty(&t, &format!("/api/v1/delegations/{delegation}/revoke"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let before = footprint(&app, b).await;
    for p in [open(&app, &sub_b).await, confirm(&app, &sub_b, None).await] {
        assert_eq!(p.status, 403, "{p:?}");
        assert_html_page(&p);
        assert!(p.html.contains("Delegação encerrada"), "{}", p.html);
    }
    assert_eq!(footprint(&app, b).await, before);
}

#[tokio::test]
async fn bad_requests_get_the_same_kind_of_page() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Ajustar rotas", 1).await;
    app.run_jobs().await;
    let (_, no) = links(&app, "cm1", id).await;
    let before = footprint(&app, id).await;
    // Not a form.
    let p = page(
        app.client
            .post(&no)
            .json(&json!({"reason": "JSON"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p.status, 415, "{p:?}");
    assert_html_page(&p);
    // Too large a body.
    let huge = "x".repeat(64 * 1024);
    let p = confirm(&app, &no, Some(&huge)).await;
    assert_eq!(p.status, 413, "{p:?}");
    assert_html_page(&p);
    // A form that does not read as one (the field twice).
    let p = page(
        app.client
            .post(&no)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("reason=a&reason=b")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p.status, 400, "{p:?}");
    assert_html_page(&p);
    assert!(p.html.contains("Formulário inválido"), "{}", p.html);
    // Another method.
    let p = page(app.client.put(&no).send().await.unwrap()).await;
    assert_eq!(p.status, 405, "{p:?}");
    assert_html_page(&p);
    assert_eq!(p.headers.get("allow").unwrap(), "GET, HEAD, POST");
    assert_eq!(footprint(&app, id).await, before);
}

/// The latest vote mail to `who` about RDM `id`, its line breaks as `\n` (SMTP's are `\r\n`).
async fn vote_mail(app: &TestApp, who: &str, id: i64) -> Mail {
    let number = format!("RDM-{id:06}");
    let mut m = vote_mails(app, who)
        .await
        .into_iter()
        .rfind(|m| m.subject.contains(&number))
        .unwrap_or_else(|| panic!("no vote mail to {who} about {number}"));
    m.text = m.text.replace("\r\n", "\n");
    m.html = m.html.replace("\r\n", "\n");
    m
}

#[tokio::test]
async fn the_vote_mail_lists_open_rdms_touching_the_same_items_as_conflicts() {
    let app = TestApp::spawn().await;
    for (id, name) in [(1, "acme-esocial-prod"), (2, "acme-esocial-homolog")] {
        let q =
            format!("SELECT count(*) FROM configuration_items WHERE id = {id} AND name = '{name}'");
        assert_eq!(app.count(&q).await, 1, "fixture item {id} is {name}");
    }
    // Open, touching item 1.
    let first = app.rdm_awaiting_committee("Atualizar o eSocial", 1).await;
    // Touching items 1 and 2, but a draft: it may never run, so it is no conflict.
    let mut draft = normal_rdm("Rascunho no eSocial", 1);
    draft["configuration_item_ids"] = json!([1, 2]);
    let draft = app.create_rdm("tester", draft).await;
    // Touching neither.
    let other = app.rdm_awaiting_committee("Atualizar o TAF", 3).await;
    let mut body = normal_rdm("Migrar o eSocial", 1);
    body["configuration_item_ids"] = json!([2, 1]);
    let second = app.committee_for(app.rdm_po_approved(body).await).await;
    app.run_jobs().await;

    // The first one's mail went out before the second existed.
    let m = vote_mail(&app, "cm1", first).await;
    assert!(m.text.contains("\nConflitos: nenhum\n"), "{}", m.text);
    let m = vote_mail(&app, "cm1", other).await;
    assert!(m.text.contains("\nConflitos: nenhum\n"), "{}", m.text);
    // The second's lists the first, with the one item they share; neither the draft nor the
    // RDM on other items.
    let m = vote_mail(&app, "cm1", second).await;
    let expected = format!(
        "\nJanela: a definir após a aprovação\n\
         Duração: 2 h (rollback: 1 h)\n\
         Conflitos:\n  - RDM-{first:06} — Atualizar o eSocial (em comum: acme-esocial-prod)\n\n"
    );
    assert!(m.text.contains(&expected), "{expected:?} in\n{}", m.text);
    for absent in [draft, other] {
        assert!(!m.text.contains(&format!("RDM-{absent:06}")), "{}", m.text);
    }
    assert!(
        m.html.contains(&format!(
            "<li><strong>RDM-{first:06}</strong> — Atualizar o eSocial (em comum: \
             acme-esocial-prod)</li>"
        )),
        "{}",
        m.html
    );
    // The link's page shows them too.
    let (yes, _) = vote_links(&m);
    let p = open(&app, &yes).await;
    assert_eq!(p.status, 200, "{p:?}");
    assert!(
        p.html.contains(&format!(
            "<dt>Conflitos</dt><dd><ul><li>RDM-{first:06} — Atualizar o eSocial (em comum: \
             acme-esocial-prod)</li></ul></dd>"
        )),
        "{}",
        p.html
    );
}

#[tokio::test]
async fn a_booked_rdm_shows_its_window_and_conflicts_only_within_it() {
    let app = TestApp::spawn().await;
    let first = app.rdm_awaiting_committee("Atualizar o eSocial", 1).await;
    let second = app.rdm_awaiting_committee("Migrar o eSocial", 1).await;
    app.run_jobs().await;
    let windows = app.windows_from(app.now()).await;
    let wid = |i: usize| windows[i]["id"].as_i64().expect("window id");
    // Booked by hand (an RDM awaiting the committee is not booked by the API): the second
    // into the first window, the first into the next.
    let book = |rdm: i64, window: i64| {
        format!(
            "WITH b AS (UPDATE rdms SET window_id = {window} WHERE id = {rdm} RETURNING 1) \
             SELECT count(*) FROM b"
        )
    };
    assert_eq!(app.count(&book(second, wid(0))).await, 1);
    assert_eq!(app.count(&book(first, wid(1))).await, 1);
    // An edit sends fresh links, with the RDM as it is now.
    let edit = |n: i32| json!({"description": format!("Migrar o eSocial, versão {n}")});
    assert_eq!(app.edit("gm", second, edit(2)).await.status, 200);
    app.run_jobs().await;
    let m = vote_mail(&app, "cm1", second).await;
    assert!(m.text.contains("versão 2"), "{}", m.text);
    assert!(
        m.text.contains(
            "\nJanela: 26/11/2026 00:00–06:00 (America/Sao_Paulo)\n\
             Duração: 2 h (rollback: 1 h)\n\
             Conflitos: nenhum\n"
        ),
        "another window's booking is no conflict: {}",
        m.text
    );
    // In the same window, it is one.
    assert_eq!(app.count(&book(first, wid(0))).await, 1);
    assert_eq!(app.edit("gm", second, edit(3)).await.status, 200);
    app.run_jobs().await;
    let m = vote_mail(&app, "cm1", second).await;
    assert!(m.text.contains("versão 3"), "{}", m.text);
    assert!(
        m.text.contains(&format!(
            "\nConflitos:\n  - RDM-{first:06} — Atualizar o eSocial (em comum: acme-esocial-prod)\n"
        )),
        "{}",
        m.text
    );
}
