//! Signed one-time vote links (SPEC §3.5). A token names a `vote_links` row and a decision,
//! and carries an HMAC over everything the row binds (voter, recipient, RDM, revision,
//! meeting) and the decision: changing any of it breaks the signature. Single use, expiry
//! and supersession are checked against the row, which the token never replaces.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::approval::VoteDecision;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a link is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkBinding {
    pub link_id: i64,
    pub rdm_id: i64,
    pub voter_id: i64,
    pub recipient_id: i64,
    pub revision: i32,
    pub meeting_id: Option<i64>,
}

/// A token as parsed, before its signature is checked against the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    pub link_id: i64,
    pub decision: VoteDecision,
    signature: Vec<u8>,
}

#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(****)")
    }
}

fn decision_tag(d: VoteDecision) -> &'static str {
    match d {
        VoteDecision::Approve => "a",
        VoteDecision::Reject => "r",
    }
}

impl LinkSigner {
    pub fn new(key: &[u8]) -> Self {
        LinkSigner { key: key.to_vec() }
    }

    fn mac(&self, b: &LinkBinding, d: VoteDecision) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        let msg = format!(
            "gmud-vote-link/v1|{}|{}|{}|{}|{}|{}|{}",
            b.link_id,
            b.rdm_id,
            b.voter_id,
            b.recipient_id,
            b.revision,
            b.meeting_id.map(|m| m.to_string()).unwrap_or_default(),
            decision_tag(d)
        );
        mac.update(msg.as_bytes());
        mac
    }

    /// `{link_id}.{a|r}.{signature}`: URL-safe, no padding.
    pub fn sign(&self, b: &LinkBinding, d: VoteDecision) -> String {
        let sig = self.mac(b, d).finalize().into_bytes();
        format!(
            "{}.{}.{}",
            b.link_id,
            decision_tag(d),
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    /// Whether `t` was signed by this key for the row `b` (constant-time comparison).
    pub fn verify(&self, t: &ParsedToken, b: &LinkBinding) -> bool {
        b.link_id == t.link_id && self.mac(b, t.decision).verify_slice(&t.signature).is_ok()
    }
}

/// What a ticket validation link is bound to (SPEC §4.3): one ticket, one resolution of it,
/// one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketLinkBinding {
    pub link_id: i64,
    pub ticket_id: i64,
    pub resolution_no: i32,
    pub recipient_id: i64,
}

/// What a ticket link does when confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketLinkAction {
    Confirm,
    Reopen,
}

impl TicketLinkAction {
    fn tag(self) -> &'static str {
        match self {
            TicketLinkAction::Confirm => "c",
            TicketLinkAction::Reopen => "o",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TicketLinkAction::Confirm => "confirm",
            TicketLinkAction::Reopen => "reopen",
        }
    }
}

/// A ticket-link token as parsed, before its signature is checked against the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTicketToken {
    pub link_id: i64,
    pub action: TicketLinkAction,
    signature: Vec<u8>,
}

impl LinkSigner {
    /// Its own message prefix: a vote token never verifies as a ticket token, nor the reverse.
    fn ticket_mac(&self, b: &TicketLinkBinding, a: TicketLinkAction) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        let msg = format!(
            "gmud-ticket-link/v1|{}|{}|{}|{}|{}",
            b.link_id,
            b.ticket_id,
            b.resolution_no,
            b.recipient_id,
            a.tag()
        );
        mac.update(msg.as_bytes());
        mac
    }

    /// `{link_id}.{c|o}.{signature}`.
    pub fn sign_ticket(&self, b: &TicketLinkBinding, a: TicketLinkAction) -> String {
        let sig = self.ticket_mac(b, a).finalize().into_bytes();
        format!("{}.{}.{}", b.link_id, a.tag(), URL_SAFE_NO_PAD.encode(sig))
    }

    pub fn verify_ticket(&self, t: &ParsedTicketToken, b: &TicketLinkBinding) -> bool {
        b.link_id == t.link_id
            && self
                .ticket_mac(b, t.action)
                .verify_slice(&t.signature)
                .is_ok()
    }
}

/// A report page link (the operations review's HTML): who asked for it, until when, and the
/// exact query it shows. A browser cannot send a bearer token, so the JSON endpoint's caller
/// gets this short-lived link; the page checks it, and the account's roles again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLinkBinding<'a> {
    pub user_id: i64,
    /// Unix seconds after which the link is refused.
    pub expires: i64,
    /// The report's canonical query (`from=…&to=…[&item_id=…][&organization_id=…]`).
    pub query: &'a str,
}

impl LinkSigner {
    fn report_mac(&self, b: &ReportLinkBinding) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        let msg = format!(
            "gmud-report-link/v1|{}|{}|{}",
            b.user_id, b.expires, b.query
        );
        mac.update(msg.as_bytes());
        mac
    }

    /// The signature, URL-safe without padding.
    pub fn sign_report(&self, b: &ReportLinkBinding) -> String {
        URL_SAFE_NO_PAD.encode(self.report_mac(b).finalize().into_bytes())
    }

    pub fn verify_report(&self, b: &ReportLinkBinding, signature: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(signature) {
            Ok(sig) => self.report_mac(b).verify_slice(&sig).is_ok(),
            Err(_) => false,
        }
    }
}

/// Splits a ticket-link token; None when it is not shaped like one.
pub fn parse_ticket_token(token: &str) -> Option<ParsedTicketToken> {
    let mut parts = token.splitn(3, '.');
    let link_id: i64 = parts.next()?.parse().ok().filter(|id| *id > 0)?;
    let action = match parts.next()? {
        "c" => TicketLinkAction::Confirm,
        "o" => TicketLinkAction::Reopen,
        _ => return None,
    };
    let signature = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    Some(ParsedTicketToken {
        link_id,
        action,
        signature,
    })
}

/// Splits a token; None when it is not even shaped like one (treated like a bad signature).
pub fn parse_token(token: &str) -> Option<ParsedToken> {
    let mut parts = token.splitn(3, '.');
    let link_id: i64 = parts.next()?.parse().ok().filter(|id| *id > 0)?;
    let decision = match parts.next()? {
        "a" => VoteDecision::Approve,
        "r" => VoteDecision::Reject,
        _ => return None,
    };
    let signature = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    Some(ParsedToken {
        link_id,
        decision,
        signature,
    })
}

/// The vote-link key: the configured one, else the random key kept in the database (created
/// on first use; every instance reads the same).
pub async fn load_key(
    conn: &mut diesel_async::AsyncPgConnection,
    configured: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, String> {
    use crate::db::schema::server_secrets as s;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    if let Some(k) = configured {
        if k.len() < 32 {
            return Err("GMUD_LINK_SECRET must be at least 32 characters".into());
        }
        return Ok(k.as_bytes().to_vec());
    }
    let mut fresh = vec![0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut fresh);
    diesel::insert_into(s::table)
        .values((
            s::name.eq("vote_link_key"),
            s::value.eq(&fresh),
            s::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map_err(|e| format!("cannot store the vote-link key: {e}"))?;
    s::table
        .find("vote_link_key")
        .select(s::value)
        .first(conn)
        .await
        .map_err(|e| format!("cannot read the vote-link key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> LinkBinding {
        LinkBinding {
            link_id: 7,
            rdm_id: 42,
            voter_id: 3,
            recipient_id: 3,
            revision: 2,
            meeting_id: Some(9),
        }
    }

    #[test]
    fn a_signed_token_verifies_only_for_its_binding_key_and_decision() {
        let s = LinkSigner::new(b"0123456789abcdef0123456789abcdef");
        let b = binding();
        let t = s.sign(&b, VoteDecision::Approve);
        let p = parse_token(&t).unwrap();
        assert!(s.verify(&p, &b));
        assert_eq!(p.decision, VoteDecision::Approve);
        for other in [
            LinkBinding { revision: 3, ..b },
            LinkBinding { voter_id: 4, ..b },
            LinkBinding {
                recipient_id: 5,
                ..b
            },
            LinkBinding { rdm_id: 43, ..b },
            LinkBinding {
                meeting_id: None,
                ..b
            },
        ] {
            assert!(!s.verify(&p, &other), "{other:?}");
        }
        assert!(!LinkSigner::new(b"another key").verify(&p, &b));
        // Flipping the decision in the token breaks the signature.
        let flipped = t.replacen(".a.", ".r.", 1);
        assert!(!s.verify(&parse_token(&flipped).unwrap(), &b));
    }

    #[test]
    fn a_report_link_verifies_only_for_its_user_expiry_and_query() {
        let s = LinkSigner::new(b"0123456789abcdef0123456789abcdef");
        let b = ReportLinkBinding {
            user_id: 3,
            expires: 1_800_000_000,
            query: "from=2026-11-16&to=2026-11-22",
        };
        let sig = s.sign_report(&b);
        assert!(s.verify_report(&b, &sig));
        for other in [
            ReportLinkBinding {
                user_id: 4,
                ..b.clone()
            },
            ReportLinkBinding {
                expires: 1_800_000_001,
                ..b.clone()
            },
            ReportLinkBinding {
                query: "from=2026-11-16&to=2026-11-23",
                ..b.clone()
            },
        ] {
            assert!(!s.verify_report(&other, &sig), "{other:?}");
        }
        assert!(!s.verify_report(&b, "***"));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for t in [
            "",
            "x",
            "7",
            "7.a",
            "0.a.AAAA",
            "-1.a.AAAA",
            "7.x.AAAA",
            "7.a.***",
        ] {
            assert!(parse_token(t).is_none(), "{t}");
        }
    }
}
