//! What the daemon panel and the guided GitHub setup hold, and the rules a pasted client id and
//! secret must pass before they are sent.

use tidemark_protocol::{GitHubAppReport, ReloadReport, SettingSource, TeamId};

use super::state::Loadable;
use crate::widgets::secret_input::SecretInput;
use crate::widgets::text_input::TextInput;

/// The daemon panel (`D` on the teams list). The daemon's facts live in `State::daemon_info`,
/// shared with the first screen and the setup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonPanel {
    /// Lines scrolled off the top: the panel can be taller than the terminal.
    pub scroll: usize,
    /// The last reload's outcome (`r`); `None` before the first. Errors come worded.
    pub reload: Option<Loadable<ReloadReport>>,
}

/// Where the guided GitHub setup stands. Esc goes back one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStep {
    /// What to register on GitHub, with the daemon's exact values.
    Register,
    ClientId,
    /// Optional: enter on an empty field goes on without one.
    Secret,
    /// `github_app_set` is out.
    Saving,
    /// Saved: where, what is in effect; then create a team or connect one.
    Saved(Box<GitHubAppReport>),
}

/// The "Set up GitHub" dialog. Its inputs survive every step and every error, so going back or
/// a refusal by the daemon never makes anyone paste again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupDialog {
    pub step: SetupStep,
    pub client_id: TextInput,
    pub secret: SecretInput,
    /// Why the input was refused, or why saving failed (shown on the step it came back to).
    pub error: Option<String>,
    /// Feedback on the last key (copied, opening the browser…).
    pub hint: Option<String>,
    /// The team whose connect attempt found GitHub not set up: the last step offers it.
    pub team: Option<(TeamId, String)>,
}

impl SetupDialog {
    pub fn new(client_id: Option<&str>, team: Option<(TeamId, String)>) -> Self {
        let mut input = TextInput::default();
        for c in client_id.unwrap_or_default().chars() {
            input.apply(crate::widgets::text_input::Edit::Insert(c));
        }
        SetupDialog {
            step: SetupStep::Register,
            client_id: input,
            secret: SecretInput::default(),
            error: None,
            hint: None,
            team,
        }
    }
}

/// A client id as GitHub shows it (`Ov23li…`, `Iv1.…`): trimmed, one word.
pub fn check_client_id(text: &str) -> Result<String, String> {
    let id = text.trim();
    if id.is_empty() {
        return Err("paste the client id from the app's page on GitHub; it cannot be empty".into());
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "a client id is one word, without spaces or control characters: paste it again".into(),
        );
    }
    Ok(id.to_string())
}

/// The client secret: `None` when left empty (the device flow needs none).
pub fn check_secret(text: &str) -> Result<Option<String>, String> {
    let secret = text.trim();
    if secret.is_empty() {
        return Ok(None);
    }
    if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "a client secret is one word, without spaces or control characters: paste it again"
                .into(),
        );
    }
    Ok(Some(secret.to_string()))
}

/// Where a setting that overrides the config file is set, in the words an operator acts on:
/// the environment variable or the flag the daemon reads.
pub fn override_origin(key: &str, source: SettingSource) -> String {
    match source {
        // The GitHub app's two settings are read without the TIDEMARK_ prefix (as GitHub's own
        // tools name them); every other one is TIDEMARK_ and the key.
        SettingSource::Environment => match key {
            "github_client_id" | "github_client_secret" => {
                format!("{} in the daemon's environment", key.to_uppercase())
            }
            _ => format!(
                "TIDEMARK_{} in the daemon's environment",
                key.to_uppercase()
            ),
        },
        SettingSource::CommandLine => {
            format!("--{} on the daemon's command line", key.replace('_', "-"))
        }
        SettingSource::ConfigFile => "the config file".into(),
        SettingSource::Default => "the default".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_id_is_trimmed_and_one_word() {
        assert_eq!(check_client_id("  Ov23liABC \n"), Ok("Ov23liABC".into()));
        assert!(
            check_client_id("   ")
                .unwrap_err()
                .contains("cannot be empty")
        );
        assert!(
            check_client_id("Ov23 liABC")
                .unwrap_err()
                .contains("one word")
        );
        assert!(
            check_client_id("Ov23\u{7}li")
                .unwrap_err()
                .contains("control")
        );
    }

    #[test]
    fn an_empty_secret_is_none_and_a_bad_one_is_refused_without_echo() {
        assert_eq!(check_secret(""), Ok(None));
        assert_eq!(check_secret("  "), Ok(None));
        assert_eq!(check_secret(" abc123 "), Ok(Some("abc123".into())));
        let err = check_secret("abc 123").unwrap_err();
        assert!(!err.contains("abc"), "{err}");
    }

    #[test]
    fn overrides_name_the_variable_or_flag() {
        assert_eq!(
            override_origin("github_client_id", SettingSource::Environment),
            "GITHUB_CLIENT_ID in the daemon's environment"
        );
        assert_eq!(
            override_origin("public_url", SettingSource::Environment),
            "TIDEMARK_PUBLIC_URL in the daemon's environment"
        );
        assert_eq!(
            override_origin("sync_interval_secs", SettingSource::CommandLine),
            "--sync-interval-secs on the daemon's command line"
        );
    }

    #[test]
    fn the_dialog_starts_on_the_first_step_with_a_known_id() {
        let dialog = SetupDialog::new(Some("Ov23liABC"), None);
        assert_eq!(dialog.step, SetupStep::Register);
        assert_eq!(dialog.client_id.value(), "Ov23liABC");
        assert_eq!(dialog.client_id.cursor(), 9);
    }
}
