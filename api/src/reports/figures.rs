//! The review's figures from what `read` returned: each with its value, its formula in words,
//! numerator and denominator, and where to drill down. The arithmetic is `domain::review`'s.
use super::{canonical_query, Changes, Named, Raw, Scope, Sums, TopProblem};
use chrono::NaiveDate;
use domain::review::{mean_hours, rate, round, Period};
use serde::Serialize;
use utoipa::ToSchema;

/// One figure of the review.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figure {
    /// Stable key (`opened`, `resolution_sla`, `change_failure_rate`…): the CSV row and the
    /// drill-down's `figure`.
    pub key: String,
    /// What it is, in Portuguese.
    pub label: String,
    /// `count`, `ratio` (0–1) or `hours`. Null when there is nothing to compute it from (a
    /// rate with no denominator).
    pub value: Option<f64>,
    pub unit: &'static str,
    /// How it is computed, in words.
    pub formula: String,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// The records behind it (paginated), with the same period and filters.
    pub drill_down: Option<String>,
}

/// The incident figures of one service or one organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Group {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub figures: Vec<Figure>,
}

/// One of the trend's weeks (seven days ending on `to`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrendWeek {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opened: i64,
    pub resolved: i64,
    /// Mean time to resolve of the week's resolutions, business hours.
    pub mttr_business_hours: Option<f64>,
    /// The same in wall-clock hours.
    pub mttr_wall_hours: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days and weeks are São Paulo's.
    pub time_zone: &'static str,
}

/// The weekly operations review.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Review {
    pub period: ReviewPeriod,
    pub scope: Scope,
    /// Incident, SLA, escalation, problem, knowledge-base and change figures of the scope.
    pub figures: Vec<Figure>,
    /// The incident figures per service (support item).
    pub by_item: Vec<Group>,
    /// The incident figures per organisation.
    pub by_organization: Vec<Group>,
    pub top_problems: Vec<TopProblem>,
    /// Opened, resolved and MTTR per week, the 8 weeks ending on the period's last day.
    pub trend: Vec<TrendWeek>,
    /// The CSV of this review (bearer token).
    pub csv_url: String,
    /// The HTML page with charts: a signed link, valid for a short while, that a browser can
    /// open without a token (set by the HTTP layer).
    pub html_url: Option<String>,
}

struct Ctx<'a> {
    query: &'a str,
}

impl Ctx<'_> {
    fn drill(&self, key: &str) -> Option<String> {
        Some(format!(
            "/api/v1/reports/ops-review/drill-down?figure={key}&{}",
            self.query
        ))
    }
    fn count(&self, key: &str, label: &str, n: i64, formula: &str) -> Figure {
        Figure {
            key: key.into(),
            label: label.into(),
            value: Some(n as f64),
            unit: "count",
            formula: formula.into(),
            numerator: Some(n),
            denominator: None,
            drill_down: self.drill(key),
        }
    }
    fn ratio(&self, key: &str, label: &str, num: i64, den: i64, formula: &str) -> Figure {
        Figure {
            key: key.into(),
            label: label.into(),
            value: rate(num, den).map(|v| round(v, 4)),
            unit: "ratio",
            formula: formula.into(),
            numerator: Some(num),
            denominator: Some(den),
            drill_down: self.drill(key),
        }
    }
    fn hours(&self, key: &str, label: &str, total_s: i64, n: i64, formula: &str) -> Figure {
        Figure {
            key: key.into(),
            label: label.into(),
            value: mean_hours(total_s, n).map(|v| round(v, 2)),
            unit: "hours",
            formula: formula.into(),
            // Seconds over items: the mean is numerator / denominator / 3600.
            numerator: Some(total_s),
            denominator: Some(n),
            drill_down: self.drill(key),
        }
    }
}

/// The incident figures of one group of the rollup.
fn incident_figures(c: &Ctx, s: &Sums) -> Vec<Figure> {
    vec![
        c.count("opened", "Incidentes abertos", s.opened, "incidents opened in the period"),
        c.count("resolved", "Incidentes resolvidos", s.resolved,
            "incidents resolved or closed whose latest resolution is in the period"),
        c.count("closed", "Incidentes encerrados", s.closed, "incidents closed in the period"),
        c.count("cancelled", "Incidentes cancelados", s.cancelled, "incidents cancelled in the period"),
        c.count("backlog", "Backlog no fim do período", s.backlog,
            "incidents opened by the end of the period and not yet resolved or cancelled at its end"),
        c.ratio("response_sla", "SLA de primeira resposta atendido", s.response_met,
            s.response_met + s.response_breached,
            "first-response clocks met / first-response clocks ended or breached in the period (a breached clock counts on its breach day)"),
        c.ratio("resolution_sla", "SLA de resolução atendido", s.resolution_met,
            s.resolution_met + s.resolution_breached,
            "resolution clocks met / resolution clocks ended or breached in the period (a breached clock counts on its breach day)"),
        c.hours("mtta_business_hours", "MTTA (horas úteis)", s.response_business_s, s.responded,
            "sum of business time from opening to first response (the first-response clock, in the ticket's calendar) / first responses in the period, in hours"),
        c.hours("mtta_wall_hours", "MTTA (horas corridas)", s.response_wall_s, s.responded,
            "sum of wall-clock time from opening to first response / first responses in the period, in hours"),
        c.hours("mttr_business_hours", "MTTR (horas úteis)", s.resolution_business_s, s.resolved,
            "sum of business time from opening to resolution (the resolution clock: pending time excluded, in the ticket's calendar) / incidents resolved in the period, in hours"),
        c.hours("mttr_wall_hours", "MTTR (horas corridas)", s.resolution_wall_s, s.resolved,
            "sum of wall-clock time from opening to resolution / incidents resolved in the period, in hours"),
        c.ratio("reopen_rate", "Taxa de reabertura", s.resolved_reopened, s.resolved,
            "incidents resolved in the period that had been reopened before / incidents resolved in the period"),
    ]
}

fn change_figures(c: &Ctx, ch: &Changes) -> Vec<Figure> {
    const ALL: &str = " (every change: the service and organisation filters do not apply)";
    vec![
        c.count("changes_executed", "Mudanças executadas", ch.executed,
            &format!("RDMs whose execution ended in the period, implemented or failed{ALL}")),
        c.count("changes_failed", "Mudanças com falha", ch.failed,
            &format!("RDMs that failed in the period{ALL}")),
        c.count("changes_rolled_back", "Mudanças revertidas", ch.rolled_back,
            &format!("RDMs rolled back in the period{ALL}")),
        c.ratio("emergency_share", "Participação de mudanças emergenciais", ch.emergency, ch.executed,
            &format!("emergency RDMs executed / RDMs executed in the period{ALL}")),
        c.ratio("change_success_rate", "Taxa de sucesso de mudanças", ch.implemented, ch.executed,
            &format!("RDMs implemented / RDMs executed in the period{ALL}")),
        c.ratio("change_failure_rate", "Taxa de falha de mudanças (incidentes causados)", ch.causing, ch.executed,
            &format!("RDMs executed in the period with at least one incident linked as caused_by / RDMs executed in the period{ALL}")),
        c.count("incidents_caused_by_changes", "Incidentes causados por mudanças", ch.caused_incidents,
            &format!("incidents linked as caused_by to an RDM executed in the period{ALL}")),
    ]
}

fn name_of(names: &[Named], id: i64) -> (String, String) {
    names
        .iter()
        .find(|n| n.id == id)
        .map(|n| (n.code.clone(), n.name.clone()))
        .unwrap_or_default()
}

pub fn build(p: &Period, scope: &Scope, raw: &Raw) -> Review {
    let query = canonical_query(p, scope);
    let c = Ctx { query: &query };
    let total = raw
        .groups
        .iter()
        .find(|g| g.g_item == 1 && g.g_org == 1)
        .cloned()
        .unwrap_or_default();
    let mut figures = incident_figures(&c, &total);
    let escalations: i64 = raw.escalations.iter().map(|l| l.n).sum();
    figures.push(c.count(
        "escalations",
        "Escalonamentos",
        escalations,
        "escalations of incidents in the period (every level reached counts once)",
    ));
    for l in &raw.escalations {
        figures.push(c.count(
            &format!("escalations_level_{}", l.level),
            &format!("Escalonamentos ao nível {}", l.level),
            l.n,
            &format!(
                "escalations of incidents to level {} in the period",
                l.level
            ),
        ));
    }
    figures.push(c.count(
        "problem_linked_incidents",
        "Incidentes vinculados a problemas",
        raw.linked.a,
        "incidents linked to a problem in the period",
    ));
    figures.push(Figure {
        drill_down: None,
        ..c.count(
            "problems_with_incidents",
            "Problemas com incidentes vinculados",
            raw.linked.b,
            "problems with at least one incident linked in the period",
        )
    });
    figures.push(c.count(
        "kb_used",
        "Incidentes com artigo da base usado",
        raw.kb.a,
        "tickets on which a knowledge-base article was used in the period",
    ));
    figures.push(c.ratio("kb_solved", "Resolvidos pela base de conhecimento", raw.kb.b, raw.kb.a,
        "tickets an article used in the period solved / tickets on which an article was used in the period"));
    figures.extend(change_figures(&c, &raw.changes));

    let group = |g: &Sums, id: i64, names: &[Named], key: &str| {
        let (code, name) = name_of(names, id);
        // The group's drill-downs name it as a filter too.
        let scoped = canonical_query(
            p,
            &Scope {
                item_id: if key == "item_id" {
                    Some(id)
                } else {
                    scope.item_id
                },
                organization_id: if key == "organization_id" {
                    Some(id)
                } else {
                    scope.organization_id
                },
            },
        );
        Group {
            id,
            code,
            name,
            figures: incident_figures(&Ctx { query: &scoped }, g),
        }
    };
    let by_item = raw
        .groups
        .iter()
        .filter(|g| g.g_item == 0)
        .filter_map(|g| g.item_id.map(|id| group(g, id, &raw.items, "item_id")))
        .collect();
    let by_organization = raw
        .groups
        .iter()
        .filter(|g| g.g_org == 0)
        .filter_map(|g| {
            g.organization_id
                .map(|id| group(g, id, &raw.organizations, "organization_id"))
        })
        .collect();
    let trend = p
        .trailing_weeks(8)
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let ago = 7 - i as i32;
            let row = raw.weeks.iter().find(|r| r.ago == ago);
            let (opened, resolved, rb, rw) = row
                .map(|r| {
                    (
                        r.opened,
                        r.resolved,
                        r.resolution_business_s,
                        r.resolution_wall_s,
                    )
                })
                .unwrap_or_default();
            TrendWeek {
                from: w.from,
                to: w.to,
                opened,
                resolved,
                mttr_business_hours: mean_hours(rb, resolved).map(|v| round(v, 2)),
                mttr_wall_hours: mean_hours(rw, resolved).map(|v| round(v, 2)),
            }
        })
        .collect();
    Review {
        period: ReviewPeriod {
            from: p.from,
            to: p.to,
            time_zone: "America/Sao_Paulo",
        },
        scope: *scope,
        figures,
        by_item,
        by_organization,
        top_problems: raw.top_problems.clone(),
        trend,
        csv_url: format!("/api/v1/reports/ops-review.csv?{query}"),
        html_url: None,
    }
}

/// The review as CSV: one figure per row, with its formula (the breakdowns follow, scoped).
pub fn csv(r: &Review) -> String {
    fn cell(s: &str) -> String {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    fn num(v: Option<i64>) -> String {
        v.map(|n| n.to_string()).unwrap_or_default()
    }
    let mut out = String::from(
        "from,to,group,group_id,figure,label,value,unit,numerator,denominator,formula\n",
    );
    let mut row = |group: &str, id: Option<i64>, f: &Figure| {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            r.period.from,
            r.period.to,
            group,
            num(id),
            cell(&f.key),
            cell(&f.label),
            f.value.map(|v| v.to_string()).unwrap_or_default(),
            f.unit,
            num(f.numerator),
            num(f.denominator),
            cell(&f.formula)
        ));
    };
    for f in &r.figures {
        row("all", None, f);
    }
    for g in &r.by_item {
        for f in &g.figures {
            row("item", Some(g.id), f);
        }
    }
    for g in &r.by_organization {
        for f in &g.figures {
            row("organization", Some(g.id), f);
        }
    }
    out
}
