//! How change management's values read in pt-BR, for every message and page.
use domain::approval::VoteDecision;
use domain::rdm::{Level, Priority, RdmState, RdmType};

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

pub fn type_label(t: RdmType) -> &'static str {
    match t {
        RdmType::Normal => "normal",
        RdmType::Emergency => "emergencial",
        RdmType::Standard => "padrão",
    }
}

pub fn risk_label(r: Option<Level>) -> &'static str {
    match r {
        None => "não classificado",
        Some(Level::Low) => "baixo",
        Some(Level::Medium) => "médio",
        Some(Level::High) => "alto",
    }
}

pub fn priority_label(p: Option<Priority>) -> &'static str {
    match p {
        None => "não definida",
        Some(Priority::Low) => "baixa",
        Some(Priority::Medium) => "média",
        Some(Priority::High) => "alta",
        Some(Priority::Critical) => "crítica",
    }
}

/// The verb of a decision, capitalised: "Aprovar", "Rejeitar".
pub fn decision_verb(d: VoteDecision) -> &'static str {
    match d {
        VoteDecision::Approve => "Aprovar",
        VoteDecision::Reject => "Rejeitar",
    }
}
