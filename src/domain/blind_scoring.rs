//! Blind scoring: who may read which scorecard of a round, given how far the
//! round's assessment has come. Round feedback, the loop debrief and its
//! exports all ask [`may_read`]; nothing else decides it.

text_enum!(
    /// Whose assessment a scorecard is.
    CardRole {
        Interviewer => ("interviewer", "Interviewer"),
        SelfAssessment => ("self", "Self-assessment"),
    }
);

text_enum!(
    /// Where a stored scorecard stands. Only a self-assessment can be skipped.
    CardStatus {
        Draft => ("draft", "Draft"),
        Submitted => ("submitted", "Submitted"),
        Skipped => ("skipped", "Skipped"),
    }
);

/// Both scorecards of one round, as far as they have come (`None`: not begun).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundStage {
    pub interviewer: Option<CardStatus>,
    pub self_assessment: Option<CardStatus>,
}

impl RoundStage {
    /// Where the round's `card` stands (`None`: not begun).
    pub fn of(self, card: CardRole) -> Option<CardStatus> {
        match card {
            CardRole::Interviewer => self.interviewer,
            CardRole::SelfAssessment => self.self_assessment,
        }
    }

    /// The candidate has had their say: submitted the self-assessment, or skipped it.
    pub fn self_assessment_done(self) -> bool {
        matches!(self.self_assessment, Some(CardStatus::Submitted | CardStatus::Skipped))
    }

    /// The interviewer's card is in, but sealed from the candidate until they have had their say.
    pub fn interviewer_card_awaits_self_assessment(self) -> bool {
        self.interviewer == Some(CardStatus::Submitted) && !self.self_assessment_done()
    }
}

/// Who is reading, relative to the round the scorecard belongs to. (Someone
/// who takes no part in the loop, a withdrawn interviewer included, reads nothing
/// and never gets this far.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The loop's candidate.
    Candidate,
    /// The interviewer of this round.
    RoundInterviewer,
    /// An interviewer of another round of the loop; `scored` once they have
    /// submitted a scorecard of their own.
    OtherInterviewer { scored: bool },
}

/// Whether `reader` may read the round's `card`:
/// - only submitted scorecards are read at all (a draft is its author's, on the form);
/// - the candidate reads the interviewer's card only after submitting or
///   skipping their self-assessment, so that it is written blind;
/// - the round's interviewer reads the self-assessment only after submitting
///   their own card, so that theirs is written blind too;
/// - an interviewer of another round reads this round's interviewer card once
///   they have scored, and never the candidate's self-assessment of it.
pub fn may_read(reader: Reader, card: CardRole, stage: RoundStage) -> bool {
    if stage.of(card) != Some(CardStatus::Submitted) {
        return false;
    }
    match (card, reader) {
        (CardRole::Interviewer, Reader::RoundInterviewer) | (CardRole::SelfAssessment, Reader::Candidate) => true,
        (CardRole::Interviewer, Reader::Candidate) => stage.self_assessment_done(),
        (CardRole::Interviewer, Reader::OtherInterviewer { scored }) => scored,
        (CardRole::SelfAssessment, Reader::RoundInterviewer) => stage.interviewer == Some(CardStatus::Submitted),
        (CardRole::SelfAssessment, Reader::OtherInterviewer { .. }) => false,
    }
}

/// Whether a submitted scorecard may still be amended. A peer candidate's
/// self-assessment may not: it would no longer be blind once they can read the
/// interviewer's card, which submitting it opens.
pub fn may_amend(card: CardRole, peer_loop: bool) -> bool {
    !(peer_loop && card == CardRole::SelfAssessment)
}

#[cfg(test)]
mod tests {
    use super::CardRole::{Interviewer, SelfAssessment};
    use super::CardStatus::{Draft, Skipped, Submitted};
    use super::*;

    const CANDIDATE: Reader = Reader::Candidate;
    const ROUND_INTERVIEWER: Reader = Reader::RoundInterviewer;
    const OTHER_UNSCORED: Reader = Reader::OtherInterviewer { scored: false };
    const OTHER_SCORED: Reader = Reader::OtherInterviewer { scored: true };
    const READERS: [Reader; 4] = [CANDIDATE, ROUND_INTERVIEWER, OTHER_UNSCORED, OTHER_SCORED];

    fn stage(interviewer: Option<CardStatus>, self_assessment: Option<CardStatus>) -> RoundStage {
        RoundStage { interviewer, self_assessment }
    }

    /// A stage's name, its interviewer card and self-assessment, and who reads each.
    type Row = (&'static str, Option<CardStatus>, Option<CardStatus>, [bool; 4], [bool; 4]);

    /// Every stage a round passes through, and for each card, which of
    /// [`READERS`] (candidate, round interviewer, other interviewer not yet
    /// scored, other interviewer scored) may read it.
    #[rustfmt::skip]
    const TABLE: &[Row] = &[
        //                                                                    interviewer card           self-assessment
        ("nothing begun",                          None,            None,            [false, false, false, false], [false, false, false, false]),
        ("both drafts",                            Some(Draft),     Some(Draft),     [false, false, false, false], [false, false, false, false]),
        ("self submitted, interviewer not begun",  None,            Some(Submitted), [false, false, false, false], [true,  false, false, false]),
        ("self submitted, interviewer drafting",   Some(Draft),     Some(Submitted), [false, false, false, false], [true,  false, false, false]),
        ("interviewer submitted, self not begun",  Some(Submitted), None,            [false, true,  false, true ], [false, false, false, false]),
        ("interviewer submitted, self drafting",   Some(Submitted), Some(Draft),     [false, true,  false, true ], [false, false, false, false]),
        ("interviewer submitted, self skipped",    Some(Submitted), Some(Skipped),   [true,  true,  false, true ], [false, false, false, false]),
        ("both submitted",                         Some(Submitted), Some(Submitted), [true,  true,  false, true ], [true,  true,  false, false]),
        ("self skipped, interviewer drafting",     Some(Draft),     Some(Skipped),   [false, false, false, false], [false, false, false, false]),
    ];

    #[test]
    fn each_reader_reads_each_card_only_at_the_stages_the_table_allows() {
        for (name, interviewer, self_assessment, interviewer_card, self_card) in TABLE {
            let stage = stage(*interviewer, *self_assessment);
            for (card, expected) in [(Interviewer, interviewer_card), (SelfAssessment, self_card)] {
                for (reader, allowed) in READERS.iter().zip(expected) {
                    assert_eq!(
                        may_read(*reader, card, stage),
                        *allowed,
                        "{name}: {reader:?} reading the {card:?} card"
                    );
                }
            }
        }
    }

    #[test]
    fn another_rounds_interviewer_never_reads_a_self_assessment_at_any_stage() {
        let statuses = [None, Some(Draft), Some(Submitted), Some(Skipped)];
        for interviewer in statuses {
            for self_assessment in statuses {
                for scored in [false, true] {
                    let reader = Reader::OtherInterviewer { scored };
                    assert!(!may_read(reader, SelfAssessment, stage(interviewer, self_assessment)));
                }
            }
        }
    }

    #[test]
    fn the_candidate_is_told_the_interviewers_card_waits_only_while_it_is_sealed_from_them() {
        for (name, interviewer, self_assessment, interviewer_card, _) in TABLE {
            let stage = stage(*interviewer, *self_assessment);
            let waits = stage.interviewer_card_awaits_self_assessment();
            assert_eq!(waits, *interviewer == Some(Submitted) && !interviewer_card[0], "{name}");
        }
    }

    #[test]
    fn a_peer_self_assessment_is_final_once_submitted_and_every_other_card_can_be_amended() {
        assert!(!may_amend(SelfAssessment, true));
        assert!(may_amend(SelfAssessment, false), "self-timed: the candidate is the only assessor");
        assert!(may_amend(Interviewer, true));
    }
}
