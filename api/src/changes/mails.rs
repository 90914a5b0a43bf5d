//! E-mail templates, pt-BR: each returns a subject, a plain-text body and an HTML body.
//! Each mail is a pair of askama templates under `api/templates/mail/`, `NAME.txt` (plain
//! text, raw URLs on their own lines, nothing escaped) and `NAME.html` (every value
//! auto-escaped by [`crate::notify::format::Html`]), over one context struct; both extend a
//! layout and share partials (the RDM's essentials).
use super::labels;
use crate::notify::format::{self, filters, format_local_date, mail_templates};
use chrono::{DateTime, Utc};
use domain::rdm::{Level, Priority, RdmType};

pub use crate::notify::Rendered;

/// What every RDM mail shows of the RDM ("its essentials").
#[derive(Debug, Clone)]
pub struct RdmEssentials {
    /// e.g. `RDM-000042`.
    pub number: String,
    pub title: String,
    pub rdm_type: RdmType,
    pub description: String,
    pub justification: String,
    pub risk: Option<Level>,
    pub priority: Option<Priority>,
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
    /// The maintenance window the RDM is booked into (start, end); None before booking.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Other open RDMs touching the same configuration items (when this one is booked, only
    /// those booked into the same window), by number.
    pub conflicts: Vec<ConflictingRdm>,
}

/// An RDM that touches some of the same configuration items as the one a mail is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictingRdm {
    /// e.g. `RDM-000043`.
    pub number: String,
    pub title: String,
    /// Names of the configuration items both touch.
    pub shared_items: Vec<String>,
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
    vote_mail(m, false)
}

pub fn vote_reminder(m: &VoteReminder) -> Rendered {
    vote_mail(&m.request, true)
}

fn vote_mail(m: &VoteRequest, reminder: bool) -> Rendered {
    let number = &m.rdm.number;
    let (subject, heading) = if reminder {
        (
            format!("[gmud] Lembrete: {number} aguarda seu voto"),
            format!("Lembrete: {number} aguarda seu voto"),
        )
    } else {
        (
            format!("[gmud] {number} aguarda seu voto: {}", m.rdm.title),
            format!("{number} aguarda seu voto"),
        )
    };
    VoteMail {
        subject,
        heading,
        m,
        reminder,
    }
    .render()
}

pub fn rdm_decided(m: &RdmDecided) -> Rendered {
    let outcome = if m.approved { "aprovada" } else { "rejeitada" };
    let number = &m.rdm.number;
    RdmDecidedMail {
        subject: format!("[gmud] {number} {outcome}"),
        heading: format!("{number} {outcome}"),
        m,
        outcome: format!("{outcome} {}", by(m.decided_by)),
    }
    .render()
}

pub fn carried_over(m: &CarriedOver) -> Rendered {
    let heading = format!("{} adiada para a próxima reunião", m.rdm.number);
    CarriedOverMail {
        subject: format!("[gmud] {heading}"),
        heading,
        m,
    }
    .render()
}

pub fn holiday_meeting(m: &HolidayMeeting) -> Rendered {
    let date = format_local_date(m.meeting_starts_at, m.tz);
    HolidayMeetingMail {
        subject: format!(
            "[gmud] Reunião do comitê em feriado: {date} ({})",
            m.holiday_name
        ),
        heading: format!("Reunião do comitê em feriado: {date}"),
        m,
    }
    .render()
}

pub fn emergency_raised(m: &EmergencyRaised) -> Rendered {
    let heading = format!("RDM emergencial {} aberta", m.rdm.number);
    EmergencyRaisedMail {
        subject: format!("[gmud] {heading}"),
        heading,
        m,
    }
    .render()
}

pub fn flex_requested(m: &FlexRequested) -> Rendered {
    let heading = "Flexibilização da janela de manutenção aguarda aprovação";
    FlexRequestedMail {
        subject: format!("[gmud] {heading}"),
        heading: heading.into(),
        m,
        current_minutes: (m.current_ends_at - m.current_starts_at).num_minutes(),
        new_minutes: (m.new_ends_at - m.new_starts_at).num_minutes(),
    }
    .render()
}

pub fn agenda(m: &Agenda) -> Rendered {
    let heading = format!(
        "Pauta da reunião do comitê de {}",
        format_local_date(m.meeting_starts_at, m.tz)
    );
    AgendaMail {
        subject: format!("[gmud] {heading}"),
        heading,
        m,
        waiting: m.items.iter().filter(|i| !i.voted).count(),
    }
    .render()
}

// ---------------------------------------------------------------------------------------
// Template contexts: what each pair of templates reads besides its input `m`
// ---------------------------------------------------------------------------------------

struct VoteMail<'a> {
    subject: String,
    heading: String,
    m: &'a VoteRequest<'a>,
    reminder: bool,
}
mail_templates!(VoteMail: VoteText = "mail/vote_request.txt", VoteHtml = "mail/vote_request.html");

struct RdmDecidedMail<'a> {
    subject: String,
    heading: String,
    m: &'a RdmDecided<'a>,
    /// "aprovada pelo Comitê de Mudanças", "rejeitada por Paulo Rocha".
    outcome: String,
}
mail_templates!(
    RdmDecidedMail: RdmDecidedText = "mail/rdm_decided.txt",
    RdmDecidedHtml = "mail/rdm_decided.html"
);

struct CarriedOverMail<'a> {
    subject: String,
    heading: String,
    m: &'a CarriedOver<'a>,
}
mail_templates!(
    CarriedOverMail: CarriedOverText = "mail/carried_over.txt",
    CarriedOverHtml = "mail/carried_over.html"
);

struct HolidayMeetingMail<'a> {
    subject: String,
    heading: String,
    m: &'a HolidayMeeting<'a>,
}
mail_templates!(
    HolidayMeetingMail: HolidayMeetingText = "mail/holiday_meeting.txt",
    HolidayMeetingHtml = "mail/holiday_meeting.html"
);

struct EmergencyRaisedMail<'a> {
    subject: String,
    heading: String,
    m: &'a EmergencyRaised<'a>,
}
mail_templates!(
    EmergencyRaisedMail: EmergencyRaisedText = "mail/emergency_raised.txt",
    EmergencyRaisedHtml = "mail/emergency_raised.html"
);

struct FlexRequestedMail<'a> {
    subject: String,
    heading: String,
    m: &'a FlexRequested<'a>,
    current_minutes: i64,
    new_minutes: i64,
}
mail_templates!(
    FlexRequestedMail: FlexRequestedText = "mail/flex_requested.txt",
    FlexRequestedHtml = "mail/flex_requested.html"
);

struct AgendaMail<'a> {
    subject: String,
    heading: String,
    m: &'a Agenda<'a>,
    /// Items the recipient has yet to vote on.
    waiting: usize,
}
mail_templates!(AgendaMail: AgendaText = "mail/agenda.txt", AgendaHtml = "mail/agenda.html");

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
            rdm_type: RdmType::Normal,
            description: "Atualiza o ERP para a versão 12.\nSegunda linha.".into(),
            justification: "Correção de segurança".into(),
            risk: Some(Level::Medium),
            priority: Some(Priority::Critical),
            implementation_plan: Some("Parar o serviço e aplicar o pacote".into()),
            estimated_duration_minutes: Some(150),
            rollback_plan: Some("Restaurar o snapshot".into()),
            estimated_rollback_minutes: Some(45),
            communication_plan: Some("Avisar os clientes por e-mail".into()),
            requester_name: "Ana Lima".into(),
            requester_group: Some("TAF/TSS".into()),
            configuration_items: vec!["erp-prod-01".into(), "db-prod-02".into()],
            revision: 3,
            window: None,
            conflicts: vec![],
        }
    }

    fn minimal_rdm() -> RdmEssentials {
        RdmEssentials {
            number: "RDM-000007".into(),
            title: "Troca de certificado".into(),
            rdm_type: RdmType::Emergency,
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
            window: None,
            conflicts: vec![],
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

    /// Where `needle` starts in `haystack`; fails naming it when absent.
    fn pos(haystack: &str, needle: &str) -> usize {
        haystack
            .find(needle)
            .unwrap_or_else(|| panic!("missing {needle:?} in\n{haystack}"))
    }

    /// Asserts the needles appear in this order.
    fn in_order(haystack: &str, needles: &[&str]) {
        for pair in needles.windows(2) {
            assert!(
                pos(haystack, pair[0]) < pos(haystack, pair[1]),
                "{:?} should come before {:?} in\n{haystack}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn vote_request_puts_the_actions_first_then_what_to_decide() {
        let rdm = full_rdm();
        let m = request(&rdm);
        for (r, asked) in [
            (
                vote_request(&m),
                "A RDM-000042 (Atualizar o ERP) aguarda seu voto",
            ),
            (
                vote_reminder(&VoteReminder {
                    request: request(&rdm),
                }),
                "Lembrete: a RDM-000042 (Atualizar o ERP) ainda aguarda seu voto",
            ),
        ] {
            // Greeting, one sentence, the two links, then the essentials for deciding fast,
            // then the rest.
            assert!(
                r.text.starts_with(&format!("Olá, Carla,\n\n{asked}: ")),
                "{}",
                r.text
            );
            in_order(
                &r.text,
                &[
                    asked,
                    "Aprovar a RDM-000042:\nhttps://gmud.example/api/v1/votes/confirm?t=AAA&d=approve\n",
                    "Rejeitar a RDM-000042:\nhttps://gmud.example/api/v1/votes/confirm?t=BBB&d=reject\n",
                    "Para decidir\n------------\n\nRisco: médio\n\
                     Janela: a definir após a aprovação\n\
                     Duração: 2 h 30 min (rollback: 45 min)\n\
                     Conflitos: nenhum\n",
                    "Reunião: 24/11/2026 14:00 (America/Sao_Paulo)",
                    "Dados da RDM",
                    "Descrição:",
                    "Plano de implantação:",
                    "Plano de rollback:",
                    "Plano de comunicação:",
                ],
            );
            // Nothing but the sentence stands between the greeting and the links.
            let before_links = &r.text[..pos(&r.text, "Aprovar a RDM-000042:")];
            assert_eq!(before_links.lines().filter(|l| !l.is_empty()).count(), 2);
            in_order(
                &r.html,
                &[
                    "<p>Olá, Carla,</p>",
                    "aguarda seu voto: você é votante obrigatório nesta RDM.</p>",
                    "<a href=\"https://gmud.example/api/v1/votes/confirm?t=AAA&amp;d=approve\"",
                    "<a href=\"https://gmud.example/api/v1/votes/confirm?t=BBB&amp;d=reject\"",
                    ">Para decidir</h2>",
                    ">Risco</dt>",
                    ">Janela</dt>\n<dd style=\"margin:0;\">a definir após a aprovação</dd>",
                    ">Duração</dt>\n<dd style=\"margin:0;\">2 h 30 min (rollback: 45 min)</dd>",
                    ">Conflitos</dt>\n<dd style=\"margin:0;\">nenhum</dd>",
                    ">Dados da RDM</h2>",
                    ">Descrição</dt>",
                    ">Plano de implantação</dt>",
                ],
            );
        }
        // Unknown figures say so.
        let min = minimal_rdm();
        let r = vote_request(&request(&min));
        assert!(r.text.contains("Risco: não classificado\n"), "{}", r.text);
        assert!(r
            .text
            .contains("Duração: não informada (rollback: não informado)\n"));
    }

    #[test]
    fn vote_request_shows_the_booked_window_and_the_conflicts() {
        let mut rdm = full_rdm();
        rdm.window = Some((at(2026, 12, 3, 3, 0), at(2026, 12, 3, 9, 0)));
        rdm.conflicts = vec![
            ConflictingRdm {
                number: "RDM-000050".into(),
                title: "Migrar o banco".into(),
                shared_items: vec!["db-prod-02".into()],
            },
            ConflictingRdm {
                number: "RDM-000051".into(),
                title: "Trocar\nservidores".into(),
                shared_items: vec!["db-prod-02".into(), "erp-prod-01".into()],
            },
        ];
        let r = vote_request(&request(&rdm));
        assert!(
            r.text.contains(
                "Janela: 03/12/2026 00:00–06:00 (America/Sao_Paulo)\n\
                 Duração: 2 h 30 min (rollback: 45 min)\n\
                 Conflitos:\n  \
                 - RDM-000050 — Migrar o banco (em comum: db-prod-02)\n  \
                 - RDM-000051 — Trocar servidores (em comum: db-prod-02, erp-prod-01)\n\n"
            ),
            "{}",
            r.text
        );
        assert!(!r.text.contains("a definir após a aprovação"));
        assert!(r.html.contains(
            ">Janela</dt>\n<dd style=\"margin:0;\">03/12/2026 00:00–06:00 (America/Sao_Paulo)</dd>"
        ));
        assert!(
            r.html.contains(
                "<li><strong>RDM-000050</strong> — Migrar o banco (em comum: db-prod-02)</li>\
             <li><strong>RDM-000051</strong> — Trocar servidores (em comum: db-prod-02, \
             erp-prod-01)</li>"
            ),
            "{}",
            r.html
        );
        assert!(!r.html.contains(">nenhum<"));
    }

    /// Every mail, with hostile text and URLs wherever a value goes.
    fn every_mail_about(rdm: &RdmEssentials) -> Vec<(&'static str, Rendered)> {
        let mut vote = request(rdm);
        vote.approve_url = EVIL_URL;
        vote.reject_url = EVIL_URL;
        vote.committee_name = EVIL;
        vote.on_behalf_of = Some(EVIL);
        vote.to_name = EVIL;
        let mut reminder = request(rdm);
        reminder.approve_url = EVIL_URL;
        reminder.reject_url = EVIL_URL;
        vec![
            ("vote_request", vote_request(&vote)),
            (
                "vote_reminder",
                vote_reminder(&VoteReminder { request: reminder }),
            ),
            (
                "rdm_approved",
                rdm_decided(&RdmDecided {
                    to_name: EVIL,
                    rdm,
                    approved: true,
                    decided_by: EVIL,
                    reason: Some(EVIL),
                }),
            ),
            (
                "rdm_rejected",
                rdm_decided(&RdmDecided {
                    to_name: EVIL,
                    rdm,
                    approved: false,
                    decided_by: EVIL,
                    reason: Some(EVIL),
                }),
            ),
            (
                "carried_over",
                carried_over(&CarriedOver {
                    to_name: EVIL,
                    rdm,
                    from_meeting_starts_at: at(2026, 11, 24, 17, 0),
                    to_meeting_starts_at: at(2026, 12, 1, 17, 0),
                    pending_votes: 1,
                    tz: Sao_Paulo,
                }),
            ),
            (
                "holiday_meeting",
                holiday_meeting(&HolidayMeeting {
                    to_name: EVIL,
                    committee_name: EVIL,
                    meeting_id: 42,
                    meeting_starts_at: at(2026, 11, 3, 17, 0),
                    holiday_name: EVIL,
                    reschedule_url: EVIL_URL,
                    tz: Sao_Paulo,
                }),
            ),
            (
                "emergency_raised",
                emergency_raised(&EmergencyRaised {
                    to_name: EVIL,
                    rdm,
                    raised_by: EVIL,
                    rdm_url: EVIL_URL,
                }),
            ),
            (
                "flex_requested",
                flex_requested(&FlexRequested {
                    to_name: EVIL,
                    window_id: 5,
                    flex_id: 9,
                    current_starts_at: at(2026, 12, 3, 3, 0),
                    current_ends_at: at(2026, 12, 3, 9, 0),
                    new_starts_at: at(2026, 12, 3, 1, 0),
                    new_ends_at: at(2026, 12, 3, 11, 30),
                    reason: EVIL,
                    requested_by: EVIL,
                    approve_url: EVIL_URL,
                    tz: Sao_Paulo,
                }),
            ),
            (
                "agenda",
                agenda(&Agenda {
                    to_name: EVIL,
                    committee_name: EVIL,
                    meeting_starts_at: at(2026, 11, 24, 17, 0),
                    meeting_ends_at: at(2026, 11, 24, 19, 0),
                    items: vec![AgendaItem { rdm, voted: false }],
                    tz: Sao_Paulo,
                }),
            ),
        ]
    }

    #[test]
    fn every_html_mail_escapes_hostile_text_and_urls_and_no_text_part_does() {
        let mut rdm = full_rdm();
        for text in [
            &mut rdm.title,
            &mut rdm.description,
            &mut rdm.requester_name,
        ] {
            *text = EVIL.into();
        }
        // Type, risk and priority are enums: no text reaches them.
        rdm.implementation_plan = Some(EVIL.into());
        rdm.configuration_items.push(EVIL.into());
        rdm.conflicts = vec![ConflictingRdm {
            number: "RDM-000050".into(),
            title: EVIL.into(),
            shared_items: vec![EVIL.into()],
        }];
        let escaped_url = "https://gmud.example/v?t=a&quot;b&amp;c=&#39;d&#39;";
        for (name, r) in every_mail_about(&rdm) {
            assert!(!r.html.contains("<script"), "{name}: {}", r.html);
            assert!(!r.html.contains(EVIL_URL), "{name}");
            assert!(
                r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{name}: {}",
                r.html
            );
            // Plain text is not HTML: what was typed reads as typed.
            assert!(r.text.contains(EVIL), "{name}: {}", r.text);
            assert!(
                !r.text.contains("&lt;") && !r.text.contains("&amp;"),
                "{name}"
            );
            let links = match name {
                "vote_request" | "vote_reminder" | "emergency_raised" => true,
                "holiday_meeting" | "flex_requested" => {
                    // Endpoints are shown, not linked.
                    assert!(
                        r.html.contains(&format!("POST {escaped_url}</code>")),
                        "{name}"
                    );
                    assert!(lines(&r.text).contains(&EVIL_URL), "{name}: {}", r.text);
                    false
                }
                _ => false,
            };
            if links {
                assert!(
                    r.html.contains(&format!("href=\"{escaped_url}\"")),
                    "{name}"
                );
                assert!(lines(&r.text).contains(&EVIL_URL), "{name}: {}", r.text);
            }
        }
    }
}
