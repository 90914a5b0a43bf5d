//! Who is calling: the authenticated user, and the checks on their roles.
use crate::platform::error::ApiError;
use domain::roles::{Role, RoleSet};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub roles: RoleSet,
    pub organization_id: Option<i64>,
}

impl AuthUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(role)
    }

    /// Refuses unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.roles.any(roles) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::Forbidden(format!(
                "this needs one of the roles: {}",
                names.join(", ")
            )))
        }
    }
}

impl AuthUser {
    /// The organisation a caller is confined to: a customer sees only its own; staff (any
    /// of `staff`) see all.
    pub fn customer_scope(&self, staff: &[Role]) -> Option<i64> {
        if self.roles.any(staff) {
            None
        } else {
            // A customer without an organisation (the database forbids it) sees nothing.
            Some(self.organization_id.unwrap_or(-1))
        }
    }
}

/// Every role but `customer`: staff, who see every organisation.
pub const STAFF: &[Role] = &[
    Role::Requester,
    Role::SupportAnalyst,
    Role::TestAnalyst,
    Role::ChangeManager,
    Role::ProductOwner,
    Role::ChangeAgent,
    Role::CommitteeMember,
    Role::SupportCoordinator,
    Role::Admin,
];

/// Who may edit the catalogue (and calendars).
pub const CATALOG_EDITORS: &[Role] = &[Role::Admin, Role::ChangeManager];

/// `a` then whatever of `b` is not in `a`: who may do either.
pub fn either(a: &[Role], b: &[Role]) -> Vec<Role> {
    let mut out = a.to_vec();
    for r in b {
        if !out.contains(r) {
            out.push(*r);
        }
    }
    out
}
