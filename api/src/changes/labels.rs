//! How change management's values read in pt-BR, for every message and page.
use domain::approval::VoteDecision;
use domain::rdm::RdmState;

/// An RDM's human reference, e.g. `RDM-000042`.
pub fn number(id: i64) -> String {
    format!("RDM-{id:06}")
}

pub fn state_label(s: RdmState) -> &'static str {
    match s {
        RdmState::Draft => "rascunho",
        RdmState::Submitted => "submetida",
        RdmState::Assessment => "em avaliação",
        RdmState::PoApproved => "aprovada pelo product owner",
        RdmState::AwaitingCommittee => "aguardando o comitê",
        RdmState::Approved => "aprovada",
        RdmState::Scheduled => "agendada",
        RdmState::InExecution => "em execução",
        RdmState::Implemented => "implementada",
        RdmState::Failed => "falhou",
        RdmState::RolledBack => "revertida (rollback)",
        RdmState::Closed => "encerrada",
        RdmState::Rejected => "rejeitada",
        RdmState::Cancelled => "cancelada",
    }
}

pub fn type_label(t: &str) -> &str {
    match t {
        "normal" => "normal",
        "emergency" => "emergencial",
        "standard" => "padrão",
        other => other,
    }
}

pub fn risk_label(r: Option<&str>) -> &str {
    match r.map(str::trim) {
        None | Some("") => "não classificado",
        Some("low") => "baixo",
        Some("medium") => "médio",
        Some("high") => "alto",
        Some(other) => other,
    }
}

pub fn priority_label(p: Option<&str>) -> &str {
    match p.map(str::trim) {
        None | Some("") => "não definida",
        Some("low") => "baixa",
        Some("medium") => "média",
        Some("high") => "alta",
        Some("critical") => "crítica",
        Some(other) => other,
    }
}

/// The verb of a decision, capitalised: "Aprovar", "Rejeitar".
pub fn decision_verb(d: VoteDecision) -> &'static str {
    match d {
        VoteDecision::Approve => "Aprovar",
        VoteDecision::Reject => "Rejeitar",
    }
}
