//! Searching the base as people type, and suggesting articles for a ticket.
//!
//! Both read the generated `kb_articles.search` (title weighted A, body B, in the
//! `pt_unaccent` configuration: accents ignored, Portuguese stems) through its GIN index, and
//! rank with `ts_rank` (A counts 1.0, B 0.4: a title hit ranks above a body hit).
use super::articles::{reader, Reader};
use crate::identity::principal::AuthUser;
use crate::platform::error::{ApiError, ApiResult};
use crate::platform::sql::{bind, prepared};
use diesel::sql_types::{BigInt, Bool, Float4, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::knowledge::{KbKind, KbState, TypedQuery};
use serde::Serialize;
use utoipa::ToSchema;

/// Marks around a match in a headline, replaced by `<mark>` once the text is escaped (the
/// articles' text is never sent as HTML unescaped). Private-use characters: not in text.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub id: i64,
    pub kind: KbKind,
    pub state: KbState,
    pub title: String,
    /// The title, HTML-escaped, matches in `<mark>`.
    pub title_highlight: String,
    /// The best passages of the body, HTML-escaped, matches in `<mark>`.
    pub snippet: String,
    pub rank: f32,
    pub item_id: Option<i64>,
    pub problem_id: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    title_hl: String,
    #[diesel(sql_type = Text)]
    snippet: String,
    #[diesel(sql_type = Float4)]
    rank: f32,
    #[diesel(sql_type = Nullable<BigInt>)]
    item_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    problem_id: Option<i64>,
}

fn escape_marked(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            OPEN => out.push_str("<mark>"),
            CLOSE => out.push_str("</mark>"),
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

impl Row {
    fn hit(self) -> ApiResult<SearchHit> {
        let bad = |e: String| ApiError::Internal(e.into());
        Ok(SearchHit {
            id: self.id,
            kind: self.kind.parse().map_err(bad)?,
            state: self.state.parse().map_err(bad)?,
            title: self.title,
            title_highlight: escape_marked(&self.title_hl),
            snippet: escape_marked(&self.snippet),
            rank: self.rank,
            item_id: self.item_id,
            problem_id: self.problem_id,
        })
    }
}

/// The columns every result carries; `query` is the tsquery of the statement.
macro_rules! hit_columns {
    () => {
        "a.id, a.kind::text AS kind, a.state::text AS state, a.title, \
         ts_headline('pt_unaccent', a.title, query, 'StartSel=\"\u{E000}\", StopSel=\"\u{E001}\", HighlightAll=true') AS title_hl, \
         ts_headline('pt_unaccent', a.body, query, 'StartSel=\"\u{E000}\", StopSel=\"\u{E001}\", MaxFragments=2, MaxWords=25, MinWords=8, FragmentDelimiter=\" … \"') AS snippet, \
         a.item_id, a.problem_id"
    };
}

/// Who reads which solution proposals, as SQL over `a` and two binds (team, every team).
macro_rules! readable {
    () => {
        "(a.kind <> 'solution_proposal' OR a.team IS NULL OR ?::boolean OR a.team::text = ?::text)"
    };
}

const SEARCH: &str = concat!(
    "WITH q AS (SELECT CASE WHEN w IS NULL THEN p WHEN p IS NULL THEN w ELSE w && p END AS query \
     FROM (SELECT CASE WHEN ?::text = '' THEN NULL ELSE websearch_to_tsquery('pt_unaccent', ?::text) END AS w, \
                  CASE WHEN ?::text = '' THEN NULL ELSE to_tsquery('pt_unaccent', quote_literal(?::text) || ':*') END AS p) s) \
     SELECT ",
    hit_columns!(),
    ", ts_rank(a.search, query) AS rank \
     FROM kb_articles a, q \
     WHERE a.search @@ query \
       AND (a.state = 'published' OR (?::boolean AND a.state = 'draft')) \
       AND (?::text IS NULL OR a.kind::text = ?::text) \
       AND (?::bigint IS NULL OR a.item_id = ?::bigint) \
       AND ",
    readable!(),
    " ORDER BY rank DESC, a.id DESC LIMIT ?"
);

pub struct SearchQuery {
    pub text: String,
    pub kind: Option<KbKind>,
    pub item_id: Option<i64>,
    /// Support may search drafts too.
    pub include_drafts: bool,
    pub limit: i64,
}

fn team_binds(r: &Reader) -> (bool, Option<String>) {
    (r.sees_every_team, r.team.map(|t| t.as_str().to_string()))
}

/// Published articles (and drafts on request) matching what was typed, best first.
pub async fn search(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    q: &SearchQuery,
) -> ApiResult<Vec<SearchHit>> {
    let Some(typed) = TypedQuery::parse(&q.text) else {
        return Err(ApiError::validation(
            "q",
            "required",
            "type something to search for",
        ));
    };
    let r = reader(conn, user).await?;
    let (every, team) = team_binds(&r);
    let prefix = typed.prefix.unwrap_or_default();
    let kind = q.kind.map(|k| k.to_string());
    let rows: Vec<Row> = prepared(
        SEARCH,
        (
            (
                bind::<Text, _>(typed.words.clone()),
                bind::<Text, _>(typed.words),
                bind::<Text, _>(prefix.clone()),
                bind::<Text, _>(prefix),
            ),
            (
                bind::<Bool, _>(q.include_drafts),
                bind::<Nullable<Text>, _>(kind.clone()),
                bind::<Nullable<Text>, _>(kind),
                bind::<Nullable<BigInt>, _>(q.item_id),
                bind::<Nullable<BigInt>, _>(q.item_id),
            ),
            (
                bind::<Bool, _>(every),
                bind::<Nullable<Text>, _>(team),
                bind::<BigInt, _>(q.limit),
            ),
        ),
    )
    .load(conn)
    .await?;
    rows.into_iter().map(Row::hit).collect()
}

/// The ticket's words (title and description, stemmed as the articles are) as one OR query,
/// at most 64 of them; articles of the ticket's catalog item rank higher (×1.5), and an
/// article of that item that shares no word still comes, after those that do.
const SUGGEST: &str = concat!(
    "WITH t AS (SELECT item_id, to_tsvector('pt_unaccent', title || ' ' || description) AS v \
                FROM tickets WHERE id = ?), \
          q AS (SELECT item_id, \
                  (SELECT string_agg(quote_literal(l), ' | ') \
                   FROM (SELECT l FROM unnest(tsvector_to_array(v)) AS l \
                         WHERE l !~ '[''\\\\]' ORDER BY l LIMIT 64) x)::tsquery AS query \
                FROM t) \
     SELECT ",
    hit_columns!(),
    ", (COALESCE(ts_rank(a.search, query), 0) * CASE WHEN a.item_id = q.item_id THEN 1.5 ELSE 1 END \
        + CASE WHEN a.item_id = q.item_id THEN 0.001 ELSE 0 END)::real AS rank \
     FROM kb_articles a, q \
     WHERE a.state = 'published' \
       AND ((query IS NOT NULL AND a.search @@ query) OR a.item_id = q.item_id) \
       AND ",
    readable!(),
    " ORDER BY rank DESC, a.id DESC LIMIT ?"
);

/// The articles most relevant to a ticket's text and catalog item (the portal shows them
/// before an analyst opens a child ticket: SPEC §4.2).
pub async fn suggestions(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    ticket_id: i64,
    limit: i64,
) -> ApiResult<Vec<SearchHit>> {
    use crate::db::schema::tickets;
    use diesel::{OptionalExtension, QueryDsl};
    let exists: Option<i64> = tickets::table
        .find(ticket_id)
        .select(tickets::id)
        .first(conn)
        .await
        .optional()?;
    if exists.is_none() {
        return Err(ApiError::not_found(format!("ticket {ticket_id}")));
    }
    let r = reader(conn, user).await?;
    let (every, team) = team_binds(&r);
    let rows: Vec<Row> = prepared(
        SUGGEST,
        (
            bind::<BigInt, _>(ticket_id),
            bind::<Bool, _>(every),
            bind::<Nullable<Text>, _>(team),
            bind::<BigInt, _>(limit),
        ),
    )
    .load(conn)
    .await?;
    rows.into_iter().map(Row::hit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_are_escaped_and_marked() {
        let s = format!("a <b> & {OPEN}não{CLOSE}-conformidade 'x'");
        assert_eq!(
            escape_marked(&s),
            "a &lt;b&gt; &amp; <mark>não</mark>-conformidade &#39;x&#39;"
        );
    }

    #[test]
    fn every_placeholder_is_bound() {
        assert_eq!(SEARCH.matches('?').count(), 12);
        assert_eq!(SUGGEST.matches('?').count(), 4);
    }
}
