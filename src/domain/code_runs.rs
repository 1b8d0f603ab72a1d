//! Test runs of the candidate's code. The browser runs the question's tests
//! (nothing the candidate writes runs on the server) and reports what
//! happened; these rules say which reports the round keeps, how long the
//! round takes code and runs, and what the feedback says about them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::timer::TimerState;

text_enum!(
    /// How a run ended.
    RunOutcome {
        Completed => ("completed", "Ran"),
        TimedOut => ("timed_out", "Stopped at the time limit"),
        Crashed => ("crashed", "Python failed"),
    }
);

/// How long one run of the tests may take in the browser before its worker is
/// stopped (the bank's reference solutions take well under a second).
pub const RUN_TIME_LIMIT_MS: i64 = 10_000;
/// Most cases a question has (the bank's largest has a few dozen).
pub const MAX_CASES: usize = 200;
/// Most runs one round keeps: a run a second for a whole round stays well below.
pub const MAX_RUNS_PER_ROUND: i64 = 2_000;
/// Longest text kept per field of a case (runner.py caps at 10 000 characters; a
/// little more leaves room for its "[output truncated]" marker).
pub const MAX_FIELD_CHARS: usize = 10_100;
/// Most text one run keeps over all its cases (the page trims what it stores
/// to fit; the full output stays on the candidate's screen).
pub const MAX_REPORT_CHARS: usize = 1_000_000;
/// Longest message kept with a run.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Code saved or run this soon after the round ended still counts: the last
/// autosave of a candidate typing when the clock stopped is in flight.
pub const GRACE_AFTER_END_MS: i64 = 15_000;

/// One case's result as runner.py reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseResult {
    pub name: String,
    #[serde(default)]
    pub call: String,
    pub passed: bool,
    #[serde(default)]
    pub expected: Option<String>,
    #[serde(default)]
    pub got: Option<String>,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub error: Option<String>,
}

/// What the browser says a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    pub outcome: RunOutcome,
    /// The saved code version that ran (the editor autosaves before a run).
    pub code_version: i32,
    pub duration_ms: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub results: Vec<CaseResult>,
}

impl RunReport {
    /// Passed cases (a run that did not complete passed none).
    pub fn passed(&self) -> i32 {
        self.results.iter().filter(|case| case.passed).count() as i32
    }

    /// Checks a report against the question it ran: a completed run has a
    /// result for every case and only then; fields within their caps.
    pub fn check(&self, case_count: usize) -> Result<(), &'static str> {
        if case_count == 0 {
            return Err("This question has no tests to run.");
        }
        match self.outcome {
            RunOutcome::Completed if self.results.len() != case_count => {
                Err("A completed run reports one result per test case.")
            }
            RunOutcome::TimedOut | RunOutcome::Crashed if !self.results.is_empty() => {
                Err("A run that did not complete reports no case results.")
            }
            _ if !(0..=600_000).contains(&self.duration_ms) => Err("A run's duration is 0 to 600 000 ms."),
            _ if self.code_version < 0 => Err("The code version is not valid."),
            _ if self.message.chars().count() > MAX_MESSAGE_CHARS => Err("The run's message is too long."),
            _ if self.results.iter().any(|case| case.chars().any(|chars| chars > MAX_FIELD_CHARS)) => {
                Err("A case result is longer than the runner allows.")
            }
            _ if self.results.iter().flat_map(CaseResult::chars).sum::<usize>() > MAX_REPORT_CHARS => {
                Err("The run's results are too long to keep.")
            }
            _ => Ok(()),
        }
    }
}

impl CaseResult {
    /// The length of each text field, in characters.
    fn chars(&self) -> impl Iterator<Item = usize> + '_ {
        [Some(&self.name), Some(&self.call), self.expected.as_ref(), self.got.as_ref(), Some(&self.stdout), self.error.as_ref()]
            .into_iter()
            .flatten()
            .map(|text| text.chars().count())
    }
}

/// Whether the round still takes the candidate's code and runs: until it ends,
/// and for a moment after so that the save in flight when it ended lands.
pub fn takes_work(timer: TimerState, ended_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match (timer, ended_at) {
        (TimerState::Ended, Some(ended_at)) => (now - ended_at).num_milliseconds() <= GRACE_AFTER_END_MS,
        (TimerState::Ended, None) => false,
        _ => true,
    }
}

/// A recorded run, as the feedback lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPoint {
    /// Time on the round's clock when it ran.
    pub round_elapsed_ms: i64,
    pub outcome: RunOutcome,
    pub passed: i32,
    pub total: i32,
}

impl RunPoint {
    pub fn all_passed(&self) -> bool {
        self.outcome == RunOutcome::Completed && self.total > 0 && self.passed == self.total
    }
}

/// The story of a round's runs: how many, the first time everything passed,
/// and how the last one ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStory {
    pub runs: usize,
    pub first_all_pass_ms: Option<i64>,
    pub last: Option<RunPoint>,
}

pub fn story(points: &[RunPoint]) -> RunStory {
    RunStory {
        runs: points.len(),
        first_all_pass_ms: points.iter().find(|point| point.all_passed()).map(|point| point.round_elapsed_ms),
        last: points.last().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(passed: bool) -> CaseResult {
        CaseResult {
            name: "empty input".into(),
            call: "f([])".into(),
            passed,
            expected: Some("[]".into()),
            got: Some("[]".into()),
            stdout: String::new(),
            error: None,
        }
    }

    fn report(outcome: RunOutcome, results: Vec<CaseResult>) -> RunReport {
        RunReport { outcome, code_version: 3, duration_ms: 12, message: String::new(), results }
    }

    #[test]
    fn reports_are_checked_against_the_question() {
        let long = CaseResult { stdout: "x".repeat(MAX_FIELD_CHARS + 1), ..case(false) };
        let wordy = CaseResult { stdout: "x".repeat(MAX_FIELD_CHARS), ..case(false) };
        let table: [(&str, RunReport, usize, Result<(), &str>); 9] = [
            ("all cases", report(RunOutcome::Completed, vec![case(true), case(false)]), 2, Ok(())),
            (
                "a case missing",
                report(RunOutcome::Completed, vec![case(true)]),
                2,
                Err("A completed run reports one result per test case."),
            ),
            ("timed out, no results", report(RunOutcome::TimedOut, vec![]), 2, Ok(())),
            (
                "timed out with results",
                report(RunOutcome::TimedOut, vec![case(true)]),
                1,
                Err("A run that did not complete reports no case results."),
            ),
            ("crashed", report(RunOutcome::Crashed, vec![]), 5, Ok(())),
            ("no tests", report(RunOutcome::Completed, vec![]), 0, Err("This question has no tests to run.")),
            (
                "output over the cap",
                report(RunOutcome::Completed, vec![long]),
                1,
                Err("A case result is longer than the runner allows."),
            ),
            (
                "too much output over all cases",
                report(RunOutcome::Completed, vec![wordy; 100]),
                100,
                Err("The run's results are too long to keep."),
            ),
            (
                "negative duration",
                RunReport { duration_ms: -1, ..report(RunOutcome::Crashed, vec![]) },
                1,
                Err("A run's duration is 0 to 600 000 ms."),
            ),
        ];
        for (name, report, cases, expected) in table {
            assert_eq!(report.check(cases), expected, "{name}");
        }
    }

    #[test]
    fn a_run_that_did_not_complete_passed_nothing() {
        assert_eq!(report(RunOutcome::Completed, vec![case(true), case(false)]).passed(), 1);
        assert_eq!(report(RunOutcome::TimedOut, vec![]).passed(), 0);
    }

    #[test]
    fn the_round_takes_work_until_a_moment_after_it_ends() {
        let ended = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let after = |ms| ended + chrono::Duration::milliseconds(ms);
        let table = [
            (TimerState::NotStarted, None, ended, true),
            (TimerState::Running, None, ended, true),
            (TimerState::Paused, None, ended, true),
            (TimerState::Ended, Some(ended), after(0), true),
            (TimerState::Ended, Some(ended), after(GRACE_AFTER_END_MS), true),
            (TimerState::Ended, Some(ended), after(GRACE_AFTER_END_MS + 1), false),
            (TimerState::Ended, None, ended, false),
        ];
        for (timer, ended_at, now, expected) in table {
            assert_eq!(takes_work(timer, ended_at, now), expected, "{timer:?} {ended_at:?} {now}");
        }
    }

    #[test]
    fn the_story_finds_the_first_complete_pass() {
        let point = |ms, outcome, passed, total| RunPoint { round_elapsed_ms: ms, outcome, passed, total };
        let points = [
            point(60_000, RunOutcome::Crashed, 0, 5),
            point(300_000, RunOutcome::Completed, 3, 5),
            point(1_900_000, RunOutcome::Completed, 5, 5),
            point(2_000_000, RunOutcome::TimedOut, 0, 5),
        ];
        let told = story(&points);
        assert_eq!(told.runs, 4);
        assert_eq!(told.first_all_pass_ms, Some(1_900_000));
        assert_eq!(told.last, Some(points[3].clone()));
        assert_eq!(story(&points[..2]).first_all_pass_ms, None);
        assert_eq!(story(&[]), RunStory { runs: 0, first_all_pass_ms: None, last: None });
        // Zero cases can never "all pass".
        assert!(!point(1, RunOutcome::Completed, 0, 0).all_passed());
    }
}
