//! Hostile input: a corpus of XSS, injection and malformed-text payloads goes
//! into every text field a user can write, as the role that writes it. Each
//! answer must be a success or a clear 4xx (never a 5xx), HTML must never
//! carry a payload unescaped, accepted text must be stored as typed, and
//! every page that shows the stored payloads is then rendered in a real
//! Chromium with a sentinel (`window.__pwned`, alerts, script-capable
//! attributes in the live DOM, and Content-Security-Policy violations in the
//! console). `MOCKLOOP_PROOF=full` runs the larger corpus.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fantoccini::cookies::Cookie;
use fantoccini::error::CmdError;
use uuid::Uuid;

use crate::support::app::behind_proxy;
use crate::support::browser::{Browser, serve_app_on};
use crate::support::html::{escape_html, urlencode};
use crate::support::proof::full;
use crate::support::rounds::{
    end_round, note_version, save_code, save_note, save_scene, scene_version, scene_with_text, start_round,
    svg_with_text, timer,
};
use crate::support::scorecards::{criteria_of_round, pairs, post_assessment};
use crate::support::workspace::make_runnable;
use crate::support::{LoopBuilder, Page, ScheduledLoop, TestApp, TestDb, TestResponse, id_of};

/// Payloads for every run: each tries to run `window.__pwned=1` (or alert)
/// from a different context, or breaks text in a way that once broke apps.
const PAYLOADS: &[&str] = &[
    "<script>window.__pwned=1</script>",
    "\"><script>window.__pwned=1</script>",
    "'><img src=x onerror=window.__pwned=1>",
    "<img src=x onerror=\"window.__pwned=1\">",
    "<svg onload=window.__pwned=1>",
    "<svg><script>window.__pwned=1</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=1>",
    "<a href=\"javascript:window.__pwned=1\">click</a>",
    "[click](javascript:window.__pwned=1)",
    "</textarea><script>window.__pwned=1</script>",
    "</title><script>alert(1)</script>",
    "<iframe srcdoc=\"<script>parent.__pwned=1</script>\">",
    "{{ 7*7 }} {% if true %}templated{% endif %} ${7*7}",
    "'; drop table users; --",
    "' or '1'='1",
    "line one\r\nSet-Cookie: pwned=1\r\n\r\n<script>window.__pwned=1</script>",
    "ze\u{200b}ro\u{200d}width \u{202e}txt.exe\u{202c} \u{2066}isolate\u{2069}",
    "nul\0byte",
    "emoji 👩🏽‍💻 combining e\u{301}\u{301}\u{301}",
];

/// More for `MOCKLOOP_PROOF=full`.
const MORE_PAYLOADS: &[&str] = &[
    "<details open ontoggle=window.__pwned=1>",
    "<body onload=window.__pwned=1>",
    "<input autofocus onfocus=window.__pwned=1>",
    "<object data=\"javascript:window.__pwned=1\">",
    "<embed src=\"javascript:window.__pwned=1\">",
    "<form><button formaction=javascript:window.__pwned=1>x</button></form>",
    "<a href=\"&#106;avascript:window.__pwned=1\">entity</a>",
    "<a href=\"jav&#x09;ascript:window.__pwned=1\">tab</a>",
    "[x](JaVaScRiPt:window.__pwned=1)",
    "![x](javascript:window.__pwned=1)",
    "[x]: javascript:window.__pwned=1\n\n[x]",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__pwned=1>\">",
    "<template><script>window.__pwned=1</script></template>",
    "<base href=\"javascript:/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:window.__pwned=1\">",
    "<style>@import 'javascript:window.__pwned=1';</style>",
    "<div style=\"background:url(javascript:window.__pwned=1)\">styled</div>",
    "`<script>window.__pwned=1</script>` and ```\n<script>window.__pwned=1</script>\n```",
    "<!--<script>window.__pwned=1</script>-->",
    "<![CDATA[<script>window.__pwned=1</script>]]>",
    "%3Cscript%3Ewindow.__pwned=1%3C/script%3E",
    "\\u003cscript\\u003ewindow.__pwned=1\\u003c/script\\u003e",
    "\"onmouseover=\"window.__pwned=1",
    "javascript:window.__pwned=1",
    "\u{feff}bom and \u{fffd} replacement",
    "a\u{0}\u{1}\u{7}\u{1b}[31mcontrol",
];

/// How the reports name the invalid UTF-8 inputs (whose text cannot be shown back).
const GARBLED: &str = "(invalid UTF-8)";

/// Bodies that are not UTF-8, sent as raw bytes.
const INVALID_UTF8: &[&[u8]] = &[b"%FF%FE%FD", b"\xff\xfe=\xc3\x28", b"%C0%AF%E0%80%AF"];

/// A form to send invalid UTF-8 in: its name, path, sender, the valid
/// fields and the field that gets the bytes.
type GarbledForm<'a> = (&'a str, String, Option<&'a String>, Vec<(&'a str, &'a str)>, &'a str);

fn corpus() -> Vec<String> {
    let mut payloads: Vec<String> = PAYLOADS.iter().map(|p| (*p).to_owned()).collect();
    if full() {
        payloads.extend(MORE_PAYLOADS.iter().map(|p| (*p).to_owned()));
    }
    // Oversized: past every field's limit, well inside the server's body limit.
    payloads.push(format!("{}<script>window.__pwned=1</script>", "long ".repeat(if full() { 60_000 } else { 25_000 })));
    payloads
}

/// A payload that would run script if it reached a page as markup.
fn is_script(payload: &str) -> bool {
    payload.contains("__pwned") || payload.contains("alert(")
}

/// Who writes and who reads, and what came of each input.
struct Run {
    app: TestApp,
    candidate: String,
    interviewer: String,
    loop_path: String,
    loop2: String,
    rounds: Vec<String>,
    inputs: usize,
    failures: Vec<String>,
    /// Pages that show stored payloads: (who, path).
    pages: Vec<(String, String)>,
}

impl Run {
    /// Holds one answer to one hostile input against the rules.
    fn judge(&mut self, field: &str, payload: &str, response: &TestResponse, accepted: &[StatusCode]) {
        self.inputs += 1;
        let shown: String = payload.chars().take(60).collect();
        let status = response.status;
        if status.is_server_error() {
            self.failures.push(format!("{field} <- {shown:?}: {status}"));
            return;
        }
        if !(accepted.contains(&status) || status.is_client_error()) {
            self.failures.push(format!("{field} <- {shown:?}: unexpected {status}"));
        }
        if status.is_client_error() && !has_message(response) {
            self.failures.push(format!("{field} <- {shown:?}: {status} without a message: {}", response.body));
        }
        let markup = payload.contains(['<', '>', '"', '\'']);
        if response.header("content-type").starts_with("text/html")
            && is_script(payload)
            && markup
            && response.body.contains(payload)
        {
            self.failures.push(format!("{field} <- {shown:?}: the page carries the payload unescaped"));
        }
        // A form sent back for correction keeps what was typed, however long (NUL aside, which is refused;
        // passwords are never shown back).
        let typed = escape_html(payload.trim());
        if status == StatusCode::UNPROCESSABLE_ENTITY
            && response.header("content-type").starts_with("text/html")
            && !payload.contains('\0')
            && payload != GARBLED
            && !field.contains("password")
            && !response.body.contains(&typed)
        {
            self.failures.push(format!("{field} <- {shown:?}: the form came back without the text typed"));
        }
        if response.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap_or("").starts_with("pwned")) {
            self.failures.push(format!("{field} <- {shown:?}: a header was injected"));
        }
    }

    fn show(&mut self, who: &str, path: &str) {
        let pair = (who.to_owned(), path.to_owned());
        if !self.pages.contains(&pair) {
            self.pages.push(pair);
        }
    }
}

/// Whether a stored SVG holds an element or attribute that could run script
/// or load a page (text that merely reads like one is harmless).
fn script_capable(svg: &str) -> bool {
    Page::parse(svg).select("*").any(|element| {
        let name = element.value().name().to_ascii_lowercase();
        ["script", "iframe", "foreignobject", "object", "embed"].contains(&name.as_str())
            || element.value().attrs().any(|(attribute, value)| {
                attribute.to_ascii_lowercase().starts_with("on")
                    || value.trim().to_ascii_lowercase().starts_with("javascript:")
            })
    })
}

/// A 4xx page says what went wrong: a field error, an error page's message, or a JSON error.
fn has_message(response: &TestResponse) -> bool {
    let body = &response.body;
    body.contains("class=\"field-error\"")
        || body.contains("class=\"error")
        || body.contains("<h1")
        || body.contains("\"error\"")
        || body.contains("\"conflict\"")
}

async fn sign_up_with_display_name(app: &TestApp, display_name: &str) -> Option<String> {
    let username = format!("h{}", &Uuid::new_v4().simple().to_string()[..12]);
    let form = [
        ("username", username.as_str()),
        ("display_name", display_name),
        ("password", "correct horse"),
        ("password_confirm", "correct horse"),
    ];
    // Each from its own address, so the per-address sign-up limit leaves every payload a page.
    let address = format!("198.18.{}.{}", rand_byte(), rand_byte());
    let headers = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", address.as_str())];
    app.post_form_with("/signup", &form, None, &headers).await.session_cookie()
}

fn rand_byte() -> u8 {
    Uuid::new_v4().as_bytes()[0]
}

/// Sends the corpus into every field; returns the run with the pages to render.
async fn submit_corpus(db: &TestDb) -> Run {
    let app = TestApp::on(db.pool.clone(), behind_proxy());
    let payloads = corpus();
    // The peers' display names are payloads too: each is shown to the other.
    let candidate = sign_up_with_display_name(&app, PAYLOADS[3]).await.expect("candidate signs up");
    let interviewer = sign_up_with_display_name(&app, PAYLOADS[1]).await.expect("interviewer signs up");
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::peer_pair().for_user(&candidate).interviewed_by(&[&interviewer]).schedule(&app).await;
    let ScheduledLoop { path: loop2, .. } = LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;
    let mut run = Run {
        app,
        candidate,
        interviewer,
        loop_path,
        loop2,
        rounds,
        inputs: 0,
        failures: Vec::new(),
        pages: Vec::new(),
    };
    let (candidate, interviewer) = (run.candidate.clone(), run.interviewer.clone());
    let r1 = run.rounds[0].clone();
    // Round 1 is set to a runnable question, so that test runs are taken.
    let cases = make_runnable(&run.app, &r1).await.case_names.len();
    start_round(&run.app, &interviewer, &r1).await;

    let ok = [StatusCode::OK];
    let redirect = [StatusCode::SEE_OTHER];
    let (mut scratch_version, mut private_version, mut code_version) = (0, 0, 0);
    for payload in &payloads {
        let p = payload.as_str();
        // Accounts.
        let form = [("username", p), ("password", "correct horse"), ("password_confirm", "correct horse")];
        let response = run.app.post_form("/signup", &form, None).await;
        run.judge("sign-up username", p, &response, &redirect);
        let response = match sign_up_with_display_name(&run.app, p).await {
            Some(cookie) => {
                run.show(&cookie, "/");
                run.app.get("/", Some(&cookie)).await
            }
            None => run.app.post_form("/signup", &[("username", "displaytest"), ("display_name", p)], None).await,
        };
        run.judge("sign-up display name", p, &response, &ok);
        let response = run.app.post_form("/signin", &[("username", p), ("password", p)], None).await;
        run.judge("sign-in", p, &response, &[]);
        // Query strings: an address is at most a few kilobytes, so the oversized payload goes only into bodies.
        let in_url = p.len() <= 4096;
        if in_url {
            let response = run.app.get(&format!("/signin?next={}", urlencode(p)), Some(&candidate)).await;
            run.judge("sign-in next", p, &response, &redirect);
            let location = response.header("location");
            if !location.starts_with('/') || location.starts_with("//") || location.starts_with("/\\") {
                run.failures.push(format!("sign-in next <- {p:?}: redirects off-site to {location}"));
            }
            let response = run.app.get(&format!("/questions?q={}", urlencode(p)), Some(&candidate)).await;
            run.judge("question search", p, &response, &ok);
            // Addresses with the payload as an id, slug or token: a 4xx page, whatever the segment.
            let segment = urlencode(p).replace('+', "%20");
            for path in [
                format!("/questions/{segment}"),
                format!("/questions/{segment}/edit"),
                format!("/templates/{segment}/edit"),
                format!("/rubrics/{segment}"),
                format!("/loops/{segment}"),
                format!("/loops/{segment}/feedback.json"),
                format!("/rounds/{segment}"),
                format!("/rounds/{segment}/events"),
                format!("/invite/{segment}"),
                format!("/calendar/feed/{segment}.ics"),
            ] {
                let response = run.app.get(&path, Some(&candidate)).await;
                run.judge("address segment", p, &response, &[]);
            }
        }
        let form = [("username", "pwcheck"), ("password", p), ("password_confirm", "something else")];
        let response = run.app.post_form("/signup", &form, None).await;
        run.judge("sign-up password", p, &response, &[]);
        if p.len() > 3 && response.body.contains(&escape_html(p)) {
            run.failures.push(format!("sign-up password <- {p:?}: the password was shown back"));
        }

        // A private question with the payload in every text field.
        let question = [
            ("title", p),
            ("kind", "ml_fundamentals"),
            ("difficulty", "2"),
            ("minutes", "20"),
            ("levels", "senior_staff"),
            ("tags", "hostile"),
            ("prompt", p),
            ("follow_ups", &format!("{p}\nAnd then?")),
            ("hints", p),
            ("what_good_looks_like", p),
        ];
        let response = run.app.post_form("/questions", &question, Some(&candidate)).await;
        run.judge("own question (every field)", p, &response, &redirect);
        if response.status == StatusCode::SEE_OTHER {
            let page = response.header("location").to_owned();
            let stored: String = sqlx::query_scalar("select prompt_md from questions where slug = $1")
                .bind(page.trim_start_matches("/questions/"))
                .fetch_one(&run.app.db)
                .await
                .expect("the stored question");
            if stored != p.trim() {
                run.failures.push(format!("own question <- {p:?}: stored as {stored:?}"));
            }
            run.show(&candidate, &page);
            run.show(&candidate, &format!("{page}/edit"));
        }
        let mut tags_only = question;
        tags_only[0] = ("title", "A fine title");
        tags_only[5] = ("tags", p);
        let response = run.app.post_form("/questions", &tags_only, Some(&candidate)).await;
        run.judge("own question tags", p, &response, &redirect);

        // Loop templates.
        let template = [
            ("name", p),
            ("description", p),
            ("team", ""),
            ("kind_0", "coding"),
            ("title_0", p),
            ("minutes_0", "45"),
            ("questions_0", "1"),
            ("op", "save"),
        ];
        let response = run.app.post_form("/templates/new", &template, Some(&candidate)).await;
        run.judge("template name, description, round title", p, &response, &redirect);

        // Scheduling: the free-text fields of the loop and reschedule forms.
        let key = Uuid::new_v4().to_string();
        let schedule = [
            ("template", "phone-screen"),
            ("team", "infra-data"),
            ("level", "junior_mid"),
            ("mode", "self_timed"),
            ("starts_at", p),
            ("time_zone", p),
            ("break_minutes", p),
            ("request_key", key.as_str()),
        ];
        let response = run.app.post_form("/loops", &schedule, Some(&candidate)).await;
        run.judge("new loop start, time zone, break", p, &response, &[]);
        let reschedule = [("starts_at", p), ("time_zone", p), ("break_minutes", p)];
        let response = run.app.post_form(&format!("{}/reschedule", run.loop2), &reschedule, Some(&candidate)).await;
        run.judge("reschedule", p, &response, &[]);
        let response = run
            .app
            .post_form(&format!("{}/invitations", run.loop2), &[("round", p), ("expires_days", p)], Some(&candidate))
            .await;
        run.judge("invitation", p, &response, &[]);

        // The round: timer reasons, the scratchpad, private notes.
        for action in ["pause", "resume", "extend"] {
            let response = run
                .app
                .post_json(&format!("{r1}/timer"), &[("action", action), ("reason", p)], Some(&interviewer))
                .await;
            run.judge(&format!("timer {action} reason"), p, &response, &ok);
        }
        for (who, kind, version) in
            [(&candidate, "scratchpad", &mut scratch_version), (&interviewer, "private", &mut private_version)]
        {
            let response = save_note(&run.app, who, &r1, p, *version).await;
            run.judge(&format!("{kind} notes"), p, &response, &ok);
            if response.status == StatusCode::OK {
                *version = saved_version(&response.body);
                let stored: String = sqlx::query_scalar(
                    "select body_md from notes where round_id = $1 and kind = $2 order by version desc limit 1",
                )
                .bind(id_of(&r1))
                .bind(kind)
                .fetch_one(&run.app.db)
                .await
                .expect("the stored note");
                if stored != p {
                    run.failures.push(format!("{kind} notes <- {p:?}: stored differently"));
                }
            }
        }

        // The candidate's code, and a test run whose every text is the payload.
        let response = save_code(&run.app, &candidate, &r1, p, "python", code_version).await;
        run.judge("code", p, &response, &ok);
        if response.status == StatusCode::OK {
            code_version = saved_version(&response.body);
            let stored: String = sqlx::query_scalar("select body from round_code where round_id = $1")
                .bind(id_of(&r1))
                .fetch_one(&run.app.db)
                .await
                .expect("the stored code");
            if stored != p {
                run.failures.push(format!("code <- {p:?}: stored differently"));
            }
        }
        let response = run.app.post_json_body(&format!("{r1}/runs"), &run_of_texts(p, cases), Some(&candidate)).await;
        run.judge("test run", p, &response, &ok);

        // The whiteboard: the payload written in the drawing, as the scene itself, as the
        // image's text, and as markup inside the image (which is sanitised or refused).
        let drawing_as_text = scene_with_text(p);
        let raw_markup = svg_with_text("plan").replace("</svg>", &format!("{p}</svg>"));
        for (field, scene, svg) in [
            ("whiteboard text", drawing_as_text.as_str(), svg_with_text(p)),
            ("whiteboard scene", p, svg_with_text("plan")),
            ("whiteboard image markup", drawing_as_text.as_str(), raw_markup),
        ] {
            let version = scene_version(&run.app.db, id_of(&r1)).await;
            let response = save_scene(&run.app, &candidate, &r1, scene, &svg, version).await;
            run.judge(field, p, &response, &ok);
            if response.status != StatusCode::OK {
                continue;
            }
            let (stored_scene, stored_svg): (String, Option<String>) =
                sqlx::query_as("select scene, svg from round_scene where round_id = $1")
                    .bind(id_of(&r1))
                    .fetch_one(&run.app.db)
                    .await
                    .expect("the stored drawing");
            if stored_scene != scene {
                run.failures.push(format!("{field} <- {p:?}: the scene was stored differently"));
            }
            let svg = stored_svg.unwrap_or_default();
            if script_capable(&svg) {
                run.failures.push(format!("{field} <- {p:?}: script-capable markup stored: {svg}"));
            }
        }

        // Scorecards: the interviewer's draft and the candidate's self-assessment.
        let criteria = criteria_of_round(&run.app, &r1).await;
        let mut draft: Vec<(String, String)> = ["summary", "strengths", "areas_to_improve"]
            .iter()
            .map(|field| ((*field).to_owned(), p.to_owned()))
            .collect();
        draft.push((format!("score_{}", criteria[0].id), "3".to_owned()));
        draft.push((format!("evidence_{}", criteria[0].id), p.to_owned()));
        draft.push(("integrity".to_owned(), "disclosed_confidential".to_owned()));
        draft.push(("integrity_note".to_owned(), p.to_owned()));
        draft.push(("intent".to_owned(), "save".to_owned()));
        for who in [&interviewer, &candidate] {
            let response = post_assessment(&run.app, who, &r1, &draft).await;
            run.judge("scorecard draft", p, &response, &redirect);
        }
        // The payload as an integrity concern: not one of ours, so refused (422) with it named.
        let mut concern = draft.clone();
        concern.retain(|(name, _)| name != "integrity");
        concern.push(("integrity".to_owned(), p.to_owned()));
        let response = post_assessment(&run.app, &interviewer, &r1, &concern).await;
        run.judge("scorecard integrity concern", p, &response, &redirect);

        if in_url {
            let query = urlencode(p);
            let filters = format!("/history?mode={query}&template={query}&team={query}&from={query}");
            let response = run.app.get(&filters, Some(&candidate)).await;
            run.judge("history filters", p, &response, &ok);
        }
    }

    // Bytes that are not UTF-8 in an otherwise complete form: decoded with
    // replacement characters (as browsers never send them) or refused, never a 5xx.
    for bytes in INVALID_UTF8 {
        let scratch_version = note_version(&run.app.db, id_of(&r1), "scratchpad").await.to_string();
        let scene_version = scene_version(&run.app.db, id_of(&r1)).await.to_string();
        let forms: [GarbledForm; 7] = [
            ("sign-up", "/signup".to_owned(), None, vec![("password", "correct horse")], "username"),
            ("own question", "/questions".to_owned(), Some(&candidate), vec![("kind", "coding")], "title"),
            ("template", "/templates/new".to_owned(), Some(&candidate), vec![("op", "save")], "name"),
            ("notes", format!("{r1}/notes"), Some(&candidate), vec![("base_version", &scratch_version)], "body"),
            ("scorecard", format!("{r1}/assessment"), Some(&interviewer), vec![("intent", "save")], "summary"),
            ("timer", format!("{r1}/timer"), Some(&interviewer), vec![("action", "pause")], "reason"),
            ("whiteboard", format!("{r1}/scene"), Some(&candidate), vec![("base_version", &scene_version)], "scene"),
        ];
        for (field, path, who, rest, hostile_field) in forms {
            let mut body = serde_urlencoded::to_string(&rest).expect("form").into_bytes();
            body.extend_from_slice(format!("&{hostile_field}=").as_bytes());
            body.extend_from_slice(bytes);
            let response = run.app.post_bytes(&path, body, who.map(String::as_str)).await;
            run.judge(
                &format!("{field} (invalid UTF-8)"),
                GARBLED,
                &response,
                &[StatusCode::OK, StatusCode::SEE_OTHER],
            );
        }
        // A form that is not one of ours at all.
        let response = run.app.post_bytes(&format!("{r1}/timer"), bytes.to_vec(), Some(&interviewer)).await;
        run.judge("timer (garbled form)", GARBLED, &response, &[]);
    }
    let (status, _) = timer(&run.app, &interviewer, &r1, "resume").await;
    assert!(status == StatusCode::OK || status == StatusCode::CONFLICT, "{status}");

    // Code and a test run made of payloads, for the round page and its feedback to show.
    let response = save_code(&run.app, &candidate, &r1, &PAYLOADS[..12].join("\n"), "python", code_version).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let response =
        run.app.post_json_body(&format!("{r1}/runs"), &run_of_texts(PAYLOADS[3], cases), Some(&candidate)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);

    // The last accepted payloads stay in the round: submit both cards with the first script payload.
    end_round(&run.app, &interviewer, &r1).await;
    let criteria = criteria_of_round(&run.app, &r1).await;
    let mut card: Vec<(String, String)> = criteria
        .iter()
        .flat_map(|c| {
            [(format!("score_{}", c.id), "3".to_owned()), (format!("evidence_{}", c.id), PAYLOADS[2].to_owned())]
        })
        .collect();
    card.extend(
        [
            ("recommendation", "hire"),
            ("summary", PAYLOADS[0]),
            ("strengths", PAYLOADS[4]),
            ("areas_to_improve", PAYLOADS[8]),
            ("integrity", "misrepresented_work"),
            ("integrity_note", PAYLOADS[6]),
            ("intent", "submit"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    for who in [&interviewer, &candidate] {
        let response = run.app.post_form(&format!("{r1}/assessment"), &pairs(&card), Some(who)).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "the card is submitted: {}", response.body);
    }
    // A note and a scratchpad that the pages render as Markdown.
    for (who, kind) in [(&candidate, "scratchpad"), (&interviewer, "private")] {
        let version = note_version(&run.app.db, id_of(&r1), kind).await;
        let response = save_note(&run.app, who, &r1, &PAYLOADS[..12].join("\n\n"), version).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
    // A drawing whose words are payloads, from an image that carried one as markup (sanitised).
    let words = PAYLOADS[..12].join("\n");
    let image = svg_with_text(&words).replace("</svg>", &format!("{}</svg>", PAYLOADS[5]));
    let version = scene_version(&run.app.db, id_of(&r1)).await;
    let response = save_scene(&run.app, &candidate, &r1, &scene_with_text(&words), &image, version).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);

    let (lp, l2) = (run.loop_path.clone(), run.loop2.clone());
    for who in [candidate.clone(), interviewer.clone()] {
        for path in [
            "/".to_owned(),
            "/history".to_owned(),
            format!("/questions?q={}", urlencode(PAYLOADS[0])),
            lp.clone(),
            format!("{lp}/feedback"),
            r1.clone(),
            format!("{r1}/assessment"),
            format!("{r1}/feedback"),
        ] {
            run.show(&who, &path);
        }
    }
    for path in ["/questions", "/templates", "/loops/new", "/calendar", &l2] {
        run.show(&candidate, path);
    }
    let templates: Vec<String> = sqlx::query_scalar("select slug from loop_templates where owner_id is not null")
        .fetch_all(&run.app.db)
        .await
        .expect("templates");
    for slug in templates.iter().take(if full() { usize::MAX } else { 4 }) {
        run.show(&candidate, &format!("/templates/{slug}/edit"));
    }
    run
}

/// A completed test run of `cases` failing cases, with `text` in every text field.
fn run_of_texts(text: &str, cases: usize) -> serde_json::Value {
    let case = serde_json::json!({"name": text, "call": text, "passed": false, "expected": text, "got": text,
                                  "stdout": text, "error": text});
    serde_json::json!({"question_position": 1, "outcome": "completed", "code_version": 1, "duration_ms": 5,
                       "message": text, "results": vec![case; cases]})
}

/// The version a successful save answers with.
fn saved_version(body: &str) -> i32 {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json["version"].as_i64())
        .and_then(|v| i32::try_from(v).ok())
        .expect("the saved version")
}

/// Checks the live page after load: the sentinel, alerts, and anything in the
/// DOM that could run script (which CSP might have stopped only this time).
const SENTINEL: &str = r#"
    const risky = [];
    for (const element of document.querySelectorAll('*')) {
        for (const attribute of element.attributes) {
            const name = attribute.name.toLowerCase();
            const value = attribute.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
            const urlish = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name);
            if (name.startsWith('on') || name === 'srcdoc'
                || (urlish && /^(javascript|vbscript|data:text\/html)/.test(value))) {
                risky.push(element.tagName + '[' + name + ']');
            }
        }
    }
    for (const script of document.scripts) {
        if (!script.src || !script.src.startsWith(location.origin + '/static/')) {
            risky.push('script ' + (script.src || 'inline'));
        }
    }
    return { pwned: window.__pwned === 1 || (window.parent && window.parent.__pwned === 1), title: document.title, risky };
"#;

/// One Chromium session that renders pages as one user after another and
/// records whatever ran, could run, or broke the content policy.
struct Chromium {
    browser: Browser,
    base: String,
    signed_in_as: Option<Option<String>>,
    rendered: usize,
    executions: Vec<String>,
    violations: Vec<String>,
}

impl Chromium {
    /// Switches the browser's session cookie (None: signed out).
    async fn sign_in_as(&mut self, cookie: Option<&str>) {
        let wanted = cookie.map(str::to_owned);
        if self.signed_in_as.as_ref() == Some(&wanted) {
            return;
        }
        self.browser.client.delete_all_cookies().await.expect("sign out");
        if let Some(cookie) = cookie {
            // SameSite=Lax: chromedriver refuses a cookie it would have to send cross-site without Secure.
            let session =
                Cookie::parse(format!("{cookie}; Path=/; Domain=127.0.0.1; SameSite=Lax")).expect("the session cookie");
            self.browser.client.add_cookie(session).await.expect("the session cookie is set");
        }
        self.signed_in_as = Some(wanted);
    }

    async fn visit(&mut self, path: &str) {
        self.browser.client.goto(&format!("{}{path}", self.base)).await.expect("page loads");
        self.check(path).await;
    }

    /// Opens the form at `path`, sets its fields by script (so that any text,
    /// NUL and emoji included, goes in as is), sends it and checks the answer.
    async fn send_form(&mut self, run: &mut Run, path: &str, fields: &[(&str, &str)]) {
        self.browser.client.goto(&format!("{}{path}", self.base)).await.expect("form page loads");
        let values: serde_json::Map<String, serde_json::Value> =
            fields.iter().map(|(name, value)| ((*name).to_owned(), (*value).into())).collect();
        let fill_and_send = r#"
            const [values] = arguments;
            let form = null;
            for (const [name, value] of Object.entries(values)) {
                const field = document.querySelector(`[name="${name}"]`);
                field.value = value;
                form = field.form;
            }
            // The builder's save button names the operation; submit() sends no button.
            const op = form.querySelector('button[name="op"][value="save"]');
            if (op) { const hidden = document.createElement('input'); hidden.type = 'hidden'; hidden.name = 'op'; hidden.value = 'save'; form.appendChild(hidden); }
            window.__sent = true;
            form.submit();
        "#;
        self.browser.client.execute(fill_and_send, vec![values.into()]).await.expect("the form is sent");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let settled = self
                .browser
                .client
                .execute("return window.__sent !== true && document.readyState === 'complete'", Vec::new())
                .await;
            if matches!(settled, Ok(serde_json::Value::Bool(true)) | Err(_)) {
                break;
            }
            assert!(Instant::now() < deadline, "the answer to {path} never loaded");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        run.inputs += fields.len();
        let label = format!("{path} (sent by the browser)");
        let title = self.browser.client.title().await.unwrap_or_default();
        if title.contains("Something went wrong") {
            run.failures.push(format!("{label}: 500"));
        }
        // Sent back for correction (422), the form shows what was typed; passwords excepted.
        for (name, value) in fields.iter().filter(|(name, _)| *name != "password") {
            let shown = self
                .browser
                .client
                .execute(
                    "const f = document.querySelector(`[name=\"${arguments[0]}\"]`); return f ? f.value : null;",
                    vec![(*name).into()],
                )
                .await
                .expect("read the field");
            // Browsers drop line breaks from one-line fields and turn CRLF into LF in text areas.
            let without_breaks = |text: &str| text.trim().replace(['\r', '\n'], "");
            if let Some(shown) = shown.as_str()
                && without_breaks(shown) != without_breaks(value)
            {
                run.failures.push(format!("{label}: {name} came back as {shown:?}, not as typed"));
            }
        }
        self.check(&label).await;
    }

    async fn check(&mut self, label: &str) {
        self.rendered += 1;
        match self.browser.client.execute(SENTINEL, Vec::new()).await {
            Ok(result) => {
                if result["pwned"].as_bool() == Some(true) {
                    self.executions.push(format!("{label}: window.__pwned was set"));
                }
                if let Some(risky) = result["risky"].as_array().filter(|r| !r.is_empty()) {
                    self.executions.push(format!("{label}: script-capable markup in the DOM: {risky:?}"));
                }
            }
            Err(CmdError::Standard(error)) if error.error == fantoccini::error::ErrorStatus::UnexpectedAlertOpen => {
                self.executions.push(format!("{label}: an alert opened"));
                let _ = self.browser.client.dismiss_alert().await;
            }
            Err(error) => panic!("the sentinel on {label}: {error}"),
        }
        for entry in self.browser.console_entries().await {
            if entry.contains("Content Security Policy") || entry.contains("Content-Security-Policy") {
                self.violations.push(format!("{label}: {entry}"));
            }
        }
    }
}

/// The checks below are only as good as their sensors: a page that runs
/// script must trip the sentinel, and one whose policy blocks script must
/// show up as a violation in the console.
async fn prove_the_sentinel_sees(browser: &Browser) {
    browser.client.goto("data:text/html,<script>window.__pwned=1</script><p>x").await.expect("data page");
    let result = browser.client.execute(SENTINEL, Vec::new()).await.expect("sentinel");
    assert_eq!(result["pwned"].as_bool(), Some(true), "the sentinel misses executed script: {result}");
    let blocked = "data:text/html,<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\">\
                   <script>window.__pwned=1</script><p>x";
    browser.client.goto(blocked).await.expect("data page");
    let console = browser.console_entries().await;
    assert!(
        console.iter().any(|entry| entry.contains("Content Security Policy")),
        "the console capture misses CSP violations: {console:?}"
    );
}

#[tokio::test]
async fn hostile_input_gets_a_4xx_or_is_kept_as_typed_and_never_runs_in_a_browser() {
    let started = Instant::now();
    for stored in [
        r#"<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>"#,
        r#"<svg><a href=" javascript:x"/></svg>"#,
    ] {
        assert!(script_capable(stored), "the stored-image check misses {stored}");
    }
    let db = TestDb::new().await;
    let mut run = submit_corpus(&db).await;
    let submitted_in = started.elapsed();

    let base = serve_app_on(&db).await;
    let browser = Browser::launch().await;
    prove_the_sentinel_sees(&browser).await;
    browser.client.goto(&format!("{base}/healthz")).await.expect("open the site");
    browser.console_entries().await;

    let mut chromium =
        Chromium { browser, base, signed_in_as: None, rendered: 0, executions: Vec::new(), violations: Vec::new() };
    for (cookie, path) in std::mem::take(&mut run.pages) {
        chromium.sign_in_as(Some(&cookie)).await;
        chromium.visit(&path).await;
    }
    // Forms filled and sent in the browser itself, so the pages that send them back for correction are rendered too.
    let candidate = run.candidate.clone();
    for payload in PAYLOADS.iter().filter(|p| is_script(p)) {
        chromium.sign_in_as(None).await;
        chromium
            .send_form(&mut run, "/signup", &[("username", payload), ("display_name", payload), ("password", "short")])
            .await;
        chromium.sign_in_as(Some(&candidate)).await;
        let question: Vec<(&str, &str)> =
            ["title", "tags", "prompt", "follow_ups", "hints", "what_good_looks_like"].map(|f| (f, *payload)).to_vec();
        chromium.send_form(&mut run, "/questions/new", &question).await;
        chromium
            .send_form(&mut run, "/templates/new", &[("name", payload), ("description", payload), ("title_0", payload)])
            .await;
    }
    let Chromium { browser, rendered, executions, violations, .. } = chromium;
    browser.close().await;

    let took = started.elapsed();
    println!(
        "FIGURE hostile: {} inputs tried, {} crashes, {} 5xx, {} script executions, {rendered} pages rendered \
         ({} CSP violations; {:.0?} to submit, {took:.0?} in all)",
        run.inputs,
        run.failures.iter().filter(|f| f.ends_with(": 500 Internal Server Error")).count(),
        run.failures.iter().filter(|f| f.contains(": 5") && !f.contains("unexpected")).count(),
        executions.len(),
        violations.len(),
        submitted_in
    );
    assert!(run.failures.is_empty(), "{} problems:\n{}", run.failures.len(), run.failures.join("\n"));
    assert!(executions.is_empty(), "script ran or could run:\n{}", executions.join("\n"));
    assert!(violations.is_empty(), "Content-Security-Policy violations:\n{}", violations.join("\n"));
    assert!(rendered >= 20, "only {rendered} pages rendered");
    assert!(took < Duration::from_secs(if full() { 900 } else { 180 }), "the hostile-input run took {took:?}");
}

// The defects the corpus found, each pinned by a test of its own.

#[tokio::test]
async fn a_nul_character_in_text_is_refused_with_a_400_that_says_why() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("nul-writer").await;
    let response = app.get("/questions?q=before%00after", Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.body);
    assert!(response.body.contains("NUL character"), "{}", response.body);
    let signed_in = app.post_form("/signin", &[("username", "nul\0writer"), ("password", "correct horse")], None).await;
    assert_eq!(signed_in.status, StatusCode::BAD_REQUEST, "{}", signed_in.body);
}

#[tokio::test]
async fn an_address_with_an_unparseable_id_is_the_404_page_and_does_not_quote_it() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("prober").await;
    for path in ["/loops/not-a-uuid", "/rounds/%3Cscript%3E/feedback", "/questions/%FF%FE"] {
        let response = app.get(path, Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}: {}", response.body);
        assert!(response.header("content-type").starts_with("text/html"), "{path}");
        assert!(response.body.contains("Page not found"), "{path}: {}", response.body);
        assert!(!response.body.contains("script&#62;") && !response.body.contains("not-a-uuid"), "{path}");
    }
}

#[tokio::test]
async fn a_garbled_form_gets_the_apps_400_page_and_changes_nothing() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("garbler").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let response = app.post_bytes(&format!("{}/notes", rounds[0]), b"body=x".to_vec(), Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "no base_version: {}", response.body);
    assert!(response.body.contains("incomplete or garbled"), "{}", response.body);
    assert!(!response.body.contains("deserialize"), "axum's own wording stays out: {}", response.body);
    assert_eq!(app.count("select count(*) from notes").await, 0);
    assert!(app.get(&loop_path, Some(&cookie)).await.status.is_success());
}

#[tokio::test]
async fn a_refused_reschedule_shows_the_time_zone_and_break_that_were_typed() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("rescheduler").await;
    let ScheduledLoop { path: loop_path, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let form = [("starts_at", "2027-03-04T05:06"), ("time_zone", "Asia/Tokyo"), ("break_minutes", "999")];
    let response = app.post_form(&format!("{loop_path}/reschedule"), &form, Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    let page = response.page();
    assert_eq!(page.field_value("#reschedule #starts_at"), "2027-03-04T05:06", "the typed start is kept");
    assert_eq!(page.field_value("#reschedule #break_minutes"), "999", "the typed break is kept");
    assert_eq!(page.field_value("#reschedule #time_zone"), "Asia/Tokyo", "the chosen zone is kept");
}
