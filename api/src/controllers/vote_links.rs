//! `/vote/{token}`: the pages behind the approve and reject links of vote e-mails
//! (SPEC §3.5), served at the server's root, outside `/api/v1`: they are HTML for a browser,
//! in pt-BR, and carry no bearer token (the signed link is the credential).
//!
//! `GET` shows a confirmation page and never records anything: mail scanners follow links.
//! `POST` (the page's form) records the vote through the same rules as the API
//! ([`record_vote`]) and spends the link, in one transaction. Whether a link may be used is
//! decided by [`domain::vote_link::check_link`]; every refusal is a page that says why, and
//! writes nothing.
use crate::controllers::rdms::votes::{record_vote, required_voters, Ballot, Channel};
use crate::error::ApiError;
use crate::links::{parse_token, LinkBinding, ParsedToken};
use crate::mail::templates::{escape_html, format_duration_minutes, format_local, RdmEssentials};
use crate::models::Rdm;
use crate::rdms;
use crate::schema::{committee_meetings, committees, rdm_votes, users, vote_links};
use crate::state::AppState;
use actix_web::error::{InternalError, UrlencodedError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::approval::VoteDecision;
use domain::rdm::{Actor, RdmState};
use domain::vote_link::{check_link, link_expiry, LinkFacts, LinkRefusal, Supersession};
use serde::Deserialize;
use std::fmt::Write as _;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{Modify, OpenApi, ToSchema};

/// The longest reason accepted (as in the API's `NewVote`).
const REASON_MAX_CHARS: usize = 2000;
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
    let Some(parsed) = parse_token(&token) else {
        return respond(refusal_page(&LinkRefusal::Tampered, None));
    };
    let now = state.clock.now();
    let result = async {
        let mut conn = state.pool.get().await.map_err(ApiError::from)?;
        conn.build_transaction()
            .read_only()
            .run::<_, Failure, _>(async |conn| {
                let ctx = check(conn, &state, &parsed, false, now).await?;
                confirmation_page(conn, &ctx, None, "").await
            })
            .await
    }
    .await;
    finish(result, parsed.link_id)
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
    let Some(parsed) = parse_token(&token) else {
        return respond(refusal_page(&LinkRefusal::Tampered, None));
    };
    let typed = form
        .into_inner()
        .reason
        .unwrap_or_default()
        .replace("\r\n", "\n");
    let now = state.clock.now();
    let result = async {
        let mut conn = state.pool.get().await.map_err(ApiError::from)?;
        conn.transaction::<_, Failure, _>(async |conn| {
            let ctx = check(conn, &state, &parsed, true, now).await?;
            let reason = typed.trim();
            let problem = if reason.contains('\0') {
                Some(FormProblem::BadCharacters)
            } else if reason.chars().count() > REASON_MAX_CHARS {
                Some(FormProblem::TooLong)
            } else if reason.is_empty() && ctx.decision == VoteDecision::Reject {
                Some(FormProblem::ReasonRequired)
            } else {
                None
            };
            if let Some(p) = problem {
                let shown = if p == FormProblem::BadCharacters {
                    String::new()
                } else {
                    typed.clone()
                };
                return Err(Failure::Page(
                    confirmation_page(conn, &ctx, Some(p), &shown).await?,
                ));
            }
            let link = &ctx.link;
            let ballot = Ballot {
                voter_id: link.voter_id,
                cast_by: (link.recipient_id != link.voter_id).then_some(link.recipient_id),
                decision: ctx.decision,
                reason: (!reason.is_empty()).then(|| reason.to_string()),
                channel: Channel::Email,
            };
            record_vote(
                conn,
                &state.notifier,
                &ctx.rdm,
                ballot,
                &Actor::system(),
                now,
            )
            .await
            .map_err(|e| backstop(e, &ctx))?;
            let spent = diesel::update(
                vote_links::table
                    .find(link.id)
                    .filter(vote_links::used_at.is_null()),
            )
            .set((
                vote_links::used_at.eq(now),
                vote_links::used_decision.eq(VoteDecision::as_str(ctx.decision)),
            ))
            .execute(conn)
            .await?;
            if spent != 1 {
                // The row is locked: this cannot happen; never record a vote twice anyway.
                return Err(Failure::Api(ApiError::conflict(
                    "concurrent_update",
                    "the link was used at the same time",
                )));
            }
            let after = rdms::find(conn, ctx.rdm.id).await?;
            tracing::info!(
                link_id = link.id,
                rdm_id = ctx.rdm.id,
                voter_id = link.voter_id,
                recipient_id = link.recipient_id,
                decision = VoteDecision::as_str(ctx.decision),
                state = %after.state,
                "vote recorded through an e-mail link"
            );
            success_page(conn, &ctx, &after).await
        })
        .await
    }
    .await;
    finish(result, parsed.link_id)
}

// ---------------------------------------------------------------------------------------
// Checking a link
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = vote_links, check_for_backend(diesel::pg::Pg))]
struct LinkRow {
    id: i64,
    rdm_id: i64,
    committee_id: i64,
    voter_id: i64,
    recipient_id: i64,
    revision: i32,
    meeting_id: Option<i64>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    used_decision: Option<String>,
}

impl LinkRow {
    fn binding(&self) -> LinkBinding {
        LinkBinding {
            link_id: self.id,
            rdm_id: self.rdm_id,
            voter_id: self.voter_id,
            recipient_id: self.recipient_id,
            revision: self.revision,
            meeting_id: self.meeting_id,
        }
    }
}

/// A link that passed every check, with what its pages show.
struct Ctx {
    link: LinkRow,
    decision: VoteDecision,
    rdm: Rdm,
    /// The instant the link stops working.
    expires_at: DateTime<Utc>,
    tz: Tz,
}

/// A finished page, built inside the transaction (it must be `Send`), sent after it.
struct Page {
    status: StatusCode,
    title: String,
    /// The content of `<main>` after its `<h1>`: already escaped HTML.
    main: String,
}

/// Why a request ends without a vote: a page to show (a refusal, or the form with an
/// error), or an error to log. Either way the transaction rolls back.
enum Failure {
    Page(Page),
    Api(ApiError),
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Api(e.into())
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

async fn find_link(
    conn: &mut AsyncPgConnection,
    id: i64,
    lock: bool,
) -> Result<Option<LinkRow>, Failure> {
    let q = vote_links::table.find(id).select(LinkRow::as_select());
    let row = if lock {
        q.for_update().first(conn).await.optional()?
    } else {
        q.first(conn).await.optional()?
    };
    Ok(row)
}

async fn tz(conn: &mut AsyncPgConnection) -> Tz {
    crate::scheduling::current_policy(conn)
        .await
        .ok()
        .and_then(|p| p.timezone.parse().ok())
        .unwrap_or(chrono_tz::America::Sao_Paulo)
}

/// Loads the link the token names and applies [`check_link`]. With `lock`, the RDM and then
/// the link row are locked until the transaction ends (the RDM first, as every other writer
/// of votes and links does), so two confirmations of one link queue and the second sees the
/// first spent it.
async fn check(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    token: &ParsedToken,
    lock: bool,
    now: DateTime<Utc>,
) -> Result<Ctx, Failure> {
    let tampered = || Failure::Page(refusal_page(&LinkRefusal::Tampered, None));
    // An unknown id or a bad signature: the first rule, and nothing else is looked at.
    let Some(row) = find_link(conn, token.link_id, false).await? else {
        tracing::info!(link_id = token.link_id, "vote link refused: unknown link");
        return Err(tampered());
    };
    if !state.notifier.signer.verify(token, &row.binding()) {
        tracing::warn!(link_id = row.id, "vote link refused: bad signature");
        return Err(tampered());
    }
    let rdm = if lock {
        rdms::lock(conn, row.rdm_id).await?
    } else {
        rdms::find(conn, row.rdm_id).await?
    };
    let link = if lock {
        find_link(conn, row.id, true).await?.ok_or_else(tampered)?
    } else {
        row
    };
    let meeting_ends_at = match link.meeting_id {
        Some(m) => committee_meetings::table
            .find(m)
            .select(committee_meetings::ends_at)
            .first(conn)
            .await
            .optional()?,
        None => None,
    };
    let awaits_this_committee = rdm.committee_id == Some(link.committee_id);
    let voter_required = awaits_this_committee
        && required_voters(conn, link.committee_id, rdm.id)
            .await?
            .contains(&link.voter_id);
    let already_voted = diesel::select(diesel::dsl::exists(
        rdm_votes::table
            .filter(rdm_votes::rdm_id.eq(rdm.id))
            .filter(rdm_votes::committee_id.eq(link.committee_id))
            .filter(rdm_votes::voter_id.eq(link.voter_id))
            .filter(rdm_votes::revision.eq(rdm.revision)),
    ))
    .get_result::<bool>(conn)
    .await?;
    let recipient_active: bool = users::table
        .find(link.recipient_id)
        .select(users::active)
        .first(conn)
        .await?;
    let delegation_active = if link.recipient_id != link.voter_id {
        Some(crate::notify::is_substitute(conn, link.voter_id, link.recipient_id, now).await?)
    } else {
        None
    };
    let facts = LinkFacts {
        signature_valid: true,
        used_at: link.used_at,
        state: rdms::parse_state(&rdm.state)?,
        link_committee_id: link.committee_id,
        current_committee_id: rdm.committee_id,
        link_revision: link.revision,
        current_revision: rdm.revision,
        link_meeting_id: link.meeting_id,
        current_meeting_id: rdm.meeting_id,
        meeting_ends_at,
        link_expires_at: link.expires_at,
        recipient_active,
        voter_required,
        already_voted,
        delegation_active,
    };
    let tz = tz(conn).await;
    if let Err(refusal) = check_link(&facts, now) {
        tracing::info!(
            link_id = link.id,
            rdm_id = rdm.id,
            refusal = refusal.code(),
            "vote link refused"
        );
        let about = About {
            number: rdms::number(rdm.id),
            used_decision: link.used_decision.clone(),
            tz,
        };
        return Err(Failure::Page(refusal_page(&refusal, Some(&about))));
    }
    Ok(Ctx {
        expires_at: link_expiry(&facts),
        decision: token.decision,
        link,
        rdm,
        tz,
    })
}

/// `record_vote` refused after the link's checks passed (they cover its rules, so only a
/// race could get here): the page for the matching refusal.
fn backstop(e: ApiError, ctx: &Ctx) -> Failure {
    let about = About {
        number: rdms::number(ctx.rdm.id),
        used_decision: None,
        tz: ctx.tz,
    };
    let refusal = match &e {
        ApiError::Conflict {
            code: "already_voted",
            ..
        } => LinkRefusal::AlreadyVoted,
        ApiError::Transition(r) => LinkRefusal::Decided { state: r.state },
        ApiError::Forbidden(_) => LinkRefusal::NotRequired,
        _ => return Failure::Api(e),
    };
    Failure::Page(refusal_page(&refusal, Some(&about)))
}

/// Turns the outcome into the response; unexpected errors are logged and shown opaque.
fn finish(result: Result<Page, Failure>, link_id: i64) -> HttpResponse {
    match result {
        Ok(page) | Err(Failure::Page(page)) => respond(page),
        Err(Failure::Api(e)) => respond(error_page(&e, link_id)),
    }
}

fn error_page(e: &ApiError, link_id: i64) -> Page {
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
            tracing::error!(link_id, error = ?other, "vote link: internal error");
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

/// What a refusal page may say about the link's RDM (never shown for a tampered link).
struct About {
    number: String,
    used_decision: Option<String>,
    tz: Tz,
}

fn esc(s: &str) -> String {
    escape_html(s)
}

fn p(text: &str) -> String {
    format!("<p>{}</p>\n", esc(text))
}

fn decision_verb(d: VoteDecision) -> &'static str {
    match d {
        VoteDecision::Approve => "Aprovar",
        VoteDecision::Reject => "Rejeitar",
    }
}

fn state_label(s: RdmState) -> &'static str {
    match s {
        RdmState::Draft => "rascunho",
        RdmState::Submitted => "submetida",
        RdmState::Assessment => "em avaliação",
        RdmState::PoApproved => "aprovada pelo product owner",
        RdmState::AwaitingCommittee => "aguardando o comitê",
        RdmState::Approved => "aprovada",
        RdmState::Scheduled => "agendada",
        RdmState::InExecution => "em execução",
        RdmState::Implemented => "implementada",
        RdmState::Failed => "falhou",
        RdmState::RolledBack => "revertida (rollback)",
        RdmState::Closed => "encerrada",
        RdmState::Rejected => "rejeitada",
        RdmState::Cancelled => "cancelada",
    }
}

fn type_label(t: &str) -> &str {
    match t {
        "normal" => "normal",
        "emergency" => "emergencial",
        "standard" => "padrão",
        other => other,
    }
}

fn risk_label(r: Option<&str>) -> &str {
    match r.map(str::trim) {
        None | Some("") => "não classificado",
        Some("low") => "baixo",
        Some("medium") => "médio",
        Some("high") => "alto",
        Some(other) => other,
    }
}

fn priority_label(p: Option<&str>) -> &str {
    match p.map(str::trim) {
        None | Some("") => "não definida",
        Some("low") => "baixa",
        Some("medium") => "média",
        Some("high") => "alta",
        Some("critical") => "crítica",
        Some(other) => other,
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormProblem {
    ReasonRequired,
    TooLong,
    BadCharacters,
}

struct People {
    voter: String,
    recipient: String,
    committee: String,
    meeting: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

async fn people(conn: &mut AsyncPgConnection, ctx: &Ctx) -> Result<People, Failure> {
    let name = |id: i64| users::table.find(id).select(users::display_name);
    let voter: String = name(ctx.link.voter_id).first(conn).await?;
    let recipient: String = name(ctx.link.recipient_id).first(conn).await?;
    let committee: String = committees::table
        .find(ctx.link.committee_id)
        .select(committees::name)
        .first(conn)
        .await?;
    let meeting = match ctx.link.meeting_id {
        Some(m) => committee_meetings::table
            .find(m)
            .select((committee_meetings::starts_at, committee_meetings::ends_at))
            .first(conn)
            .await
            .optional()?,
        None => None,
    };
    Ok(People {
        voter,
        recipient,
        committee,
        meeting,
    })
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
async fn confirmation_page(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    problem: Option<FormProblem>,
    typed: &str,
) -> Result<Page, Failure> {
    let ess = crate::notify::essentials(conn, &ctx.rdm).await?;
    let who = people(conn, ctx).await?;
    let verb = decision_verb(ctx.decision);
    let rejecting = ctx.decision == VoteDecision::Reject;
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
    let counts_for = if ctx.link.recipient_id == ctx.link.voter_id {
        format!("{} (votante obrigatório)", who.voter)
    } else {
        format!(
            "{} — você, {}, vota como substituto, em nome de {}",
            who.voter, who.recipient, who.voter
        )
    };
    main.push_str("<h2>Seu voto</h2>\n<dl>\n");
    field(&mut main, "Decisão", verb);
    field(&mut main, "O voto conta para", &counts_for);
    field(&mut main, "Comitê", &who.committee);
    match who.meeting {
        Some((starts, _)) => field(&mut main, "Reunião", &format_local(starts, ctx.tz)),
        None => field(
            &mut main,
            "Reunião",
            "sem reunião: CME, decisão a qualquer momento",
        ),
    }
    field(
        &mut main,
        "Link válido até",
        &format_local(ctx.expires_at, ctx.tz),
    );
    main.push_str("</dl>\n<h2>Dados da RDM</h2>\n");
    main.push_str(&essentials_list(&ess));
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
    Ok(Page {
        status: if problem.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        title: format!("{verb} a {}?", ess.number),
        main,
    })
}

async fn success_page(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    after: &Rdm,
) -> Result<Page, Failure> {
    let who = people(conn, ctx).await?;
    let number = rdms::number(after.id);
    let what = match ctx.decision {
        VoteDecision::Approve => "aprovação",
        VoteDecision::Reject => "rejeição",
    };
    let mut main = String::new();
    let on_behalf = if ctx.link.recipient_id != ctx.link.voter_id {
        format!(", em nome de {}", who.voter)
    } else {
        String::new()
    };
    main.push_str(&p(&format!(
        "Seu voto de {what} na {number} ({}){on_behalf} foi registrado.",
        after.title
    )));
    let state = rdms::parse_state(&after.state)?;
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
    Ok(Page {
        status: StatusCode::OK,
        title: "Voto registrado".into(),
        main,
    })
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
