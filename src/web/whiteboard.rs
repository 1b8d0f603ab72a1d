//! The candidate's whiteboard in a round: the scene they draw is saved like
//! their notes and code (candidate only, version check with a 409 carrying the
//! stored drawing, size limits), with the SVG the browser exports sanitised
//! before it is stored; the round page's panel; the live `scene` event the
//! interviewer watches; and the final drawing on the round feedback page and in
//! the loop's Markdown export. The SVG is only ever shown as an image
//! (`<img src="data:image/svg+xml;base64,…">`), where no script runs.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::extract::Form;
use super::participant::ParticipantRound;
use crate::db;
use crate::db::loops::LoopRow;
use crate::db::rounds::RoundState;
use crate::db::scene::{RoundScene, SaveOutcome};
use crate::domain::blind_scoring::RoundStage;
use crate::domain::visibility::{self, Item, Stage, Viewer};
use crate::domain::whiteboard::{DrawingError, MAX_SCENE_BYTES, MAX_SVG_BYTES, SafeSvg, Scene, SceneSummary};
use crate::domain::{RoundKind, markdown};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/rounds/{id}/scene", post(save_scene))
}

#[derive(Debug, Deserialize)]
struct SceneForm {
    scene: String,
    /// The drawing exported by the browser; empty when it could not export one
    /// (the page was closing), and then the last image stays.
    #[serde(default)]
    svg: String,
    base_version: i32,
}

#[derive(Serialize)]
struct SceneSaved {
    version: i32,
    saved_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct SceneConflict {
    conflict: bool,
    version: i32,
    scene: String,
    /// The stored drawing as a data URI, to show beside the one in the editor.
    image: Option<String>,
}

/// Saves the candidate's drawing if nobody saved a newer version since
/// `base_version`; otherwise answers 409 with the stored one. Only the
/// round's candidate draws; the interviewer watches it live.
async fn save_scene(
    State(state): State<AppState>,
    ParticipantRound { round, viewer, .. }: ParticipantRound,
    Form(form): Form<SceneForm>,
) -> Result<Response, AppError> {
    if !viewer.is_candidate() {
        return Err(AppError::Forbidden);
    }
    let (scene, svg) = read_drawing(form.scene, form.svg).await?;
    let mut tx = state.db.begin().await?;
    let outcome = db::scene::save(&mut tx, round.id, scene.json(), svg.as_ref(), form.base_version).await?;
    if matches!(outcome, SaveOutcome::Saved { .. }) {
        // Sent at commit: the interviewer's stream reads the saved scene.
        db::rounds::notify_round_changed(&mut *tx, round.id).await?;
    }
    tx.commit().await?;
    Ok(match outcome {
        SaveOutcome::Saved { version, updated_at } => {
            Json(SceneSaved { version, saved_at: updated_at }).into_response()
        }
        SaveOutcome::Conflict(current) => (
            StatusCode::CONFLICT,
            Json(SceneConflict {
                conflict: true,
                version: current.version,
                image: current.svg.as_ref().map(SafeSvg::data_uri),
                scene: current.scene,
            }),
        )
            .into_response(),
    })
}

/// The posted scene and its image, checked and sanitised off the async
/// workers (parsing a large SVG takes milliseconds), a few at a time.
async fn read_drawing(scene: String, svg: String) -> Result<(Scene, Option<SafeSvg>), AppError> {
    static SLOTS: LazyLock<Semaphore> =
        LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)));
    if scene.len() > MAX_SCENE_BYTES || svg.len() > MAX_SVG_BYTES {
        return Err(refusal(DrawingError::TooLarge));
    }
    let _slot = SLOTS.acquire().await.map_err(anyhow::Error::from)?;
    let read = tokio::task::spawn_blocking(move || {
        let scene = Scene::parse(&scene)?;
        let svg = if svg.is_empty() { None } else { Some(SafeSvg::sanitize(&svg)?) };
        Ok::<_, DrawingError>((scene, svg))
    })
    .await
    .map_err(anyhow::Error::from)?;
    read.map_err(refusal)
}

fn refusal(error: DrawingError) -> AppError {
    match error {
        DrawingError::TooLarge => AppError::PayloadTooLarge(error.message()),
        DrawingError::NotAScene | DrawingError::NotAnSvg => AppError::BadRequest(error.message()),
    }
}

/// The `scene` live event: `{version, scene}`, for the round's interviewer only.
pub fn live_json(drawing: &RoundScene) -> String {
    serde_json::json!({"version": drawing.version, "scene": drawing.scene}).to_string()
}

/// The round page's whiteboard panel as its viewer may see it: an editor for
/// the candidate, a live read-only view for the interviewer, and the stored
/// image for a browser without script.
pub struct WhiteboardPanel {
    kind: RoundKind,
    /// The viewer may see the candidate's drawing (the candidate always does).
    shown: bool,
    drawing: Option<RoundScene>,
}

impl WhiteboardPanel {
    /// The panel for `viewer`, holding the round's `drawing` only if they may see it.
    pub fn of(round: &RoundState, viewer: Viewer, stage: Stage, drawing: Option<RoundScene>) -> WhiteboardPanel {
        let shown = visibility::may_see(viewer, Item::CandidateWork, stage);
        WhiteboardPanel { kind: round.kind, shown, drawing: drawing.filter(|_| shown) }
    }

    pub fn shown(&self) -> bool {
        self.shown
    }

    /// Open by itself in a design round, and once something is drawn; folded away otherwise.
    pub fn open(&self) -> bool {
        self.kind == RoundKind::MlSystemDesign || self.summary().shapes > 0
    }

    pub fn version(&self) -> i32 {
        self.drawing.as_ref().map_or(0, |drawing| drawing.version)
    }

    /// The stored scene, for the editor to start from (empty before the first save).
    pub fn scene(&self) -> &str {
        self.drawing.as_ref().map_or("", |drawing| drawing.scene.as_str())
    }

    /// Whether the stored image shows the stored scene (the editor exports it again if not).
    pub fn image_current(&self) -> bool {
        self.drawing.as_ref().is_none_or(|drawing| drawing.svg_current)
    }

    /// The stored drawing as a data URI, for the view without script.
    pub fn image(&self) -> Option<String> {
        self.drawing.as_ref()?.svg.as_ref().map(SafeSvg::data_uri)
    }

    pub fn alt(&self) -> String {
        self.summary().alt_text()
    }

    fn summary(&self) -> SceneSummary {
        self.drawing.as_ref().map(|drawing| SceneSummary::of_stored(&drawing.scene)).unwrap_or_default()
    }

    pub fn vendor_base(&self) -> &'static str {
        super::assets::vendor_base()
    }

    pub fn board_module(&self) -> String {
        super::assets::workspace_url("whiteboard.js")
    }

    pub fn script(&self) -> String {
        super::assets::workspace_url("round-whiteboard.js")
    }
}

/// The drawing as the round ended (or as it is now), for the feedback page.
pub struct FinalDrawing {
    pub image: String,
    pub alt: String,
    pub texts: Vec<String>,
}

impl FinalDrawing {
    /// The round's drawing, if it has an image and `viewer` may see the candidate's work.
    pub async fn load(
        db: &mut sqlx::PgConnection,
        round: &RoundState,
        viewer: Viewer,
        stage: Stage,
    ) -> Result<Option<FinalDrawing>, sqlx::Error> {
        if !visibility::may_see(viewer, Item::CandidateWork, stage) {
            return Ok(None);
        }
        let Some(drawing) = db::scene::find(&mut *db, round.id).await? else { return Ok(None) };
        let Some(svg) = drawing.svg else { return Ok(None) };
        let summary = SceneSummary::of_stored(&drawing.scene);
        Ok(Some(FinalDrawing { image: svg.data_uri(), alt: summary.alt_text(), texts: summary.texts }))
    }
}

/// The loop's drawings that `viewer` may see, as a Markdown section of the
/// export (empty when there are none): each as a data-URI image, with the text
/// written in it (defused, like everything people wrote).
pub async fn markdown_section(state: &AppState, the_loop: &LoopRow, viewer: Uuid) -> Result<String, AppError> {
    let drawings = db::scene::drawings_of_loop(&state.db, the_loop.id).await?;
    let mut section = String::new();
    for drawing in drawings {
        let reader = Viewer::in_loop(viewer, the_loop.candidate_id, drawing.interviewer_id, false);
        let stage = Stage {
            mode: the_loop.mode,
            timer: drawing.timer_state,
            current_question: drawing.current_question,
            has_interviewer: drawing.interviewer_id.is_some(),
            cards: RoundStage::default(),
        };
        if !visibility::may_see(reader, Item::CandidateWork, stage) {
            continue;
        }
        let summary = SceneSummary::of_stored(&drawing.scene);
        let words = if summary.texts.is_empty() { "none".to_owned() } else { summary.texts.join("; ") };
        let heading = format!("\n### Round {}: {}\n\nText in the drawing: {words}\n", drawing.position, drawing.title);
        section.push_str(&markdown::defuse(&heading));
        section.push_str(&format!(
            "\n![Whiteboard drawing of round {}]({})\n",
            drawing.position,
            drawing.svg.data_uri()
        ));
    }
    Ok(if section.is_empty() { section } else { format!("\n## Whiteboards\n{section}") })
}
