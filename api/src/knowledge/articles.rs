//! Articles: writing, editing (a new version each time), publishing and archiving.
use crate::db::enums::Stored;
use crate::db::schema::{kb_article_versions, kb_articles, support_items, tickets, users};
use crate::events::{append, Entity, NewEvent};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::idempotency::{create_once, Created, Idempotency};
use crate::platform::input::{check_if_match, not_blank, Problems as FieldProblems};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::knowledge::{allowed_actions, target, KbAction, KbKind, KbState};
use domain::roles::{Role, Team};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Who writes and publishes articles.
pub const WRITERS: &[Role] = &[
    Role::SupportAnalyst,
    Role::SupportCoordinator,
    Role::TestAnalyst,
    Role::ChangeManager,
];

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArticle {
    /// `how_to` or `solution_proposal` (known errors are written from their problem).
    pub kind: KbKind,
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: String,
    #[validate(length(min = 1, max = 50000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 50000)]
    pub body: String,
    /// The support-catalog item it is about (suggested on that item's tickets first).
    pub item_id: Option<i64>,
    /// The ticket it comes from: required for a solution proposal, whose team it follows.
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleEdit {
    #[validate(length(min = 3, max = 200), custom(function = not_blank))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(min = 1, max = 50000), custom(function = not_blank))]
    #[schema(min_length = 1, max_length = 50000)]
    pub body: Option<String>,
    pub item_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = kb_articles, check_for_backend(diesel::pg::Pg))]
pub struct Article {
    pub id: i64,
    pub kind: KbKind,
    pub state: KbState,
    pub title: String,
    pub body: String,
    pub item_id: Option<i64>,
    pub problem_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub team: Option<Team>,
    pub author_id: i64,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleView {
    pub id: i64,
    pub kind: KbKind,
    pub state: KbState,
    pub title: String,
    pub body: String,
    pub item_id: Option<i64>,
    /// A known error's problem.
    pub problem_id: Option<i64>,
    /// A solution proposal's ticket.
    pub ticket_id: Option<i64>,
    /// A solution proposal is read by this team's analysts (and coordinators).
    pub team: Option<Team>,
    pub author_id: i64,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub allowed_actions: Vec<KbAction>,
}

impl From<Article> for ArticleView {
    fn from(a: Article) -> Self {
        ArticleView {
            allowed_actions: allowed_actions(a.state),
            id: a.id,
            kind: a.kind,
            state: a.state,
            title: a.title,
            body: a.body,
            item_id: a.item_id,
            problem_id: a.problem_id,
            ticket_id: a.ticket_id,
            team: a.team,
            author_id: a.author_id,
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
            published_at: a.published_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct ArticleVersion {
    pub version: i32,
    pub title: String,
    pub body: String,
    pub edited_by: i64,
    pub edited_at: DateTime<Utc>,
}

/// Which solution proposals a reader sees: every one for coordinators, admins and staff of no
/// team; otherwise those of their own team (SPEC §4.2: the whole team reads them).
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub team: Option<Team>,
    pub sees_every_team: bool,
}

pub async fn reader(conn: &mut AsyncPgConnection, user: &AuthUser) -> ApiResult<Reader> {
    let team: Option<Team> = users::table
        .find(user.id)
        .select(users::team)
        .first(conn)
        .await
        .optional()?
        .flatten();
    Ok(Reader {
        team,
        sees_every_team: team.is_none()
            || user.has(Role::SupportCoordinator)
            || user.has(Role::Admin),
    })
}

impl Reader {
    pub fn may_read(&self, a: &Article) -> bool {
        a.kind != KbKind::SolutionProposal
            || self.sees_every_team
            || a.team.is_none()
            || a.team == self.team
    }
}

async fn find(conn: &mut AsyncPgConnection, id: i64, lock: bool) -> ApiResult<Article> {
    let q = kb_articles::table.find(id).select(Article::as_select());
    let a = if lock {
        q.for_update().first(conn).await.optional()?
    } else {
        q.first(conn).await.optional()?
    };
    a.ok_or_else(|| ApiError::not_found(format!("article {id}")))
}

/// The article if `user` may read it (another team's proposal is as good as absent).
pub async fn find_readable(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    lock: bool,
) -> ApiResult<Article> {
    let a = find(conn, id, lock).await?;
    if !reader(conn, user).await?.may_read(&a) {
        return Err(ApiError::not_found(format!("article {id}")));
    }
    Ok(a)
}

async fn check_item(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<()> {
    let n: i64 = support_items::table
        .filter(support_items::id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    if n == 0 {
        return Err(ApiError::validation(
            "item_id",
            "unknown",
            format!("no support item {id}"),
        ));
    }
    Ok(())
}

async fn add_version(
    conn: &mut AsyncPgConnection,
    a: &Article,
    by: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::insert_into(kb_article_versions::table)
        .values((
            kb_article_versions::article_id.eq(a.id),
            kb_article_versions::version.eq(a.version),
            kb_article_versions::title.eq(&a.title),
            kb_article_versions::body.eq(&a.body),
            kb_article_versions::edited_by.eq(by),
            kb_article_versions::edited_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes a draft (once per `Idempotency-Key`).
pub async fn create(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    body: &NewArticle,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<Created<ArticleView>> {
    let idem = Idempotency::new(idempotency_key, "POST /api/v1/kb/articles", body)?;
    create_once(conn, idem.as_ref(), user.id, now, async |conn| {
        create_in_tx(conn, user, body, now).await
    })
    .await
}

async fn create_in_tx(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    body: &NewArticle,
    now: DateTime<Utc>,
) -> ApiResult<ArticleView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut checks = FieldProblems::default();
        if body.kind == KbKind::KnownError {
            checks.push(FieldError::new(
                "kind",
                "invalid",
                "a known error is written from its problem (`record_known_error`)",
            ));
        }
        if let Some(item) = body.item_id {
            checks.take(check_item(conn, item).await);
        }
        let mut team = None;
        let mut item_id = body.item_id;
        match body.ticket_id {
            Some(tid) => {
                let t: Option<(Team, i64)> = tickets::table
                    .find(tid)
                    .select((tickets::team, tickets::item_id))
                    .first(conn)
                    .await
                    .optional()?;
                match t {
                    Some((t_team, t_item)) => {
                        if body.kind == KbKind::SolutionProposal {
                            team = Some(t_team);
                        }
                        item_id = item_id.or(Some(t_item));
                    }
                    None => checks.push(FieldError::new(
                        "ticket_id",
                        "unknown",
                        format!("no ticket {tid}"),
                    )),
                }
            }
            None if body.kind == KbKind::SolutionProposal => checks.push(FieldError::new(
                "ticket_id",
                "required",
                "a solution proposal comes from a ticket",
            )),
            None => {}
        }
        checks.finish()?;
        let a: Article = diesel::insert_into(kb_articles::table)
            .values((
                kb_articles::kind.eq(body.kind.db()),
                kb_articles::state.eq(KbState::Draft.db()),
                kb_articles::title.eq(body.title.trim()),
                kb_articles::body.eq(body.body.trim()),
                kb_articles::item_id.eq(item_id),
                kb_articles::ticket_id.eq(body.ticket_id),
                kb_articles::team.eq(team.map(|t| t.db())),
                kb_articles::author_id.eq(user.id),
                kb_articles::created_at.eq(now),
                kb_articles::updated_at.eq(now),
            ))
            .returning(Article::as_returning())
            .get_result(conn)
            .await?;
        add_version(conn, &a, user.id, now).await?;
        append(
            conn,
            NewEvent::on(Entity::KbArticle, a.id, "create")
                .states(None, Some(KbState::Draft.as_str()))
                .by(Some(user.id))
                .detail(serde_json::json!({ "kind": a.kind, "ticket_id": a.ticket_id })),
            now,
        )
        .await?;
        Ok(a.into())
    })
    .await
}

pub async fn get(conn: &mut AsyncPgConnection, user: &AuthUser, id: i64) -> ApiResult<ArticleView> {
    Ok(find_readable(conn, user, id, false).await?.into())
}

pub async fn versions(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
) -> ApiResult<Vec<ArticleVersion>> {
    find_readable(conn, user, id, false).await?;
    Ok(kb_article_versions::table
        .filter(kb_article_versions::article_id.eq(id))
        .order(kb_article_versions::version)
        .select((
            kb_article_versions::version,
            kb_article_versions::title,
            kb_article_versions::body,
            kb_article_versions::edited_by,
            kb_article_versions::edited_at,
        ))
        .load(conn)
        .await?)
}

async fn save(conn: &mut AsyncPgConnection, a: &Article) -> ApiResult<()> {
    diesel::update(kb_articles::table.find(a.id))
        .set((
            kb_articles::state.eq(a.state.db()),
            kb_articles::title.eq(&a.title),
            kb_articles::body.eq(&a.body),
            kb_articles::item_id.eq(a.item_id),
            kb_articles::version.eq(a.version),
            kb_articles::updated_at.eq(a.updated_at),
            kb_articles::published_at.eq(a.published_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn edit(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    body: &ArticleEdit,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<ArticleView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut a = find_readable(conn, user, id, true).await?;
        check_if_match(if_match, a.version, false)?;
        if a.kind == KbKind::KnownError && (body.title.is_some() || body.body.is_some()) {
            return Err(ApiError::conflict(
                "known_error_from_problem",
                "a known error's text follows its problem: edit the problem's root cause or workaround",
            ));
        }
        if let Some(item) = body.item_id {
            check_item(conn, item).await?;
        }
        if body.title.is_none() && body.body.is_none() && body.item_id.is_none() {
            return Err(ApiError::validation("body", "empty", "nothing to change"));
        }
        if let Some(t) = &body.title {
            a.title = t.trim().to_string();
        }
        if let Some(b) = &body.body {
            a.body = b.trim().to_string();
        }
        if body.item_id.is_some() {
            a.item_id = body.item_id;
        }
        a.version += 1;
        a.updated_at = now;
        save(conn, &a).await?;
        add_version(conn, &a, user.id, now).await?;
        append(
            conn,
            NewEvent::on(Entity::KbArticle, a.id, "edit")
                .by(Some(user.id))
                .detail(serde_json::json!({ "version": a.version })),
            now,
        )
        .await?;
        Ok(a.into())
    })
    .await
}

pub async fn perform(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: i64,
    action: KbAction,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<ArticleView> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let mut a = find_readable(conn, user, id, true).await?;
        check_if_match(if_match, a.version, false)?;
        let Some(to) = target(a.state, action) else {
            return Err(ApiError::StateConflict {
                code: "illegal_transition",
                detail: format!("an article in state `{}` cannot `{action}`", a.state),
                current_state: a.state.to_string(),
                allowed_actions: allowed_actions(a.state)
                    .iter()
                    .map(|x| x.to_string())
                    .collect(),
                missing: vec![],
            });
        };
        let from = a.state;
        a.state = to;
        if to == KbState::Published {
            a.published_at = Some(now);
        }
        a.version += 1;
        a.updated_at = now;
        save(conn, &a).await?;
        append(
            conn,
            NewEvent::on(Entity::KbArticle, a.id, action.as_str())
                .states(Some(from.as_str()), Some(to.as_str()))
                .by(Some(user.id)),
            now,
        )
        .await?;
        Ok(a.into())
    })
    .await
}

/// What a problem's known error is written from.
pub struct KnownErrorSource {
    pub problem_id: i64,
    pub number: String,
    pub title: String,
    pub root_cause: String,
    pub workaround: String,
    pub item_id: Option<i64>,
}

impl KnownErrorSource {
    fn title(&self) -> String {
        format!("Erro conhecido: {}", self.title)
    }
    fn body(&self) -> String {
        format!(
            "Causa raiz:\n{}\n\nSolução de contorno:\n{}\n\nProblema: {}",
            self.root_cause, self.workaround, self.number
        )
    }
}

/// Writes (or rewrites, as a new version) the problem's known-error article, published at
/// once: analysts find it before opening child tickets. Called in the problem's transaction.
pub async fn publish_known_error(
    conn: &mut AsyncPgConnection,
    src: &KnownErrorSource,
    by: i64,
    now: DateTime<Utc>,
) -> ApiResult<i64> {
    let existing: Option<Article> = kb_articles::table
        .filter(kb_articles::problem_id.eq(src.problem_id))
        .filter(kb_articles::kind.eq(KbKind::KnownError.db()))
        .select(Article::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let (title, body) = (src.title(), src.body());
    let a = match existing {
        Some(mut a) => {
            if a.title == title && a.body == body && a.item_id == src.item_id {
                return Ok(a.id);
            }
            a.title = title;
            a.body = body;
            a.item_id = src.item_id;
            a.version += 1;
            a.updated_at = now;
            save(conn, &a).await?;
            a
        }
        None => {
            diesel::insert_into(kb_articles::table)
                .values((
                    kb_articles::kind.eq(KbKind::KnownError.db()),
                    kb_articles::state.eq(KbState::Published.db()),
                    kb_articles::title.eq(&title),
                    kb_articles::body.eq(&body),
                    kb_articles::item_id.eq(src.item_id),
                    kb_articles::problem_id.eq(src.problem_id),
                    kb_articles::author_id.eq(by),
                    kb_articles::created_at.eq(now),
                    kb_articles::updated_at.eq(now),
                    kb_articles::published_at.eq(now),
                ))
                .returning(Article::as_returning())
                .get_result(conn)
                .await?
        }
    };
    add_version(conn, &a, by, now).await?;
    append(
        conn,
        NewEvent::on(Entity::KbArticle, a.id, "known_error_written")
            .states(None, Some(a.state.as_str()))
            .by(Some(by))
            .detail(serde_json::json!({ "problem_id": src.problem_id, "version": a.version })),
        now,
    )
    .await?;
    Ok(a.id)
}
