//! The question bank: search, detail and export.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::bank::{CandidateRound, SearchText};
use crate::domain::question::{CodeLanguage, Question, TestSuite};
use crate::domain::{Difficulty, Level, RoundKind, Team};

/// Filters of the bank page; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct QuestionFilter {
    pub text: Option<SearchText>,
    pub kind: Option<RoundKind>,
    pub team: Option<Team>,
    pub difficulty: Option<Difficulty>,
    pub tag: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QuestionSummary {
    pub slug: String,
    pub kind: RoundKind,
    pub title: String,
    pub difficulty: Difficulty,
    pub teams: Vec<Team>,
    pub tags: Vec<String>,
    pub suggested_minutes: i16,
    pub is_private: bool,
    /// How many questions match the filter in all (the same on every row).
    pub total: i64,
}

/// What the bank lists for `viewer` changed when either version changed: the
/// shipped questions' or the viewer's own (bumped by triggers, migration 0022).
#[derive(Debug)]
pub struct BankVersions {
    pub shipped: i64,
    pub own: i64,
}

pub async fn bank_versions(db: impl PgExecutor<'_>, viewer: Uuid) -> Result<BankVersions, sqlx::Error> {
    sqlx::query_as!(
        BankVersions,
        r#"select coalesce((select version from bank_versions where owner_key = '00000000-0000-0000-0000-000000000000'), 0)
                      as "shipped!",
                  coalesce((select version from bank_versions where owner_key = $1), 0) as "own!""#,
        viewer,
    )
    .fetch_one(db)
    .await
}

/// Questions `viewer` may see that match `filter`, best match first.
pub async fn search(
    db: impl PgExecutor<'_>,
    viewer: Uuid,
    filter: &QuestionFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<QuestionSummary>, sqlx::Error> {
    // Searched text drives the read from the text index to the few questions it
    // matches; written as one statement with an optional match, its cached plan
    // read (and decompressed) every question's text instead.
    let Some(text) = filter.text.as_ref().map(SearchText::query) else {
        return sqlx::query_as!(
            QuestionSummary,
            r#"select slug, kind as "kind: RoundKind", title, difficulty as "difficulty: Difficulty",
                    teams as "teams: Vec<Team>", tags, suggested_minutes,
                    owner_id is not null as "is_private!", count(*) over () as "total!"
             from questions
             where (owner_id is null or owner_id = $1)
               and ($2::text is null or kind = $2)
               and ($3::text is null or teams @> array[$3::text])
               and ($4::smallint is null or difficulty = $4)
               and ($5::text is null or tags @> array[$5::text])
             order by kind, difficulty, title
             limit $6 offset $7"#,
            viewer,
            filter.kind as Option<RoundKind>,
            filter.team as Option<Team>,
            filter.difficulty as Option<Difficulty>,
            filter.tag.as_deref(),
            limit,
            offset,
        )
        .fetch_all(db)
        .await;
    };
    sqlx::query_as!(
        QuestionSummary,
        r#"select q.slug, q.kind as "kind: RoundKind", q.title, q.difficulty as "difficulty: Difficulty",
                q.teams as "teams: Vec<Team>", q.tags, q.suggested_minutes,
                q.owner_id is not null as "is_private!", count(*) over () as "total!"
         from (select id, ts_rank(search, query) as rank
               from questions, websearch_to_tsquery('english', $2) as query where search @@ query) as matched
         join questions q on q.id = matched.id
         where (q.owner_id is null or q.owner_id = $1)
           and ($3::text is null or q.kind = $3)
           and ($4::text is null or q.teams @> array[$4::text])
           and ($5::smallint is null or q.difficulty = $5)
           and ($6::text is null or q.tags @> array[$6::text])
         order by matched.rank desc, q.kind, q.difficulty, q.title
         limit $7 offset $8"#,
        viewer,
        text,
        filter.kind as Option<RoundKind>,
        filter.team as Option<Team>,
        filter.difficulty as Option<Difficulty>,
        filter.tag.as_deref(),
        limit,
        offset,
    )
    .fetch_all(db)
    .await
}

/// How many questions `viewer` may see (the shipped bank and their own).
pub async fn count_visible(db: impl PgExecutor<'_>, viewer: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from questions where owner_id is null or owner_id = $1"#, viewer)
        .fetch_one(db)
        .await
}

/// Every tag of the shipped questions, sorted.
pub async fn shipped_tags(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select distinct tag as "tag!" from questions, unnest(tags) as tag where owner_id is null order by 1"#
    )
    .fetch_all(db)
    .await
}

/// Every tag of `owner`'s own questions, sorted.
pub async fn own_tags(db: impl PgExecutor<'_>, owner: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select distinct tag as "tag!" from questions, unnest(tags) as tag where owner_id = $1 order by 1"#,
        owner,
    )
    .fetch_all(db)
    .await
}

/// Where a question the viewer may see stands for them: its version (its
/// text is held in memory under it), whether it is theirs, and the rounds in
/// which they answer it, for the rule on whether the bank shows them its
/// guidance (`domain::bank::guidance_for`).
#[derive(Debug, Clone)]
pub struct VisibleQuestion {
    pub id: Uuid,
    pub updated_at: DateTime<Utc>,
    pub is_own: bool,
    pub candidate_rounds: Json<Vec<CandidateRound>>,
}

/// The question under `slug` that `viewer` may see (shipped, or their own).
pub async fn find_visible(
    db: impl PgExecutor<'_>,
    viewer: Uuid,
    slug: &str,
) -> Result<Option<VisibleQuestion>, sqlx::Error> {
    sqlx::query_as!(
        VisibleQuestion,
        r#"select q.id, q.updated_at, coalesce(q.owner_id = $2, false) as "is_own!",
                (select coalesce(json_agg(json_build_object('is_peer', l.mode = 'peer', 'timer', r.timer_state,
                                                            'loop_cancelled', l.status = 'cancelled')), '[]')
                 from round_questions rq join rounds r on r.id = rq.round_id join loops l on l.id = r.loop_id
                 where rq.candidate_id = $2 and rq.question_id = q.id)
                    as "candidate_rounds!: Json<Vec<CandidateRound>>"
         from questions q where q.slug = $1 and (q.owner_id is null or q.owner_id = $2)"#,
        slug,
        viewer,
    )
    .fetch_optional(db)
    .await
}

/// A question's editable text, as stored (the shipped bank's export, or a private question's edit form).
#[derive(Debug, Clone)]
pub struct StoredQuestion {
    pub slug: String,
    pub kind: RoundKind,
    pub title: String,
    pub difficulty: i16,
    pub levels: Vec<Level>,
    pub teams: Vec<Team>,
    pub tags: Vec<String>,
    pub topic: String,
    pub suggested_minutes: i16,
    pub guide_quotes: Vec<String>,
    pub prompt_md: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub good_answer_md: String,
    pub calibration_md: Option<String>,
    pub starter_language: Option<String>,
    pub starter_code: Option<String>,
    pub tests: Option<sqlx::types::Json<TestSuite>>,
    pub reference_solution: Option<String>,
}

/// `query_as!` for a [`StoredQuestion`]: the one select, completed by a string
/// literal (`where …`) and its arguments. Each use is checked on its own.
macro_rules! stored_question {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            StoredQuestion,
            r#"select slug, kind as "kind: RoundKind", title, difficulty, levels as "levels: Vec<Level>",
                    teams as "teams: Vec<Team>", tags, topic, suggested_minutes, guide_quotes,
                    prompt_md, follow_ups, hints, good_answer_md, calibration_md, starter_language, starter_code,
                    tests as "tests: sqlx::types::Json<TestSuite>", reference_solution
             from questions "# + $rest,
            $($arg),*
        )
    };
}

/// The shipped bank (not users' private questions) as it would be written to files.
pub async fn export_bank(db: impl PgExecutor<'_>) -> Result<Vec<StoredQuestion>, sqlx::Error> {
    stored_question!("where owner_id is null order by kind, slug").fetch_all(db).await
}

/// A private question owned by `owner`, for its edit form.
pub async fn find_owned(
    db: impl PgExecutor<'_>,
    owner: Uuid,
    slug: &str,
) -> Result<Option<StoredQuestion>, sqlx::Error> {
    stored_question!("where slug = $1 and owner_id = $2", slug, owner).fetch_optional(db).await
}

/// The HTML of a question's Markdown fields, rendered before saving.
pub struct QuestionHtml {
    pub prompt: String,
    pub good_answer: String,
    pub calibration: Option<String>,
}

/// Inserts or (for its owner) updates a private question; `false` when the
/// slug belongs to someone else or to the shipped bank.
pub async fn save_private(
    db: impl PgExecutor<'_>,
    owner: Uuid,
    slug: &str,
    q: &Question,
    html: &QuestionHtml,
) -> Result<bool, sqlx::Error> {
    let saved = sqlx::query!(
        "insert into questions (slug, owner_id, kind, title, prompt_md, prompt_html, follow_ups, hints,
                                good_answer_md, good_answer_html, tags, teams, levels, difficulty,
                                suggested_minutes, topic, calibration_md, calibration_html, content_hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, '')
         on conflict (slug) do update set
             kind = excluded.kind, title = excluded.title, prompt_md = excluded.prompt_md,
             prompt_html = excluded.prompt_html, follow_ups = excluded.follow_ups, hints = excluded.hints,
             good_answer_md = excluded.good_answer_md, good_answer_html = excluded.good_answer_html,
             topic = excluded.topic, calibration_md = excluded.calibration_md,
             calibration_html = excluded.calibration_html,
             tags = excluded.tags, teams = excluded.teams, levels = excluded.levels,
             difficulty = excluded.difficulty, suggested_minutes = excluded.suggested_minutes
         where questions.owner_id = $2",
        slug,
        owner,
        q.kind as RoundKind,
        q.title,
        q.prompt,
        html.prompt,
        &q.follow_ups,
        &q.hints,
        q.what_good_looks_like,
        html.good_answer,
        &q.tags,
        q.teams.as_slice() as &[Team],
        q.levels.as_slice() as &[Level],
        q.difficulty as Difficulty,
        q.minutes,
        q.topic,
        q.calibration.as_ref().map(|c| c.to_markdown()),
        html.calibration,
    )
    .execute(db)
    .await?;
    Ok(saved.rows_affected() == 1)
}

pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// A loop's round uses it; the round keeps pointing at it.
    InUse,
}

pub async fn delete_private(db: impl PgExecutor<'_>, owner: Uuid, slug: &str) -> Result<DeleteOutcome, sqlx::Error> {
    let result = sqlx::query!("delete from questions where slug = $1 and owner_id = $2", slug, owner).execute(db).await;
    match result {
        Ok(done) if done.rows_affected() == 1 => Ok(DeleteOutcome::Deleted),
        Ok(_) => Ok(DeleteOutcome::NotFound),
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => Ok(DeleteOutcome::InUse),
        Err(error) => Err(error),
    }
}

/// What a question says, as the pages show it: everything but who may see it
/// and where it was asked. Held in memory by `question_texts::QuestionTexts`
/// under the `updated_at` it was read at.
#[derive(Debug, Clone)]
pub struct QuestionText {
    pub id: Uuid,
    pub updated_at: DateTime<Utc>,
    pub slug: String,
    pub kind: RoundKind,
    pub title: String,
    pub prompt_html: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub good_answer_html: String,
    pub calibration_md: Option<String>,
    pub calibration_html: Option<String>,
    pub tags: Vec<String>,
    pub topic: String,
    pub teams: Vec<Team>,
    pub levels: Vec<Level>,
    pub difficulty: Difficulty,
    pub suggested_minutes: i16,
    pub guide_quotes: Vec<String>,
    pub starter_language: Option<CodeLanguage>,
    pub starter_code: Option<String>,
    pub tests: Option<Json<TestSuite>>,
    pub reference_solution: Option<String>,
}

impl QuestionText {
    /// The text without what only an interviewer should hold: follow-ups,
    /// hints, what good looks like, calibration, the reference solution.
    pub fn without_guidance(&self) -> QuestionText {
        QuestionText {
            follow_ups: Vec::new(),
            hints: Vec::new(),
            good_answer_html: String::new(),
            calibration_md: None,
            calibration_html: None,
            reference_solution: None,
            ..self.clone()
        }
    }
}

/// The texts of the questions `ids`, in no particular order.
pub async fn texts(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<QuestionText>, sqlx::Error> {
    sqlx::query_as!(
        QuestionText,
        r#"select id, updated_at, slug, kind as "kind: RoundKind", title, prompt_html, follow_ups, hints,
                good_answer_html, calibration_md, calibration_html, tags, topic, teams as "teams: Vec<Team>",
                levels as "levels: Vec<Level>", difficulty as "difficulty: Difficulty", suggested_minutes,
                guide_quotes, starter_language as "starter_language: CodeLanguage", starter_code,
                tests as "tests: Json<TestSuite>", reference_solution
         from questions where id = any($1)"#,
        ids,
    )
    .fetch_all(db)
    .await
}
