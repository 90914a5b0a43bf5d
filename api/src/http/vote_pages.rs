//! `/vote/{token}`: the pages behind the approve and reject links of vote e-mails
//! (SPEC §3.5), served at the server's root, outside `/api/v1`: they are HTML for a browser,
//! in pt-BR, and carry no bearer token (the signed link is the credential).
//!
//! `GET` shows a confirmation page and never records anything: mail scanners follow links.
//! `POST` (the page's form) confirms it. The rules are `crate::changes::vote_links`'s; every
//! refusal is a page that says why, and writes nothing.
use crate::app::AppState;
use crate::changes::labels::{decision_verb, priority_label, risk_label, state_label, type_label};
use crate::changes::mails::RdmEssentials;
use crate::changes::vote_links::{
    self, About, Confirmation, Failure, FormProblem, Recorded, REASON_MAX_CHARS,
};
use crate::notify::format::{escape_html, format_duration_minutes, format_local};
use crate::platform::error::ApiError;
use actix_web::error::{InternalError, UrlencodedError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::approval::VoteDecision;
use domain::rdm::RdmState;
use domain::vote_link::{LinkRefusal, Supersession};
use serde::Deserialize;
use std::fmt::Write as _;
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
    modifiers(&TokenParameter),
    tags((name = "vote links", description = "The HTML pages behind the approve/reject links of vote e-mails (pt-BR, no bearer token: the signed link is the credential)."))
)]
pub struct Doc;

/// The token is declared once for the path (both methods share it), not per operation: the
/// operations then list exactly the responses declared above, all HTML (the document's
/// generic problem+json responses are added only to operations with parameters).
struct TokenParameter;
impl Modify for TokenParameter {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(item) = doc.paths.paths.get_mut("/vote/{token}") {
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
                .description(Some(
                    "`{link_id}.{a|r}.{signature}` as mailed: names the link and the decision, \
                     signed over everything the link is bound to",
                ))
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
    title: String,
    /// The content of `<main>` after its `<h1>`: already escaped HTML.
    main: String,
}

fn error_page(e: &ApiError, link_id: &str) -> Page {
    match e {
        ApiError::Unavailable => Page {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: "Serviço indisponível".into(),
            main: p(
                "O gmud não conseguiu acessar o banco de dados agora. Nenhum voto foi \
                     registrado. Tente de novo em alguns minutos, pelo mesmo link.",
            ),
        },
        ApiError::Conflict { code, .. } if *code == "concurrent_update" => {
            tracing::info!(link_id, "vote link: concurrent update");
            Page {
                status: StatusCode::CONFLICT,
                title: "Tente de novo".into(),
                main: p(
                    "A RDM foi alterada por outra pessoa no mesmo instante. Nenhum voto \
                         foi registrado. Abra o link de novo para ver a situação atual.",
                ),
            }
        }
        other => {
            tracing::error!(link_id, error = %other.chain(), "vote link: internal error");
            Page {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                title: "Erro interno".into(),
                main: p(
                    "Ocorreu um erro inesperado e nenhum voto foi registrado. O erro foi \
                         registrado para a equipe do gmud; tente de novo mais tarde, pelo \
                         mesmo link.",
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------

fn esc(s: &str) -> String {
    escape_html(s)
}

fn p(text: &str) -> String {
    format!("<p>{}</p>\n", esc(text))
}

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
            let what = match about.and_then(|a| a.used_decision.as_deref()) {
                Some("approve") => " para aprovar",
                Some("reject") => " para rejeitar",
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
    Page {
        status,
        title: title.into(),
        main: lines.iter().map(|l| p(l)).collect(),
    }
}

fn field(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(value));
}

fn long_field(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(
        out,
        "<dt>{}</dt><dd class=\"texto\">{}</dd>",
        esc(label),
        esc(value.trim())
    );
}

fn essentials_list(e: &RdmEssentials) -> String {
    let mut out = String::from("<dl>\n");
    field(&mut out, "Número", &e.number);
    field(&mut out, "Título", &e.title);
    field(&mut out, "Tipo", type_label(&e.rdm_type));
    field(&mut out, "Risco", risk_label(e.risk.as_deref()));
    field(
        &mut out,
        "Prioridade",
        priority_label(e.priority.as_deref()),
    );
    field(&mut out, "Solicitante", &e.requester_name);
    if !e.configuration_items.is_empty() {
        field(
            &mut out,
            "Itens de configuração",
            &e.configuration_items.join(", "),
        );
    }
    long_field(&mut out, "Descrição", &e.description);
    if !e.justification.trim().is_empty() {
        long_field(&mut out, "Justificativa", &e.justification);
    }
    if let Some(plan) = e
        .implementation_plan
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        long_field(&mut out, "Plano de implantação", plan);
    }
    let minutes = |m: Option<i32>| {
        m.map(|m| format_duration_minutes(m.into()))
            .unwrap_or_else(|| "não informada".into())
    };
    field(
        &mut out,
        "Duração prevista",
        &minutes(e.estimated_duration_minutes),
    );
    if let Some(plan) = e.rollback_plan.as_deref().filter(|s| !s.trim().is_empty()) {
        long_field(&mut out, "Plano de rollback", plan);
    }
    field(
        &mut out,
        "Tempo previsto de rollback",
        &minutes(e.estimated_rollback_minutes),
    );
    field(&mut out, "Revisão", &e.revision.to_string());
    out.push_str("</dl>\n");
    out
}

/// The page a link opens: what is being decided, by whom, and the form that confirms it.
/// With `problem`, the form comes back (422) with the error and what was typed.
fn confirmation_page(c: &Confirmation, problem: Option<FormProblem>, typed: &str) -> Page {
    let ess = &c.rdm;
    let verb = decision_verb(c.decision);
    let rejecting = c.decision == VoteDecision::Reject;
    let mut main = String::new();
    if let Some(problem) = problem {
        let msg = match problem {
            FormProblem::ReasonRequired => {
                "Para rejeitar, informe o motivo. Nenhum voto foi registrado."
            }
            FormProblem::TooLong => {
                "O motivo pode ter no máximo 2000 caracteres. Nenhum voto foi registrado."
            }
            FormProblem::BadCharacters => {
                "O motivo contém caracteres inválidos. Nenhum voto foi registrado."
            }
        };
        let _ = writeln!(
            main,
            "<p class=\"erro\" role=\"alert\" id=\"erro-motivo\"><strong>Erro:</strong> {}</p>",
            esc(msg)
        );
    }
    let _ = writeln!(
        main,
        "<p>Você está prestes a <strong>{}</strong> a <strong>{}</strong> ({}). \
         <strong>Nada foi registrado ainda:</strong> o voto só conta depois que você confirmar \
         no botão abaixo.</p>",
        esc(&verb.to_lowercase()),
        esc(&ess.number),
        esc(&ess.title)
    );
    let counts_for = if !c.by_substitute {
        format!("{} (votante obrigatório)", c.voter)
    } else {
        format!(
            "{} — você, {}, vota como substituto, em nome de {}",
            c.voter, c.recipient, c.voter
        )
    };
    main.push_str("<h2>Seu voto</h2>\n<dl>\n");
    field(&mut main, "Decisão", verb);
    field(&mut main, "O voto conta para", &counts_for);
    field(&mut main, "Comitê", &c.committee);
    match c.meeting {
        Some((starts, _)) => field(&mut main, "Reunião", &format_local(starts, c.tz)),
        None => field(
            &mut main,
            "Reunião",
            "sem reunião: CME, decisão a qualquer momento",
        ),
    }
    field(
        &mut main,
        "Link válido até",
        &format_local(c.expires_at, c.tz),
    );
    main.push_str("</dl>\n<h2>Dados da RDM</h2>\n");
    main.push_str(&essentials_list(ess));
    let (label, hint) = if rejecting {
        (
            "Motivo da rejeição (obrigatório)",
            "O motivo é enviado ao grupo solicitante.",
        )
    } else {
        (
            "Observação (opcional)",
            "Fica registrada no histórico da RDM.",
        )
    };
    let mut described = String::from("dica-motivo");
    if problem.is_some() {
        described.push_str(" erro-motivo");
    }
    let _ = write!(
        main,
        "<h2>Confirmar</h2>\n<form method=\"post\">\n\
         <p><label for=\"motivo\">{label}</label></p>\n\
         <p id=\"dica-motivo\" class=\"dica\">{hint}</p>\n\
         <p><textarea id=\"motivo\" name=\"reason\" rows=\"5\" cols=\"60\" maxlength=\"{max}\"{required}{invalid} aria-describedby=\"{described}\">{typed}</textarea></p>\n\
         <p><button type=\"submit\">Confirmar: {verb} a {number}</button></p>\n\
         </form>\n",
        label = esc(label),
        hint = esc(hint),
        max = REASON_MAX_CHARS,
        required = if rejecting { " required=\"required\"" } else { "" },
        invalid = if problem.is_some() { " aria-invalid=\"true\"" } else { "" },
        described = described,
        typed = esc(typed),
        verb = esc(&verb.to_lowercase()),
        number = esc(&ess.number),
    );
    main.push_str(&p(
        "Este link é pessoal e funciona uma única vez. Se você não pediu para votar, feche \
         esta página: nada será registrado.",
    ));
    Page {
        status: if problem.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        title: format!("{verb} a {}?", ess.number),
        main,
    }
}

fn success_page(r: &Recorded) -> Page {
    let number = &r.number;
    let what = match r.decision {
        VoteDecision::Approve => "aprovação",
        VoteDecision::Reject => "rejeição",
    };
    let mut main = String::new();
    let on_behalf = match &r.on_behalf_of {
        Some(voter) => format!(", em nome de {voter}"),
        None => String::new(),
    };
    main.push_str(&p(&format!(
        "Seu voto de {what} na {number} ({}){on_behalf} foi registrado.",
        r.title
    )));
    let state = r.state;
    let outcome = match state {
        RdmState::Approved => format!(
            "Com este voto, a {number} foi aprovada pelo comitê. Situação atual: {}.",
            state_label(state)
        ),
        RdmState::Rejected => format!(
            "Com este voto, a {number} foi rejeitada; o grupo solicitante será avisado com o \
             motivo. Situação atual: {}.",
            state_label(state)
        ),
        RdmState::AwaitingCommittee => format!(
            "A {number} continua aguardando os votos dos demais membros do comitê. Situação \
             atual: {}.",
            state_label(state)
        ),
        other => format!("Situação atual da {number}: {}.", state_label(other)),
    };
    let _ = writeln!(main, "<p><strong>{}</strong></p>", esc(&outcome));
    main.push_str(&p(
        "Este link não pode ser usado de novo. Você já pode fechar esta página.",
    ));
    Page {
        status: StatusCode::OK,
        title: "Voto registrado".into(),
        main,
    }
}

/// The whole document around a page.
fn document(page: &Page) -> String {
    format!(
        "<!doctype html>\n\
         <html lang=\"pt-BR\">\n\
         <head>\n\
         <meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex, nofollow\">\n\
         <title>{title} · gmud</title>\n\
         <style>\n\
         body{{font-family:system-ui,sans-serif;line-height:1.5;margin:0;padding:1rem;color:#1a1a1a;background:#fff}}\n\
         main{{max-width:44rem;margin:0 auto}}\n\
         dt{{font-weight:bold}}\n\
         dd{{margin:0 0 .5rem 0}}\n\
         .texto{{white-space:pre-wrap}}\n\
         .erro{{border:2px solid #b00020;padding:.5rem;color:#b00020}}\n\
         .dica{{color:#444;margin-top:0}}\n\
         textarea{{width:100%;box-sizing:border-box;font:inherit}}\n\
         button{{font:inherit;padding:.5rem 1rem}}\n\
         </style>\n\
         </head>\n\
         <body>\n\
         <main>\n\
         <h1>{title}</h1>\n\
         {main}\
         </main>\n\
         </body>\n\
         </html>\n",
        title = esc(&page.title),
        main = page.main,
    )
}

/// Every response of these routes goes through here.
fn respond(page: Page) -> HttpResponse {
    let html = document(&page);
    HttpResponse::build(page.status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(html)
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
    let page = Page {
        status,
        title: "Formulário inválido".into(),
        main: format!(
            "{}{}",
            p(text),
            p("Nenhum voto foi registrado. Abra o link do e-mail de novo e confirme pela página.")
        ),
    };
    InternalError::from_response(err, respond(page)).into()
}

async fn method_not_allowed() -> HttpResponse {
    let mut res = respond(Page {
        status: StatusCode::METHOD_NOT_ALLOWED,
        title: "Método não permitido".into(),
        main: p("Abra este link no navegador e confirme o voto pelo formulário da página."),
    });
    res.headers_mut().insert(
        header::ALLOW,
        header::HeaderValue::from_static("GET, HEAD, POST"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_page_escapes_and_says_nothing_was_recorded() {
        let about = About {
            number: "RDM-000042".into(),
            used_decision: Some("reject".into()),
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
            assert!(page.main.contains("Nenhum voto foi registrado"), "{r:?}");
        }
        let used = refusal_page(&LinkRefusal::Used { at }, Some(&about));
        assert!(
            used.main.contains("para rejeitar em 24/11/2026 14:00"),
            "{}",
            used.main
        );
    }

    #[test]
    fn the_document_is_html5_in_portuguese_and_escapes_its_title() {
        let page = Page {
            status: StatusCode::OK,
            title: "<script>\"x\" & 'y'</script>".into(),
            main: p("<b>"),
        };
        let html = document(&page);
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
