//! The round timer as a state machine over the columns stored with a round,
//! and the figures shown from it: remaining time, milestones, the clock text
//! and each question's share of the round.

use chrono::{DateTime, Utc};

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;

/// The largest single extension; the UI offers 5 minutes.
pub const MAX_EXTENSION_MINUTES: i64 = 30;

text_enum!(
    /// Where a round's timer is in its life.
    TimerState {
        NotStarted => ("not_started", "Not started"),
        Running => ("running", "Running"),
        Paused => ("paused", "Paused"),
        Ended => ("ended", "Ended"),
    }
);

/// A round's timer as stored: time is banked in `elapsed_ms` whenever a
/// running span finishes, so the live figure is `elapsed_ms` plus the span
/// since `running_since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub state: TimerState,
    pub planned_ms: i64,
    pub extension_ms: i64,
    /// Time banked from finished running spans.
    pub elapsed_ms: i64,
    /// Set only while running.
    pub running_since: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The question whose budget is running, 1-based.
    pub current_question: i16,
    /// Elapsed time at which the current question began (0 for the first).
    pub question_switch_ms: i64,
}

/// What a participant asks the timer to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerCommand {
    Start,
    Pause,
    Resume,
    /// Add time to the round, 1 to [`MAX_EXTENSION_MINUTES`] minutes at once.
    Extend {
        minutes: i64,
    },
    NextQuestion,
    End,
}

text_enum!(
    /// A command as the timer log records it (and as the timer's buttons post it).
    TimerAction {
        Start => ("start", "Started"),
        Pause => ("pause", "Paused"),
        Resume => ("resume", "Resumed"),
        Extend => ("extend", "Extended"),
        NextQuestion => ("next_question", "Moved to the next question"),
        End => ("end", "Ended"),
    }
);

impl TimerAction {
    /// Whether the clock offers this action in `state`, on question `current`
    /// of `question_count` (the page's buttons; `static/round.js` mirrors it).
    pub fn offered(self, state: TimerState, current: i16, question_count: i16) -> bool {
        let live = matches!(state, TimerState::Running | TimerState::Paused);
        match self {
            TimerAction::Start => state == TimerState::NotStarted,
            TimerAction::Pause => state == TimerState::Running,
            TimerAction::Resume => state == TimerState::Paused,
            TimerAction::Extend => state != TimerState::Ended,
            TimerAction::NextQuestion => live && current < question_count,
            TimerAction::End => live,
        }
    }

    /// The action a command is logged as.
    pub fn of(command: &TimerCommand) -> TimerAction {
        match command {
            TimerCommand::Start => TimerAction::Start,
            TimerCommand::Pause => TimerAction::Pause,
            TimerCommand::Resume => TimerAction::Resume,
            TimerCommand::Extend { .. } => TimerAction::Extend,
            TimerCommand::NextQuestion => TimerAction::NextQuestion,
            TimerCommand::End => TimerAction::End,
        }
    }
}

/// Why a command does not apply to the timer as it is; the message is shown
/// to the person who pressed the button.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimerError {
    #[error("the round has not started")]
    NotStarted,
    #[error("the round has already started")]
    AlreadyStarted,
    #[error("the timer is already running")]
    AlreadyRunning,
    #[error("the timer is already paused")]
    AlreadyPaused,
    #[error("the round has ended")]
    Ended,
    #[error("an extension must be 1 to {MAX_EXTENSION_MINUTES} minutes, not {minutes}")]
    ExtensionOutOfRange { minutes: i64 },
    #[error("this is the round's last question")]
    NoNextQuestion,
}

/// A moment worth announcing, judged from the remaining time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    None,
    FiveMinutes,
    OneMinute,
    TimeUp,
}

/// How one question of a round is doing against its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionProgress {
    /// 1-based, in the round's order.
    pub position: i16,
    pub budget_ms: i64,
    pub used_ms: i64,
    /// The question whose budget is running (before the start, the first;
    /// after the end, the last one reached).
    pub is_current: bool,
    /// Used more than its budget.
    pub overran: bool,
}

impl Timer {
    /// A timer that has not started, for a round of `planned_minutes`.
    pub fn new(planned_minutes: i16) -> Timer {
        Timer {
            state: TimerState::NotStarted,
            planned_ms: minutes_to_ms(planned_minutes),
            extension_ms: 0,
            elapsed_ms: 0,
            running_since: None,
            started_at: None,
            ended_at: None,
            current_question: 1,
            question_switch_ms: 0,
        }
    }

    /// The timer after `command` at `now`, or why the command does not apply.
    /// `question_count` is how many questions the round has.
    pub fn apply(&self, command: &TimerCommand, now: DateTime<Utc>, question_count: i16) -> Result<Timer, TimerError> {
        use TimerState::{Ended, NotStarted, Paused, Running};

        match (command, self.state) {
            (_, Ended) => Err(TimerError::Ended),

            (TimerCommand::Start, NotStarted) => {
                Ok(Timer { state: Running, started_at: Some(now), running_since: Some(now), ..self.clone() })
            }
            (TimerCommand::Start, Running | Paused) => Err(TimerError::AlreadyStarted),

            (TimerCommand::Pause, Running) => {
                Ok(Timer { state: Paused, elapsed_ms: self.elapsed_ms(now), running_since: None, ..self.clone() })
            }
            (TimerCommand::Pause, Paused) => Err(TimerError::AlreadyPaused),

            (TimerCommand::Resume, Paused) => Ok(Timer { state: Running, running_since: Some(now), ..self.clone() }),
            (TimerCommand::Resume, Running) => Err(TimerError::AlreadyRunning),

            (TimerCommand::Extend { minutes }, NotStarted | Running | Paused) => {
                if !(1..=MAX_EXTENSION_MINUTES).contains(minutes) {
                    return Err(TimerError::ExtensionOutOfRange { minutes: *minutes });
                }
                Ok(Timer { extension_ms: self.extension_ms.saturating_add(minutes * MS_PER_MINUTE), ..self.clone() })
            }

            (TimerCommand::NextQuestion, Running | Paused) => {
                if self.current_question >= question_count {
                    return Err(TimerError::NoNextQuestion);
                }
                Ok(Timer {
                    current_question: self.current_question + 1,
                    question_switch_ms: self.elapsed_ms(now),
                    ..self.clone()
                })
            }

            (TimerCommand::End, Running | Paused) => Ok(Timer {
                state: Ended,
                elapsed_ms: self.elapsed_ms(now),
                running_since: None,
                ended_at: Some(now),
                ..self.clone()
            }),

            (
                TimerCommand::Pause | TimerCommand::Resume | TimerCommand::NextQuestion | TimerCommand::End,
                NotStarted,
            ) => Err(TimerError::NotStarted),
        }
    }

    /// Time used so far. It never reads below what is already recorded (the
    /// banked time and the current question's start), even if the clock has
    /// gone backwards since the timer started running.
    pub fn elapsed_ms(&self, now: DateTime<Utc>) -> i64 {
        let running_span = match (self.state, self.running_since) {
            (TimerState::Running, Some(since)) => (now - since).num_milliseconds().max(0),
            _ => 0,
        };
        self.elapsed_ms.saturating_add(running_span).max(self.question_switch_ms)
    }

    /// Time left; negative is overtime.
    pub fn remaining_ms(&self, now: DateTime<Utc>) -> i64 {
        self.allowed_ms().saturating_sub(self.elapsed_ms(now))
    }

    /// The planned time plus every extension.
    pub fn allowed_ms(&self) -> i64 {
        self.planned_ms.saturating_add(self.extension_ms)
    }

    /// Each question's budget against the time it has used, in order.
    ///
    /// The stored state keeps only the latest switch between questions. With
    /// one or two questions (the schema's limit) that is exact: the first
    /// question used the time up to the switch. With more, the time before the
    /// switch is shared out in order, each earlier question up to its budget
    /// and the rest to the question just before the current one.
    pub fn question_progress(&self, now: DateTime<Utc>, budgets_ms: &[i64]) -> Vec<QuestionProgress> {
        let current = usize::try_from(self.current_question).unwrap_or(0);
        let current_used = self.elapsed_ms(now).saturating_sub(self.question_switch_ms).max(0);
        let mut before_switch = self.question_switch_ms.max(0);

        budgets_ms
            .iter()
            .enumerate()
            .map(|(index, &budget_ms)| {
                let position = index + 1;
                let used_ms = if position == current {
                    current_used
                } else if position + 1 == current {
                    before_switch
                } else if position < current {
                    let used = budget_ms.clamp(0, before_switch);
                    before_switch -= used;
                    used
                } else {
                    0
                };
                QuestionProgress {
                    position: i16::try_from(position).unwrap_or(i16::MAX),
                    budget_ms,
                    used_ms,
                    is_current: position == current,
                    overran: used_ms > budget_ms,
                }
            })
            .collect()
    }
}

/// The milestone reached with `remaining_ms` left: the 5-minute and 1-minute
/// warnings include their exact moment, and time is up at zero.
pub fn milestone(remaining_ms: i64) -> Milestone {
    if remaining_ms <= 0 {
        Milestone::TimeUp
    } else if remaining_ms <= MS_PER_MINUTE {
        Milestone::OneMinute
    } else if remaining_ms <= 5 * MS_PER_MINUTE {
        Milestone::FiveMinutes
    } else {
        Milestone::None
    }
}

/// The clock text: "12:05" left, "+1:07" overtime, "1:02:03" from an hour.
///
/// Remaining time is rounded up to the whole second and overtime down, so the
/// clock reads "0:00" exactly when time runs out (never while any is left)
/// and then counts overtime the way a stopwatch does: "+0:01" after a full
/// second over.
pub fn format_clock(remaining_ms: i64) -> String {
    let (sign, seconds) = if remaining_ms >= 0 {
        ("", remaining_ms.unsigned_abs().div_ceil(1_000))
    } else {
        ("+", remaining_ms.unsigned_abs() / 1_000)
    };
    let (hours, minutes, seconds) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    if hours > 0 { format!("{sign}{hours}:{minutes:02}:{seconds:02}") } else { format!("{sign}{minutes}:{seconds:02}") }
}

/// A length of time used, such as "12:04" (whole seconds, rounded down).
pub fn format_duration(ms: i64) -> String {
    let seconds = ms.max(0) / 1_000;
    let (hours, minutes, seconds) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    if hours > 0 { format!("{hours}:{minutes:02}:{seconds:02}") } else { format!("{minutes}:{seconds:02}") }
}

/// Splits `planned_minutes` between the questions in proportion to their
/// `suggested` minutes, in milliseconds that add up exactly to the plan.
///
/// Budgets are whole minutes (as the round's question budgets are stored):
/// each question first gets one minute, so none has an empty budget, and the
/// rest is split by rounding the running total, which keeps the sum exact.
/// Questions without a positive suggestion share equally.
pub fn question_budgets(planned_minutes: i16, suggested: &[i16]) -> Vec<i64> {
    let count = suggested.len() as i64;
    let planned = i64::from(planned_minutes.max(0));
    if count == 0 {
        return Vec::new();
    }
    let (floor, rest) = if planned >= count { (1, planned - count) } else { (0, planned) };

    let weights: Vec<i64> = if suggested.iter().any(|&minutes| minutes > 0) {
        suggested.iter().map(|&minutes| i64::from(minutes.max(0))).collect()
    } else {
        vec![1; suggested.len()]
    };
    let total_weight: i64 = weights.iter().sum();

    let mut cumulative_weight = 0;
    let mut previous_boundary = 0;
    weights
        .iter()
        .map(|weight| {
            cumulative_weight += weight;
            // Rounded share of `rest` up to and including this question.
            let boundary = (2 * rest * cumulative_weight + total_weight) / (2 * total_weight);
            let share = boundary - previous_boundary;
            previous_boundary = boundary;
            (floor + share) * MS_PER_MINUTE
        })
        .collect()
}

fn minutes_to_ms(minutes: i16) -> i64 {
    i64::from(minutes.max(0)) * MS_PER_MINUTE
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// A fixed instant `seconds` after a fixed origin.
    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).single().expect("valid instant") + chrono::Duration::seconds(seconds)
    }

    fn apply(timer: &Timer, command: TimerCommand, seconds: i64) -> Timer {
        timer.apply(&command, at(seconds), 2).expect("command applies")
    }

    /// A 45-minute round started at 0 s.
    fn running() -> Timer {
        apply(&Timer::new(45), TimerCommand::Start, 0)
    }

    #[test]
    fn durations_round_down_to_the_second() {
        assert_eq!(format_duration(11), "0:00");
        assert_eq!(format_duration(61_999), "1:01");
        assert_eq!(format_duration(3_725_000), "1:02:05");
    }

    #[test]
    fn each_state_offers_only_the_buttons_that_apply() {
        use TimerAction::{End, Extend, NextQuestion, Pause, Resume, Start};
        // (state, question 1 of 2: offered actions)
        let table = [
            (TimerState::NotStarted, vec![Start, Extend]),
            (TimerState::Running, vec![Pause, Extend, NextQuestion, End]),
            (TimerState::Paused, vec![Resume, Extend, NextQuestion, End]),
            (TimerState::Ended, vec![]),
        ];
        for (state, offered) in table {
            let actual: Vec<TimerAction> =
                TimerAction::ALL.iter().copied().filter(|action| action.offered(state, 1, 2)).collect();
            assert_eq!(actual, offered, "{state:?}");
        }
        assert!(!NextQuestion.offered(TimerState::Running, 2, 2), "the last question has no next");
    }

    #[test]
    fn a_new_timer_has_not_started_and_has_its_planned_time() {
        let timer = Timer::new(45);
        assert_eq!(timer.state, TimerState::NotStarted);
        assert_eq!(timer.allowed_ms(), 45 * 60_000);
        assert_eq!(timer.remaining_ms(at(1_000)), 45 * 60_000);
        assert_eq!(timer.current_question, 1);
    }

    #[test]
    fn starting_records_the_start_and_runs_from_it() {
        let timer = running();
        assert_eq!(timer.state, TimerState::Running);
        assert_eq!(timer.started_at, Some(at(0)));
        assert_eq!(timer.running_since, Some(at(0)));
        assert_eq!(timer.elapsed_ms(at(90)), 90_000);
        assert_eq!(timer.remaining_ms(at(90)), 45 * 60_000 - 90_000);
    }

    #[test]
    fn a_pause_banks_the_running_span_and_stops_the_clock() {
        let paused = apply(&running(), TimerCommand::Pause, 600);
        assert_eq!(paused.state, TimerState::Paused);
        assert_eq!(paused.elapsed_ms, 600_000);
        assert_eq!(paused.running_since, None);
        assert_eq!(paused.elapsed_ms(at(5_000)), 600_000);
    }

    #[test]
    fn time_spent_paused_does_not_count() {
        let paused = apply(&running(), TimerCommand::Pause, 600);
        let resumed = apply(&paused, TimerCommand::Resume, 900);
        assert_eq!(resumed.running_since, Some(at(900)));
        assert_eq!(resumed.elapsed_ms(at(1_000)), 700_000);
        assert_eq!(resumed.started_at, Some(at(0)));
    }

    #[test]
    fn an_extension_adds_to_the_allowed_time_in_any_live_state() {
        let before_start = apply(&Timer::new(45), TimerCommand::Extend { minutes: 5 }, 0);
        assert_eq!(before_start.allowed_ms(), 50 * 60_000);

        let extended = apply(&running(), TimerCommand::Extend { minutes: 5 }, 60);
        let extended = apply(&extended, TimerCommand::Extend { minutes: 5 }, 120);
        assert_eq!(extended.extension_ms, 10 * 60_000);
        assert_eq!(extended.remaining_ms(at(120)), 55 * 60_000 - 120_000);

        let paused = apply(&running(), TimerCommand::Pause, 60);
        assert_eq!(apply(&paused, TimerCommand::Extend { minutes: 1 }, 70).extension_ms, 60_000);
    }

    #[test]
    fn an_extension_must_be_one_to_thirty_minutes() {
        for minutes in [0, -5, 31] {
            assert_eq!(
                running().apply(&TimerCommand::Extend { minutes }, at(10), 1),
                Err(TimerError::ExtensionOutOfRange { minutes })
            );
        }
        assert!(running().apply(&TimerCommand::Extend { minutes: 30 }, at(10), 1).is_ok());
    }

    #[test]
    fn past_the_allowed_time_the_remaining_time_goes_negative() {
        let timer = running();
        assert_eq!(timer.remaining_ms(at(45 * 60)), 0);
        assert_eq!(timer.remaining_ms(at(45 * 60 + 67)), -67_000);
    }

    #[test]
    fn ending_banks_the_time_used_and_freezes_it() {
        let paused = apply(&running(), TimerCommand::Pause, 600);
        let resumed = apply(&paused, TimerCommand::Resume, 700);
        let ended = apply(&resumed, TimerCommand::End, 1_000);
        assert_eq!(ended.state, TimerState::Ended);
        assert_eq!(ended.elapsed_ms, 900_000);
        assert_eq!(ended.ended_at, Some(at(1_000)));
        assert_eq!(ended.running_since, None);
        assert_eq!(ended.elapsed_ms(at(99_999)), 900_000);
        assert_eq!(ended.remaining_ms(at(99_999)), 45 * 60_000 - 900_000);
    }

    #[test]
    fn a_paused_round_can_be_ended_without_adding_time() {
        let paused = apply(&running(), TimerCommand::Pause, 600);
        let ended = apply(&paused, TimerCommand::End, 2_000);
        assert_eq!(ended.elapsed_ms, 600_000);
    }

    #[test]
    fn commands_that_do_not_fit_the_state_are_refused_with_a_reason() {
        let new = Timer::new(45);
        let paused = apply(&running(), TimerCommand::Pause, 60);
        let ended = apply(&running(), TimerCommand::End, 60);
        let refused = [
            (&new, TimerCommand::Pause, TimerError::NotStarted),
            (&new, TimerCommand::Resume, TimerError::NotStarted),
            (&new, TimerCommand::NextQuestion, TimerError::NotStarted),
            (&new, TimerCommand::End, TimerError::NotStarted),
            (&running(), TimerCommand::Start, TimerError::AlreadyStarted),
            (&running(), TimerCommand::Resume, TimerError::AlreadyRunning),
            (&paused, TimerCommand::Start, TimerError::AlreadyStarted),
            (&paused, TimerCommand::Pause, TimerError::AlreadyPaused),
            (&ended, TimerCommand::Start, TimerError::Ended),
            (&ended, TimerCommand::Pause, TimerError::Ended),
            (&ended, TimerCommand::Resume, TimerError::Ended),
            (&ended, TimerCommand::Extend { minutes: 5 }, TimerError::Ended),
            (&ended, TimerCommand::NextQuestion, TimerError::Ended),
            (&ended, TimerCommand::End, TimerError::Ended),
        ];
        for (timer, command, error) in refused {
            assert_eq!(timer.apply(&command, at(120), 2), Err(error), "{command:?} from {:?}", timer.state);
        }
        assert_eq!(TimerError::NotStarted.to_string(), "the round has not started");
    }

    #[test]
    fn a_clock_that_goes_backwards_never_reduces_the_time_used() {
        let timer = running();
        assert_eq!(timer.elapsed_ms(at(-30)), 0);
        assert_eq!(timer.remaining_ms(at(-30)), 45 * 60_000);

        let paused = apply(&timer, TimerCommand::Pause, 600);
        let resumed = apply(&paused, TimerCommand::Resume, 700);
        assert_eq!(resumed.elapsed_ms(at(650)), 600_000);
        assert_eq!(apply(&resumed, TimerCommand::Pause, 650).elapsed_ms, 600_000);
        assert_eq!(apply(&resumed, TimerCommand::End, 650).elapsed_ms, 600_000);
    }

    #[test]
    fn a_clock_that_goes_backwards_after_a_question_switch_keeps_the_switch() {
        let switched = apply(&running(), TimerCommand::NextQuestion, 1_200);
        assert_eq!(switched.elapsed_ms(at(1_000)), 1_200_000);
        let ended = apply(&switched, TimerCommand::End, 1_000);
        assert_eq!(ended.elapsed_ms, 1_200_000);
    }

    #[test]
    fn the_next_question_starts_at_the_current_elapsed_time() {
        let paused = apply(&running(), TimerCommand::Pause, 600);
        let resumed = apply(&paused, TimerCommand::Resume, 700);
        let switched = apply(&resumed, TimerCommand::NextQuestion, 1_000);
        assert_eq!(switched.current_question, 2);
        assert_eq!(switched.question_switch_ms, 900_000);
        assert_eq!(switched.state, TimerState::Running);
    }

    #[test]
    fn there_is_no_question_after_the_last() {
        assert_eq!(running().apply(&TimerCommand::NextQuestion, at(60), 1), Err(TimerError::NoNextQuestion));
        let second = apply(&running(), TimerCommand::NextQuestion, 60);
        assert_eq!(second.apply(&TimerCommand::NextQuestion, at(120), 2), Err(TimerError::NoNextQuestion));
    }

    #[test]
    fn milestones_fall_at_five_minutes_one_minute_and_zero() {
        assert_eq!(milestone(5 * 60_000 + 1), Milestone::None);
        assert_eq!(milestone(5 * 60_000), Milestone::FiveMinutes);
        assert_eq!(milestone(60_001), Milestone::FiveMinutes);
        assert_eq!(milestone(60_000), Milestone::OneMinute);
        assert_eq!(milestone(1), Milestone::OneMinute);
        assert_eq!(milestone(0), Milestone::TimeUp);
        assert_eq!(milestone(-90_000), Milestone::TimeUp);
    }

    #[test]
    fn the_clock_shows_minutes_and_seconds_left() {
        assert_eq!(format_clock(12 * 60_000 + 5_000), "12:05");
        assert_eq!(format_clock(45 * 60_000), "45:00");
        assert_eq!(format_clock(9_000), "0:09");
    }

    #[test]
    fn the_clock_rounds_remaining_time_up_and_reads_zero_only_at_zero() {
        assert_eq!(format_clock(59_200), "1:00");
        assert_eq!(format_clock(58_001), "0:59");
        assert_eq!(format_clock(1), "0:01");
        assert_eq!(format_clock(0), "0:00");
    }

    #[test]
    fn the_clock_shows_overtime_with_a_plus_rounded_down() {
        assert_eq!(format_clock(-1), "+0:00");
        assert_eq!(format_clock(-1_000), "+0:01");
        assert_eq!(format_clock(-67_900), "+1:07");
    }

    #[test]
    fn the_clock_shows_hours_from_one_hour() {
        assert_eq!(format_clock(3_600_000), "1:00:00");
        assert_eq!(format_clock(3_723_000), "1:02:03");
        assert_eq!(format_clock(3_599_500), "1:00:00");
        assert_eq!(format_clock(-3_723_000), "+1:02:03");
        assert_eq!(format_clock(i64::MIN).chars().next(), Some('+'));
    }

    #[test]
    fn budgets_follow_the_suggested_minutes_and_add_up_to_the_plan() {
        assert_eq!(question_budgets(45, &[20, 25]), [20 * 60_000, 25 * 60_000]);
        assert_eq!(question_budgets(60, &[20, 25]), [27 * 60_000, 33 * 60_000]);
        assert_eq!(question_budgets(30, &[30]), [30 * 60_000]);
        for (planned, suggested) in
            [(45, vec![7, 11]), (61, vec![13, 17, 19]), (15, vec![5, 120]), (120, vec![1, 1, 1])]
        {
            let budgets = question_budgets(planned, &suggested);
            assert_eq!(budgets.iter().sum::<i64>(), i64::from(planned) * 60_000, "{planned} over {suggested:?}");
            assert!(budgets.iter().all(|&budget| budget >= 60_000), "{budgets:?}");
        }
    }

    #[test]
    fn budgets_without_suggestions_are_shared_equally() {
        assert_eq!(question_budgets(40, &[0, 0]), [20 * 60_000, 20 * 60_000]);
        assert_eq!(question_budgets(40, &[]), Vec::<i64>::new());
    }

    #[test]
    fn progress_before_a_switch_runs_against_the_first_budget() {
        let budgets = [20 * 60_000, 25 * 60_000];
        let progress = running().question_progress(at(600), &budgets);
        assert_eq!(
            progress,
            [
                QuestionProgress {
                    position: 1,
                    budget_ms: 1_200_000,
                    used_ms: 600_000,
                    is_current: true,
                    overran: false
                },
                QuestionProgress { position: 2, budget_ms: 1_500_000, used_ms: 0, is_current: false, overran: false },
            ]
        );
    }

    #[test]
    fn a_question_that_runs_past_its_budget_is_flagged() {
        let budgets = [20 * 60_000, 25 * 60_000];
        assert!(running().question_progress(at(20 * 60 + 1), &budgets)[0].overran);

        let switched = apply(&running(), TimerCommand::NextQuestion, 22 * 60);
        let progress = switched.question_progress(at(30 * 60), &budgets);
        assert_eq!((progress[0].used_ms, progress[0].overran, progress[0].is_current), (1_320_000, true, false));
        assert_eq!((progress[1].used_ms, progress[1].overran, progress[1].is_current), (480_000, false, true));
    }

    #[test]
    fn progress_after_the_end_stays_as_it_was_at_the_end() {
        let budgets = [20 * 60_000, 25 * 60_000];
        let switched = apply(&running(), TimerCommand::NextQuestion, 15 * 60);
        let ended = apply(&switched, TimerCommand::End, 45 * 60);
        let progress = ended.question_progress(at(3 * 3_600), &budgets);
        assert_eq!(progress[0].used_ms, 15 * 60_000);
        assert_eq!(progress[1].used_ms, 30 * 60_000);
        assert!(progress[1].overran);
    }

    #[test]
    fn with_more_than_two_questions_earlier_time_fills_budgets_in_order() {
        let timer = Timer { current_question: 3, question_switch_ms: 50 * 60_000, ..running() };
        let budgets = [20 * 60_000, 20 * 60_000, 20 * 60_000];
        let used: Vec<i64> = timer.question_progress(at(55 * 60), &budgets).iter().map(|p| p.used_ms).collect();
        assert_eq!(used, [20 * 60_000, 30 * 60_000, 5 * 60_000]);
    }

    #[test]
    fn timer_states_round_trip_through_their_text() {
        for state in TimerState::ALL {
            assert_eq!(TimerState::parse(state.as_str()), Some(*state));
        }
        assert_eq!(TimerState::NotStarted.as_str(), "not_started");
    }
}
