//! How each enum is stored: a PostgreSQL enum of the same spellings, read and written through
//! the Rust enum (`as_str` / `FromStr`). Queries name states by the enum, never by a string.
use super::schema::sql_types as sql;
use diesel::expression::{AsExpression, TypedExpressionType};
use diesel::internal::derives::as_expression::Bound;
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::HasSqlType;
use diesel::sql_types::{is_nullable, Array, Nullable, SingleValue, SqlType};
use domain::approval::{PolicyKind, VoteChannel, VoteDecision};
use domain::catalog::Environment;
use domain::knowledge::{KbKind, KbState};
use domain::problem::ProblemState;
use domain::rdm::{CommitteeKind, Level, Priority, RdmState, RdmType};
use domain::roles::{Role, Team};
use domain::schedule::{FlexStatus, MeetingStatus};
use domain::ticket::{TicketKind, TicketState};

/// Maps a PostgreSQL enum type to a Rust enum with `as_str` and `FromStr`: the binary form of
/// an enum value is its label. Rows read the enum directly; a value written or compared is
/// `value.db()` ([`Stored`]).
#[macro_export]
macro_rules! pg_enum {
    ($sql:ty => $rust:ty) => {
        impl diesel::serialize::ToSql<$sql, diesel::pg::Pg> for $rust {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                std::io::Write::write_all(out, self.as_str().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<$sql, diesel::pg::Pg> for $rust {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = std::str::from_utf8(bytes.as_bytes())?;
                s.parse::<$rust>().map_err(|_| {
                    format!("unknown {} `{s}` in the database", stringify!($rust)).into()
                })
            }
        }

        impl diesel::deserialize::Queryable<$sql, diesel::pg::Pg> for $rust {
            type Row = Self;
            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl $crate::db::enums::Stored for $rust {
            type Sql = $sql;
        }
    };
}

/// A value as a query parameter of its column's type: `rdms::state.eq(RdmState::Draft.db())`,
/// `rdms::state.eq_any(states.map(Stored::db))`. (Diesel's `AsExpression` cannot be
/// implemented for enums this crate does not own; this wrapper is ours.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Db<T>(pub T);

/// An enum stored as a PostgreSQL enum (implemented by [`pg_enum!`]).
pub trait Stored: Sized + std::fmt::Debug + ToSql<Self::Sql, Pg> {
    type Sql: SqlType<IsNull = is_nullable::NotNull> + SingleValue + TypedExpressionType;
    fn db(self) -> Db<Self> {
        Db(self)
    }
}

/// An optional value, for a nullable column: `rdms::risk.eq(risk.db())`.
pub trait StoredOption: Sized {
    fn db(self) -> Db<Self>;
}

impl<T: Stored> StoredOption for Option<T> {
    fn db(self) -> Db<Self> {
        Db(self)
    }
}

/// A list, for an array column: `users::roles.contains(vec![role].db())`.
pub trait StoredList: Sized {
    fn db(self) -> Db<Self>;
}

impl<T: Stored> StoredList for Vec<T> {
    fn db(self) -> Db<Self> {
        Db(self)
    }
}

/// For models that insert or update an enum column (`#[diesel(serialize_as = Db<T>)]`).
impl<T: Stored> From<T> for Db<T> {
    fn from(v: T) -> Self {
        Db(v)
    }
}

impl<T: Stored> ToSql<T::Sql, Pg> for Db<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

impl<T: Stored> AsExpression<T::Sql> for Db<T> {
    type Expression = Bound<T::Sql, Self>;
    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<T: Stored> ToSql<Nullable<T::Sql>, Pg> for Db<Option<T>> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        ToSql::<Nullable<T::Sql>, Pg>::to_sql(&self.0, out)
    }
}

impl<T: Stored> AsExpression<Nullable<T::Sql>> for Db<Option<T>> {
    type Expression = Bound<Nullable<T::Sql>, Self>;
    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<T: Stored> ToSql<Array<T::Sql>, Pg> for Db<Vec<T>>
where
    Pg: HasSqlType<T::Sql>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        ToSql::<Array<T::Sql>, Pg>::to_sql(&self.0, out)
    }
}

impl<T: Stored> AsExpression<Array<T::Sql>> for Db<Vec<T>>
where
    Pg: HasSqlType<T::Sql>,
{
    type Expression = Bound<Array<T::Sql>, Self>;
    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

pg_enum!(sql::RdmType => RdmType);
pg_enum!(sql::RdmState => RdmState);
pg_enum!(sql::Level => Level);
pg_enum!(sql::Priority => Priority);
pg_enum!(sql::CommitteeKind => CommitteeKind);
pg_enum!(sql::ApprovalPolicy => PolicyKind);
pg_enum!(sql::MeetingStatus => MeetingStatus);
pg_enum!(sql::FlexStatus => FlexStatus);
pg_enum!(sql::VoteDecision => VoteDecision);
pg_enum!(sql::VoteChannel => VoteChannel);
pg_enum!(sql::UserRole => Role);
pg_enum!(sql::Team => Team);
pg_enum!(sql::Environment => Environment);
pg_enum!(sql::TicketState => TicketState);
pg_enum!(sql::TicketKind => TicketKind);
pg_enum!(sql::ProblemState => ProblemState);
pg_enum!(sql::KbKind => KbKind);
pg_enum!(sql::KbState => KbState);
