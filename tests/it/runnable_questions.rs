//! Every runnable coding question, checked by the runner the browser uses:
//! its reference solution passes all its tests and its starter fails one.

use std::process::Command;

use mockloop::content;
use mockloop::domain::RoundKind;
use mockloop::domain::question::CodeLanguage;

use crate::support::db::repo_path;

#[test]
fn every_reference_solution_passes_its_tests_and_every_starter_fails_one() {
    let bundle = content::load_dir(&repo_path("content")).expect("the shipped content loads");
    let python: Vec<&str> = bundle
        .questions
        .iter()
        .filter(|q| q.question.kind == RoundKind::Coding)
        .filter(|q| q.question.starter.as_ref().is_some_and(|s| s.language == CodeLanguage::Python))
        .map(|q| q.slug.as_str())
        .collect();
    assert!(python.len() >= 24, "only {} Python coding questions", python.len());

    let output = Command::new("python3")
        .arg(repo_path("static/workspace/runner.py"))
        .arg("check")
        .arg(repo_path("content/questions/coding"))
        .output()
        .expect("python3 runs (scripts/test installs it when missing)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the runner check failed:\n{stdout}\n{stderr}");

    // The count must match, so that a runner that skipped or never found the
    // questions cannot pass.
    let summary = stdout.lines().last().unwrap_or_default();
    let count = python.len();
    assert!(
        summary.starts_with(&format!("checked {count} Python questions: {count} passed, 0 failed")),
        "expected {count} Python questions checked, the runner said: {summary}"
    );
    for slug in python {
        assert!(stdout.lines().any(|line| line.starts_with(&format!("ok   {slug}:"))), "{slug} not checked:\n{stdout}");
    }
}
