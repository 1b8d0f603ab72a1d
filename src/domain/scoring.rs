//! Combines scorecards: per-pillar means, how much of each rubric a round
//! covered, the loop's outcome by rule, and time-weighted trends for history.
//!
//! The outcome combines the rounds' recommendations by rule, never by
//! averaging, checked in this order:
//!
//! 1. Any scorecard not yet submitted: no outcome yet.
//! 2. Two or more Strong No Hires: Strong No Hire. Exactly one: No Hire.
//! 3. Two or more No Hires: No Hire.
//! 4. Exactly one No Hire: Hire if at least two rounds are Strong Hire,
//!    otherwise No Hire.
//! 5. No No Hire: Strong Hire if at least half the rounds are Strong Hire,
//!    otherwise Hire.

use chrono::{DateTime, Utc};

use super::{Pillar, RoundKind};

text_enum!(
    /// A round's overall recommendation; there is deliberately no neutral option.
    Recommendation {
        StrongNoHire => ("strong_no_hire", "Strong No Hire"),
        NoHire => ("no_hire", "No Hire"),
        Hire => ("hire", "Hire"),
        StrongHire => ("strong_hire", "Strong Hire"),
    }
);

/// One rubric criterion's score, by the pillar it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriterionScore {
    pub pillar: Pillar,
    /// 1 to 4, or `None` when not assessed (no evidence, which is not a low score).
    pub score: Option<u8>,
}

/// One round's scorecard as far as the debrief needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundScores {
    pub round_position: i16,
    pub kind: RoundKind,
    /// `None` until the scorecard is submitted.
    pub recommendation: Option<Recommendation>,
    pub criteria: Vec<CriterionScore>,
}

impl RoundScores {
    /// A round without a (readable) scorecard.
    pub fn unscored(round_position: i16, kind: RoundKind) -> RoundScores {
        RoundScores { round_position, kind, recommendation: None, criteria: Vec::new() }
    }
}

/// A pillar's mean over the assessed criteria of submitted scorecards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PillarSummary {
    pub pillar: Pillar,
    /// `None` when no criterion of this pillar was assessed.
    pub mean: Option<f64>,
    /// How many assessed criteria the mean is over.
    pub scored: usize,
}

/// How many of a round's criteria were actually assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub assessed: usize,
    pub total: usize,
}

/// The loop's overall outcome and the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `None` while scorecards are outstanding.
    pub decision: Option<Recommendation>,
    /// The rule, as a sentence for the debrief page.
    pub rule: String,
    pub submitted: usize,
    pub total: usize,
}

/// All four pillars in [`Pillar::ALL`] order. Only submitted scorecards count,
/// since a draft may still change (and is not shown to the candidate), and
/// only assessed criteria: "not assessed" is left out, not scored as zero.
pub fn pillar_summaries(rounds: &[RoundScores]) -> Vec<PillarSummary> {
    Pillar::ALL
        .iter()
        .map(|&pillar| {
            let scores: Vec<f64> = rounds
                .iter()
                .filter(|round| round.recommendation.is_some())
                .flat_map(|round| &round.criteria)
                .filter(|criterion| criterion.pillar == pillar)
                .filter_map(|criterion| criterion.score)
                .map(f64::from)
                .collect();
            let mean = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
            PillarSummary { pillar, mean, scored: scores.len() }
        })
        .collect()
}

pub fn coverage(round: &RoundScores) -> Coverage {
    Coverage {
        assessed: round.criteria.iter().filter(|criterion| criterion.score.is_some()).count(),
        total: round.criteria.len(),
    }
}

/// The loop's outcome by the rules in the module documentation.
pub fn loop_outcome(rounds: &[RoundScores]) -> Outcome {
    let total = rounds.len();
    let submitted = rounds.iter().filter(|round| round.recommendation.is_some()).count();
    let outcome = |decision: Option<Recommendation>, rule: String| Outcome { decision, rule, submitted, total };

    if total == 0 {
        return outcome(None, "The loop has no rounds, so there is no outcome.".into());
    }
    if submitted < total {
        return outcome(
            None,
            format!("{submitted} of {total} scorecards submitted; the outcome waits for all of them."),
        );
    }

    let rounds_with = |recommendation: Recommendation| -> Vec<i16> {
        rounds
            .iter()
            .filter(|round| round.recommendation == Some(recommendation))
            .map(|round| round.round_position)
            .collect()
    };
    let strong_no_hires = rounds_with(Recommendation::StrongNoHire);
    let no_hires = rounds_with(Recommendation::NoHire);
    let strong_hires = rounds_with(Recommendation::StrongHire);

    match (strong_no_hires.as_slice(), no_hires.as_slice()) {
        ([_, _, ..], _) => outcome(
            Some(Recommendation::StrongNoHire),
            format!("Strong No Hires in {} make the loop a Strong No Hire.", rounds_phrase(&strong_no_hires)),
        ),
        ([round], _) => outcome(
            Some(Recommendation::NoHire),
            format!("A Strong No Hire in round {round} caps the loop at No Hire."),
        ),
        ([], [_, _, ..]) => outcome(
            Some(Recommendation::NoHire),
            format!("No Hires in {} make the loop a No Hire.", rounds_phrase(&no_hires)),
        ),
        ([], [round]) if strong_hires.len() >= 2 => outcome(
            Some(Recommendation::Hire),
            format!(
                "The one No Hire (round {round}) is offset by Strong Hires in {}, so the loop is a Hire.",
                rounds_phrase(&strong_hires)
            ),
        ),
        ([], [round]) => outcome(
            Some(Recommendation::NoHire),
            format!("One No Hire (round {round}) without two Strong Hires to offset it makes the loop a No Hire."),
        ),
        ([], []) if strong_hires.len() * 2 >= total => outcome(
            Some(Recommendation::StrongHire),
            format!(
                "No round is a No Hire and {} of {total} are Strong Hire (at least half), so the loop is a Strong Hire.",
                strong_hires.len()
            ),
        ),
        ([], []) => outcome(
            Some(Recommendation::Hire),
            format!(
                "No round is a No Hire but only {} of {total} are Strong Hire (fewer than half), so the loop is a Hire.",
                strong_hires.len()
            ),
        ),
    }
}

/// The mean of a scorecard's assessed criteria; `None` when none was assessed.
pub fn round_mean(round: &RoundScores) -> Option<f64> {
    let scores: Vec<f64> = round.criteria.iter().filter_map(|c| c.score.map(f64::from)).collect();
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}

/// One round as the loop debrief reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct DebriefRound {
    /// The deciding scorecard as far as the viewer may read it: no
    /// recommendation while it is not submitted or is sealed from them.
    pub scores: RoundScores,
    /// The deciding scorecard is submitted, whether or not the viewer may read it yet.
    pub deciding_submitted: bool,
    pub elapsed_ms: i64,
    pub allowed_ms: i64,
}

/// The loop debrief: outcome, pillar means, what to practise next, time.
#[derive(Debug, Clone, PartialEq)]
pub struct Debrief {
    pub outcome: Outcome,
    pub pillars: Vec<PillarSummary>,
    /// The kinds of the (at most two) lowest-scoring rounds, lowest first.
    pub weakest_kinds: Vec<RoundKind>,
    pub used_ms: i64,
    pub allowed_ms: i64,
}

/// The debrief of a loop's rounds as `viewer_is_candidate` (or an interviewer) may read them.
/// Blind scoring: while a submitted deciding scorecard is sealed from the viewer, so is the outcome.
pub fn debrief(rounds: &[DebriefRound], viewer_is_candidate: bool) -> Debrief {
    let scores: Vec<RoundScores> = rounds.iter().map(|round| round.scores.clone()).collect();
    let mut outcome = loop_outcome(&scores);
    let submitted = rounds.iter().filter(|round| round.deciding_submitted).count();
    if submitted > outcome.submitted {
        outcome.decision = None;
        outcome.submitted = submitted;
        outcome.rule = if viewer_is_candidate {
            "Scoring is blind: submit or skip your self-assessment of each round to see its interviewer's scorecard and the outcome."
        } else {
            "Scoring is blind: submit your own scorecard to see the other interviewers' scores and the outcome."
        }
        .into();
    }
    let mut by_mean: Vec<(f64, RoundKind)> =
        scores.iter().filter_map(|round| Some((round_mean(round)?, round.kind))).collect();
    by_mean.sort_by(|a, b| a.0.total_cmp(&b.0));
    Debrief {
        outcome,
        pillars: pillar_summaries(&scores),
        weakest_kinds: by_mean.iter().take(2).map(|(_, kind)| *kind).collect(),
        used_ms: rounds.iter().map(|round| round.elapsed_ms).sum(),
        allowed_ms: rounds.iter().map(|round| round.allowed_ms).sum(),
    }
}

/// "round 3", "rounds 2 and 5", "rounds 1, 2 and 4".
fn rounds_phrase(positions: &[i16]) -> String {
    match positions {
        [] => "no rounds".into(),
        [only] => format!("round {only}"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(i16::to_string).collect();
            format!("rounds {} and {last}", init.join(", "))
        }
    }
}

/// An exponentially time-weighted mean of `(when, value)` points: a point
/// `half_life_days` older than another counts half as much. Points dated
/// after `now` count as `now`; non-finite values are skipped. `None` when no
/// point is left or the half-life is not a positive number.
///
/// Weights are taken relative to the newest point rather than to `now`; the
/// mean is the same (every weight scales by one factor) but very old history
/// cannot underflow every weight to zero.
pub fn weighted_trend(points: &[(DateTime<Utc>, f64)], now: DateTime<Utc>, half_life_days: f64) -> Option<f64> {
    if !(half_life_days.is_finite() && half_life_days > 0.0) {
        return None;
    }
    let points: Vec<(DateTime<Utc>, f64)> =
        points.iter().filter(|(_, value)| value.is_finite()).map(|&(when, value)| (when.min(now), value)).collect();
    let newest = points.iter().map(|&(when, _)| when).max()?;

    let half_life_ms = half_life_days * 86_400_000.0;
    let (weighted_sum, total_weight) = points.iter().fold((0.0, 0.0), |(sum, weights), &(when, value)| {
        let age_ms = (newest - when).num_milliseconds() as f64;
        let weight = (-age_ms / half_life_ms).exp2();
        (sum + weight * value, weights + weight)
    });
    Some(weighted_sum / total_weight)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use Recommendation::{Hire, NoHire, StrongHire, StrongNoHire};

    fn scored(pillar: Pillar, score: Option<u8>) -> CriterionScore {
        CriterionScore { pillar, score }
    }

    fn round(position: i16, recommendation: Option<Recommendation>, criteria: Vec<CriterionScore>) -> RoundScores {
        RoundScores { round_position: position, kind: RoundKind::Coding, recommendation, criteria }
    }

    /// Submitted rounds with these recommendations, numbered from 1.
    fn loop_of(recommendations: &[Recommendation]) -> Vec<RoundScores> {
        recommendations.iter().zip(1..).map(|(&rec, position)| round(position, Some(rec), vec![])).collect()
    }

    fn decision(recommendations: &[Recommendation]) -> Option<Recommendation> {
        loop_outcome(&loop_of(recommendations)).decision
    }

    #[test]
    fn pillar_means_leave_out_criteria_that_were_not_assessed() {
        let rounds = [
            round(
                1,
                Some(Hire),
                vec![
                    scored(Pillar::TechnicalDepth, Some(4)),
                    scored(Pillar::TechnicalDepth, None),
                    scored(Pillar::CommunicationCulture, Some(2)),
                ],
            ),
            round(
                2,
                Some(StrongHire),
                vec![scored(Pillar::TechnicalDepth, Some(3)), scored(Pillar::DomainExpertise, None)],
            ),
        ];
        let summaries = pillar_summaries(&rounds);
        let pillars: Vec<Pillar> = summaries.iter().map(|summary| summary.pillar).collect();
        assert_eq!(pillars, Pillar::ALL);
        assert_eq!(summaries[0], PillarSummary { pillar: Pillar::TechnicalDepth, mean: Some(3.5), scored: 2 });
        assert_eq!(summaries[1], PillarSummary { pillar: Pillar::EngineeringExcellence, mean: None, scored: 0 });
        assert_eq!(summaries[2], PillarSummary { pillar: Pillar::DomainExpertise, mean: None, scored: 0 });
        assert_eq!(summaries[3], PillarSummary { pillar: Pillar::CommunicationCulture, mean: Some(2.0), scored: 1 });
    }

    #[test]
    fn a_card_is_averaged_over_the_criteria_it_has() {
        // A senior/staff behavioral card has a sixth criterion (leadership) a junior/mid card lacks:
        // each card's mean and coverage are over its own criteria, never padded to the other's.
        let five = vec![scored(Pillar::CommunicationCulture, Some(3)); 5];
        let mut six = five.clone();
        six.push(scored(Pillar::CommunicationCulture, Some(1)));
        // (criteria, mean, coverage)
        let table = [
            (five.clone(), Some(3.0), Coverage { assessed: 5, total: 5 }),
            (six, Some(16.0 / 6.0), Coverage { assessed: 6, total: 6 }),
            (
                [five, vec![scored(Pillar::CommunicationCulture, None)]].concat(),
                Some(3.0),
                Coverage { assessed: 5, total: 6 },
            ),
        ];
        for (criteria, mean, covered) in table {
            let card = round(1, Some(Hire), criteria);
            assert_eq!(round_mean(&card), mean);
            assert_eq!(coverage(&card), covered);
        }
    }

    #[test]
    fn pillar_means_leave_out_unsubmitted_scorecards() {
        let rounds = [
            round(1, Some(Hire), vec![scored(Pillar::TechnicalDepth, Some(2))]),
            round(2, None, vec![scored(Pillar::TechnicalDepth, Some(4))]),
        ];
        assert_eq!(pillar_summaries(&rounds)[0].mean, Some(2.0));
    }

    #[test]
    fn coverage_counts_assessed_criteria_against_all_of_them() {
        let criteria = vec![
            scored(Pillar::TechnicalDepth, Some(1)),
            scored(Pillar::DomainExpertise, None),
            scored(Pillar::CommunicationCulture, Some(4)),
        ];
        assert_eq!(coverage(&round(1, Some(Hire), criteria)), Coverage { assessed: 2, total: 3 });
        assert_eq!(coverage(&round(1, None, vec![])), Coverage { assessed: 0, total: 0 });
    }

    #[test]
    fn the_outcome_waits_for_every_scorecard() {
        let mut rounds = loop_of(&[StrongNoHire, Hire, Hire, StrongHire, Hire, Hire]);
        for pending in &mut rounds[3..] {
            pending.recommendation = None;
        }
        let outcome = loop_outcome(&rounds);
        assert_eq!(outcome.decision, None);
        assert_eq!((outcome.submitted, outcome.total), (3, 6));
        assert_eq!(outcome.rule, "3 of 6 scorecards submitted; the outcome waits for all of them.");
    }

    #[test]
    fn a_loop_without_rounds_has_no_outcome() {
        assert_eq!(loop_outcome(&[]).decision, None);
    }

    #[test]
    fn one_strong_no_hire_caps_the_loop_at_no_hire() {
        let outcome = loop_outcome(&loop_of(&[StrongHire, StrongHire, StrongNoHire, StrongHire]));
        assert_eq!(outcome.decision, Some(NoHire));
        assert_eq!(outcome.rule, "A Strong No Hire in round 3 caps the loop at No Hire.");
        assert_eq!((outcome.submitted, outcome.total), (4, 4));
    }

    #[test]
    fn two_strong_no_hires_make_a_strong_no_hire() {
        let outcome = loop_outcome(&loop_of(&[StrongNoHire, Hire, StrongHire, Hire, StrongNoHire]));
        assert_eq!(outcome.decision, Some(StrongNoHire));
        assert_eq!(outcome.rule, "Strong No Hires in rounds 1 and 5 make the loop a Strong No Hire.");
    }

    #[test]
    fn two_no_hires_make_a_no_hire_whatever_else() {
        let outcome = loop_outcome(&loop_of(&[NoHire, StrongHire, StrongHire, NoHire, StrongHire, NoHire]));
        assert_eq!(outcome.decision, Some(NoHire));
        assert_eq!(outcome.rule, "No Hires in rounds 1, 4 and 6 make the loop a No Hire.");
    }

    #[test]
    fn one_no_hire_is_offset_by_two_strong_hires() {
        let outcome = loop_outcome(&loop_of(&[StrongHire, NoHire, Hire, StrongHire]));
        assert_eq!(outcome.decision, Some(Hire));
        assert_eq!(
            outcome.rule,
            "The one No Hire (round 2) is offset by Strong Hires in rounds 1 and 4, so the loop is a Hire."
        );
    }

    #[test]
    fn one_no_hire_without_two_strong_hires_is_a_no_hire() {
        let outcome = loop_outcome(&loop_of(&[StrongHire, NoHire, Hire, Hire]));
        assert_eq!(outcome.decision, Some(NoHire));
        assert_eq!(
            outcome.rule,
            "One No Hire (round 2) without two Strong Hires to offset it makes the loop a No Hire."
        );
    }

    #[test]
    fn without_no_hires_half_strong_hires_make_a_strong_hire() {
        assert_eq!(decision(&[StrongHire, StrongHire, StrongHire, Hire, Hire, Hire]), Some(StrongHire));
        assert_eq!(decision(&[StrongHire]), Some(StrongHire));
        let outcome = loop_outcome(&loop_of(&[StrongHire, Hire]));
        assert_eq!(outcome.decision, Some(StrongHire));
        assert_eq!(
            outcome.rule,
            "No round is a No Hire and 1 of 2 are Strong Hire (at least half), so the loop is a Strong Hire."
        );
    }

    #[test]
    fn without_no_hires_fewer_than_half_strong_hires_make_a_hire() {
        assert_eq!(decision(&[StrongHire, StrongHire, Hire, Hire, Hire]), Some(Hire));
        let outcome = loop_outcome(&loop_of(&[Hire, Hire, Hire]));
        assert_eq!(outcome.decision, Some(Hire));
        assert_eq!(
            outcome.rule,
            "No round is a No Hire but only 0 of 3 are Strong Hire (fewer than half), so the loop is a Hire."
        );
    }

    #[test]
    fn recommendations_round_trip_through_their_text() {
        for recommendation in Recommendation::ALL {
            assert_eq!(Recommendation::parse(recommendation.as_str()), Some(*recommendation));
        }
        assert_eq!(StrongNoHire.label(), "Strong No Hire");
    }

    fn days_ago(now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
        now - Duration::days(days)
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).single().expect("valid instant")
    }

    fn close(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|actual| (actual - expected).abs() < 1e-9)
    }

    #[test]
    fn a_trend_of_nothing_is_none() {
        assert_eq!(weighted_trend(&[], now(), 30.0), None);
        assert_eq!(weighted_trend(&[(now(), f64::NAN)], now(), 30.0), None);
    }

    #[test]
    fn a_trend_needs_a_positive_half_life() {
        let points = [(now(), 3.0)];
        assert_eq!(weighted_trend(&points, now(), 0.0), None);
        assert_eq!(weighted_trend(&points, now(), -1.0), None);
        assert_eq!(weighted_trend(&points, now(), f64::INFINITY), None);
    }

    #[test]
    fn points_of_the_same_age_count_equally() {
        let points = [(days_ago(now(), 10), 2.0), (days_ago(now(), 10), 4.0), (days_ago(now(), 10), 3.0)];
        assert!(close(weighted_trend(&points, now(), 30.0), 3.0));
        assert!(close(weighted_trend(&[(days_ago(now(), 400), 2.5)], now(), 30.0), 2.5));
    }

    #[test]
    fn a_point_one_half_life_older_counts_half() {
        let points = [(days_ago(now(), 40), 0.0), (days_ago(now(), 10), 3.0)];
        // Weights 0.5 and 1: (0 × 0.5 + 3 × 1) / 1.5 = 2.
        assert!(close(weighted_trend(&points, now(), 30.0), 2.0));
    }

    #[test]
    fn recent_points_pull_the_trend_more_than_old_ones() {
        let points = [(days_ago(now(), 90), 1.0), (days_ago(now(), 60), 1.0), (days_ago(now(), 1), 4.0)];
        let trend = weighted_trend(&points, now(), 30.0).expect("a trend");
        assert!(trend > 2.0, "{trend}");
    }

    #[test]
    fn points_after_now_count_as_now() {
        let points = [(now() + Duration::days(30), 3.0), (days_ago(now(), 30), 0.0)];
        assert!(close(weighted_trend(&points, now(), 30.0), 2.0));
    }

    #[test]
    fn very_old_history_still_gives_a_number() {
        let points = [(days_ago(now(), 36_500), 1.0), (days_ago(now(), 36_501), 3.0)];
        let trend = weighted_trend(&points, now(), 0.5).expect("a trend");
        assert!(trend.is_finite() && (1.0..=3.0).contains(&trend), "{trend}");
    }

    fn debrief_round(
        kind: RoundKind,
        recommendation: Option<Recommendation>,
        score: u8,
        submitted: bool,
    ) -> DebriefRound {
        DebriefRound {
            scores: RoundScores {
                round_position: 1,
                kind,
                recommendation,
                criteria: vec![scored(Pillar::TechnicalDepth, Some(score))],
            },
            deciding_submitted: submitted,
            elapsed_ms: 1_000,
            allowed_ms: 2_000,
        }
    }

    #[test]
    fn the_debrief_seals_the_outcome_while_a_submitted_card_is_sealed_from_the_viewer() {
        let open = [debrief_round(RoundKind::Coding, Some(Hire), 3, true)];
        assert_eq!(debrief(&open, true).outcome.decision, Some(Hire));
        let sealed = [
            debrief_round(RoundKind::Coding, Some(Hire), 3, true),
            debrief_round(RoundKind::Behavioral, None, 2, true),
        ];
        for candidate in [true, false] {
            let outcome = debrief(&sealed, candidate).outcome;
            assert_eq!(outcome.decision, None);
            assert_eq!(outcome.submitted, 2);
            assert!(outcome.rule.starts_with("Scoring is blind"), "{}", outcome.rule);
        }
        let waiting =
            [debrief_round(RoundKind::Coding, Some(Hire), 3, true), debrief_round(RoundKind::Domain, None, 2, false)];
        assert!(debrief(&waiting, true).outcome.rule.starts_with("1 of 2 scorecards submitted"));
    }

    #[test]
    fn the_debrief_names_the_two_lowest_scoring_kinds_and_adds_up_the_time() {
        let rounds = [
            debrief_round(RoundKind::Coding, Some(Hire), 3, true),
            debrief_round(RoundKind::Behavioral, Some(NoHire), 1, true),
            debrief_round(RoundKind::Domain, Some(Hire), 2, true),
        ];
        let debrief = debrief(&rounds, true);
        assert_eq!(debrief.weakest_kinds, [RoundKind::Behavioral, RoundKind::Domain]);
        assert_eq!((debrief.used_ms, debrief.allowed_ms), (3_000, 6_000));
        assert_eq!(round_mean(&rounds[0].scores), Some(3.0));
        assert_eq!(round_mean(&round(1, None, vec![scored(Pillar::TechnicalDepth, None)])), None);
    }
}
