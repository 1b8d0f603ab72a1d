//! Usernames: a handle or an email address, compared case-insensitively.

/// A validated username, trimmed and lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let name = input.trim().to_lowercase();
        let length = name.chars().count();
        if length < 3 {
            Err("Use at least 3 characters.")
        } else if length > 64 {
            Err("Use at most 64 characters.")
        } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err("Use no spaces.")
        } else if !name.chars().all(|c| c.is_alphanumeric() || "._-@+".contains(c)) {
            Err("Use letters, digits and . _ - @ + only.")
        } else {
            Ok(Username(name))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Username;

    #[test]
    fn handles_and_emails_are_accepted_and_lowercased() {
        assert_eq!(Username::parse(" Ada ").map(|u| u.0), Ok("ada".to_owned()));
        assert!(Username::parse("ada@example.com").is_ok());
    }

    #[test]
    fn short_spaced_or_odd_names_are_refused() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("ada lovelace").is_err());
        assert!(Username::parse("ada<script>").is_err());
    }
}
