//! How users read values, in pt-BR: instants in a time zone, durations, text folded onto one
//! line or indented for a plain-text mail; and the HTML escaper of every template. One place
//! for every message and page: templates reach these functions through [`filters`].
use chrono::{DateTime, Utc};
use std::fmt;

/// The escaper askama applies to every value a `.html` template prints (registered for that
/// extension in `api/templates/askama.toml`): `&`, `<`, `>`, `"` and `'`, so a value is safe
/// in text and in a quoted attribute alike. Named entities rather than askama's numeric ones:
/// mail sources stay readable.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        let mut last = 0;
        // The five are ASCII: a byte index of one is always a character boundary.
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&s[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&s[last..])
    }
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

/// Line breaks and other control characters folded into single spaces: for a mail header (a
/// line break there would start a new header) and for one-line values.
pub fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The lines of free text, whatever its line breaks (`\r\n`, `\n` or a lone `\r`), without
/// trailing blank lines.
pub fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.trim_end()
        .split("\r\n")
        .flat_map(|l| l.split(['\r', '\n']))
}

/// Free text for a plain-text mail: every line indented by two spaces (blank lines stay empty).
pub fn indented(s: &str) -> String {
    lines(s)
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An optional text that counts only when it has more than blanks.
pub fn given<S: AsRef<str>>(s: &Option<S>) -> Option<&str> {
    s.as_ref()
        .map(AsRef::as_ref)
        .filter(|s| !s.trim().is_empty())
}

/// The functions above as askama filters, for templates: `{{ at|local(tz) }}`,
/// `{{ at|date(tz) }}`, `{{ start|interval(end, tz) }}`, `{{ n|minutes }}`,
/// `{{ text|one_line }}`, `{{ text|indented }}`. A module that renders templates imports this
/// module as `filters`, where askama looks for them.
pub mod filters {
    use chrono::{DateTime, Utc};
    use chrono_tz::Tz;

    #[askama::filter_fn]
    pub fn local(at: &DateTime<Utc>, _: &dyn askama::Values, tz: &Tz) -> askama::Result<String> {
        Ok(super::format_local(*at, *tz))
    }

    #[askama::filter_fn]
    pub fn date(at: &DateTime<Utc>, _: &dyn askama::Values, tz: &Tz) -> askama::Result<String> {
        Ok(super::format_local_date(*at, *tz))
    }

    #[askama::filter_fn]
    pub fn interval(
        start: &DateTime<Utc>,
        _: &dyn askama::Values,
        end: &DateTime<Utc>,
        tz: &Tz,
    ) -> askama::Result<String> {
        Ok(super::format_interval(*start, *end, *tz))
    }

    #[askama::filter_fn]
    pub fn minutes<N: Minutes + ?Sized>(n: &N, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::format_duration_minutes(n.minutes()))
    }

    /// A number of minutes however a template holds it: `i32` (a column), `i64` (a
    /// difference of instants), or a reference to either (a variable bound by `if let`).
    pub trait Minutes {
        fn minutes(&self) -> i64;
    }

    impl Minutes for i32 {
        fn minutes(&self) -> i64 {
            (*self).into()
        }
    }

    impl Minutes for i64 {
        fn minutes(&self) -> i64 {
            *self
        }
    }

    impl<T: Minutes + ?Sized> Minutes for &T {
        fn minutes(&self) -> i64 {
            (**self).minutes()
        }
    }

    #[askama::filter_fn]
    pub fn one_line<S: AsRef<str> + ?Sized>(
        s: &S,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(super::one_line(s.as_ref()))
    }

    #[askama::filter_fn]
    pub fn indented<S: AsRef<str> + ?Sized>(
        s: &S,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(super::indented(s.as_ref()))
    }
}

/// A rendered template. Rendering into a `String` fails only when a printed value's `Display`
/// does, and none of ours do: a failure is a bug, not a condition to carry on with.
pub fn rendered(r: askama::Result<String>) -> String {
    r.expect("mail templates render into a String")
}

/// The plain-text part as mail readers like it: no trailing blanks on a line (but the
/// signature delimiter `-- `), at most one blank line in a row, one line break at the end.
/// Templates may then lay out their blocks freely.
pub fn tidy_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = true; // drops blank lines at the start
    for line in s.lines() {
        let line = if line == "-- " { line } else { line.trim_end() };
        if line.is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Declares the two templates of a mail over its context `$ctx` (which has `subject`, read
/// by the layouts), and `$ctx::render`. The templates deref to the context, so they name its
/// fields directly.
macro_rules! mail_templates {
    ($ctx:ident: $text:ident = $text_path:literal, $html:ident = $html_path:literal) => {
        #[derive(askama::Template)]
        #[template(path = $text_path, config = "templates/askama.toml")]
        struct $text<'a>(&'a $ctx<'a>);

        #[derive(askama::Template)]
        #[template(path = $html_path, config = "templates/askama.toml")]
        struct $html<'a>(&'a $ctx<'a>);

        impl<'a> std::ops::Deref for $text<'a> {
            type Target = $ctx<'a>;
            fn deref(&self) -> &$ctx<'a> {
                self.0
            }
        }

        impl<'a> std::ops::Deref for $html<'a> {
            type Target = $ctx<'a>;
            fn deref(&self) -> &$ctx<'a> {
                self.0
            }
        }

        impl $ctx<'_> {
            fn render(&self) -> $crate::notify::Rendered {
                use askama::Template as _;
                $crate::notify::Rendered {
                    subject: $crate::notify::format::one_line(&self.subject),
                    text: $crate::notify::format::tidy_text(&$crate::notify::format::rendered(
                        $text(self).render(),
                    )),
                    html: $crate::notify::format::rendered($html(self).render()),
                }
            }
        }
    };
}
pub(crate) use mail_templates;

#[cfg(test)]
mod tests {
    use super::*;
    use askama::filters::Escaper;
    use chrono::TimeZone;
    use chrono_tz::America::Sao_Paulo;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn escape_html(s: &str) -> String {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, s).unwrap();
        out
    }

    #[test]
    fn escape_html_escapes_the_five_characters() {
        assert_eq!(
            escape_html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape_html("ação"), "ação");
        assert_eq!(escape_html("<<"), "&lt;&lt;");
        assert_eq!(escape_html(""), "");
    }

    /// Escaping is askama's, everywhere: no template opts out of it (`safe`, or an escaper
    /// other than the configured one), and the configuration names ours for `.html`.
    #[test]
    fn templates_never_opt_out_of_escaping() {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.push((path.display().to_string(), text));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files = Vec::new();
        walk(&root, &mut files);
        let html = files.iter().filter(|(p, _)| p.ends_with(".html")).count();
        assert!(html >= 10, "{files:?}");
        for (path, text) in &files {
            let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            for opt_out in ["|safe", "|escape(", "|e(", "escape=", "autoescape"] {
                assert!(!squeezed.contains(opt_out), "{path} uses {opt_out}");
            }
        }
        let config = std::fs::read_to_string(root.join("askama.toml")).unwrap();
        assert!(config.contains("path = \"crate::notify::format::Html\""));
        assert!(config.contains("extensions = [\"html\"]"));
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
    fn text_is_folded_or_indented() {
        assert_eq!(one_line(" a\r\nBcc: x\t y "), "a Bcc: x y");
        assert_eq!(indented("a\r\n\r\nb\rc\n\n"), "  a\n\n  b\n  c");
        assert_eq!(lines("a\r\nb\nc").collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(given(&Some(String::from("  "))), None);
        assert_eq!(given(&Some(" x ")), Some(" x "));
        assert_eq!(given(&None::<&str>), None);
    }
}
