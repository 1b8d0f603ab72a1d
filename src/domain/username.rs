//! Usernames: a handle or an email address, in one character set, compared
//! case-insensitively and by how they look.
//!
//! The character set: after Unicode NFKC normalisation and lower-casing, a
//! username is 3 to 64 of `a`–`z`, `0`–`9` and `. _ - @ +`. NFKC turns
//! full-width and other compatibility forms (`Ａｄａ`, `ﬁ`) into these; any
//! other letter (Cyrillic `а`, Greek `ο`, …) is refused, so a look-alike
//! from another script cannot be registered at all. Within the set, names
//! that differ only in characters easily mistaken for one another (`0`/`o`,
//! `1`/`l`/`i`, `rn`/`m`, `vv`/`w`) share a [skeleton](Username::skeleton),
//! and a new name whose skeleton is taken is refused.

use unicode_normalization::UnicodeNormalization;

pub const MIN_LENGTH: usize = 3;
pub const MAX_LENGTH: usize = 64;

/// A validated username: NFKC-normalised, lower-cased, in the character set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let name = normalise(input);
        let length = name.chars().count();
        if length < MIN_LENGTH {
            Err("Use at least 3 characters.")
        } else if length > MAX_LENGTH {
            Err("Use at most 64 characters.")
        } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err("Use no spaces.")
        } else if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@+".contains(c)) {
            Err("Use the letters a–z, digits and . _ - @ + only.")
        } else {
            Ok(Username(name))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as it looks: characters easily mistaken for one another
    /// replaced by one of them. Two names with the same skeleton are one
    /// name to a reader.
    pub fn skeleton(&self) -> String {
        let merged = self.0.replace("rn", "m").replace("vv", "w");
        merged
            .chars()
            .map(|c| match c {
                '0' => 'o',
                '1' | 'i' => 'l',
                other => other,
            })
            .collect()
    }
}

/// What sign-in looks an account up by: the same normalisation as sign-up,
/// without refusing anything (an unknown name simply matches no account).
pub fn normalise(input: &str) -> String {
    input.trim().nfkc().collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::Username;

    fn parsed(input: &str) -> Result<String, &'static str> {
        Username::parse(input).map(|u| u.0)
    }

    #[test]
    fn handles_and_emails_are_accepted_lowercased_and_normalised() {
        for (input, stored) in [
            (" Ada ", "ada"),
            ("ada@example.com", "ada@example.com"),
            ("Ｇｒａｃｅ", "grace"),
            ("ﬁona", "fiona"),
            ("ADA.L_1-x+y", "ada.l_1-x+y"),
            ("x\u{2024}y", "x.y"),
        ] {
            assert_eq!(parsed(input).as_deref(), Ok(stored), "{input:?}");
        }
    }

    #[test]
    fn short_spaced_odd_or_other_script_names_are_refused() {
        for (input, message) in [
            ("ab", "Use at least 3 characters."),
            ("ada lovelace", "Use no spaces."),
            ("ada\u{200b}x", "Use the letters a–z, digits and . _ - @ + only."),
            ("ada<script>", "Use the letters a–z, digits and . _ - @ + only."),
            ("аdа", "Use the letters a–z, digits and . _ - @ + only."),
            ("οscar", "Use the letters a–z, digits and . _ - @ + only."),
            ("josé", "Use the letters a–z, digits and . _ - @ + only."),
            ("ada\u{202e}x", "Use the letters a–z, digits and . _ - @ + only."),
        ] {
            assert_eq!(parsed(input), Err(message), "{input:?}");
        }
        assert!(parsed(&"a".repeat(65)).is_err());
    }

    #[test]
    fn look_alike_names_share_a_skeleton_and_different_names_do_not() {
        let skeleton = |name: &str| Username::parse(name).expect("valid").skeleton();
        for (a, b) in [
            ("admin", "adrnin"),
            ("bob0", "bobo"),
            ("l1nus", "linus"),
            ("LINUS", "l1nus"),
            ("wendy", "vvendy"),
            ("ｍartin", "rnartin"),
        ] {
            assert_eq!(skeleton(a), skeleton(b), "{a} and {b} look alike");
        }
        for (a, b) in [("ada", "adb"), ("ada.l", "ada_l"), ("sam", "sarn1")] {
            assert_ne!(skeleton(a), skeleton(b), "{a} and {b} look different");
        }
    }
}
