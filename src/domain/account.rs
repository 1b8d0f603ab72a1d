//! Rules for managing an account: changing the password, who may create an
//! account, what deleting one does to other people's loops, and how a session's
//! browser is named in the sessions list.

use super::password;

/// Who may create an account on this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignUp {
    /// Anyone who opens the sign-up page.
    Open,
    /// Only the operator (`mockloop users create`) or a valid invitation link.
    Closed,
}

/// Whether the sign-up form may create an account: always on an open server;
/// on a closed one only for someone holding a usable invitation link.
pub fn may_sign_up(policy: SignUp, holds_usable_invitation: bool) -> bool {
    policy == SignUp::Open || holds_usable_invitation
}

/// The invitation token a sign-up's return path carries, when it leads back to
/// an invitation (`/invite/<token>`, as the invitation page links to sign-up).
pub fn invitation_token(next: &str) -> Option<&str> {
    let token = next.strip_prefix("/invite/")?;
    let well_formed = token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(token)
}

/// Form fields of the change-password form.
pub const CURRENT_PASSWORD: &str = "current_password";
pub const NEW_PASSWORD: &str = "new_password";
pub const NEW_PASSWORD_CONFIRM: &str = "new_password_confirm";

/// What is wrong with a password change, as (field, message); empty when it may go ahead.
/// `current_matches` is whether `current` verified against the stored hash.
pub fn password_change_problems(
    current: &str,
    current_matches: bool,
    new: &str,
    repeat: &str,
) -> Vec<(&'static str, &'static str)> {
    let mut problems = Vec::new();
    if current.is_empty() {
        problems.push((CURRENT_PASSWORD, "Enter your current password."));
    } else if !current_matches {
        problems.push((CURRENT_PASSWORD, "That is not your current password. Nothing was changed."));
    }
    if let Err(message) = password::check_new(new) {
        problems.push((NEW_PASSWORD, message));
    } else if new == current {
        problems.push((NEW_PASSWORD, "Choose a password different from the current one."));
    } else if new != repeat {
        problems.push((NEW_PASSWORD_CONFIRM, "The two new passwords differ."));
    }
    problems
}

/// What deleting an account would touch, counted before the person decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletionEffects {
    /// Loops they are the candidate of (deleted with everything in them).
    pub loops: i64,
    /// Other people who interview in those loops (they lose those rounds).
    pub their_interviewers: i64,
    /// Scorecards they submitted on other people's loops (kept, without their name).
    pub submitted_elsewhere: i64,
    /// Draft scorecards and private notes on other people's loops (deleted).
    pub unsubmitted_elsewhere: i64,
    /// Rounds of other people's loops they would still interview (left without an interviewer).
    pub upcoming_interviews: i64,
}

impl DeletionEffects {
    /// What will happen, one sentence each (the rule, then how much of it applies), for the confirmation form.
    pub fn consequences(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Your loops as candidate ({}) are deleted with everything in them: rounds, notes, self-assessments, \
             invitations and the scorecards interviewers wrote for you.",
            self.loops
        )];
        if self.their_interviewers > 0 {
            lines.push(format!(
                "{} who interviewed you will no longer see those rounds; the notes and scorecards they wrote there are deleted too.",
                capitalise(&plural(self.their_interviewers, "person", "people"))
            ));
        }
        lines.push(format!(
            "Scorecards you submitted on other people's loops ({}) stay on their record, marked as from a deleted \
             account and without your name: the candidate keeps the feedback you gave.",
            self.submitted_elsewhere
        ));
        lines.push(format!(
            "Your draft scorecards and private notes on other people's loops ({}) are deleted.",
            self.unsubmitted_elsewhere
        ));
        if self.upcoming_interviews > 0 {
            lines.push(format!(
                "{} you agreed to interview will have no interviewer; the candidate can invite someone else.",
                capitalise(&plural(self.upcoming_interviews, "round", "rounds"))
            ));
        }
        lines.push(
            "Your private questions, templates and sessions are deleted, and your username becomes free for anyone to take."
                .to_owned(),
        );
        lines
    }
}

fn plural(count: i64, one: &str, many: &str) -> String {
    if count == 1 { format!("1 {one}") } else { format!("{count} {many}") }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// "Firefox on Linux" from a User-Agent header; "Unknown browser" when there is none.
pub fn describe_client(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent.filter(|a| !a.trim().is_empty()) else {
        return "Unknown browser".to_owned();
    };
    // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(marker, _)| agent.contains(marker))
    .map_or("Another client", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_sign_up_admits_only_invitation_holders() {
        let table = [
            (SignUp::Open, false, true),
            (SignUp::Open, true, true),
            (SignUp::Closed, false, false),
            (SignUp::Closed, true, true),
        ];
        for (policy, invited, expected) in table {
            assert_eq!(may_sign_up(policy, invited), expected, "{policy:?} invited={invited}");
        }
    }

    #[test]
    fn only_an_invitation_path_carries_a_token() {
        let token = "a".repeat(43);
        let table = [
            (format!("/invite/{token}"), true),
            (format!("/invite/{token}x"), false),
            (format!("/invite/{token}?x=1"), false),
            (format!("/invite/{}", &token[..42]), false),
            (format!("/invite/{}", "a/".repeat(21) + "a"), false),
            (format!("/loops/{token}"), false),
            (format!("//invite/{token}"), false),
            ("/".to_owned(), false),
        ];
        for (next, expected) in table {
            assert_eq!(invitation_token(&next).is_some(), expected, "{next}");
        }
    }

    #[test]
    fn password_changes_need_the_current_password_and_a_new_valid_repeated_one() {
        let table: [(&str, bool, &str, &str, &[&str]); 7] = [
            ("old password", true, "new password", "new password", &[]),
            ("", false, "new password", "new password", &[CURRENT_PASSWORD]),
            ("guess", false, "new password", "new password", &[CURRENT_PASSWORD]),
            ("old password", true, "short", "short", &[NEW_PASSWORD]),
            ("old password", true, "old password", "old password", &[NEW_PASSWORD]),
            ("old password", true, "new password", "new passwort", &[NEW_PASSWORD_CONFIRM]),
            ("guess", false, "short", "", &[CURRENT_PASSWORD, NEW_PASSWORD]),
        ];
        for (current, matches, new, repeat, fields) in table {
            let problems: Vec<&str> =
                password_change_problems(current, matches, new, repeat).iter().map(|(f, _)| *f).collect();
            assert_eq!(problems, fields, "{current:?} {matches} {new:?} {repeat:?}");
        }
    }

    #[test]
    fn deleting_states_what_happens_to_every_kind_of_shared_data() {
        let text = DeletionEffects {
            loops: 2,
            their_interviewers: 1,
            submitted_elsewhere: 1,
            unsubmitted_elsewhere: 3,
            upcoming_interviews: 0,
        }
        .consequences()
        .join("\n");
        assert!(text.contains("Your loops as candidate (2) are deleted"), "{text}");
        assert!(text.contains("1 person who interviewed you"), "{text}");
        assert!(text.contains("Scorecards you submitted on other people's loops (1) stay on their record"), "{text}");
        assert!(text.contains("private notes on other people's loops (3) are deleted"), "{text}");
        assert!(!text.contains("will have no interviewer"), "{text}");
        let none = DeletionEffects { upcoming_interviews: 2, ..DeletionEffects::default() }.consequences().join("\n");
        assert!(none.contains("(0) stay on their record"), "the rule is stated even when nothing applies: {none}");
        assert!(none.contains("2 rounds you agreed to interview will have no interviewer"), "{none}");
        assert!(!none.contains("who interviewed you"), "{none}");
    }

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let table = [
            (Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"), "Firefox on Linux"),
            (
                Some(
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0",
                ),
                "Edge on Windows",
            ),
            (
                Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15"),
                "Safari on macOS",
            ),
            (
                Some("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"),
                "Chrome on Android",
            ),
            (
                Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/17.5 Mobile Safari/604.1"),
                "Safari on iOS",
            ),
            (Some("curl/8.5.0"), "curl"),
            (Some("something"), "Another client"),
            (Some("  "), "Unknown browser"),
            (None, "Unknown browser"),
        ];
        for (agent, expected) in table {
            assert_eq!(describe_client(agent), expected, "{agent:?}");
        }
    }
}
