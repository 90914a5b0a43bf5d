//! What problems do when a fact they follow happens elsewhere: an RDM implemented resolves
//! the problems whose fix it carries (`crate::changes::rdms::published`).
use crate::changes::rdms::published::RdmImplemented;
use crate::notify::Notifier;
use crate::platform::error::ApiResult;
use crate::queue::Timer;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

impl Timer for RdmImplemented {
    type Context = Notifier;
    async fn run(
        &self,
        n: &Notifier,
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        super::lifecycle::fix_shipped(conn, n, self.rdm_id, now).await?;
        Ok(())
    }
}
