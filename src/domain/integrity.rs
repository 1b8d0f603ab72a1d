//! Integrity concerns: what an assessor raises on a scorecard when the
//! candidate, say, discloses a current or former employer's confidential
//! details. A concern is a flag beside the scores, never a low score: it does
//! not change a criterion, a recommendation, a pillar mean or the loop's
//! outcome; the debrief shows it next to the outcome for people to weigh.

use serde::Serialize;

use super::blind_scoring::{CardRole, CardStatus};

text_enum!(
    /// One kind of integrity problem seen in a round.
    IntegrityConcern {
        DisclosedConfidential => ("disclosed_confidential", "Disclosed confidential details of a current or former employer"),
        MisrepresentedWork => ("misrepresented_work", "Claimed work, results or experience that were not their own"),
        OutsideHelp => ("outside_help", "Used help from someone or something else during the round"),
    }
);

/// What one scorecard says about integrity: the concerns raised (none is the
/// usual case) and an optional note on what was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IntegrityFlag {
    /// Each at most once, in [`IntegrityConcern::ALL`] order.
    pub concerns: Vec<IntegrityConcern>,
    pub note: String,
}

/// Why a posted integrity flag cannot be submitted as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrityProblem {
    /// A value no form of ours sends, as it was sent.
    UnknownConcern(String),
    /// A note explains a concern, so one must be ticked (a draft keeps the note meanwhile).
    NoteWithoutConcern,
}

impl IntegrityProblem {
    pub fn message(&self) -> String {
        match self {
            IntegrityProblem::UnknownConcern(value) => {
                format!("“{value}” is not one of the listed integrity concerns; tick one from the list.")
            }
            IntegrityProblem::NoteWithoutConcern => {
                "Tick the concern this note is about, or clear the note: a note alone raises nothing.".into()
            }
        }
    }
}

impl IntegrityFlag {
    /// Reads the form's ticked `concerns` (repeats are one) and its note.
    pub fn parse<'a>(
        concerns: impl IntoIterator<Item = &'a str>,
        note: &str,
    ) -> Result<IntegrityFlag, IntegrityProblem> {
        let mut parsed = Vec::new();
        for value in concerns {
            parsed.push(
                IntegrityConcern::parse(value.trim())
                    .ok_or_else(|| IntegrityProblem::UnknownConcern(value.to_owned()))?,
            );
        }
        parsed.sort();
        parsed.dedup();
        Ok(IntegrityFlag { concerns: parsed, note: note.to_owned() })
    }

    pub fn is_raised(&self) -> bool {
        !self.concerns.is_empty()
    }

    /// What stops submission: a note with no concern ticked.
    pub fn problem_for_submission(&self) -> Option<IntegrityProblem> {
        (!self.is_raised() && !self.note.trim().is_empty()).then_some(IntegrityProblem::NoteWithoutConcern)
    }

    pub fn is_ticked(&self, concern: &IntegrityConcern) -> bool {
        self.concerns.contains(concern)
    }

    /// The concerns as a sentence for readers and exports: "Disclosed …; Claimed …".
    pub fn concerns_text(&self) -> String {
        self.concerns.iter().map(|c| c.label()).collect::<Vec<_>>().join("; ")
    }
}

/// A raised concern as the loop's debrief lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RaisedConcern {
    pub round_position: i16,
    pub role: CardRole,
    pub flag: IntegrityFlag,
}

/// The concerns of a loop's scorecards that count: those raised on submitted
/// cards (a draft may still change), in round order. `cards` are the ones the
/// viewer may read, so blind scoring hides a sealed card's concern too.
pub fn loop_concerns<'a>(
    cards: impl IntoIterator<Item = (i16, CardRole, CardStatus, &'a IntegrityFlag)>,
) -> Vec<RaisedConcern> {
    let mut raised: Vec<RaisedConcern> = cards
        .into_iter()
        .filter(|(_, _, status, flag)| *status == CardStatus::Submitted && flag.is_raised())
        .map(|(round_position, role, _, flag)| RaisedConcern { round_position, role, flag: flag.clone() })
        .collect();
    raised.sort_by_key(|concern| (concern.round_position, concern.role));
    raised
}

/// The debrief's sentence beside the outcome; `None` when no concern was raised.
pub fn debrief_note(concerns: &[RaisedConcern]) -> Option<String> {
    let mut rounds: Vec<i16> = concerns.iter().map(|c| c.round_position).collect();
    rounds.dedup();
    let where_raised = match rounds.as_slice() {
        [] => return None,
        [only] => format!("round {only}"),
        [init @ .., last] => {
            format!("rounds {} and {last}", init.iter().map(i16::to_string).collect::<Vec<_>>().join(", "))
        }
    };
    Some(format!(
        "An integrity concern was raised in {where_raised}. It is not part of the scores or the outcome above, \
         which come from the recommendations alone: weigh it separately, before any decision."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use IntegrityConcern::{DisclosedConfidential, MisrepresentedWork};

    fn flag(concerns: &[IntegrityConcern], note: &str) -> IntegrityFlag {
        IntegrityFlag { concerns: concerns.to_vec(), note: note.into() }
    }

    #[test]
    fn the_form_reads_ticked_concerns_once_each_in_a_fixed_order() {
        // (ticked values, note, result)
        let table: [(&[&str], &str, Result<IntegrityFlag, IntegrityProblem>); 5] = [
            (&[], "", Ok(IntegrityFlag::default())),
            (&["disclosed_confidential"], "", Ok(flag(&[DisclosedConfidential], ""))),
            (
                &["misrepresented_work", "disclosed_confidential", "misrepresented_work"],
                "Named the unreleased chip.",
                Ok(flag(&[DisclosedConfidential, MisrepresentedWork], "Named the unreleased chip.")),
            ),
            (&["nda_breach"], "", Err(IntegrityProblem::UnknownConcern("nda_breach".into()))),
            (&[""], "", Err(IntegrityProblem::UnknownConcern(String::new()))),
        ];
        for (ticked, note, expected) in table {
            assert_eq!(IntegrityFlag::parse(ticked.iter().copied(), note), expected, "{ticked:?}");
        }
    }

    #[test]
    fn a_note_needs_a_concern_to_be_submitted_and_a_concern_needs_no_note() {
        // (flag, raised, problem on submission)
        let table = [
            (flag(&[], ""), false, None),
            (flag(&[], "  "), false, None),
            (flag(&[], "They seemed to read answers."), false, Some(IntegrityProblem::NoteWithoutConcern)),
            (flag(&[DisclosedConfidential], ""), true, None),
            (flag(&[DisclosedConfidential], "Quoted next year's roadmap."), true, None),
        ];
        for (flag, raised, problem) in table {
            assert_eq!(flag.is_raised(), raised, "{flag:?}");
            assert_eq!(flag.problem_for_submission(), problem, "{flag:?}");
        }
    }

    #[test]
    fn a_loop_lists_only_concerns_raised_on_submitted_cards_in_round_order() {
        use CardRole::{Interviewer, SelfAssessment};
        use CardStatus::{Draft, Skipped, Submitted};
        let raised = flag(&[DisclosedConfidential], "");
        let clear = IntegrityFlag::default();
        let cards = [
            (4, Interviewer, Submitted, &raised),
            (2, Interviewer, Draft, &raised),
            (1, Interviewer, Submitted, &clear),
            (2, SelfAssessment, Submitted, &raised),
            (3, SelfAssessment, Skipped, &clear),
            (1, SelfAssessment, Submitted, &raised),
        ];
        let listed: Vec<(i16, CardRole)> =
            loop_concerns(cards).iter().map(|concern| (concern.round_position, concern.role)).collect();
        assert_eq!(listed, [(1, SelfAssessment), (2, SelfAssessment), (4, Interviewer)]);
    }

    #[test]
    fn the_debrief_note_names_the_rounds_and_says_the_outcome_ignores_it() {
        let concern =
            |round_position, role| RaisedConcern { round_position, role, flag: flag(&[DisclosedConfidential], "") };
        assert_eq!(debrief_note(&[]), None);
        let one = debrief_note(&[concern(2, CardRole::Interviewer)]).expect("note");
        assert!(one.starts_with("An integrity concern was raised in round 2."), "{one}");
        assert!(one.contains("not part of the scores or the outcome"), "{one}");
        let many = debrief_note(&[
            concern(1, CardRole::Interviewer),
            concern(1, CardRole::SelfAssessment),
            concern(3, CardRole::Interviewer),
            concern(5, CardRole::Interviewer),
        ])
        .expect("note");
        assert!(many.contains("rounds 1, 3 and 5."), "{many}");
    }
}
