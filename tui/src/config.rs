//! The TUI's config file, `$XDG_CONFIG_HOME/tidemark/config.toml` (else
//! `~/.config/tidemark/config.toml`): theme, default team and tab, and the pull request table's
//! columns. A missing file means the defaults; a bad one is an error that names the file, the
//! place and what is allowed, before the terminal is taken over.
//!
//! ```toml
//! theme = "dark"            # "dark" (default), "light" or "mono"
//! default_team = "platform" # opened at start
//! default_tab = "pulls"     # overview, repos, pulls, people, metrics, delivery
//!
//! [pull_requests]
//! columns = ["repo", "number", "title", "author", "state", "size", "cycle", "review"]
//! ```

use std::path::{Path, PathBuf};

use ratatui::style::Color;
use serde::Deserialize;

use crate::tabs::Tab;
use crate::tabs::pulls::PrColumn;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("bad config file {path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        message: String,
    },
}

/// Colours of the team screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Dark,
    Light,
    /// No colours at all (bold and reverse only).
    Mono,
}

impl Theme {
    pub fn accent(self) -> Color {
        match self {
            Theme::Dark => Color::Cyan,
            Theme::Light => Color::Blue,
            Theme::Mono => Color::Reset,
        }
    }

    pub fn second(self) -> Color {
        match self {
            Theme::Dark => Color::Magenta,
            Theme::Light => Color::Magenta,
            Theme::Mono => Color::Reset,
        }
    }

    pub fn good(self) -> Color {
        match self {
            Theme::Mono => Color::Reset,
            _ => Color::Green,
        }
    }

    pub fn warn(self) -> Color {
        match self {
            Theme::Mono => Color::Reset,
            _ => Color::Yellow,
        }
    }

    pub fn bad(self) -> Color {
        match self {
            Theme::Mono => Color::Reset,
            _ => Color::Red,
        }
    }

    /// What a colour drawn anywhere on screen becomes in this theme: the whole frame is passed
    /// through it, so views that name colours directly follow the theme too.
    pub fn remap(self, color: Color) -> Color {
        match (self, color) {
            (Theme::Dark, c) => c,
            (Theme::Mono, _) => Color::Reset,
            // On a light background: darker shades of the same hues.
            (Theme::Light, Color::Cyan | Color::LightCyan) => Color::Blue,
            (Theme::Light, Color::Yellow | Color::LightYellow) => Color::Rgb(150, 100, 0),
            (Theme::Light, Color::Green | Color::LightGreen) => Color::Rgb(0, 120, 0),
            (Theme::Light, Color::Gray | Color::White) => Color::DarkGray,
            (Theme::Light, c) => c,
        }
    }

    pub fn dim(self) -> Color {
        match self {
            Theme::Dark => Color::DarkGray,
            Theme::Light => Color::Gray,
            Theme::Mono => Color::Reset,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub theme: Theme,
    pub default_team: Option<String>,
    pub default_tab: Tab,
    pub columns: Vec<PrColumn>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            theme: Theme::default(),
            default_team: None,
            default_tab: Tab::default(),
            columns: PrColumn::DEFAULT.to_vec(),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<String>,
    default_team: Option<String>,
    default_tab: Option<String>,
    pull_requests: Option<RawPullRequests>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPullRequests {
    columns: Option<Vec<String>>,
}

/// Where the config file is looked for.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("tidemark").join("config.toml"))
}

/// Read the config file at `path`; a missing file gives the defaults.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parse the text of a config file; `path` is only for messages.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|err| ConfigError::Parse {
        path: path.to_path_buf(),
        message: err.to_string().trim_end().to_string(),
    })?;
    let invalid = |key, message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        key,
        message,
    };
    let mut config = Config::default();
    if let Some(theme) = raw.theme {
        config.theme = match theme.as_str() {
            "dark" => Theme::Dark,
            "light" => Theme::Light,
            "mono" => Theme::Mono,
            other => {
                return Err(invalid(
                    "theme",
                    format!("'{other}' is not a theme; use \"dark\", \"light\" or \"mono\""),
                ));
            }
        };
    }
    if let Some(team) = raw.default_team {
        if team.trim().is_empty() {
            return Err(invalid("default_team", "must not be empty".into()));
        }
        config.default_team = Some(team);
    }
    if let Some(tab) = raw.default_tab {
        config.default_tab = Tab::from_name(&tab).ok_or_else(|| {
            invalid(
                "default_tab",
                format!(
                    "'{tab}' is not a tab; use overview, repos, pulls, people, metrics or delivery"
                ),
            )
        })?;
    }
    if let Some(columns) = raw.pull_requests.and_then(|p| p.columns) {
        let allowed = PrColumn::ALL.map(PrColumn::name).join(", ");
        let mut parsed = Vec::new();
        for name in &columns {
            let column = PrColumn::from_name(name).ok_or_else(|| {
                invalid(
                    "pull_requests.columns",
                    format!("'{name}' is not a column; use {allowed}"),
                )
            })?;
            if parsed.contains(&column) {
                return Err(invalid(
                    "pull_requests.columns",
                    format!("'{name}' is listed twice"),
                ));
            }
            parsed.push(column);
        }
        if parsed.is_empty() {
            return Err(invalid(
                "pull_requests.columns",
                "name at least one column".into(),
            ));
        }
        config.columns = parsed;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Config, String> {
        parse(Path::new("/cfg/config.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_and_missing_files_give_the_defaults() {
        assert_eq!(parse_text("").unwrap(), Config::default());
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            load(&dir.path().join("none.toml")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn a_full_file_is_read() {
        let config = parse_text(
            "theme = \"mono\"\ndefault_team = \"platform\"\ndefault_tab = \"pulls\"\n\
             [pull_requests]\ncolumns = [\"title\", \"author\", \"cycle\"]\n",
        )
        .unwrap();
        assert_eq!(config.theme, Theme::Mono);
        assert_eq!(config.default_team.as_deref(), Some("platform"));
        assert_eq!(config.default_tab, Tab::Pulls);
        assert_eq!(
            config.columns,
            vec![PrColumn::Title, PrColumn::Author, PrColumn::Cycle]
        );
    }

    #[test]
    fn bad_files_say_where_and_what_is_allowed() {
        let err = parse_text("theme = \"neon\"").unwrap_err();
        assert!(
            err.contains("/cfg/config.toml") && err.contains("theme"),
            "{err}"
        );
        assert!(err.contains("\"dark\", \"light\" or \"mono\""), "{err}");

        let err = parse_text("[pull_requests]\ncolumns = [\"title\", \"colour\"]").unwrap_err();
        assert!(err.contains("'colour' is not a column"), "{err}");
        assert!(err.contains("repo, number, title"), "{err}");

        let err = parse_text("colour = 1").unwrap_err();
        assert!(
            err.contains("unknown field") && err.contains("colour"),
            "{err}"
        );

        // toml's message carries the line.
        let err = parse_text("theme = \"dark\"\ndefault_team = \n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");

        let err = parse_text("[pull_requests]\ncolumns = [\"title\", \"title\"]").unwrap_err();
        assert!(err.contains("listed twice"), "{err}");
    }
}
