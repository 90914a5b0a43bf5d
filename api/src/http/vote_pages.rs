//! `/vote/{token}`: the pages behind the approve and reject links of vote e-mails
//! (SPEC §3.5), served at the server's root, outside `/api/v1`: they are HTML for a browser,
//! in pt-BR, and carry no bearer token (the signed link is the credential).
//!
//! `GET` shows a confirmation page and never records anything: mail scanners follow links.
//! `POST` (the page's form) confirms it. The rules are `crate::changes::vote_links`'s; every
//! refusal is a page that says why, and writes nothing.
//!
//! Every page is an askama template under `api/templates/vote/` (auto-escaped: see
//! `crate::notify::format::Html`).
use crate::app::AppState;
use crate::changes::labels::{self, decision_verb, state_label};
use crate::changes::vote_links::{
    self, About, Confirmation, Failure, FormProblem, Recorded, REASON_MAX_CHARS,
};
use crate::notify::format::{self, filters, format_local};
use crate::platform::error::ApiError;
use actix_web::error::{InternalError, UrlencodedError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use domain::approval::VoteDecision;
use domain::rdm::RdmState;
use domain::vote_link::{LinkRefusal, Supersession};
use serde::Deserialize;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{Modify, OpenApi, ToSchema};

/// The largest form body accepted: a 2000-character reason, percent-encoded, fits.
const FORM_LIMIT_BYTES: usize = 32 * 1024;
/// Nothing loads from anywhere; the one inline style sheet and the form posting back here.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The confirmation form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VoteLinkForm {
    /// Why: required when rejecting (it is sent to the requester group), optional otherwise.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    paths(show_vote_link, confirm_vote_link),
    components(schemas(VoteLinkForm)),
    modifiers(&VOTE_TOKEN),
    tags((name = "vote links", description = "The HTML pages behind the approve/reject links of vote e-mails (pt-BR, no bearer token: the signed link is the credential)."))
)]
pub struct Doc;

/// The token is declared once for the path (both methods share it), not per operation: the
/// operations then list exactly the responses declared above, all HTML (the document's
/// generic problem+json responses are added only to operations with parameters).
pub struct TokenParameter {
    pub path: &'static str,
    pub description: &'static str,
}

const VOTE_TOKEN: TokenParameter = TokenParameter {
    path: "/vote/{token}",
    description: "`{link_id}.{a|r}.{signature}` as mailed: names the link and the decision, \
                  signed over everything the link is bound to",
};

impl Modify for TokenParameter {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(item) = doc.paths.paths.get_mut(self.path) {
            for op in [item.get.as_mut(), item.post.as_mut()]
                .into_iter()
                .flatten()
            {
                if let Some(params) = op.parameters.as_mut() {
                    params.retain(|p| p.name != "token");
                }
                if op.parameters.as_ref().is_some_and(|p| p.is_empty()) {
                    op.parameters = None;
                }
            }
            item.parameters = Some(vec![ParameterBuilder::new()
                .name("token")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(self.description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()]);
        }
    }
}

/// Mounted at the root (see `app::configure`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/vote/{token}")
            .app_data(
                web::FormConfig::default()
                    .limit(FORM_LIMIT_BYTES)
                    .error_handler(form_error),
            )
            .route(web::get().to(show_vote_link))
            .route(web::head().to(show_vote_link))
            .route(web::post().to(confirm_vote_link))
            .default_service(web::to(method_not_allowed)),
    );
}

/// The confirmation page of a vote link. Records nothing and changes nothing (it runs in a
/// read-only transaction): mail scanners and link previews open links too.
#[utoipa::path(
    get, path = "/vote/{token}", tag = "vote links",
    responses(
        (status = 200, description = "Confirmation page: the RDM's essentials, who the vote counts for, the decision, and a form that confirms it", content_type = "text/html", body = String),
        (status = 400, description = "Malformed, unknown or tampered link", content_type = "text/html", body = String),
        (status = 403, description = "The recipient may no longer vote: account inactive, no longer a required voter, or delegation ended", content_type = "text/html", body = String),
        (status = 409, description = "Link already used, superseded by a newer one (RDM edited or carried over), RDM no longer awaiting the committee, or vote already recorded", content_type = "text/html", body = String),
        (status = 410, description = "Link expired (its meeting ended; for the CME, its hours ran out)", content_type = "text/html", body = String),
        (status = 500, description = "Internal error (opaque; logged whole)", content_type = "text/html", body = String),
        (status = 503, description = "Database unavailable", content_type = "text/html", body = String),
    )
)]
pub async fn show_vote_link(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let page = match vote_links::show(&state.pool, &state.notifier, &token, state.clock.now()).await
    {
        Ok(c) => confirmation_page(&c, None, ""),
        Err(f) => failure_page(f, &token),
    };
    respond(page)
}

/// Confirms the vote of a link: records it (channel `email`; for a substitute's link, cast
/// by the substitute on the member's behalf) under the committee's rules, and spends the
/// link, in one transaction. Rejecting needs a reason.
#[utoipa::path(
    post, path = "/vote/{token}", tag = "vote links",
    request_body(content = VoteLinkForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Vote recorded: the page shows the RDM's resulting state", content_type = "text/html", body = String),
        (status = 400, description = "Malformed, unknown or tampered link, or an unreadable form", content_type = "text/html", body = String),
        (status = 403, description = "The recipient may no longer vote: account inactive, no longer a required voter, or delegation ended", content_type = "text/html", body = String),
        (status = 409, description = "Link already used, superseded by a newer one (RDM edited or carried over), RDM no longer awaiting the committee, or vote already recorded", content_type = "text/html", body = String),
        (status = 410, description = "Link expired (its meeting ended; for the CME, its hours ran out)", content_type = "text/html", body = String),
        (status = 413, description = "Form too large", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)", content_type = "text/html", body = String),
        (status = 422, description = "Rejection without a reason, or a reason too long: the form again, with the error", content_type = "text/html", body = String),
        (status = 500, description = "Internal error (opaque; logged whole)", content_type = "text/html", body = String),
        (status = 503, description = "Database unavailable", content_type = "text/html", body = String),
    )
)]
pub async fn confirm_vote_link(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<VoteLinkForm>,
) -> HttpResponse {
    let typed = form.into_inner().reason.unwrap_or_default();
    let page = match vote_links::confirm(
        &state.pool,
        &state.notifier,
        &token,
        &typed,
        state.clock.now(),
    )
    .await
    {
        Ok(r) => success_page(&r),
        Err(f) => failure_page(f, &token),
    };
    respond(page)
}

/// The page for a request that recorded nothing.
fn failure_page(f: Failure, token: &str) -> Page {
    match f {
        Failure::Refused { refusal, about } => refusal_page(&refusal, about.as_ref()),
        Failure::Form {
            problem,
            page,
            typed,
        } => confirmation_page(&page, Some(problem), &typed),
        Failure::Api(e) => error_page(&e, token.split('.').next().unwrap_or("")),
    }
}

/// A finished page, built inside the transaction (it must be `Send`), sent after it.
struct Page {
    status: StatusCode,
    html: String,
}

/// What a page shows when its template fails, which it cannot (a template renders into a
/// `String`, and no value it prints fails to display): a last resort, which is why it is not
/// a template itself. It claims nothing about the vote: a recorded one may be behind it.
const RENDER_FAILED: &str = "<!doctype html>\n<html lang=\"pt-BR\">\n<head>\n\
    <meta charset=\"utf-8\">\n<title>Erro interno · gmud</title>\n</head>\n<body>\n<main>\n\
    <h1>Erro interno</h1>\n<p>Não foi possível mostrar esta página. Abra o link de novo para \
    ver a situação atual.</p>\n</main>\n</body>\n</html>\n";

impl Page {
    fn new(status: StatusCode, template: &impl Template) -> Page {
        match template.render() {
            Ok(html) => Page { status, html },
            Err(e) => {
                tracing::error!(error = %e, "vote link: a page template failed");
                Page {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    html: RENDER_FAILED.into(),
                }
            }
        }
    }

    /// A page of plain paragraphs: refusals and errors.
    fn message(status: StatusCode, title: &str, paragraphs: &[String]) -> Page {
        Page::new(status, &MessagePage { title, paragraphs })
    }
}

#[derive(Template)]
#[template(path = "vote/message.html", config = "templates/askama.toml")]
struct MessagePage<'a> {
    title: &'a str,
    paragraphs: &'a [String],
}

#[derive(Template)]
#[template(path = "vote/confirm.html", config = "templates/askama.toml")]
struct ConfirmPage<'a> {
    title: String,
    c: &'a Confirmation,
    /// "Aprovar" or "Rejeitar".
    verb: &'static str,
    rejecting: bool,
    problem: Option<FormProblem>,
    /// What the member typed, shown again with a problem.
    typed: &'a str,
    max_chars: usize,
}

#[derive(Template)]
#[template(path = "vote/success.html", config = "templates/askama.toml")]
struct SuccessPage<'a> {
    title: &'static str,
    r: &'a Recorded,
}

fn error_page(e: &ApiError, link_id: &str) -> Page {
    match e {
        ApiError::Unavailable => Page::message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Serviço indisponível",
            &[
                "O gmud não conseguiu acessar o banco de dados agora. Nenhum voto foi \
               registrado. Tente de novo em alguns minutos, pelo mesmo link."
                    .into(),
            ],
        ),
        ApiError::Conflict { code, .. } if *code == "concurrent_update" => {
            tracing::info!(link_id, "vote link: concurrent update");
            Page::message(
                StatusCode::CONFLICT,
                "Tente de novo",
                &[
                    "A RDM foi alterada por outra pessoa no mesmo instante. Nenhum voto foi \
                   registrado. Abra o link de novo para ver a situação atual."
                        .into(),
                ],
            )
        }
        other => {
            tracing::error!(link_id, error = %other.chain(), "vote link: internal error");
            Page::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Erro interno",
                &[
                    "Ocorreu um erro inesperado e nenhum voto foi registrado. O erro foi \
                   registrado para a equipe do gmud; tente de novo mais tarde, pelo mesmo \
                   link."
                        .into(),
                ],
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------

fn refusal_page(r: &LinkRefusal, about: Option<&About>) -> Page {
    let nothing = "Nenhum voto foi registrado e nada foi alterado.";
    let rdm = about.map(|a| a.number.as_str()).unwrap_or("RDM");
    let when = |at: &DateTime<Utc>| {
        format_local(
            *at,
            about.map(|a| a.tz).unwrap_or(chrono_tz::America::Sao_Paulo),
        )
    };
    let (status, title, lines): (StatusCode, &str, Vec<String>) = match r {
        LinkRefusal::Tampered => (
            StatusCode::BAD_REQUEST,
            "Link inválido",
            vec![
                "Este link de votação não é válido: ele pode ter sido copiado pela metade ou \
                 alterado."
                    .into(),
                "Abra o link diretamente do e-mail mais recente do gmud, sem modificá-lo.".into(),
                nothing.into(),
            ],
        ),
        LinkRefusal::Used { at } => {
            let what = match about.and_then(|a| a.used_decision) {
                Some(VoteDecision::Approve) => " para aprovar",
                Some(VoteDecision::Reject) => " para rejeitar",
                _ => "",
            };
            (
                StatusCode::CONFLICT,
                "Link já utilizado",
                vec![
                    format!(
                        "Este link de votação na {rdm} já foi usado{what} em {}. Cada link \
                         funciona uma única vez.",
                        when(at)
                    ),
                    nothing.into(),
                ],
            )
        }
        LinkRefusal::Decided { state } => (
            StatusCode::CONFLICT,
            "Votação encerrada",
            vec![
                format!(
                    "A {rdm} não aguarda mais os votos do comitê. Situação atual: {}.",
                    state_label(*state)
                ),
                nothing.into(),
            ],
        ),
        LinkRefusal::Superseded(Supersession::NewRevision { link, current }) => (
            StatusCode::CONFLICT,
            "Link substituído por uma versão mais nova",
            vec![
                format!(
                    "A {rdm} foi editada depois que este e-mail foi enviado (este link é da \
                     revisão {link}; a atual é a {current})."
                ),
                "Uma versão mais nova foi enviada por e-mail, com novos links: leia a RDM \
                 atualizada e vote pelos links dessa mensagem."
                    .into(),
                nothing.into(),
            ],
        ),
        LinkRefusal::Superseded(Supersession::OtherMeeting) => (
            StatusCode::CONFLICT,
            "Link substituído por uma versão mais nova",
            vec![
                format!(
                    "A {rdm} passou para outra reunião do comitê depois que este e-mail foi \
                     enviado."
                ),
                "Uma versão mais nova foi enviada por e-mail, com novos links para a nova \
                 reunião: vote pelos links dessa mensagem."
                    .into(),
                nothing.into(),
            ],
        ),
        LinkRefusal::Expired { at } => (
            StatusCode::GONE,
            "Link expirado",
            vec![
                format!(
                    "Este link de votação na {rdm} valia até {} e expirou.",
                    when(at)
                ),
                "Se a RDM ainda aguardar o seu voto, novos links chegarão por e-mail (por \
                 exemplo, quando ela passar para a próxima reunião)."
                    .into(),
                nothing.into(),
            ],
        ),
        LinkRefusal::AccountInactive => (
            StatusCode::FORBIDDEN,
            "Conta desativada",
            vec![
                format!(
                    "A conta para a qual este link de votação na {rdm} foi enviado está \
                     desativada."
                ),
                nothing.into(),
            ],
        ),
        LinkRefusal::NotRequired => (
            StatusCode::FORBIDDEN,
            "Voto não necessário",
            vec![
                format!(
                    "O membro para quem este link foi enviado não está mais entre os \
                     votantes obrigatórios da {rdm} (por exemplo, saiu do comitê)."
                ),
                nothing.into(),
            ],
        ),
        LinkRefusal::AlreadyVoted => (
            StatusCode::CONFLICT,
            "Voto já registrado",
            vec![
                format!(
                    "Já existe um voto registrado para este membro nesta versão da {rdm} \
                     (pela API, por outro link ou por um substituto)."
                ),
                nothing.into(),
            ],
        ),
        LinkRefusal::DelegationEnded => (
            StatusCode::FORBIDDEN,
            "Delegação encerrada",
            vec![
                format!(
                    "Você recebeu este link como substituto, mas a delegação terminou ou foi \
                     revogada: ele não vale mais para votar na {rdm}."
                ),
                nothing.into(),
            ],
        ),
    };
    Page::message(status, title, &lines)
}

/// The page a link opens: what is being decided, by whom, and the form that confirms it.
/// With `problem`, the form comes back (422) with the error and what was typed.
fn confirmation_page(c: &Confirmation, problem: Option<FormProblem>, typed: &str) -> Page {
    let verb = decision_verb(c.decision);
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Page::new(
        status,
        &ConfirmPage {
            title: format!("{verb} a {}?", c.rdm.number),
            c,
            verb,
            rejecting: c.decision == VoteDecision::Reject,
            problem,
            typed,
            max_chars: REASON_MAX_CHARS,
        },
    )
}

fn success_page(r: &Recorded) -> Page {
    Page::new(
        StatusCode::OK,
        &SuccessPage {
            title: "Voto registrado",
            r,
        },
    )
}

/// Every response of these routes goes through here.
fn respond(page: Page) -> HttpResponse {
    HttpResponse::build(page.status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(page.html)
}

/// A form body that cannot be read: the same kind of page, never JSON.
fn form_error(err: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
    let (status, text) = match &err {
        UrlencodedError::Overflow { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "O texto enviado é grande demais (o motivo pode ter no máximo 2000 caracteres).",
        ),
        UrlencodedError::ContentType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "O voto deve ser enviado pelo formulário da página do link.",
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "Não foi possível ler o formulário enviado.",
        ),
    };
    tracing::info!(error = %err, "vote link: unreadable form");
    let page = Page::message(
        status,
        "Formulário inválido",
        &[
            text.into(),
            "Nenhum voto foi registrado. Abra o link do e-mail de novo e confirme pela página."
                .into(),
        ],
    );
    InternalError::from_response(err, respond(page)).into()
}

async fn method_not_allowed() -> HttpResponse {
    let mut res = respond(Page::message(
        StatusCode::METHOD_NOT_ALLOWED,
        "Método não permitido",
        &["Abra este link no navegador e confirme o voto pelo formulário da página.".into()],
    ));
    res.headers_mut().insert(
        header::ALLOW,
        header::HeaderValue::from_static("GET, HEAD, POST"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::mails::{ConflictingRdm, RdmEssentials};
    use chrono::TimeZone;

    const EVIL: &str = "<script>alert(1)</script>";
    /// Quotes that would end an attribute value.
    const QUOTES: &str = "a\"b&c='d'";

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, 0, 0).unwrap()
    }

    /// A confirmation whose every text comes from a hostile user.
    fn hostile_confirmation(decision: VoteDecision) -> Confirmation {
        let evil = format!("{EVIL} {QUOTES}");
        Confirmation {
            decision,
            rdm: RdmEssentials {
                number: "RDM-000042".into(),
                title: evil.clone(),
                // Type, risk and priority are enums: no text reaches them.
                rdm_type: domain::rdm::RdmType::Normal,
                description: evil.clone(),
                justification: evil.clone(),
                risk: Some(domain::rdm::Level::High),
                priority: Some(domain::rdm::Priority::Critical),
                implementation_plan: Some(evil.clone()),
                estimated_duration_minutes: Some(90),
                rollback_plan: Some(evil.clone()),
                estimated_rollback_minutes: None,
                communication_plan: Some(evil.clone()),
                requester_name: evil.clone(),
                requester_group: Some(evil.clone()),
                configuration_items: vec![evil.clone(), "erp-prod-01".into()],
                revision: 2,
                window: Some((at(20), at(23))),
                conflicts: vec![ConflictingRdm {
                    number: "RDM-000050".into(),
                    title: evil.clone(),
                    shared_items: vec![evil.clone(), "erp-prod-01".into()],
                }],
            },
            voter: evil.clone(),
            recipient: evil.clone(),
            by_substitute: true,
            committee: evil,
            meeting: Some((at(17), at(19))),
            expires_at: at(19),
            tz: chrono_tz::America::Sao_Paulo,
        }
    }

    /// No markup or quote of `EVIL`/`QUOTES` survives; their escaped forms are there.
    fn assert_escaped(html: &str) {
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains(QUOTES), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("a&quot;b&amp;c=&#39;d&#39;"), "{html}");
    }

    #[test]
    fn every_page_escapes_what_it_shows() {
        let evil = format!("{EVIL} {QUOTES}");
        let mut pages = Vec::new();
        for decision in [VoteDecision::Approve, VoteDecision::Reject] {
            let c = hostile_confirmation(decision);
            pages.push(confirmation_page(&c, None, ""));
            for problem in [
                FormProblem::ReasonRequired,
                FormProblem::TooLong,
                FormProblem::BadCharacters,
            ] {
                // What was typed comes back inside the textarea, escaped too.
                let page = confirmation_page(&c, Some(problem), &evil);
                assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
                assert!(page.html.contains(
                    ">&lt;script&gt;alert(1)&lt;/script&gt; a&quot;b&amp;c=&#39;d&#39;</textarea>"
                ));
                pages.push(page);
            }
            for state in [
                RdmState::Approved,
                RdmState::Rejected,
                RdmState::AwaitingCommittee,
                RdmState::Closed,
            ] {
                pages.push(success_page(&Recorded {
                    decision,
                    number: evil.clone(),
                    title: evil.clone(),
                    on_behalf_of: Some(evil.clone()),
                    state,
                }));
            }
        }
        let about = About {
            number: evil.clone(),
            used_decision: Some(VoteDecision::Approve),
            tz: chrono_tz::America::Sao_Paulo,
        };
        for refusal in [
            LinkRefusal::Used { at: at(17) },
            LinkRefusal::Expired { at: at(17) },
            LinkRefusal::AlreadyVoted,
        ] {
            pages.push(refusal_page(&refusal, Some(&about)));
        }
        pages.push(Page::message(
            StatusCode::OK,
            &evil,
            std::slice::from_ref(&evil),
        ));
        for page in &pages {
            assert_escaped(&page.html);
        }
    }

    #[test]
    fn the_confirmation_page_shows_the_decision_and_the_form() {
        let c = hostile_confirmation(VoteDecision::Reject);
        let html = confirmation_page(&c, Some(FormProblem::ReasonRequired), "").html;
        for expected in [
            "<title>Rejeitar a RDM-000042? · gmud</title>",
            "<h1>Rejeitar a RDM-000042?</h1>",
            "role=\"alert\" id=\"erro-motivo\"><strong>Erro:</strong> Para rejeitar, informe o \
             motivo. Nenhum voto foi registrado.</p>",
            "<dt>Reunião</dt><dd>24/11/2026 14:00 (America/Sao_Paulo)</dd>",
            "<dt>Link válido até</dt><dd>24/11/2026 16:00 (America/Sao_Paulo)</dd>",
            "<dt>Duração prevista</dt><dd>1 h 30 min</dd>",
            "<dt>Tempo previsto de rollback</dt><dd>não informado</dd>",
            "<dt>Janela</dt><dd>24/11/2026 17:00–20:00 (America/Sao_Paulo)</dd>",
            "<dt>Conflitos</dt><dd><ul><li>RDM-000050 — &lt;script&gt;",
            "maxlength=\"2000\" required=\"required\" aria-invalid=\"true\" \
             aria-describedby=\"dica-motivo erro-motivo\"></textarea>",
            "<button type=\"submit\">Confirmar: rejeitar a RDM-000042</button>",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        let cme = Confirmation {
            meeting: None,
            ..hostile_confirmation(VoteDecision::Approve)
        };
        let html = confirmation_page(&cme, None, "").html;
        assert!(html.contains("sem reunião: CME, decisão a qualquer momento"));
        assert!(html.contains("aria-describedby=\"dica-motivo\">"));
        assert!(!html.contains("required") && !html.contains("role=\"alert\""));
        let unbooked = Confirmation {
            rdm: RdmEssentials {
                window: None,
                conflicts: vec![],
                ..cme.rdm.clone()
            },
            ..cme
        };
        let html = confirmation_page(&unbooked, None, "").html;
        assert!(html.contains("<dt>Janela</dt><dd>a definir após a aprovação</dd>"));
        assert!(html.contains("<dt>Conflitos</dt><dd>nenhum</dd>"));
    }

    #[test]
    fn every_refusal_page_escapes_and_says_nothing_was_recorded() {
        let about = About {
            number: "RDM-000042".into(),
            used_decision: Some(VoteDecision::Reject),
            tz: chrono_tz::America::Sao_Paulo,
        };
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 17, 0, 0).unwrap();
        let all = [
            (LinkRefusal::Tampered, 400),
            (LinkRefusal::Used { at }, 409),
            (
                LinkRefusal::Decided {
                    state: RdmState::Approved,
                },
                409,
            ),
            (
                LinkRefusal::Superseded(Supersession::NewRevision {
                    link: 1,
                    current: 2,
                }),
                409,
            ),
            (LinkRefusal::Superseded(Supersession::OtherMeeting), 409),
            (LinkRefusal::Expired { at }, 410),
            (LinkRefusal::AccountInactive, 403),
            (LinkRefusal::NotRequired, 403),
            (LinkRefusal::AlreadyVoted, 409),
            (LinkRefusal::DelegationEnded, 403),
        ];
        for (r, status) in all {
            let page = refusal_page(&r, Some(&about));
            assert_eq!(page.status.as_u16(), status, "{r:?}");
            assert!(page.html.contains("Nenhum voto foi registrado"), "{r:?}");
        }
        let used = refusal_page(&LinkRefusal::Used { at }, Some(&about));
        assert!(
            used.html.contains("para rejeitar em 24/11/2026 14:00"),
            "{}",
            used.html
        );
    }

    #[test]
    fn the_document_is_html5_in_portuguese_and_escapes_its_title() {
        let page = Page::message(
            StatusCode::OK,
            "<script>\"x\" & 'y'</script>",
            &["<b>".into()],
        );
        let html = page.html.clone();
        assert!(html.starts_with("<!doctype html>\n<html lang=\"pt-BR\">"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<meta name=\"viewport\""));
        assert!(
            html.contains("<h1>&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;</h1>")
        );
        assert!(html.contains("<p>&lt;b&gt;</p>"));
        assert!(!html.contains("<script"));
        let res = respond(page);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            res.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
        assert_eq!(res.headers().get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
        assert_eq!(
            res.headers().get(header::REFERRER_POLICY).unwrap(),
            "no-referrer"
        );
    }
}
