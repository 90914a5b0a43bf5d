//! `/ticket-links/{token}`: the pages behind the confirm and reopen links of a resolved
//! ticket's mail (SPEC §4.3), pt-BR HTML, no bearer token (the signed link is the
//! credential). `GET` shows what would happen and records nothing (mail scanners follow
//! links); `POST` (the page's form) decides, once. The rules are
//! `crate::tickets::validation_links`'s.
use super::vote_pages::TokenParameter;
use crate::app::AppState;
use crate::notify::format::filters;
use crate::platform::links::TicketLinkAction;
use crate::tickets::validation_links::{self, FormProblem, LinkAbout, LinkFailure, Outcome};
use actix_web::error::{InternalError, UrlencodedError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use domain::ticket::TicketState;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

const FORM_LIMIT_BYTES: usize = 64 * 1024;
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The confirmation form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TicketLinkForm {
    /// Why the ticket is reopened: required to reopen.
    #[schema(max_length = 10000)]
    pub reason: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    paths(show_ticket_link, confirm_ticket_link),
    components(schemas(TicketLinkForm)),
    modifiers(&TICKET_TOKEN),
    tags((name = "ticket links", description = "The HTML pages behind the confirm/reopen links of a resolved ticket's mail (pt-BR, no bearer token: the signed link is the credential)."))
)]
pub struct Doc;

const TICKET_TOKEN: TokenParameter = TokenParameter {
    path: "/ticket-links/{token}",
    description:
        "`{link_id}.{c|o}.{signature}` as mailed: names the link and its action (confirm or \
                  reopen), signed over the ticket, its resolution and the recipient",
};

#[derive(Template)]
#[template(path = "ticket_link/page.html", config = "templates/askama.toml")]
struct PageTpl<'a> {
    title: &'a str,
    paragraphs: Vec<String>,
    about: Option<&'a LinkAbout>,
    form: bool,
    reopening: bool,
    error: Option<&'a str>,
    typed: &'a str,
}

fn respond(status: StatusCode, tpl: PageTpl) -> HttpResponse {
    let body = tpl.render().unwrap_or_else(|_| "erro".into());
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(body)
}

fn message(status: StatusCode, title: &str, paragraphs: Vec<String>) -> HttpResponse {
    respond(
        status,
        PageTpl {
            title,
            paragraphs,
            about: None,
            form: false,
            reopening: false,
            error: None,
            typed: "",
        },
    )
}

fn state_label(s: TicketState) -> &'static str {
    match s {
        TicketState::New => "novo",
        TicketState::InProgress => "em atendimento",
        TicketState::Pending => "pendente",
        TicketState::Resolved => "resolvido",
        TicketState::Closed => "encerrado",
        TicketState::Cancelled => "cancelado",
    }
}

fn failure(f: LinkFailure) -> HttpResponse {
    match f {
        LinkFailure::Invalid => message(
            StatusCode::NOT_FOUND,
            "Link inválido",
            vec!["Este link não é válido: confira se ele foi copiado inteiro do e-mail. Nada foi registrado.".into()],
        ),
        LinkFailure::Used { action } => message(
            StatusCode::GONE,
            "Link já utilizado",
            vec![format!(
                "Este link já foi utilizado ({}). Cada link funciona uma única vez.",
                if action == "reopen" { "o chamado foi reaberto" } else { "a solução foi confirmada" }
            )],
        ),
        LinkFailure::Stale { state } => message(
            StatusCode::GONE,
            "Link não vale mais",
            vec![format!(
                "O chamado mudou desde este e-mail: agora está {}. Nada foi registrado.{}",
                state_label(state),
                if state == TicketState::Closed {
                    " Um chamado encerrado não é reaberto: abra um chamado de acompanhamento no portal."
                } else {
                    ""
                }
            )],
        ),
    }
}

fn form_page(a: &LinkAbout, error: Option<&str>, typed: &str) -> HttpResponse {
    let reopening = a.action == TicketLinkAction::Reopen;
    respond(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        PageTpl {
            title: if reopening { "Reabrir o chamado" } else { "Confirmar a solução" },
            paragraphs: vec![format!(
                "Olá, {}. Você está prestes a {} o chamado {}. Nada foi registrado ainda: só conta depois que você confirmar no botão abaixo.",
                a.recipient,
                if reopening { "reabrir" } else { "confirmar a solução e encerrar" },
                a.number
            )],
            about: Some(a),
            form: true,
            reopening,
            error,
            typed,
        },
    )
}

/// Shows what the link would do; records nothing.
#[utoipa::path(
    get, path = "/ticket-links/{token}", tag = "ticket links",
    params(("token" = String, Path, description = "The mailed token")),
    responses(
        (status = 200, description = "The confirmation page", content_type = "text/html", body = String),
        (status = 404, description = "Malformed, unknown or tampered link", content_type = "text/html", body = String),
        (status = 410, description = "Link already used, or the ticket moved on (resolved again, reopened, closed)", content_type = "text/html", body = String),
        (status = 500, description = "Internal error (opaque; logged whole)", content_type = "text/html", body = String),
        (status = 503, description = "Database unavailable", content_type = "text/html", body = String),
    )
)]
pub async fn show_ticket_link(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    let mut conn = match state.pool.get().await {
        Ok(c) => c,
        Err(_) => return unavailable(),
    };
    match validation_links::show(&mut conn, &state.notifier, &token).await {
        Ok(Ok(a)) => form_page(&a, None, ""),
        Ok(Err(f)) => failure(f),
        Err(e) => internal(e),
    }
}

/// Confirms: closes the ticket (confirm) or reopens it (reopen, with a reason), once.
#[utoipa::path(
    post, path = "/ticket-links/{token}", tag = "ticket links",
    params(("token" = String, Path, description = "The mailed token")),
    request_body(content = TicketLinkForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Done: the page shows the ticket's state", content_type = "text/html", body = String),
        (status = 400, description = "An unreadable form", content_type = "text/html", body = String),
        (status = 404, description = "Malformed, unknown or tampered link", content_type = "text/html", body = String),
        (status = 409, description = "The ticket's rules refuse the action now", content_type = "text/html", body = String),
        (status = 410, description = "Link already used, or the ticket moved on", content_type = "text/html", body = String),
        (status = 413, description = "Form too large", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)", content_type = "text/html", body = String),
        (status = 422, description = "Reopen without a reason: the form again", content_type = "text/html", body = String),
        (status = 500, description = "Internal error (opaque; logged whole)", content_type = "text/html", body = String),
        (status = 503, description = "Database unavailable", content_type = "text/html", body = String),
    )
)]
pub async fn confirm_ticket_link(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<TicketLinkForm>,
) -> HttpResponse {
    let typed = form.into_inner().reason.unwrap_or_default();
    let mut conn = match state.pool.get().await {
        Ok(c) => c,
        Err(_) => return unavailable(),
    };
    let reason = Some(typed.clone());
    match validation_links::decide(
        &mut conn,
        &state.notifier,
        &token,
        reason,
        state.clock.now(),
    )
    .await
    {
        Ok(Outcome::Done { about, state }) => message(
            StatusCode::OK,
            if state == TicketState::Closed {
                "Solução confirmada"
            } else {
                "Chamado reaberto"
            },
            vec![if state == TicketState::Closed {
                format!("Obrigado! O chamado {} foi encerrado.", about.number)
            } else {
                format!(
                    "O chamado {} foi reaberto e voltou para a equipe de suporte.",
                    about.number
                )
            }],
        ),
        Ok(Outcome::Form { about, problem }) => form_page(
            &about,
            Some(match problem {
                FormProblem::ReasonRequired => "Para reabrir, informe o motivo.",
                FormProblem::TooLong => "O motivo pode ter no máximo 10000 caracteres.",
            }),
            &typed,
        ),
        Ok(Outcome::Failed(f)) => failure(f),
        Err(e) => internal(e),
    }
}

fn unavailable() -> HttpResponse {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Serviço indisponível",
        vec!["Tente de novo em alguns minutos. Nada foi registrado.".into()],
    )
}

fn internal(e: crate::platform::error::ApiError) -> HttpResponse {
    if e.status() == 503 {
        return unavailable();
    }
    if e.status() < 500 {
        return message(
            StatusCode::CONFLICT,
            "Não foi possível",
            vec![format!("{e}. Nada foi registrado.")],
        );
    }
    tracing::error!(error = %e.chain(), "ticket link");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Erro interno",
        vec!["Ocorreu um erro. Nada foi registrado.".into()],
    )
}

fn form_error(err: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
    let status = match &err {
        UrlencodedError::Overflow { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        UrlencodedError::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    let page = message(
        status,
        "Formulário inválido",
        vec!["Não foi possível ler o formulário. Abra o link do e-mail de novo. Nada foi registrado.".into()],
    );
    InternalError::from_response(err, page).into()
}

async fn method_not_allowed() -> HttpResponse {
    let mut res = message(
        StatusCode::METHOD_NOT_ALLOWED,
        "Método não permitido",
        vec!["Abra este link no navegador e confirme pelo formulário da página.".into()],
    );
    res.headers_mut().insert(
        header::ALLOW,
        header::HeaderValue::from_static("GET, HEAD, POST"),
    );
    res
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/ticket-links/{token}")
            .app_data(
                web::FormConfig::default()
                    .limit(FORM_LIMIT_BYTES)
                    .error_handler(form_error),
            )
            .route(web::get().to(show_ticket_link))
            .route(web::head().to(show_ticket_link))
            .route(web::post().to(confirm_ticket_link))
            .default_service(web::to(method_not_allowed)),
    );
}
