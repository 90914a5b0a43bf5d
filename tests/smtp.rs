//! A real SMTP server on loopback for the tests: it speaks enough of RFC 5321 for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps every message it accepts. It can be
//! started late on a port reserved in advance, to play an SMTP server that was down.
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A message as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> Mail {
        let m = mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parseable message");
        Mail {
            to: self.rcpt_to.clone(),
            subject: m.subject().unwrap_or_default().to_string(),
            text: m.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
            html: m.body_html(0).map(|t| t.to_string()).unwrap_or_default(),
            message_id: m.message_id().unwrap_or_default().to_string(),
            date: m.date().map(|d| d.to_timestamp()),
        }
    }
}

/// A received message, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    /// The `Date:` header, as a Unix timestamp.
    pub date: Option<i64>,
}

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A working SMTP server.
    #[default]
    Accept,
    /// Accepts the connection and never says a word (a hung server).
    Silent,
    /// Refuses every recipient for good: `550 no such user`.
    RefuseRecipients,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    mode: Arc<Mutex<Mode>>,
    /// Signalled on every connection accepted.
    pub connected: Arc<tokio::sync::Notify>,
}

impl SmtpSink {
    /// A port with nothing listening on it yet: SMTP is "down" until [`SmtpSink::up`].
    pub fn reserve() -> SmtpSink {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().unwrap().port();
        drop(l);
        SmtpSink {
            port,
            received: Arc::default(),
            task: Arc::default(),
            mode: Arc::default(),
            connected: Arc::default(),
        }
    }

    pub async fn start() -> SmtpSink {
        let s = SmtpSink::reserve();
        s.up().await;
        s
    }

    /// Starts listening.
    pub async fn up(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the SMTP sink");
        let received = self.received.clone();
        let mode = self.mode.clone();
        let connected = self.connected.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let received = received.clone();
                let mode = *mode.lock().unwrap();
                connected.notify_waiters();
                connected.notify_one();
                tokio::spawn(async move {
                    if mode == Mode::Silent {
                        // Hold the connection open and say nothing until the client gives up.
                        let mut sock = sock;
                        let mut buf = [0u8; 256];
                        while matches!(tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await, Ok(n) if n > 0)
                        {
                        }
                        return;
                    }
                    let _ = session(sock, received, mode).await;
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    /// How new connections are answered from now on.
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Stops listening: new connections are refused.
    pub fn down(&self) {
        if let Some(t) = self.task.lock().unwrap().take() {
            t.abort();
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.received().iter().map(Received::parsed).collect()
    }

    /// Messages delivered to this address.
    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.received()
            .iter()
            .filter(|r| r.rcpt_to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .map(Received::parsed)
            .collect()
    }
}

fn addr(arg: &str) -> String {
    let a = arg.split_once(':').map(|(_, a)| a).unwrap_or(arg).trim();
    let a = a.split_whitespace().next().unwrap_or_default();
    a.trim_start_matches('<').trim_end_matches('>').to_string()
}

async fn session(
    sock: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Received>>>,
    mode: Mode,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 gmud-test-sink ESMTP\r\n").await?;
    let (mut from, mut rcpt) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let verb = cmd.get(..4).unwrap_or(&cmd).to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                w.write_all(b"250-gmud-test-sink\r\n250 8BITMIME\r\n")
                    .await?
            }
            "HELO" => w.write_all(b"250 gmud-test-sink\r\n").await?,
            "MAIL" => {
                from = addr(&cmd);
                rcpt.clear();
                w.write_all(b"250 OK\r\n").await?
            }
            "RCPT" if mode == Mode::RefuseRecipients => {
                w.write_all(b"550 5.1.1 no such user here\r\n").await?
            }
            "RCPT" => {
                rcpt.push(addr(&cmd));
                w.write_all(b"250 OK\r\n").await?
            }
            "DATA" => {
                w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut raw = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == b".\r\n" || l == b".\n" {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 §4.5.2).
                    if l.starts_with(b"..") {
                        l.remove(0);
                    }
                    raw.extend_from_slice(&l);
                }
                received.lock().unwrap().push(Received {
                    mail_from: std::mem::take(&mut from),
                    rcpt_to: std::mem::take(&mut rcpt),
                    raw,
                });
                w.write_all(b"250 OK queued\r\n").await?
            }
            "RSET" => {
                from.clear();
                rcpt.clear();
                w.write_all(b"250 OK\r\n").await?
            }
            "NOOP" => w.write_all(b"250 OK\r\n").await?,
            "QUIT" => {
                w.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => w.write_all(b"502 not implemented\r\n").await?,
        }
    }
}
