//! Who may act: the roles of SPEC §2.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Requester,
    SupportAnalyst,
    TestAnalyst,
    ChangeManager,
    ProductOwner,
    ChangeAgent,
    CommitteeMember,
    SupportCoordinator,
    Customer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Requester,
        Role::SupportAnalyst,
        Role::TestAnalyst,
        Role::ChangeManager,
        Role::ProductOwner,
        Role::ChangeAgent,
        Role::CommitteeMember,
        Role::SupportCoordinator,
        Role::Customer,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::SupportAnalyst => "support_analyst",
            Role::TestAnalyst => "test_analyst",
            Role::ChangeManager => "change_manager",
            Role::ProductOwner => "product_owner",
            Role::ChangeAgent => "change_agent",
            Role::CommitteeMember => "committee_member",
            Role::SupportCoordinator => "support_coordinator",
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// Support teams an analyst belongs to (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Team {
    Rh,
    TafTss,
    Cloud,
    Dev,
}

impl Team {
    pub const ALL: [Team; 4] = [Team::Rh, Team::TafTss, Team::Cloud, Team::Dev];
    pub fn as_str(self) -> &'static str {
        match self {
            Team::Rh => "rh",
            Team::TafTss => "taf_tss",
            Team::Cloud => "cloud",
            Team::Dev => "dev",
        }
    }
}

impl FromStr for Team {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Team::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// A set of roles held by one user. Small and `Copy`: a bit per role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RoleSet(u16);

impl RoleSet {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Self {
        let mut set = RoleSet(0);
        for r in roles {
            set.0 |= 1 << (r as u16);
        }
        set
    }
    pub fn contains(self, role: Role) -> bool {
        self.0 & (1 << (role as u16)) != 0
    }
    pub fn any(self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.contains(*r))
    }
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn role_set_holds_exactly_what_was_put_in() {
        let set = RoleSet::new([Role::ChangeManager, Role::Admin]);
        assert!(set.contains(Role::ChangeManager));
        assert!(set.contains(Role::Admin));
        assert!(!set.contains(Role::Customer));
        assert_eq!(set.iter().count(), 2);
    }
}
