//! Every setting tidemarkd takes: its config-file key, flag, environment variable, whether a
//! reload applies it, and what values it allows. One table, so the file, the flags, `--help`,
//! `tidemark daemon status` and the errors cannot disagree.

/// A setting. The config file's key is the flag's name with `_` for `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    GithubClientId,
    GithubClientSecret,
    GithubUrl,
    GithubApiUrl,
    OauthAddr,
    PublicUrl,
    WebhookAddr,
    MetricsAddr,
    SyncIntervalSecs,
    TokenCheckSecs,
    GithubSecondaryWaitSecs,
    WebhookBacklogMax,
    SocketGroup,
    SocketMode,
    SlackClientId,
    SlackClientSecret,
    SlackUrl,
}

impl Key {
    pub const ALL: [Key; 17] = [
        Key::GithubClientId,
        Key::GithubClientSecret,
        Key::GithubUrl,
        Key::GithubApiUrl,
        Key::OauthAddr,
        Key::PublicUrl,
        Key::WebhookAddr,
        Key::MetricsAddr,
        Key::SyncIntervalSecs,
        Key::TokenCheckSecs,
        Key::GithubSecondaryWaitSecs,
        Key::WebhookBacklogMax,
        Key::SocketGroup,
        Key::SocketMode,
        Key::SlackClientId,
        Key::SlackClientSecret,
        Key::SlackUrl,
    ];

    /// The config file's key.
    pub fn name(self) -> &'static str {
        match self {
            Key::GithubClientId => "github_client_id",
            Key::GithubClientSecret => "github_client_secret",
            Key::GithubUrl => "github_url",
            Key::GithubApiUrl => "github_api_url",
            Key::OauthAddr => "oauth_addr",
            Key::PublicUrl => "public_url",
            Key::WebhookAddr => "webhook_addr",
            Key::MetricsAddr => "metrics_addr",
            Key::SyncIntervalSecs => "sync_interval_secs",
            Key::TokenCheckSecs => "token_check_secs",
            Key::GithubSecondaryWaitSecs => "github_secondary_wait_secs",
            Key::WebhookBacklogMax => "webhook_backlog_max",
            Key::SocketGroup => "socket_group",
            Key::SocketMode => "socket_mode",
            Key::SlackClientId => "slack_client_id",
            Key::SlackClientSecret => "slack_client_secret",
            Key::SlackUrl => "slack_url",
        }
    }

    /// The flag (`--github-url`); the client secret has none (it would show in `ps`).
    pub fn flag(self) -> Option<String> {
        match self {
            Key::GithubClientSecret | Key::SlackClientSecret => None,
            k => Some(format!("--{}", k.name().replace('_', "-"))),
        }
    }

    pub fn env(self) -> &'static str {
        match self {
            Key::GithubClientId => "GITHUB_CLIENT_ID",
            Key::GithubClientSecret => "GITHUB_CLIENT_SECRET",
            Key::GithubUrl => "TIDEMARK_GITHUB_URL",
            Key::GithubApiUrl => "TIDEMARK_GITHUB_API_URL",
            Key::OauthAddr => "TIDEMARK_OAUTH_ADDR",
            Key::PublicUrl => "TIDEMARK_PUBLIC_URL",
            Key::WebhookAddr => "TIDEMARK_WEBHOOK_ADDR",
            Key::MetricsAddr => "TIDEMARK_METRICS_ADDR",
            Key::SyncIntervalSecs => "TIDEMARK_SYNC_INTERVAL_SECS",
            Key::TokenCheckSecs => "TIDEMARK_TOKEN_CHECK_SECS",
            Key::GithubSecondaryWaitSecs => "TIDEMARK_GITHUB_SECONDARY_WAIT_SECS",
            Key::WebhookBacklogMax => "TIDEMARK_WEBHOOK_BACKLOG_MAX",
            Key::SocketGroup => "TIDEMARK_SOCKET_GROUP",
            Key::SocketMode => "TIDEMARK_SOCKET_MODE",
            Key::SlackClientId => "SLACK_CLIENT_ID",
            Key::SlackClientSecret => "SLACK_CLIENT_SECRET",
            Key::SlackUrl => "TIDEMARK_SLACK_URL",
        }
    }

    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether a reload (SIGHUP, `tidemark daemon reload`) applies a new value. The listener
    /// address and the socket's access are fixed once bound: a restart applies them.
    pub fn reloadable(self) -> bool {
        !matches!(
            self,
            Key::WebhookAddr | Key::MetricsAddr | Key::SocketGroup | Key::SocketMode
        )
    }

    pub fn is_secret(self) -> bool {
        matches!(self, Key::GithubClientSecret | Key::SlackClientSecret)
    }

    /// The default, as shown (None: unset by default).
    pub fn default_text(self) -> Option<&'static str> {
        match self {
            Key::GithubUrl => Some("https://github.com"),
            Key::GithubApiUrl => Some("https://api.github.com"),
            Key::SlackUrl => Some("https://slack.com"),
            Key::WebhookAddr => Some("127.0.0.1:8787"),
            Key::SyncIntervalSecs => Some("21600"),
            Key::TokenCheckSecs => Some("60"),
            Key::GithubSecondaryWaitSecs => Some("60"),
            Key::WebhookBacklogMax => Some("10000"),
            _ => None,
        }
    }

    /// What the setting allows, for error messages and the template.
    pub fn allowed(self) -> &'static str {
        match self {
            Key::GithubClientId => {
                "the client id of a GitHub OAuth app (letters, digits, `.`, `_` or `-`, e.g. \
                 Ov23liAbCdEf12345678)"
            }
            Key::GithubClientSecret => "the OAuth app's client secret",
            Key::GithubUrl => {
                "an http(s) URL: https://github.com, or https://HOST for GitHub Enterprise Server"
            }
            Key::GithubApiUrl => {
                "an http(s) URL: https://api.github.com, or https://HOST/api/v3 for GitHub \
                 Enterprise Server"
            }
            Key::OauthAddr => "a loopback address with a port, e.g. 127.0.0.1:8765 or [::1]:8765",
            Key::PublicUrl => "an http(s) URL GitHub can reach, e.g. https://x.trycloudflare.com",
            Key::WebhookAddr => "an address with a port, e.g. 127.0.0.1:8787, or \"off\"",
            Key::MetricsAddr => {
                "\"off\", a port (bound on 127.0.0.1), or an address with a port, e.g. \
                 127.0.0.1:9464 (what it serves names teams and repositories: keep it off the \
                 internet)"
            }
            Key::SyncIntervalSecs | Key::TokenCheckSecs | Key::GithubSecondaryWaitSecs => {
                "a whole number of seconds, 1 or more"
            }
            Key::WebhookBacklogMax => {
                "a whole number of deliveries that may wait per team, 1 or more (beyond it new \
                 ones are answered 503 and the next sync covers them)"
            }
            Key::SocketGroup => "the name or number of a group",
            Key::SlackClientId => {
                "the client id of tidemark's Slack app (digits and a dot, e.g. 1234567890.0987654321)"
            }
            Key::SlackClientSecret => "the Slack app's client secret",
            Key::SlackUrl => "an http(s) URL: https://slack.com (its OAuth pages and Web API)",
            Key::SocketMode => {
                "\"0600\" (owner only) or \"0660\" (owner and socket_group); others never get access"
            }
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_flags_follow_them() {
        for key in Key::ALL {
            assert_eq!(Key::from_name(key.name()), Some(key));
            if let Some(flag) = key.flag() {
                assert_eq!(flag.trim_start_matches("--").replace('-', "_"), key.name());
            }
        }
        assert_eq!(
            Key::GithubClientSecret.flag(),
            None,
            "never on a command line"
        );
    }
}
