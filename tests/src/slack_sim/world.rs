//! The simulated workspace: team, app, users, channels with their messages, tokens and pending
//! OAuth codes. Plain data behind one mutex in [`super::Shared`]; the handlers keep the rules.

use serde::Serialize;
use serde_json::{Value, json};

/// A credential (token, client secret, OAuth code). Its `Debug` never shows the value, so a
/// world or config dumped into a test failure leaks nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The prefix (xoxb-, ...) says what kind it is without giving it away.
        let kind = self.0.split('-').next().filter(|p| p.len() <= 5);
        match kind {
            Some(k) if self.0.contains('-') => write!(f, "Secret({k}-…)"),
            _ => f.write_str("Secret(…)"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// `<domain>.slack.com`.
    pub domain: String,
}

/// The Slack app tidemark installs, and its bot user.
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub bot_user_id: String,
    pub bot_id: String,
    pub bot_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
}

/// One edit of a message: what it said before, and when it was changed.
#[derive(Debug, Clone, Serialize)]
pub struct Edit {
    pub previous_text: String,
    pub previous_blocks: Option<Value>,
    /// When the edit was made (a Slack ts).
    pub edited_ts: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Slack's id of a message within its channel: `seconds.micros`.
    pub ts: String,
    /// Author: the bot user for the app's posts.
    pub user: String,
    /// Set when the app posted it.
    pub bot_id: Option<String>,
    pub text: String,
    pub blocks: Option<Value>,
    /// Which token posted it ([`Token::id`]), None for a person's message.
    pub token_id: Option<u32>,
    /// Oldest first.
    pub edits: Vec<Edit>,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub created: i64,
    pub is_private: bool,
    pub archived: bool,
    /// The app's bot user is in the channel (Slack answers `not_in_channel` otherwise).
    pub bot_member: bool,
    pub topic: String,
    pub purpose: String,
    pub creator: String,
    /// Oldest first; ts strictly increasing.
    pub messages: Vec<Message>,
    /// Last ts handed out here, in microseconds, so the next one is later.
    pub last_ts: u64,
}

#[derive(Debug, Clone)]
pub struct Token {
    /// Stable handle for the token that is not the token itself.
    pub id: u32,
    pub value: Secret,
    pub scopes: Vec<String>,
    pub revoked: bool,
    /// The bot user was deactivated: `account_inactive`.
    pub inactive: bool,
}

impl Token {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// An authorization code from `/oauth/v2/authorize`, waiting for `oauth.v2.access`.
#[derive(Debug, Clone)]
pub struct Code {
    pub value: Secret,
    pub scopes: Vec<String>,
    /// Given on authorize: the exchange must name the same.
    pub redirect_uri: Option<String>,
    pub expires_at: i64,
    pub used: bool,
    pub installer: String,
}

#[derive(Debug, Clone)]
pub struct World {
    pub team: Team,
    pub app: App,
    /// People of the workspace; the first installs the app.
    pub users: Vec<User>,
    pub channels: Vec<Channel>,
    pub tokens: Vec<Token>,
    pub codes: Vec<Code>,
    /// False after an uninstall, until the next install.
    pub installed: bool,
    next_token_id: u32,
    next_channel: u32,
}

/// The default channels' names; more are `team-NNN`.
const NAMES: &[&str] = &[
    "general",
    "random",
    "eng",
    "releases",
    "deploys",
    "incidents",
    "metrics",
    "standup",
];

impl World {
    /// The generated workspace: `channels` public channels (the bot in each), `people` users,
    /// each channel with `human_messages` messages from them.
    pub fn generate(spec: &super::SlackConfig, now: i64) -> World {
        let app = App {
            id: "A0SIMAPP01".into(),
            client_id: spec.client_id.clone(),
            client_secret: Secret::new(spec.client_secret.clone()),
            bot_user_id: "U0SIMBOT01".into(),
            bot_id: "B0SIMBOT01".into(),
            bot_name: "tidemark".into(),
        };
        let users = (1..=spec.people.max(1))
            .map(|i| User {
                id: format!("U0{i:09}"),
                name: format!("person{i}"),
            })
            .collect();
        let mut w = World {
            team: Team {
                id: spec.team_id.clone(),
                name: spec.team_name.clone(),
                domain: spec.team_domain.clone(),
            },
            app,
            users,
            channels: Vec::new(),
            tokens: Vec::new(),
            codes: Vec::new(),
            installed: false,
            next_token_id: 1,
            next_channel: 1,
        };
        for i in 0..spec.channels {
            let name = NAMES
                .get(i)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("team-{i:03}"));
            // A year back, a day apart, so `created` differs.
            let created = now - 365 * 86_400 + i as i64 * 86_400;
            let id = w.add_channel(&name, false, true, created);
            for m in 0..spec.human_messages {
                let author = w.users[(i + m) % w.users.len()].id.clone();
                let text = format!("message {m} in #{name}");
                w.post(
                    &id,
                    author,
                    None,
                    text,
                    None,
                    None,
                    (created + 60) as u64 * 1_000_000,
                )
                .expect("the channel was just made");
            }
        }
        w
    }

    /// A new channel; its id.
    pub fn add_channel(&mut self, name: &str, private: bool, member: bool, created: i64) -> String {
        let prefix = if private { 'G' } else { 'C' };
        let id = format!("{prefix}0{:09}", self.next_channel);
        self.next_channel += 1;
        self.channels.push(Channel {
            id: id.clone(),
            name: name.to_string(),
            created,
            is_private: private,
            archived: false,
            bot_member: member,
            topic: String::new(),
            purpose: format!("#{name}"),
            creator: self.users[0].id.clone(),
            messages: Vec::new(),
            last_ts: 0,
        });
        id
    }

    /// A channel by id, `#name` or name.
    pub fn channel(&self, key: &str) -> Option<&Channel> {
        let name = key.strip_prefix('#');
        self.channels.iter().find(|c| match name {
            Some(n) => c.name == n,
            None => c.id == key || c.name == key,
        })
    }

    pub fn channel_mut(&mut self, key: &str) -> Option<&mut Channel> {
        let i = self
            .channels
            .iter()
            .position(|c| match key.strip_prefix('#') {
                Some(n) => c.name == n,
                None => c.id == key || c.name == key,
            })?;
        Some(&mut self.channels[i])
    }

    /// A new bot token with `scopes`; its value.
    pub fn mint_token(&mut self, value: String, scopes: Vec<String>) -> String {
        let id = self.next_token_id;
        self.next_token_id += 1;
        self.tokens.push(Token {
            id,
            value: Secret::new(value.clone()),
            scopes,
            revoked: false,
            inactive: false,
        });
        self.installed = true;
        value
    }

    pub fn token(&self, value: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.value.expose() == value)
    }

    /// Revoke one token (true if it was live).
    pub fn revoke(&mut self, value: &str) -> bool {
        match self.tokens.iter_mut().find(|t| t.value.expose() == value) {
            Some(t) if !t.revoked => {
                t.revoked = true;
                true
            }
            _ => false,
        }
    }

    /// The app is removed from the workspace: every token it had is revoked.
    pub fn uninstall(&mut self) -> usize {
        self.installed = false;
        let mut n = 0;
        for t in &mut self.tokens {
            if !t.revoked {
                t.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Store a message at a ts later than every other in the channel (at `at_micros` if that is
    /// later). Slack's ts is unique per channel and increasing; clients key on it.
    #[allow(clippy::too_many_arguments)]
    pub fn post(
        &mut self,
        channel: &str,
        user: String,
        bot_id: Option<String>,
        text: String,
        blocks: Option<Value>,
        token_id: Option<u32>,
        at_micros: u64,
    ) -> Option<&Message> {
        let c = self.channel_mut(channel)?;
        let micros = at_micros.max(c.last_ts + 1);
        c.last_ts = micros;
        c.messages.push(Message {
            ts: ts_string(micros),
            user,
            bot_id,
            text,
            blocks,
            token_id,
            edits: Vec::new(),
        });
        c.messages.last()
    }

    /// A channel as `conversations.list` shows it.
    pub fn channel_json(&self, c: &Channel) -> Value {
        json!({
            "id": c.id,
            "name": c.name,
            "is_channel": !c.is_private,
            "is_group": c.is_private,
            "is_im": false,
            "is_mpim": false,
            "is_private": c.is_private,
            "created": c.created,
            "is_archived": c.archived,
            "is_general": c.name == "general",
            "unlinked": 0,
            "name_normalized": c.name,
            "is_shared": false,
            "is_org_shared": false,
            "is_pending_ext_shared": false,
            "pending_shared": [],
            "context_team_id": self.team.id,
            "updated": c.created * 1000,
            "parent_conversation": null,
            "creator": c.creator,
            "is_ext_shared": false,
            "shared_team_ids": [self.team.id],
            "pending_connected_team_ids": [],
            "is_member": c.bot_member,
            "topic": {"value": c.topic, "creator": "", "last_set": 0},
            "purpose": {"value": c.purpose, "creator": c.creator, "last_set": c.created},
            "previous_names": [],
            "num_members": self.users.len() + usize::from(c.bot_member),
        })
    }

    /// A message as the API shows it (postMessage's `message`, history's `messages[]`).
    pub fn message_json(&self, m: &Message) -> Value {
        let mut v = json!({
            "type": "message",
            "user": m.user,
            "text": m.text,
            "ts": m.ts,
            "team": self.team.id,
        });
        if let Some(bot_id) = &m.bot_id {
            v["bot_id"] = json!(bot_id);
            v["app_id"] = json!(self.app.id);
            v["bot_profile"] = json!({
                "id": bot_id,
                "app_id": self.app.id,
                "name": self.app.bot_name,
                "deleted": false,
                "team_id": self.team.id,
            });
        }
        if let Some(b) = &m.blocks {
            v["blocks"] = b.clone();
        }
        if let Some(e) = m.edits.last() {
            v["edited"] = json!({"user": m.user, "ts": e.edited_ts});
        }
        v
    }
}

/// `1712345678.000200` from microseconds.
pub fn ts_string(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Microseconds from a Slack ts (`1712345678.0002` too: the fraction is padded).
pub fn parse_ts(ts: &str) -> Option<u64> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, ""));
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 6
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: u64 = secs.parse().ok()?;
    let frac: u64 = format!("{frac:0<6}").parse().ok()?;
    secs.checked_mul(1_000_000)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_round_trips_and_secrets_stay_hidden() {
        assert_eq!(ts_string(1_712_345_678_000_200), "1712345678.000200");
        assert_eq!(parse_ts("1712345678.000200"), Some(1_712_345_678_000_200));
        assert_eq!(parse_ts("1712345678.0002"), Some(1_712_345_678_000_200));
        assert_eq!(parse_ts("17x.1"), None);
        let s = Secret::new("xoxb-1-2-abcdef");
        assert_eq!(format!("{s:?}"), "Secret(xoxb-…)");
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
    }
}
