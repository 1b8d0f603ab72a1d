//! Demo data: many users with completed, scored loops spread over two years,
//! generated inside PostgreSQL (INSERT … SELECT over temporary tables) so that
//! 100k loops take seconds rather than a million round trips.
//!
//! Every random choice comes from PostgreSQL's `random()` after `setseed`, so
//! one seed gives the same names, dates, questions and scores every time; only
//! the row ids (gen_random_uuid) differ.
//!
//! The one exception to checked SQL (`query!`): the statements on the
//! `demo_*` temporary tables cannot be described at compile time, because
//! those tables exist only inside the generating transaction. They are
//! still static text, and `tests/it/scale.rs` and `feedback_history.rs` run them.

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoRequest {
    pub users: i32,
    pub loops_per_user: i32,
    pub seed: i64,
    /// One argon2 hash shared by every demo user (hashing 10k passwords would take minutes).
    pub password_hash: String,
    /// Candidate scratchpads and interviewer notes: Markdown and its sanitised HTML, pairwise.
    pub notes_md: Vec<String>,
    pub notes_html: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the question bank and rubrics are not loaded: run `mockloop questions import content` first")]
    NoContent,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Clone, Copy)]
pub struct DemoSummary {
    pub users: i64,
    pub loops: i64,
    pub rounds: i64,
    pub scorecards: i64,
    pub criterion_scores: i64,
    pub notes: i64,
}

/// The rounds' details: labelled statements over the temporary tables.
const ROUND_DETAILS: &[(&str, &str)] = &[
    (
        "rounds",
        "insert into rounds (id, loop_id, position, kind, title, planned_minutes, interviewer_id, timer_state,
                         started_at, elapsed_ms, ended_at, timer_version)
     select id, loop_id, position, kind, title, minutes, interviewer_id, 'ended',
            started_at, elapsed_ms, started_at + elapsed_ms * interval '1 millisecond', 2
     from demo_rounds",
    ),
    (
        "question picks",
        "create temp table demo_questions on commit drop as
     select id, kind, row_number() over (partition by kind order by slug) as rn,
            count(*) over (partition by kind) as of_kind
     from questions where owner_id is null",
    ),
    (
        "questions",
        "insert into round_questions (round_id, position, question_id, budget_minutes, candidate_id)
     select r.id, 1, q.id, r.minutes, r.candidate_id
     from demo_rounds r join demo_questions q on q.kind = r.kind and q.rn = r.question_pick % q.of_kind + 1",
    ),
    (
        "timer events",
        "insert into timer_events (round_id, actor_id, action, occurred_at)
     select id, coalesce(interviewer_id, candidate_id), 'start', started_at from demo_rounds
     union all
     select id, coalesce(interviewer_id, candidate_id), 'end', started_at + elapsed_ms * interval '1 millisecond'
     from demo_rounds",
    ),
    (
        "scorecards to write",
        "create temp table demo_cards on commit drop as
     select gen_random_uuid() as id, id as round_id, kind, candidate_id as author_id, 'self' as role,
            level + self_bias as level, started_at + elapsed_ms * interval '1 millisecond' as submitted_at
     from demo_rounds
     union all
     select gen_random_uuid(), id, kind, interviewer_id, 'interviewer', level,
            started_at + elapsed_ms * interval '1 millisecond' + interval '2 hours'
     from demo_rounds where interviewer_id is not null",
    ),
    (
        "criterion scores to write",
        "create temp table demo_scores on commit drop as
     select c.id as scorecard_id, rc.id as criterion_id,
            least(4, greatest(1, round(c.level + (random() - 0.5) * 1.4)))::smallint as score,
            (array['Explained the trade-off clearly.', 'Needed a hint to get started.',
                   'Tested edge cases unprompted.', 'Jumped to a solution before clarifying.',
                   'Quantified the impact with a metric.', 'Good structure, thin on depth.'])
                [1 + floor(random() * 6)::int] as evidence
     from demo_cards c join rubrics rb on rb.kind = c.kind
     join demo_rounds dr on dr.id = c.round_id join loops l on l.id = dr.loop_id
     join rubric_criteria rc on rc.rubric_id = rb.id and not rc.retired
          and (cardinality(rc.levels) = 0 or l.level = any(rc.levels))",
    ),
    (
        "scorecards",
        "insert into scorecards (id, round_id, author_id, role, status, recommendation, summary, strengths,
                             areas_to_improve, version, created_at, updated_at, submitted_at)
     select c.id, c.round_id, c.author_id, c.role, 'submitted',
            case when m.mean >= 3.5 then 'strong_hire' when m.mean >= 2.75 then 'hire'
                 when m.mean >= 1.75 then 'no_hire' else 'strong_no_hire' end,
            'Solid round overall; the criteria say where.',
            'Clear communication and a structured approach.',
            'Go deeper on evaluation and failure modes.',
            4, c.submitted_at - interval '40 minutes', c.submitted_at, c.submitted_at
     from demo_cards c join (select scorecard_id, avg(score) as mean from demo_scores group by scorecard_id) m
          on m.scorecard_id = c.id",
    ),
    (
        "criterion scores",
        "insert into criterion_scores (scorecard_id, criterion_id, score, evidence)
     select scorecard_id, criterion_id, score, evidence from demo_scores",
    ),
];

/// One finished step of the generation, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct DemoStep {
    /// 1-based, of `steps`.
    pub step: usize,
    pub steps: usize,
    pub label: &'static str,
    /// Rows the step wrote (0 for a step that only reads or analyses).
    pub rows: u64,
    /// Since the generation began.
    pub elapsed: std::time::Duration,
}

/// Counts the steps as they finish and reports each.
struct Steps<'a> {
    done: usize,
    started: std::time::Instant,
    report: &'a mut dyn FnMut(DemoStep),
}

impl Steps<'_> {
    /// How many `finished` calls `generate` makes.
    const TOTAL: usize = 8 + ROUND_DETAILS.len();

    fn finished(&mut self, label: &'static str, rows: u64) {
        self.done += 1;
        (self.report)(DemoStep { step: self.done, steps: Self::TOTAL, label, rows, elapsed: self.started.elapsed() });
    }
}

/// Generates the data in one transaction, then refreshes planner statistics;
/// `report` hears of each step as it finishes (it takes minutes at 100k loops).
pub async fn generate(
    conn: &mut PgConnection,
    request: &DemoRequest,
    report: &mut dyn FnMut(DemoStep),
) -> Result<DemoSummary, DemoError> {
    let mut steps = Steps { done: 0, started: std::time::Instant::now(), report };
    let kinds_ready = sqlx::query_scalar!(
        r#"select count(*) as "kinds!" from rubrics rb
         where exists (select 1 from questions q where q.kind = rb.kind and q.owner_id is null)
           and exists (select 1 from rubric_criteria c where c.rubric_id = rb.id and not c.retired)"#,
    )
    .fetch_one(&mut *conn)
    .await?;
    if kinds_ready < 6 {
        return Err(DemoError::NoContent);
    }
    let mut tx = conn.begin().await?;
    sqlx::query("set local synchronous_commit = off").execute(&mut *tx).await?;
    // setseed takes a value in [-1, 1].
    let seed_fraction = (request.seed.rem_euclid(1_000_003) as f64) / 1_000_003.0;
    sqlx::query("select setseed($1)").bind(seed_fraction).execute(&mut *tx).await?;

    let people = sqlx::query(
        "create temp table demo_users on commit drop as
         select gen_random_uuid() as id, n,
                1.4 + random() * 1.6 as skill, random() as growth, random() * 0.6 - 0.1 as self_bias,
                (array['Ada','Grace','Alan','Barbara','Edsger','Frances','Donald','Radia','Ken','Margaret',
                       'Leslie','Shafi','Yann','Fei-Fei','Geoffrey','Daphne','Andrew','Cynthia','Judea','Sara'])
                    [1 + floor(random() * 20)::int]
                || ' ' ||
                (array['Lovelace','Hopper','Turing','Liskov','Dijkstra','Allen','Knuth','Perlman','Thompson',
                       'Hamilton','Lamport','Goldwasser','LeCun','Li','Hinton','Koller','Ng','Dwork','Pearl','Hooker'])
                    [1 + floor(random() * 20)::int] as display_name
         from generate_series(1, $1::int) as n",
    )
    .bind(request.users)
    .execute(&mut *tx)
    .await?;
    steps.finished("people to create", people.rows_affected());
    let users = sqlx::query(
        "insert into users (id, username, display_name, password_hash)
         select id, format('demo-%s-%s', $1::bigint, n), display_name, $2 from demo_users",
    )
    .bind(request.seed)
    .bind(&request.password_hash)
    .execute(&mut *tx)
    .await?;
    steps.finished("users", users.rows_affected());
    // Anyone can interview a peer loop: this batch, earlier batches and real users.
    sqlx::query(
        "create temp table demo_pool on commit drop as
         select id, row_number() over (order by username) as rn from users",
    )
    .execute(&mut *tx)
    .await?;
    let pool_size: i64 = sqlx::query_scalar("select count(*) from demo_pool").fetch_one(&mut *tx).await?;
    sqlx::query(
        "create temp table demo_templates on commit drop as
         select id, name, row_number() over (order by slug) as rn from loop_templates where owner_id is null",
    )
    .execute(&mut *tx)
    .await?;
    let template_count: i64 = sqlx::query_scalar("select count(*) from demo_templates").fetch_one(&mut *tx).await?;

    let planned = sqlx::query(
        "create temp table demo_loops on commit drop as
         select gen_random_uuid() as id, u.id as candidate_id, u.skill, u.growth, u.self_bias,
                date_trunc('hour', now() - interval '1 day' - random() * interval '730 days') as starts_at,
                case when random() < 0.4 and $2 > 1 then 'peer' else 'self_timed' end as mode,
                (array['siri-nlp','camera-cv','health-timeseries','genai-llm','infra-data','services-recsys',
                       'coreml-on-device'])[1 + floor(random() * 7)::int] as team,
                case when random() < 0.5 then 'junior_mid' else 'senior_staff' end as level,
                (array['America/Los_Angeles','America/New_York','Europe/London','Europe/Berlin','Asia/Kolkata',
                       'Asia/Singapore'])[1 + floor(random() * 6)::int] as time_zone,
                (random() * 9e15)::bigint as selection_seed,
                1 + floor(random() * $3)::int as template_rn
         from demo_users u cross join generate_series(1, $1::int)",
    )
    .bind(request.loops_per_user)
    .bind(pool_size)
    .bind(template_count.max(1))
    .execute(&mut *tx)
    .await?;
    steps.finished("loops to write", planned.rows_affected());
    let loops = sqlx::query(
        "insert into loops (id, candidate_id, template_id, template_name, team, level, mode, status, starts_at,
                            time_zone, break_minutes, selection_seed, created_at, completed_at)
         select l.id, l.candidate_id, t.id, coalesce(t.name, 'Demo loop'), l.team, l.level, l.mode, 'completed',
                l.starts_at, l.time_zone, 10, l.selection_seed, l.starts_at - interval '3 days',
                l.starts_at + interval '6 hours'
         from demo_loops l left join demo_templates t on t.rn = l.template_rn",
    )
    .execute(&mut *tx)
    .await?;
    steps.finished("loops", loops.rows_affected());
    // A round's level drifts upward over the two years at the user's own pace;
    // peer rounds draw an interviewer other than the candidate. The six rounds
    // of a demo loop are the `values` list: position, kind, title, minutes.
    let planned_rounds = sqlx::query(
        "create temp table demo_rounds on commit drop as
         with picked as (
             select gen_random_uuid() as id, l.id as loop_id, l.candidate_id, l.self_bias, k.position, k.kind,
                    k.title, k.minutes, l.starts_at + (k.position - 1) * interval '55 minutes' as started_at,
                    (k.minutes * 60000 * (0.75 + random() * 0.4))::bigint as elapsed_ms,
                    l.skill + l.growth * (1 - extract(epoch from now() - l.starts_at) / (730 * 86400))
                        + (random() - 0.5) * 0.6 as level,
                    floor(random() * 1000)::int as question_pick, floor(random() * 1000)::int as note_pick,
                    case when l.mode = 'peer' then 1 + floor(random() * $1)::int end as interviewer_rn
             from demo_loops l cross join
                  (values (1, 'coding', 'Coding', 60), (2, 'ml_fundamentals', 'ML fundamentals', 45),
                          (3, 'ml_system_design', 'ML system design', 60), (4, 'domain', 'Domain deep dive', 45),
                          (5, 'behavioral', 'Behavioral', 45), (6, 'hiring_manager', 'Hiring manager', 45))
                  as k(position, kind, title, minutes))
         select picked.*, case when p.id <> picked.candidate_id then p.id else p2.id end as interviewer_id
         from picked
         left join demo_pool p on p.rn = picked.interviewer_rn
         left join demo_pool p2 on p2.rn = picked.interviewer_rn % $1 + 1",
    )
    .bind(pool_size)
    .execute(&mut *tx)
    .await?;
    steps.finished("rounds to write", planned_rounds.rows_affected());

    for (label, statement) in ROUND_DETAILS {
        let done = sqlx::query(statement).execute(&mut *tx).await?;
        steps.finished(label, done.rows_affected());
    }
    let notes = sqlx::query(
        "insert into notes (round_id, author_id, kind, body_md, body_html, version, updated_at)
         select id, candidate_id, 'scratchpad', $1[note_pick % cardinality($1) + 1],
                $2[note_pick % cardinality($2) + 1], 3, started_at + interval '20 minutes'
         from demo_rounds
         union all
         select id, interviewer_id, 'private', $1[(note_pick + 1) % cardinality($1) + 1],
                $2[(note_pick + 1) % cardinality($2) + 1], 2, started_at + interval '30 minutes'
         from demo_rounds where interviewer_id is not null",
    )
    .bind(&request.notes_md)
    .bind(&request.notes_html)
    .execute(&mut *tx)
    .await?;
    steps.finished("notes", notes.rows_affected());

    // Statistics first: planned blind, the refresh over these fresh rows ran 30× slower.
    sqlx::query("analyze loops, rounds, scorecards, criterion_scores").execute(&mut *tx).await?;
    // The refresh is planned for a few loops (a scorecard's), as nested loops over
    // its id list; over 100,000 loops that rescans its working tables per row.
    sqlx::query("set local enable_nestloop = off").execute(&mut *tx).await?;
    let loop_ids: Vec<Uuid> = sqlx::query_scalar("select id from demo_loops").fetch_all(&mut *tx).await?;
    super::history::refresh_score_points(&mut *tx, &loop_ids).await?;
    steps.finished("history points", 0);

    let (users, loops, rounds, scorecards, criterion_scores, notes) = sqlx::query_as(
        "select (select count(*) from demo_users), (select count(*) from demo_loops),
                (select count(*) from demo_rounds), (select count(*) from demo_cards),
                (select count(*) from demo_scores),
                (select count(*) from demo_rounds) + (select count(*) from demo_rounds where interviewer_id is not null)",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("analyze").execute(&mut *conn).await?;
    steps.finished("planner statistics", 0);
    Ok(DemoSummary { users, loops, rounds, scorecards, criterion_scores, notes })
}
