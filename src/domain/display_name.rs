//! Display names: free text shown to peers, without the invisible characters
//! that could make it read as something else.

use super::username::Username;

pub const MAX_LENGTH: usize = 80;

/// A display name: trimmed, 1 to 80 characters, with no control characters,
/// bidirectional-text controls or zero-width characters (which can reorder
/// or hide what the name seems to say next to other text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// `Ok(None)` when the name is left empty (see [`DisplayName::for_username`]).
    pub fn parse(input: &str) -> Result<Option<Self>, &'static str> {
        let name = input.trim();
        if name.chars().count() > MAX_LENGTH {
            Err("Use at most 80 characters.")
        } else if has_invisible_control(name) {
            Err("Remove the invisible direction, zero-width or control characters from the name.")
        } else if name.is_empty() {
            Ok(None)
        } else {
            Ok(Some(DisplayName(name.to_owned())))
        }
    }

    /// The name of someone who gave none: their username as they typed it
    /// (`Ada`), or as stored when the typed form is not a fit name.
    pub fn for_username(typed: &str, username: &Username) -> DisplayName {
        DisplayName::parse(typed).ok().flatten().unwrap_or_else(|| DisplayName(username.as_str().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters, the bidirectional formatting characters, and the
/// zero-width and other invisible format characters; the zero-width joiner
/// only outside an emoji sequence (`👩🏽‍💻` is one picture joined by it).
fn has_invisible_control(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    chars.iter().enumerate().any(|(at, &c)| match c {
        ZERO_WIDTH_JOINER => {
            let before = at.checked_sub(1).and_then(|b| chars.get(b));
            !(before.is_some_and(|&b| is_pictograph(b)) && chars.get(at + 1).is_some_and(|&a| is_pictograph(a)))
        }
        c => is_invisible_control(c),
    })
}

const ZERO_WIDTH_JOINER: char = '\u{200D}';

fn is_invisible_control(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}'                  // Arabic letter mark
            | '\u{115F}' | '\u{1160}'   // Hangul fillers
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space, (non-)joiner, LRM, RLM
            | '\u{202A}'..='\u{202E}'   // LRE, RLE, PDF, LRO, RLO
            | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, LRI, RLI, FSI, PDI, deprecated
            | '\u{3164}'                // Hangul filler
            | '\u{FEFF}'                // zero-width no-break space
            | '\u{FFA0}'                // half-width Hangul filler
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tags
        )
}

/// Emoji and the marks that end one (skin tones are among the former, the
/// emoji variation selector the latter).
fn is_pictograph(c: char) -> bool {
    ('\u{1F000}'..='\u{1FAFF}').contains(&c) || ('\u{2600}'..='\u{27BF}').contains(&c) || c == '\u{FE0F}'
}

#[cfg(test)]
mod tests {
    use super::DisplayName;
    use crate::domain::username::Username;

    #[test]
    fn ordinary_names_in_any_script_are_kept() {
        for name in [
            "Ada L.",
            "Grace Hopper",
            "Зоя Космодемьянская",
            "李飞飞",
            "محمد",
            "José 🙂",
            "O'Neil-Smith",
            "Dev 👩🏽\u{200D}💻",
            "❤\u{FE0F}\u{200D}🔥 fan",
        ] {
            assert_eq!(DisplayName::parse(name).map(|n| n.map(|n| n.0)), Ok(Some(name.to_owned())), "{name:?}");
        }
        assert_eq!(DisplayName::parse("  "), Ok(None));
        let ada = Username::parse("Ada").expect("valid");
        assert_eq!(DisplayName::for_username(" Ada ", &ada).as_str(), "Ada");
        let wide = Username::parse("Ｇｒａｃｅ").expect("valid");
        assert_eq!(DisplayName::for_username("Ｇｒａｃｅ", &wide).as_str(), "Ｇｒａｃｅ");
    }

    #[test]
    fn direction_zero_width_and_control_characters_are_refused() {
        for name in [
            "admin\u{202E}nimda",
            "Ada\u{200B}",
            "A\u{200D}da",
            "🙂\u{200D}",
            "\u{200D}🙂",
            "a\u{200D}🙂",
            "\u{2066}Ada\u{2069}",
            "Ada\u{200F}",
            "Ada\u{061C}",
            "Ada\u{FEFF}",
            "Ada\u{2060}",
            "Ada\nLovelace",
            "Ada\u{7}",
            "Ada\u{E0041}",
            "\u{3164}",
        ] {
            assert!(DisplayName::parse(name).is_err(), "{name:?}");
        }
        assert!(DisplayName::parse(&"a".repeat(81)).is_err());
    }
}
