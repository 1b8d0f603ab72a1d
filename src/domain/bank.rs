//! Rules of the question bank: what of a question a viewer is shown, what the
//! list says when it shows nothing, and what of their search text reaches
//! PostgreSQL's `websearch_to_tsquery`.

use super::timer::TimerState;

/// One round in which the viewer is the candidate and which uses the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct CandidateRound {
    /// A peer round: someone else interviews, holding the hints back.
    pub is_peer: bool,
    pub timer: TimerState,
    /// Its loop was cancelled, so the round will never run.
    pub loop_cancelled: bool,
}

/// Whether the bank shows a question's interviewer material (hints,
/// follow-ups, what good looks like) to a viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guidance {
    Shown,
    /// The viewer is to answer it in a peer round that has not ended.
    WithheldUntilRoundEnds,
}

/// A peer candidate must meet their question cold: while one of their peer
/// rounds using it is scheduled, running or paused, the bank keeps its
/// guidance from them. Their own private question they wrote themselves.
pub fn guidance_for(viewer_owns_question: bool, rounds: &[CandidateRound]) -> Guidance {
    let pending = |round: &CandidateRound| round.is_peer && !round.loop_cancelled && round.timer != TimerState::Ended;
    if !viewer_owns_question && rounds.iter().any(pending) { Guidance::WithheldUntilRoundEnds } else { Guidance::Shown }
}

/// What the bank's list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Matches,
    /// The bank holds questions, but none on this page matches the filters.
    NoMatch,
    /// The viewer can see no question at all, whatever the filters: the
    /// content was not loaded (or was emptied), which filtering cannot fix.
    EmptyBank,
}

/// `matches`: questions matching the filters on the page shown; `bank_size`:
/// every question the viewer may see.
pub fn listing(matches: usize, bank_size: i64) -> Listing {
    match (bank_size, matches) {
        (0, _) => Listing::EmptyBank,
        (_, 0) => Listing::NoMatch,
        _ => Listing::Matches,
    }
}

/// Longest search text kept, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Most words, phrases and `or`s passed on: enough for any real search, and
/// far below what exhausts the query parser's stack.
pub const MAX_SEARCH_TERMS: usize = 16;
/// Longest word passed on; longer ones are cut (no lexeme in the bank is near it).
const MAX_WORD_CHARS: usize = 64;

/// The bank's search box: the text as typed (shown back in the box) and the
/// tame query made from it for `websearch_to_tsquery`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    typed: String,
    query: String,
}

impl SearchText {
    /// `None` for blank text (no search). Otherwise keeps words (letters and
    /// digits), `"quoted phrases"`, a leading `-` that excludes a word or
    /// phrase, and `or` between terms; every other character separates words.
    /// Text with no word left gives an empty query, which matches nothing.
    /// A NUL character is refused, as in every text the app takes.
    pub fn parse(raw: &str) -> Result<Option<SearchText>, &'static str> {
        if raw.contains('\0') {
            return Err("The search text contains a NUL character (\\0). Remove it and search again.");
        }
        let typed: String = raw.trim().chars().take(MAX_SEARCH_CHARS).collect();
        if typed.is_empty() {
            return Ok(None);
        }
        let query = tame_query(&typed);
        Ok(Some(SearchText { typed, query }))
    }

    pub fn as_typed(&self) -> &str {
        &self.typed
    }

    /// What to hand to `websearch_to_tsquery`.
    pub fn query(&self) -> &str {
        &self.query
    }
}

/// One piece of a search.
#[derive(Debug, PartialEq, Eq)]
enum Term {
    Words { excluded: bool, words: Vec<String>, quoted: bool },
    Or,
}

fn tame_query(text: &str) -> String {
    let mut terms: Vec<Term> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut at_token_start = true;
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            at_token_start = true;
            continue;
        }
        let excluded = c == '-' && at_token_start && chars.peek().is_some_and(|n| n.is_alphanumeric() || *n == '"');
        let opens_quote = c == '"' || (excluded && chars.peek() == Some(&'"'));
        if excluded {
            chars.next_if_eq(&'"');
        }
        if opens_quote {
            let inside: String = chars.by_ref().take_while(|c| *c != '"').collect();
            terms.push(Term::Words { excluded, words: words_of(&inside), quoted: true });
            at_token_start = true;
            continue;
        }
        if !c.is_alphanumeric() && !excluded {
            at_token_start = !c.is_alphanumeric();
            continue;
        }
        let mut token = String::new();
        if !excluded {
            token.push(c);
        }
        while let Some(next) = chars.next_if(|n| !n.is_whitespace() && *n != '"') {
            token.push(next);
        }
        at_token_start = true;
        if !excluded && token.eq_ignore_ascii_case("or") {
            terms.push(Term::Or);
        } else {
            // "cold-start" and "k-means" stay one term: the words of a token go together as a phrase.
            let words = words_of(&token);
            let quoted = words.len() > 1;
            terms.push(Term::Words { excluded, words, quoted });
        }
    }
    render(terms)
}

/// The runs of letters and digits in `text`, each cut to a sane length.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word.chars().take(MAX_WORD_CHARS).collect())
        .collect()
}

/// Writes the terms back as websearch syntax: empty terms dropped, `or` only
/// between two terms, at most [`MAX_SEARCH_TERMS`] terms and words in all.
fn render(terms: Vec<Term>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut budget = MAX_SEARCH_TERMS;
    let mut pending_or = false;
    for term in terms {
        match term {
            Term::Or => pending_or = !out.is_empty(),
            Term::Words { excluded, mut words, quoted } => {
                if words.is_empty() || budget == 0 {
                    continue;
                }
                if pending_or && budget >= 2 {
                    out.push("or".to_owned());
                    budget -= 1;
                }
                pending_or = false;
                words.truncate(budget);
                budget -= words.len();
                let sign = if excluded { "-" } else { "" };
                let body = words.join(" ");
                out.push(if quoted { format!("{sign}\"{body}\"") } else { format!("{sign}{body}") });
            }
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_bank_is_told_apart_from_filters_that_match_nothing() {
        use super::Listing::*;
        let cases = [
            ("an empty bank", 0, 0, EmptyBank),
            ("nothing matches in a full bank", 0, 230, NoMatch),
            ("some match", 3, 230, Matches),
            ("a bank of one, matched", 1, 1, Matches),
        ];
        for (name, matches, bank_size, expected) in cases {
            assert_eq!(super::listing(matches, bank_size), expected, "{name}");
        }
    }

    use super::*;

    fn round(is_peer: bool, timer: TimerState, loop_cancelled: bool) -> CandidateRound {
        CandidateRound { is_peer, timer, loop_cancelled }
    }

    #[test]
    fn guidance_is_withheld_only_while_a_peer_round_of_the_viewer_is_still_to_run_or_running() {
        use Guidance::*;
        use TimerState::*;
        let cases: [(&str, bool, Vec<CandidateRound>, Guidance); 11] = [
            ("never had it", false, vec![], Shown),
            ("peer, scheduled", false, vec![round(true, NotStarted, false)], WithheldUntilRoundEnds),
            ("peer, running", false, vec![round(true, Running, false)], WithheldUntilRoundEnds),
            ("peer, paused", false, vec![round(true, Paused, false)], WithheldUntilRoundEnds),
            ("peer, ended", false, vec![round(true, Ended, false)], Shown),
            ("peer, loop cancelled", false, vec![round(true, NotStarted, true)], Shown),
            ("self-timed, scheduled", false, vec![round(false, NotStarted, false)], Shown),
            ("self-timed, running", false, vec![round(false, Running, false)], Shown),
            (
                "an ended peer round and a pending one",
                false,
                vec![round(true, Ended, false), round(true, NotStarted, false)],
                WithheldUntilRoundEnds,
            ),
            ("own private question, peer scheduled", true, vec![round(true, NotStarted, false)], Shown),
            ("own private question, never had it", true, vec![], Shown),
        ];
        for (name, owns, rounds, expected) in cases {
            assert_eq!(guidance_for(owns, &rounds), expected, "{name}");
        }
    }

    #[test]
    fn search_text_keeps_words_phrases_exclusions_and_or() {
        let cases = [
            ("moving average", "moving average"),
            ("  attention  ", "attention"),
            ("\"cold start\" -bandit", "\"cold start\" -bandit"),
            ("-\"feature store\" drift", "-\"feature store\" drift"),
            ("cnn or rnn", "cnn or rnn"),
            ("or cnn or or rnn or", "cnn or rnn"),
            ("cold-start k-means", "\"cold start\" \"k means\""),
            ("a&b|c!", "\"a b c\""),
            ("'; drop table questions;--", "drop table questions"),
            ("C++ p99 Überblick", "C p99 Überblick"),
            ("\"unclosed phrase", "\"unclosed phrase\""),
        ];
        for (typed, query) in cases {
            let search = SearchText::parse(typed).expect("accepted").expect("some text");
            assert_eq!(search.query(), query, "{typed:?}");
        }
    }

    #[test]
    fn operator_only_text_becomes_an_empty_query_and_the_typed_text_is_kept() {
        for typed in ["-".repeat(33), "-(".repeat(100), "!!! ((( ))) & | <->".to_owned(), "\"\" - -- \"".to_owned()] {
            let search = SearchText::parse(&typed).expect("accepted").expect("some text");
            assert_eq!(search.query(), "", "{typed:?}");
            assert_eq!(search.as_typed(), typed.chars().take(MAX_SEARCH_CHARS).collect::<String>());
        }
        assert_eq!(SearchText::parse("   "), Ok(None));
        assert!(SearchText::parse("before\0after").is_err(), "NUL is refused");
    }

    #[test]
    fn search_text_is_bounded_in_terms_words_and_characters() {
        let many = "word ".repeat(100);
        assert_eq!(
            SearchText::parse(&many).expect("accepted").expect("text").query().split(' ').count(),
            MAX_SEARCH_TERMS
        );
        let negations = "-a ".repeat(60);
        assert_eq!(
            SearchText::parse(&negations).expect("accepted").expect("text").query().matches('-').count(),
            MAX_SEARCH_TERMS
        );
        let phrase = format!("\"{}\"", "w ".repeat(90));
        assert_eq!(
            SearchText::parse(&phrase).expect("accepted").expect("text").query().split(' ').count(),
            MAX_SEARCH_TERMS
        );
        let long = "x".repeat(500);
        let search = SearchText::parse(&long).expect("accepted").expect("text");
        assert_eq!(search.as_typed().chars().count(), MAX_SEARCH_CHARS);
        assert_eq!(search.query().chars().count(), MAX_WORD_CHARS);
    }
}
