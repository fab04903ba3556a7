//! Team members: the people measured. Matched from GitHub by github id first, then by email.

use super::keys::{Key, Kind, TeamId};
use super::records::TeamMember;
use super::{Result, Store, StoreError};

fn member_key(team: TeamId, id: u64) -> Key {
    Key::new(team, Kind::TeamMember).u64(id)
}

fn by_github_id_key(team: TeamId, github_id: u64) -> Key {
    Key::new(team, Kind::MemberByGithubId).u64(github_id)
}

fn by_email_key(team: TeamId, email: &str) -> Key {
    Key::new(team, Kind::MemberByEmail).bytes(email.trim().to_lowercase().as_bytes())
}

/// What GitHub tells us of a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberInput {
    pub github_id: Option<u64>,
    pub github_username: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub is_bot: bool,
}

/// Bots: GitHub's `[bot]` suffix.
pub fn looks_like_bot(login: &str) -> bool {
    login.ends_with("[bot]")
}

impl Store {
    /// Find the member this person is (github id first, then email), update what we learned, or
    /// create them. Returns the stored member.
    pub fn upsert_member(&self, team: TeamId, mut input: MemberInput) -> Result<TeamMember> {
        // A blank email is no email (else every blank one would share one index entry).
        input.email = input.email.map(|e| e.trim().to_string());
        if input.github_id.is_none() && input.email.as_deref().is_none_or(str::is_empty) {
            return Err(StoreError::Rejected {
                field: "team member",
                reason: "a member needs a GitHub id or an email".into(),
            });
        }
        let mut w = self.writer();
        if self.team(team)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{team}")));
        }
        let mut found = None;
        if let Some(gid) = input.github_id {
            found = self.get::<u64>(Kind::MemberByGithubId, by_github_id_key(team, gid))?;
        }
        if found.is_none()
            && let Some(email) = input.email.as_deref().filter(|e| !e.is_empty())
        {
            found = self.get::<u64>(Kind::MemberByEmail, by_email_key(team, email))?;
        }
        let existing = match found {
            Some(id) => self.member(team, id)?,
            None => None,
        };
        let is_bot = input.is_bot || input.github_username.as_deref().is_some_and(looks_like_bot);
        let member = match existing {
            Some(mut m) => {
                // An email-only member that now shows a GitHub id keeps it; a linked id never changes.
                if m.github_id.is_none() {
                    m.github_id = input.github_id;
                }
                if input.github_username.is_some() {
                    m.github_username = input.github_username;
                }
                if m.email.is_none() {
                    m.email = input.email.filter(|e| !e.is_empty());
                }
                if let Some(name) = input.display_name {
                    m.display_name = name;
                }
                m.is_bot |= is_bot;
                m.left_at = None;
                m
            }
            None => TeamMember {
                team_id: team,
                id: self.next_id()?,
                display_name: input
                    .display_name
                    .or_else(|| input.github_username.clone())
                    .or_else(|| input.email.clone())
                    .unwrap_or_default(),
                github_id: input.github_id,
                github_username: input.github_username,
                email: input.email.filter(|e| !e.is_empty()),
                is_bot,
                left_at: None,
            },
        };
        if let Some(gid) = member.github_id {
            w.put(by_github_id_key(team, gid), &member.id);
        }
        if let Some(email) = &member.email {
            w.put(by_email_key(team, email), &member.id);
        }
        w.put(member_key(team, member.id), &member);
        w.commit()?;
        Ok(member)
    }

    pub fn member(&self, team: TeamId, id: u64) -> Result<Option<TeamMember>> {
        self.get(Kind::TeamMember, member_key(team, id))
    }

    pub fn member_by_github_id(&self, team: TeamId, github_id: u64) -> Result<Option<TeamMember>> {
        match self.get::<u64>(Kind::MemberByGithubId, by_github_id_key(team, github_id))? {
            Some(id) => self.member(team, id),
            None => Ok(None),
        }
    }

    pub fn member_by_email(&self, team: TeamId, email: &str) -> Result<Option<TeamMember>> {
        match self.get::<u64>(Kind::MemberByEmail, by_email_key(team, email))? {
            Some(id) => self.member(team, id),
            None => Ok(None),
        }
    }

    pub fn members(&self, team: TeamId) -> Result<Vec<TeamMember>> {
        self.scan(Kind::TeamMember, Key::new(team, Kind::TeamMember))
    }

    /// Every member record (people who left and people known only by email included).
    pub fn count_members(&self, team: TeamId) -> Result<u64> {
        self.count(Key::new(team, Kind::TeamMember))
    }

    /// The team's GitHub organization members now: those who left (kept, marked) and people
    /// known only from commits are not counted.
    pub fn count_org_members(&self, team: TeamId) -> Result<u64> {
        Ok(self
            .members(team)?
            .iter()
            .filter(|m| m.left_at.is_none() && m.github_id.is_some())
            .count() as u64)
    }

    /// A member left the org: marked, never erased (their history still counts).
    pub fn mark_member_left(&self, team: TeamId, id: u64, at: i64) -> Result<TeamMember> {
        let mut w = self.writer();
        let mut m = self
            .member(team, id)?
            .ok_or_else(|| StoreError::NotFound(format!("team member {id}")))?;
        m.left_at = Some(at);
        w.put(member_key(team, id), &m);
        w.commit()?;
        Ok(m)
    }
}
