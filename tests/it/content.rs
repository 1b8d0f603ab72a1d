//! The shipped content, the loaders' refusals, and `mockloop questions import/export`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use mockloop::content::{self, ContentErrors};

use crate::support::TestDb;
use crate::support::db::repo_path;
use crate::support::server::run_cli;

/// The example questions of the interview guide, as quoted in it.
fn guide_examples() -> Vec<String> {
    let guide = std::fs::read_to_string(repo_path("../shared/seed/apple-mle-interview-guide.txt"))
        .or_else(|_| std::fs::read_to_string(repo_path("tests/fixtures/guide-examples.txt")))
        .expect("the guide (or its fixture copy) is readable");
    guide.lines().filter_map(|line| line.trim().strip_prefix("- \"")?.strip_suffix('"').map(str::to_owned)).collect()
}

#[tokio::test]
async fn the_exported_bank_meets_the_minimums_and_holds_every_guide_example() {
    let db = TestDb::new().await;
    let output = run_cli(&db, &["questions", "export", "--format", "json"], "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let questions: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("JSON array on stdout");

    assert!(questions.len() >= 220, "{} questions", questions.len());
    let mut per_kind: HashMap<String, usize> = HashMap::new();
    let mut per_team: HashMap<String, usize> = HashMap::new();
    // A team's own pool of domain and hiring-manager questions, so that its loops need not borrow.
    let mut per_team_and_kind: HashMap<(String, String), usize> = HashMap::new();
    for question in &questions {
        let slug = question["slug"].as_str().expect("slug");
        let kind = question["kind"].as_str().expect("kind");
        *per_kind.entry(kind.to_owned()).or_default() += 1;
        for team in question["teams"].as_array().expect("teams") {
            *per_team.entry(team.as_str().expect("team").to_owned()).or_default() += 1;
            *per_team_and_kind.entry((team.as_str().expect("team").to_owned(), kind.to_owned())).or_default() += 1;
        }
        assert!(question["follow_ups"].as_array().expect("follow-ups").len() >= 2, "{slug}");
        assert!(!question["hints"].as_array().expect("hints").is_empty(), "{slug}");
        assert!(question["what_good_looks_like"].as_str().expect("guidance").len() > 80, "{slug}");
        assert!(!question["tags"].as_array().expect("tags").is_empty(), "{slug}");
        assert!(question["topic"].as_str().is_some_and(|topic| !topic.is_empty()), "{slug} has a topic");
        let calibration = &question["calibration"];
        for note in ["one_vs_two", "three_vs_four", "junior_mid_vs_senior_staff"] {
            assert!(calibration[note].as_str().is_some_and(|text| text.len() > 20), "{slug}: calibration {note}");
        }
    }
    for kind in ["coding", "ml_fundamentals", "ml_system_design", "domain", "behavioral", "hiring_manager"] {
        assert!(per_kind.get(kind).copied().unwrap_or(0) >= 10, "{kind}: {per_kind:?}");
    }
    for team in mockloop::domain::Team::ALL.iter().map(|team| team.as_str()) {
        assert!(per_team.get(team).copied().unwrap_or(0) >= 8, "{team}: {per_team:?}");
        for (kind, least) in [("domain", 10), ("hiring_manager", 5)] {
            let count = per_team_and_kind.get(&(team.to_owned(), kind.to_owned())).copied().unwrap_or(0);
            assert!(count >= least, "{team} has {count} {kind} questions of its own");
        }
    }

    let quoted: Vec<&str> = questions
        .iter()
        .flat_map(|q| q["guide_quotes"].as_array().expect("quotes").iter().filter_map(|v| v.as_str()))
        .collect();
    let examples = guide_examples();
    assert!(examples.len() >= 25, "found {} guide examples", examples.len());
    for example in examples {
        assert!(quoted.contains(&example.as_str()), "guide example missing from the bank: {example}");
    }
}

#[tokio::test]
async fn markdown_export_reads_back_as_the_same_questions() {
    let db = TestDb::new().await;
    let out = tempdir("export");
    let output =
        run_cli(&db, &["questions", "export", "--format", "markdown", "--out", out.to_str().expect("utf-8")], "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let exported = content::load_dir(&out).expect("exported files load");
    let shipped = content::load_dir(&repo_path("content")).expect("shipped content loads");
    assert_eq!(exported.questions.len(), shipped.questions.len());
    for (a, b) in exported.questions.iter().zip(&shipped.questions) {
        assert_eq!(serde_json::to_value(a).ok(), serde_json::to_value(b).ok(), "{}", a.slug);
    }
}

#[tokio::test]
async fn importing_the_shipped_content_again_changes_nothing() {
    let db = TestDb::new().await;
    let bundle = content::load_dir(&repo_path("content")).expect("loads");
    let mut tx = db.pool.begin().await.expect("tx");
    let summary = mockloop::db::content::import(&mut tx, &bundle).await.expect("import");
    tx.commit().await.expect("commit");
    assert_eq!(summary, Default::default(), "unchanged files rewrite no rows");
}

#[tokio::test]
async fn a_broken_file_refuses_the_whole_import_and_names_the_file() {
    let db = TestDb::new().await;
    let dir = tempdir("broken");
    std::fs::create_dir_all(dir.join("questions")).expect("mkdir");
    let good = std::fs::read_to_string(first_shipped_question()).expect("read");
    let slug = "import-test-new-question";
    let new_question = retitle(&good, slug);
    std::fs::write(dir.join("questions").join(format!("{slug}.md")), &new_question).expect("write");
    let broken = new_question.replace(slug, "import-test-broken").replacen("kind = \"", "kind = \"cooking", 1);
    std::fs::write(dir.join("questions/import-test-broken.md"), broken).expect("write");

    let output = run_cli(&db, &["questions", "import", dir.to_str().expect("utf-8")], "");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("import-test-broken.md [import-test-broken]: unknown kind `cooking"), "{stderr}");
    let loaded: i64 = sqlx::query_scalar("select count(*) from questions where slug like 'import-test-%'")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(loaded, 0, "the valid file was not half-loaded either");
}

#[tokio::test]
async fn a_valid_import_adds_questions_by_slug() {
    let db = TestDb::new().await;
    let dir = tempdir("valid");
    let good = std::fs::read_to_string(first_shipped_question()).expect("read");
    let slug = "import-test-added";
    std::fs::write(dir.join(format!("{slug}.md")), retitle(&good, slug)).expect("write");
    let output = run_cli(&db, &["questions", "import", dir.to_str().expect("utf-8")], "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let title: String = sqlx::query_scalar("select title from questions where slug = $1")
        .bind(slug)
        .fetch_one(&db.pool)
        .await
        .expect("imported");
    assert_eq!(title, "Imported in a test");
}

#[test]
fn duplicate_slugs_across_files_are_refused_naming_both_files() {
    let dir = tempdir("duplicate");
    let good = std::fs::read_to_string(first_shipped_question()).expect("read");
    let slug = "dup-slug";
    std::fs::create_dir_all(dir.join("a")).expect("mkdir");
    std::fs::create_dir_all(dir.join("b")).expect("mkdir");
    std::fs::write(dir.join("a").join(format!("{slug}.md")), retitle(&good, slug)).expect("write");
    std::fs::write(dir.join("b").join(format!("{slug}.md")), retitle(&good, slug)).expect("write");
    let ContentErrors(errors) = content::load_dir(&dir).expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0].to_string();
    assert!(
        message.contains("duplicate slug") && message.contains("a/dup-slug.md") && message.contains("b/dup-slug.md"),
        "{message}"
    );
}

#[test]
fn a_rubric_criterion_without_a_pillar_is_refused() {
    let dir = tempdir("rubric");
    std::fs::create_dir_all(dir.join("rubrics")).expect("mkdir");
    let text = std::fs::read_to_string(repo_path("content/rubrics/coding.toml")).expect("read");
    let without_first_pillar = text.replacen("pillar = \"technical_depth\"\n", "", 1);
    std::fs::write(dir.join("rubrics/coding.toml"), without_first_pillar).expect("write");
    let ContentErrors(errors) = content::load_dir(&dir).expect_err("refused");
    assert!(errors[0].to_string().contains("rubrics/coding.toml [coding/"), "{}", errors[0]);
    assert!(errors[0].problem.contains("no pillar"), "{}", errors[0]);
}

#[test]
fn the_shipped_rubrics_and_templates_are_complete() {
    use mockloop::domain::selection::TagFilter;
    use mockloop::domain::{Level, RoundKind};

    let bundle = content::load_dir(&repo_path("content")).expect("loads");
    assert_eq!(bundle.rubrics.len(), 6, "one rubric per round kind");
    for rubric in &bundle.rubrics {
        for level in Level::ALL {
            let count = rubric.criteria.iter().filter(|c| c.applies_to(*level)).count();
            assert!((4..=6).contains(&count), "{:?} at {level}: {count} criteria", rubric.kind);
        }
    }
    let criterion = |kind: RoundKind, slug: &str| {
        let rubric = bundle.rubrics.iter().find(|r| r.kind == kind).expect("rubric");
        rubric.criteria.iter().find(|c| c.slug == slug).cloned()
    };
    assert!(criterion(RoundKind::MlFundamentals, "theory-breadth").is_none(), "no criterion one question cannot show");
    let leadership = criterion(RoundKind::Behavioral, "leadership-mentoring").expect("leadership criterion");
    assert_eq!(leadership.levels, [Level::SeniorStaff], "asked of senior/staff candidates only");

    let template = |slug: &str| bundle.templates.iter().find(|t| t.slug == slug).expect(slug);
    for slug in [
        "siri-nlp-onsite",
        "camera-cv-onsite",
        "health-timeseries-onsite",
        "genai-llm-onsite",
        "infra-data-onsite",
        "services-recsys-onsite",
        "coreml-on-device-onsite",
        "phone-screen",
        "coding-double",
    ] {
        template(slug);
    }
    let kinds = |slug: &str| template(slug).rounds.iter().map(|r| r.kind).collect::<Vec<_>>();
    let onsite = template("mle-onsite");
    assert_eq!(onsite.rounds.len(), 6);
    assert!(onsite.rounds.iter().all(|r| (45..=60).contains(&r.minutes)));
    assert_eq!(kinds("mle-onsite-5").len(), 5);
    assert!(kinds("mle-onsite-5").contains(&RoundKind::HiringManager), "the 5-round variant keeps the hiring manager");
    assert_eq!(kinds("mle-onsite-hiring-manager-first")[0], RoundKind::HiringManager);
    let screen = template("hiring-manager-screen");
    assert!(
        screen.rounds.len() == 1 && screen.rounds[0].kind == RoundKind::HiringManager && screen.rounds[0].minutes <= 30
    );
    let coding_rounds: Vec<&TagFilter> = template("mle-onsite-two-coding")
        .rounds
        .iter()
        .filter(|r| r.kind == RoundKind::Coding)
        .map(|r| &r.filter)
        .collect();
    assert_eq!(
        coding_rounds,
        [&TagFilter::Without("ml-coding".into()), &TagFilter::With("ml-coding".into())],
        "one algorithmic and one ML coding round"
    );
    // Rounds sized to their time: 45 minutes of fundamentals, behavioral or hiring manager asks 2 or 3 questions.
    for template in &bundle.templates {
        for round in &template.rounds {
            let talk =
                matches!(round.kind, RoundKind::MlFundamentals | RoundKind::Behavioral | RoundKind::HiringManager);
            if talk && round.minutes == 45 && template.rounds.len() > 1 {
                assert!(
                    (2..=3).contains(&round.questions),
                    "{} / {}: {} questions",
                    template.slug,
                    round.title,
                    round.questions
                );
            }
        }
    }
}

fn first_shipped_question() -> std::path::PathBuf {
    let dir = repo_path("content/questions/coding");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().map(|e| e.path()).collect();
    files.sort();
    files.remove(0)
}

/// A copy of a question file under a new slug and title.
fn retitle(text: &str, slug: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("slug = ") {
            out.push_str(&format!("slug = \"{slug}\"\n"));
        } else if line.starts_with("title = ") {
            out.push_str("title = \"Imported in a test\"\n");
        } else if line.starts_with("guide_quotes = ") {
            continue;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn tempdir(label: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("content-{label}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

#[test]
fn the_content_built_into_the_binary_is_the_content_directory() {
    let built_in = content::shipped().expect("the built-in content parses");
    let on_disk = content::load_dir(&repo_path("content")).expect("the directory parses");
    let fingerprint = |bundle: &content::ContentBundle| -> Vec<(String, String)> {
        bundle.questions.iter().map(|q| (q.slug.clone(), q.content_hash.clone())).collect()
    };
    assert_eq!(fingerprint(&built_in), fingerprint(&on_disk));
    assert_eq!(built_in.rubrics.len(), on_disk.rubrics.len());
    assert_eq!(built_in.templates.len(), on_disk.templates.len());
    assert!(built_in.questions.len() >= 120 && built_in.rubrics.len() == 6 && !built_in.templates.is_empty());
}

#[test]
fn an_operator_directory_adds_questions_and_replaces_built_in_ones_by_slug() {
    let dir = tempdir("overlay");
    let replaced = first_shipped_question();
    let replaced_slug = replaced.file_stem().and_then(|s| s.to_str()).expect("slug").to_owned();
    let text = std::fs::read_to_string(&replaced).expect("read");
    std::fs::write(dir.join(format!("{replaced_slug}.md")), retitle(&text, &replaced_slug)).expect("write");
    std::fs::write(dir.join("operator-added-question.md"), retitle(&text, "operator-added-question")).expect("write");

    let shipped = content::shipped().expect("built-in");
    let shipped_count = shipped.questions.len();
    let merged = shipped.overlaid_with(content::load_dir(&dir).expect("operator content"));

    assert_eq!(merged.questions.len(), shipped_count + 1);
    let title_of = |slug: &str| merged.questions.iter().find(|q| q.slug == slug).map(|q| q.question.title.clone());
    assert_eq!(title_of(&replaced_slug).as_deref(), Some("Imported in a test"));
    assert_eq!(title_of("operator-added-question").as_deref(), Some("Imported in a test"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An installed binary runs from anywhere: from a directory without `content/`,
/// on a fresh data directory, the bank is full.
#[tokio::test]
async fn the_binary_run_from_another_directory_on_a_fresh_data_dir_exports_the_whole_bank() {
    let work_dir = tempdir("elsewhere");
    let data_dir = work_dir.join("data");
    let output = Command::new(env!("CARGO_BIN_EXE_mockloop"))
        .args(["questions", "export", "--format", "json", "--data-dir"])
        .arg(&data_dir)
        .current_dir(&work_dir)
        .env_remove("DATABASE_URL")
        .env_remove("MOCKLOOP_CONTENT_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("mockloop runs");
    let cluster = mockloop::localpg::effective_data_dir(&data_dir.join("postgres")).expect("cluster directory");
    // Run as root, the cluster lives in /var/lib/mockloop/<hash>/postgres: remove the <hash> directory too.
    let owned_dir = if cluster.starts_with("/var/lib/mockloop") { cluster.parent() } else { Some(cluster.as_path()) };
    let _ = std::fs::remove_dir_all(owned_dir.unwrap_or(&cluster));
    let _ = std::fs::remove_dir_all(&work_dir);

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let questions: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("JSON array on stdout");
    assert_eq!(questions.len(), content::shipped().expect("built-in").questions.len());
    assert!(questions.len() >= 220, "{} questions", questions.len());
    for question in &questions {
        let slug = question["slug"].as_str().expect("slug");
        assert!(question["topic"].as_str().is_some_and(|topic| !topic.is_empty()), "{slug}: topic");
        assert!(question["calibration"]["one_vs_two"].is_string(), "{slug}: calibration");
        if question["kind"] == "coding" {
            let starter = &question["starter_code"];
            assert!(starter["code"].is_string(), "{slug}: starter_code {starter}");
            // A C++ starter is edit-only: it has no tests to run.
            if question["tests"].is_null() {
                assert_eq!(starter["language"], "cpp", "{slug}: a Python question without tests");
            } else {
                assert!(question["reference_solution"].is_string(), "{slug}: reference_solution");
            }
        }
    }
}

/// Shipped templates and tags are held in memory by each instance; an import
/// made anywhere (here, as another process would, outside the app) reaches it.
#[tokio::test]
async fn an_import_reaches_the_templates_and_tags_a_running_instance_holds() {
    let app = crate::support::TestApp::new().await;
    let cookie = app.sign_up("importwatcher").await;
    let mut bundle = content::shipped().expect("the built-in content");
    let template = bundle.templates.first().expect("a shipped template").clone();
    assert!(app.get("/templates", None).await.body.contains(&template.name), "listed before the import");
    assert!(!app.get("/questions", Some(&cookie)).await.body.contains("interview-watch-tag"), "no such tag yet");

    bundle.templates.retain(|t| t.slug == template.slug);
    bundle.templates[0].name = "Renamed by an import".into();
    bundle.templates[0].content_hash = "renamed".into();
    bundle.rubrics.clear();
    bundle.questions.truncate(1);
    bundle.questions[0].question.tags.push("interview-watch-tag".into());
    bundle.questions[0].content_hash = "retagged".into();
    let mut tx = app.db.begin().await.expect("transaction");
    mockloop::db::content::import(&mut tx, &bundle).await.expect("import");
    tx.commit().await.expect("commit");

    // The news travels by NOTIFY: give it a moment, and no more than that.
    let mut seen = (false, false);
    for _ in 0..50 {
        seen = (
            app.get("/templates", None).await.body.contains("Renamed by an import"),
            app.get("/questions", Some(&cookie)).await.body.contains("interview-watch-tag"),
        );
        if seen == (true, true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, (true, true), "the renamed template and the new tag are listed within 5 s");
}
