//! The peer board's rules: what a posted slot may say, when its weekly
//! repeats fall, how a claimed slot becomes a swap of rounds, which slots a
//! viewer's filters keep and in what order the board lists them, and when a
//! swap may be cancelled or its no-show marked.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Level, RoundKind, Team};

text_enum!(
    /// What a claim makes of a slot: both interview each other in turn, or
    /// only the poster is interviewed.
    SwapMode {
        Reciprocal => ("reciprocal", "Swap: you interview each other in turn"),
        OneWay => ("one_way", "One way: only the poster is interviewed"),
    }
);

text_enum!(
    /// Where a posted slot is in its life.
    SlotStatus {
        Open => ("open", "Open"),
        Claimed => ("claimed", "Claimed"),
        Withdrawn => ("withdrawn", "Withdrawn"),
    }
);

text_enum!(
    /// Where a swap is in its life.
    SwapStatus {
        Scheduled => ("scheduled", "Scheduled"),
        Cancelled => ("cancelled", "Cancelled"),
    }
);

text_enum!(
    /// What a notice tells its reader about one of their swaps.
    NoticeKind {
        Claimed => ("claimed", "Your slot was claimed"),
        Cancelled => ("cancelled", "A swap was cancelled"),
        StartingSoon => ("starting_soon", "A swap starts soon"),
    }
);

/// Shortest and longest slot, in minutes (a reciprocal slot holds two rounds).
pub const MINUTES: std::ops::RangeInclusive<i16> = 30..=120;
/// At most this many further weeks of a weekly repeat.
pub const MAX_REPEAT_WEEKS: u32 = 12;
/// A swap starting within this is announced as "starting soon".
pub const STARTING_SOON: Duration = Duration::minutes(15);

/// A slot as its poster describes it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSpec {
    pub starts_at: DateTime<Utc>,
    pub minutes: i16,
    pub zone: Tz,
    pub repeat_weeks: u32,
    pub mode: SwapMode,
    pub wants: Vec<RoundKind>,
    pub can_interview: Vec<RoundKind>,
    pub team: Option<Team>,
    pub level: Level,
    pub show_loop_count: bool,
}

/// What is wrong with a slot, by the form field it concerns.
pub fn check_slot(spec: &SlotSpec, now: DateTime<Utc>) -> Vec<(&'static str, &'static str)> {
    let mut problems = Vec::new();
    if spec.starts_at <= now {
        problems.push(("starts_at", "Choose a time in the future."));
    }
    if !MINUTES.contains(&spec.minutes) {
        problems.push(("minutes", "Enter a length of 30 to 120 minutes."));
    }
    if spec.repeat_weeks > MAX_REPEAT_WEEKS {
        problems.push(("repeat_weeks", "Repeat for at most 12 more weeks."));
    }
    if spec.wants.is_empty() {
        problems.push(("wants", "Choose at least one round kind you want to practise."));
    }
    if spec.mode == SwapMode::Reciprocal && spec.can_interview.is_empty() {
        problems.push(("can_interview", "A swap needs at least one round kind you can interview for."));
    }
    problems
}

/// The start of the slot and of each weekly repeat: the same wall-clock time in
/// the poster's zone each week (so a repeat across a daylight-saving change
/// keeps its local time); a week whose time does not exist there is skipped.
pub fn occurrences(starts_at: DateTime<Utc>, zone: Tz, repeat_weeks: u32) -> Vec<DateTime<Utc>> {
    let local = starts_at.with_timezone(&zone).naive_local();
    (0..=repeat_weeks.min(MAX_REPEAT_WEEKS))
        .filter_map(|week| {
            let naive = local + Duration::weeks(i64::from(week));
            zone.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc))
        })
        .collect()
}

/// Who is the candidate of a swap's round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    Poster,
    Claimer,
}

/// One round of a swap: whose it is, when, how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapRound {
    pub candidate: Candidate,
    pub starts_at: DateTime<Utc>,
    pub minutes: i16,
}

/// The rounds a claimed slot becomes: reciprocal splits it into two back to
/// back (the poster interviews the claimer first, then the other way round);
/// one-way is one round for the poster.
pub fn swap_rounds(mode: SwapMode, starts_at: DateTime<Utc>, minutes: i16) -> Vec<SwapRound> {
    match mode {
        SwapMode::OneWay => vec![SwapRound { candidate: Candidate::Poster, starts_at, minutes }],
        SwapMode::Reciprocal => {
            let half = minutes / 2;
            vec![
                SwapRound { candidate: Candidate::Claimer, starts_at, minutes: half },
                SwapRound {
                    candidate: Candidate::Poster,
                    starts_at: starts_at + Duration::minutes(i64::from(half)),
                    minutes: half,
                },
            ]
        }
    }
}

/// A slot on the board, as filtering and ranking need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardSlot {
    pub starts_at: DateTime<Utc>,
    pub wants: Vec<RoundKind>,
    pub can_interview: Vec<RoundKind>,
    pub team: Option<Team>,
    pub level: Level,
}

/// The board's filters, in the viewer's zone. Empty means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardFilter {
    /// The poster wants it or can interview for it.
    pub kind: Option<RoundKind>,
    /// The poster's team focus (a slot open to any team matches every team).
    pub team: Option<Team>,
    pub level: Option<Level>,
    /// First and last day, inclusive, in the viewer's zone.
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl BoardFilter {
    pub fn keeps(&self, slot: &BoardSlot, zone: Tz) -> bool {
        let day = slot.starts_at.with_timezone(&zone).date_naive();
        self.kind.is_none_or(|kind| slot.wants.contains(&kind) || slot.can_interview.contains(&kind))
            && self.team.is_none_or(|team| slot.team.is_none_or(|t| t == team))
            && self.level.is_none_or(|level| slot.level == level)
            && self.from.is_none_or(|from| day >= from)
            && self.until.is_none_or(|until| day <= until)
    }
}

/// What the viewer wants and can give (from their own open slots, or the
/// filters when they have none), and when they would like to practise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wishes {
    pub wants: Vec<RoundKind>,
    pub can_interview: Vec<RoundKind>,
    pub team: Option<Team>,
    pub level: Option<Level>,
    /// The times the viewer said they are free; none: as soon as possible.
    pub free_at: Vec<DateTime<Utc>>,
}

/// How well a slot fits the viewer: what each side wants that the other can
/// give, then team and level. Higher is better.
pub fn fit(slot: &BoardSlot, wishes: &Wishes) -> u32 {
    let overlap = |a: &[RoundKind], b: &[RoundKind]| a.iter().filter(|k| b.contains(k)).count() as u32;
    let they_give = overlap(&wishes.wants, &slot.can_interview);
    let we_give = overlap(&slot.wants, &wishes.can_interview);
    let team = u32::from(matches!((slot.team, wishes.team), (Some(a), Some(b)) if a == b));
    let level = u32::from(wishes.level == Some(slot.level));
    4 * they_give + 3 * we_give + 2 * team + level
}

/// How far a slot is from when the viewer would like to practise.
fn distance(slot: &BoardSlot, wishes: &Wishes, now: DateTime<Utc>) -> i64 {
    match wishes.free_at.iter().map(|t| (slot.starts_at - *t).num_minutes().abs()).min() {
        Some(minutes) => minutes,
        None => (slot.starts_at - now).num_minutes().max(0),
    }
}

/// The board's order, best match first: by [`fit`], then the nearest to when
/// the viewer is free (the soonest when they said nothing), then the earliest.
/// Returns indexes into `slots`.
pub fn rank(slots: &[BoardSlot], wishes: &Wishes, now: DateTime<Utc>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_key(|&i| {
        let slot = &slots[i];
        (std::cmp::Reverse(fit(slot, wishes)), distance(slot, wishes, now), slot.starts_at)
    });
    order
}

/// Whether someone `taken` rounds interviewed and `given` rounds interviewing
/// is more than `limit` rounds in debt (no limit: never).
pub fn in_debt(taken: i64, given: i64, limit: Option<u32>) -> bool {
    limit.is_some_and(|limit| taken - given > i64::from(limit))
}

/// Whether a swap may still be cancelled: scheduled and not yet ended.
pub fn may_cancel(status: SwapStatus, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == SwapStatus::Scheduled && now < ends_at
}

/// Whether one side may mark the other as a no-show: once the swap's time has
/// passed, if it was not cancelled, and only once.
pub fn may_mark_no_show(status: SwapStatus, ends_at: DateTime<Utc>, already: bool, now: DateTime<Utc>) -> bool {
    status == SwapStatus::Scheduled && now >= ends_at && !already
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    fn spec() -> SlotSpec {
        SlotSpec {
            starts_at: utc("2026-12-10T17:00:00Z"),
            minutes: 90,
            zone: Tz::Europe__Berlin,
            repeat_weeks: 0,
            mode: SwapMode::Reciprocal,
            wants: vec![RoundKind::Coding],
            can_interview: vec![RoundKind::MlFundamentals],
            team: None,
            level: Level::SeniorStaff,
            show_loop_count: false,
        }
    }

    #[test]
    fn a_slot_is_checked_field_by_field() {
        let now = utc("2026-12-01T00:00:00Z");
        let fields = |spec: SlotSpec| check_slot(&spec, now).into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        assert!(fields(spec()).is_empty());
        for (changed, field) in [
            (SlotSpec { starts_at: utc("2026-11-30T00:00:00Z"), ..spec() }, "starts_at"),
            (SlotSpec { minutes: 20, ..spec() }, "minutes"),
            (SlotSpec { minutes: 121, ..spec() }, "minutes"),
            (SlotSpec { repeat_weeks: 13, ..spec() }, "repeat_weeks"),
            (SlotSpec { wants: vec![], ..spec() }, "wants"),
            (SlotSpec { can_interview: vec![], ..spec() }, "can_interview"),
        ] {
            assert_eq!(fields(changed), vec![field]);
        }
        assert!(fields(SlotSpec { mode: SwapMode::OneWay, can_interview: vec![], ..spec() }).is_empty());
    }

    #[test]
    fn weekly_repeats_keep_the_local_time_across_daylight_saving() {
        let berlin = Tz::Europe__Berlin;
        // 18:00 in Berlin each Thursday: UTC+1 until the clocks change on 29 March, UTC+2 after.
        let starts = utc("2026-03-19T17:00:00Z");
        let times = occurrences(starts, berlin, 2);
        assert_eq!(times, vec![utc("2026-03-19T17:00:00Z"), utc("2026-03-26T17:00:00Z"), utc("2026-04-02T16:00:00Z")]);
        assert_eq!(occurrences(starts, berlin, 0), vec![starts]);
        assert_eq!(occurrences(starts, berlin, 99).len(), 13, "at most twelve repeats");
    }

    #[test]
    fn a_reciprocal_swap_is_two_rounds_back_to_back_and_one_way_is_one() {
        let at = utc("2026-12-10T17:00:00Z");
        assert_eq!(
            swap_rounds(SwapMode::Reciprocal, at, 90),
            vec![
                SwapRound { candidate: Candidate::Claimer, starts_at: at, minutes: 45 },
                SwapRound { candidate: Candidate::Poster, starts_at: utc("2026-12-10T17:45:00Z"), minutes: 45 },
            ]
        );
        assert_eq!(
            swap_rounds(SwapMode::OneWay, at, 60),
            vec![SwapRound { candidate: Candidate::Poster, starts_at: at, minutes: 60 }]
        );
    }

    fn slot(at: &str, wants: &[RoundKind], gives: &[RoundKind], team: Option<Team>, level: Level) -> BoardSlot {
        BoardSlot { starts_at: utc(at), wants: wants.to_vec(), can_interview: gives.to_vec(), team, level }
    }

    #[test]
    fn filters_keep_what_they_name_in_the_viewers_zone() {
        use RoundKind::*;
        let s = slot("2026-12-10T23:30:00Z", &[Coding], &[MlSystemDesign], Some(Team::CameraCv), Level::JuniorMid);
        let open_team = BoardSlot { team: None, ..s.clone() };
        let day = |d: &str| Some(d.parse::<NaiveDate>().expect("date"));
        let utc_zone = Tz::UTC;
        let tokyo = Tz::Asia__Tokyo;
        for (filter, zone, slot, kept) in [
            (BoardFilter::default(), utc_zone, &s, true),
            (BoardFilter { kind: Some(Coding), ..Default::default() }, utc_zone, &s, true),
            (BoardFilter { kind: Some(MlSystemDesign), ..Default::default() }, utc_zone, &s, true),
            (BoardFilter { kind: Some(Behavioral), ..Default::default() }, utc_zone, &s, false),
            (BoardFilter { team: Some(Team::CameraCv), ..Default::default() }, utc_zone, &s, true),
            (BoardFilter { team: Some(Team::GenaiLlm), ..Default::default() }, utc_zone, &s, false),
            (BoardFilter { team: Some(Team::GenaiLlm), ..Default::default() }, utc_zone, &open_team, true),
            (BoardFilter { level: Some(Level::JuniorMid), ..Default::default() }, utc_zone, &s, true),
            (BoardFilter { level: Some(Level::SeniorStaff), ..Default::default() }, utc_zone, &s, false),
            // 23:30 UTC on the 10th is the 11th in Tokyo.
            (
                BoardFilter { from: day("2026-12-10"), until: day("2026-12-10"), ..Default::default() },
                utc_zone,
                &s,
                true,
            ),
            (BoardFilter { from: day("2026-12-10"), until: day("2026-12-10"), ..Default::default() }, tokyo, &s, false),
            (BoardFilter { from: day("2026-12-11"), ..Default::default() }, tokyo, &s, true),
            (BoardFilter { until: day("2026-12-09"), ..Default::default() }, utc_zone, &s, false),
        ] {
            assert_eq!(filter.keeps(slot, zone), kept, "{filter:?} in {zone}");
        }
    }

    #[test]
    fn the_board_lists_the_best_matches_first() {
        use RoundKind::*;
        let now = utc("2026-12-01T00:00:00Z");
        let wishes = Wishes {
            wants: vec![MlSystemDesign],
            can_interview: vec![Coding],
            team: Some(Team::GenaiLlm),
            level: Some(Level::SeniorStaff),
            free_at: vec![],
        };
        let senior = Level::SeniorStaff;
        // Each row: a slot and its expected place.
        let slots = [
            slot("2026-12-02T10:00:00Z", &[Behavioral], &[Behavioral], None, Level::JuniorMid), // nothing in common
            slot("2026-12-05T10:00:00Z", &[Coding], &[MlSystemDesign], None, senior),           // both ways
            slot("2026-12-03T10:00:00Z", &[Behavioral], &[MlSystemDesign], None, senior),       // they give
            slot("2026-12-03T10:00:00Z", &[Coding], &[Behavioral], None, senior),               // we give
            slot("2026-12-04T10:00:00Z", &[Coding], &[MlSystemDesign], None, senior),           // both, sooner
            slot("2026-12-06T10:00:00Z", &[Coding], &[MlSystemDesign], Some(Team::GenaiLlm), senior), // both + team
        ];
        assert_eq!(rank(&slots, &wishes, now), vec![5, 4, 1, 2, 3, 0]);

        // Equal fit: the one nearest to when the viewer is free comes first.
        let free = Wishes { free_at: vec![utc("2026-12-05T09:00:00Z")], ..wishes.clone() };
        assert_eq!(rank(&slots[1..5], &free, now)[..2], [0, 3]);
        assert_eq!(rank(&[], &wishes, now), Vec::<usize>::new());
    }

    #[test]
    fn debt_is_rounds_taken_beyond_those_given_past_the_limit() {
        for (taken, given, limit, hidden) in [
            (5, 0, None, false),
            (3, 0, Some(3), false),
            (4, 0, Some(3), true),
            (6, 3, Some(3), false),
            (1, 0, Some(0), true),
            (0, 9, Some(0), false),
        ] {
            assert_eq!(in_debt(taken, given, limit), hidden, "{taken} taken, {given} given, limit {limit:?}");
        }
    }

    #[test]
    fn cancelling_before_the_end_and_no_shows_after_it() {
        let ends = utc("2026-12-10T18:00:00Z");
        let before = utc("2026-12-10T17:59:00Z");
        let after = utc("2026-12-10T18:00:00Z");
        use SwapStatus::*;
        for (status, now, cancel, no_show, no_show_again) in [
            (Scheduled, before, true, false, false),
            (Scheduled, after, false, true, false),
            (Cancelled, before, false, false, false),
            (Cancelled, after, false, false, false),
        ] {
            assert_eq!(may_cancel(status, ends, now), cancel, "{status:?} cancel");
            assert_eq!(may_mark_no_show(status, ends, false, now), no_show, "{status:?} no-show");
            assert_eq!(may_mark_no_show(status, ends, true, now), no_show_again, "{status:?} no-show again");
        }
    }
}
