//! The knowledge base (SPEC §4.2, §5): article kinds, the draft → published → archived
//! lifecycle, and how what a person types becomes a Portuguese full-text query.
string_enum!(
    /// What an article is: a problem's known error, a ticket's solution proposal, a how-to.
    KbKind {
        KnownError => "known_error",
        SolutionProposal => "solution_proposal",
        HowTo => "how_to",
    }
);

string_enum!(
    /// Where an article is: drafts are read by support only; published ones are searched and
    /// suggested; archived ones are kept (and their versions) but no longer suggested.
    KbState {
        Draft => "draft",
        Published => "published",
        Archived => "archived",
    }
);

string_enum!(
    KbAction {
        Publish => "publish",
        Archive => "archive",
    }
);

/// Where an action leads: `publish` a draft or an archived article (republish), `archive` a
/// published one.
pub fn target(state: KbState, action: KbAction) -> Option<KbState> {
    match (state, action) {
        (KbState::Draft | KbState::Archived, KbAction::Publish) => Some(KbState::Published),
        (KbState::Published, KbAction::Archive) => Some(KbState::Archived),
        _ => None,
    }
}

pub fn allowed_actions(state: KbState) -> Vec<KbAction> {
    KbAction::ALL
        .iter()
        .copied()
        .filter(|a| target(state, *a).is_some())
        .collect()
}

/// A search as typed, split for PostgreSQL: the complete words (for `websearch_to_tsquery`,
/// which keeps quotes and `-`), and the last word as a prefix (for `to_tsquery('…:*')`), so
/// results come while the last word is being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedQuery {
    /// Everything before the last word; empty if there is only one word.
    pub words: String,
    /// The last word, letters and digits only (nothing a tsquery could read as an operator);
    /// None when the text ends in a space (the last word is complete) or has no such word.
    pub prefix: Option<String>,
}

impl TypedQuery {
    /// None when there is nothing to search for.
    pub fn parse(typed: &str) -> Option<TypedQuery> {
        let joined = split_compounds(typed);
        let typed = joined.trim_start();
        if typed.trim().is_empty() {
            return None;
        }
        // A trailing space or a closing quote: the last word is finished.
        if typed.ends_with(char::is_whitespace) || typed.ends_with('"') {
            return Some(TypedQuery {
                words: typed.trim().to_string(),
                prefix: None,
            });
        }
        // After the last separator, which may be several bytes long (U+0085, U+3000…).
        let cut = typed
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace() || *c == '-' || *c == '"')
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        let (head, last) = typed.split_at(cut);
        let prefix: String = last.chars().filter(|c| c.is_alphanumeric()).collect();
        // Inside an open quote the last word belongs to the phrase.
        let open_quote = head.matches('"').count() % 2 == 1;
        if prefix.is_empty() || open_quote {
            return Some(TypedQuery {
                words: typed.trim().to_string(),
                prefix: None,
            });
        }
        // `não-conf`: the hyphenated head stays a word of the query.
        let words = head.trim_end_matches('-').trim().to_string();
        Some(TypedQuery {
            words,
            prefix: Some(prefix),
        })
    }
}

/// `não-conformidades` → `não conformidades`: a hyphen inside a word joins two words a
/// person may equally write apart (the index holds each part; a compound would only match
/// itself). A leading `-` (exclude the word) is kept.
fn split_compounds(typed: &str) -> String {
    let chars: Vec<char> = typed.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let inside = i > 0
                && chars[i - 1].is_alphanumeric()
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            if c == '-' && inside {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(words: &str, prefix: Option<&str>) -> Option<TypedQuery> {
        Some(TypedQuery {
            words: words.into(),
            prefix: prefix.map(str::to_string),
        })
    }

    #[test]
    fn the_last_word_is_a_prefix_while_it_is_typed() {
        assert_eq!(
            TypedQuery::parse("certificado venc"),
            q("certificado", Some("venc"))
        );
        assert_eq!(TypedQuery::parse("esoc"), q("", Some("esoc")));
        assert_eq!(
            TypedQuery::parse("certificado vencido "),
            q("certificado vencido", None)
        );
        assert_eq!(TypedQuery::parse("não-conf"), q("não", Some("conf")));
        assert_eq!(
            TypedQuery::parse("não-conformidades "),
            q("não conformidades", None)
        );
        assert_eq!(
            TypedQuery::parse("folha -férias "),
            q("folha -férias", None)
        );
        assert_eq!(TypedQuery::parse("   "), None);
        assert_eq!(TypedQuery::parse(""), None);
    }

    #[test]
    fn operators_in_the_last_word_are_dropped_and_phrases_kept() {
        assert_eq!(
            TypedQuery::parse("erro s1200:*|!"),
            q("erro", Some("s1200"))
        );
        assert_eq!(TypedQuery::parse("erro &|!"), q("erro &|!", None));
        assert_eq!(
            TypedQuery::parse("\"folha de pag"),
            q("\"folha de pag", None)
        );
        assert_eq!(
            TypedQuery::parse("\"folha de pagamento\""),
            q("\"folha de pagamento\"", None)
        );
    }

    #[test]
    fn separators_of_several_bytes_cut_on_a_character_boundary() {
        // U+0085 (next line) is whitespace of two bytes: found by the fuzzer.
        assert_eq!(
            TypedQuery::parse("TMA\u{10420}\u{85}If"),
            q("TMA\u{10420}", Some("If"))
        );
        assert_eq!(
            TypedQuery::parse("folha\u{3000}pag"),
            q("folha", Some("pag"))
        );
    }

    proptest::proptest! {
        /// Whatever is typed, parsing neither panics nor lets an operator into the prefix.
        #[test]
        fn any_text_parses(s in "(?s).{0,40}") {
            if let Some(t) = TypedQuery::parse(&s) {
                if let Some(p) = t.prefix {
                    proptest::prop_assert!(!p.is_empty() && p.chars().all(char::is_alphanumeric));
                }
            }
        }
    }

    #[test]
    fn the_lifecycle_publishes_archives_and_republishes() {
        assert_eq!(
            target(KbState::Draft, KbAction::Publish),
            Some(KbState::Published)
        );
        assert_eq!(
            target(KbState::Published, KbAction::Archive),
            Some(KbState::Archived)
        );
        assert_eq!(
            target(KbState::Archived, KbAction::Publish),
            Some(KbState::Published)
        );
        assert_eq!(target(KbState::Draft, KbAction::Archive), None);
        assert_eq!(target(KbState::Published, KbAction::Publish), None);
        assert_eq!(allowed_actions(KbState::Published), vec![KbAction::Archive]);
    }
}
