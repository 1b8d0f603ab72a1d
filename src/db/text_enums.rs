//! The domain's closed sets as PostgreSQL `text` columns (each with a CHECK
//! constraint naming the same spellings), and a question's difficulty as its
//! `smallint`: one place that says how they cross the database boundary, so
//! that `domain` stays free of sqlx.
//!
//! Decoding parses the spelling; one the type does not know is a decode error,
//! never a default, so a schema that grew a value the code has not learnt
//! fails loudly instead of being read as something else.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use crate::domain::blind_scoring::{CardRole, CardStatus};
use crate::domain::call::SignalKind;
use crate::domain::code_runs::RunOutcome;
use crate::domain::integrity::IntegrityConcern;
use crate::domain::peer_board::{NoticeKind, SlotStatus, SwapMode, SwapStatus};
use crate::domain::question::CodeLanguage;
use crate::domain::scoring::Recommendation;
use crate::domain::timer::{TimerAction, TimerState};
use crate::domain::{Difficulty, Level, LoopMode, LoopStatus, NoteKind, Pillar, RoundKind, ScoreSeries, Team};

/// `Type`, `PgHasArrayType`, `Decode` and `Encode` for `text_enum!` types, as `text`.
macro_rules! text_columns {
    ($($name:ident),+ $(,)?) => {$(
        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <String as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <String as Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $name {
            fn array_type_info() -> PgTypeInfo {
                <String as PgHasArrayType>::array_type_info()
            }

            fn array_compatible(ty: &PgTypeInfo) -> bool {
                <String as PgHasArrayType>::array_compatible(ty)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Postgres>>::decode(value)?;
                $name::parse(text).ok_or_else(|| unknown(stringify!($name), text))
            }
        }

        impl Encode<'_, Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode(self.as_str(), buf)
            }
        }
    )+};
}

text_columns!(
    CardRole,
    CardStatus,
    CodeLanguage,
    IntegrityConcern,
    RunOutcome,
    Level,
    LoopMode,
    LoopStatus,
    NoteKind,
    NoticeKind,
    Pillar,
    Recommendation,
    RoundKind,
    ScoreSeries,
    SignalKind,
    SlotStatus,
    SwapMode,
    SwapStatus,
    Team,
    TimerAction,
    TimerState,
);

/// A question's difficulty is a `smallint` from 1 to 3 (CHECK `questions_difficulty_range`).
impl Type<Postgres> for Difficulty {
    fn type_info() -> PgTypeInfo {
        <i16 as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <i16 as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Difficulty {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let number = <i16 as Decode<Postgres>>::decode(value)?;
        Difficulty::parse(i64::from(number)).ok_or_else(|| unknown("Difficulty", &number.to_string()))
    }
}

impl Encode<'_, Postgres> for Difficulty {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <i16 as Encode<Postgres>>::encode(i16::from(self.value()), buf)
    }
}

fn unknown(type_name: &str, text: &str) -> BoxDynError {
    format!("{type_name} has no value spelled {text:?}").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_is_text_and_reads_text_arrays() {
        let text = <String as Type<Postgres>>::type_info();
        let text_array = <String as PgHasArrayType>::array_type_info();
        assert_eq!(<TimerState as Type<Postgres>>::type_info(), text);
        assert!(<Team as Type<Postgres>>::compatible(&text));
        assert!(<Level as PgHasArrayType>::array_compatible(&text_array));
        assert!(!<Level as PgHasArrayType>::array_compatible(&text));
    }
}
