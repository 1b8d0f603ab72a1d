//! Pure domain types and rules: no HTTP, no SQL.

/// Declares a closed set of values stored as text (with a matching CHECK
/// constraint in the schema), with its database spelling and a human label.
/// The database layer decodes columns straight into these (`db::text_enums`):
/// a spelling `parse` does not know is an error there, never a default.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => ($text:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling used in the database, URLs and data files.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The name shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::invalid_value(serde::de::Unexpected::Str(&text), &stringify!($name))
                })
            }
        }
    };
}

// Declared after `text_enum!` so that submodules can use it.
pub mod account;
pub mod bank;
pub mod blind_scoring;
pub mod call;
pub mod code_runs;
pub mod display_name;
pub mod ics;
pub mod integrity;
pub mod markdown;
pub mod markers;
pub mod password;
pub mod peer_board;
pub mod progress;
pub mod question;
pub mod return_path;
pub mod schedule;
pub mod scorecard;
pub mod scoring;
pub mod selection;
pub mod sign_in_throttle;
pub mod sign_up_throttle;
pub mod timer;
pub mod timer_control;
pub mod username;
pub mod visibility;
pub mod whiteboard;

text_enum!(
    /// The kind of interview a round is.
    RoundKind {
        Coding => ("coding", "Coding & algorithms"),
        MlFundamentals => ("ml_fundamentals", "ML fundamentals"),
        MlSystemDesign => ("ml_system_design", "ML system design"),
        Domain => ("domain", "Domain deep dive"),
        Behavioral => ("behavioral", "Behavioral & resume deep dive"),
        HiringManager => ("hiring_manager", "Hiring manager"),
    }
);

text_enum!(
    /// The guide's four evaluation criteria; every rubric criterion maps to one.
    Pillar {
        TechnicalDepth => ("technical_depth", "Technical Depth & Fundamentals"),
        EngineeringExcellence => ("engineering_excellence", "Engineering Excellence & Scalability"),
        DomainExpertise => ("domain_expertise", "Domain Expertise & Curiosity"),
        CommunicationCulture => ("communication_culture", "Communication & Culture"),
    }
);

text_enum!(
    /// The team a loop (or question) is focused on.
    Team {
        SiriNlp => ("siri-nlp", "Siri / NLP"),
        CameraCv => ("camera-cv", "Camera / CV"),
        HealthTimeseries => ("health-timeseries", "Health AI / time series"),
        GenaiLlm => ("genai-llm", "GenAI / LLM"),
        InfraData => ("infra-data", "ML infra / data"),
        ServicesRecsys => ("services-recsys", "Services / recommendations"),
        CoremlOnDevice => ("coreml-on-device", "Core ML / on-device"),
    }
);

text_enum!(
    /// The candidate level a loop is pitched at.
    Level {
        JuniorMid => ("junior_mid", "Junior / mid"),
        SeniorStaff => ("senior_staff", "Senior / staff"),
    }
);

impl Level {
    /// Whether something limited to `levels` (a rubric criterion) applies at
    /// this level: none listed means every level.
    pub fn is_within(self, levels: &[Level]) -> bool {
        levels.is_empty() || levels.contains(&self)
    }
}

text_enum!(
    /// How a loop is run: alone against the clock, or with invited interviewers.
    LoopMode {
        Peer => ("peer", "Peer interview"),
        SelfTimed => ("self_timed", "Self-timed"),
    }
);

text_enum!(
    /// Where a loop is in its life.
    LoopStatus {
        Scheduled => ("scheduled", "Scheduled"),
        InProgress => ("in_progress", "In progress"),
        Completed => ("completed", "Completed"),
        Cancelled => ("cancelled", "Cancelled"),
    }
);

impl LoopStatus {
    /// Completed or cancelled: nothing about the loop moves any more.
    pub fn is_finished(self) -> bool {
        matches!(self, LoopStatus::Completed | LoopStatus::Cancelled)
    }
}

text_enum!(
    /// Whose note it is: the candidate's scratchpad (the interviewer watches
    /// it live) or an interviewer's private notes.
    NoteKind {
        Scratchpad => ("scratchpad", "Scratchpad"),
        Private => ("private", "Private notes"),
    }
);

impl NoteKind {
    /// The note a round's candidate writes.
    pub const BY_CANDIDATE: NoteKind = NoteKind::Scratchpad;
    /// The note a round's interviewer writes.
    pub const BY_INTERVIEWER: NoteKind = NoteKind::Private;

    /// The note `viewer` writes in a round: none for another round's interviewer.
    pub fn written_by(viewer: visibility::Viewer) -> Option<NoteKind> {
        match viewer {
            visibility::Viewer::Candidate => Some(NoteKind::BY_CANDIDATE),
            visibility::Viewer::RoundInterviewer => Some(NoteKind::BY_INTERVIEWER),
            visibility::Viewer::OtherInterviewer { .. } => None,
        }
    }
}

text_enum!(
    /// A series of the history charts' score points: per pillar, per round
    /// kind, or the self-assessment's gap to the interviewer's scores.
    ScoreSeries {
        Pillar => ("pillar", "Per pillar"),
        Kind => ("kind", "Per round kind"),
        Gap => ("gap", "Self-assessment gap"),
    }
);

/// How hard a question is, 1 (warm-up) to 3 (hard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difficulty(u8);

impl Difficulty {
    pub const ALL: [Difficulty; 3] = [Difficulty(1), Difficulty(2), Difficulty(3)];

    pub fn parse(value: i64) -> Option<Self> {
        (1..=3).contains(&value).then_some(Difficulty(value as u8))
    }

    pub fn value(self) -> u8 {
        self.0
    }

    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "Warm-up",
            2 => "Medium",
            _ => "Hard",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_levels_listed_means_every_level() {
        let cases: &[(&[Level], Level, bool)] = &[
            (&[], Level::JuniorMid, true),
            (&[], Level::SeniorStaff, true),
            (&[Level::SeniorStaff], Level::SeniorStaff, true),
            (&[Level::SeniorStaff], Level::JuniorMid, false),
            (&[Level::JuniorMid, Level::SeniorStaff], Level::JuniorMid, true),
        ];
        for (levels, level, within) in cases {
            assert_eq!(level.is_within(levels), *within, "{level:?} in {levels:?}");
        }
    }

    #[test]
    fn each_participant_writes_one_kind_of_note() {
        use visibility::Viewer;
        let cases = [
            (Viewer::Candidate, Some(NoteKind::Scratchpad)),
            (Viewer::RoundInterviewer, Some(NoteKind::Private)),
            (Viewer::OtherInterviewer { scored: false }, None),
            (Viewer::OtherInterviewer { scored: true }, None),
        ];
        for (viewer, kind) in cases {
            assert_eq!(NoteKind::written_by(viewer), kind, "{viewer:?}");
        }
    }

    #[test]
    fn every_enum_value_round_trips_through_its_text() {
        for kind in RoundKind::ALL {
            assert_eq!(RoundKind::parse(kind.as_str()), Some(*kind));
        }
        for pillar in Pillar::ALL {
            assert_eq!(Pillar::parse(pillar.as_str()), Some(*pillar));
        }
        for team in Team::ALL {
            assert_eq!(Team::parse(team.as_str()), Some(*team));
        }
        for mode in LoopMode::ALL {
            assert_eq!(LoopMode::parse(mode.as_str()), Some(*mode));
        }
        for status in LoopStatus::ALL {
            assert_eq!(LoopStatus::parse(status.as_str()), Some(*status));
        }
        for kind in NoteKind::ALL {
            assert_eq!(NoteKind::parse(kind.as_str()), Some(*kind));
        }
        for series in ScoreSeries::ALL {
            assert_eq!(ScoreSeries::parse(series.as_str()), Some(*series));
        }
        assert_eq!(RoundKind::parse("Coding"), None);
    }

    #[test]
    fn difficulty_accepts_one_to_three_only() {
        assert_eq!(Difficulty::parse(0), None);
        assert_eq!(Difficulty::parse(2).map(Difficulty::value), Some(2));
        assert_eq!(Difficulty::parse(4), None);
    }
}
