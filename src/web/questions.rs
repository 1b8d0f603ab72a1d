//! The question bank: search with filters, and one question's page.

use std::borrow::Cow;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::extract::Path;
use super::page::{Layout, choices, escape_html, render};
use super::render_cache::{page_etag, serve_versioned};
use super::session::SignedIn;
use crate::db;
use crate::db::questions::{QuestionFilter, QuestionSummary, QuestionText};
use crate::domain::bank::{self, Guidance, Listing, SearchText};
use crate::domain::{Difficulty, RoundKind, Team};
use crate::shipped::Shipped;
use crate::state::AppState;
use crate::web::error::AppError;

const PAGE_SIZE: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new().route("/questions", get(list_questions)).route("/questions/{slug}", get(show_question))
}

/// The bank page's query string; blank fields mean "any".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BankQuery {
    q: String,
    kind: String,
    team: String,
    difficulty: String,
    tag: String,
    page: String,
}

impl BankQuery {
    fn filter(&self) -> Result<QuestionFilter, AppError> {
        let some = |text: &str| Some(text.trim()).filter(|t| !t.is_empty()).map(str::to_owned);
        Ok(QuestionFilter {
            text: SearchText::parse(&self.q).map_err(AppError::BadRequest)?,
            kind: RoundKind::parse(self.kind.trim()),
            team: Team::parse(self.team.trim()),
            difficulty: self.difficulty.trim().parse().ok().and_then(Difficulty::parse),
            tag: some(&self.tag),
        })
    }

    fn page(&self) -> i64 {
        self.page.trim().parse::<i64>().ok().filter(|p| (1..=10_000).contains(p)).unwrap_or(1)
    }
}

#[derive(Template)]
#[template(path = "questions/list.html")]
struct QuestionListPage {
    layout: Layout,
    filter: QuestionFilter,
    questions: Vec<QuestionSummary>,
    /// The tag filter's choices: the shipped bank's (held, shared) and the viewer's own.
    shipped: Arc<Shipped>,
    own_tags: Vec<String>,
    total: i64,
    page: i64,
    listing: Listing,
}

impl QuestionListPage {
    fn kind_choices(&self) -> Vec<(String, String)> {
        choices(RoundKind::ALL.iter().map(|kind| (kind.as_str(), kind.label())))
    }

    fn team_choices(&self) -> Vec<(String, String)> {
        choices(Team::ALL.iter().map(|team| (team.as_str(), team.label())))
    }

    fn difficulty_choices(&self) -> Vec<(String, String)> {
        Difficulty::ALL.iter().map(|d| (d.value().to_string(), d.label().to_owned())).collect()
    }

    /// The tag select's options, every tag once, sorted: built by appending
    /// the shipped tags' HTML, escaped once for all pages (escaping and
    /// formatting hundreds of tags per page was most of this page's cost).
    fn tag_options(&self) -> String {
        let shipped = self.shipped.tags.iter().zip(&self.shipped.tags_html);
        let mut tags: Vec<(&str, Cow<'_, str>)> =
            shipped.map(|(tag, html)| (tag.as_str(), Cow::Borrowed(html.as_str()))).collect();
        if !self.own_tags.is_empty() {
            tags.extend(self.own_tags.iter().map(|tag| (tag.as_str(), Cow::Owned(escape_html(tag)))));
            tags.sort_unstable_by(|a, b| a.0.cmp(b.0));
            tags.dedup_by(|a, b| a.0 == b.0);
        }
        let chosen = self.filter.tag.as_deref();
        let mut options = String::with_capacity(tags.iter().map(|(_, html)| 2 * html.len() + 40).sum());
        for (tag, html) in &tags {
            let selected = if Some(*tag) == chosen { " selected" } else { "" };
            for part in ["<option value=\"", html, "\"", selected, ">", html, "</option>"] {
                options.push_str(part);
            }
        }
        options
    }

    fn chosen_kind(&self) -> String {
        self.filter.kind.map_or(String::new(), |kind| kind.as_str().to_owned())
    }

    fn chosen_team(&self) -> String {
        self.filter.team.map_or(String::new(), |team| team.as_str().to_owned())
    }

    fn chosen_difficulty(&self) -> String {
        self.filter.difficulty.map_or(String::new(), |d| d.value().to_string())
    }

    fn text(&self) -> &str {
        self.filter.text.as_ref().map_or("", SearchText::as_typed)
    }

    fn is_filtered(&self) -> bool {
        let f = &self.filter;
        f.text.is_some() || f.kind.is_some() || f.team.is_some() || f.difficulty.is_some() || f.tag.is_some()
    }

    fn page_count(&self) -> i64 {
        (self.total + PAGE_SIZE - 1) / PAGE_SIZE
    }

    fn first_shown(&self) -> i64 {
        (self.page - 1) * PAGE_SIZE + 1
    }

    fn last_shown(&self) -> i64 {
        (self.first_shown() + self.questions.len() as i64 - 1).max(0)
    }

    /// The link to another page of the same search.
    fn page_url(&self, page: i64) -> String {
        let f = &self.filter;
        let difficulty = f.difficulty.map(|d| d.value().to_string());
        let page = page.to_string();
        let pairs: Vec<(&str, &str)> = [
            ("q", f.text.as_ref().map(SearchText::as_typed)),
            ("kind", f.kind.map(RoundKind::as_str)),
            ("team", f.team.map(Team::as_str)),
            ("difficulty", difficulty.as_deref()),
            ("tag", f.tag.as_deref()),
            ("page", Some(page.as_str())),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect();
        format!("/questions?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

/// The bank page is kept rendered under the versions of what it lists (the
/// shipped questions, the viewer's own, the held tags) and the filter: paging
/// back and forth or returning from a question is then one small read.
async fn list_questions(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
    Query(query): Query<BankQuery>,
) -> Result<Response, AppError> {
    let filter = query.filter()?;
    let page = query.page();
    let mut db = state.db.acquire().await?;
    let versions = db::questions::bank_versions(&mut *db, user.id).await?;
    let shipped = state.live.shipped().get_on(&mut db).await?;
    let etag =
        page_etag(&user, &["questions", &format!("{versions:?}"), &shipped.digest, &format!("{filter:?}/{page}")]);
    serve_versioned(&state.rendered_searches, &headers, Some(etag), async || {
        let questions = db::questions::search(&mut *db, user.id, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
        let own_tags = db::questions::own_tags(&mut *db, user.id).await?;
        let total = questions.first().map_or(0, |q| q.total);
        let bank_size =
            if questions.is_empty() { db::questions::count_visible(&mut *db, user.id).await? } else { total };
        let listing = bank::listing(questions.len(), bank_size);
        Ok(QuestionListPage {
            layout: Layout::new(Some(user)),
            filter,
            questions,
            shipped,
            own_tags,
            total,
            page,
            listing,
        }
        .render()?)
    })
    .await
}

#[derive(Template)]
#[template(path = "questions/show.html")]
struct QuestionPage {
    layout: Layout,
    question: Arc<QuestionText>,
    is_own: bool,
    guidance: Guidance,
}

impl QuestionPage {
    fn level_labels(&self) -> Vec<&'static str> {
        self.question.levels.iter().map(|l| l.label()).collect()
    }

    /// The question's topic, unless it is the question's own slug (a private
    /// question written without one).
    fn topic(&self) -> Option<&str> {
        Some(self.question.topic.as_str()).filter(|topic| *topic != self.question.slug)
    }

    fn guidance_withheld(&self) -> bool {
        self.guidance == Guidance::WithheldUntilRoundEnds
    }
}

async fn show_question(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let mut db = state.db.acquire().await?;
    let visible = db::questions::find_visible(&mut *db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let texts = state.question_texts.get(&mut db, &[(visible.id, visible.updated_at)]).await?;
    drop(db);
    // A private question deleted since the first read is gone.
    let text = texts.into_iter().next().flatten().ok_or(AppError::NotFound)?;
    let guidance = bank::guidance_for(visible.is_own, &visible.candidate_rounds);
    let question = match guidance {
        Guidance::Shown => text,
        Guidance::WithheldUntilRoundEnds => Arc::new(text.without_guidance()),
    };
    render(&QuestionPage { layout: Layout::new(Some(user)), question, is_own: visible.is_own, guidance })
}
