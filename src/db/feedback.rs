//! What feedback pages read: every scorecard of a round or loop with its
//! criteria (including unanswered ones), in one query.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::blind_scoring::{CardRole, CardStatus};
use crate::domain::integrity::IntegrityConcern;
use crate::domain::scoring::Recommendation;
use crate::domain::{Pillar, RoundKind, Team};

/// One criterion row of one scorecard.
#[derive(Debug, Clone)]
pub struct ScoreLine {
    pub round_id: Uuid,
    pub round_position: i16,
    /// The round's interviewer now (none once withdrawn).
    pub interviewer_id: Option<Uuid>,
    pub role: CardRole,
    /// None once the author deleted their account (their submitted scorecard stays).
    pub author_id: Option<Uuid>,
    pub status: CardStatus,
    /// The author was this round's interviewer until the candidate withdrew their invitation.
    pub author_withdrawn: bool,
    pub recommendation: Option<Recommendation>,
    pub summary: String,
    pub strengths: String,
    pub areas_to_improve: String,
    pub integrity_concerns: Vec<IntegrityConcern>,
    pub integrity_note: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub criterion_name: String,
    pub pillar: Pillar,
    pub anchors: Vec<String>,
    pub score: Option<i16>,
    pub not_assessed: Option<bool>,
    pub evidence: Option<String>,
}

/// `query_as!` for [`ScoreLine`]s: the one select, completed by a string
/// literal (`and … order by …`) and its arguments.
///
/// A card's lines are the criteria it has: those it holds an answer for (a
/// criterion retired from the rubric since keeps its score, so an old card
/// reads as it was written), and the rubric's live criteria for the loop's
/// level, unanswered so far.
macro_rules! score_lines {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            ScoreLine,
            r#"select r.id as round_id, r.position as round_position, r.interviewer_id, s.role as "role: CardRole",
                    s.author_id, s.status as "status: CardStatus",
                    s.author_withdrawn_at is not null as "author_withdrawn!",
                    s.recommendation as "recommendation: Recommendation", s.summary, s.strengths,
                    s.areas_to_improve,
                    s.integrity_concerns as "integrity_concerns: Vec<IntegrityConcern>", s.integrity_note,
                    s.submitted_at, c.name as criterion_name, c.pillar as "pillar: Pillar",
                    c.anchors, cs.score, cs.not_assessed as "not_assessed?", cs.evidence as "evidence?"
                from rounds r
                join loops l on l.id = r.loop_id
                join scorecards s on s.round_id = r.id
                join rubrics rb on rb.kind = r.kind
                join rubric_criteria c on c.rubric_id = rb.id
                left join criterion_scores cs on cs.scorecard_id = s.id and cs.criterion_id = c.id
                where (cs.scorecard_id is not null
                       or (not c.retired and (cardinality(c.levels) = 0 or l.level = any(c.levels)))) "#
                + $rest,
            $($arg),*
        )
    };
}

pub async fn for_round(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Vec<ScoreLine>, sqlx::Error> {
    score_lines!("and r.id = $1 order by s.role, c.position", round_id).fetch_all(db).await
}

pub async fn for_loop(db: impl PgExecutor<'_>, loop_id: Uuid) -> Result<Vec<ScoreLine>, sqlx::Error> {
    score_lines!("and r.loop_id = $1 order by r.position, s.role, c.position", loop_id).fetch_all(db).await
}

/// Questions the candidate has not had yet, of the given kinds, for "practise next".
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub slug: String,
    pub title: String,
    pub kind: RoundKind,
}

pub async fn unseen_questions(
    db: impl PgExecutor<'_>,
    candidate: Uuid,
    kinds: &[RoundKind],
    team: Team,
    limit: i64,
) -> Result<Vec<Suggestion>, sqlx::Error> {
    // The candidate's questions first, as one set: probing per question would
    // walk every round that ever used it, across all users.
    sqlx::query_as!(
        Suggestion,
        r#"with seen as materialized (
             select rq.question_id from loops l join rounds r on r.loop_id = l.id
             join round_questions rq on rq.round_id = r.id where l.candidate_id = $1)
         select q.slug, q.title, q.kind as "kind: RoundKind" from questions q
         where q.kind = any($2) and (q.owner_id is null or q.owner_id = $1)
           and (cardinality(q.teams) = 0 or $3 = any(q.teams))
           and q.id not in (select question_id from seen)
         order by array_position($2, q.kind), $3 = any(q.teams) desc, q.difficulty, q.slug
         limit $4"#,
        candidate,
        kinds as &[RoundKind],
        team as Team,
        limit,
    )
    .fetch_all(db)
    .await
}

/// Everything a completed loop's feedback is drawn from, as one comparable
/// text: its scorecards (amendments included), its questions, and the
/// candidate's loops and own questions ("practise next"). None when the loop is
/// not completed (a running loop changes by the second) or `viewer` takes no part.
pub async fn completed_loop_version(
    db: impl PgExecutor<'_>,
    loop_id: Uuid,
    viewer: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        // One pass over the rounds for their scorecards and questions; an amendment
        // rewrites its scorecard, so the scorecard's updated_at moves with it.
        r#"select concat_ws('|', l.updated_at,
                (select concat_ws(',', count(distinct s.id), max(s.updated_at), max(s.submitted_at),
                                  max(q.updated_at))
                 from rounds r left join scorecards s on s.round_id = r.id
                 left join round_questions rq on rq.round_id = r.id left join questions q on q.id = rq.question_id
                 where r.loop_id = l.id),
                (select concat_ws(',', count(*), max(x.starts_at)) from loops x where x.candidate_id = l.candidate_id),
                (select concat_ws(',', count(*), max(q.updated_at)) from questions q where q.owner_id = l.candidate_id))
                as "version!"
         from loops l
         where l.id = $1 and l.status = 'completed'
           and (l.candidate_id = $2 or exists (select 1 from rounds r where r.loop_id = l.id and r.interviewer_id = $2))"#,
        loop_id,
        viewer,
    )
    .fetch_optional(db)
    .await
}
