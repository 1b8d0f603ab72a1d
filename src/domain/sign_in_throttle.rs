//! How many failed sign-ins are tolerated before further attempts must wait.
//!
//! The hard limit is per account *and* address, so that a guesser cannot lock
//! the owner out from elsewhere. An account-wide limit, ten times higher,
//! only slows a guesser spread over many addresses; a per-address limit
//! across accounts stops one address from trying many accounts.

use std::time::Duration;

/// The window in which failures are counted.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures for one account from one address within the window.
pub const MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: i64 = 5;
/// Failures for one account from every address within the window.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 50;
/// Failures from one address within the window, across accounts.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

/// Recent failed attempts (including ones whose password check is still
/// running), as counted from the attempts log.
#[derive(Debug, Clone, Copy)]
pub struct RecentFailures {
    pub for_account_from_address: i64,
    pub for_account: i64,
    pub from_address: i64,
    /// Age of the oldest failure that still counts, for the Retry-After figure.
    pub oldest_age: Duration,
}

/// `Some(wait)` when the next attempt must be refused for `wait`.
pub fn retry_after(failures: RecentFailures) -> Option<Duration> {
    let throttled = failures.for_account_from_address >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
        || failures.for_account >= MAX_FAILURES_PER_ACCOUNT
        || failures.from_address >= MAX_FAILURES_PER_ADDRESS;
    throttled.then(|| WINDOW.saturating_sub(failures.oldest_age).max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(for_account_from_address: i64, for_account: i64, from_address: i64) -> RecentFailures {
        RecentFailures { for_account_from_address, for_account, from_address, oldest_age: Duration::from_secs(180) }
    }

    #[test]
    fn which_failures_throttle_the_next_attempt() {
        for (recent, throttled) in [
            (failures(0, 0, 0), false),
            (failures(4, 4, 4), false),
            // One address guessing one account.
            (failures(5, 5, 5), true),
            // The owner, elsewhere, while someone guesses from a few addresses.
            (failures(0, 49, 0), false),
            // A guesser spread over many addresses.
            (failures(0, 50, 0), true),
            // One address trying many accounts.
            (failures(0, 0, 19), false),
            (failures(0, 0, 20), true),
        ] {
            assert_eq!(retry_after(recent).is_some(), throttled, "{recent:?}");
        }
    }

    #[test]
    fn the_wait_lasts_until_the_oldest_failure_leaves_the_window() {
        assert_eq!(retry_after(failures(5, 5, 5)), Some(Duration::from_secs(12 * 60)));
    }
}
