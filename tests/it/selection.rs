//! Question selection over the real built-in bank: every shipped template, for
//! every team and level, over thousands of seeds and histories, fills every
//! round and never puts two questions of one topic into a loop, swaps included.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use mockloop::content::{self, ContentBundle, TemplateFile};
use mockloop::domain::selection::{
    CandidateQuestion, Held, RoundSlot, SelectionContext, select_questions, select_swap,
};
use mockloop::domain::{Level, Team};
use uuid::Uuid;

/// Seeds per template, team and level for fresh candidates.
const SEEDS: u64 = 30;
/// Loops in a row for one candidate, each question seen counting against it.
const LOOPS_IN_A_ROW: usize = 8;

/// The built-in bank as selection sees it, each question with a stable id.
fn shipped_bank() -> (ContentBundle, Vec<CandidateQuestion>) {
    let bundle = content::shipped().expect("the built-in content loads");
    let bank = bundle
        .questions
        .iter()
        .enumerate()
        .map(|(index, file)| CandidateQuestion {
            id: Uuid::from_u128(index as u128 + 1),
            kind: file.question.kind,
            teams: file.question.teams.clone(),
            levels: file.question.levels.clone(),
            tags: file.question.tags.clone(),
            topic: file.question.topic.clone(),
        })
        .collect();
    (bundle, bank)
}

fn slots(template: &TemplateFile) -> Vec<RoundSlot> {
    template
        .rounds
        .iter()
        .map(|r| RoundSlot { kind: r.kind, filter: r.filter.clone(), questions: r.questions as usize })
        .collect()
}

/// Every round got as many questions as it asked for, each of its kind and
/// tag filter, no question twice, no topic twice.
fn check_loop(
    bank: &HashMap<Uuid, &CandidateQuestion>,
    slots: &[RoundSlot],
    picks: &[Vec<Uuid>],
    case: &str,
) -> Result<(), String> {
    let mut topics: HashMap<&str, Uuid> = HashMap::new();
    for (index, (slot, ids)) in slots.iter().zip(picks).enumerate() {
        if ids.len() != slot.questions {
            return Err(format!(
                "{case}: round {} ({}) got {} of {} questions",
                index + 1,
                slot.kind,
                ids.len(),
                slot.questions
            ));
        }
        for id in ids {
            let question = bank[id];
            if question.kind != slot.kind || !slot.filter.admits(&question.tags) {
                return Err(format!(
                    "{case}: round {} ({} {:?}) got a {} question tagged {:?}",
                    index + 1,
                    slot.kind,
                    slot.filter,
                    question.kind,
                    question.tags
                ));
            }
            if let Some(other) = topics.insert(&question.topic, *id) {
                return Err(format!("{case}: topic `{}` twice ({other} and {id})", question.topic));
            }
        }
    }
    Ok(())
}

/// Each question of the loop swapped in turn: the swapped loop still holds no topic twice.
fn check_swaps(
    bank: &[CandidateQuestion],
    by_id: &HashMap<Uuid, &CandidateQuestion>,
    slots: &[RoundSlot],
    picks: &[Vec<Uuid>],
    ctx: &SelectionContext,
    case: &str,
) -> Result<(), String> {
    let rounds: Vec<Uuid> = (0..slots.len()).map(|index| Uuid::from_u128(1_000_000 + index as u128)).collect();
    let held: Vec<Held> = picks
        .iter()
        .zip(&rounds)
        .flat_map(|(ids, round)| {
            ids.iter().enumerate().map(|(index, id)| Held {
                round: *round,
                position: index as i16 + 1,
                id: *id,
                topic: by_id[id].topic.clone(),
            })
        })
        .collect();
    for outgoing in &held {
        let slot = rounds.iter().position(|round| *round == outgoing.round).map(|index| &slots[index]);
        let Some(slot) = slot else { continue };
        let Some(incoming) = select_swap(bank, slot, ctx, &held, outgoing.round, outgoing.position) else {
            continue;
        };
        if !slot.filter.admits(&by_id[&incoming].tags) {
            return Err(format!("{case}: a swap in a {:?} round brought in {incoming}", slot.filter));
        }
        let after: Vec<&str> = held
            .iter()
            .map(|q| if q == outgoing { by_id[&incoming].topic.as_str() } else { q.topic.as_str() })
            .collect();
        let distinct: HashSet<&str> = after.iter().copied().collect();
        if distinct.len() != after.len() || held.iter().any(|q| q.id == incoming) {
            return Err(format!("{case}: swapping {} for {incoming} repeats a topic or a question", outgoing.id));
        }
    }
    Ok(())
}

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().expect("valid") + Duration::days(n)
}

#[test]
fn every_shipped_template_fills_every_round_without_repeating_a_topic_for_any_team_level_and_seed() {
    let (bundle, bank) = shipped_bank();
    let by_id: HashMap<Uuid, &CandidateQuestion> = bank.iter().map(|q| (q.id, q)).collect();
    let no_weakness = HashMap::new();
    let mut failures = Vec::new();
    let mut loops = 0;
    for template in &bundle.templates {
        let slots = slots(template);
        for &team in Team::ALL {
            for &level in Level::ALL {
                // Fresh candidates, one loop each.
                let never_seen = HashMap::new();
                for seed in 0..SEEDS {
                    let ctx =
                        SelectionContext { team, level, seed, last_seen: &never_seen, tag_weakness: &no_weakness };
                    let picks = select_questions(&bank, &slots, &ctx);
                    loops += 1;
                    let case = format!("{} / {team} / {level} / seed {seed}", template.slug);
                    let checked = check_loop(&by_id, &slots, &picks, &case)
                        .and_then(|()| check_swaps(&bank, &by_id, &slots, &picks, &ctx, &case));
                    failures.extend(checked.err());
                }
                // One candidate taking loop after loop: what they had counts as seen.
                let mut last_seen: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
                for n in 0..LOOPS_IN_A_ROW {
                    let seed = 0x5EED_0000 + n as u64;
                    let ctx = SelectionContext { team, level, seed, last_seen: &last_seen, tag_weakness: &no_weakness };
                    let picks = select_questions(&bank, &slots, &ctx);
                    loops += 1;
                    let case = format!("{} / {team} / {level} / loop {} in a row", template.slug, n + 1);
                    failures.extend(check_loop(&by_id, &slots, &picks, &case).err());
                    last_seen.extend(picks.iter().flatten().map(|id| (*id, day(n as i64))));
                }
            }
        }
    }
    assert!(loops >= 5_000, "only {loops} loops generated");
    assert!(
        failures.is_empty(),
        "{} of {loops} loops broke a rule; the first ones:\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}
