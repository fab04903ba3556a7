//! Working-agreement records: the team's agreements, the breaches the evaluator found (each
//! with where its Slack message stands: the durable outbox), the team's Slack link (the token
//! itself is the team's `slack` credential) and the daily digests posted.

use super::keys::{Key, Kind, TeamId};
use super::{Result, Store, StoreError};
use serde::{Deserialize, Serialize};
use tidemark_protocol::agreements::{AgreementKind, Agreements};

/// A team's agreements, and from when breaches are recorded (history before is only counted
/// by adherence, never alerted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementSettings {
    pub team_id: TeamId,
    pub agreements: Agreements,
    pub effective_from: i64,
    pub updated_at: i64,
}

/// Where one Slack message stands. `Sending` is written before the message is sent, so a
/// daemon killed between the send and its record finds it and looks in the channel before
/// sending again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlackState {
    /// Not sent yet (no channel yet, or waiting its turn).
    Unsent,
    /// A post was started at `at` to `channel`; its answer was not recorded yet.
    Sending { channel: String, at: i64 },
    /// Posted as message `ts` in `channel`.
    Posted {
        channel: String,
        ts: String,
        at: i64,
    },
    /// Its resolution edited the message (chat.update: idempotent, so sent again freely).
    Updated {
        channel: String,
        ts: String,
        at: i64,
    },
    /// Not sent and never to be (e.g. older than the Slack link): why.
    NotSent { reason: String },
}

/// One agreement crossed by one pull request (for open-per-author, by one author, naming the
/// pull request that went beyond the limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachRecord {
    pub team_id: TeamId,
    pub id: u64,
    pub kind: AgreementKind,
    pub repo_id: u64,
    pub number: u64,
    pub author: String,
    /// The limit as worded when it began.
    pub limit: String,
    pub since: i64,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    /// Lines, approvals at merge, or open pull requests (0 for the timed agreements).
    pub measure: u64,
    pub slack: SlackState,
    pub created_at: i64,
}

/// A team's Slack workspace and channel (the bot token is its `slack` credential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlackLink {
    pub team_id: TeamId,
    pub workspace: String,
    pub workspace_id: String,
    pub bot_user_id: Option<String>,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    /// Why posting stopped until someone acts (the token was revoked: reconnect).
    pub problem: Option<String>,
    pub sent: u64,
    pub last_sent_at: Option<i64>,
    /// Breaches that began before this are never posted.
    pub connected_at: i64,
}

/// The daily digest of one local date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestRecord {
    pub team_id: TeamId,
    /// `YYYY-MM-DD` in the team's time zone.
    pub date: String,
    pub text: String,
    pub slack: SlackState,
}

fn settings_key(team: TeamId) -> Key {
    Key::new(team, Kind::AgreementSettings)
}

fn breach_key(team: TeamId, id: u64) -> Key {
    Key::new(team, Kind::Breach).u64(id)
}

fn slack_key(team: TeamId) -> Key {
    Key::new(team, Kind::SlackLink)
}

fn digest_key(team: TeamId, date: &str) -> Key {
    Key::new(team, Kind::SlackDigest).bytes(date.as_bytes())
}

impl Store {
    pub fn agreement_settings(&self, team: TeamId) -> Result<Option<AgreementSettings>> {
        self.get(Kind::AgreementSettings, settings_key(team))
    }

    pub fn set_agreement_settings(&self, settings: &AgreementSettings) -> Result<()> {
        let mut w = self.writer();
        if self.team(settings.team_id)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{}", settings.team_id)));
        }
        w.put(settings_key(settings.team_id), settings);
        w.commit()
    }

    /// Every breach of a team, oldest first (ids grow).
    pub fn breaches(&self, team: TeamId) -> Result<Vec<BreachRecord>> {
        self.scan(Kind::Breach, Key::new(team, Kind::Breach))
    }

    pub fn breach(&self, team: TeamId, id: u64) -> Result<Option<BreachRecord>> {
        self.get(Kind::Breach, breach_key(team, id))
    }

    /// A new breach's id.
    pub fn next_breach_id(&self) -> Result<u64> {
        self.next_id()
    }

    /// Write breaches as the evaluator found them (new or changed) in one step; none is written
    /// for a team that is gone. A stored breach keeps its Slack state: only the poster changes
    /// that ([`Store::set_breach_slack`]), so neither can undo the other's write.
    pub fn put_breaches(&self, team: TeamId, breaches: &[BreachRecord]) -> Result<()> {
        if breaches.is_empty() {
            return Ok(());
        }
        let mut w = self.writer();
        if self.team(team)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{team}")));
        }
        for b in breaches {
            let mut b = b.clone();
            if let Some(stored) = self.breach(team, b.id)? {
                b.slack = stored.slack;
            }
            w.put(breach_key(team, b.id), &b);
        }
        w.commit()
    }

    /// Change only a breach's Slack state (the poster's write); answers the breach as stored.
    pub fn set_breach_slack(
        &self,
        team: TeamId,
        id: u64,
        slack: SlackState,
    ) -> Result<Option<BreachRecord>> {
        let mut w = self.writer();
        let Some(mut b) = self.breach(team, id)? else {
            return Ok(None);
        };
        b.slack = slack;
        w.put(breach_key(team, id), &b);
        w.commit()?;
        Ok(Some(b))
    }

    pub fn slack_link(&self, team: TeamId) -> Result<Option<SlackLink>> {
        self.get(Kind::SlackLink, slack_key(team))
    }

    pub fn set_slack_link(&self, link: &SlackLink) -> Result<()> {
        let mut w = self.writer();
        if self.team(link.team_id)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{}", link.team_id)));
        }
        w.put(slack_key(link.team_id), link);
        w.commit()
    }

    /// Forget the Slack link, its credential and its digests in one step; breaches stay, their
    /// unsent messages marked as never to be sent.
    pub fn delete_slack(&self, team: TeamId) -> Result<()> {
        let mut w = self.writer();
        w.remove(slack_key(team));
        w.remove(super::integrations::credential_key(
            team,
            super::Provider::Slack,
        ));
        for key in self.scan_keys(Key::new(team, Kind::SlackDigest))? {
            w.remove(key);
        }
        for mut b in self.breaches(team)? {
            if matches!(b.slack, SlackState::Unsent | SlackState::Sending { .. }) {
                b.slack = SlackState::NotSent {
                    reason: "Slack was disconnected".into(),
                };
                w.put(breach_key(team, b.id), &b);
            }
        }
        w.commit()
    }

    pub fn digest(&self, team: TeamId, date: &str) -> Result<Option<DigestRecord>> {
        self.get(Kind::SlackDigest, digest_key(team, date))
    }

    pub fn put_digest(&self, digest: &DigestRecord) -> Result<()> {
        let mut w = self.writer();
        if self.team(digest.team_id)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{}", digest.team_id)));
        }
        w.put(digest_key(digest.team_id, &digest.date), digest);
        w.commit()
    }

    /// Digests not posted yet (a send interrupted, or Slack unreachable), oldest first.
    pub fn digests_waiting(&self, team: TeamId) -> Result<Vec<DigestRecord>> {
        Ok(self
            .scan::<DigestRecord>(Kind::SlackDigest, Key::new(team, Kind::SlackDigest))?
            .into_iter()
            .filter(|d| matches!(d.slack, SlackState::Unsent | SlackState::Sending { .. }))
            .collect())
    }

    /// Record one message sent for the team's link (its count and time).
    pub fn note_slack_sent(&self, team: TeamId, at: i64) -> Result<()> {
        let mut w = self.writer();
        if let Some(mut link) = self.slack_link(team)? {
            link.sent += 1;
            link.last_sent_at = Some(at);
            w.put(slack_key(team), &link);
        }
        w.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaches_and_the_slack_link_are_kept_and_disconnect_marks_unsent_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let team = store.create_team("platform", None).unwrap().id;
        let breach = |id, slack| BreachRecord {
            team_id: team,
            id,
            kind: AgreementKind::MaxSize,
            repo_id: 9,
            number: id,
            author: "ada".into(),
            limit: "at most 400 lines changed".into(),
            since: 100,
            resolved_at: None,
            resolution: None,
            measure: 500,
            slack,
            created_at: 100,
        };
        let posted = SlackState::Posted {
            channel: "C1".into(),
            ts: "1.000100".into(),
            at: 101,
        };
        let first = store.next_breach_id().unwrap();
        let second = store.next_breach_id().unwrap();
        assert!(second > first);
        store
            .put_breaches(
                team,
                &[
                    breach(first, SlackState::Unsent),
                    breach(second, posted.clone()),
                ],
            )
            .unwrap();
        assert_eq!(store.breaches(team).unwrap().len(), 2);
        store
            .set_slack_link(&SlackLink {
                team_id: team,
                workspace: "acme".into(),
                workspace_id: "T1".into(),
                bot_user_id: None,
                channel_id: Some("C1".into()),
                channel_name: Some("eng".into()),
                problem: None,
                sent: 0,
                last_sent_at: None,
                connected_at: 50,
            })
            .unwrap();
        store.note_slack_sent(team, 120).unwrap();
        // The evaluator's write keeps the poster's state, and the poster's keeps the rest.
        let mut resolved = breach(second, SlackState::Unsent);
        resolved.resolved_at = Some(150);
        store.put_breaches(team, &[resolved]).unwrap();
        let b = store.breach(team, second).unwrap().unwrap();
        assert_eq!((b.resolved_at, &b.slack), (Some(150), &posted));
        let b = store
            .set_breach_slack(team, second, posted.clone())
            .unwrap()
            .unwrap();
        assert_eq!(b.resolved_at, Some(150));
        assert_eq!(store.slack_link(team).unwrap().unwrap().sent, 1);
        store.delete_slack(team).unwrap();
        assert!(store.slack_link(team).unwrap().is_none());
        let after = store.breaches(team).unwrap();
        assert!(matches!(after[0].slack, SlackState::NotSent { .. }));
        assert_eq!(after[1].slack, posted);
        assert!(matches!(
            store.put_breaches(999, &[breach(first, SlackState::Unsent)]),
            Err(StoreError::NotFound(_))
        ));
    }
}
