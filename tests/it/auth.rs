//! Accounts: sign up, sign in, sign out, sessions and throttling.

use axum::http::StatusCode;
use mockloop::state::Settings;

use crate::support::TestApp;
use crate::support::app::behind_proxy;

#[tokio::test]
async fn signing_up_signs_you_in_and_shows_your_name() {
    let app = TestApp::new().await;
    let response = app
        .post_form(
            "/signup",
            &[
                ("username", "Ada"),
                ("display_name", "Ada L."),
                ("password", "correct horse"),
                ("password_confirm", "correct horse"),
            ],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let cookie = response.session_cookie().expect("cookie");
    let set_cookie = response.header("set-cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");

    let home = app.get("/", Some(&cookie)).await;
    assert_eq!(home.page().text_of("#signed-in-as"), "Ada L.");
    let stored: String = sqlx::query_scalar("select password_hash from users where username = 'ada'")
        .fetch_one(&app.db)
        .await
        .expect("user stored lowercased");
    assert!(stored.starts_with("$argon2id$"), "stored as argon2id: {stored}");
}

#[tokio::test]
async fn sign_up_errors_keep_what_was_typed_except_the_password() {
    let app = TestApp::new().await;
    let response = app
        .post_form(
            "/signup",
            &[("username", "grace"), ("display_name", "Grace H"), ("password", "tiny"), ("password_confirm", "tiny")],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Use at least 8 characters."), "{}", response.body);
    let page = response.page();
    assert_eq!((page.field_value("#username"), page.field_value("#display_name")), ("grace".into(), "Grace H".into()));
    assert!(!response.body.contains("tiny"), "the password is never echoed back");
    assert_eq!(app.count("select count(*) from users").await, 0);
}

#[tokio::test]
async fn a_taken_username_is_refused_whatever_its_case() {
    let app = TestApp::new().await;
    app.sign_up("linus").await;
    let response = app.post_sign_up("LINUS", "another pass", "another pass").await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("That username is taken"), "{}", response.body);
    assert_eq!(app.count("select count(*) from users").await, 1);
}

#[tokio::test]
async fn mismatched_passwords_are_refused() {
    let app = TestApp::new().await;
    let response = app.post_sign_up("ken", "correct horse", "correct horsf").await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("The two passwords differ."));
}

#[tokio::test]
async fn a_wrong_password_gets_a_form_error_and_keeps_the_username() {
    let app = TestApp::new().await;
    app.sign_up("barbara").await;
    let response = app.post_form("/signin", &[("username", "Barbara"), ("password", "wrong horse")], None).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Wrong username or password."), "{}", response.body);
    assert_eq!(response.page().field_value("#username"), "Barbara");
    assert!(!response.body.contains("wrong horse"));
    assert!(response.session_cookie().is_none());
}

#[tokio::test]
async fn signing_in_issues_a_new_session_id_and_retires_the_old_one() {
    let app = TestApp::new().await;
    let first = app.sign_up("edsger").await;
    let response =
        app.post_form("/signin", &[("username", "edsger"), ("password", "correct horse")], Some(&first)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let second = response.session_cookie().expect("new cookie");
    assert_ne!(first, second, "the session id changes at sign-in");
    assert!(app.get("/", Some(&second)).await.body.contains("signed-in-as"));
    assert!(!app.get("/", Some(&first)).await.body.contains("signed-in-as"), "the old id no longer works");
}

#[tokio::test]
async fn signing_in_returns_to_the_page_that_asked_but_never_off_site() {
    let app = TestApp::new().await;
    app.sign_up("tony").await;
    let back = app
        .post_form(
            "/signin",
            &[("username", "tony"), ("password", "correct horse"), ("next", "/questions?q=graph")],
            None,
        )
        .await;
    assert_eq!(back.header("location"), "/questions?q=graph");
    let evil = app
        .post_form("/signin", &[("username", "tony"), ("password", "correct horse"), ("next", "//evil.example/")], None)
        .await;
    assert_eq!(evil.header("location"), "/");
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("margaret").await;
    let response = app.post_form("/signout", &[], Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(response.header("set-cookie").contains("Max-Age=0"));
    assert!(!app.get("/", Some(&cookie)).await.body.contains("signed-in-as"), "the old cookie is dead");
    assert_eq!(app.count("select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_with_retry_after() {
    let app = TestApp::new().await;
    app.sign_up("alan").await;
    for _ in 0..5 {
        let response = app.post_form("/signin", &[("username", "alan"), ("password", "nope nope")], None).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Even the right password waits now, from this address (see
    // `under_attack::wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere`).
    let response = app.post_form("/signin", &[("username", "alan"), ("password", "correct horse")], None).await;
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.header("retry-after").parse().expect("Retry-After in seconds");
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(response.body.contains("Too many failed attempts"), "{}", response.body);
    assert!(response.session_cookie().is_none());
    println!(
        "FIGURE limits.throttle_account: 5 wrong passwords from one address, then 429 with Retry-After {wait} s for that account from there, even for the right one"
    );
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_every_account_from_it() {
    let app = TestApp::with_settings(behind_proxy()).await;
    app.sign_up("victim").await;
    let from = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", "203.0.113.9")];
    for n in 0..20 {
        let name = format!("guess{n}");
        app.post_form_with("/signin", &[("username", &name), ("password", "whatever1")], None, &from).await;
    }
    let blocked =
        app.post_form_with("/signin", &[("username", "victim"), ("password", "correct horse")], None, &from).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", "198.51.100.7")];
    let other =
        app.post_form_with("/signin", &[("username", "victim"), ("password", "correct horse")], None, &elsewhere).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "another address is not affected");
    println!(
        "FIGURE limits.throttle_address: 20 failures from one address, then 429 with Retry-After {} s for every account from it, other addresses unaffected",
        blocked.header("retry-after")
    );
}

#[tokio::test]
async fn secure_cookies_are_marked_secure() {
    let app =
        TestApp::with_settings(Settings { base_url: "https://x".into(), secure_cookies: true, behind_proxy: false })
            .await;
    let response = app.post_sign_up("sam", "correct horse", "correct horse").await;
    assert!(response.header("set-cookie").contains("; Secure"));
    assert!(response.header("strict-transport-security").contains("max-age="));
}

#[tokio::test]
async fn a_hostile_next_sends_you_home_from_sign_in_and_sign_up() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("redirected").await;
    for hostile in ["/\t/evil.example/", "/\n/evil.example", "/\r/x", "/\x0b/x", "/\\evil.example", "//evil.example"] {
        let query = serde_urlencoded::to_string([("next", hostile)]).expect("encodes");
        let signed_in = app.get(&format!("/signin?{query}"), Some(&cookie)).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{hostile:?}: {}", signed_in.body);
        assert_eq!(signed_in.header("location"), "/", "{hostile:?}");
        let form = app.get(&format!("/signin?{query}"), None).await;
        assert_eq!(form.status, StatusCode::OK, "{hostile:?}");
        assert_eq!(form.page().field_value("input[name=next]"), "/", "{hostile:?}");
        let posted = app
            .post_form("/signin", &[("username", "redirected"), ("password", "correct horse"), ("next", hostile)], None)
            .await;
        assert_eq!(posted.header("location"), "/", "{hostile:?}");
    }
    let signed_up = app
        .post_form(
            "/signup",
            &[
                ("username", "newcomer"),
                ("password", "correct horse"),
                ("password_confirm", "correct horse"),
                ("next", "/\t/evil.example/"),
            ],
            None,
        )
        .await;
    assert_eq!(signed_up.header("location"), "/");
}

#[tokio::test]
async fn usernames_are_normalised_and_look_alikes_of_taken_ones_are_refused() {
    let app = TestApp::new().await;
    app.sign_up("Ｌｉｎｕｓ").await;
    assert_eq!(app.count("select count(*) from users where username = 'linus'").await, 1, "stored NFKC, lower-cased");
    for look_alike in ["l1nus", "LINUS", "1inus", "ｌｉｎｕｓ", "iinus"] {
        let response = app.post_sign_up(look_alike, "another pass", "another pass").await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{look_alike}");
        assert!(response.body.contains("That username"), "{look_alike}: {}", response.body);
    }
    let cyrillic = app.post_sign_up("linu\u{0455}", "another pass", "another pass").await;
    assert_eq!(cyrillic.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(cyrillic.body.contains("Use the letters a–z, digits and . _ - @ + only."), "{}", cyrillic.body);
    assert_eq!(app.count("select count(*) from users").await, 1);
    // The owner signs in however the name is typed.
    let signed_in = app.post_form("/signin", &[("username", "ＬＩＮＵＳ"), ("password", "correct horse")], None).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
}

#[tokio::test]
async fn a_display_name_with_direction_or_zero_width_characters_is_refused_and_kept() {
    let app = TestApp::new().await;
    for name in ["Ada\u{202E}nimda", "Ada\u{200B}", "\u{2066}Ada\u{2069}"] {
        let response = app
            .post_form(
                "/signup",
                &[
                    ("username", "ada"),
                    ("display_name", name),
                    ("password", "correct horse"),
                    ("password_confirm", "correct horse"),
                ],
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert!(
            response.body.contains("Remove the invisible direction, zero-width or control characters"),
            "{}",
            response.body
        );
        let page = response.page();
        assert_eq!(page.field_value("#username"), "ada", "the username is kept");
        assert_eq!(page.field_value("#display_name"), name, "the name is kept as typed: {}", response.body);
    }
    assert_eq!(app.count("select count(*) from users").await, 0);
}

/// Guessing, locking out and overload, as an attacker would try them.
mod under_attack {
    use std::time::{Duration, Instant};

    use crate::support::app::behind_proxy;
    use crate::support::server::{Server, ServerDatabase, free_port, header_value, http};
    use crate::support::{TestApp, TestDb};
    use axum::http::StatusCode;
    use futures_util::future::join_all;
    use mockloop::domain::sign_in_throttle::MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS;

    fn from(address: &str) -> [(&'static str, &str); 2] {
        [("sec-fetch-site", "same-origin"), ("x-forwarded-for", address)]
    }

    #[tokio::test]
    async fn forty_parallel_wrong_passwords_run_no_more_password_checks_than_the_limit() {
        let app = TestApp::new().await;
        app.sign_up("target").await;
        let attempts = (0..40).map(|n| {
            let app = &app;
            async move {
                let guess = format!("guess number {n}");
                app.post_form("/signin", &[("username", "target"), ("password", &guess)], None).await
            }
        });
        let responses = join_all(attempts).await;
        // A "wrong password" answer is the only outcome of a password check that did not sign in.
        let checked = responses.iter().filter(|r| r.body.contains("Wrong username or password.")).count();
        let throttled = responses.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
        assert!(responses.iter().all(|r| r.session_cookie().is_none()));
        assert_eq!(checked + throttled, 40, "every attempt was either checked or throttled");
        assert!(checked as i64 <= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS, "{checked} password checks ran");
        println!(
            "FIGURE auth.parallel_wrong_passwords: 40 parallel attempts, {checked} password checks ran (limit {MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS}), {throttled} refused with 429"
        );
    }

    #[tokio::test]
    async fn wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere() {
        let app = TestApp::with_settings(behind_proxy()).await;
        app.sign_up("owner").await;
        let attacker = from("203.0.113.66");
        for _ in 0..5 {
            let response = app
                .post_form_with("/signin", &[("username", "owner"), ("password", "a guess!")], None, &attacker)
                .await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let guesser = app
            .post_form_with("/signin", &[("username", "owner"), ("password", "correct horse")], None, &attacker)
            .await;
        assert_eq!(
            guesser.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the guessing address waits, even with the right password"
        );

        let owner = app
            .post_form_with(
                "/signin",
                &[("username", "owner"), ("password", "correct horse")],
                None,
                &from("198.51.100.20"),
            )
            .await;
        assert_eq!(owner.status, StatusCode::SEE_OTHER, "the owner elsewhere signs in: {}", owner.body);
        println!(
            "FIGURE auth.lockout_by_others: 5 wrong passwords from one address: that address waits (429), the owner from another signs in (303)"
        );
    }

    #[tokio::test]
    async fn a_guesser_spread_over_many_addresses_is_slowed_by_the_account_wide_limit() {
        let app = TestApp::with_settings(behind_proxy()).await;
        app.sign_up("popular").await;
        // 49 recent failures from 49 addresses: the next address is still checked.
        sqlx::query(
            "insert into sign_in_attempts (username, client_ip, succeeded)
             select 'popular', '192.0.2.' || n, false from generate_series(1, 49) as n",
        )
        .execute(&app.db)
        .await
        .expect("failures");
        let fiftieth = app
            .post_form_with("/signin", &[("username", "popular"), ("password", "a guess!")], None, &from("192.0.2.50"))
            .await;
        assert_eq!(fiftieth.status, StatusCode::UNPROCESSABLE_ENTITY);
        let next = app
            .post_form_with(
                "/signin",
                &[("username", "popular"), ("password", "correct horse")],
                None,
                &from("192.0.2.51"),
            )
            .await;
        assert_eq!(next.status, StatusCode::TOO_MANY_REQUESTS, "50 failures across addresses hold the account");
        assert!(next.header("retry-after").parse::<u64>().is_ok_and(|s| (1..=900).contains(&s)));
    }

    #[tokio::test]
    async fn one_address_may_make_only_so_many_accounts_an_hour() {
        let app = TestApp::with_settings(behind_proxy()).await;
        sqlx::query("insert into sign_up_attempts (client_ip) select '203.0.113.7' from generate_series(1, 19)")
            .execute(&app.db)
            .await
            .expect("earlier sign-ups");
        let form = |name: &'static str| {
            [("username", name), ("password", "correct horse"), ("password_confirm", "correct horse")]
        };
        let twentieth = app.post_form_with("/signup", &form("twentieth"), None, &from("203.0.113.7")).await;
        assert_eq!(twentieth.status, StatusCode::SEE_OTHER, "{}", twentieth.body);
        let refused = app.post_form_with("/signup", &form("one-more"), None, &from("203.0.113.7")).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.body.contains("Too many accounts were made from your network lately"), "{}", refused.body);
        assert_eq!(refused.page().field_value("#username"), "one-more", "the form is kept");
        let wait: u64 = refused.header("retry-after").parse().expect("Retry-After");
        assert!((1..=3600).contains(&wait), "{wait}");
        let elsewhere = app.post_form_with("/signup", &form("one-more"), None, &from("198.51.100.8")).await;
        assert_eq!(elsewhere.status, StatusCode::SEE_OTHER, "another address is not affected");
        assert_eq!(app.count("select count(*) from users").await, 2);
    }

    /// Peak and current resident memory of a process, in MB.
    fn memory_mb(pid: u32) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
        let kb = |field: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .expect("a memory figure")
        };
        (kb("VmHWM:") / 1024, kb("VmRSS:") / 1024)
    }

    /// Resets the process's peak-memory figure (VmHWM), so the next burst is measured on its own.
    fn reset_peak(pid: u32) {
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs");
    }

    struct Burst {
        statuses: Vec<String>,
        healthz_ms: Vec<f64>,
        peak_mb: u64,
        after_mb: u64,
    }

    impl Burst {
        fn count(&self, status: &str) -> usize {
            self.statuses.iter().filter(|s| s.as_str() == status).count()
        }

        fn healthz(&self) -> (f64, f64) {
            let mut sorted = self.healthz_ms.clone();
            sorted.sort_by(f64::total_cmp);
            (sorted[sorted.len() / 2], sorted[sorted.len() - 1])
        }
    }

    /// Sends `requests` at once (each from its own address), probing /healthz meanwhile.
    async fn burst(server: &Server, pid: u32, path: &str, bodies: Vec<String>) -> Burst {
        reset_peak(pid);
        let port = server.port;
        let sent = bodies.into_iter().enumerate().map(|(n, body)| {
            let head = format!("POST {path} HTTP/1.1\r\nX-Forwarded-For: 10.9.{}.{}\r\n", n / 250, n % 250 + 1);
            tokio::spawn(async move {
                let response = http(port, &head, &body).await.expect("an answer");
                let status = response.split(' ').nth(1).unwrap_or("").to_owned();
                if status == "503" {
                    assert!(header_value(&response, "retry-after").is_some(), "a 503 says when to come back");
                }
                status
            })
        });
        let requests = tokio::spawn(join_all(sent));
        let mut healthz_ms = Vec::new();
        while !requests.is_finished() || healthz_ms.is_empty() {
            let asked = Instant::now();
            let answer = http(port, "GET /healthz HTTP/1.1\r\n", "").await.expect("healthz");
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            healthz_ms.push(asked.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let statuses = requests.await.expect("join").into_iter().map(|s| s.expect("request task")).collect();
        // Let freed memory settle before reading what is still held.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (peak_mb, after_mb) = memory_mb(pid);
        Burst { statuses, healthz_ms, peak_mb, after_mb }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_hundred_parallel_sign_ups_and_sign_ins_keep_memory_bounded_and_the_server_responsive() {
        let db = TestDb::new().await;
        let url = db.url();
        let server = Server::start_with_args(ServerDatabase::Url(&url), free_port(), &["--behind-proxy"]);
        server.wait_ready().await;
        let pid = server.pid();

        let sign_ups: Vec<String> = (0..200)
            .map(|n| format!("username=crowd{n}&password=correct+horse&password_confirm=correct+horse"))
            .collect();
        let ups = burst(&server, pid, "/signup", sign_ups).await;
        let created = ups.count("303");
        assert_eq!(
            created + ups.count("503"),
            200,
            "each sign-up made an account or was told to come back: {:?}",
            ups.statuses
        );
        assert!(created > 0, "some sign-ups got through");

        let accounts: Vec<usize> = (0..200).filter(|&n| ups.statuses[n] == "303").collect();
        let sign_ins: Vec<String> = (0..200)
            .map(|n| format!("username=crowd{}&password=correct+horse", accounts[n % accounts.len()]))
            .collect();
        let ins = burst(&server, pid, "/signin", sign_ins).await;
        assert!(ins.count("303") > 0, "some sign-ins got through: {:?}", ins.statuses);
        assert_eq!(
            ins.count("303") + ins.count("503"),
            200,
            "each sign-in succeeded or was told to come back: {:?}",
            ins.statuses
        );

        for (what, burst) in [("sign-ups", &ups), ("sign-ins", &ins)] {
            let (p50, max) = burst.healthz();
            println!(
                "FIGURE auth.parallel_{}: 200 parallel {what} from 200 addresses: RSS peak {} MB, {} MB after; /healthz p50 {p50:.1} ms, max {max:.1} ms ({} probes); {} done, {} told 503 with Retry-After",
                what.replace('-', "_"),
                burst.peak_mb,
                burst.after_mb,
                burst.healthz_ms.len(),
                burst.count("303"),
                burst.count("503"),
            );
            assert!(burst.peak_mb < 300, "{what}: resident memory peaked at {} MB", burst.peak_mb);
        }
        drop(server);
    }
}
