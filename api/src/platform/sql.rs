//! Hand-written SQL that PostgreSQL prepares once per connection and then reuses, for the
//! statements the query builder cannot express (CTEs that write several tables in one round
//! trip, `FOR UPDATE SKIP LOCKED` claims). Diesel's `sql_query` is never cached (it cannot
//! know its text is fixed); a [`Prepared`] statement's text is a `&'static str`, so the
//! connection's statement cache keys it by that text and its bind types.
//!
//! Placeholders are written `?` and filled in order by the binds (each `?` is one bind; a
//! value used twice is bound twice). Rows are read into `QueryableByName` structs.
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use std::marker::PhantomData;

/// A value bound as SQL type `ST`.
pub struct Bind<ST, T> {
    value: T,
    _sql_type: PhantomData<ST>,
}

/// `value` as a parameter of SQL type `ST`.
pub fn bind<ST, T>(value: T) -> Bind<ST, T> {
    Bind {
        value,
        _sql_type: PhantomData,
    }
}

/// The binds of a statement, in placeholder order.
pub trait Binds {
    const COUNT: usize;
    /// Writes bind number `i`.
    fn walk_bind<'b>(&'b self, i: usize, out: AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

impl Binds for () {
    const COUNT: usize = 0;
    fn walk_bind<'b>(&'b self, _: usize, _: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        Ok(())
    }
}

impl<ST, T> Binds for Bind<ST, T>
where
    Pg: HasSqlType<ST>,
    T: ToSql<ST, Pg>,
{
    const COUNT: usize = 1;
    fn walk_bind<'b>(&'b self, _: usize, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, T>(&self.value)
    }
}

/// Tuples of binds (nested tuples flatten: `((a, b), c)` binds `a`, `b`, `c`).
macro_rules! binds_tuple {
    ($n:expr; $($i:tt $t:ident),+) => {
        impl<$($t: Binds),+> Binds for ($($t,)+) {
            const COUNT: usize = 0 $(+ $t::COUNT)+;
            fn walk_bind<'b>(&'b self, i: usize, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
                let mut i = i;
                $(
                    if i < $t::COUNT {
                        return self.$i.walk_bind(i, out);
                    }
                    i -= $t::COUNT;
                )+
                let _ = i;
                Ok(())
            }
        }
    };
}

binds_tuple!(1; 0 A);
binds_tuple!(2; 0 A, 1 B);
binds_tuple!(3; 0 A, 1 B, 2 C);
binds_tuple!(4; 0 A, 1 B, 2 C, 3 D);
binds_tuple!(5; 0 A, 1 B, 2 C, 3 D, 4 E);
binds_tuple!(6; 0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
binds_tuple!(7; 0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
binds_tuple!(8; 0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);
binds_tuple!(9; 0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I);
binds_tuple!(10; 0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);
binds_tuple!(11; 0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K);
binds_tuple!(12; 0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L);

/// A statement of fixed text and typed binds, prepared once per connection.
pub struct Prepared<B> {
    sql: &'static str,
    binds: B,
}

/// `sql` with `binds` filling its `?` placeholders in order.
pub fn prepared<B: Binds>(sql: &'static str, binds: B) -> Prepared<B> {
    debug_assert_eq!(
        sql.matches('?').count(),
        B::COUNT,
        "one bind per `?` in: {sql}"
    );
    Prepared { sql, binds }
}

impl<B: Binds> QueryFragment<Pg> for Prepared<B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (i, piece) in self.sql.split('?').enumerate() {
            if i > 0 {
                self.binds.walk_bind(i - 1, out.reborrow())?;
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<B> QueryId for Prepared<B> {
    type QueryId = ();
    // Keyed by its text (fixed) and bind types: cached, unlike `sql_query`.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> Query for Prepared<B> {
    type SqlType = Untyped;
}
