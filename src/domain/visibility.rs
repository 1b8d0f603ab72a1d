//! Who sees what of a round. Every page, export, live stream and history read
//! asks [`may_see`] (or the helpers built on it) whether a viewer may see an
//! item of a round at the stage the round has reached; nothing else decides it.
//! Scorecards follow the blind-scoring rule of [`blind_scoring::may_read`] and
//! the clock follows [`timer_control::may_control`]; both are reached through
//! here so that the table test below lists every cell in one place. The peer
//! board's slots and swaps are answered here too ([`may_see_on_board`]).

use super::LoopMode;
use super::blind_scoring::{self, CardRole, CardStatus, Reader, RoundStage};
use super::call;
use super::timer::TimerState;
use super::timer_control::{self, ClockSeat};

/// The viewer's part in the round, found from the loop's participants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The loop's candidate.
    Candidate,
    /// The interviewer of this round.
    RoundInterviewer,
    /// An interviewer of another round of the same loop; `scored` once they have
    /// submitted a scorecard of their own in it.
    OtherInterviewer { scored: bool },
}

impl Viewer {
    /// The viewer's part in a round with this candidate and interviewer, if any.
    pub fn of(user: uuid::Uuid, candidate: uuid::Uuid, interviewer: Option<uuid::Uuid>) -> Option<Viewer> {
        if user == candidate {
            Some(Viewer::Candidate)
        } else if interviewer == Some(user) {
            Some(Viewer::RoundInterviewer)
        } else {
            None
        }
    }

    /// The viewer's part in one round of a loop they take part in: the
    /// candidate, that round's interviewer, or an interviewer of another round
    /// (`scored`: they have submitted a scorecard of their own in the loop).
    pub fn in_loop(user: uuid::Uuid, candidate: uuid::Uuid, interviewer: Option<uuid::Uuid>, scored: bool) -> Viewer {
        Viewer::of(user, candidate, interviewer).unwrap_or(Viewer::OtherInterviewer { scored })
    }

    /// The scorecard this viewer fills in for the round, if any.
    pub fn own_card(self) -> Option<CardRole> {
        match self {
            Viewer::Candidate => Some(CardRole::SelfAssessment),
            Viewer::RoundInterviewer => Some(CardRole::Interviewer),
            Viewer::OtherInterviewer { .. } => None,
        }
    }

    pub fn is_candidate(self) -> bool {
        self == Viewer::Candidate
    }
}

/// How far a round has come: what every rule below depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// Peer: someone else interviews. Self-timed: the candidate is alone.
    pub mode: LoopMode,
    pub timer: TimerState,
    /// The question the round has reached, 1-based.
    pub current_question: i16,
    /// The round has an interviewer now (a withdrawn one leaves none).
    pub has_interviewer: bool,
    pub cards: RoundStage,
}

/// Something of a round that someone may or may not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// A question's title and prompt, by position (1-based).
    Question(i16),
    /// The interviewer's material for each question: hints, follow-ups and
    /// "what good looks like".
    InterviewerGuide,
    /// Which hints and follow-ups the interviewer marked as given, and the
    /// markers they dropped on the round's clock.
    GivenHints,
    /// A coding question's reference solution.
    ReferenceSolution,
    /// The candidate's scratchpad (and their other work in the round).
    CandidateWork,
    /// The interviewer's own private notes.
    PrivateNotes,
    /// A submitted scorecard, by whose it is.
    Scorecard(CardRole),
    /// The round's 1:1 call: joining it, and sending or receiving its signalling.
    Call,
    /// The clock's buttons.
    TimerControls,
}

/// Whether `viewer` may see `item` of a round at `stage`.
pub fn may_see(viewer: Viewer, item: Item, stage: Stage) -> bool {
    let peer = stage.mode == LoopMode::Peer;
    let started = stage.timer != TimerState::NotStarted;
    let ended = stage.timer == TimerState::Ended;
    match (item, viewer) {
        // The round's own interviewer prepares with the questions and guide before it starts.
        (
            Item::Question(_)
            | Item::InterviewerGuide
            | Item::GivenHints
            | Item::ReferenceSolution
            | Item::CandidateWork,
            Viewer::RoundInterviewer,
        ) => true,
        (Item::PrivateNotes, viewer) => viewer == Viewer::RoundInterviewer,
        // Someone who interviews another round of the loop sees none of this round's work.
        (
            Item::Question(_)
            | Item::InterviewerGuide
            | Item::GivenHints
            | Item::ReferenceSolution
            | Item::CandidateWork,
            Viewer::OtherInterviewer { .. },
        ) => false,
        // The candidate meets each question when the round reaches it, and all of them once it ends.
        (Item::Question(position), Viewer::Candidate) => started && (ended || position <= stage.current_question),
        // Self-timed, the candidate is their own assessor; in a peer round the guide stays the interviewer's.
        (Item::InterviewerGuide, Viewer::Candidate) => !peer && started,
        // A peer candidate learns which hints counted once the interviewer's scorecard is in.
        (Item::GivenHints, Viewer::Candidate) => !peer || stage.cards.interviewer == Some(CardStatus::Submitted),
        // The answer would spoil the round: the candidate reads it once the round is over.
        (Item::ReferenceSolution, Viewer::Candidate) => ended,
        (Item::CandidateWork, Viewer::Candidate) => true,
        (Item::Scorecard(card), viewer) => may_read_card(viewer, card, stage.cards),
        // Only the round's two people talk, and only while the round can still take place.
        (Item::Call, Viewer::Candidate | Viewer::RoundInterviewer) => call::closed_because(stage).is_none(),
        (Item::Call, Viewer::OtherInterviewer { .. }) => false,
        (Item::TimerControls, viewer) => {
            let seat = ClockSeat {
                self_timed: !peer,
                is_candidate: viewer == Viewer::Candidate,
                is_interviewer: viewer == Viewer::RoundInterviewer,
                has_interviewer: stage.has_interviewer,
            };
            timer_control::may_control(seat, stage.timer)
        }
    }
}

/// Whether `viewer` may read the round's `card` as far as the scorecards have come
/// (blind scoring; the rest of the stage plays no part in it).
pub fn may_read_card(viewer: Viewer, card: CardRole, cards: RoundStage) -> bool {
    blind_scoring::may_read(reader(viewer), card, cards)
}

fn reader(viewer: Viewer) -> Reader {
    match viewer {
        Viewer::Candidate => Reader::Candidate,
        Viewer::RoundInterviewer => Reader::RoundInterviewer,
        Viewer::OtherInterviewer { scored } => Reader::OtherInterviewer { scored },
    }
}

/// The scorecard whose scores decide a round: the candidate's own when they
/// practise alone, the interviewer's in a peer round.
pub fn deciding_card(mode: LoopMode) -> CardRole {
    match mode {
        LoopMode::Peer => CardRole::Interviewer,
        LoopMode::SelfTimed => CardRole::SelfAssessment,
    }
}

/// Someone looking at a board slot (or the swap it became).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardViewer {
    /// Whoever posted the slot.
    Poster,
    /// Whoever claimed it.
    Claimer,
    /// Anyone else signed in.
    Other,
}

impl BoardViewer {
    pub fn of(user: uuid::Uuid, poster: uuid::Uuid, claimer: Option<uuid::Uuid>) -> BoardViewer {
        if user == poster {
            BoardViewer::Poster
        } else if claimer == Some(user) {
            BoardViewer::Claimer
        } else {
            BoardViewer::Other
        }
    }
}

/// Where a slot is, as far as who may see it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotStage {
    /// Open on the board (not claimed, not withdrawn).
    pub open: bool,
    /// The poster chose to show how many scored loops they have.
    pub shows_loop_count: bool,
}

/// Something of a board slot, or of the person behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardItem {
    /// The slot itself: its time and the fields its poster chose (wants,
    /// can interview for, team focus, level), with the poster's display name.
    Slot,
    /// The poster's count of scored loops (only if they opt in).
    ScoredLoopCount,
    /// How many swaps the poster did not turn up to: a claimer's fair warning.
    NoShowCount,
    /// The claim form.
    Claim,
    /// The swap it became: its rounds, calendar, cancel and no-show buttons.
    Swap,
    /// Anything else about the person: username, history, loops, scores.
    Account,
}

/// Whether `viewer` may see `item` of a slot at `stage`. The board shows open
/// slots to everyone signed in; once claimed, only its two people see it, and
/// each only the other's chosen fields, never their account.
pub fn may_see_on_board(viewer: BoardViewer, item: BoardItem, stage: SlotStage) -> bool {
    match (item, viewer) {
        (BoardItem::Account, _) => false,
        (BoardItem::Slot, BoardViewer::Poster | BoardViewer::Claimer) => true,
        (BoardItem::Slot | BoardItem::NoShowCount, BoardViewer::Other) => stage.open,
        (BoardItem::NoShowCount, BoardViewer::Claimer) => true,
        // The poster knows their own record.
        (BoardItem::NoShowCount, BoardViewer::Poster) => false,
        (BoardItem::ScoredLoopCount, BoardViewer::Poster) => false,
        (BoardItem::ScoredLoopCount, BoardViewer::Claimer) => stage.shows_loop_count,
        (BoardItem::ScoredLoopCount, BoardViewer::Other) => stage.open && stage.shows_loop_count,
        (BoardItem::Claim, BoardViewer::Other) => stage.open,
        (BoardItem::Claim, BoardViewer::Poster | BoardViewer::Claimer) => false,
        (BoardItem::Swap, BoardViewer::Poster | BoardViewer::Claimer) => !stage.open,
        (BoardItem::Swap, BoardViewer::Other) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CardStatus::{Draft, Skipped, Submitted};
    use TimerState::{Ended, NotStarted, Paused, Running};

    const CANDIDATE: Viewer = Viewer::Candidate;
    const INTERVIEWER: Viewer = Viewer::RoundInterviewer;
    const OTHER: Viewer = Viewer::OtherInterviewer { scored: false };
    const OTHER_SCORED: Viewer = Viewer::OtherInterviewer { scored: true };

    /// The columns of [`TABLE`]'s answer strings, in order.
    const ITEMS: [Item; 11] = [
        Item::Question(1),
        Item::Question(2),
        Item::InterviewerGuide,
        Item::GivenHints,
        Item::ReferenceSolution,
        Item::CandidateWork,
        Item::PrivateNotes,
        Item::Scorecard(CardRole::Interviewer),
        Item::Scorecard(CardRole::SelfAssessment),
        Item::TimerControls,
        Item::Call,
    ];

    fn stage(
        peer: bool,
        timer: TimerState,
        current_question: i16,
        interviewer_card: Option<CardStatus>,
        self_card: Option<CardStatus>,
    ) -> Stage {
        Stage {
            mode: if peer { LoopMode::Peer } else { LoopMode::SelfTimed },
            timer,
            current_question,
            has_interviewer: peer,
            cards: RoundStage { interviewer: interviewer_card, self_assessment: self_card },
        }
    }

    /// Every stage a two-question round passes through, every viewer it can
    /// have, and what they see: one letter per item of [`ITEMS`] (question 1,
    /// question 2, guide, given hints, reference solution, candidate's work,
    /// private notes, interviewer's card, self-assessment, the clock's buttons,
    /// the call), `y` seen, `.` not.
    type Row = (&'static str, bool, TimerState, i16, Option<CardStatus>, Option<CardStatus>, Viewer, &'static str);

    #[rustfmt::skip]
    const TABLE: &[Row] = &[
        // Self-timed: the candidate alone, their own assessor.
        ("self, not started",             false, NotStarted, 1, None,            None,            CANDIDATE,    "...y.y...y."),
        ("self, first question",          false, Running,    1, None,            None,            CANDIDATE,    "y.yy.y...y."),
        ("self, second question, paused", false, Paused,     2, None,            None,            CANDIDATE,    "yyyy.y...y."),
        ("self, ended",                   false, Ended,      2, None,            None,            CANDIDATE,    "yyyyyy...y."),
        ("self, ended, assessed",         false, Ended,      2, None,            Some(Submitted), CANDIDATE,    "yyyyyy..yy."),
        // Peer, before the start: only the round's interviewer prepares.
        ("peer, not started",             true,  NotStarted, 1, None,            None,            CANDIDATE,    ".....y....y"),
        ("peer, not started",             true,  NotStarted, 1, None,            None,            INTERVIEWER,  "yyyyyyy..yy"),
        ("peer, not started",             true,  NotStarted, 1, None,            None,            OTHER,        "..........."),
        // Running: the candidate has the question the round is on.
        ("peer, first question",          true,  Running,    1, None,            None,            CANDIDATE,    "y....y....y"),
        ("peer, first question",          true,  Running,    1, None,            None,            INTERVIEWER,  "yyyyyyy..yy"),
        ("peer, second question",         true,  Running,    2, None,            None,            CANDIDATE,    "yy...y....y"),
        ("peer, second question",         true,  Running,    2, None,            None,            OTHER_SCORED, "..........."),
        // Ended, scorecards under way: blind scoring decides the cards.
        ("peer, ended, drafts",           true,  Ended,      1, Some(Draft),     Some(Draft),     CANDIDATE,    "yy..yy....."),
        ("peer, ended, drafts",           true,  Ended,      1, Some(Draft),     Some(Draft),     INTERVIEWER,  "yyyyyyy..y."),
        ("peer, ended, interviewer in",   true,  Ended,      1, Some(Submitted), None,            CANDIDATE,    "yy.yyy....."),
        ("peer, ended, interviewer in",   true,  Ended,      1, Some(Submitted), None,            INTERVIEWER,  "yyyyyyyy.y."),
        ("peer, ended, interviewer in",   true,  Ended,      1, Some(Submitted), None,            OTHER,        "..........."),
        ("peer, ended, interviewer in",   true,  Ended,      1, Some(Submitted), None,            OTHER_SCORED, ".......y..."),
        ("peer, ended, self in",          true,  Ended,      1, Some(Draft),     Some(Submitted), CANDIDATE,    "yy..yy..y.."),
        ("peer, ended, self in",          true,  Ended,      1, Some(Draft),     Some(Submitted), INTERVIEWER,  "yyyyyyy..y."),
        ("peer, ended, self skipped",     true,  Ended,      1, Some(Submitted), Some(Skipped),   CANDIDATE,    "yy.yyy.y..."),
        ("peer, ended, both in",          true,  Ended,      1, Some(Submitted), Some(Submitted), CANDIDATE,    "yy.yyy.yy.."),
        ("peer, ended, both in",          true,  Ended,      1, Some(Submitted), Some(Submitted), INTERVIEWER,  "yyyyyyyyyy."),
        ("peer, ended, both in",          true,  Ended,      1, Some(Submitted), Some(Submitted), OTHER_SCORED, ".......y..."),
    ];

    #[test]
    fn each_viewer_sees_each_item_only_at_the_stages_the_table_allows() {
        for (name, peer, timer, current, interviewer_card, self_card, viewer, expected) in TABLE {
            let stage = stage(*peer, *timer, *current, *interviewer_card, *self_card);
            let seen: String =
                ITEMS.iter().map(|item| if may_see(*viewer, *item, stage) { 'y' } else { '.' }).collect();
            assert_eq!(&seen, expected, "{name}, seen by {viewer:?}");
        }
    }

    #[test]
    fn the_clock_is_the_self_timed_candidates_and_the_peer_interviewers() {
        // (peer, has interviewer, timer, viewer, may control)
        let table = [
            (false, false, NotStarted, CANDIDATE, true),
            (false, false, Running, CANDIDATE, true),
            (true, true, NotStarted, INTERVIEWER, true),
            (true, true, Running, CANDIDATE, false),
            (true, true, Running, OTHER, false),
            // The interviewer was withdrawn after the start: the candidate can stop the clock.
            (true, false, Paused, CANDIDATE, true),
            (true, false, NotStarted, CANDIDATE, false),
        ];
        for (peer, has_interviewer, timer, viewer, expected) in table {
            let stage = Stage { has_interviewer, ..stage(peer, timer, 1, None, None) };
            assert_eq!(
                may_see(viewer, Item::TimerControls, stage),
                expected,
                "{peer} {has_interviewer} {timer:?} {viewer:?}"
            );
        }
    }

    #[test]
    fn a_reference_solution_never_reaches_a_candidate_before_the_round_ends() {
        for peer in [false, true] {
            for timer in [NotStarted, Running, Paused] {
                for current in [1, 2] {
                    let stage = stage(peer, timer, current, Some(Submitted), Some(Submitted));
                    assert!(!may_see(CANDIDATE, Item::ReferenceSolution, stage), "{peer} {timer:?}");
                }
            }
        }
    }

    #[test]
    fn the_deciding_card_is_the_interviewers_in_a_peer_round_and_the_candidates_alone() {
        assert_eq!(deciding_card(LoopMode::Peer), CardRole::Interviewer);
        assert_eq!(deciding_card(LoopMode::SelfTimed), CardRole::SelfAssessment);
    }

    #[test]
    fn a_viewer_is_the_candidate_or_the_rounds_interviewer_or_nobody() {
        let (me, them) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        assert_eq!(Viewer::of(me, me, Some(them)), Some(CANDIDATE));
        assert_eq!(Viewer::of(them, me, Some(them)), Some(INTERVIEWER));
        assert_eq!(Viewer::of(them, me, None), None);
        assert_eq!(Viewer::in_loop(them, me, None, true), OTHER_SCORED);
        assert_eq!(Viewer::in_loop(me, me, None, true), CANDIDATE);
    }

    /// Who sees what of a board slot: one letter per item (slot, scored-loop
    /// count, no-show count, claim form, swap, account), `y` seen, `.` not.
    #[rustfmt::skip]
    const BOARD: &[(&str, bool, bool, BoardViewer, &str)] = &[
        ("open, count hidden",    true,  false, BoardViewer::Other,   "y.yy.."),
        ("open, count shown",     true,  true,  BoardViewer::Other,   "yyyy.."),
        ("open, count shown",     true,  true,  BoardViewer::Poster,  "y....."),
        ("claimed, count shown",  false, true,  BoardViewer::Claimer, "yyy.y."),
        ("claimed, count hidden", false, false, BoardViewer::Claimer, "y.y.y."),
        ("claimed, count shown",  false, true,  BoardViewer::Poster,  "y...y."),
        ("claimed, count shown",  false, true,  BoardViewer::Other,   "......"),
    ];

    #[test]
    fn a_board_slot_shows_its_chosen_fields_to_the_right_people_and_never_the_account() {
        let items = [
            BoardItem::Slot,
            BoardItem::ScoredLoopCount,
            BoardItem::NoShowCount,
            BoardItem::Claim,
            BoardItem::Swap,
            BoardItem::Account,
        ];
        for (name, open, shows_loop_count, viewer, expected) in BOARD {
            let stage = SlotStage { open: *open, shows_loop_count: *shows_loop_count };
            let seen: String =
                items.iter().map(|item| if may_see_on_board(*viewer, *item, stage) { 'y' } else { '.' }).collect();
            assert_eq!(&seen, expected, "{name}, seen by {viewer:?}");
        }
        let (poster, claimer, other) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2), uuid::Uuid::from_u128(3));
        assert_eq!(BoardViewer::of(poster, poster, Some(claimer)), BoardViewer::Poster);
        assert_eq!(BoardViewer::of(claimer, poster, Some(claimer)), BoardViewer::Claimer);
        assert_eq!(BoardViewer::of(other, poster, Some(claimer)), BoardViewer::Other);
        assert_eq!(BoardViewer::of(other, poster, None), BoardViewer::Other);
    }
}
