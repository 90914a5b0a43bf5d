//! Facts about RDMs that other contexts follow, published as jobs in the transaction that
//! makes them true (so they exist if and only if it committed). This context names the fact;
//! whoever follows it implements what to do (`crate::problems::jobs` for `RdmImplemented`),
//! so change management knows nothing of its followers.
use crate::platform::error::ApiResult;
use crate::queue::{enqueue, Lane, Queued};
use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

/// An RDM reached `implemented`: the fix it carries has shipped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RdmImplemented {
    pub rdm_id: i64,
}

impl Queued for RdmImplemented {
    const KIND: &'static str = "rdm_implemented";
    const LANE: Lane = Lane::Timers;
    const KEY_RETENTION: Option<Duration> = Some(Duration::days(30));
}

pub async fn implemented(
    conn: &mut AsyncPgConnection,
    rdm_id: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let key = format!("rdm:{rdm_id}:implemented");
    enqueue(conn, &RdmImplemented { rdm_id }, now, Some(key), now).await?;
    Ok(())
}
