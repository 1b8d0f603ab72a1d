//! A round as the pages, exports and live streams show it: the timer every
//! client agrees on, and the round's questions cut down to what the viewer may
//! see at the stage the round has reached ([`visibility`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::code::RoundCode;
use crate::db::loops::RoundRow;
use crate::db::markers::Marker;
use crate::db::rounds::{RoundQuestion, RoundState};
use crate::domain::blind_scoring::RoundStage;
use crate::domain::code_runs::{self, RunOutcome, RunPoint};
use crate::domain::question::Calibration;
use crate::domain::question::CodeLanguage;
use crate::domain::timer::{self, Milestone, QuestionProgress, Timer, TimerState};
use crate::domain::visibility::{self, Item, Stage, Viewer};
use crate::domain::{Level, LoopMode, markdown};

/// The stage of `round` with its scorecards as far as they have come.
pub fn stage(round: &RoundState, cards: RoundStage) -> Stage {
    Stage {
        mode: round.mode,
        timer: round.timer_state,
        current_question: round.current_question,
        has_interviewer: round.interviewer_id.is_some(),
        cards,
    }
}

/// The questions `viewer` may see, each with only the parts they may see.
pub fn questions_seen_by(questions: Vec<RoundQuestion>, viewer: Viewer, stage: Stage) -> Vec<RoundQuestion> {
    let sees = |item| visibility::may_see(viewer, item, stage);
    let (guide, given, reference) =
        (sees(Item::InterviewerGuide), sees(Item::GivenHints), sees(Item::ReferenceSolution));
    questions
        .into_iter()
        .filter(|question| sees(Item::Question(question.position)))
        .map(|mut question| {
            if !reference {
                question.reference_solution = None;
            }
            if !guide {
                // Only the hints and follow-ups that were given, if those may be seen.
                let given_only = |items: &[String], used: &[i16]| if given { pick(items, used) } else { Vec::new() };
                question.hints = given_only(&question.hints, &question.hints_used);
                question.follow_ups = given_only(&question.follow_ups, &question.follow_ups_used);
                question.hints_used = (0..question.hints.len() as i16).collect();
                question.follow_ups_used = (0..question.follow_ups.len() as i16).collect();
                question.good_answer_html.clear();
                question.calibration_md = None;
            } else if !given {
                question.hints_used.clear();
                question.follow_ups_used.clear();
            }
            question
        })
        .collect()
}

/// One calibration note of a question, rendered, under its label.
pub struct CalibrationLine {
    pub label: String,
    pub html: String,
}

/// The question's calibration for a loop at `level` (the level note labelled
/// with it); empty when the question has none or the viewer may not see it.
pub fn calibration_lines(question: &RoundQuestion, level: Level) -> Vec<CalibrationLine> {
    let Some(Ok(calibration)) = question.calibration_md.as_deref().map(Calibration::parse_markdown) else {
        return Vec::new();
    };
    calibration
        .for_level(level)
        .into_iter()
        .map(|note| CalibrationLine { label: note.label, html: markdown::render_inline(note.text) })
        .collect()
}

/// The items at `indexes` (the hints or follow-ups an interviewer ticked).
pub fn pick(items: &[String], indexes: &[i16]) -> Vec<String> {
    indexes.iter().filter_map(|i| items.get(usize::try_from(*i).ok()?).cloned()).collect()
}

/// The timer as every client sees it.
#[derive(Debug, Clone, Serialize)]
pub struct TimerView {
    pub state: TimerState,
    pub state_label: &'static str,
    pub remaining_ms: i64,
    pub allowed_ms: i64,
    pub elapsed_ms: i64,
    pub clock: String,
    pub milestone: &'static str,
    pub current_question: i16,
    pub questions: Vec<QuestionView>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionView {
    pub position: i16,
    pub budget_ms: i64,
    pub used_ms: i64,
    pub is_current: bool,
    pub overran: bool,
    pub used_clock: String,
    pub budget_clock: String,
}

impl TimerView {
    pub fn of(round: &RoundState) -> TimerView {
        TimerView::at(&round.timer(), round.now, &round.budgets_ms(), round.timer_version)
    }

    /// `timer` at `now`, with its questions' budgets; `version` is the timer's own.
    pub fn at(timer: &Timer, now: DateTime<Utc>, budgets_ms: &[i64], version: i32) -> TimerView {
        let remaining_ms = timer.remaining_ms(now);
        let progress = timer.question_progress(now, budgets_ms);
        TimerView {
            state: timer.state,
            state_label: timer.state.label(),
            remaining_ms,
            allowed_ms: timer.allowed_ms(),
            elapsed_ms: timer.elapsed_ms(now),
            clock: timer::format_clock(remaining_ms),
            milestone: match timer::milestone(remaining_ms) {
                Milestone::None => "none",
                Milestone::FiveMinutes => "five-minutes",
                Milestone::OneMinute => "one-minute",
                Milestone::TimeUp => "time-up",
            },
            current_question: timer.current_question,
            questions: progress.iter().map(QuestionView::of).collect(),
            version,
        }
    }

    pub fn is(&self, state: TimerState) -> bool {
        self.state == state
    }
}

impl QuestionView {
    fn of(progress: &QuestionProgress) -> QuestionView {
        QuestionView {
            position: progress.position,
            budget_ms: progress.budget_ms,
            used_ms: progress.used_ms,
            is_current: progress.is_current,
            overran: progress.overran,
            used_clock: timer::format_duration(progress.used_ms),
            budget_clock: timer::format_duration(progress.budget_ms),
        }
    }
}

/// Whether anyone watches the candidate's work live (scratchpad, code, runs,
/// drawing): the round's interviewer, if it has one.
pub fn work_is_watched(interviewer: Option<uuid::Uuid>) -> bool {
    interviewer.is_some()
}

/// Whether `viewer` runs the round's clock now (the scorecards play no part in it).
pub fn controls_clock(round: &RoundState, viewer: Viewer) -> bool {
    visibility::may_see(viewer, Item::TimerControls, stage(round, RoundStage::default()))
}

/// The titles of a loop's round's questions that `viewer` may see (the
/// scorecards play no part in it).
pub fn question_titles_seen_by(row: &RoundRow, mode: LoopMode, viewer: Viewer) -> Vec<String> {
    let stage = Stage {
        mode,
        timer: row.timer_state,
        current_question: row.current_question,
        has_interviewer: row.interviewer_id.is_some(),
        cards: RoundStage::default(),
    };
    (1..)
        .zip(&row.question_titles)
        .filter(|(position, _)| visibility::may_see(viewer, Item::Question(*position), stage))
        .map(|(_, title)| title.clone())
        .collect()
}

/// The candidate's code as it stood when the round ended, with the story of
/// their test runs, as feedback and its exports show it.
#[derive(Debug, Clone, Serialize)]
pub struct FinalCode {
    pub language: CodeLanguage,
    pub body: String,
    /// "First all-pass at 31:40 · 7 runs", or what the runs came to.
    pub tests: String,
    pub runs: Vec<RunLine>,
}

/// One test run on the round's clock.
#[derive(Debug, Clone, Serialize)]
pub struct RunLine {
    pub clock: String,
    pub result: String,
}

impl FinalCode {
    pub fn of(code: RoundCode, points: &[RunPoint]) -> FinalCode {
        let told = code_runs::story(points);
        let count = match told.runs {
            1 => "1 run".to_owned(),
            n => format!("{n} runs"),
        };
        let tests = match (told.first_all_pass_ms, &told.last) {
            (_, None) => "Tests not run".to_owned(),
            (Some(ms), _) => format!("First all-pass at {} · {count}", timer::format_duration(ms)),
            (None, Some(last)) => format!("No run passed every test (last: {}) · {count}", run_result(last)),
        };
        let runs = points
            .iter()
            .map(|point| RunLine { clock: timer::format_duration(point.round_elapsed_ms), result: run_result(point) })
            .collect();
        FinalCode { language: code.language, body: code.body, tests, runs }
    }
}

fn run_result(point: &RunPoint) -> String {
    match point.outcome {
        RunOutcome::Completed => format!("{} of {} passed", point.passed, point.total),
        outcome => outcome.label().to_owned(),
    }
}

/// A moment of the round on its clock, as the feedback timeline lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Moment {
    pub clock: String,
    pub what: String,
}

/// The interviewer's markers and the candidate's test runs, in the order of the round's clock.
pub fn timeline(markers: &[Marker], runs: &[RunPoint]) -> Vec<Moment> {
    let mut moments: Vec<(i64, String)> = markers
        .iter()
        .map(|marker| (marker.round_elapsed_ms, format!("Marker: {}", marker.label)))
        .chain(runs.iter().map(|run| (run.round_elapsed_ms, format!("Tests: {}", run_result(run)))))
        .collect();
    moments.sort_by_key(|(at, _)| *at);
    moments.into_iter().map(|(at, what)| Moment { clock: timer::format_duration(at), what }).collect()
}
