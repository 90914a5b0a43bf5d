//! `/reports/ops-review`: the weekly operations review as a pt-BR HTML page with charts drawn
//! on the server (plotters, inline SVG, no script), printable. A browser sends no bearer
//! token: the page opens with the short-lived signed link that the JSON endpoint's caller
//! got (`html_url`, `handlers::reports::page_link`), and checks the account's roles again.
use super::handlers::reports::{period_and_scope, ReviewQuery};
use crate::app::AppState;
use crate::http::extract::parse_query;
use crate::platform::links::ReportLinkBinding;
use crate::reports::figures::{Figure, Review};
use crate::reports::{self, canonical_query, READERS};
use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::sql_types::{Array, BigInt, Bool, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use plotters::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

#[derive(OpenApi)]
#[openapi(
    paths(ops_review_page),
    tags((name = "report pages", description = "The operations review as an HTML page with charts (pt-BR, no bearer token: the signed `html_url` of `GET /api/v1/reports/ops-review` is the credential, valid 15 minutes)."))
)]
pub struct Doc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(ops_review_page);
}

/// The page's query: the review's, and the link's signature.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    #[param(value_type = Option<i64>)]
    pub item_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub organization_id: Option<String>,
    /// Who the link was made for.
    #[param(value_type = Option<i64>)]
    pub user: Option<String>,
    /// Unix seconds: the link is refused after.
    #[param(value_type = Option<i64>)]
    pub expires: Option<String>,
    /// The signature (HMAC over user, expiry and the review's query).
    pub sig: Option<String>,
}

#[derive(QueryableByName)]
struct Account {
    #[diesel(sql_type = Bool)]
    active: bool,
    #[diesel(sql_type = Array<Text>)]
    roles: Vec<String>,
}

struct Chart {
    id: &'static str,
    caption: String,
    svg: String,
    /// What the template prints where the chart goes (see [`page`]).
    slot: String,
}

struct Row {
    label: String,
    value: String,
    numerator: String,
    denominator: String,
    formula: String,
}

struct GroupRow {
    name: String,
    values: Vec<String>,
}

struct Breakdown {
    title: &'static str,
    column: &'static str,
    groups: Vec<GroupRow>,
}

#[derive(Template)]
#[template(path = "report/ops_review.html", config = "templates/askama.toml")]
struct PageTpl<'a> {
    period: String,
    scope: String,
    charts: Vec<Chart>,
    rows: Vec<Row>,
    problems: &'a [crate::reports::TopProblem],
    breakdowns: Vec<Breakdown>,
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(body)
}

fn refused() -> HttpResponse {
    html(
        StatusCode::FORBIDDEN,
        "<!DOCTYPE html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\"><title>Link inválido</title></head>\
         <body><h1>Link inválido ou expirado</h1><p>Este link da revisão de operações não é válido ou já \
         expirou. Gere um novo pela API (<code>GET /api/v1/reports/ops-review</code>, campo \
         <code>html_url</code>).</p></body></html>"
            .into(),
    )
}

/// `1234,5` — pt-BR decimals.
fn br(v: f64, places: usize) -> String {
    format!("{v:.places$}").replace('.', ",")
}

fn shown(f: &Figure) -> String {
    match (f.value, f.unit) {
        (None, _) => "—".into(),
        (Some(v), "ratio") => format!("{} %", br(v * 100.0, 1)),
        (Some(v), "hours") => format!("{} h", br(v, 2)),
        (Some(v), _) => format!("{v:.0}"),
    }
}

/// A figure's formula as the page shows it (the API and the CSV give it in English).
fn formula_pt(f: &Figure) -> String {
    const ALL: &str = " (todas as mudanças: os filtros de serviço e organização não se aplicam)";
    let s = match f.key.as_str() {
        "opened" => "incidentes abertos no período",
        "resolved" => "incidentes resolvidos ou encerrados cuja última resolução caiu no período",
        "closed" => "incidentes encerrados no período",
        "cancelled" => "incidentes cancelados no período",
        "backlog" => "incidentes abertos até o fim do período e ainda não resolvidos nem cancelados nesse instante",
        "response_sla" => "relógios de primeira resposta atendidos / relógios de primeira resposta encerrados ou violados no período (um relógio violado conta no dia da violação)",
        "resolution_sla" => "relógios de resolução atendidos / relógios de resolução encerrados ou violados no período (um relógio violado conta no dia da violação)",
        "mtta_business_hours" => "soma do tempo útil da abertura à primeira resposta (o relógio de primeira resposta, no calendário do chamado) / primeiras respostas no período, em horas",
        "mtta_wall_hours" => "soma do tempo corrido da abertura à primeira resposta / primeiras respostas no período, em horas",
        "mttr_business_hours" => "soma do tempo útil da abertura à resolução (o relógio de resolução: sem o tempo pendente, no calendário do chamado) / incidentes resolvidos no período, em horas",
        "mttr_wall_hours" => "soma do tempo corrido da abertura à resolução / incidentes resolvidos no período, em horas",
        "reopen_rate" => "incidentes resolvidos no período que haviam sido reabertos / incidentes resolvidos no período",
        "escalations" => "escalonamentos de incidentes no período (cada nível alcançado conta uma vez)",
        "problem_linked_incidents" => "incidentes vinculados a um problema no período",
        "problems_with_incidents" => "problemas com ao menos um incidente vinculado no período",
        "kb_used" => "chamados em que um artigo da base de conhecimento foi usado no período",
        "kb_solved" => "chamados resolvidos pelo artigo usado no período / chamados em que um artigo foi usado no período",
        "changes_executed" => return format!("RDMs cuja execução terminou no período, implementadas ou com falha{ALL}"),
        "changes_failed" => return format!("RDMs com falha no período{ALL}"),
        "changes_rolled_back" => return format!("RDMs revertidas no período{ALL}"),
        "emergency_share" => return format!("RDMs emergenciais executadas / RDMs executadas no período{ALL}"),
        "change_success_rate" => return format!("RDMs implementadas / RDMs executadas no período{ALL}"),
        "change_failure_rate" => return format!("RDMs executadas no período com ao menos um incidente vinculado como causado por ela (caused_by) / RDMs executadas no período{ALL}"),
        "incidents_caused_by_changes" => return format!("incidentes vinculados como causados (caused_by) por uma RDM executada no período{ALL}"),
        k => match k.strip_prefix("escalations_level_") {
            Some(level) => return format!("escalonamentos de incidentes ao nível {level} no período"),
            None => return f.formula.clone(),
        },
    };
    s.to_string()
}

fn value_of(figures: &[Figure], key: &str) -> Option<f64> {
    figures.iter().find(|f| f.key == key).and_then(|f| f.value)
}

/// dd/mm of a day.
fn dm(d: chrono::NaiveDate) -> String {
    d.format("%d/%m").to_string()
}

type Plot = Result<(), Box<dyn std::error::Error>>;

fn draw(
    width: u32,
    height: u32,
    f: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Plot,
) -> String {
    let mut svg = String::new();
    let ok = {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string().into())
            .and_then(|_| f(&root))
            .and_then(|_| root.present().map_err(|e| e.to_string().into()))
    };
    match ok {
        Ok(()) => svg,
        Err(e) => {
            tracing::warn!(error = %e, "a chart could not be drawn");
            format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"40\"><text x=\"10\" y=\"25\">gráfico indisponível</text></svg>")
        }
    }
}

fn lines(
    title: &str,
    y_desc: &str,
    labels: &[String],
    series: &[(&str, RGBColor, Vec<Option<f64>>)],
) -> String {
    draw(640, 320, |root| {
        let max = series
            .iter()
            .flat_map(|s| s.2.iter().flatten())
            .fold(0f64, |a, b| a.max(*b))
            .max(1.0);
        let n = labels.len().max(2);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0usize..n - 1, 0f64..max * 1.15)?;
        chart
            .configure_mesh()
            .x_labels(n)
            .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
            .y_desc(y_desc)
            .draw()?;
        for (name, color, values) in series {
            let c = *color;
            let points: Vec<(usize, f64)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, c.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

fn bars(
    title: &str,
    y_desc: &str,
    y_max: f64,
    labels: &[String],
    series: &[(&str, RGBColor, Vec<f64>)],
) -> String {
    draw(640, 320, |root| {
        let n = labels.len().max(1);
        let k = series.len().max(1) as f64;
        let top = series
            .iter()
            .flat_map(|s| s.2.iter())
            .fold(y_max, |a, b| a.max(*b))
            .max(1.0);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..top * 1.1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n + 1)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc(y_desc)
            .draw()?;
        let w = 0.8 / k;
        for (j, (name, color, values)) in series.iter().enumerate() {
            let c = *color;
            chart
                .draw_series(values.iter().enumerate().map(|(i, v)| {
                    let x0 = i as f64 - 0.4 + j as f64 * w;
                    Rectangle::new([(x0, 0.0), (x0 + w * 0.9, *v)], c.filled())
                }))?
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

const BLUE_: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN_: RGBColor = RGBColor(44, 160, 44);
const RED_: RGBColor = RGBColor(214, 39, 40);
const GREY: RGBColor = RGBColor(127, 127, 127);

fn charts(r: &Review) -> Vec<Chart> {
    let weeks: Vec<String> = r.trend.iter().map(|w| dm(w.from)).collect();
    let opened = lines(
        "Abertos x resolvidos por semana",
        "incidentes",
        &weeks,
        &[
            (
                "Abertos",
                BLUE_,
                r.trend.iter().map(|w| Some(w.opened as f64)).collect(),
            ),
            (
                "Resolvidos",
                GREEN_,
                r.trend.iter().map(|w| Some(w.resolved as f64)).collect(),
            ),
        ],
    );
    let mttr = lines(
        "MTTR por semana",
        "horas",
        &weeks,
        &[
            (
                "Horas úteis",
                ORANGE,
                r.trend.iter().map(|w| w.mttr_business_hours).collect(),
            ),
            (
                "Horas corridas",
                GREY,
                r.trend.iter().map(|w| w.mttr_wall_hours).collect(),
            ),
        ],
    );
    let items: Vec<String> = r
        .by_item
        .iter()
        .map(|g| {
            if g.code.is_empty() {
                g.id.to_string()
            } else {
                g.code.clone()
            }
        })
        .collect();
    let pct = |key: &str| -> Vec<f64> {
        r.by_item
            .iter()
            .map(|g| value_of(&g.figures, key).unwrap_or(0.0) * 100.0)
            .collect()
    };
    let sla = bars(
        "SLA atendido por serviço",
        "%",
        100.0,
        &items,
        &[
            ("1ª resposta", BLUE_, pct("response_sla")),
            ("Resolução", GREEN_, pct("resolution_sla")),
        ],
    );
    let count = |key: &str| value_of(&r.figures, key).unwrap_or(0.0);
    let executed = count("changes_executed");
    let failed = count("changes_failed");
    let changes = bars(
        "Resultado das mudanças",
        "RDMs",
        1.0,
        &[
            "Executadas".into(),
            "Implementadas".into(),
            "Com falha".into(),
            "Revertidas".into(),
        ],
        &[(
            "RDMs no período",
            RED_,
            vec![
                executed,
                executed - failed,
                failed,
                count("changes_rolled_back"),
            ],
        )],
    );
    vec![
        Chart { id: "grafico-abertos-resolvidos", caption: "Incidentes abertos e resolvidos nas 8 semanas até o fim do período (semanas indicadas pelo primeiro dia).".into(), svg: opened, slot: String::new() },
        Chart { id: "grafico-sla-servico", caption: "Parcela dos relógios de SLA atendidos no período, por serviço.".into(), svg: sla, slot: String::new() },
        Chart { id: "grafico-mttr", caption: "Tempo médio de resolução por semana, em horas úteis do calendário de cada chamado e em horas corridas.".into(), svg: mttr, slot: String::new() },
        Chart { id: "grafico-mudancas", caption: "Mudanças executadas no período: implementadas, com falha e revertidas.".into(), svg: changes, slot: String::new() },
    ]
}

fn page(r: &Review) -> String {
    let rows = r
        .figures
        .iter()
        .map(|f| Row {
            label: f.label.clone(),
            value: shown(f),
            numerator: f.numerator.map(|n| n.to_string()).unwrap_or_default(),
            denominator: f.denominator.map(|n| n.to_string()).unwrap_or_default(),
            formula: formula_pt(f),
        })
        .collect();
    let group_rows = |groups: &[crate::reports::figures::Group]| {
        groups
            .iter()
            .map(|g| {
                let by = |k: &str| {
                    g.figures
                        .iter()
                        .find(|f| f.key == k)
                        .map(shown)
                        .unwrap_or_default()
                };
                GroupRow {
                    name: if g.name.is_empty() {
                        g.id.to_string()
                    } else {
                        format!("{} ({})", g.name, g.code)
                    },
                    values: [
                        "opened",
                        "resolved",
                        "backlog",
                        "response_sla",
                        "resolution_sla",
                        "mttr_business_hours",
                        "reopen_rate",
                    ]
                    .iter()
                    .map(|k| by(k))
                    .collect(),
                }
            })
            .collect()
    };
    let mut scope = Vec::new();
    if let Some(i) = r.scope.item_id {
        scope.push(format!("serviço {i}"));
    }
    if let Some(o) = r.scope.organization_id {
        scope.push(format!("organização {o}"));
    }
    // The charts are plotters' SVG (it escapes the text it draws: labels, captions, legends).
    // The template never opts out of escaping (notify::format's test): it prints a slot, an
    // unguessable token per render that escaping leaves as it is, and the finished page gets
    // each chart in its slot.
    let nonce: u128 = rand::random();
    let mut charts = charts(r);
    for (i, c) in charts.iter_mut().enumerate() {
        c.slot = format!("chart{nonce:032x}n{i}");
    }
    let svgs: Vec<(String, String)> = charts
        .iter_mut()
        .map(|c| (c.slot.clone(), std::mem::take(&mut c.svg)))
        .collect();
    let html = PageTpl {
        period: format!(
            "{} a {}",
            r.period.from.format("%d/%m/%Y"),
            r.period.to.format("%d/%m/%Y")
        ),
        scope: scope.join(", "),
        charts,
        rows,
        problems: &r.top_problems,
        breakdowns: vec![
            Breakdown {
                title: "Por serviço",
                column: "Serviço",
                groups: group_rows(&r.by_item),
            },
            Breakdown {
                title: "Por organização",
                column: "Organização",
                groups: group_rows(&r.by_organization),
            },
        ],
    }
    .render()
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "the review page did not render");
        "erro".into()
    });
    svgs.into_iter()
        .fold(html, |page, (slot, svg)| page.replacen(&slot, &svg, 1))
}

/// The operations review as an HTML page with charts (pt-BR). Opened with the signed
/// `html_url` that `GET /api/v1/reports/ops-review` returns; refused (403) when the link is
/// altered or expired, or the account no longer may read the review.
#[utoipa::path(
    get, path = "/reports/ops-review", tag = "report pages",
    params(PageQuery),
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html"),
        (status = 403, description = "Invalid or expired link, or the account may no longer read the review", body = String, content_type = "text/html"),
        (status = 503, description = "Database unavailable", body = crate::platform::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/ops-review")]
pub async fn ops_review_page(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, crate::platform::error::ApiError> {
    let Ok(q) = parse_query::<PageQuery>(req.query_string()) else {
        return Ok(refused());
    };
    let (Some(user), Some(expires), Some(sig)) = (
        q.user.as_deref().and_then(|u| u.parse::<i64>().ok()),
        q.expires.as_deref().and_then(|e| e.parse::<i64>().ok()),
        q.sig.as_deref(),
    ) else {
        return Ok(refused());
    };
    let now = state.clock.now();
    if q.from.is_none() || q.to.is_none() || expires < now.timestamp() {
        return Ok(refused());
    }
    let review_query = ReviewQuery {
        from: q.from,
        to: q.to,
        item_id: q.item_id,
        organization_id: q.organization_id,
    };
    let Ok((p, scope)) = period_and_scope(&review_query, now) else {
        return Ok(refused());
    };
    let query = canonical_query(&p, &scope);
    if !state.notifier.signer.verify_report(
        &ReportLinkBinding {
            user_id: user,
            expires,
            query: &query,
        },
        sig,
    ) {
        return Ok(refused());
    }
    // The account as it is now: a deactivated or demoted user's link stops working.
    let mut conn = state.pool.get().await?;
    let account: Option<Account> =
        diesel::sql_query("SELECT active, roles::text[] AS roles FROM users WHERE id = $1")
            .bind::<BigInt, _>(user)
            .get_result(&mut conn)
            .await
            .map(Some)
            .or_else(|e| {
                if e == diesel::result::Error::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            })?;
    drop(conn);
    let allowed = account.is_some_and(|a| {
        a.active
            && a.roles
                .iter()
                .any(|r| READERS.iter().any(|x| x.as_str() == r))
    });
    if !allowed {
        return Ok(refused());
    }
    let mut conn = state.reports().get().await?;
    let review = reports::review(&mut conn, &p, &scope).await?;
    Ok(html(StatusCode::OK, page(&review)))
}
