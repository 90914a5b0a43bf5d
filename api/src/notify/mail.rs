//! The e-mail channel: messages are rendered when the event happens (in its transaction) and
//! stored in a `mail` job on the deliveries lane; a worker delivers them through SMTP, or,
//! without SMTP configured (the demo), writes them as `.eml` files to a folder.
use crate::queue::{Delivery, DeliveryError, Lane, Queued, MAIL_MAX_ATTEMPTS};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// One message to one recipient, as stored in its job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to_name: String,
    pub to_email: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Fixed per event and recipient (`<dedup-key@gmud>`): a receiver can drop a duplicate
    /// even in the one case the queue cannot rule out (a crash between send and commit).
    pub message_id: String,
    /// When it was written, by the server's clock: the `Date:` header, the same on a retry.
    #[serde(default)]
    pub date: Option<chrono::DateTime<chrono::Utc>>,
}

impl Queued for OutgoingMail {
    const KIND: &'static str = "mail";
    const LANE: Lane = Lane::Deliveries;
    /// An SMTP outage of up to a day (hourly retries once the backoff is capped) delays
    /// mail without losing it.
    const MAX_ATTEMPTS: i32 = MAIL_MAX_ATTEMPTS;
    /// Above any SMTP timeout an operator would set: the mailer bounds the send itself.
    const TIMEOUT: Duration = Duration::from_secs(300);

    /// Only the envelope: the body holds personal vote links, kept until delivered.
    fn redact(payload: &mut serde_json::Value) {
        if let Some(o) = payload.as_object_mut() {
            o.retain(|k, _| {
                matches!(
                    k.as_str(),
                    "to_name" | "to_email" | "subject" | "message_id" | "date"
                )
            });
        }
    }
}

impl Delivery for OutgoingMail {
    type Context = Mailer;

    async fn deliver(&self, mailer: &Mailer) -> Result<(), DeliveryError> {
        mailer.send(self).await.map_err(|e| {
            crate::platform::metrics::metrics().mail_send_failed(e.is_permanent());
            DeliveryError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }
        })
    }
}

/// Where mail goes.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// No SMTP configured: `.eml` files in this folder.
    Folder(PathBuf),
}

pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    /// Bounds a whole send (connect, every SMTP reply, the data): a server slow at any step
    /// counts as down.
    timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    /// The server refused the message for good (a 5xx reply): retrying will not help.
    #[error("SMTP refused the message: {0}")]
    Refused(String),
    #[error("SMTP: no answer within {0} s")]
    Timeout(u64),
    #[error("cannot write the .eml file: {0}")]
    Folder(String),
}

impl MailError {
    /// Whether another attempt cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            MailError::Refused(_) | MailError::Address(_) | MailError::Build(_)
        )
    }
}

impl Mailer {
    /// `smtp_url` as lettre reads it: `smtp://host:25` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS).
    pub fn new(
        from: &str,
        smtp_url: Option<&str>,
        folder: PathBuf,
        timeout: Duration,
    ) -> Result<Self, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError::Address(format!("{from}: {e}")))?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::Smtp(e.to_string()))?
                    .timeout(Some(timeout))
                    .build(),
            ),
            None => Transport::Folder(folder),
        };
        Ok(Mailer {
            from,
            transport,
            timeout,
        })
    }

    /// The folder `.eml` files go to, when there is no SMTP.
    pub fn folder(&self) -> Option<&std::path::Path> {
        match &self.transport {
            Transport::Folder(p) => Some(p),
            Transport::Smtp(_) => None,
        }
    }

    pub fn build(&self, m: &OutgoingMail) -> Result<Message, MailError> {
        let to = Mailbox::new(
            Some(m.to_name.clone()),
            m.to_email
                .parse()
                .map_err(|e| MailError::Address(format!("{}: {e}", m.to_email)))?,
        );
        let builder = Message::builder();
        let builder = match m.date {
            Some(at) => builder.date(std::time::SystemTime::from(at)),
            None => builder.date_now(),
        };
        builder
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .message_id(Some(m.message_id.clone()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(m.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(m.html.clone()),
                    ),
            )
            .map_err(|e| MailError::Build(e.to_string()))
    }

    pub async fn send(&self, m: &OutgoingMail) -> Result<(), MailError> {
        let message = self.build(m)?;
        match &self.transport {
            Transport::Smtp(t) => match tokio::time::timeout(self.timeout, t.send(message)).await {
                Err(_) => Err(MailError::Timeout(self.timeout.as_secs())),
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) if e.is_permanent() => Err(MailError::Refused(e.to_string())),
                Ok(Err(e)) => Err(MailError::Smtp(e.to_string())),
            },
            Transport::Folder(dir) => {
                let bytes = message.formatted();
                let dir = dir.clone();
                let name: String = m
                    .message_id
                    .trim_matches(|c| c == '<' || c == '>')
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                // Written whole then renamed: a reader never sees half a message, and the
                // same event rewrites the same file rather than adding a second.
                tokio::task::spawn_blocking(move || {
                    std::fs::create_dir_all(&dir)?;
                    let tmp = dir.join(format!(".{name}.tmp"));
                    std::fs::write(&tmp, bytes)?;
                    std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
                })
                .await
                .map_err(|e| MailError::Folder(e.to_string()))?
                .map_err(|e| MailError::Folder(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(subject: &str) -> OutgoingMail {
        OutgoingMail {
            to_name: "Membro do CM".into(),
            to_email: "cm1@gmud.example".into(),
            subject: subject.into(),
            text: "Aprovar: http://gmud.test/vote/1.a.x".into(),
            html: "<p>Aprovar</p>".into(),
            message_id: "<mail.vote_request.link.1.to.7@gmud.test>".into(),
            date: None,
        }
    }

    #[tokio::test]
    async fn without_smtp_mail_becomes_one_eml_file_per_message() {
        let dir = std::env::temp_dir().join(format!("gmud-mail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let m = Mailer::new(
            "gmud <gmud@localhost>",
            None,
            dir.clone(),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(m.folder(), Some(dir.as_path()));
        m.send(&mail("[gmud] RDM-000001 aguarda seu voto"))
            .await
            .unwrap();
        // The same event again rewrites its file: still one message.
        m.send(&mail("[gmud] RDM-000001 aguarda seu voto"))
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
        let raw = std::fs::read_to_string(&files[0]).unwrap();
        assert!(raw.contains("To: "), "{raw}");
        assert!(raw.contains("cm1@gmud.example"));
        assert!(raw.contains("Message-ID: <mail.vote_request.link.1.to.7@gmud.test>"));
        assert!(raw.contains("multipart/alternative"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_address_is_refused_before_sending() {
        let m = Mailer::new(
            "gmud <gmud@localhost>",
            None,
            "unused".into(),
            Duration::from_secs(1),
        )
        .unwrap();
        let mut bad = mail("x");
        bad.to_email = "not an address".into();
        assert!(matches!(m.build(&bad), Err(MailError::Address(_))));
        assert!(Mailer::new("no at sign", None, "unused".into(), Duration::from_secs(1)).is_err());
    }
}
