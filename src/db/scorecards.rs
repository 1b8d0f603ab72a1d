//! Scorecards: an assessor's scores per criterion, recommendation and notes;
//! drafts autosave, submission locks, later edits are kept as amendments.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::blind_scoring::{CardRole, CardStatus};
use crate::domain::integrity::{IntegrityConcern, IntegrityFlag};
use crate::domain::scorecard::{ScoreChoice, ScorecardInput};
use crate::domain::scoring::Recommendation;

/// Where the round's scorecard in `role` stands, if one exists.
pub async fn status(
    db: impl PgExecutor<'_>,
    round_id: Uuid,
    role: CardRole,
) -> Result<Option<CardStatus>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select status as "status: CardStatus" from scorecards where round_id = $1 and role = $2"#,
        round_id,
        role as CardRole,
    )
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone)]
pub struct Scorecard {
    pub id: Uuid,
    /// None once the author deleted their account (their submitted scorecard stays).
    pub author_id: Option<Uuid>,
    pub role: CardRole,
    pub status: CardStatus,
    pub recommendation: Option<Recommendation>,
    pub summary: String,
    pub strengths: String,
    pub areas_to_improve: String,
    pub integrity_concerns: Vec<IntegrityConcern>,
    pub integrity_note: String,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub amendments: i64,
}

impl Scorecard {
    pub fn integrity(&self) -> IntegrityFlag {
        IntegrityFlag { concerns: self.integrity_concerns.clone(), note: self.integrity_note.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct StoredScore {
    pub criterion_id: Uuid,
    pub score: Option<i16>,
    pub not_assessed: bool,
    pub evidence: String,
}

pub async fn find(db: impl PgExecutor<'_>, round_id: Uuid, role: CardRole) -> Result<Option<Scorecard>, sqlx::Error> {
    sqlx::query_as!(
        Scorecard,
        r#"select s.id, s.author_id, s.role as "role: CardRole", s.status as "status: CardStatus",
                s.recommendation as "recommendation: Recommendation", s.summary, s.strengths, s.areas_to_improve,
                s.integrity_concerns as "integrity_concerns: Vec<IntegrityConcern>", s.integrity_note,
                s.updated_at, s.submitted_at,
                (select count(*) from scorecard_amendments a where a.scorecard_id = s.id) as "amendments!"
         from scorecards s where s.round_id = $1 and s.role = $2"#,
        round_id,
        role as CardRole,
    )
    .fetch_optional(db)
    .await
}

/// Criterion answers of a scorecard.
pub async fn scores(db: impl PgExecutor<'_>, scorecard_id: Uuid) -> Result<Vec<StoredScore>, sqlx::Error> {
    sqlx::query_as!(
        StoredScore,
        "select criterion_id, score, not_assessed, evidence from criterion_scores where scorecard_id = $1",
        scorecard_id,
    )
    .fetch_all(db)
    .await
}

pub enum SaveResult {
    Saved(Uuid),
    /// The scorecard is submitted; changes must be amendments.
    Locked,
}

/// Creates or updates the draft scorecard of `role` for the round.
pub async fn save_draft(
    db: &mut PgConnection,
    round_id: Uuid,
    author: Uuid,
    role: CardRole,
    input: &ScorecardInput,
) -> Result<SaveResult, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into scorecards (round_id, author_id, role, recommendation, summary, strengths, areas_to_improve,
                                 integrity_concerns, integrity_note)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (round_id, role) do update set recommendation = excluded.recommendation,
             summary = excluded.summary, strengths = excluded.strengths,
             areas_to_improve = excluded.areas_to_improve, integrity_concerns = excluded.integrity_concerns,
             integrity_note = excluded.integrity_note, version = scorecards.version + 1
         where scorecards.status = 'draft' and scorecards.author_id = excluded.author_id
         returning id",
        round_id,
        author,
        role as CardRole,
        input.recommendation as Option<Recommendation>,
        input.summary,
        input.strengths,
        input.areas_to_improve,
        input.integrity.concerns.as_slice() as &[IntegrityConcern],
        input.integrity.note,
    )
    .fetch_optional(&mut *db)
    .await?;
    let Some(id) = id else { return Ok(SaveResult::Locked) };
    write_scores(db, id, input).await?;
    Ok(SaveResult::Saved(id))
}

async fn write_scores(db: &mut PgConnection, scorecard_id: Uuid, input: &ScorecardInput) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = input
        .answers
        .iter()
        .map(|a| {
            serde_json::json!({
                "criterion_id": a.criterion_id,
                "score": a.choice.score(),
                "not_assessed": a.choice == ScoreChoice::NotAssessed,
                "evidence": a.evidence,
            })
        })
        .collect();
    sqlx::query!(
        "insert into criterion_scores (scorecard_id, criterion_id, score, not_assessed, evidence)
         select $1, criterion_id, score, not_assessed, evidence
         from jsonb_to_recordset($2) as s(criterion_id uuid, score smallint, not_assessed boolean, evidence text)
         on conflict (scorecard_id, criterion_id) do update
             set score = excluded.score, not_assessed = excluded.not_assessed, evidence = excluded.evidence",
        scorecard_id,
        serde_json::Value::Array(rows),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Locks a draft. Returns `false` when there was no draft of this author to submit.
pub async fn submit(db: &mut PgConnection, scorecard_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update scorecards set status = 'submitted', submitted_at = now()
         where id = $1 and status = 'draft' and recommendation is not null",
        scorecard_id,
    )
    .execute(&mut *db)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    refresh_score_points(db, scorecard_id).await?;
    Ok(true)
}

/// A submitted (or skipped) scorecard moves its loop's history score points.
async fn refresh_score_points(db: &mut PgConnection, scorecard_id: Uuid) -> Result<(), sqlx::Error> {
    let loop_id = sqlx::query_scalar!(
        "select r.loop_id from scorecards s join rounds r on r.id = s.round_id where s.id = $1",
        scorecard_id,
    )
    .fetch_one(&mut *db)
    .await?;
    super::history::refresh_score_points(db, &[loop_id]).await
}

/// Records that the candidate skipped the round's self-assessment, discarding
/// any draft of it. Returns `false` when it was already submitted or skipped.
pub async fn skip_self_assessment(db: &mut PgConnection, round_id: Uuid, author: Uuid) -> Result<bool, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into scorecards (round_id, author_id, role, status, submitted_at)
         values ($1, $2, 'self', 'skipped', now())
         on conflict (round_id, role) do update set status = 'skipped', submitted_at = now(), recommendation = null,
             summary = '', strengths = '', areas_to_improve = '', integrity_concerns = '{}', integrity_note = '',
             version = scorecards.version + 1
         where scorecards.status = 'draft' and scorecards.author_id = excluded.author_id
         returning id",
        round_id,
        author,
    )
    .fetch_optional(&mut *db)
    .await?;
    let Some(id) = id else { return Ok(false) };
    sqlx::query!("delete from criterion_scores where scorecard_id = $1", id).execute(&mut *db).await?;
    // The interviewer's scores now reach the candidate's history charts.
    refresh_score_points(db, id).await?;
    Ok(true)
}

/// Locks the scorecard until the transaction ends, so that amendments to it
/// happen one after another, each seeing the one before.
pub async fn lock(db: impl PgExecutor<'_>, scorecard_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("select id from scorecards where id = $1 for update", scorecard_id).fetch_optional(db).await?;
    Ok(())
}

/// Changes a submitted scorecard, keeping what it said before as an amendment.
pub async fn amend(
    db: &mut PgConnection,
    scorecard_id: Uuid,
    author: Uuid,
    input: &ScorecardInput,
) -> Result<bool, sqlx::Error> {
    let snapshot = sqlx::query!(
        "insert into scorecard_amendments (scorecard_id, author_id, previous)
         select s.id, $2, jsonb_build_object(
             'recommendation', s.recommendation, 'summary', s.summary, 'strengths', s.strengths,
             'areas_to_improve', s.areas_to_improve,
             'integrity_concerns', s.integrity_concerns, 'integrity_note', s.integrity_note,
             'scores', (select coalesce(jsonb_agg(jsonb_build_object('criterion_id', c.criterion_id,
                        'score', c.score, 'not_assessed', c.not_assessed, 'evidence', c.evidence)), '[]') from criterion_scores c where c.scorecard_id = s.id))
         from scorecards s where s.id = $1 and s.author_id = $2 and s.status = 'submitted'",
        scorecard_id,
        author,
    )
    .execute(&mut *db)
    .await?;
    if snapshot.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query!(
        "update scorecards set recommendation = $2, summary = $3, strengths = $4, areas_to_improve = $5,
                integrity_concerns = $6, integrity_note = $7, version = version + 1
         where id = $1",
        scorecard_id,
        input.recommendation as Option<Recommendation>,
        input.summary,
        input.strengths,
        input.areas_to_improve,
        input.integrity.concerns.as_slice() as &[IntegrityConcern],
        input.integrity.note,
    )
    .execute(&mut *db)
    .await?;
    write_scores(&mut *db, scorecard_id, input).await?;
    refresh_score_points(db, scorecard_id).await?;
    Ok(true)
}

#[derive(Debug, Clone)]
pub struct Amendment {
    pub amended_at: DateTime<Utc>,
}

pub async fn amendments(db: impl PgExecutor<'_>, scorecard_id: Uuid) -> Result<Vec<Amendment>, sqlx::Error> {
    sqlx::query_as!(
        Amendment,
        "select amended_at from scorecard_amendments where scorecard_id = $1 order by amended_at",
        scorecard_id,
    )
    .fetch_all(db)
    .await
}
