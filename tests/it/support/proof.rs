//! How hard the proof tests push: reduced counts in an ordinary run, full
//! ones under `MOCKLOOP_PROOF=full` (`scripts/prove --full`).

use proptest::test_runner::{Config, TestRunner};

/// Whether this is the long run (`MOCKLOOP_PROOF=full`).
pub fn full() -> bool {
    std::env::var("MOCKLOOP_PROOF").as_deref() == Ok("full")
}

/// `reduced` in an ordinary run, `full` in the long one.
pub fn proof_count(reduced: usize, full: usize) -> usize {
    if self::full() { full } else { reduced }
}

/// A property-test runner of `cases` cases that keeps no failure files.
pub fn runner(cases: usize) -> TestRunner {
    let cases = u32::try_from(cases).expect("a case count");
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}
