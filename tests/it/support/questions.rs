//! The questions a round drew, and the distinctive pieces of their guidance
//! (hints, follow-ups, what good looks like, calibration) that only an interviewer may
//! read: the canaries of the visibility and leak tests.

use super::app::TestApp;
use super::loops::id_of;

/// A question of a round, as the bank holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BankQuestion {
    pub title: String,
    pub prompt_md: String,
    pub hints: Vec<String>,
    pub follow_ups: Vec<String>,
    pub good_answer_md: String,
    pub calibration_md: Option<String>,
}

pub async fn questions_of_round(app: &TestApp, round: &str) -> Vec<BankQuestion> {
    let questions: Vec<BankQuestion> = sqlx::query_as(
        "select q.title, q.prompt_md, q.hints, q.follow_ups, q.good_answer_md, q.calibration_md
         from round_questions rq join questions q on q.id = rq.question_id
         where rq.round_id = $1 order by rq.position",
    )
    .bind(id_of(round))
    .fetch_all(&app.db)
    .await
    .expect("round questions");
    assert!(!questions.is_empty(), "the round has a question");
    questions
}

/// The longest run of plain words (letters, digits, spaces, commas) in
/// `text` that none of `elsewhere` contains. Such a run reads the same in
/// HTML, JSON, Markdown and event streams, so any response that carries
/// `text`, rendered or not, carries it.
pub fn fragment(text: &str, elsewhere: &[&str]) -> Option<String> {
    let mut runs: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ' ' || c == ','))
        .map(str::trim)
        .filter(|run| run.len() >= 16 && run.contains(' '))
        .collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.len()));
    runs.into_iter().find(|run| elsewhere.iter().all(|other| !other.contains(run))).map(str::to_owned)
}

/// Distinctive pieces of what only the interviewer may see: each hint, each
/// follow-up, the "what good looks like" text and the calibration, labelled.
pub fn guidance_fragments(question: &BankQuestion) -> Vec<(String, String)> {
    let elsewhere = [question.prompt_md.as_str(), question.title.as_str()];
    let mut pieces = Vec::new();
    for (index, hint) in question.hints.iter().enumerate() {
        pieces.extend(fragment(hint, &elsewhere).map(|f| (format!("hint {index}"), f)));
    }
    for (index, item) in question.follow_ups.iter().enumerate() {
        pieces.extend(fragment(item, &elsewhere).map(|f| (format!("follow-up {index}"), f)));
    }
    pieces.extend(fragment(&question.good_answer_md, &elsewhere).map(|f| ("what good looks like".to_owned(), f)));
    let calibration = question.calibration_md.as_deref().unwrap_or_default();
    let elsewhere = [question.prompt_md.as_str(), question.title.as_str(), question.good_answer_md.as_str()];
    pieces.extend(fragment(calibration, &elsewhere).map(|f| ("calibration".to_owned(), f)));
    assert!(pieces.iter().any(|(label, _)| label.starts_with("hint")), "a distinctive hint: {question:?}");
    assert!(pieces.iter().any(|(label, _)| label.starts_with("what good")), "a distinctive good answer");
    assert!(pieces.iter().any(|(label, _)| label == "calibration"), "a distinctive calibration: {question:?}");
    pieces
}

/// The bank slug of each question of a round, in order.
pub async fn slugs_of_round(app: &TestApp, round: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select q.slug from round_questions rq join questions q on q.id = rq.question_id
         where rq.round_id = $1 order by rq.position",
    )
    .bind(id_of(round))
    .fetch_all(&app.db)
    .await
    .expect("round question slugs")
}
