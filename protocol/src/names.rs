//! Validation shared by the daemon (which enforces it) and clients (which can check early).

pub const TEAM_NAME_MAX_CHARS: usize = 64;

/// A team name is 1 to 64 characters, not only spaces, with no control characters, and no leading
/// or trailing space (names are typed on command lines; invisible differences would confuse).
pub fn validate_team_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a team name cannot be empty".into());
    }
    if name.trim() != name {
        return Err("a team name cannot start or end with a space".into());
    }
    let chars = name.chars().count();
    if chars > TEAM_NAME_MAX_CHARS {
        return Err(format!(
            "a team name has at most {TEAM_NAME_MAX_CHARS} characters (this one has {chars})"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a team name cannot contain control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["platform", "Team Ünïcode ✓", "a", &"x".repeat(64)] {
            assert_eq!(validate_team_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn rejects_bad_names() {
        for name in [
            "",
            "   ",
            " lead",
            "trail ",
            "tab\there",
            "nl\n",
            &"x".repeat(65),
        ] {
            assert!(validate_team_name(name).is_err(), "{name:?} was accepted");
        }
    }
}
