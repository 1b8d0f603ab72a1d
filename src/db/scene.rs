//! The candidate's whiteboard in a round (scene and sanitised SVG), with a
//! version number so that concurrent edits are detected, never overwritten
//! (as notes and code are).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::timer::TimerState;
use crate::domain::whiteboard::SafeSvg;

#[derive(Debug, Clone)]
pub struct RoundScene {
    /// Excalidraw's JSON, as the candidate's editor saved it.
    pub scene: String,
    /// Sanitised before it was stored.
    pub svg: Option<SafeSvg>,
    /// Whether `svg` shows this version of the scene (not an earlier one).
    pub svg_current: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn find(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Option<RoundScene>, sqlx::Error> {
    let row = sqlx::query!(
        "select scene, svg, svg_version, version, updated_at from round_scene where round_id = $1",
        round_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| RoundScene {
        scene: row.scene,
        svg: row.svg.map(SafeSvg::from_stored),
        svg_current: row.svg_version == Some(row.version),
        version: row.version,
        updated_at: row.updated_at,
    }))
}

pub enum SaveOutcome {
    Saved {
        version: i32,
        updated_at: DateTime<Utc>,
    },
    /// Someone saved a newer version first; here it is.
    Conflict(RoundScene),
}

/// Saves the scene and its image if the stored scene is still at `base_version`
/// (0 when there is none yet). Without an image, the last one stays.
pub async fn save(
    db: &mut sqlx::PgConnection,
    round_id: Uuid,
    scene: &str,
    svg: Option<&SafeSvg>,
    base_version: i32,
) -> Result<SaveOutcome, sqlx::Error> {
    let svg = svg.map(SafeSvg::as_str);
    let inserted = sqlx::query!(
        "insert into round_scene (round_id, scene, svg, svg_version, version)
         select $1, $2, $3::text, case when $3::text is null then null else 1 end, 1 where $4 = 0
         on conflict (round_id) do nothing
         returning version, updated_at",
        round_id,
        scene,
        svg,
        base_version,
    )
    .fetch_optional(&mut *db)
    .await?;
    let saved = match inserted {
        Some(row) => Some((row.version, row.updated_at)),
        None => sqlx::query!(
            "update round_scene
             set scene = $2, svg = coalesce($3::text, svg),
                 svg_version = case when $3::text is null then svg_version else version + 1 end, version = version + 1
             where round_id = $1 and version = $4
             returning version, updated_at",
            round_id,
            scene,
            svg,
            base_version,
        )
        .fetch_optional(&mut *db)
        .await?
        .map(|row| (row.version, row.updated_at)),
    };
    match saved {
        Some((version, updated_at)) => Ok(SaveOutcome::Saved { version, updated_at }),
        None => {
            let current = find(&mut *db, round_id).await?;
            Ok(SaveOutcome::Conflict(current.unwrap_or(RoundScene {
                scene: String::new(),
                svg: None,
                svg_current: false,
                version: 0,
                updated_at: Utc::now(),
            })))
        }
    }
}

/// A loop's drawings with what decides who may see each: for the exports.
pub struct LoopDrawing {
    pub position: i16,
    pub title: String,
    pub timer_state: TimerState,
    pub current_question: i16,
    pub interviewer_id: Option<Uuid>,
    pub scene: String,
    pub svg: SafeSvg,
}

/// The drawings of `loop_id`'s rounds that have an image, in round order.
pub async fn drawings_of_loop(db: impl PgExecutor<'_>, loop_id: Uuid) -> Result<Vec<LoopDrawing>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select r.position, r.title, r.timer_state as "timer_state: TimerState", r.current_question,
                  r.interviewer_id, s.scene, s.svg as "svg!"
           from round_scene s
           join rounds r on r.id = s.round_id
           where r.loop_id = $1 and s.svg is not null
           order by r.position"#,
        loop_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| LoopDrawing {
            position: row.position,
            title: row.title,
            timer_state: row.timer_state,
            current_question: row.current_question,
            interviewer_id: row.interviewer_id,
            scene: row.scene,
            svg: SafeSvg::from_stored(row.svg),
        })
        .collect())
}
