//! E-mail templates, pt-BR: each returns a subject, a plain-text body and an HTML body.
//! Every template is built as a small document (paragraphs, fields, links) rendered twice:
//! as plain text (raw URLs on their own lines) and as escaped, accessible HTML.
use super::labels;
use crate::notify::format::{
    escape_html, format_duration_minutes, format_interval, format_local, format_local_date,
};
use chrono::{DateTime, Utc};

pub use crate::notify::Rendered;

/// What every RDM mail shows of the RDM ("its essentials").
#[derive(Debug, Clone)]
pub struct RdmEssentials {
    /// e.g. `RDM-000042`.
    pub number: String,
    pub title: String,
    /// `normal`, `emergency` or `standard` (render in Portuguese: normal / emergencial / padrão).
    pub rdm_type: String,
    pub description: String,
    pub justification: String,
    /// `low`/`medium`/`high` or None (render: baixo/médio/alto, "não classificado").
    pub risk: Option<String>,
    /// `low`/`medium`/`high`/`critical` or None (baixa/média/alta/crítica).
    pub priority: Option<String>,
    pub implementation_plan: Option<String>,
    pub estimated_duration_minutes: Option<i32>,
    pub rollback_plan: Option<String>,
    pub estimated_rollback_minutes: Option<i32>,
    pub communication_plan: Option<String>,
    pub requester_name: String,
    pub requester_group: Option<String>,
    /// Names of the affected configuration items.
    pub configuration_items: Vec<String>,
    /// The content revision the mail describes.
    pub revision: i32,
}

pub struct VoteRequest<'a> {
    pub to_name: &'a str,
    pub rdm: &'a RdmEssentials,
    /// e.g. "Comitê de Mudanças (CM)".
    pub committee_name: &'a str,
    /// The meeting, for the CM; None for the CME (decides at any time).
    pub meeting_starts_at: Option<DateTime<Utc>>,
    pub approve_url: &'a str,
    pub reject_url: &'a str,
    pub expires_at: DateTime<Utc>,
    /// Set when the recipient votes as substitute for this member (display name).
    pub on_behalf_of: Option<&'a str>,
    /// True when this replaces links of an earlier revision (the RDM was edited), or of an
    /// earlier meeting (carried over).
    pub replaces_earlier: bool,
    /// IANA time zone to show times in (e.g. America/Sao_Paulo).
    pub tz: chrono_tz::Tz,
}

pub struct VoteReminder<'a> {
    pub request: VoteRequest<'a>,
}

pub struct RdmDecided<'a> {
    pub to_name: &'a str,
    pub rdm: &'a RdmEssentials,
    pub approved: bool,
    /// Who decided, in words: "o Comitê de Mudanças", "o gestor de mudanças", "o product owner".
    pub decided_by: &'a str,
    /// Required reading on a veto/rejection; may be present on approval.
    pub reason: Option<&'a str>,
}

pub struct CarriedOver<'a> {
    pub to_name: &'a str,
    pub rdm: &'a RdmEssentials,
    pub from_meeting_starts_at: DateTime<Utc>,
    pub to_meeting_starts_at: DateTime<Utc>,
    /// How many required votes were missing.
    pub pending_votes: usize,
    pub tz: chrono_tz::Tz,
}

pub struct HolidayMeeting<'a> {
    pub to_name: &'a str,
    pub committee_name: &'a str,
    pub meeting_id: i64,
    pub meeting_starts_at: DateTime<Utc>,
    pub holiday_name: &'a str,
    /// Where to move it: e.g. `https://gmud.example/api/v1/meetings/42/reschedule`.
    pub reschedule_url: &'a str,
    pub tz: chrono_tz::Tz,
}

pub struct EmergencyRaised<'a> {
    pub to_name: &'a str,
    pub rdm: &'a RdmEssentials,
    /// Who raised it (display name).
    pub raised_by: &'a str,
    /// Link to the RDM in the API (`.../api/v1/rdms/{id}`).
    pub rdm_url: &'a str,
}

pub struct FlexRequested<'a> {
    pub to_name: &'a str,
    pub window_id: i64,
    pub flex_id: i64,
    pub current_starts_at: DateTime<Utc>,
    pub current_ends_at: DateTime<Utc>,
    pub new_starts_at: DateTime<Utc>,
    pub new_ends_at: DateTime<Utc>,
    pub reason: &'a str,
    pub requested_by: &'a str,
    /// Where to approve: `.../api/v1/windows/{id}/flexes/{flex_id}/approve` (POST).
    pub approve_url: &'a str,
    pub tz: chrono_tz::Tz,
}

pub struct AgendaItem<'a> {
    pub rdm: &'a RdmEssentials,
    /// The recipient has already voted on this revision.
    pub voted: bool,
}

pub struct Agenda<'a> {
    pub to_name: &'a str,
    pub committee_name: &'a str,
    pub meeting_starts_at: DateTime<Utc>,
    pub meeting_ends_at: DateTime<Utc>,
    pub items: Vec<AgendaItem<'a>>,
    pub tz: chrono_tz::Tz,
}

pub fn vote_request(m: &VoteRequest) -> Rendered {
    render(vote_doc(m, false))
}

pub fn vote_reminder(m: &VoteReminder) -> Rendered {
    render(vote_doc(&m.request, true))
}

pub fn rdm_decided(m: &RdmDecided) -> Rendered {
    let rdm = m.rdm;
    let outcome = if m.approved { "aprovada" } else { "rejeitada" };
    let reason = non_empty(m.reason);
    let mut blocks = vec![
        greeting(m.to_name),
        Block::P(vec![
            t("A "),
            b(&rdm.number),
            t(format!(" ({}) foi ", rdm.title)),
            b(format!("{outcome} {}", by(m.decided_by))),
            t("."),
        ]),
    ];
    if m.approved {
        if let Some(reason) = reason {
            blocks.push(Block::Fields(vec![Field::long("Observação", reason)]));
        }
    } else {
        blocks.push(Block::Notice(vec![
            b("Motivo: "),
            t(reason.unwrap_or("não informado")),
        ]));
    }
    blocks.push(Block::H2("Dados da RDM".into()));
    blocks.push(essentials_block(rdm));
    render(Doc {
        subject: format!("[gmud] {} {outcome}", rdm.number),
        heading: format!("{} {outcome}", rdm.number),
        blocks,
    })
}

pub fn carried_over(m: &CarriedOver) -> Rendered {
    let rdm = m.rdm;
    let pending = match m.pending_votes {
        1 => "1 voto pendente".to_string(),
        n => format!("{n} votos pendentes"),
    };
    let blocks = vec![
        greeting(m.to_name),
        Block::P(vec![
            t("A "),
            b(&rdm.number),
            t(format!(
                " ({}) não recebeu todos os votos necessários antes do fim da reunião do \
                 comitê de {} ({pending}).",
                rdm.title,
                format_local(m.from_meeting_starts_at, m.tz)
            )),
        ]),
        Block::Notice(vec![
            t("Ela foi incluída na pauta da próxima reunião: "),
            b(format_local(m.to_meeting_starts_at, m.tz)),
            t("."),
        ]),
        Block::P(vec![t(
            "Os links de votação da reunião anterior não valem mais; quem ainda precisa votar \
             receberá novos links.",
        )]),
        Block::H2("Dados da RDM".into()),
        essentials_block(rdm),
    ];
    render(Doc {
        subject: format!("[gmud] {} adiada para a próxima reunião", rdm.number),
        heading: format!("{} adiada para a próxima reunião", rdm.number),
        blocks,
    })
}

pub fn holiday_meeting(m: &HolidayMeeting) -> Rendered {
    let date = format_local_date(m.meeting_starts_at, m.tz);
    let blocks = vec![
        greeting(m.to_name),
        Block::P(vec![
            t(format!("A reunião do {} de ", m.committee_name)),
            b(format_local(m.meeting_starts_at, m.tz)),
            t(" cai no feriado "),
            b(m.holiday_name),
            t("."),
        ]),
        Block::Notice(vec![t(
            "Remarque essa reunião com antecedência, para que as RDMs da pauta sejam avaliadas \
             a tempo.",
        )]),
        Block::Fields(vec![
            Field::short("Reunião", format!("nº {}", m.meeting_id)),
            Field::short("Comitê", m.committee_name),
            Field::short("Data e hora", format_local(m.meeting_starts_at, m.tz)),
            Field::short("Feriado", m.holiday_name),
        ]),
        Block::P(vec![t(
            "Para remarcar, envie uma requisição POST, com a nova data e hora, ao endpoint da \
             API do gmud abaixo (não é uma página para abrir no navegador):",
        )]),
        Block::Endpoint {
            method: "POST",
            url: m.reschedule_url.to_string(),
        },
    ];
    render(Doc {
        subject: format!(
            "[gmud] Reunião do comitê em feriado: {date} ({})",
            one_line(m.holiday_name)
        ),
        heading: format!("Reunião do comitê em feriado: {date}"),
        blocks,
    })
}

pub fn emergency_raised(m: &EmergencyRaised) -> Rendered {
    let rdm = m.rdm;
    let blocks = vec![
        greeting(m.to_name),
        Block::P(vec![
            t(format!("{} abriu a RDM emergencial ", m.raised_by)),
            b(&rdm.number),
            t(format!(
                " ({}). Este aviso chega antes da execução.",
                rdm.title
            )),
        ]),
        Block::Bullets(vec![
            vec![t(
                "A decisão cabe ao Comitê de Mudanças Emergenciais (CME), por e-mail e a \
                 qualquer momento, sem reunião. A decisão é consensual: uma rejeição veta a RDM.",
            )],
            vec![t(
                "Antes da aprovação, registre com o solicitante e os executores o plano de \
                 homologação e o plano de rollback.",
            )],
            vec![
                b(
                    "A RDM só pode ser executada depois que todos os clientes afetados forem \
                   notificados",
                ),
                t(" da indisponibilidade, com a notificação registrada na RDM."),
            ],
        ]),
        Block::Links(vec![Link {
            label: format!("Abrir a {} no gmud", rdm.number),
            url: m.rdm_url.to_string(),
        }]),
        Block::H2("Dados da RDM".into()),
        essentials_block(rdm),
    ];
    render(Doc {
        subject: format!("[gmud] RDM emergencial {} aberta", rdm.number),
        heading: format!("RDM emergencial {} aberta", rdm.number),
        blocks,
    })
}

pub fn flex_requested(m: &FlexRequested) -> Rendered {
    let current = (m.current_ends_at - m.current_starts_at).num_minutes();
    let new = (m.new_ends_at - m.new_starts_at).num_minutes();
    let blocks = vec![
        greeting(m.to_name),
        Block::P(vec![t(format!(
            "{} pediu a flexibilização da janela de manutenção nº {} (pedido nº {}), que \
                 aguarda a aprovação do Comitê de Mudanças (CM).",
            m.requested_by, m.window_id, m.flex_id
        ))]),
        Block::Fields(vec![
            Field::short(
                "Janela atual",
                format!(
                    "{} ({})",
                    format_interval(m.current_starts_at, m.current_ends_at, m.tz),
                    format_duration_minutes(current)
                ),
            ),
            Field::short(
                "Nova janela",
                format!(
                    "{} ({})",
                    format_interval(m.new_starts_at, m.new_ends_at, m.tz),
                    format_duration_minutes(new)
                ),
            ),
            Field::long("Motivo", m.reason),
            Field::short("Solicitada por", m.requested_by),
        ]),
        Block::Notice(vec![
            b("A aprovação é consensual: "),
            t(
                "todos os membros do CM precisam aprovar; uma única rejeição recusa a \
               flexibilização.",
            ),
        ]),
        Block::P(vec![t(
            "Para aprovar, envie uma requisição POST ao endpoint da API do gmud abaixo (não é \
             uma página para abrir no navegador):",
        )]),
        Block::Endpoint {
            method: "POST",
            url: m.approve_url.to_string(),
        },
    ];
    render(Doc {
        subject: "[gmud] Flexibilização da janela de manutenção aguarda aprovação".into(),
        heading: "Flexibilização da janela de manutenção aguarda aprovação".into(),
        blocks,
    })
}

pub fn agenda(m: &Agenda) -> Rendered {
    let date = format_local_date(m.meeting_starts_at, m.tz);
    let mut blocks = vec![
        greeting(m.to_name),
        Block::P(vec![
            t(format!("Pauta da reunião do {}: ", m.committee_name)),
            b(format_interval(
                m.meeting_starts_at,
                m.meeting_ends_at,
                m.tz,
            )),
            t("."),
        ]),
    ];
    if m.items.is_empty() {
        blocks.push(Block::Notice(vec![b("Nenhuma RDM na pauta.")]));
    } else {
        let total = m.items.len();
        let waiting = m.items.iter().filter(|i| !i.voted).count();
        let total_words = match total {
            1 => "1 RDM na pauta".to_string(),
            n => format!("{n} RDMs na pauta"),
        };
        let waiting_words = match waiting {
            0 => "você já votou em todas".to_string(),
            1 => "1 aguarda seu voto".to_string(),
            n => format!("{n} aguardam seu voto"),
        };
        blocks.push(Block::P(vec![t(format!(
            "{total_words}; {waiting_words}."
        ))]));
        blocks.push(Block::Table {
            caption: "RDMs na pauta".into(),
            headers: [
                "Número",
                "Título",
                "Tipo",
                "Prioridade",
                "Risco",
                "Seu voto",
            ]
            .map(String::from)
            .to_vec(),
            rows: m
                .items
                .iter()
                .map(|i| {
                    vec![
                        i.rdm.number.clone(),
                        i.rdm.title.clone(),
                        type_label(&i.rdm.rdm_type),
                        priority_label(i.rdm.priority.as_deref()),
                        risk_label(i.rdm.risk.as_deref()),
                        if i.voted {
                            "já votou"
                        } else {
                            "aguarda seu voto"
                        }
                        .to_string(),
                    ]
                })
                .collect(),
        });
        if waiting > 0 {
            blocks.push(Block::P(vec![t(
                "Para votar, use os links do e-mail de cada RDM.",
            )]));
        }
    }
    render(Doc {
        subject: format!("[gmud] Pauta da reunião do comitê de {date}"),
        heading: format!("Pauta da reunião do comitê de {date}"),
        blocks,
    })
}

// ---------------------------------------------------------------------------------------
// Vote request / reminder
// ---------------------------------------------------------------------------------------

fn vote_doc(m: &VoteRequest, reminder: bool) -> Doc {
    let rdm = m.rdm;
    let mut blocks = vec![greeting(m.to_name)];
    if reminder {
        blocks.push(Block::P(vec![
            b("Lembrete: "),
            t("seu voto na "),
            b(&rdm.number),
            t(" ainda não foi registrado."),
        ]));
    }
    if m.replaces_earlier {
        blocks.push(Block::Notice(vec![
            b("Atenção: "),
            t(
                "esta RDM mudou (foi editada ou passou para outra reunião) desde o e-mail \
                 anterior. Os links enviados antes não funcionam mais; use os desta mensagem.",
            ),
        ]));
    }
    let role = match non_empty(m.on_behalf_of) {
        Some(member) => format!("você vota como substituto, em nome de {member}."),
        None => "você é votante obrigatório nesta RDM.".to_string(),
    };
    blocks.push(Block::P(vec![
        t("A "),
        b(&rdm.number),
        t(format!(" ({}) aguarda seu voto: {role}", rdm.title)),
    ]));
    blocks.push(Block::P(vec![t(
        "A decisão é consensual: a RDM só é aprovada se todos os votantes obrigatórios \
         aprovarem; uma rejeição a veta.",
    )]));
    let mut fields = vec![Field::short("Comitê", m.committee_name)];
    fields.push(match m.meeting_starts_at {
        Some(at) => Field::short("Reunião", format_local(at, m.tz)),
        None => Field::short("Reunião", "decisão a qualquer momento (CME)"),
    });
    fields.push(Field::short(
        "Links válidos até",
        format_local(m.expires_at, m.tz),
    ));
    blocks.push(Block::Fields(fields));

    blocks.push(Block::H2("Dados da RDM".into()));
    blocks.push(essentials_block(rdm));

    blocks.push(Block::H2("Seu voto".into()));
    blocks.push(Block::Links(vec![
        Link {
            label: format!("Aprovar a {}", rdm.number),
            url: m.approve_url.to_string(),
        },
        Link {
            label: format!("Rejeitar a {}", rdm.number),
            url: m.reject_url.to_string(),
        },
    ]));
    blocks.push(Block::Bullets(vec![
        vec![
            t("Cada link abre uma página de confirmação: "),
            b("nada é decidido até você confirmar."),
        ],
        vec![t("Para rejeitar, é obrigatório informar o motivo.")],
        vec![t(format!(
            "Os links são pessoais, funcionam uma única vez e valem até {}; não encaminhe \
             este e-mail.",
            format_local(m.expires_at, m.tz)
        ))],
    ]));

    let (subject, heading) = if reminder {
        (
            format!("[gmud] Lembrete: {} aguarda seu voto", rdm.number),
            format!("Lembrete: {} aguarda seu voto", rdm.number),
        )
    } else {
        (
            format!(
                "[gmud] {} aguarda seu voto: {}",
                rdm.number,
                one_line(&rdm.title)
            ),
            format!("{} aguarda seu voto", rdm.number),
        )
    };
    Doc {
        subject,
        heading,
        blocks,
    }
}

// ---------------------------------------------------------------------------------------
// Essentials
// ---------------------------------------------------------------------------------------

fn essentials_block(rdm: &RdmEssentials) -> Block {
    Block::Fields(essentials_fields(rdm))
}

fn essentials_fields(rdm: &RdmEssentials) -> Vec<Field> {
    let mut f = vec![
        Field::short("Número", &rdm.number),
        Field::short("Título", &rdm.title),
        Field::short("Tipo", type_label(&rdm.rdm_type)),
        Field::short("Risco", risk_label(rdm.risk.as_deref())),
        Field::short("Prioridade", priority_label(rdm.priority.as_deref())),
        Field::short("Solicitante", &rdm.requester_name),
    ];
    if let Some(group) = non_empty(rdm.requester_group.as_deref()) {
        f.push(Field::short("Grupo solicitante", group));
    }
    let cis: Vec<String> = rdm
        .configuration_items
        .iter()
        .filter(|c| !c.trim().is_empty())
        .cloned()
        .collect();
    if !cis.is_empty() {
        f.push(Field {
            label: "Itens de configuração".into(),
            value: Value::List(cis),
        });
    }
    f.push(Field::long("Descrição", &rdm.description));
    f.push(Field::long("Justificativa", &rdm.justification));
    if let Some(plan) = non_empty(rdm.implementation_plan.as_deref()) {
        f.push(Field::long("Plano de implantação", plan));
    }
    if let Some(min) = rdm.estimated_duration_minutes {
        f.push(Field::short(
            "Duração estimada",
            format_duration_minutes(min.into()),
        ));
    }
    if let Some(plan) = non_empty(rdm.rollback_plan.as_deref()) {
        f.push(Field::long("Plano de rollback", plan));
    }
    if let Some(min) = rdm.estimated_rollback_minutes {
        f.push(Field::short(
            "Tempo estimado de rollback",
            format_duration_minutes(min.into()),
        ));
    }
    if let Some(plan) = non_empty(rdm.communication_plan.as_deref()) {
        f.push(Field::long("Plano de comunicação", plan));
    }
    f.push(Field::short("Revisão", rdm.revision.to_string()));
    f
}

fn type_label(t: &str) -> String {
    labels::type_label(t).to_string()
}

fn risk_label(r: Option<&str>) -> String {
    labels::risk_label(r).to_string()
}

fn priority_label(p: Option<&str>) -> String {
    labels::priority_label(p).to_string()
}

// ---------------------------------------------------------------------------------------
// Small text helpers
// ---------------------------------------------------------------------------------------

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// Folds line breaks and other control characters into single spaces (for subjects).
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// "por" + the article of `who`, contracted: "o Comitê" → "pelo Comitê", "a Maria" → "pela
/// Maria"; names without an article stay "por Fulano".
fn by(who: &str) -> String {
    let who = who.trim();
    for (article, contracted) in [
        ("o ", "pelo "),
        ("a ", "pela "),
        ("os ", "pelos "),
        ("as ", "pelas "),
    ] {
        if let Some(rest) = who.strip_prefix(article) {
            return format!("{contracted}{rest}");
        }
        let upper = format!("{}{}", article[..1].to_uppercase(), &article[1..]);
        if let Some(rest) = who.strip_prefix(upper.as_str()) {
            return format!("{contracted}{rest}");
        }
    }
    format!("por {who}")
}

fn greeting(name: &str) -> Block {
    let name = name.trim();
    if name.is_empty() {
        Block::P(vec![t("Olá,")])
    } else {
        Block::P(vec![t(format!("Olá, {name},"))])
    }
}

// ---------------------------------------------------------------------------------------
// A tiny document model, rendered both as plain text and as escaped HTML
// ---------------------------------------------------------------------------------------

struct Doc {
    subject: String,
    heading: String,
    blocks: Vec<Block>,
}

enum Span {
    Text(String),
    Strong(String),
}

fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

fn b(s: impl Into<String>) -> Span {
    Span::Strong(s.into())
}

enum Value {
    /// One line.
    Short(String),
    /// Free text, possibly several lines.
    Long(String),
    List(Vec<String>),
}

struct Field {
    label: String,
    value: Value,
}

impl Field {
    fn short(label: &str, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: Value::Short(value.into()),
        }
    }
    fn long(label: &str, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: Value::Long(value.into()),
        }
    }
}

struct Link {
    label: String,
    url: String,
}

enum Block {
    P(Vec<Span>),
    /// A highlighted paragraph.
    Notice(Vec<Span>),
    H2(String),
    Fields(Vec<Field>),
    Bullets(Vec<Vec<Span>>),
    /// Links the reader follows with a browser (GET).
    Links(Vec<Link>),
    /// An API endpoint that is not for a browser (e.g. POST).
    Endpoint {
        method: &'static str,
        url: String,
    },
    Table {
        caption: String,
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

const FOOTER: &str = "Mensagem automática do gmud. Não responda a este e-mail.";

fn render(doc: Doc) -> Rendered {
    let subject = one_line(&doc.subject);
    let text = render_text(&doc);
    let html = render_html(&doc, &subject);
    Rendered {
        subject,
        text,
        html,
    }
}

fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn spans_text(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(s) | Span::Strong(s) => s.as_str(),
        })
        .collect()
}

fn indent(s: &str, prefix: &str) -> String {
    normalize_newlines(s.trim_end())
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("{prefix}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn render_text(doc: &Doc) -> String {
    let mut parts: Vec<String> = Vec::new();
    for block in &doc.blocks {
        parts.push(match block {
            Block::P(spans) => spans_text(spans),
            Block::Notice(spans) => format!(">> {}", spans_text(spans)),
            Block::H2(h) => format!("{h}\n{}", "-".repeat(h.chars().count())),
            Block::Fields(fields) => fields
                .iter()
                .map(|f| match &f.value {
                    Value::Short(v) => format!("{}: {}", f.label, one_line(v)),
                    Value::Long(v) => format!("{}:\n{}", f.label, indent(v, "  ")),
                    Value::List(items) => format!(
                        "{}:\n{}",
                        f.label,
                        items
                            .iter()
                            .map(|i| format!("  - {}", one_line(i)))
                            .collect::<Vec<_>>()
                            .join("\n")
                    ),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Bullets(items) => items
                .iter()
                .map(|i| format!("- {}", spans_text(i)))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Links(links) => links
                .iter()
                .map(|l| format!("{}:\n{}", l.label, l.url))
                .collect::<Vec<_>>()
                .join("\n\n"),
            Block::Endpoint { method, url } => format!("{method}\n{url}"),
            Block::Table { headers, rows, .. } => rows
                .iter()
                .map(|row| {
                    let head = format!(
                        "- {}",
                        row.iter()
                            .take(2)
                            .map(|c| one_line(c))
                            .collect::<Vec<_>>()
                            .join(" — ")
                    );
                    let rest = headers
                        .iter()
                        .zip(row.iter())
                        .skip(2)
                        .map(|(h, c)| format!("{h}: {}", one_line(c)))
                        .collect::<Vec<_>>()
                        .join("; ");
                    format!("{head}\n  {rest}")
                })
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    parts.push(format!("-- \n{FOOTER}"));
    let mut text = parts.join("\n\n");
    text.push('\n');
    text
}

/// Escapes `s` and keeps its line breaks as `<br>`.
fn html_multiline(s: &str) -> String {
    escape_html(&normalize_newlines(s)).replace('\n', "<br>\n")
}

fn spans_html(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(s) => html_multiline(s),
            Span::Strong(s) => format!("<strong>{}</strong>", html_multiline(s)),
        })
        .collect()
}

fn render_html(doc: &Doc, subject: &str) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"pt-BR\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!(
        "<title>{}</title>\n</head>\n",
        escape_html(subject)
    ));
    h.push_str(
        "<body style=\"margin:0;padding:16px;font-family:Arial,Helvetica,sans-serif;\
         font-size:15px;line-height:1.5;color:#1a1a1a;background:#ffffff;\">\n",
    );
    h.push_str("<div style=\"max-width:640px;margin:0 auto;\">\n");
    h.push_str(&format!(
        "<h1 style=\"font-size:20px;margin:0 0 16px;\">{}</h1>\n",
        escape_html(&doc.heading)
    ));
    for block in &doc.blocks {
        match block {
            Block::P(spans) => h.push_str(&format!("<p>{}</p>\n", spans_html(spans))),
            Block::Notice(spans) => h.push_str(&format!(
                "<p style=\"padding:8px 12px;border-left:4px solid #b45309;\
                 background:#fff7e6;\">{}</p>\n",
                spans_html(spans)
            )),
            Block::H2(title) => h.push_str(&format!(
                "<h2 style=\"font-size:17px;margin:24px 0 8px;\">{}</h2>\n",
                escape_html(title)
            )),
            Block::Fields(fields) => {
                h.push_str("<dl style=\"margin:0 0 16px;\">\n");
                for f in fields {
                    h.push_str(&format!(
                        "<dt style=\"font-weight:bold;margin-top:8px;\">{}</dt>\n",
                        escape_html(&f.label)
                    ));
                    let value = match &f.value {
                        Value::Short(v) => escape_html(&one_line(v)),
                        Value::Long(v) => html_multiline(v.trim()),
                        Value::List(items) => format!(
                            "<ul style=\"margin:0;padding-left:20px;\">{}</ul>",
                            items
                                .iter()
                                .map(|i| format!("<li>{}</li>", escape_html(&one_line(i))))
                                .collect::<String>()
                        ),
                    };
                    h.push_str(&format!("<dd style=\"margin:0;\">{value}</dd>\n"));
                }
                h.push_str("</dl>\n");
            }
            Block::Bullets(items) => {
                h.push_str("<ul>\n");
                for i in items {
                    h.push_str(&format!("<li>{}</li>\n", spans_html(i)));
                }
                h.push_str("</ul>\n");
            }
            Block::Links(links) => {
                h.push_str("<ul style=\"list-style:none;padding:0;margin:16px 0;\">\n");
                for l in links {
                    h.push_str(&format!(
                        "<li style=\"margin:8px 0;\"><a href=\"{}\" \
                         style=\"font-weight:bold;color:#1d4ed8;\">{}</a></li>\n",
                        escape_html(&l.url),
                        escape_html(&l.label)
                    ));
                }
                h.push_str("</ul>\n");
            }
            Block::Endpoint { method, url } => h.push_str(&format!(
                "<p><code style=\"word-break:break-all;\">{} {}</code></p>\n",
                escape_html(method),
                escape_html(url)
            )),
            Block::Table {
                caption,
                headers,
                rows,
            } => {
                h.push_str(
                    "<table style=\"border-collapse:collapse;width:100%;margin:8px 0 16px;\">\n",
                );
                h.push_str(&format!(
                    "<caption style=\"text-align:left;font-weight:bold;\">{}</caption>\n",
                    escape_html(caption)
                ));
                h.push_str("<thead><tr>");
                for hd in headers {
                    h.push_str(&format!(
                        "<th scope=\"col\" style=\"text-align:left;padding:4px 8px;\
                         border-bottom:1px solid #999;\">{}</th>",
                        escape_html(hd)
                    ));
                }
                h.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    h.push_str("<tr>");
                    for (i, cell) in row.iter().enumerate() {
                        let tag = if i == 0 { "th scope=\"row\"" } else { "td" };
                        let close = if i == 0 { "th" } else { "td" };
                        h.push_str(&format!(
                            "<{tag} style=\"text-align:left;padding:4px 8px;\
                             border-bottom:1px solid #ddd;\">{}</{close}>",
                            escape_html(&one_line(cell))
                        ));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
        }
    }
    h.push_str(&format!(
        "<hr style=\"border:0;border-top:1px solid #ddd;margin:24px 0 8px;\">\n\
         <p style=\"font-size:13px;color:#555555;\">{}</p>\n",
        escape_html(FOOTER)
    ));
    h.push_str("</div>\n</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::Sao_Paulo;

    const EVIL: &str = "<script>alert(1)</script>";
    const EVIL_URL: &str = "https://gmud.example/v?t=a\"b&c='d'";

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn full_rdm() -> RdmEssentials {
        RdmEssentials {
            number: "RDM-000042".into(),
            title: "Atualizar o ERP".into(),
            rdm_type: "normal".into(),
            description: "Atualiza o ERP para a versão 12.\nSegunda linha.".into(),
            justification: "Correção de segurança".into(),
            risk: Some("medium".into()),
            priority: Some("critical".into()),
            implementation_plan: Some("Parar o serviço e aplicar o pacote".into()),
            estimated_duration_minutes: Some(150),
            rollback_plan: Some("Restaurar o snapshot".into()),
            estimated_rollback_minutes: Some(45),
            communication_plan: Some("Avisar os clientes por e-mail".into()),
            requester_name: "Ana Lima".into(),
            requester_group: Some("TAF/TSS".into()),
            configuration_items: vec!["erp-prod-01".into(), "db-prod-02".into()],
            revision: 3,
        }
    }

    fn minimal_rdm() -> RdmEssentials {
        RdmEssentials {
            number: "RDM-000007".into(),
            title: "Troca de certificado".into(),
            rdm_type: "emergency".into(),
            description: "Certificado expira hoje".into(),
            justification: "Evitar indisponibilidade".into(),
            risk: None,
            priority: None,
            implementation_plan: None,
            estimated_duration_minutes: None,
            rollback_plan: Some("   ".into()),
            estimated_rollback_minutes: None,
            communication_plan: Some(String::new()),
            requester_name: "Bruno".into(),
            requester_group: None,
            configuration_items: vec![],
            revision: 1,
        }
    }

    fn request<'a>(rdm: &'a RdmEssentials) -> VoteRequest<'a> {
        VoteRequest {
            to_name: "Carla",
            rdm,
            committee_name: "Comitê de Mudanças (CM)",
            meeting_starts_at: Some(at(2026, 11, 24, 17, 0)),
            approve_url: "https://gmud.example/api/v1/votes/confirm?t=AAA&d=approve",
            reject_url: "https://gmud.example/api/v1/votes/confirm?t=BBB&d=reject",
            expires_at: at(2026, 11, 24, 19, 0),
            on_behalf_of: None,
            replaces_earlier: false,
            tz: Sao_Paulo,
        }
    }

    fn lines(s: &str) -> Vec<&str> {
        s.lines().map(str::trim).collect()
    }

    #[test]
    fn escape_html_escapes_the_five_characters() {
        assert_eq!(
            escape_html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape_html("ação"), "ação");
    }

    #[test]
    fn times_render_in_the_given_zone() {
        assert_eq!(
            format_local(at(2026, 11, 24, 17, 0), Sao_Paulo),
            "24/11/2026 14:00 (America/Sao_Paulo)"
        );
        assert_eq!(
            format_local(at(2026, 11, 24, 17, 0), chrono_tz::UTC),
            "24/11/2026 17:00 (UTC)"
        );
        // Crosses midnight backwards: 02:30Z is the previous day in São Paulo.
        assert_eq!(
            format_local(at(2026, 12, 3, 2, 30), Sao_Paulo),
            "02/12/2026 23:30 (America/Sao_Paulo)"
        );
        assert_eq!(
            format_interval(at(2026, 11, 24, 17, 0), at(2026, 11, 24, 19, 0), Sao_Paulo),
            "24/11/2026 14:00–16:00 (America/Sao_Paulo)"
        );
        assert_eq!(
            format_interval(at(2026, 12, 3, 1, 0), at(2026, 12, 3, 9, 0), Sao_Paulo),
            "02/12/2026 22:00 – 03/12/2026 06:00 (America/Sao_Paulo)"
        );
    }

    #[test]
    fn durations_render_in_hours_and_minutes() {
        assert_eq!(format_duration_minutes(45), "45 min");
        assert_eq!(format_duration_minutes(60), "1 h");
        assert_eq!(format_duration_minutes(150), "2 h 30 min");
    }

    #[test]
    fn vote_request_has_subject_links_meeting_and_rules() {
        let rdm = full_rdm();
        let m = request(&rdm);
        let r = vote_request(&m);
        assert_eq!(
            r.subject,
            "[gmud] RDM-000042 aguarda seu voto: Atualizar o ERP"
        );
        let l = lines(&r.text);
        assert!(l.contains(&m.approve_url), "{}", r.text);
        assert!(l.contains(&m.reject_url), "{}", r.text);
        assert!(r.text.contains("24/11/2026 14:00 (America/Sao_Paulo)"));
        // expiry
        assert!(r.text.contains("24/11/2026 16:00 (America/Sao_Paulo)"));
        assert!(r.text.contains("página de confirmação"));
        assert!(r.text.contains("nada é decidido até você confirmar"));
        assert!(r.text.contains("obrigatório informar o motivo"));
        assert!(r.text.contains("uma única vez"));
        assert!(r.text.contains("votante obrigatório"));
        assert!(!r.text.contains("Em nome de"));
        assert!(!r.text.contains("não funcionam mais"));
        assert!(r
            .html
            .contains("<a href=\"https://gmud.example/api/v1/votes/confirm?t=AAA&amp;d=approve\""));
        assert!(r.html.contains(">Aprovar a RDM-000042</a>"));
        assert!(r.html.contains(">Rejeitar a RDM-000042</a>"));
        assert!(r.html.contains("<html lang=\"pt-BR\">"));
        assert!(r
            .html
            .contains("<title>[gmud] RDM-000042 aguarda seu voto: Atualizar o ERP</title>"));
        assert!(!r.html.to_lowercase().contains("<script"));
    }

    #[test]
    fn vote_request_for_the_cme_has_no_meeting() {
        let rdm = minimal_rdm();
        let mut m = request(&rdm);
        m.meeting_starts_at = None;
        m.committee_name = "Comitê de Mudanças Emergenciais (CME)";
        let r = vote_request(&m);
        assert!(r.text.contains("decisão a qualquer momento (CME)"));
        assert!(!r.text.contains("24/11/2026 14:00"));
    }

    #[test]
    fn vote_request_shows_substitute_and_replacement() {
        let rdm = full_rdm();
        let mut m = request(&rdm);
        m.on_behalf_of = Some("Maria Souza");
        m.replaces_earlier = true;
        let r = vote_request(&m);
        assert!(r.text.contains("em nome de Maria Souza"), "{}", r.text);
        assert!(r.html.contains("em nome de Maria Souza"));
        assert!(r
            .text
            .contains("Os links enviados antes não funcionam mais"));
        assert!(!r.text.contains("votante obrigatório nesta RDM"));
    }

    #[test]
    fn html_escapes_malicious_title_and_urls() {
        let mut rdm = full_rdm();
        rdm.title = EVIL.into();
        rdm.configuration_items.push(EVIL.into());
        let mut m = request(&rdm);
        m.approve_url = EVIL_URL;
        m.on_behalf_of = Some("<b>x</b>");
        let r = vote_request(&m);
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(!r.html.contains("<b>x</b>"));
        assert!(r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(r
            .html
            .contains("href=\"https://gmud.example/v?t=a&quot;b&amp;c=&#39;d&#39;\""));
        assert!(!r.html.contains(EVIL_URL));
        // The text part keeps the raw URL, alone on its line.
        assert!(lines(&r.text).contains(&EVIL_URL));
        assert!(r.subject.contains(EVIL));

        let mut rdm2 = full_rdm();
        rdm2.title = EVIL.into();
        let items = vec![AgendaItem {
            rdm: &rdm2,
            voted: false,
        }];
        let a = agenda(&Agenda {
            to_name: "Carla",
            committee_name: "Comitê de Mudanças (CM)",
            meeting_starts_at: at(2026, 11, 24, 17, 0),
            meeting_ends_at: at(2026, 11, 24, 19, 0),
            items,
            tz: Sao_Paulo,
        });
        assert!(!a.html.contains("<script>"));
        let e = emergency_raised(&EmergencyRaised {
            to_name: "Gestor",
            rdm: &rdm2,
            raised_by: "<i>Eve</i>",
            rdm_url: EVIL_URL,
        });
        assert!(!e.html.contains("<script>") && !e.html.contains("<i>Eve"));
        assert!(e
            .html
            .contains("href=\"https://gmud.example/v?t=a&quot;b&amp;c=&#39;d&#39;\""));
    }

    #[test]
    fn subject_has_no_line_breaks() {
        let mut rdm = full_rdm();
        rdm.title = "Título\r\nBcc: x@example.com".into();
        let r = vote_request(&request(&rdm));
        assert!(!r.subject.contains('\n') && !r.subject.contains('\r'));
        assert!(r.subject.ends_with("Título Bcc: x@example.com"));
    }

    #[test]
    fn essentials_show_all_filled_fields_in_portuguese() {
        let rdm = full_rdm();
        let r = vote_request(&request(&rdm));
        for expected in [
            "Tipo: normal",
            "Risco: médio",
            "Prioridade: crítica",
            "Solicitante: Ana Lima",
            "Grupo solicitante: TAF/TSS",
            "  - erp-prod-01",
            "  - db-prod-02",
            "  Atualiza o ERP para a versão 12.\n  Segunda linha.",
            "Plano de implantação:\n  Parar o serviço e aplicar o pacote",
            "Duração estimada: 2 h 30 min",
            "Plano de rollback:\n  Restaurar o snapshot",
            "Tempo estimado de rollback: 45 min",
            "Plano de comunicação:\n  Avisar os clientes por e-mail",
            "Revisão: 3",
        ] {
            assert!(
                r.text.contains(expected),
                "missing {expected:?} in\n{}",
                r.text
            );
        }
        assert!(r
            .html
            .contains("<dt style=\"font-weight:bold;margin-top:8px;\">Risco</dt>"));
        assert!(r.html.contains("Atualiza o ERP para a versão 12.<br>"));
    }

    #[test]
    fn empty_optional_fields_are_omitted() {
        let rdm = minimal_rdm();
        let r = vote_request(&request(&rdm));
        for absent in [
            "Grupo solicitante",
            "Itens de configuração",
            "Plano de implantação",
            "Duração estimada",
            "Plano de rollback",
            "Tempo estimado de rollback",
            "Plano de comunicação",
        ] {
            assert!(
                !r.text.contains(absent),
                "{absent:?} present in\n{}",
                r.text
            );
            assert!(!r.html.contains(absent), "{absent:?} present in html");
        }
        assert!(r.text.contains("Tipo: emergencial"));
        assert!(r.text.contains("Risco: não classificado"));
        assert!(r.text.contains("Prioridade: não definida"));
        assert!(r.text.contains("Revisão: 1"));
    }

    #[test]
    fn vote_reminder_reuses_the_request() {
        let rdm = full_rdm();
        let m = VoteReminder {
            request: request(&rdm),
        };
        let r = vote_reminder(&m);
        assert_eq!(r.subject, "[gmud] Lembrete: RDM-000042 aguarda seu voto");
        assert!(r.text.contains("Lembrete:"));
        let l = lines(&r.text);
        assert!(l.contains(&m.request.approve_url));
        assert!(l.contains(&m.request.reject_url));
        assert!(r.text.contains("Revisão: 3"));
    }

    #[test]
    fn rdm_decided_approved_and_rejected() {
        let rdm = full_rdm();
        let ok = rdm_decided(&RdmDecided {
            to_name: "Ana",
            rdm: &rdm,
            approved: true,
            decided_by: "o Comitê de Mudanças",
            reason: None,
        });
        assert_eq!(ok.subject, "[gmud] RDM-000042 aprovada");
        assert!(
            ok.text.contains("aprovada pelo Comitê de Mudanças"),
            "{}",
            ok.text
        );
        assert!(!ok.text.contains("Motivo"));
        // Spaces around emphasised parts survive in the HTML.
        assert!(
            ok.html
                .contains("A <strong>RDM-000042</strong> (Atualizar o ERP) foi <strong>"),
            "{}",
            ok.html
        );

        let no = rdm_decided(&RdmDecided {
            to_name: "Ana",
            rdm: &rdm,
            approved: false,
            decided_by: "o gestor de mudanças",
            reason: Some("Conflita com o <fechamento> & não tem rollback"),
        });
        assert_eq!(no.subject, "[gmud] RDM-000042 rejeitada");
        assert!(no.text.contains("rejeitada pelo gestor de mudanças"));
        assert!(no
            .text
            .contains("Motivo: Conflita com o <fechamento> & não tem rollback"));
        assert!(no.html.contains(
            "<strong>Motivo: </strong>Conflita com o &lt;fechamento&gt; &amp; não tem rollback"
        ));

        let by_name = rdm_decided(&RdmDecided {
            to_name: "Ana",
            rdm: &rdm,
            approved: false,
            decided_by: "Paulo Rocha",
            reason: None,
        });
        assert!(by_name.text.contains("rejeitada por Paulo Rocha"));
        assert!(by_name.text.contains("Motivo: não informado"));
    }

    #[test]
    fn carried_over_names_both_meetings() {
        let rdm = full_rdm();
        let r = carried_over(&CarriedOver {
            to_name: "Ana",
            rdm: &rdm,
            from_meeting_starts_at: at(2026, 11, 24, 17, 0),
            to_meeting_starts_at: at(2026, 12, 1, 17, 0),
            pending_votes: 2,
            tz: Sao_Paulo,
        });
        assert_eq!(r.subject, "[gmud] RDM-000042 adiada para a próxima reunião");
        assert!(r.text.contains("24/11/2026 14:00 (America/Sao_Paulo)"));
        assert!(r.text.contains("01/12/2026 14:00 (America/Sao_Paulo)"));
        assert!(r.text.contains("2 votos pendentes"));
        assert!(r.text.contains("não recebeu todos os votos"));
    }

    #[test]
    fn holiday_meeting_asks_for_a_reschedule() {
        let url = "https://gmud.example/api/v1/meetings/42/reschedule";
        let r = holiday_meeting(&HolidayMeeting {
            to_name: "Gestor",
            committee_name: "Comitê de Mudanças (CM)",
            meeting_id: 42,
            meeting_starts_at: at(2026, 11, 3, 17, 0),
            holiday_name: "Finados (observado)",
            reschedule_url: url,
            tz: Sao_Paulo,
        });
        assert_eq!(
            r.subject,
            "[gmud] Reunião do comitê em feriado: 03/11/2026 (Finados (observado))"
        );
        assert!(lines(&r.text).contains(&url));
        assert!(r.text.contains("POST"));
        assert!(r.text.contains("Remarque"));
        assert!(r.html.contains(&format!("POST {url}")));
    }

    #[test]
    fn emergency_raised_warns_before_execution() {
        let rdm = minimal_rdm();
        let url = "https://gmud.example/api/v1/rdms/7";
        let r = emergency_raised(&EmergencyRaised {
            to_name: "Gestor",
            rdm: &rdm,
            raised_by: "Bruno",
            rdm_url: url,
        });
        assert_eq!(r.subject, "[gmud] RDM emergencial RDM-000007 aberta");
        assert!(r.text.contains("Bruno abriu a RDM emergencial RDM-000007"));
        assert!(r.text.contains("CME"));
        assert!(r.text.contains("clientes afetados forem notificados"));
        assert!(lines(&r.text).contains(&url));
        assert!(r.html.contains(&format!("<a href=\"{url}\"")));
    }

    #[test]
    fn flex_requested_shows_both_windows_and_consensus() {
        let url = "https://gmud.example/api/v1/windows/5/flexes/9/approve";
        let r = flex_requested(&FlexRequested {
            to_name: "Carla",
            window_id: 5,
            flex_id: 9,
            current_starts_at: at(2026, 12, 3, 3, 0),
            current_ends_at: at(2026, 12, 3, 9, 0),
            new_starts_at: at(2026, 12, 3, 1, 0),
            new_ends_at: at(2026, 12, 3, 11, 30),
            reason: "Janela do fornecedor de nuvem",
            requested_by: "Gestor de Mudanças",
            approve_url: url,
            tz: Sao_Paulo,
        });
        assert_eq!(
            r.subject,
            "[gmud] Flexibilização da janela de manutenção aguarda aprovação"
        );
        assert!(r.text.contains("janela de manutenção nº 5"));
        assert!(r
            .text
            .contains("Janela atual: 03/12/2026 00:00–06:00 (America/Sao_Paulo) (6 h)"));
        assert!(r.text.contains(
            "Nova janela: 02/12/2026 22:00 – 03/12/2026 08:30 (America/Sao_Paulo) (10 h 30 min)"
        ));
        assert!(r.text.contains("Janela do fornecedor de nuvem"));
        assert!(r.text.contains("Solicitada por: Gestor de Mudanças"));
        assert!(r.text.contains("uma única rejeição recusa"));
        assert!(lines(&r.text).contains(&url));
        assert!(r.text.contains("POST"));
    }

    #[test]
    fn agenda_lists_items_with_vote_status() {
        let a1 = full_rdm();
        let a2 = minimal_rdm();
        let m = Agenda {
            to_name: "Carla",
            committee_name: "Comitê de Mudanças (CM)",
            meeting_starts_at: at(2026, 11, 24, 17, 0),
            meeting_ends_at: at(2026, 11, 24, 19, 0),
            items: vec![
                AgendaItem {
                    rdm: &a1,
                    voted: true,
                },
                AgendaItem {
                    rdm: &a2,
                    voted: false,
                },
            ],
            tz: Sao_Paulo,
        };
        let r = agenda(&m);
        assert_eq!(r.subject, "[gmud] Pauta da reunião do comitê de 24/11/2026");
        assert!(r
            .text
            .contains("24/11/2026 14:00–16:00 (America/Sao_Paulo)"));
        assert!(r.text.contains("2 RDMs na pauta; 1 aguarda seu voto."));
        assert!(r.text.contains(
            "- RDM-000042 — Atualizar o ERP\n  Tipo: normal; Prioridade: crítica; Risco: médio; Seu voto: já votou"
        ), "{}", r.text);
        assert!(r.text.contains(
            "- RDM-000007 — Troca de certificado\n  Tipo: emergencial; Prioridade: não definida; Risco: não classificado; Seu voto: aguarda seu voto"
        ));
        assert!(r.html.contains("<th scope=\"col\""));
        assert!(!r.text.contains("Nenhuma RDM na pauta"));

        let empty = agenda(&Agenda { items: vec![], ..m });
        assert!(empty.text.contains("Nenhuma RDM na pauta"));
        assert!(empty.html.contains("Nenhuma RDM na pauta"));
        assert!(!empty.html.contains("<table"));
    }
}
