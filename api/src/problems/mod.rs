//! Problems (SPEC §5): incidents grouped by a common cause; root cause analysis, workaround,
//! known error (published in the knowledge base), the RDM carrying the permanent fix, and the
//! postmortem. The lifecycle's rules are `domain::problem`'s; these are the operations that
//! apply them, callable from handlers and jobs alike.
pub mod demo;
pub mod jobs;
pub mod lifecycle;
pub mod links;
pub mod postmortems;
pub mod store;
pub mod workaround;
