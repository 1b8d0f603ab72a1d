//! Question selection with its inputs from the database: what the candidate
//! may be given, when they last had each question, their weak tags. The
//! choosing itself is pure ([`domain::selection`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::db::rounds::RoundState;
use crate::domain::selection::{self, CandidateQuestion, Held, RoundSlot, SelectionContext, TagFilter};

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
