//! What the round page shows of a round besides its questions, in one read:
//! the stage of its two scorecards, the notes, the candidate's code, last test
//! run and drawing, the round after it and where its call's signalling stands.
//! The page decides who sees which (`domain::visibility`); what it may not
//! show is read and dropped. The questions come by reference (id and version):
//! their long texts are held in memory (`question_texts`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use super::code::RoundCode;
use super::code_runs::StoredRun;
use super::notes::Note;
use super::questions::QuestionText;
use super::rounds::{NextRound, RoundQuestion, RoundState};
use super::scene::RoundScene;
use crate::domain::blind_scoring::{CardStatus, RoundStage};
use crate::domain::code_runs::{CaseResult, RunOutcome};
use crate::domain::question::CodeLanguage;
use crate::domain::timer::{Timer, TimerState};
use crate::domain::whiteboard::SafeSvg;

/// What every visit to a round page reads: where the clock stands, and the
/// versions the rest of the page is kept under.
#[derive(Debug)]
pub struct RoundClock {
    pub timer: Timer,
    pub timer_version: i32,
    /// Bumped by every change the page shows besides the timer (migration 0023).
    pub page_version: i64,
    /// The versions of the round's notes and its code, which autosave and so
    /// bump no other row: "notes/code", each note's version in a fixed order.
    pub work_versions: String,
    pub now: DateTime<Utc>,
}

/// The round's clock and versions, if `viewer` takes part in it.
pub async fn clock(db: impl PgExecutor<'_>, round_id: Uuid, viewer: Uuid) -> Result<Option<RoundClock>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select r.timer_state as "timer_state: TimerState", r.planned_minutes,
                  r.extension_seconds, r.elapsed_ms, r.running_since, r.started_at, r.ended_at, r.current_question,
                  r.question_switch_ms, r.timer_version, coalesce(v.version, 0) as "page_version!",
                  format('%s/%s', (select string_agg(n.version::text, ',' order by n.kind, n.author_id)
                                   from notes n where n.round_id = r.id), c.version) as "work_versions!",
                  clock_timestamp() as "now!"
           from rounds r join loops l on l.id = r.loop_id left join round_versions v on v.round_id = r.id
                left join round_code c on c.round_id = r.id
           where r.id = $1 and (l.candidate_id = $2 or r.interviewer_id = $2)"#,
        round_id,
        viewer,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| RoundClock {
        timer: Timer {
            state: row.timer_state,
            planned_ms: i64::from(row.planned_minutes) * 60_000,
            extension_ms: i64::from(row.extension_seconds) * 1000,
            elapsed_ms: row.elapsed_ms,
            running_since: row.running_since,
            started_at: row.started_at,
            ended_at: row.ended_at,
            current_question: row.current_question,
            question_switch_ms: row.question_switch_ms,
        },
        timer_version: row.timer_version,
        page_version: row.page_version,
        work_versions: row.work_versions,
        now: row.now,
    }))
}

#[derive(Debug)]
pub struct RoundWork {
    pub cards: RoundStage,
    pub scratchpad: Option<Note>,
    /// The private notes `reader` wrote on the round.
    pub private_notes: Option<Note>,
    pub code: Option<RoundCode>,
    pub last_run: Option<StoredRun>,
    pub drawing: Option<RoundScene>,
    pub next_round: Option<NextRound>,
    /// The id of the call's latest signal (0 for none): the call panel's stream starts after it.
    pub last_signal: i64,
    /// The round's questions, in order, by reference: their texts are held in memory.
    pub questions: Vec<QuestionRef>,
}

/// One of a round's questions: which, at what version, and what this round made of it.
#[derive(Debug, Clone, Deserialize)]
pub struct QuestionRef {
    pub position: i16,
    pub budget_minutes: i16,
    pub question_id: Uuid,
    pub updated_at: DateTime<Utc>,
    pub hints_used: Vec<i16>,
    pub follow_ups_used: Vec<i16>,
}

impl QuestionRef {
    /// The question as the round shows it, from its held `text`.
    pub fn with_text(&self, text: &QuestionText) -> RoundQuestion {
        RoundQuestion {
            position: self.position,
            budget_minutes: self.budget_minutes,
            question_id: self.question_id,
            slug: text.slug.clone(),
            title: text.title.clone(),
            prompt_html: text.prompt_html.clone(),
            follow_ups: text.follow_ups.clone(),
            hints: text.hints.clone(),
            good_answer_html: text.good_answer_html.clone(),
            calibration_md: text.calibration_md.clone(),
            tags: text.tags.clone(),
            hints_used: self.hints_used.clone(),
            follow_ups_used: self.follow_ups_used.clone(),
            starter_language: text.starter_language,
            starter_code: text.starter_code.clone(),
            tests: text.tests.clone(),
            reference_solution: text.reference_solution.clone(),
        }
    }
}

/// `round`'s work, with the private notes of `reader`.
pub async fn read(db: impl PgExecutor<'_>, round: &RoundState, reader: Uuid) -> Result<RoundWork, sqlx::Error> {
    let row = sqlx::query!(
        r#"select
               (select coalesce(max(id), 0) from call_signals where round_id = r.id) as "last_signal!",
               (select status from scorecards where round_id = r.id and role = 'interviewer')
                   as "interviewer_card?: CardStatus",
               (select status from scorecards where round_id = r.id and role = 'self') as "self_card?: CardStatus",
               sp.body_md as "scratchpad_md?", sp.body_html as "scratchpad_html?", sp.version as "scratchpad_version?",
               sp.updated_at as "scratchpad_at?",
               pn.body_md as "private_md?", pn.body_html as "private_html?", pn.version as "private_version?",
               pn.updated_at as "private_at?",
               c.language as "code_language?: CodeLanguage", c.body as "code_body?", c.version as "code_version?",
               c.updated_at as "code_at?",
               run.ran_at as "run_at?", run.round_elapsed_ms as "run_elapsed_ms?",
               run.question_position as "run_question?", run.outcome as "run_outcome?: RunOutcome",
               run.passed as "run_passed?", run.total as "run_total?", run.duration_ms as "run_duration_ms?",
               run.message as "run_message?", run.results as "run_results?: Json<Vec<CaseResult>>",
               s.scene as "scene?", s.svg as "scene_svg?", s.svg_version as "scene_svg_version?",
               s.version as "scene_version?", s.updated_at as "scene_at?",
               nr.id as "next_id?", nr.position as "next_position?", nr.title as "next_title?",
               nr.timer_state as "next_timer?: TimerState",
               (select coalesce(json_agg(json_build_object(
                           'position', rq.position, 'budget_minutes', rq.budget_minutes, 'question_id', q.id,
                           'updated_at', q.updated_at, 'hints_used', rq.hints_used,
                           'follow_ups_used', rq.follow_ups_used) order by rq.position), '[]')
                from round_questions rq join questions q on q.id = rq.question_id where rq.round_id = r.id)
                   as "questions!: Json<Vec<QuestionRef>>"
           from (select $1::uuid as id) as r
           left join notes sp on sp.round_id = r.id and sp.author_id = $2 and sp.kind = 'scratchpad'
           left join notes pn on pn.round_id = r.id and pn.author_id = $3 and pn.kind = 'private'
           left join round_code c on c.round_id = r.id
           left join lateral (select * from code_runs where round_id = r.id order by id desc limit 1) as run on true
           left join round_scene s on s.round_id = r.id
           left join lateral (select id, position, title, timer_state from rounds
                              where loop_id = $4 and position > $5 order by position limit 1) as nr on true"#,
        round.id,
        round.candidate_id,
        reader,
        round.loop_id,
        round.position,
    )
    .fetch_one(db)
    .await?;
    let note = |md: Option<String>, html: Option<String>, version: Option<i32>, at: Option<DateTime<Utc>>| {
        Some(Note { body_md: md?, body_html: html?, version: version?, updated_at: at? })
    };
    Ok(RoundWork {
        last_signal: row.last_signal,
        questions: row.questions.0,
        cards: RoundStage { interviewer: row.interviewer_card, self_assessment: row.self_card },
        scratchpad: note(row.scratchpad_md, row.scratchpad_html, row.scratchpad_version, row.scratchpad_at),
        private_notes: note(row.private_md, row.private_html, row.private_version, row.private_at),
        code: (|| {
            Some(RoundCode {
                language: row.code_language?,
                body: row.code_body?,
                version: row.code_version?,
                updated_at: row.code_at?,
            })
        })(),
        last_run: (|| {
            Some(StoredRun {
                ran_at: row.run_at?,
                round_elapsed_ms: row.run_elapsed_ms?,
                question_position: row.run_question?,
                outcome: row.run_outcome?,
                passed: row.run_passed?,
                total: row.run_total?,
                duration_ms: row.run_duration_ms?,
                message: row.run_message?,
                results: row.run_results?,
            })
        })(),
        drawing: (|| {
            let version = row.scene_version?;
            Some(RoundScene {
                scene: row.scene?,
                svg: row.scene_svg.map(SafeSvg::from_stored),
                svg_current: row.scene_svg_version == Some(version),
                version,
                updated_at: row.scene_at?,
            })
        })(),
        next_round: (|| {
            Some(NextRound {
                id: row.next_id?,
                position: row.next_position?,
                title: row.next_title?,
                timer_state: row.next_timer?,
            })
        })(),
    })
}
