//! How users read values, in pt-BR: instants in a time zone, durations, and HTML escaping.
//! One place for every message and page.
use chrono::{DateTime, Utc};

/// Escapes `&`, `<`, `>`, `"` and `'` for use in HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `dd/mm/aaaa HH:MM (Zona/IANA)` in `tz`, e.g. `24/11/2026 14:00 (America/Sao_Paulo)`.
pub fn format_local(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    format!(
        "{} ({})",
        at.with_timezone(&tz).format("%d/%m/%Y %H:%M"),
        tz.name()
    )
}

/// The local date only, `dd/mm/aaaa`.
pub fn format_local_date(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz).format("%d/%m/%Y").to_string()
}

/// An interval in `tz`: `24/11/2026 14:00–16:00 (America/Sao_Paulo)` on one day, else
/// `03/12/2026 22:00 – 04/12/2026 06:00 (America/Sao_Paulo)`.
pub fn format_interval(start: DateTime<Utc>, end: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
    if s.date_naive() == e.date_naive() {
        format!(
            "{}–{} ({})",
            s.format("%d/%m/%Y %H:%M"),
            e.format("%H:%M"),
            tz.name()
        )
    } else {
        format!(
            "{} – {} ({})",
            s.format("%d/%m/%Y %H:%M"),
            e.format("%d/%m/%Y %H:%M"),
            tz.name()
        )
    }
}

/// Minutes in words: `45 min`, `2 h`, `2 h 30 min`.
pub fn format_duration_minutes(minutes: i64) -> String {
    if minutes < 60 {
        return format!("{minutes} min");
    }
    match (minutes / 60, minutes % 60) {
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}
