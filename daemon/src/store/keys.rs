//! Key layout. Every key starts with an 8-byte big-endian team id, then a one-byte kind, then the
//! record's own id. Team id 0 is the global space (schema version, users, name index), so a
//! team's records are exactly the keys under its 8-byte prefix: a team is listed, counted and
//! deleted by one prefix scan, and no key of one team can sort inside another's range.

pub type TeamId = u64;

/// Team id of the global space; real team ids start at 1.
pub const GLOBAL: TeamId = 0;

/// One byte per kind of record. Never reuse a retired value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    // global space
    Meta = 0x01,
    User = 0x02,
    TeamName = 0x03,
    UserTeam = 0x04,
    // team space
    Team = 0x10,
    Membership = 0x11,
    Credential = 0x12,
    GitHubIntegration = 0x13,
    TrackedRepo = 0x14,
    TeamMember = 0x15,
    MemberByGithubId = 0x16,
    MemberByEmail = 0x17,
    PullRequest = 0x20,
    Review = 0x21,
    Commit = 0x22,
    /// Where a repository's pull-request sync stands (its checkpoint).
    SyncCursor = 0x23,
    /// What a pull request's record does not hold (GitHub's 250-commit cap was hit).
    PrExtra = 0x24,
    /// A verified webhook delivery, durable before it is acknowledged, until it is applied.
    Inbox = 0x25,
    /// A delivery id already received (deduplication across redeliveries and restarts).
    DeliverySeen = 0x26,
    /// A repository's webhook health: last ping, last delivery, counts.
    HookHealth = 0x27,
    /// The webhook secret before the last rotation, accepted until its grace period ends.
    PreviousWebhookSecret = 0x28,
    /// A tracked repository's GraphQL node id: how it is found again after a rename or a
    /// transfer (GitHub's REST description has no lookup by database id).
    RepoNode = 0x2a,
    /// The team's organization webhook (or why it has none): one per team.
    OrgHook = 0x29,
    /// Why a tracked repository has no webhook (GitHub refused to create it): one per
    /// repository at most, gone once its hook exists.
    HookProblem = 0x2d,
    /// A local user invited into the team, not a member until they accept: one per (team, uid).
    Invitation = 0x2b,
    /// A deployment from one of GitHub's signals: one per (repository, source, GitHub id).
    Deploy = 0x30,
    /// An issue that may be an incident (it has a label the team's rules name).
    Issue = 0x31,
    /// GitHub's compare of two commits: one per (repository, base, head).
    Compare = 0x32,
    /// The team's delivery rules: one per team.
    DeliverySettings = 0x33,
    /// Where a repository's delivery fetch stands: one per repository.
    DeliverySync = 0x34,
    /// The team's working agreements: one per team.
    AgreementSettings = 0x38,
    /// An agreement crossed: one per breach, by id.
    Breach = 0x39,
    /// The team's Slack workspace and channel: one per team.
    SlackLink = 0x3a,
    /// A daily Slack digest: one per local date.
    SlackDigest = 0x3b,
}

impl Kind {
    /// Every kind, for reading a kind byte back.
    pub const ALL: [Kind; 34] = [
        Kind::Meta,
        Kind::User,
        Kind::TeamName,
        Kind::UserTeam,
        Kind::Team,
        Kind::Membership,
        Kind::Credential,
        Kind::GitHubIntegration,
        Kind::TrackedRepo,
        Kind::TeamMember,
        Kind::MemberByGithubId,
        Kind::MemberByEmail,
        Kind::PullRequest,
        Kind::Review,
        Kind::Commit,
        Kind::SyncCursor,
        Kind::PrExtra,
        Kind::Inbox,
        Kind::DeliverySeen,
        Kind::HookHealth,
        Kind::PreviousWebhookSecret,
        Kind::RepoNode,
        Kind::OrgHook,
        Kind::HookProblem,
        Kind::Invitation,
        Kind::Deploy,
        Kind::Issue,
        Kind::Compare,
        Kind::DeliverySettings,
        Kind::DeliverySync,
        Kind::AgreementSettings,
        Kind::Breach,
        Kind::SlackLink,
        Kind::SlackDigest,
    ];

    pub fn from_byte(byte: u8) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| *k as u8 == byte)
    }

    /// Kept in the global space (team id 0); every other kind in a team's.
    pub fn is_global(self) -> bool {
        matches!(
            self,
            Kind::Meta | Kind::User | Kind::TeamName | Kind::UserTeam
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Meta => "meta",
            Kind::User => "user",
            Kind::TeamName => "team-name index",
            Kind::UserTeam => "user-team index",
            Kind::Team => "team",
            Kind::Membership => "membership",
            Kind::Credential => "integration credential",
            Kind::GitHubIntegration => "github integration",
            Kind::TrackedRepo => "tracked repository",
            Kind::TeamMember => "team member",
            Kind::MemberByGithubId => "member github-id index",
            Kind::MemberByEmail => "member email index",
            Kind::PullRequest => "pull request",
            Kind::Review => "pull request review",
            Kind::Commit => "commit",
            Kind::SyncCursor => "sync cursor",
            Kind::PrExtra => "pull request extra",
            Kind::Inbox => "webhook inbox entry",
            Kind::DeliverySeen => "webhook delivery id",
            Kind::HookHealth => "webhook health",
            Kind::PreviousWebhookSecret => "previous webhook secret",
            Kind::RepoNode => "repository node id",
            Kind::OrgHook => "organization hook",
            Kind::HookProblem => "webhook problem",
            Kind::Invitation => "invitation",
            Kind::Deploy => "deployment",
            Kind::Issue => "issue",
            Kind::Compare => "commit compare",
            Kind::DeliverySettings => "delivery settings",
            Kind::DeliverySync => "delivery sync state",
            Kind::AgreementSettings => "working agreements",
            Kind::Breach => "agreement breach",
            Kind::SlackLink => "slack link",
            Kind::SlackDigest => "slack digest",
        }
    }
}

/// Builds a key: team prefix, kind, then id parts.
pub struct Key(Vec<u8>);

impl Key {
    pub fn new(team: TeamId, kind: Kind) -> Key {
        let mut bytes = Vec::with_capacity(32);
        bytes.extend_from_slice(&team.to_be_bytes());
        bytes.push(kind as u8);
        Key(bytes)
    }

    pub fn global(kind: Kind) -> Key {
        Key::new(GLOBAL, kind)
    }

    pub fn u64(mut self, v: u64) -> Key {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u32(mut self, v: u32) -> Key {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u8(mut self, v: u8) -> Key {
        self.0.push(v);
        self
    }

    /// A variable-length part; only ever the last part of a key.
    pub fn bytes(mut self, v: &[u8]) -> Key {
        self.0.extend_from_slice(v);
        self
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The prefix of everything a team owns.
pub fn team_prefix(team: TeamId) -> [u8; 8] {
    team.to_be_bytes()
}

/// Read the big-endian u64 at `offset` of a key.
pub fn read_u64(key: &[u8], offset: usize) -> Option<u64> {
    key.get(offset..offset + 8)
        .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
}

/// Read the big-endian u32 at `offset` of a key.
pub fn read_u32(key: &[u8], offset: usize) -> Option<u32> {
    key.get(offset..offset + 4)
        .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
}

/// Offset of the first id part, after the team prefix and the kind byte.
pub const ID_OFFSET: usize = 9;
