//! History: every loop someone took part in (newest first, keyset-paginated,
//! filterable), progress charts per pillar and round kind, and the questions
//! they have had with how each attempt went.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::charts::{self, Series};
use super::page::{Layout, choices, render};
use super::render_cache::{page_etag, serve_versioned};
use super::session::SignedIn;
use crate::db;
use crate::db::history::{Attempt, Calibration, Cursor, HistoryFilter, HistoryLoop, QuestionHad, ScorePoint};
use crate::db::sessions::SessionUser;
use crate::domain::blind_scoring::{CardRole, CardStatus, RoundStage};
use crate::domain::progress::{self, ChartGrain};
use crate::domain::scoring::{self, Recommendation, RoundScores};
use crate::domain::visibility::{self, Viewer};
use crate::domain::{LoopMode, LoopStatus, Pillar, RoundKind, ScoreSeries, Team, schedule, timer};
use crate::state::AppState;
use crate::web::error::AppError;

const PAGE_SIZE: i64 = 20;
/// Scores from two months ago count half as much as today's.
const HALF_LIFE_DAYS: f64 = 60.0;

/// Questions a page of "questions you have had" lists, and attempts shown for each.
const QUESTIONS_PER_PAGE: i64 = 20;
const ATTEMPTS_PER_QUESTION: i64 = 5;

pub fn router() -> Router<AppState> {
    Router::new().route("/history", get(show_history)).route("/history/questions", get(show_questions_had))
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct HistoryQuery {
    mode: String,
    template: String,
    team: String,
    from: String,
    to: String,
    after: String,
}

impl HistoryQuery {
    fn filter(&self) -> HistoryFilter {
        let some = |text: &str| Some(text.trim()).filter(|t| !t.is_empty()).map(str::to_owned);
        let day = |text: &str| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        };
        HistoryFilter {
            mode: self.mode_filter(),
            template: some(&self.template),
            team: Team::parse(self.team.trim()),
            from: day(&self.from),
            // "to" is inclusive: loops before the next midnight.
            until: day(&self.to).map(|d| d + chrono::Duration::days(1)),
        }
    }

    /// The mode filter, if one was chosen.
    fn mode_filter(&self) -> Option<LoopMode> {
        LoopMode::parse(self.mode.trim())
    }

    /// `after` is `<RFC 3339 instant>~<loop id>`; anything else starts from the newest.
    fn cursor(&self) -> Option<Cursor> {
        let (at, id) = self.after.split_once('~')?;
        Some(Cursor { starts_at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc), id: id.parse().ok()? })
    }
}

pub struct LoopLine {
    pub item: HistoryLoop,
    pub when: String,
    pub outcome: &'static str,
}

pub struct QuestionHistory {
    pub slug: String,
    pub title: String,
    pub kind: RoundKind,
    /// How many times the user has had it; `attempts` holds the latest few.
    pub times: i64,
    pub attempts: Vec<AttemptLine>,
}

pub struct AttemptLine {
    pub round_id: Uuid,
    pub when: String,
    pub score: String,
    pub time: String,
    pub over_time: bool,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    layout: Layout,
    query: HistoryQuery,
    templates: Vec<String>,
    loops: Vec<LoopLine>,
    next_cursor: Option<String>,
    is_first_page: bool,
    pillar_chart: String,
    kind_chart: String,
    /// What a chart point stands for: "per loop", "weekly mean"…
    chart_grain: &'static str,
    current_levels: Vec<(&'static str, String)>,
    gap_chart: String,
    calibration: Vec<Calibration>,
}

impl HistoryPage {
    fn mode_choices(&self) -> Vec<(String, String)> {
        choices(LoopMode::ALL.iter().map(|mode| (mode.as_str(), mode.label())))
    }

    fn template_choices(&self) -> Vec<(String, String)> {
        choices(self.templates.iter().map(|name| (name.as_str(), name.as_str())))
    }

    fn team_choices(&self) -> Vec<(String, String)> {
        choices(Team::ALL.iter().map(|team| (team.as_str(), team.label())))
    }

    fn chosen_mode(&self) -> String {
        self.query.mode_filter().map_or(String::new(), |mode| mode.as_str().to_owned())
    }

    fn chosen_team(&self) -> String {
        Team::parse(self.query.team.trim()).map_or(String::new(), |team| team.as_str().to_owned())
    }

    fn next_url(&self) -> String {
        let q = &self.query;
        let pairs = [
            ("mode", q.mode.as_str()),
            ("template", q.template.as_str()),
            ("team", q.team.as_str()),
            ("from", q.from.as_str()),
            ("to", q.to.as_str()),
            ("after", self.next_cursor.as_deref().unwrap_or("")),
        ];
        let kept: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        format!("/history?{}", serde_urlencoded::to_string(kept).unwrap_or_default())
    }

    /// Mean of (mine − others) over the loops that have other interviewers.
    fn calibration_summary(&self) -> Option<String> {
        let differences: Vec<f64> = self.calibration.iter().filter_map(|c| Some(c.my_mean - c.others_mean?)).collect();
        if differences.is_empty() {
            return None;
        }
        let mean = differences.iter().sum::<f64>() / differences.len() as f64;
        let direction = if mean.abs() < 0.05 {
            "in line with".to_owned()
        } else if mean > 0.0 {
            format!("{mean:.1} higher than")
        } else {
            format!("{:.1} lower than", -mean)
        };
        Some(format!(
            "Over {} loop(s), your scores are on average {direction} the other interviewers' on the same loops.",
            differences.len()
        ))
    }

    fn mean_text(&self, value: &Option<f64>) -> String {
        value.map_or("—".to_owned(), |v| format!("{v:.1}"))
    }

    fn day(&self, at: &DateTime<Utc>) -> String {
        at.format("%-d %b %Y").to_string()
    }

    fn is_filtered(&self) -> bool {
        let q = &self.query;
        [&q.mode, &q.template, &q.team, &q.from, &q.to].iter().any(|v| !v.trim().is_empty())
    }
}

/// A history page changes only with the user's history version (or the day),
/// so it is kept rendered under that, as completed loops' feedback is.
async fn show_history(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(query): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let version = db::history::version(&state.db, user.id).await?;
    let as_of = progress::history_as_of(Utc::now());
    let etag = page_etag(
        &user,
        &[
            "history",
            &version.to_string(),
            &as_of.to_rfc3339(),
            &serde_urlencoded::to_string(&query).unwrap_or_default(),
        ],
    );
    serve_versioned(&state.rendered, &headers, Some(etag), async || {
        Ok(history_page(&state, user, query, as_of).await?.render()?)
    })
    .await
}

async fn history_page(
    state: &AppState,
    user: SessionUser,
    query: HistoryQuery,
    now: DateTime<Utc>,
) -> Result<HistoryPage, AppError> {
    let filter = query.filter();
    let cursor = query.cursor();
    let mut db = state.db.acquire().await?;
    let mut rows = db::history::loops(&mut *db, user.id, &filter, cursor, PAGE_SIZE + 1).await?;
    let next_cursor = (rows.len() as i64 > PAGE_SIZE).then(|| {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|last| format!("{}~{}", last.starts_at.to_rfc3339(), last.id)).unwrap_or_default()
    });
    let templates = db::history::template_names(&mut *db, user.id).await?;
    let is_first_page = cursor.is_none();
    let (grain, score_points, calibration) = if is_first_page {
        let (loops, first) = db::history::chart_shape(&mut *db, user.id).await?;
        let grain = ChartGrain::for_history(loops, first, now);
        (
            grain,
            db::history::score_points(&mut *db, user.id, grain).await?,
            db::history::calibration(&mut *db, user.id, 50).await?,
        )
    } else {
        (ChartGrain::Loop, Vec::new(), Vec::new())
    };
    drop(db);
    let series = |name: ScoreSeries| -> Vec<&ScorePoint> { score_points.iter().filter(|p| p.series == name).collect() };
    let (pillar_points, kind_points) = (series(ScoreSeries::Pillar), series(ScoreSeries::Kind));
    let gaps: Vec<(DateTime<Utc>, f64)> = series(ScoreSeries::Gap).iter().map(|p| (p.starts_at, p.mean)).collect();

    let pillar_series: Vec<Series> =
        Pillar::ALL.iter().map(|p| (p.label().to_owned(), points_of(&pillar_points, p.as_str()))).collect();
    let kind_series: Vec<Series> =
        RoundKind::ALL.iter().map(|k| (k.label().to_owned(), points_of(&kind_points, k.as_str()))).collect();
    let current_levels = Pillar::ALL
        .iter()
        .map(|p| {
            let points = points_of(&pillar_points, p.as_str());
            (
                p.label(),
                scoring::weighted_trend(&points, now, HALF_LIFE_DAYS).map_or("—".to_owned(), |v| format!("{v:.1}")),
            )
        })
        .collect();

    let per = grain.per();
    Ok(HistoryPage {
        layout: Layout::new(Some(user)),
        loops: rows.into_iter().map(loop_line).collect(),
        query,
        templates,
        next_cursor,
        is_first_page,
        pillar_chart: charts::score_lines(&format!("Mean score per pillar, {per}"), &pillar_series),
        kind_chart: charts::score_lines(&format!("Mean score per round kind, {per}"), &kind_series),
        chart_grain: per,
        current_levels,
        gap_chart: charts::lines(
            &format!("Self-assessment minus interviewer score, {per}"),
            &[("Gap".to_owned(), gaps)],
            -3,
            3,
        ),
        calibration,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QuestionsQuery {
    page: String,
}

#[derive(Template)]
#[template(path = "history_questions.html")]
struct QuestionsHadPage {
    layout: Layout,
    questions: Vec<QuestionHistory>,
    page: i64,
    total: i64,
}

impl QuestionsHadPage {
    fn pages(&self) -> i64 {
        (self.total + QUESTIONS_PER_PAGE - 1) / QUESTIONS_PER_PAGE
    }
}

/// Every question the user has had as a candidate, the most recent first, a page at a time.
async fn show_questions_had(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(query): Query<QuestionsQuery>,
) -> Result<Response, AppError> {
    let page = query.page.trim().parse::<i64>().unwrap_or(1).clamp(1, 10_000);
    let mut db = state.db.acquire().await?;
    let had =
        db::history::questions_had(&mut *db, user.id, QUESTIONS_PER_PAGE, (page - 1) * QUESTIONS_PER_PAGE).await?;
    let slugs: Vec<String> = had.iter().map(|q| q.slug.clone()).collect();
    let attempts = db::history::attempts(&mut *db, user.id, &slugs, ATTEMPTS_PER_QUESTION).await?;
    drop(db);
    let total = had.first().map_or(0, |q| q.total);
    render(&QuestionsHadPage { layout: Layout::new(Some(user)), questions: group_attempts(had, attempts), page, total })
}

fn points_of(points: &[&ScorePoint], key: &str) -> Vec<(DateTime<Utc>, f64)> {
    points.iter().filter(|p| p.group_key == key).map(|p| (p.starts_at, p.mean)).collect()
}

/// The deciding recommendation of each round, where blind scoring lets the user read it.
fn readable_recommendations(item: &HistoryLoop) -> Vec<Option<Recommendation>> {
    let deciding = visibility::deciding_card(item.mode);
    let recommendations = match deciding {
        CardRole::Interviewer => &item.interviewer_recommendations,
        CardRole::SelfAssessment => &item.self_recommendations,
    };
    recommendations
        .iter()
        .enumerate()
        .map(|(index, recommendation)| {
            let status = |statuses: &[Option<CardStatus>]| statuses.get(index).copied().flatten();
            let stage = RoundStage {
                interviewer: status(&item.interviewer_statuses),
                self_assessment: status(&item.self_statuses),
            };
            let viewer = match (item.as_candidate, item.user_interviews.get(index).copied().unwrap_or(false)) {
                (true, _) => Viewer::Candidate,
                (false, true) => Viewer::RoundInterviewer,
                (false, false) => Viewer::OtherInterviewer { scored: item.user_scored },
            };
            visibility::may_read_card(viewer, deciding, stage).then_some(*recommendation).flatten()
        })
        .collect()
}

fn loop_line(item: HistoryLoop) -> LoopLine {
    let zone = schedule::parse_time_zone(&item.time_zone).unwrap_or(chrono_tz::Tz::UTC);
    let rounds: Vec<RoundScores> = readable_recommendations(&item)
        .into_iter()
        .enumerate()
        .map(|(index, recommendation)| RoundScores {
            round_position: index as i16 + 1,
            kind: RoundKind::Coding,
            recommendation,
            criteria: Vec::new(),
        })
        .collect();
    let outcome = scoring::loop_outcome(&rounds);
    let submitted = outcome.submitted;
    LoopLine {
        when: schedule::format_local(item.starts_at, zone),
        outcome: match (item.status, outcome.decision) {
            (LoopStatus::Cancelled, _) => "Cancelled",
            (_, Some(decision)) => decision.label(),
            (_, None) if submitted == 0 => "Not scored yet",
            _ => "Scoring in progress",
        },
        item,
    }
}

/// Each question of the page with its attempts, in the page's order.
fn group_attempts(had: Vec<QuestionHad>, attempts: Vec<Attempt>) -> Vec<QuestionHistory> {
    let mut by_slug: BTreeMap<String, Vec<AttemptLine>> = BTreeMap::new();
    for attempt in attempts {
        by_slug.entry(attempt.slug.clone()).or_default().push(AttemptLine {
            round_id: attempt.round_id,
            when: attempt.starts_at.format("%-d %b %Y").to_string(),
            score: attempt.mean_score().map_or("not scored".to_owned(), |s| format!("{s:.1}")),
            time: format!(
                "{} of {}",
                timer::format_duration(attempt.elapsed_ms),
                timer::format_duration(attempt.allowed_ms)
            ),
            over_time: attempt.elapsed_ms > attempt.allowed_ms,
        });
    }
    had.into_iter()
        .map(|question| QuestionHistory {
            attempts: by_slug.remove(&question.slug).unwrap_or_default(),
            times: question.attempts,
            slug: question.slug,
            title: question.title,
            kind: question.kind,
        })
        .collect()
}
