//! What an assessor fills in for a round, and when it is complete enough to submit.

use uuid::Uuid;

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
}

/// Longest text accepted in any one scorecard field.
pub const MAX_FIELD: usize = 10_000;

impl ScorecardInput {
    /// What still stops submission: every criterion answered (a score or
    /// "not assessed"), evidence for every score, and a recommendation.
    pub fn missing_for_submission(&self) -> Vec<(String, &'static str)> {
        let mut missing = Vec::new();
        for answer in &self.answers {
            let field = format!("score_{}", answer.criterion_id);
            match answer.choice {
                ScoreChoice::Unanswered => missing.push((field, "Choose a score, or \"not assessed\".")),
                ScoreChoice::Score(_) if answer.evidence.trim().is_empty() => {
                    missing.push((format!("evidence_{}", answer.criterion_id), "Write the evidence behind this score."))
                }
                _ => {}
            }
        }
        if self.recommendation.is_none() {
            missing.push(("recommendation".into(), "Choose an overall recommendation."));
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
            && sorted(self) == sorted(other)
    }

    pub fn too_long(&self) -> bool {
        [&self.summary, &self.strengths, &self.areas_to_improve].iter().any(|text| text.len() > MAX_FIELD)
            || self.answers.iter().any(|a| a.evidence.len() > MAX_FIELD)
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
    fn unanswered_criteria_scores_without_evidence_and_no_recommendation_block_submission() {
        let missing = input(ScoreChoice::Unanswered, "", None).missing_for_submission();
        assert_eq!(missing.len(), 2);
        let missing = input(ScoreChoice::Score(2), " ", Some(Recommendation::NoHire)).missing_for_submission();
        assert!(missing[0].0.starts_with("evidence_"));
    }
}
