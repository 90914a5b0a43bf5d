//! gmud's rules, free of HTTP, SQL and mail: the RDM lifecycle, approval policies,
//! business-hours calendars, committee meetings and maintenance windows.
//!
//! Nothing here reads the clock: every rule that depends on time takes `now`.

/// An enum of named values with one spelling each: stored, serialised and parsed as
/// snake_case text (`as_str`, `FromStr`, `Display`, `ALL`).
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} `{}`", stringify!($name), s))
            }
        }
    };
}
pub mod approval;
pub mod calendar;
pub mod catalog;
pub mod delegation;
pub mod escalation;
pub mod holiday_rules;
pub mod jobs;
pub mod knowledge;
pub mod login;
pub mod problem;
pub mod rdm;
pub mod review;
pub mod roles;
pub mod schedule;
pub mod sla;
pub mod ticket;
pub mod vote_link;
