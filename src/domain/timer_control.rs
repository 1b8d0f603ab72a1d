//! Who runs a round's clock.

use super::timer::TimerState;

/// The viewer's part in a round, as far as its clock is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSeat {
    pub self_timed: bool,
    pub is_candidate: bool,
    pub is_interviewer: bool,
    /// The round has an interviewer (a peer round loses its interviewer when the invitation is withdrawn).
    pub has_interviewer: bool,
}

/// In a self-timed round the candidate runs the clock; in a peer round, the
/// interviewer. A peer round whose interviewer was withdrawn after it started
/// passes to the candidate, so that a running clock can still be paused and ended.
pub fn may_control(seat: ClockSeat, state: TimerState) -> bool {
    if seat.self_timed {
        return seat.is_candidate;
    }
    if seat.has_interviewer {
        return seat.is_interviewer;
    }
    seat.is_candidate && state != TimerState::NotStarted
}

#[cfg(test)]
mod tests {
    use super::*;
    use TimerState::{Ended, NotStarted, Paused, Running};

    fn seat(self_timed: bool, is_candidate: bool, is_interviewer: bool, has_interviewer: bool) -> ClockSeat {
        ClockSeat { self_timed, is_candidate, is_interviewer, has_interviewer }
    }

    #[test]
    fn each_seat_and_state_has_one_answer() {
        // (self-timed, candidate, interviewer, has interviewer, state, may control)
        let table = [
            (true, true, false, false, NotStarted, true),
            (true, true, false, false, Running, true),
            (true, false, false, false, Running, false),
            (false, false, true, true, NotStarted, true),
            (false, false, true, true, Paused, true),
            (false, true, false, true, Running, false),
            (false, false, false, true, Running, false),
            // Withdrawn after the start: the candidate can stop the clock.
            (false, true, false, false, Running, true),
            (false, true, false, false, Paused, true),
            (false, true, false, false, Ended, true),
            // Withdrawn before it: the candidate invites someone else instead.
            (false, true, false, false, NotStarted, false),
            (false, false, false, false, Running, false),
        ];
        for (self_timed, candidate, interviewer, has_interviewer, state, expected) in table {
            let seat = seat(self_timed, candidate, interviewer, has_interviewer);
            assert_eq!(may_control(seat, state), expected, "{seat:?} {state:?}");
        }
    }
}
