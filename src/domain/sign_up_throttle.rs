//! How many accounts one address may try to create before it must wait.

use std::time::Duration;

/// The window in which sign-ups are counted.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);
/// Sign-ups (that reached password hashing) from one address within the window.
pub const MAX_PER_ADDRESS: i64 = 20;

/// Recent sign-ups from one address, as counted from the attempts log.
#[derive(Debug, Clone, Copy)]
pub struct RecentSignUps {
    pub from_address: i64,
    /// Age of the oldest sign-up that still counts, for the Retry-After figure.
    pub oldest_age: Duration,
}

/// `Some(wait)` when the next sign-up from this address must wait.
pub fn retry_after(recent: RecentSignUps) -> Option<Duration> {
    (recent.from_address >= MAX_PER_ADDRESS)
        .then(|| WINDOW.saturating_sub(recent.oldest_age).max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recent(from_address: i64, oldest_minutes: u64) -> RecentSignUps {
        RecentSignUps { from_address, oldest_age: Duration::from_secs(oldest_minutes * 60) }
    }

    #[test]
    fn an_address_may_make_a_few_accounts_then_waits_for_the_window() {
        assert_eq!(retry_after(recent(0, 0)), None);
        assert_eq!(retry_after(recent(19, 50)), None);
        assert_eq!(retry_after(recent(20, 50)), Some(Duration::from_secs(10 * 60)));
        assert_eq!(retry_after(recent(25, 60)), Some(Duration::from_secs(1)));
    }
}
