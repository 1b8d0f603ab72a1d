//! Picks a loop's questions from the bank: fitting the round, fresh to the
//! candidate, leaning toward their weak areas, and reproducible from a seed.
//!
//! For each slot in order, and each question the slot wants, one question is
//! picked like this:
//!
//! 1. Only questions that fit are considered: the slot's round kind, the
//!    slot's tag filter (an ML coding round takes only questions tagged
//!    `ml-coding`), the loop's level among the question's levels, not already
//!    picked for this loop, and of a topic no question picked for this loop
//!    has (in any round): a loop never asks two questions of one topic.
//! 2. They are ranked, best first, by
//!    - freshness: unseen by this candidate before any seen one; seen ones
//!      least recently seen first;
//!    - then team fit: written for the loop's team, then general (no team),
//!      then for other teams only.
//!
//!    So a seen question is picked only when no unseen one fits at all, in
//!    any team tier.
//! 3. Among the questions that share the best rank, one is drawn at random
//!    with weight `1 + 2 × mean weakness of its tags` (a tag without history
//!    counts as neutral, 0.5), so questions on weak areas are drawn up to
//!    three times as often as ones on strong areas.
//!
//! The draw uses SplitMix64 seeded with the loop's seed and integer weights,
//! over the candidates sorted by id, so the same bank, history and seed give
//! the same picks on every platform and build, whatever order the bank came
//! in. A slot that runs out of fitting questions gets fewer ids (the loop
//! page says so); a topic is never repeated to fill it.
//!
//! An interviewer's swap ([`select_swap`]) follows the same rules against
//! the rest of the loop.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Level, RoundKind, Team};

/// Weakness assumed for a tag with no scored history.
pub const NEUTRAL_WEAKNESS: f64 = 0.5;

/// A question as selection sees it.
#[derive(Debug, Clone)]
pub struct CandidateQuestion {
    pub id: Uuid,
    pub kind: RoundKind,
    /// Empty for a general question.
    pub teams: Vec<Team>,
    pub levels: Vec<Level>,
    pub tags: Vec<String>,
    /// The core concept it tests; a loop holds at most one question of each.
    pub topic: String,
}

/// Which part of its kind's pool a round draws from, told apart by a tag:
/// a two-coding onsite asks one algorithmic round (`Without("ml-coding")`)
/// and one ML coding round (`With("ml-coding")`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum TagFilter {
    #[default]
    Any,
    With(String),
    Without(String),
}

impl TagFilter {
    /// From the two nullable columns (a CHECK keeps at most one set).
    pub fn from_columns(with_tag: Option<String>, without_tag: Option<String>) -> TagFilter {
        match (with_tag, without_tag) {
            (Some(tag), _) => TagFilter::With(tag),
            (None, Some(tag)) => TagFilter::Without(tag),
            (None, None) => TagFilter::Any,
        }
    }

    pub fn with_tag(&self) -> Option<&str> {
        match self {
            TagFilter::With(tag) => Some(tag),
            _ => None,
        }
    }

    pub fn without_tag(&self) -> Option<&str> {
        match self {
            TagFilter::Without(tag) => Some(tag),
            _ => None,
        }
    }

    pub fn admits(&self, tags: &[String]) -> bool {
        match self {
            TagFilter::Any => true,
            TagFilter::With(tag) => tags.contains(tag),
            TagFilter::Without(tag) => !tags.contains(tag),
        }
    }
}

/// One round's need: its kind, the part of the kind's pool it draws from,
/// and how many questions it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundSlot {
    pub kind: RoundKind,
    pub filter: TagFilter,
    pub questions: usize,
}

/// Who the loop is for and what they have done before.
#[derive(Debug, Clone, Copy)]
pub struct SelectionContext<'a> {
    pub team: Team,
    pub level: Level,
    /// The loop's selection seed, shown on the loop page.
    pub seed: u64,
    /// When this candidate last had each question (earlier loops).
    pub last_seen: &'a HashMap<Uuid, DateTime<Utc>>,
    /// Weakness per tag from scored history, 0.0 (strong) ..= 1.0 (weak);
    /// a missing tag is neutral.
    pub tag_weakness: &'a HashMap<String, f64>,
}

/// What a loop already holds: questions it may not be given again, and
/// topics it may not be given a second question of.
#[derive(Debug, Clone, Default)]
struct Taken<'a> {
    ids: HashSet<Uuid>,
    topics: HashSet<&'a str>,
}

impl<'a> Taken<'a> {
    fn hold(&mut self, id: Uuid, topic: &'a str) {
        self.ids.insert(id);
        self.topics.insert(topic);
    }

    fn allows(&self, question: &CandidateQuestion) -> bool {
        !self.ids.contains(&question.id) && !self.topics.contains(question.topic.as_str())
    }
}

/// The question ids for each slot, in slot order; never the same id twice,
/// nor two questions of one topic.
pub fn select_questions(bank: &[CandidateQuestion], slots: &[RoundSlot], ctx: &SelectionContext) -> Vec<Vec<Uuid>> {
    let mut rng = SplitMix64::new(ctx.seed);
    let mut taken = Taken::default();
    slots
        .iter()
        .map(|slot| {
            let mut ids = Vec::with_capacity(slot.questions);
            while ids.len() < slot.questions {
                let Some(question) = pick(bank, slot, ctx, &taken, &mut rng) else { break };
                taken.hold(question.id, &question.topic);
                ids.push(question.id);
            }
            ids
        })
        .collect()
}

/// A question a loop holds, in the slot it sits in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub round: Uuid,
    pub position: i16,
    pub id: Uuid,
    pub topic: String,
}

/// Another question for the slot `position` of `round` (a round of `slot`'s
/// kind and filter), by the same rules: not a question the loop holds nor the
/// one going out, and of no topic the rest of the loop holds (the outgoing
/// question's own topic may stay). `None` when no question fits.
pub fn select_swap(
    bank: &[CandidateQuestion],
    slot: &RoundSlot,
    ctx: &SelectionContext,
    held: &[Held],
    round: Uuid,
    position: i16,
) -> Option<Uuid> {
    let mut taken = Taken::default();
    for question in held {
        if question.round == round && question.position == position {
            taken.ids.insert(question.id);
        } else {
            taken.hold(question.id, &question.topic);
        }
    }
    pick(bank, slot, ctx, &taken, &mut SplitMix64::new(ctx.seed)).map(|question| question.id)
}

/// How well a question's teams suit the loop; earlier is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TeamFit {
    LoopTeam,
    General,
    OtherTeams,
}

/// How fresh a question is to the candidate; earlier is better, and among
/// seen questions the least recently seen comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Freshness {
    Unseen,
    LastSeen(DateTime<Utc>),
}

fn pick<'b>(
    bank: &'b [CandidateQuestion],
    slot: &RoundSlot,
    ctx: &SelectionContext,
    taken: &Taken,
    rng: &mut SplitMix64,
) -> Option<&'b CandidateQuestion> {
    let ranked: Vec<((Freshness, TeamFit), &CandidateQuestion)> = bank
        .iter()
        .filter(|question| question.kind == slot.kind && question.levels.contains(&ctx.level))
        .filter(|question| slot.filter.admits(&question.tags))
        .filter(|question| taken.allows(question))
        .map(|question| ((freshness(question, ctx), team_fit(question, ctx.team)), question))
        .collect();
    let best_rank = ranked.iter().map(|(rank, _)| *rank).min()?;

    let mut best: Vec<&CandidateQuestion> =
        ranked.into_iter().filter(|(rank, _)| *rank == best_rank).map(|(_, question)| question).collect();
    best.sort_by_key(|question| question.id);
    best.dedup_by_key(|question| question.id);

    let weights: Vec<u64> = best.iter().map(|question| weight_millis(question, ctx.tag_weakness)).collect();
    let mut ticket = rng.below(weights.iter().sum());
    best.into_iter().zip(&weights).find_map(|(question, &weight)| {
        if ticket < weight {
            Some(question)
        } else {
            ticket -= weight;
            None
        }
    })
}

fn freshness(question: &CandidateQuestion, ctx: &SelectionContext) -> Freshness {
    ctx.last_seen.get(&question.id).map_or(Freshness::Unseen, |&seen| Freshness::LastSeen(seen))
}

fn team_fit(question: &CandidateQuestion, team: Team) -> TeamFit {
    if question.teams.contains(&team) {
        TeamFit::LoopTeam
    } else if question.teams.is_empty() {
        TeamFit::General
    } else {
        TeamFit::OtherTeams
    }
}

/// The draw weight `1 + 2 × mean weakness` in thousandths (1000..=3000).
/// Integers keep the draw exact and identical on every platform.
fn weight_millis(question: &CandidateQuestion, tag_weakness: &HashMap<String, f64>) -> u64 {
    let weaknesses: Vec<f64> = question
        .tags
        .iter()
        .map(|tag| match tag_weakness.get(tag) {
            Some(weakness) if weakness.is_finite() => weakness.clamp(0.0, 1.0),
            _ => NEUTRAL_WEAKNESS,
        })
        .collect();
    let mean =
        if weaknesses.is_empty() { NEUTRAL_WEAKNESS } else { weaknesses.iter().sum::<f64>() / weaknesses.len() as f64 };
    1_000 + (2_000.0 * mean).round() as u64
}

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, fast and fully specified,
/// so a seed means the same picks everywhere, unlike `rand`'s std generator
/// whose algorithm may change between releases.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0), by multiply-and-shift,
    /// which avoids the low-bit bias of `%` for the small bounds used here.
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// A question of its own topic.
    fn question(n: u128, kind: RoundKind, teams: &[Team], tags: &[&str]) -> CandidateQuestion {
        CandidateQuestion {
            id: Uuid::from_u128(n),
            kind,
            teams: teams.to_vec(),
            levels: vec![Level::JuniorMid, Level::SeniorStaff],
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            topic: format!("topic-{n}"),
        }
    }

    fn on_topic(topic: &str, question: CandidateQuestion) -> CandidateQuestion {
        CandidateQuestion { topic: topic.to_owned(), ..question }
    }

    fn coding(n: u128) -> CandidateQuestion {
        question(n, RoundKind::Coding, &[], &["arrays"])
    }

    fn day(n: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, n, 12, 0, 0).single().expect("valid day")
    }

    fn ctx<'a>(
        seed: u64,
        last_seen: &'a HashMap<Uuid, DateTime<Utc>>,
        tag_weakness: &'a HashMap<String, f64>,
    ) -> SelectionContext<'a> {
        SelectionContext { team: Team::GenaiLlm, level: Level::SeniorStaff, seed, last_seen, tag_weakness }
    }

    fn slot(kind: RoundKind, questions: usize) -> RoundSlot {
        RoundSlot { kind, filter: TagFilter::Any, questions }
    }

    fn ids(ns: &[u128]) -> Vec<Uuid> {
        ns.iter().map(|&n| Uuid::from_u128(n)).collect()
    }

    #[test]
    fn a_loop_never_repeats_a_question_and_a_short_slot_gets_fewer() {
        let bank = [coding(1), coding(2), coding(3)];
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        let picks = select_questions(
            &bank,
            &[slot(RoundKind::Coding, 2), slot(RoundKind::Coding, 2)],
            &ctx(7, &seen, &weakness),
        );
        assert_eq!(picks[0].len(), 2);
        assert_eq!(picks[1].len(), 1);
        let all: HashSet<Uuid> = picks.iter().flatten().copied().collect();
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn an_empty_bank_gives_empty_slots() {
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        let picks =
            select_questions(&[], &[slot(RoundKind::Coding, 1), slot(RoundKind::Domain, 2)], &ctx(1, &seen, &weakness));
        assert_eq!(picks, vec![Vec::<Uuid>::new(), Vec::new()]);
    }

    #[test]
    fn only_questions_of_the_slots_kind_and_the_loops_level_are_picked() {
        let junior_only = CandidateQuestion { levels: vec![Level::JuniorMid], ..coding(1) };
        let bank = [junior_only, question(2, RoundKind::Domain, &[], &[]), coding(3)];
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        for seed in 0..20 {
            let picks = select_questions(&bank, &[slot(RoundKind::Coding, 2)], &ctx(seed, &seen, &weakness));
            assert_eq!(picks, vec![ids(&[3])]);
        }
    }

    #[test]
    fn the_loops_team_comes_before_general_questions_and_those_before_other_teams() {
        let bank = [
            question(1, RoundKind::Coding, &[Team::CameraCv], &[]),
            question(2, RoundKind::Coding, &[], &[]),
            question(3, RoundKind::Coding, &[Team::CameraCv, Team::GenaiLlm], &[]),
        ];
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        for seed in 0..20 {
            let picks = select_questions(&bank, &[slot(RoundKind::Coding, 3)], &ctx(seed, &seen, &weakness));
            assert_eq!(picks, vec![ids(&[3, 2, 1])]);
        }
    }

    #[test]
    fn an_unseen_question_from_any_team_comes_before_a_seen_one() {
        let bank = [
            question(1, RoundKind::Coding, &[Team::GenaiLlm], &[]),
            question(2, RoundKind::Coding, &[Team::CameraCv], &[]),
        ];
        let seen = HashMap::from([(Uuid::from_u128(1), day(3))]);
        let weakness = HashMap::new();
        for seed in 0..20 {
            let picks = select_questions(&bank, &[slot(RoundKind::Coding, 2)], &ctx(seed, &seen, &weakness));
            assert_eq!(picks, vec![ids(&[2, 1])]);
        }
    }

    #[test]
    fn when_every_fitting_question_was_seen_the_least_recently_seen_comes_first() {
        let bank = [coding(1), coding(2), coding(3)];
        let seen =
            HashMap::from([(Uuid::from_u128(1), day(20)), (Uuid::from_u128(2), day(5)), (Uuid::from_u128(3), day(12))]);
        let weakness = HashMap::new();
        for seed in 0..20 {
            let picks = select_questions(&bank, &[slot(RoundKind::Coding, 3)], &ctx(seed, &seen, &weakness));
            assert_eq!(picks, vec![ids(&[2, 3, 1])]);
        }
    }

    #[test]
    fn seen_questions_last_seen_together_are_ordered_by_team() {
        let bank = [question(1, RoundKind::Coding, &[Team::CameraCv], &[]), question(2, RoundKind::Coding, &[], &[])];
        let seen = HashMap::from([(Uuid::from_u128(1), day(5)), (Uuid::from_u128(2), day(5))]);
        let weakness = HashMap::new();
        let picks = select_questions(&bank, &[slot(RoundKind::Coding, 2)], &ctx(3, &seen, &weakness));
        assert_eq!(picks, vec![ids(&[2, 1])]);
    }

    #[test]
    fn the_same_seed_gives_the_same_picks_and_other_seeds_usually_differ() {
        let bank: Vec<CandidateQuestion> = (1..=12).map(coding).collect();
        let slots = [slot(RoundKind::Coding, 2), slot(RoundKind::Coding, 2)];
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        let first = select_questions(&bank, &slots, &ctx(42, &seen, &weakness));
        assert_eq!(select_questions(&bank, &slots, &ctx(42, &seen, &weakness)), first);

        let distinct: HashSet<Vec<Vec<Uuid>>> =
            (0..20).map(|seed| select_questions(&bank, &slots, &ctx(seed, &seen, &weakness))).collect();
        assert!(distinct.len() > 10, "only {} distinct selections from 20 seeds", distinct.len());
    }

    #[test]
    fn the_order_of_the_bank_does_not_change_the_picks() {
        let bank: Vec<CandidateQuestion> = (1..=12).map(coding).collect();
        let reversed: Vec<CandidateQuestion> = bank.iter().rev().cloned().collect();
        let slots = [slot(RoundKind::Coding, 3)];
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        for seed in 0..20 {
            assert_eq!(
                select_questions(&bank, &slots, &ctx(seed, &seen, &weakness)),
                select_questions(&reversed, &slots, &ctx(seed, &seen, &weakness))
            );
        }
    }

    #[test]
    fn questions_on_weak_tags_are_picked_more_often() {
        let bank = [
            question(1, RoundKind::Coding, &[], &["graphs"]),
            question(2, RoundKind::Coding, &[], &["strings"]),
            question(3, RoundKind::Coding, &[], &["heaps"]),
        ];
        let seen = HashMap::new();
        let weakness = HashMap::from([("graphs".to_string(), 1.0), ("heaps".to_string(), 0.0)]);
        let mut counts = [0; 3];
        for seed in 0..3_000 {
            let picks = select_questions(&bank, &[slot(RoundKind::Coding, 1)], &ctx(seed, &seen, &weakness));
            let first = picks[0][0].as_u128() as usize;
            counts[first - 1] += 1;
        }
        let [weak, neutral, strong] = counts;
        // Expected shares are 3 : 2 : 1, i.e. 1500, 1000 and 500 of 3000.
        assert!(weak > neutral * 13 / 10, "weak {weak}, neutral {neutral}");
        assert!(neutral > strong * 15 / 10, "neutral {neutral}, strong {strong}");
    }

    #[test]
    fn a_weight_is_one_plus_twice_the_mean_weakness_of_the_tags() {
        let weakness = HashMap::from([("a".to_string(), 1.0), ("b".to_string(), 0.0), ("odd".to_string(), f64::NAN)]);
        let weight = |tags: &[&str]| weight_millis(&question(1, RoundKind::Coding, &[], tags), &weakness);
        assert_eq!(weight(&["a"]), 3_000);
        assert_eq!(weight(&["b"]), 1_000);
        assert_eq!(weight(&["a", "b"]), 2_000);
        assert_eq!(weight(&["unknown"]), 2_000);
        assert_eq!(weight(&["odd"]), 2_000);
        assert_eq!(weight(&[]), 2_000);
    }

    #[test]
    fn a_loop_never_holds_two_questions_of_one_topic() {
        let domain = |n| question(n, RoundKind::Domain, &[], &[]);
        let seen_long_ago = HashMap::from([(Uuid::from_u128(7), day(1))]);
        let no_history = HashMap::new();
        // Each case: the bank, the slots, the history, and every outcome allowed (ids per slot).
        type Case<'a> =
            (&'a str, Vec<CandidateQuestion>, Vec<RoundSlot>, &'a HashMap<Uuid, DateTime<Utc>>, Vec<Vec<Vec<u128>>>);
        let cases: [Case; 5] = [
            (
                "across rounds of different kinds",
                vec![on_topic("a", coding(1)), on_topic("a", domain(2)), on_topic("b", domain(3))],
                vec![slot(RoundKind::Coding, 1), slot(RoundKind::Domain, 1)],
                &no_history,
                vec![vec![vec![1], vec![3]]],
            ),
            (
                "within one round",
                vec![on_topic("a", coding(1)), on_topic("a", coding(2)), on_topic("b", coding(3))],
                vec![slot(RoundKind::Coding, 2)],
                &no_history,
                vec![vec![vec![1, 3]], vec![vec![2, 3]], vec![vec![3, 1]], vec![vec![3, 2]]],
            ),
            (
                "a round that could be filled only by repeating a topic gets fewer questions",
                vec![on_topic("a", coding(1)), on_topic("a", coding(2)), on_topic("a", domain(3))],
                vec![slot(RoundKind::Coding, 2), slot(RoundKind::Domain, 1)],
                &no_history,
                vec![vec![vec![1], vec![]], vec![vec![2], vec![]]],
            ),
            (
                "before freshness and team: a seen question of a new topic, not an unseen one of a taken topic",
                vec![
                    on_topic("a", coding(1)),
                    on_topic("a", question(6, RoundKind::Domain, &[Team::GenaiLlm], &[])),
                    on_topic("b", domain(7)),
                ],
                vec![slot(RoundKind::Coding, 1), slot(RoundKind::Domain, 1)],
                &seen_long_ago,
                vec![vec![vec![1], vec![7]]],
            ),
            (
                "private questions' topics are their own slugs, so they never collide",
                vec![on_topic("my-1-pairs", coding(1)), on_topic("my-2-pairs", coding(2))],
                vec![slot(RoundKind::Coding, 2)],
                &no_history,
                vec![vec![vec![1, 2]], vec![vec![2, 1]]],
            ),
        ];
        let weakness = HashMap::new();
        for (name, bank, slots, seen, allowed) in cases {
            let allowed: Vec<Vec<Vec<Uuid>>> =
                allowed.iter().map(|outcome| outcome.iter().map(|slot| ids(slot)).collect()).collect();
            for seed in 0..20 {
                let picks = select_questions(&bank, &slots, &ctx(seed, seen, &weakness));
                assert!(allowed.contains(&picks), "{name}, seed {seed}: {picks:?}");
            }
        }
    }

    #[test]
    fn a_swap_follows_the_same_rules_against_the_rest_of_the_loop() {
        let (this_round, other_round) = (Uuid::from_u128(100), Uuid::from_u128(200));
        let held =
            |round, position, n, topic: &str| Held { round, position, id: Uuid::from_u128(n), topic: topic.into() };
        let loop_of_two = vec![held(this_round, 1, 1, "a"), held(other_round, 1, 2, "b")];
        let two_in_this_round = vec![held(this_round, 1, 1, "a"), held(this_round, 2, 8, "c")];
        // Each case: the bank, what the loop holds, and the question the swap brings in.
        type Case<'a> = (&'a str, Vec<CandidateQuestion>, &'a Vec<Held>, Option<u128>);
        let cases: [Case; 5] = [
            (
                "a new topic",
                vec![on_topic("a", coding(1)), on_topic("b", coding(6)), on_topic("c", coding(7))],
                &loop_of_two,
                Some(7),
            ),
            (
                "the outgoing question's topic may stay",
                vec![on_topic("a", coding(1)), on_topic("a", coding(5)), on_topic("b", coding(6))],
                &loop_of_two,
                Some(5),
            ),
            ("nothing else fits", vec![on_topic("a", coding(1)), on_topic("b", coding(6))], &loop_of_two, None),
            (
                "the other question of the same round keeps its topic",
                vec![on_topic("a", coding(1)), on_topic("c", coding(9)), on_topic("d", coding(10))],
                &two_in_this_round,
                Some(10),
            ),
            (
                "another question the loop holds is not picked again",
                vec![on_topic("a", coding(1)), on_topic("c", coding(8))],
                &two_in_this_round,
                None,
            ),
        ];
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        for (name, bank, held, expected) in cases {
            for seed in 0..20 {
                let swapped =
                    select_swap(&bank, &slot(RoundKind::Coding, 1), &ctx(seed, &seen, &weakness), held, this_round, 1);
                assert_eq!(swapped, expected.map(Uuid::from_u128), "{name}, seed {seed}");
            }
        }
    }

    #[test]
    fn a_swap_follows_the_ranking_and_skips_the_outgoing_question() {
        let bank = [
            question(1, RoundKind::Coding, &[Team::GenaiLlm], &[]),
            question(2, RoundKind::Coding, &[], &[]),
            question(3, RoundKind::Domain, &[Team::GenaiLlm], &[]),
        ];
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        let context = ctx(9, &seen, &weakness);
        let round = Uuid::from_u128(100);
        let holding = |n: u128| vec![Held { round, position: 1, id: Uuid::from_u128(n), topic: format!("topic-{n}") }];
        assert_eq!(
            select_swap(&bank, &slot(RoundKind::Coding, 1), &context, &holding(2), round, 1),
            Some(Uuid::from_u128(1))
        );
        assert_eq!(
            select_swap(&bank, &slot(RoundKind::Coding, 1), &context, &holding(1), round, 1),
            Some(Uuid::from_u128(2))
        );
        assert_eq!(select_swap(&[], &slot(RoundKind::Coding, 1), &context, &holding(1), round, 1), None);
    }

    #[test]
    fn a_tag_filter_keeps_a_round_to_its_part_of_the_pool_in_picks_and_swaps() {
        let bank = [
            question(1, RoundKind::Coding, &[], &["graphs"]),
            question(2, RoundKind::Coding, &[], &["ml-coding", "attention"]),
            question(3, RoundKind::Coding, &[], &["heaps"]),
            question(4, RoundKind::Coding, &[], &["ml-coding", "optimizers"]),
        ];
        let (seen, weakness) = (HashMap::new(), HashMap::new());
        let ml = RoundSlot { kind: RoundKind::Coding, filter: TagFilter::With("ml-coding".into()), questions: 1 };
        let algorithms =
            RoundSlot { kind: RoundKind::Coding, filter: TagFilter::Without("ml-coding".into()), questions: 1 };
        for seed in 0..50 {
            let picks = select_questions(&bank, &[algorithms.clone(), ml.clone()], &ctx(seed, &seen, &weakness));
            assert!([ids(&[1]), ids(&[3])].contains(&picks[0]), "seed {seed}: {picks:?}");
            assert!([ids(&[2]), ids(&[4])].contains(&picks[1]), "seed {seed}: {picks:?}");
            let round = Uuid::from_u128(90);
            let held = [Held { round, position: 1, id: picks[1][0], topic: "t".into() }];
            let swapped = select_swap(&bank, &ml, &ctx(seed, &seen, &weakness), &held, round, 1);
            assert!(swapped.is_some_and(|id| id != picks[1][0] && ids(&[2, 4]).contains(&id)), "seed {seed}");
        }
        // (filter, tags, admitted)
        let table = [
            (TagFilter::Any, vec![], true),
            (TagFilter::With("ml-coding".into()), vec!["ml-coding".to_owned()], true),
            (TagFilter::With("ml-coding".into()), vec!["graphs".to_owned()], false),
            (TagFilter::Without("ml-coding".into()), vec!["graphs".to_owned()], true),
            (TagFilter::Without("ml-coding".into()), vec!["ml-coding".to_owned()], false),
        ];
        for (filter, tags, admitted) in table {
            assert_eq!(filter.admits(&tags), admitted, "{filter:?} {tags:?}");
        }
    }

    #[test]
    fn the_generator_matches_the_published_splitmix64_sequence() {
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.below(0), 0);
        assert!((0..1_000).all(|_| rng.below(7) < 7));
    }
}
