//! The writers of the fault tests: accounts that autosave notes and submit,
//! then amend, their scorecard until told to stop, retrying through outages as
//! the page's script does, each keeping a log of what the server acknowledged;
//! and the audit of the database against those logs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use super::JSON;
use crate::support::server::{ServedCandidate, form, send};

/// A complete scorecard form body with `summary` (every criterion scored 3 with
/// evidence "seen <id>"), to submit or amend.
pub(super) fn scorecard_body(criteria: &[Uuid], summary: &str, intent: &str) -> String {
    let mut pairs: Vec<(String, String)> = criteria
        .iter()
        .flat_map(|id| [(format!("score_{id}"), "3".to_owned()), (format!("evidence_{id}"), format!("seen {id}"))])
        .collect();
    pairs.extend([
        ("recommendation".into(), "hire".into()),
        ("summary".into(), summary.into()),
        ("strengths".into(), "clear".into()),
        ("areas_to_improve".into(), "edge cases".into()),
        ("intent".into(), intent.into()),
    ]);
    serde_urlencoded::to_string(&pairs).expect("form encodes")
}

/// One autosaved text (the scratchpad, the code): what was sent, and the
/// (version, body) of each save the server acknowledged.
#[derive(Default)]
pub(super) struct AutosaveLog {
    pub(super) sent: Vec<String>,
    pub(super) acknowledged: Vec<(i32, String)>,
    /// The version the next save is based on.
    version: i32,
}

/// What one writer sent and what the server acknowledged with a 2xx (or 303).
#[derive(Default)]
pub(super) struct WriterLog {
    pub(super) notes: AutosaveLog,
    pub(super) code: AutosaveLog,
    /// Summaries of every submit or amend sent, in order.
    pub(super) scorecards_sent: Vec<String>,
    pub(super) scorecards_acknowledged: Vec<String>,
    pub(super) amends_acknowledged: usize,
    /// A conflict answer showing a version below one already acknowledged.
    pub(super) regressions: usize,
    /// Answers that are neither success, conflict nor 503 (a 500, say).
    pub(super) unexpected: Vec<u16>,
    /// Longest wait for any answer, error or not.
    pub(super) slowest: Duration,
    pub(super) unavailable: usize,
}

impl WriterLog {
    pub(super) fn acknowledged(&self) -> usize {
        self.notes.acknowledged.len() + self.code.acknowledged.len() + self.scorecards_acknowledged.len()
    }
}

/// Saves `body` at `path` as the page's script does (`fields` besides the body
/// and base version), noting what the server acknowledged.
async fn autosave(
    port: u16,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
    body: String,
    text: &mut AutosaveLog,
    log: &mut WriterLog,
) {
    text.sent.push(body.clone());
    let base_version = text.version.to_string();
    let mut pairs = vec![("body", body.as_str()), ("base_version", base_version.as_str())];
    pairs.extend_from_slice(fields);
    let asked = Instant::now();
    let saved = send(port, "POST", path, Some(cookie), &JSON, &form(&pairs)).await;
    log.slowest = log.slowest.max(asked.elapsed());
    match saved {
        Ok(reply) if reply.status == 200 => match reply.json()["version"].as_i64() {
            Some(saved_version) => {
                text.version = saved_version as i32;
                text.acknowledged.push((text.version, body));
            }
            None => log.unexpected.push(reply.status),
        },
        Ok(reply) if reply.status == 409 => {
            let current = reply.json()["version"].as_i64().unwrap_or(0) as i32;
            if text.acknowledged.last().is_some_and(|(acknowledged, _)| current < *acknowledged) {
                log.regressions += 1;
            }
            text.version = current;
        }
        Ok(reply) if reply.status == 503 => {
            log.unavailable += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(reply) => log.unexpected.push(reply.status),
        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
    }
}

/// Autosaves notes and code, and submits, then amends, the scorecard until
/// `stop`, retrying through outages as the page's script does.
async fn write_until(port: u16, writer: usize, candidate: ServedCandidate, stop: Arc<AtomicBool>) -> WriterLog {
    let mut log = WriterLog::default();
    let (mut notes, mut code) = (AutosaveLog::default(), AutosaveLog::default());
    let mut submitted = false;
    let notes_path = format!("/rounds/{}/notes", candidate.round);
    let code_path = format!("/rounds/{}/code", candidate.round);
    let assessment_path = format!("/rounds/{}/assessment", candidate.round);
    let mut step = 0usize;
    while !stop.load(Ordering::Relaxed) {
        step += 1;
        let body = format!("writer {writer} save {step}");
        autosave(port, &candidate.cookie, &notes_path, &[], body, &mut notes, &mut log).await;
        let source = format!("def answer():\n    return {step}  # writer {writer}\n");
        autosave(port, &candidate.cookie, &code_path, &[("language", "python")], source, &mut code, &mut log).await;
        if !step.is_multiple_of(3) {
            continue;
        }
        let (summary, intent) = if submitted {
            (format!("writer {writer} amend {step}"), "amend")
        } else {
            (format!("writer {writer} submit {step}"), "submit")
        };
        log.scorecards_sent.push(summary.clone());
        let asked = Instant::now();
        let posted = send(
            port,
            "POST",
            &assessment_path,
            Some(&candidate.cookie),
            &[],
            &scorecard_body(&candidate.criteria, &summary, intent),
        )
        .await;
        log.slowest = log.slowest.max(asked.elapsed());
        match posted {
            Ok(reply) if reply.status == 303 => {
                log.scorecards_acknowledged.push(summary);
                log.amends_acknowledged += usize::from(submitted);
                submitted = true;
            }
            // An earlier submit went through although its answer was lost.
            Ok(reply) if reply.status == 409 && !submitted => submitted = true,
            Ok(reply) if reply.status == 503 => log.unavailable += 1,
            Ok(reply) => log.unexpected.push(reply.status),
            Err(_) => {}
        }
    }
    log.notes = notes;
    log.code = code;
    log
}

/// Checks the database against one writer's log: counts (acknowledged writes
/// missing, torn or duplicated rows) after every fault.
#[derive(Debug, Default)]
pub(super) struct Audit {
    pub(super) lost: usize,
    pub(super) torn_or_duplicated: usize,
}

impl Audit {
    /// The stored (version, body) of an autosaved text against its log: the
    /// last acknowledged save or a later one, and only ever a body that was sent.
    fn check_text(&mut self, stored: Option<(i32, &str)>, log: &AutosaveLog) {
        if let Some((acknowledged_version, acknowledged_body)) = log.acknowledged.last() {
            match stored {
                None => self.lost += 1,
                Some((version, body)) => {
                    if version < *acknowledged_version
                        || (version == *acknowledged_version && body != acknowledged_body)
                    {
                        self.lost += 1;
                    }
                }
            }
        }
        if let Some((_, body)) = stored
            && !log.sent.iter().any(|sent| sent == body)
        {
            self.torn_or_duplicated += 1;
        }
    }
}

async fn audit(db: &PgPool, candidate: &ServedCandidate, log: &WriterLog) -> Audit {
    let mut audit = Audit { lost: log.regressions, torn_or_duplicated: 0 };
    let notes: Vec<(i32, String, String)> =
        sqlx::query_as("select version, body_md, body_html from notes where round_id = $1 and kind = 'scratchpad'")
            .bind(candidate.round)
            .fetch_all(db)
            .await
            .expect("notes");
    audit.torn_or_duplicated += notes.len().saturating_sub(1);
    audit.check_text(notes.first().map(|(version, body, _)| (*version, body.as_str())), &log.notes);
    if let Some((_, body, html)) = notes.first()
        && *html != mockloop::domain::markdown::render(body)
    {
        audit.torn_or_duplicated += 1;
    }
    let code: Option<(i32, String)> = sqlx::query_as("select version, body from round_code where round_id = $1")
        .bind(candidate.round)
        .fetch_optional(db)
        .await
        .expect("code");
    audit.check_text(code.as_ref().map(|(version, body)| (*version, body.as_str())), &log.code);

    let cards: Vec<(Uuid, String, String)> =
        sqlx::query_as("select id, status, summary from scorecards where round_id = $1 and role = 'self'")
            .bind(candidate.round)
            .fetch_all(db)
            .await
            .expect("scorecards");
    audit.torn_or_duplicated += cards.len().saturating_sub(1);
    if let Some(last_acknowledged) = log.scorecards_acknowledged.last() {
        let Some((card, status, summary)) = cards.first() else {
            audit.lost += 1;
            return audit;
        };
        let position = |text: &str| log.scorecards_sent.iter().position(|sent| sent == text);
        // The stored summary is the last acknowledged one or one sent after it.
        if status != "submitted" || position(summary) < position(last_acknowledged) {
            audit.lost += 1;
        }
        let amendments: i64 = sqlx::query_scalar("select count(*) from scorecard_amendments where scorecard_id = $1")
            .bind(card)
            .fetch_one(db)
            .await
            .expect("amendments");
        let amends_sent = log.scorecards_sent.iter().filter(|s| s.contains(" amend ")).count();
        audit.lost += log.amends_acknowledged.saturating_sub(amendments as usize);
        audit.torn_or_duplicated += (amendments as usize).saturating_sub(amends_sent);
        let scores: i64 = sqlx::query_scalar(
            "select count(*) from criterion_scores where scorecard_id = $1 and score = 3 and evidence like 'seen %'",
        )
        .bind(card)
        .fetch_one(db)
        .await
        .expect("scores");
        if scores as usize != candidate.criteria.len() {
            audit.torn_or_duplicated += 1;
        }
    }
    audit
}

/// Starts `writers` writers on `port` (signing each up), returning their handles.
pub(super) async fn start_writers(
    port: u16,
    db: &PgPool,
    writers: usize,
    prefix: &str,
) -> (Vec<ServedCandidate>, Vec<tokio::task::JoinHandle<WriterLog>>, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut candidates = Vec::new();
    let mut handles = Vec::new();
    for writer in 0..writers {
        let candidate = ServedCandidate::with_running_round(port, db, &format!("{prefix}{writer}")).await;
        candidates.push(candidate.clone());
        handles.push(tokio::spawn(write_until(port, writer, candidate, stop.clone())));
    }
    (candidates, handles, stop)
}

/// Stops the writers and audits each against the database.
pub(super) async fn finish_writers(
    db: &PgPool,
    candidates: &[ServedCandidate],
    handles: Vec<tokio::task::JoinHandle<WriterLog>>,
    stop: &AtomicBool,
) -> (Vec<WriterLog>, Audit) {
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for handle in handles {
        logs.push(handle.await.expect("writer"));
    }
    let mut total = Audit::default();
    for (candidate, log) in candidates.iter().zip(&logs) {
        let audit = audit(db, candidate, log).await;
        total.lost += audit.lost;
        total.torn_or_duplicated += audit.torn_or_duplicated;
    }
    (logs, total)
}
