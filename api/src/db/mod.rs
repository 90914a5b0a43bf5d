//! The database as declared: the schema diesel checks queries against, the rows as stored,
//! and how the domain's enums are stored. Declarations only: no queries live here.
pub mod enums;
pub mod models;
pub mod schema;
