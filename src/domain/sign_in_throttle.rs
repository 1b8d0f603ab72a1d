//! How many failed sign-ins are tolerated before further attempts must wait.

use std::time::Duration;

/// The window in which failures are counted.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures for one account within the window before it is throttled.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failures from one address within the window (across accounts) before it is throttled.
pub const MAX_FAILURES_PER_IP: i64 = 20;

/// Recent failed attempts, as counted from the attempts log.
#[derive(Debug, Clone, Copy)]
pub struct RecentFailures {
    pub for_account: i64,
    pub from_ip: i64,
    /// Age of the oldest failure that still counts, for the Retry-After figure.
    pub oldest_age: Duration,
}

/// `Some(wait)` when the next attempt must be refused for `wait`.
pub fn retry_after(failures: RecentFailures) -> Option<Duration> {
    let throttled = failures.for_account >= MAX_FAILURES_PER_ACCOUNT || failures.from_ip >= MAX_FAILURES_PER_IP;
    throttled.then(|| WINDOW.saturating_sub(failures.oldest_age).max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(for_account: i64, from_ip: i64, oldest_minutes: u64) -> RecentFailures {
        RecentFailures { for_account, from_ip, oldest_age: Duration::from_secs(oldest_minutes * 60) }
    }

    #[test]
    fn a_few_failures_are_allowed() {
        assert_eq!(retry_after(failures(4, 4, 3)), None);
    }

    #[test]
    fn the_fifth_failure_on_an_account_throttles_until_the_window_passes() {
        assert_eq!(retry_after(failures(5, 5, 3)), Some(Duration::from_secs(12 * 60)));
    }

    #[test]
    fn many_failures_from_one_address_throttle_every_account() {
        assert!(retry_after(failures(0, 20, 1)).is_some());
    }
}
