//! The on-disk schema version and the upgrades between versions.
//!
//! History:
//! - v1: teams had no name index (names were found by scanning) and a credential's scopes were
//!   kept as GitHub sends them in `X-OAuth-Scopes`, one comma-separated string.
//! - v2: a global team-name index (unique, case-insensitive names) and scopes as a list.
//! - v3: webhook inbox entries keep their body in the spool (`spool.rs`); a v2 entry's body
//!   stays inline, re-encoded as `StoredBody::Inline`.
//! - v4: team names are no longer unique on the daemon (only among one user's teams, so that a
//!   taken name tells nobody another user's team exists): the name index holds (name, id).
//! - v5: the webhook inbox is the spool alone (which deliveries wait is rebuilt from it on
//!   open), and a `DeliverySeen` record means applied, no longer received. The inbox records a
//!   v4 store holds are moved into the spool, and their `DeliverySeen` removed, by
//!   `Store::load_inbox` on every open (a backup's waiting deliveries arrive the same way);
//!   the upgrade itself only bumps the version.
//! - v6: two record kinds an older daemon does not know: a tracked repository's GraphQL node id
//!   (`RepoNode`, learned at the next sync) and a team's organization hook (`OrgHook`). Nothing
//!   to convert: the bump is there so that an older tidemarkd refuses such a store (and its
//!   backups) with a clear message instead of calling the records corrupt.
//! - v7: a pull request's record holds who merged it (`merged_by_login`, `merged_by_github_id`:
//!   GitHub's `mergedBy`, which is not the author). Each stored pull request is re-encoded with
//!   both unknown (None), and each repository's sync checkpoint is set back to the start of a
//!   first walk (its `updated_at` kept), so the next sync reads every pull request again and
//!   learns who merged it; until then the details say "merged" without a name.
//!
//! - v8: two kinds a v7 tidemarkd does not know (`Invitation`, `HookProblem`); nothing converted.
//! - v9: a pull request's record holds its merge commit, base and head branches and labels
//!   (what delivery metrics link deployments, reverts and hotfixes by), and five delivery
//!   kinds appear (`Deploy`, `Issue`, `Compare`, `DeliverySettings`, `DeliverySync`). Each
//!   stored pull request is re-encoded with those unknown and each checkpoint set back to a
//!   first walk, as for v7, so the next sync reads them.
//! - v10: four kinds a v9 tidemarkd does not know (`AgreementSettings`, `Breach`, `SlackLink`,
//!   `SlackDigest`); nothing converted.
//!
//! An upgrade runs as one batch together with the version bump, so a crash during it leaves the
//! old version, intact, and the next start upgrades again.

use super::keys::{ID_OFFSET, Key, Kind, TeamId};
use super::records::{
    InboxEntry, InboxRecord, IntegrationCredential, PrState, Provider, PullRequest, StoredBody,
    SyncCursor, Team,
};
use super::{Result, Store, StoreError, decode};
use crate::crypto::Ciphertext;
use serde::{Deserialize, Serialize};

pub const CURRENT_SCHEMA: u32 = 10;

const VERSION_NAME: &[u8] = b"schema_version";

pub(crate) fn version_key() -> Key {
    Key::global(Kind::Meta).bytes(VERSION_NAME)
}

pub(super) fn check_and_upgrade(store: &Store) -> Result<()> {
    let raw = store.raw();
    let found = match raw.get(version_key())? {
        Some(bytes) => {
            u32::from_be_bytes(bytes.as_ref().try_into().map_err(|_| StoreError::NotOurs {
                path: store.path().to_path_buf(),
                reason: "its schema version is not a 4-byte number".into(),
            })?)
        }
        None if raw.is_empty() => {
            raw.insert(version_key(), &CURRENT_SCHEMA.to_be_bytes())?;
            raw.flush()?;
            return Ok(());
        }
        None => {
            return Err(StoreError::NotOurs {
                path: store.path().to_path_buf(),
                reason: "it has data but no schema version".into(),
            });
        }
    };
    if found > CURRENT_SCHEMA {
        return Err(StoreError::TooNew {
            path: store.path().to_path_buf(),
            found,
            supported: CURRENT_SCHEMA,
        });
    }
    let mut version = found;
    while version < CURRENT_SCHEMA {
        match version {
            1 => upgrade_v1_to_v2(store)?,
            2 => upgrade_v2_to_v3(store)?,
            3 => upgrade_v3_to_v4(store)?,
            4 => upgrade_v4_to_v5(store)?,
            5 => upgrade_v5_to_v6(store)?,
            6 => upgrade_v6_to_v7(store)?,
            7 => upgrade_v7_to_v8(store)?,
            8 => upgrade_v8_to_v9(store)?,
            9 => upgrade_v9_to_v10(store)?,
            other => {
                return Err(StoreError::NotOurs {
                    path: store.path().to_path_buf(),
                    reason: format!("unknown schema version {other}"),
                });
            }
        }
        version += 1;
        tracing::info!(
            from = version - 1,
            to = version,
            "upgraded the store schema"
        );
    }
    raw.flush()?;
    Ok(())
}

/// v2–v3 name index key: names were unique regardless of case.
pub(crate) fn team_name_key(name: &str) -> Key {
    Key::global(Kind::TeamName).bytes(name.to_lowercase().as_bytes())
}

/// Name index key (v4): every team under its lower-cased name, then its id. A name cannot hold
/// NUL (no control characters), so the prefix of one name never matches another.
pub(crate) fn team_name_prefix(name: &str) -> Key {
    Key::global(Kind::TeamName)
        .bytes(name.to_lowercase().as_bytes())
        .u8(0)
}

pub(crate) fn team_name_entry_key(name: &str, id: TeamId) -> Key {
    team_name_prefix(name).u64(id)
}

/// v1's credential: scopes as one comma-separated string.
#[derive(Serialize, Deserialize)]
pub(crate) struct CredentialV1 {
    pub team_id: TeamId,
    pub provider: Provider,
    pub access_token: Ciphertext,
    pub refresh_token: Option<Ciphertext>,
    pub token_expires_at: Option<i64>,
    pub scopes: String,
    pub connected_by: Option<u32>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn upgrade_v1_to_v2(store: &Store) -> Result<()> {
    let mut w = store.writer();
    // Every name a v1 team has, so a clash's new name never takes another team's name.
    let mut originals = std::collections::HashSet::new();
    for item in store.raw().iter() {
        let (key, value) = item?;
        if key.len() >= ID_OFFSET && key[..8] != [0; 8] && key[8] == Kind::Team as u8 {
            originals.insert(decode::<Team>(Kind::Team, &value)?.name.to_lowercase());
        }
    }
    let mut names = std::collections::HashSet::new();
    for item in store.raw().iter() {
        let (key, value) = item?;
        if key.len() < ID_OFFSET || key[..8] == [0; 8] {
            continue;
        }
        match key[8] {
            k if k == Kind::Team as u8 => {
                let team: Team = decode(Kind::Team, &value)?;
                if !names.insert(team.name.to_lowercase()) {
                    // v1 allowed names differing only in case; keep both, make the later unique.
                    let mut renamed = format!("{} ({})", team.name, team.id);
                    let mut n = 2;
                    while originals.contains(&renamed.to_lowercase())
                        || !names.insert(renamed.to_lowercase())
                    {
                        renamed = format!("{} ({} #{n})", team.name, team.id);
                        n += 1;
                    }
                    tracing::warn!(team = team.id, name = %renamed, "renamed a team whose name clashed");
                    w.put(
                        Key::new(team.id, Kind::Team),
                        &Team {
                            name: renamed.clone(),
                            ..team.clone()
                        },
                    );
                    w.put(team_name_key(&renamed), &team.id);
                } else {
                    w.put(team_name_key(&team.name), &team.id);
                }
            }
            k if k == Kind::Credential as u8 => {
                let old: CredentialV1 = decode(Kind::Credential, &value)?;
                let new = IntegrationCredential {
                    team_id: old.team_id,
                    provider: old.provider,
                    access_token: old.access_token,
                    refresh_token: old.refresh_token,
                    token_expires_at: old.token_expires_at,
                    scopes: split_scopes(&old.scopes),
                    connected_by: old.connected_by,
                    created_at: old.created_at,
                    updated_at: old.updated_at,
                };
                w.put(&key, &new);
            }
            _ => {}
        }
    }
    w.put_raw(version_key(), &2u32.to_be_bytes());
    w.commit()
}

fn upgrade_v2_to_v3(store: &Store) -> Result<()> {
    let mut w = store.writer();
    for item in store.raw().iter() {
        let (key, value) = item?;
        if key.len() < ID_OFFSET || key[..8] == [0; 8] || key[8] != Kind::Inbox as u8 {
            continue;
        }
        let old: InboxEntry = decode(Kind::Inbox, &value)?;
        let new = InboxRecord {
            team_id: old.team_id,
            seq: old.seq,
            guid: old.guid,
            event: old.event,
            hook_id: old.hook_id,
            repo_id: old.repo_id,
            received_at: old.received_at,
            body: StoredBody::Inline(old.body),
        };
        w.put(&key, &new);
    }
    w.put_raw(version_key(), &3u32.to_be_bytes());
    w.commit()
}

fn upgrade_v3_to_v4(store: &Store) -> Result<()> {
    let mut w = store.writer();
    for item in store.raw().scan_prefix(Key::global(Kind::TeamName)) {
        let (key, value) = item?;
        let id: TeamId = decode(Kind::TeamName, &value)?;
        let Some(team) = store.team(id)? else {
            w.remove(&key);
            continue;
        };
        w.remove(&key);
        w.put(team_name_entry_key(&team.name, id), &id);
    }
    w.put_raw(version_key(), &4u32.to_be_bytes());
    w.commit()
}

fn upgrade_v4_to_v5(store: &Store) -> Result<()> {
    let mut w = store.writer();
    w.put_raw(version_key(), &5u32.to_be_bytes());
    w.commit()
}

fn upgrade_v9_to_v10(store: &Store) -> Result<()> {
    let mut w = store.writer();
    w.put_raw(version_key(), &10u32.to_be_bytes());
    w.commit()
}

fn upgrade_v5_to_v6(store: &Store) -> Result<()> {
    let mut w = store.writer();
    w.put_raw(version_key(), &6u32.to_be_bytes());
    w.commit()
}

/// v1–v6's pull request: without who merged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PullRequestV6 {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub number: u64,
    pub github_id: u64,
    pub title: String,
    pub state: PrState,
    pub is_draft: bool,
    pub author_github_id: Option<u64>,
    pub author_login: Option<String>,
    pub author_member_id: Option<u64>,
    pub created_at: i64,
    pub ready_at: Option<i64>,
    pub updated_at: i64,
    pub merged_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub additions: u64,
    pub deletions: u64,
    pub first_commit_at: Option<i64>,
    pub first_review_at: Option<i64>,
    pub cycle_time: Option<i64>,
    pub review_time: Option<i64>,
}

impl From<PullRequestV6> for PullRequestV8 {
    fn from(old: PullRequestV6) -> PullRequestV8 {
        PullRequestV8 {
            team_id: old.team_id,
            repo_id: old.repo_id,
            number: old.number,
            github_id: old.github_id,
            title: old.title,
            state: old.state,
            is_draft: old.is_draft,
            author_github_id: old.author_github_id,
            author_login: old.author_login,
            author_member_id: old.author_member_id,
            created_at: old.created_at,
            ready_at: old.ready_at,
            updated_at: old.updated_at,
            merged_at: old.merged_at,
            closed_at: old.closed_at,
            additions: old.additions,
            deletions: old.deletions,
            first_commit_at: old.first_commit_at,
            first_review_at: old.first_review_at,
            cycle_time: old.cycle_time,
            review_time: old.review_time,
            merged_by_login: None,
            merged_by_github_id: None,
        }
    }
}

/// Every pull request re-encoded with who merged it unknown, and every checkpoint set back to
/// a first walk, so the next sync reads each pull request again (and its `mergedBy`). One
/// batch with the bump: a crash leaves v6, intact.
fn upgrade_v6_to_v7(store: &Store) -> Result<()> {
    let mut w = store.writer();
    let (mut pulls, mut cursors) = (0u64, 0u64);
    for item in store.raw().iter() {
        let (key, value) = item?;
        if key.len() < ID_OFFSET || key[..8] == [0; 8] {
            continue;
        }
        match key[8] {
            k if k == Kind::PullRequest as u8 => {
                let old: PullRequestV6 = decode(Kind::PullRequest, &value)?;
                w.put(&key, &PullRequestV8::from(old));
                pulls += 1;
            }
            k if k == Kind::SyncCursor as u8 => {
                let old: SyncCursor = decode(Kind::SyncCursor, &value)?;
                w.put(
                    &key,
                    &SyncCursor {
                        cursor: None,
                        complete: false,
                        ..old
                    },
                );
                cursors += 1;
            }
            _ => {}
        }
    }
    w.put_raw(version_key(), &7u32.to_be_bytes());
    w.commit()?;
    tracing::info!(
        pull_requests = pulls,
        repositories = cursors,
        "pull requests will be read again at the next sync, to learn who merged them"
    );
    Ok(())
}

/// v8: two kinds of record a v7 tidemarkd does not know, team invitations (`Invitation`) and
/// why a repository has no hook (`HookProblem`). Nothing to convert (a v7 store has neither);
/// the bump makes an older tidemarkd refuse this store as too new, with its advice, rather than
/// open it and then fail its integrity check, backups and restores on a kind it cannot read.
fn upgrade_v7_to_v8(store: &Store) -> Result<()> {
    let mut w = store.writer();
    w.put_raw(version_key(), &8u32.to_be_bytes());
    w.commit()?;
    Ok(())
}

/// v7–v8's pull request: without its merge commit, branches and labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PullRequestV8 {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub number: u64,
    pub github_id: u64,
    pub title: String,
    pub state: PrState,
    pub is_draft: bool,
    pub author_github_id: Option<u64>,
    pub author_login: Option<String>,
    pub author_member_id: Option<u64>,
    pub created_at: i64,
    pub ready_at: Option<i64>,
    pub updated_at: i64,
    pub merged_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub additions: u64,
    pub deletions: u64,
    pub first_commit_at: Option<i64>,
    pub first_review_at: Option<i64>,
    pub cycle_time: Option<i64>,
    pub review_time: Option<i64>,
    pub merged_by_login: Option<String>,
    pub merged_by_github_id: Option<u64>,
}

impl From<PullRequestV8> for PullRequest {
    fn from(old: PullRequestV8) -> PullRequest {
        PullRequest {
            team_id: old.team_id,
            repo_id: old.repo_id,
            number: old.number,
            github_id: old.github_id,
            title: old.title,
            state: old.state,
            is_draft: old.is_draft,
            author_github_id: old.author_github_id,
            author_login: old.author_login,
            author_member_id: old.author_member_id,
            created_at: old.created_at,
            ready_at: old.ready_at,
            updated_at: old.updated_at,
            merged_at: old.merged_at,
            closed_at: old.closed_at,
            additions: old.additions,
            deletions: old.deletions,
            first_commit_at: old.first_commit_at,
            first_review_at: old.first_review_at,
            cycle_time: old.cycle_time,
            review_time: old.review_time,
            merged_by_login: old.merged_by_login,
            merged_by_github_id: old.merged_by_github_id,
            merge_commit_sha: None,
            base_ref: None,
            head_ref: None,
            labels: Vec::new(),
        }
    }
}

/// Every pull request re-encoded with its merge commit, branches and labels unknown, and every
/// checkpoint set back to a first walk, so the next sync reads each pull request again. One
/// batch with the bump: a crash leaves v8, intact.
fn upgrade_v8_to_v9(store: &Store) -> Result<()> {
    let mut w = store.writer();
    let (mut pulls, mut cursors) = (0u64, 0u64);
    for item in store.raw().iter() {
        let (key, value) = item?;
        if key.len() < ID_OFFSET || key[..8] == [0; 8] {
            continue;
        }
        match key[8] {
            k if k == Kind::PullRequest as u8 => {
                let old: PullRequestV8 = decode(Kind::PullRequest, &value)?;
                w.put(&key, &PullRequest::from(old));
                pulls += 1;
            }
            k if k == Kind::SyncCursor as u8 => {
                let old: SyncCursor = decode(Kind::SyncCursor, &value)?;
                w.put(
                    &key,
                    &SyncCursor {
                        cursor: None,
                        complete: false,
                        ..old
                    },
                );
                cursors += 1;
            }
            _ => {}
        }
    }
    w.put_raw(version_key(), &9u32.to_be_bytes());
    w.commit()?;
    tracing::info!(
        pull_requests = pulls,
        repositories = cursors,
        "pull requests will be read again at the next sync, to learn their merge commits"
    );
    Ok(())
}

/// `"repo, read:org"` → `["repo", "read:org"]`.
pub fn split_scopes(scopes: &str) -> Vec<String> {
    scopes
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
