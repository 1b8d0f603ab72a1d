//! Question selection with its inputs from the database: what the candidate
//! may be given, when they last had each question, their weak tags. The
//! choosing itself is pure ([`domain::selection`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::db::loops::NewRound;
use crate::db::rounds::RoundState;
use crate::db::templates::TemplateRound;
use crate::domain::selection::{self, CandidateQuestion, Held, RoundSlot, SelectionContext, TagFilter};
use crate::domain::{Level, Team, timer};

/// What question selection knows about a candidate: the bank they may be
/// given, when they last had each question, and their weak tags.
pub struct SelectionInputs {
    pub bank: Vec<db::loops::BankEntry>,
    pub candidates: Vec<CandidateQuestion>,
    pub last_seen: HashMap<Uuid, DateTime<Utc>>,
    pub tag_weakness: HashMap<String, f64>,
}

pub async fn inputs(db: &mut PgConnection, candidate: Uuid) -> Result<SelectionInputs, sqlx::Error> {
    let bank = db::loops::selectable_questions(&mut *db, candidate).await?;
    let last_seen = db::loops::last_seen(&mut *db, candidate).await?.into_iter().collect();
    // A mean score of 4 is no weakness, 1 is the most.
    let tag_weakness = db::loops::mean_score_per_tag(&mut *db, candidate)
        .await?
        .into_iter()
        .map(|(tag, mean)| (tag, ((4.0 - mean) / 3.0).clamp(0.0, 1.0)))
        .collect();
    let candidates = bank
        .iter()
        .map(|q| CandidateQuestion {
            id: q.id,
            kind: q.kind,
            teams: q.teams.clone(),
            levels: q.levels.clone(),
            tags: q.tags.clone(),
            topic: q.topic.clone(),
        })
        .collect();
    Ok(SelectionInputs { bank, candidates, last_seen, tag_weakness })
}

/// Another question for the slot `position` of `round`, for an interviewer's
/// swap: by the selection rules, against the rest of the loop (no question it
/// holds, no topic it holds elsewhere). Inside the caller's transaction,
/// which holds the loop's question lock until it ends.
pub async fn pick_replacement(
    db: &mut PgConnection,
    round: &RoundState,
    position: i16,
) -> Result<Option<Uuid>, sqlx::Error> {
    let held: Vec<Held> = db::loops::lock_questions(db, round.loop_id)
        .await?
        .into_iter()
        .map(|q| Held { round: q.round_id, position: q.position, id: q.question_id, topic: q.topic })
        .collect();
    let inputs = inputs(db, round.candidate_id).await?;
    let context = SelectionContext {
        team: round.team,
        level: round.level,
        // A different draw from the loop's own, still reproducible.
        seed: (round.selection_seed as u64).wrapping_add(u64::from(round.position as u16)).wrapping_mul(0x9E37_79B9),
        last_seen: &inputs.last_seen,
        tag_weakness: &inputs.tag_weakness,
    };
    let slot = RoundSlot {
        kind: round.kind,
        filter: TagFilter::from_columns(round.with_tag.clone(), round.without_tag.clone()),
        questions: 1,
    };
    Ok(selection::select_swap(&inputs.candidates, &slot, &context, &held, round.id, position))
}

/// The questions of a new loop's `rounds` for `candidate`, by the selection
/// rules, with each question's time budget; and the seed they were drawn with
/// (positive, as the loop stores and shows it). Inside the caller's transaction.
pub async fn plan_rounds<'a>(
    db: &mut PgConnection,
    candidate: Uuid,
    team: Team,
    level: Level,
    rounds: &'a [TemplateRound],
) -> Result<(i64, Vec<NewRound<'a>>), sqlx::Error> {
    let inputs = inputs(db, candidate).await?;
    let slots: Vec<RoundSlot> = rounds
        .iter()
        .map(|r| RoundSlot { kind: r.kind, filter: r.filter(), questions: r.question_count.max(1) as usize })
        .collect();
    // A positive 63-bit seed: it is stored in a bigint and shown on the loop page.
    let seed = rand::random::<u64>() >> 1;
    let context =
        SelectionContext { team, level, seed, last_seen: &inputs.last_seen, tag_weakness: &inputs.tag_weakness };
    let picks = selection::select_questions(&inputs.candidates, &slots, &context);
    let minutes_of: HashMap<Uuid, i16> = inputs.bank.iter().map(|q| (q.id, q.suggested_minutes)).collect();
    let new_rounds = rounds
        .iter()
        .zip(slots.iter().zip(&picks))
        .map(|(round, (slot, ids))| {
            let suggested: Vec<i16> =
                ids.iter().map(|id| minutes_of.get(id).copied().unwrap_or(round.minutes)).collect();
            let budgets = timer::question_budgets(round.minutes, &suggested);
            NewRound {
                kind: round.kind,
                title: &round.title,
                planned_minutes: round.minutes,
                questions_wanted: slot.questions as i16,
                filter: slot.filter.clone(),
                questions: ids
                    .iter()
                    .zip(budgets)
                    .map(|(id, budget_ms)| (*id, ((budget_ms + 59_999) / 60_000).clamp(1, 120) as i16))
                    .collect(),
            }
        })
        .collect();
    Ok((seed as i64, new_rounds))
}
