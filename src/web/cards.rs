//! Scorecards as a reader sees them: grouped from their score lines, with
//! the rubric's anchors, and only those the reader may read (blind scoring).
//! Shared by feedback pages, their exports and the account export.

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

use crate::db::feedback::ScoreLine;
use crate::domain::blind_scoring::{CardRole, CardStatus, RoundStage};
use crate::domain::integrity::IntegrityFlag;
use crate::domain::scoring::{self, Coverage, CriterionScore, Recommendation, RoundScores};
use crate::domain::visibility::{self, Viewer};
use crate::domain::{Pillar, RoundKind};

/// One scorecard as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct CardView {
    pub round_position: i16,
    pub role: CardRole,
    pub role_label: &'static str,
    pub status: CardStatus,
    /// From an interviewer the candidate withdrew from the loop after they submitted it.
    pub withdrawn_interviewer: bool,
    pub recommendation: Option<Recommendation>,
    pub recommendation_label: &'static str,
    pub summary: String,
    pub strengths: String,
    pub areas_to_improve: String,
    /// Beside the scores, never part of them.
    pub integrity: IntegrityFlag,
    pub criteria: Vec<CriterionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CriterionView {
    pub name: String,
    pub pillar: Pillar,
    pub pillar_label: &'static str,
    pub score: Option<i16>,
    pub not_assessed: bool,
    /// What the given score looks like, from the rubric.
    pub anchor: String,
    /// What a 3 looks like: the next step for a lower score.
    pub next_anchor: Option<String>,
    pub evidence: String,
}

impl CardView {
    /// How many of the card's criteria were assessed, of how many.
    pub fn coverage(&self, kind: RoundKind) -> Coverage {
        scoring::coverage(&self.round_scores(kind))
    }

    /// The recommendation's spelling for the page's CSS class, "none" before there is one.
    pub fn recommendation_class(&self) -> &'static str {
        self.recommendation.map_or("none", Recommendation::as_str)
    }

    pub fn round_scores(&self, kind: RoundKind) -> RoundScores {
        RoundScores {
            round_position: self.round_position,
            kind,
            recommendation: self.recommendation,
            criteria: self
                .criteria
                .iter()
                .map(|c| CriterionScore { pillar: c.pillar, score: c.score.map(|s| s as u8) })
                .collect(),
        }
    }
}

/// How far each round's assessment has come, by round position.
pub fn round_stages(lines: &[ScoreLine]) -> BTreeMap<i16, RoundStage> {
    let mut stages: BTreeMap<i16, RoundStage> = BTreeMap::new();
    for line in lines {
        let stage = stages.entry(line.round_position).or_default();
        match line.role {
            CardRole::Interviewer => stage.interviewer = Some(line.status),
            CardRole::SelfAssessment => stage.self_assessment = Some(line.status),
        }
    }
    stages
}

/// Groups score lines into the scorecards `viewer` may read, as blind scoring rules
/// ([`visibility::may_read_card`]).
pub fn readable_cards(lines: &[ScoreLine], viewer: Uuid, candidate: Uuid) -> Vec<CardView> {
    let stages = round_stages(lines);
    let scored = lines.iter().any(|l| {
        l.author_id == Some(viewer)
            && l.role == CardRole::Interviewer
            && l.status == CardStatus::Submitted
            && !l.author_withdrawn
    });
    let mut cards: BTreeMap<(i16, CardRole), CardView> = BTreeMap::new();
    for line in lines {
        let role = line.role;
        let Some(stage) = stages.get(&line.round_position) else {
            continue;
        };
        if !visibility::may_read_card(Viewer::in_loop(viewer, candidate, line.interviewer_id, scored), role, *stage) {
            continue;
        }
        let card = cards.entry((line.round_position, role)).or_insert_with(|| CardView {
            round_position: line.round_position,
            role,
            role_label: match (role, line.author_id, line.author_withdrawn) {
                (CardRole::Interviewer, _, true) => "Withdrawn interviewer",
                (CardRole::Interviewer, None, _) => "Interviewer (deleted account)",
                _ => role.label(),
            },
            status: line.status,
            withdrawn_interviewer: line.author_withdrawn,
            recommendation: line.recommendation,
            recommendation_label: line.recommendation.map_or("—", Recommendation::label),
            summary: line.summary.clone(),
            strengths: line.strengths.clone(),
            areas_to_improve: line.areas_to_improve.clone(),
            integrity: IntegrityFlag { concerns: line.integrity_concerns.clone(), note: line.integrity_note.clone() },
            criteria: Vec::new(),
        });
        let anchor_for =
            |score: i16| line.anchors.get(usize::try_from(score - 1).unwrap_or(0)).cloned().unwrap_or_default();
        card.criteria.push(CriterionView {
            name: line.criterion_name.clone(),
            pillar: line.pillar,
            pillar_label: line.pillar.label(),
            score: line.score,
            not_assessed: line.not_assessed.unwrap_or(false) || line.score.is_none(),
            anchor: line.score.map(anchor_for).unwrap_or_default(),
            next_anchor: line.score.filter(|s| *s < 3).map(|_| anchor_for(3)),
            evidence: line.evidence.clone().unwrap_or_default(),
        });
    }
    cards.into_values().collect()
}
