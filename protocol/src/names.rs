//! Validation shared by the daemon (which enforces it) and clients (which can check early).

use unicode_normalization::UnicodeNormalization;

pub const TEAM_NAME_MAX_CHARS: usize = 64;

/// `text` in Unicode's NFC: how names are stored and looked up.
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// A team name as it will be stored: the text in NFC (so two spellings of `é` are one name),
/// then checked with [`validate_team_name`].
pub fn normalize_team_name(name: &str) -> Result<String, String> {
    let name = nfc(name);
    validate_team_name(&name)?;
    Ok(name)
}

/// A team name is 1 to 64 characters, not only spaces, with no leading or trailing space, never
/// starting with `#` (`#7` names the team with id 7 everywhere, so a name must never read as an
/// id), and with no control or invisible characters (zero-width, bidi controls, odd spaces): two
/// teams must never look the same on screen or on a command line.
pub fn validate_team_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a team name cannot be empty".into());
    }
    if name.trim() != name {
        return Err("a team name cannot start or end with a space".into());
    }
    if name.starts_with('#') {
        return Err("a team name cannot start with '#' (`#ID` names a team by its id)".into());
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
    if let Some(c) = name.chars().find(|&c| is_invisible(c)) {
        return Err(format!(
            "a team name cannot contain invisible or look-alike space characters (U+{:04X})",
            c as u32
        ));
    }
    Ok(())
}

/// Characters that draw nothing, or draw as a plain space, yet make a different name: Unicode's
/// format characters (Cf: zero-width space and joiners, bidi embeddings, overrides and isolates,
/// word joiner, BOM, tags), fillers that render blank, and every space but U+0020.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00A0 | 0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x1680 | 0x17B4 | 0x17B5
        | 0x180B..=0x180F
        | 0x2000..=0x200F // odd spaces, ZWSP, ZWNJ, ZWJ, LRM, RLM
        | 0x2028..=0x202F // line/paragraph separators, bidi embeddings and overrides, NNBSP
        | 0x205F..=0x206F // medium space, word joiner, invisible operators, bidi isolates
        | 0x2800 // braille blank
        | 0x3000 | 0x3164 | 0xFEFF | 0xFFA0
        | 0xFFF0..=0xFFFB
        | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF // tags and variation selectors supplement
    )
}

/// A GitHub login (user or organization): 1–39 letters, digits or inner hyphens.
pub fn validate_login(login: &str) -> Result<(), String> {
    let ok = (1..=39).contains(&login.len())
        && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !login.starts_with('-')
        && !login.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("'{login}' is not a valid GitHub login"))
    }
}

/// `owner/repo` by GitHub's rules: an owner of 1–39 letters, digits or inner hyphens; a repo of
/// 1–100 letters, digits, `.`, `-` or `_`, and not `.` or `..`. Names are data, never paths.
pub fn validate_repo_full_name(full_name: &str) -> Result<(), String> {
    let Some((owner, repo)) = full_name.split_once('/') else {
        return Err(format!("'{full_name}' is not of the form OWNER/REPO"));
    };
    if validate_login(owner).is_err() {
        return Err(format!("'{owner}' is not a valid GitHub owner name"));
    }
    let repo_ok = (1..=100).contains(&repo.len())
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && repo != "."
        && repo != "..";
    if !repo_ok {
        return Err(format!("'{repo}' is not a valid GitHub repository name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in [
            "platform",
            "Team Ünïcode ✓",
            "a",
            &"x".repeat(64),
            "équipe 🚀 日本",
            "a#b",
        ] {
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
            "#1",
            "#platform",
            "#",
            "zero\u{200B}width",
            "join\u{200D}er",
            "bidi\u{202E}override",
            "isolate\u{2066}x\u{2069}",
            "no\u{00A0}break",
            "soft\u{00AD}hyphen",
            "bom\u{FEFF}",
            "tag\u{E0041}",
            "ideographic\u{3000}space",
            "hangul\u{3164}filler",
        ] {
            assert!(validate_team_name(name).is_err(), "{name:?} was accepted");
        }
    }

    #[test]
    fn a_hash_name_is_refused_with_the_reason() {
        let reason = validate_team_name("#1").unwrap_err();
        assert!(reason.contains("'#'"), "{reason}");
    }

    #[test]
    fn normalizing_makes_two_spellings_one_name() {
        let composed = "\u{00E9}quipe";
        let decomposed = "e\u{0301}quipe";
        assert_ne!(composed, decomposed);
        assert_eq!(normalize_team_name(decomposed).unwrap(), composed);
        assert_eq!(normalize_team_name(composed).unwrap(), composed);
        assert!(normalize_team_name("#e\u{0301}").is_err());
    }
}
