//! What an assessor fills in for a round, and when it is complete enough to submit.

use uuid::Uuid;

use super::blind_scoring::CardStatus;
use super::integrity::IntegrityFlag;
use super::scoring::Recommendation;

/// One criterion's answer: a 1–4 score, "not assessed" (no evidence either
/// way, which is not a low score), or nothing chosen yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreChoice {
    Unanswered,
    NotAssessed,
    Score(u8),
}

impl ScoreChoice {
    /// Parses a form value: "1".."4", "na", or "" for unanswered.
    pub fn parse(value: &str) -> Option<ScoreChoice> {
        match value.trim() {
            "" => Some(ScoreChoice::Unanswered),
            "na" => Some(ScoreChoice::NotAssessed),
            "1" => Some(ScoreChoice::Score(1)),
            "2" => Some(ScoreChoice::Score(2)),
            "3" => Some(ScoreChoice::Score(3)),
            "4" => Some(ScoreChoice::Score(4)),
            _ => None,
        }
    }

    /// The stored score: a number, or null for both "not assessed" and unanswered.
    pub fn score(self) -> Option<i16> {
        match self {
            ScoreChoice::Score(score) => Some(i16::from(score)),
            _ => None,
        }
    }

    pub fn form_value(self) -> String {
        match self {
            ScoreChoice::Unanswered => String::new(),
            ScoreChoice::NotAssessed => "na".into(),
            ScoreChoice::Score(score) => score.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionAnswer {
    pub criterion_id: Uuid,
    pub choice: ScoreChoice,
    pub evidence: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScorecardInput {
    pub answers: Vec<CriterionAnswer>,
    pub recommendation: Option<Recommendation>,
    pub summary: String,
    pub strengths: String,
    pub areas_to_improve: String,
    /// Raised beside the scores, never as one: it changes no score.
    pub integrity: IntegrityFlag,
}

/// Longest text accepted in any one scorecard field.
pub const MAX_FIELD: usize = 10_000;

impl ScorecardInput {
    /// What still stops submission: every criterion answered (a score or
    /// "not assessed"), evidence for every score, and a recommendation.
    pub fn missing_for_submission(&self) -> Vec<(String, String)> {
        let mut missing = Vec::new();
        for answer in &self.answers {
            let field = format!("score_{}", answer.criterion_id);
            match answer.choice {
                ScoreChoice::Unanswered => missing.push((field, "Choose a score, or \"not assessed\".".into())),
                ScoreChoice::Score(_) if answer.evidence.trim().is_empty() => missing.push((
                    format!("evidence_{}", answer.criterion_id),
                    "Write the evidence behind this score.".into(),
                )),
                _ => {}
            }
        }
        if self.recommendation.is_none() {
            missing.push(("recommendation".into(), "Choose an overall recommendation.".into()));
        }
        if let Some(problem) = self.integrity.problem_for_submission() {
            missing.push(("integrity_note".into(), problem.message()));
        }
        missing
    }

    /// True when `other` says exactly the same, whatever the order of its answers:
    /// resending a scorecard unchanged (a double click on "Amend") is no amendment.
    pub fn says_the_same_as(&self, other: &ScorecardInput) -> bool {
        let sorted = |input: &ScorecardInput| {
            let mut answers = input.answers.clone();
            answers.sort_by_key(|answer| answer.criterion_id);
            answers
        };
        self.recommendation == other.recommendation
            && self.summary == other.summary
            && self.strengths == other.strengths
            && self.areas_to_improve == other.areas_to_improve
            && self.integrity == other.integrity
            && sorted(self) == sorted(other)
    }

    pub fn too_long(&self) -> bool {
        [&self.summary, &self.strengths, &self.areas_to_improve, &self.integrity.note]
            .iter()
            .any(|text| text.len() > MAX_FIELD)
            || self.answers.iter().any(|a| a.evidence.len() > MAX_FIELD)
    }
}

/// What the assessor asked for with the button they pressed (autosave sends `save`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Save,
    Submit,
    Amend,
}

impl Intent {
    /// A missing or unknown intent is a plain save: it changes nothing that is submitted.
    pub fn parse(value: &str) -> Intent {
        match value {
            "submit" => Intent::Submit,
            "amend" => Intent::Amend,
            _ => Intent::Save,
        }
    }

    /// Submitting and amending need a complete scorecard; saving a draft does not.
    pub fn needs_complete_card(self) -> bool {
        self != Intent::Save
    }
}

/// Why a scorecard cannot take what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    SkippedIsFinal,
    PeerSelfAssessmentIsFinal,
    SubmittedUseAmend,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::SkippedIsFinal => "You skipped this self-assessment; skipping is final.",
            Refusal::PeerSelfAssessmentIsFinal => {
                "In a peer round your self-assessment is final once submitted: it was written blind to the interviewer's scorecard."
            }
            Refusal::SubmittedUseAmend => "This scorecard is submitted; use \"Amend\" to change it.",
        }
    }
}

/// What a posted scorecard leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Refuse(Refusal),
    /// Keep the draft; `submit` it too when asked and complete.
    SaveDraft {
        submit: bool,
    },
    /// Record a dated amendment of the submitted card (when it says something new).
    Amend,
    /// Nothing is stored: the form comes back with what is missing.
    ShowMissing,
}

/// The one rule for a posted scorecard, given its stored status (`None`: not
/// begun), whether a submitted card of this kind may be amended
/// ([`super::blind_scoring::may_amend`]) and whether the input is complete.
pub fn next_step(intent: Intent, status: Option<CardStatus>, may_amend: bool, complete: bool) -> Step {
    match status {
        Some(CardStatus::Skipped) => Step::Refuse(Refusal::SkippedIsFinal),
        Some(CardStatus::Submitted) if !may_amend => Step::Refuse(Refusal::PeerSelfAssessmentIsFinal),
        Some(CardStatus::Submitted) => match intent {
            Intent::Amend if complete => Step::Amend,
            Intent::Amend => Step::ShowMissing,
            Intent::Save | Intent::Submit => Step::Refuse(Refusal::SubmittedUseAmend),
        },
        None | Some(CardStatus::Draft) => Step::SaveDraft { submit: intent == Intent::Submit && complete },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(choice: ScoreChoice, evidence: &str, recommendation: Option<Recommendation>) -> ScorecardInput {
        ScorecardInput {
            answers: vec![CriterionAnswer { criterion_id: Uuid::nil(), choice, evidence: evidence.into() }],
            recommendation,
            ..ScorecardInput::default()
        }
    }

    #[test]
    fn scores_outside_one_to_four_are_refused() {
        assert_eq!(ScoreChoice::parse("0"), None);
        assert_eq!(ScoreChoice::parse("5"), None);
        assert_eq!(ScoreChoice::parse("3"), Some(ScoreChoice::Score(3)));
        assert_eq!(ScoreChoice::parse("na").and_then(ScoreChoice::score), None);
    }

    #[test]
    fn a_complete_scorecard_can_be_submitted() {
        assert!(
            input(ScoreChoice::Score(3), "Found the O(n) approach.", Some(Recommendation::Hire))
                .missing_for_submission()
                .is_empty()
        );
        assert!(input(ScoreChoice::NotAssessed, "", Some(Recommendation::Hire)).missing_for_submission().is_empty());
    }

    #[test]
    fn the_same_answers_in_another_order_say_the_same_and_a_changed_word_does_not() {
        let answer = |id: u128, score: u8| CriterionAnswer {
            criterion_id: Uuid::from_u128(id),
            choice: ScoreChoice::Score(score),
            evidence: "seen".into(),
        };
        let card = ScorecardInput { answers: vec![answer(1, 3), answer(2, 4)], ..ScorecardInput::default() };
        let reordered = ScorecardInput { answers: vec![answer(2, 4), answer(1, 3)], ..ScorecardInput::default() };
        assert!(card.says_the_same_as(&reordered));
        let reworded = ScorecardInput { summary: "changed".into(), ..reordered.clone() };
        assert!(!card.says_the_same_as(&reworded));
        let rescored = ScorecardInput { answers: vec![answer(2, 4), answer(1, 2)], ..reordered };
        assert!(!card.says_the_same_as(&rescored));
    }

    #[test]
    fn an_integrity_note_without_a_concern_blocks_submission_and_a_concern_changes_nothing_else() {
        use crate::domain::integrity::IntegrityConcern;
        let complete = input(ScoreChoice::Score(3), "Solid.", Some(Recommendation::Hire));
        let note_only = ScorecardInput {
            integrity: IntegrityFlag { concerns: vec![], note: "Quoted an internal roadmap.".into() },
            ..complete.clone()
        };
        assert_eq!(
            note_only.missing_for_submission(),
            [("integrity_note".to_owned(), note_only.integrity.problem_for_submission().expect("problem").message())]
        );
        let flagged = ScorecardInput {
            integrity: IntegrityFlag { concerns: vec![IntegrityConcern::DisclosedConfidential], note: String::new() },
            ..complete.clone()
        };
        assert!(flagged.missing_for_submission().is_empty());
        assert_eq!(flagged.answers, complete.answers, "the flag sits beside the scores");
        assert!(!flagged.says_the_same_as(&complete), "raising a concern is an amendment");
    }

    #[test]
    fn unanswered_criteria_scores_without_evidence_and_no_recommendation_block_submission() {
        let missing = input(ScoreChoice::Unanswered, "", None).missing_for_submission();
        assert_eq!(missing.len(), 2);
        let missing = input(ScoreChoice::Score(2), " ", Some(Recommendation::NoHire)).missing_for_submission();
        assert!(missing[0].0.starts_with("evidence_"));
    }

    #[test]
    fn each_intent_and_stored_status_leads_to_one_step() {
        use CardStatus::{Draft, Skipped, Submitted};
        use Intent::{Amend, Save, Submit};
        let refuse = Step::Refuse;
        // (intent, stored status, may amend, complete, step)
        let table = [
            (Save, None, true, false, Step::SaveDraft { submit: false }),
            (Submit, None, true, true, Step::SaveDraft { submit: true }),
            (Submit, Some(Draft), true, false, Step::SaveDraft { submit: false }),
            (Amend, Some(Draft), true, true, Step::SaveDraft { submit: false }),
            (Save, Some(Submitted), true, true, refuse(Refusal::SubmittedUseAmend)),
            (Submit, Some(Submitted), true, true, refuse(Refusal::SubmittedUseAmend)),
            (Amend, Some(Submitted), true, true, Step::Amend),
            (Amend, Some(Submitted), true, false, Step::ShowMissing),
            (Amend, Some(Submitted), false, true, refuse(Refusal::PeerSelfAssessmentIsFinal)),
            (Save, Some(Skipped), true, true, refuse(Refusal::SkippedIsFinal)),
            (Amend, Some(Skipped), false, true, refuse(Refusal::SkippedIsFinal)),
        ];
        for (intent, status, may_amend, complete, step) in table {
            assert_eq!(
                next_step(intent, status, may_amend, complete),
                step,
                "{intent:?} {status:?} {may_amend} {complete}"
            );
        }
    }

    #[test]
    fn an_unknown_intent_is_a_plain_save() {
        assert_eq!(Intent::parse("submit"), Intent::Submit);
        assert_eq!(Intent::parse("amend"), Intent::Amend);
        assert_eq!(Intent::parse(""), Intent::Save);
        assert_eq!(Intent::parse("delete"), Intent::Save);
    }
}
