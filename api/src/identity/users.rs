//! Accounts and their roles (SPEC §2). The admin creates them through the API; the same
//! [`create_user`] backs the `gmud user create` command.
use super::access::AccessCache;
use super::passwords::PasswordChecks;
use crate::db::enums::{StoredList, StoredOption};
use crate::db::models::User;
use crate::db::schema::{organizations, users};
use crate::events::{self, Entity, NewEvent};
use crate::platform::error::{ApiError, ApiResult, FieldError};
use crate::platform::input::{not_blank, Problems};
use crate::platform::pagination::paginate;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::roles::{Role, Team};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

/// Who may read the user directory.
pub const DIRECTORY_READERS: &[Role] = &[Role::Admin, Role::ChangeManager];

/// Usernames are lowercase ASCII letters, digits, `.`, `_` and `-`.
fn username_chars(s: &str) -> Result<(), ValidationError> {
    if s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        Ok(())
    } else {
        let mut e = ValidationError::new("invalid");
        e.message = Some("only a-z, 0-9, `.`, `_` and `-` are allowed".into());
        Err(e)
    }
}

/// A new account. Also the input of `gmud user create`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    /// Lowercase letters, digits, `.`, `_`, `-`; unique.
    #[validate(length(min = 3, max = 60), custom(function = "username_chars"))]
    #[schema(
        min_length = 3,
        max_length = 60,
        pattern = "^[a-z0-9._-]+$",
        example = "maria.silva"
    )]
    pub username: String,
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Stored only as an argon2 hash; never returned.
    #[validate(length(min = 10, max = 200))]
    #[schema(min_length = 10, max_length = 200, format = Password)]
    pub password: String,
    #[validate(length(min = 1, max = 10))]
    #[schema(min_items = 1, max_items = 10)]
    pub roles: Vec<Role>,
    /// Required for, and only for, a `support_analyst`.
    pub team: Option<Team>,
    /// Required for, and only for, a `customer`: the organisation it belongs to.
    pub organization_id: Option<i64>,
}

/// The rules between fields (SPEC §2), each naming its field.
fn check_roles(roles: &[Role], team: Option<Team>, organization_id: Option<i64>) -> ApiResult<()> {
    let mut p = Problems::default();
    let has = |r: Role| roles.contains(&r);
    if has(Role::Customer) && roles.iter().any(|r| *r != Role::Customer) {
        // A customer sees only its organisation; a staff role would lift that.
        p.push(FieldError::new(
            "roles",
            "invalid",
            "a customer cannot hold other roles",
        ));
    }
    match (has(Role::SupportAnalyst), team) {
        (true, None) => p.push(FieldError::new(
            "team",
            "required",
            "a support_analyst belongs to a team (rh, taf_tss, cloud, dev)",
        )),
        (false, Some(_)) => p.push(FieldError::new(
            "team",
            "invalid",
            "only a support_analyst has a team",
        )),
        _ => {}
    }
    match (has(Role::Customer), organization_id) {
        (true, None) => p.push(FieldError::new(
            "organization_id",
            "required",
            "a customer belongs to an organisation",
        )),
        (false, Some(_)) => p.push(FieldError::new(
            "organization_id",
            "invalid",
            "only a customer belongs to an organisation",
        )),
        _ => {}
    }
    p.finish()
}

/// Validates and creates a user; returns its id. Used by the API and by `gmud user create`.
pub async fn create_user(
    conn: &mut AsyncPgConnection,
    checks: &PasswordChecks,
    input: NewUserInput,
    now: DateTime<Utc>,
) -> ApiResult<i64> {
    let mut p = Problems::default();
    p.take(input.validate().map_err(ApiError::from));
    p.take(check_roles(&input.roles, input.team, input.organization_id));
    p.finish()?;
    if let Some(org) = input.organization_id {
        let exists: bool = diesel::select(diesel::dsl::exists(organizations::table.find(org)))
            .get_result(conn)
            .await?;
        if !exists {
            return Err(ApiError::validation(
                "organization_id",
                "unknown",
                format!("no organisation {org}"),
            ));
        }
    }
    let hash = checks.hash(input.password.clone()).await?;
    let mut roles: Vec<Role> = input.roles.clone();
    roles.sort();
    roles.dedup();
    conn.transaction::<_, ApiError, _>(async |conn| {
        Ok(diesel::insert_into(users::table)
            .values((
                users::username.eq(&input.username),
                users::display_name.eq(input.display_name.trim()),
                users::email.eq(input.email.trim()),
                users::password_hash.eq(&hash),
                users::roles.eq(roles.db()),
                users::team.eq(input.team.db()),
                users::organization_id.eq(input.organization_id),
                users::created_at.eq(now),
            ))
            .returning(users::id)
            .get_result::<i64>(conn)
            .await?)
    })
    .await
}

/// An account as the API shows it (never its password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub team: Option<Team>,
    pub organization_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<User> for UserView {
    type Error = ApiError;
    fn try_from(u: User) -> ApiResult<Self> {
        Ok(UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            roles: u.roles,
            team: u.team,
            organization_id: u.organization_id,
            active: u.active,
            created_at: u.created_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

pub async fn find_user(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("user {id}")))
}

/// A page of users by id, optionally those holding `role`.
pub async fn list_users(
    conn: &mut AsyncPgConnection,
    role: Option<Role>,
    limit: i64,
    cursor: Option<i64>,
) -> ApiResult<UserPage> {
    let mut q = users::table.into_boxed();
    if let Some(r) = role {
        q = q.filter(users::roles.contains(vec![r].db()));
    }
    if let Some(c) = cursor {
        q = q.filter(users::id.gt(c));
    }
    let rows: Vec<User> = q
        .order(users::id)
        .limit(limit + 1)
        .select(User::as_select())
        .load(conn)
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |u| u.id);
    let items = rows
        .into_iter()
        .map(UserView::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(UserPage { items, next_cursor })
}

/// A change to an account's access. Absent fields stay as they are; the result must keep
/// the rules between roles, team and organisation.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessChange {
    /// `false` deactivates the account: its tokens stop working within seconds, on every
    /// instance, and it cannot log in. `true` reactivates it (old tokens stay revoked).
    pub active: Option<bool>,
    /// The account's roles from now on; its tokens act with them at once.
    #[validate(length(min = 1, max = 10))]
    #[schema(min_items = 1, max_items = 10)]
    pub roles: Option<Vec<Role>>,
    /// The team, when the roles (new or kept) include `support_analyst`. Dropped with that
    /// role.
    pub team: Option<Team>,
    /// The organisation, when the roles (new or kept) are `customer`. Dropped with that role.
    pub organization_id: Option<i64>,
    /// Why, kept in the account's history.
    #[validate(length(min = 1, max = 2000), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
}

/// Changes `id`'s access by `actor`; the change takes effect for tokens already issued (the
/// local cache forgets the account at once, other instances when notified).
pub async fn change_access(
    conn: &mut AsyncPgConnection,
    access: &AccessCache,
    actor: i64,
    id: i64,
    change: AccessChange,
    now: DateTime<Utc>,
) -> ApiResult<User> {
    change.validate()?;
    let user = conn
        .transaction::<_, ApiError, _>(async |conn| {
            // Admins are locked first (in id order), then the account: two admins demoting
            // each other cannot both leave the other as the last one.
            let admins: Vec<i64> = users::table
                .filter(users::roles.contains(vec![Role::Admin].db()))
                .filter(users::active.eq(true))
                .order(users::id)
                .select(users::id)
                .for_update()
                .load(conn)
                .await?;
            let current: User = users::table
                .find(id)
                .select(User::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found(format!("user {id}")))?;
            let mut roles = change.roles.clone().unwrap_or_else(|| current.roles.clone());
            roles.sort();
            roles.dedup();
            let active = change.active.unwrap_or(current.active);
            let team = if roles.contains(&Role::SupportAnalyst) {
                change.team.or(current.team)
            } else {
                change.team
            };
            let organization_id = if roles.contains(&Role::Customer) {
                change.organization_id.or(current.organization_id)
            } else {
                change.organization_id
            };
            check_roles(&roles, team, organization_id)?;
            if let Some(org) = change.organization_id {
                let exists: bool =
                    diesel::select(diesel::dsl::exists(organizations::table.find(org)))
                        .get_result(conn)
                        .await?;
                if !exists {
                    return Err(ApiError::validation(
                        "organization_id",
                        "unknown",
                        format!("no organisation {org}"),
                    ));
                }
            }
            let stays_admin = active && roles.contains(&Role::Admin);
            if admins.contains(&id) && !stays_admin && admins.len() == 1 {
                return Err(ApiError::conflict(
                    "last_admin",
                    "this is the last active admin: make another account admin first",
                ));
            }
            let updated: User = diesel::update(users::table.find(id))
                .set((
                    users::roles.eq(roles.db()),
                    users::active.eq(active),
                    users::team.eq(team.db()),
                    users::organization_id.eq(organization_id),
                ))
                .returning(User::as_returning())
                .get_result(conn)
                .await?;
            let state = |a: bool| if a { "active" } else { "inactive" };
            events::append(
                conn,
                NewEvent::on(Entity::User, id, "access_changed")
                    .states(Some(state(current.active)), Some(state(active)))
                    .by(Some(actor))
                    .because(change.reason.clone())
                    .detail(serde_json::json!({
                        "roles": { "from": current.roles, "to": updated.roles },
                        "team": { "from": current.team, "to": updated.team },
                        "organization_id": { "from": current.organization_id, "to": updated.organization_id },
                    })),
                now,
            )
            .await?;
            Ok(updated)
        })
        .await?;
    // This instance at once; the others when PostgreSQL's notification reaches them.
    access.forget(id);
    Ok(user)
}
