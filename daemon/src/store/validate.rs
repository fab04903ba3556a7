//! Whether a snapshot's records hold together, checked before a store is made of them
//! (`restore`). A backup is authenticated (`ops/backup.rs`), but a restore trusts its contents
//! no further than the store itself would have made them: a counter near 2^64 would overflow
//! the ids handed out after it (and a counter of 2^62 once made the restore draw ids for ever),
//! a record filed under one team but naming another, or an index pointing at a team the backup
//! does not hold, would be served as if the store had written it.
//!
//! Checked on the layout every schema shares (keys, the team id each record starts with,
//! counters), not by decoding records as this schema's types: a backup of an older schema is
//! upgraded once restored, and `check_integrity` then decodes every record.

use super::keys::{ID_OFFSET, Kind, TeamId, read_u64};
use super::snapshot::Snapshot;
use std::collections::HashSet;

/// Counters (sled's id counter, the team id counter) and team ids stay below this. A store
/// hands out a few million ids over its life; far from 2^48, and far from overflowing a u64
/// when ids are added to it.
pub const ID_LIMIT: u64 = 1 << 48;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("its id counter is {0}, not below 2^48")]
    IdCounter(u64),
    #[error("its team id counter is {0}, not between 1 and 2^48")]
    TeamCounter(u64),
    #[error("record {0} is out of key order or repeated")]
    Order(usize),
    #[error("record {index}: {problem}")]
    Record { index: usize, problem: String },
}

/// Kinds whose record starts with the team id it belongs to (bincode: a little-endian u64),
/// in every schema.
const STARTS_WITH_TEAM_ID: [Kind; 27] = [
    Kind::Team,
    Kind::Membership,
    Kind::Credential,
    Kind::GitHubIntegration,
    Kind::TrackedRepo,
    Kind::TeamMember,
    Kind::PullRequest,
    Kind::Review,
    Kind::Commit,
    Kind::SyncCursor,
    Kind::PrExtra,
    Kind::Inbox,
    Kind::DeliverySeen,
    Kind::HookHealth,
    Kind::PreviousWebhookSecret,
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

fn le_u64(value: &[u8]) -> Option<u64> {
    value
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

impl Snapshot {
    /// Check every record and counter (see the module comment). The first problem is the
    /// answer; it names the record's position, kind and team, never a value.
    pub fn validate(&self) -> Result<(), SnapshotError> {
        if self.next_id >= ID_LIMIT {
            return Err(SnapshotError::IdCounter(self.next_id));
        }
        if let Some(i) = self.entries.windows(2).position(|w| w[0].0 >= w[1].0) {
            return Err(SnapshotError::Order(i + 1));
        }
        let team_counter_key = super::teams::next_team_id_key();
        let mut teams = HashSet::new();
        let mut counter = None;
        for (key, value) in &self.entries {
            if key.len() == ID_OFFSET && key[8] == Kind::Team as u8 {
                teams.insert(read_u64(key, 0).expect("a team key"));
            } else if key.as_slice() == team_counter_key.as_ref() {
                let c = le_u64(value)
                    .filter(|_| value.len() == 8)
                    .ok_or(SnapshotError::TeamCounter(0))?;
                if c == 0 || c > ID_LIMIT {
                    return Err(SnapshotError::TeamCounter(c));
                }
                counter = Some(c);
            }
        }
        for (index, (key, value)) in self.entries.iter().enumerate() {
            self.check(key, value, &teams, counter)
                .map_err(|problem| SnapshotError::Record { index, problem })?;
        }
        Ok(())
    }

    fn check(
        &self,
        key: &[u8],
        value: &[u8],
        teams: &HashSet<TeamId>,
        counter: Option<u64>,
    ) -> Result<(), String> {
        if key.len() < ID_OFFSET {
            return Err(format!("a key of {} bytes", key.len()));
        }
        let team = read_u64(key, 0).expect("8 bytes");
        let Some(kind) = Kind::from_byte(key[8]) else {
            return Err(format!("a record of unknown kind 0x{:02x}", key[8]));
        };
        let name = kind.name();
        let known_team = |id: TeamId, what: &str| {
            if teams.contains(&id) {
                Ok(())
            } else {
                Err(format!(
                    "a {name} {what} team #{id}, which the backup holds no team record of"
                ))
            }
        };
        if kind.is_global() != (team == super::keys::GLOBAL) {
            return Err(format!("a {name} record under team #{team}"));
        }
        if kind.is_global() {
            return self.check_global(kind, key, value, &known_team);
        }
        if team >= ID_LIMIT || counter.is_some_and(|c| team >= c) {
            return Err(format!(
                "a {name} record of team #{team}, beyond the team id counter ({})",
                counter.unwrap_or(ID_LIMIT)
            ));
        }
        known_team(team, "record of")?;
        if kind == Kind::Team && key.len() != ID_OFFSET {
            return Err(format!("a team record with a key of {} bytes", key.len()));
        }
        if STARTS_WITH_TEAM_ID.contains(&kind) {
            match le_u64(value) {
                Some(id) if id == team => {}
                Some(id) => {
                    return Err(format!(
                        "a {name} record filed under team #{team} names team #{id}"
                    ));
                }
                None => return Err(format!("a {name} record of {} bytes", value.len())),
            }
        }
        // People are numbered by the id counter: none may be at or past it.
        let member = match kind {
            Kind::TeamMember => read_u64(key, ID_OFFSET),
            Kind::MemberByGithubId | Kind::MemberByEmail => le_u64(value),
            _ => return Ok(()),
        };
        match member {
            Some(id) if id <= self.next_id => Ok(()),
            Some(id) => Err(format!(
                "a {name} record names member id {id}, beyond the id counter ({})",
                self.next_id
            )),
            None => Err(format!("a {name} record without a member id")),
        }
    }

    fn check_global(
        &self,
        kind: Kind,
        key: &[u8],
        value: &[u8],
        known_team: &impl Fn(TeamId, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        let id_part = &key[ID_OFFSET..];
        match kind {
            Kind::Meta => match id_part {
                b"schema_version" if value.len() == 4 => Ok(()),
                // Bounded above (`validate`); the floor is replaced by the restore's own.
                b"next_team_id" => Ok(()),
                b"id_floor" => match le_u64(value) {
                    Some(floor) if floor < ID_LIMIT && value.len() == 8 => Ok(()),
                    _ => Err("an id floor beyond 2^48".into()),
                },
                _ => Err(format!(
                    "a meta record this tidemarkd does not know ({} bytes of name)",
                    id_part.len()
                )),
            },
            Kind::TeamName => match le_u64(value) {
                Some(id) if value.len() == 8 => known_team(id, "entry names"),
                _ => Err(format!("a team-name index entry of {} bytes", value.len())),
            },
            Kind::UserTeam => match read_u64(key, ID_OFFSET + 4) {
                Some(id) if key.len() == ID_OFFSET + 12 => known_team(id, "entry names"),
                _ => Err(format!("a user-team index key of {} bytes", key.len())),
            },
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::Key;
    use crate::store::{MemberInput, Store};

    /// A real store's snapshot: a deleted team (#1), two teams, a member with its indexes.
    fn snapshot() -> (Snapshot, TeamId) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let deleted = store.create_team("old", None).unwrap().id;
        store.delete_team(deleted).unwrap();
        store.create_team("platform", None).unwrap();
        let team = store.create_team("infra", None).unwrap().id;
        store
            .upsert_member(
                team,
                MemberInput {
                    github_id: Some(7),
                    github_username: Some("octocat".into()),
                    email: Some("o@example.com".into()),
                    ..MemberInput::default()
                },
            )
            .unwrap();
        (store.snapshot().unwrap(), team)
    }

    fn put(snap: &mut Snapshot, key: impl AsRef<[u8]>, value: Vec<u8>) {
        let key = key.as_ref().to_vec();
        match snap.entries.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => snap.entries[i].1 = value,
            Err(i) => snap.entries.insert(i, (key, value)),
        }
    }

    fn refused(snap: &Snapshot) -> String {
        snap.validate().unwrap_err().to_string()
    }

    #[test]
    fn a_real_store_validates() {
        let (snap, _) = snapshot();
        assert_eq!(snap.validate(), Ok(()));
    }

    #[test]
    fn counters_are_bounded() {
        let (mut snap, _) = snapshot();
        snap.next_id = 1 << 62;
        assert_eq!(snap.validate(), Err(SnapshotError::IdCounter(1 << 62)));
        snap.next_id = ID_LIMIT - 1;
        assert_eq!(snap.validate(), Ok(()));
        for bad in [0u64, ID_LIMIT + 1, 1 << 62, u64::MAX] {
            put(
                &mut snap,
                crate::store::teams::next_team_id_key(),
                bad.to_le_bytes().to_vec(),
            );
            assert_eq!(snap.validate(), Err(SnapshotError::TeamCounter(bad)));
        }
    }

    #[test]
    fn team_ids_stay_within_the_team_counter_and_the_teams_held() {
        let (snap, team) = snapshot();
        // A membership of a team past the counter (the counter is team + 1).
        let mut beyond = snap.clone_for_test();
        let far = team + 5;
        put(
            &mut beyond,
            Key::new(far, Kind::Membership).u32(1000),
            far.to_le_bytes().to_vec(),
        );
        assert!(refused(&beyond).contains("beyond the team id counter"));
        // A membership for a team the backup does not hold (below the counter: a deleted one).
        let mut orphan = snap.clone_for_test();
        put(
            &mut orphan,
            Key::new(1, Kind::Membership).u32(4242),
            1u64.to_le_bytes().to_vec(),
        );
        assert!(refused(&orphan).contains("holds no team record"));
        // A membership filed under one team that names another.
        let mut crossed = snap.clone_for_test();
        put(
            &mut crossed,
            Key::new(team, Kind::Membership).u32(4242),
            (team - 1).to_le_bytes().to_vec(),
        );
        assert!(refused(&crossed).contains("names team"));
        // The name index and the user's team index name only teams the backup holds.
        let mut name = snap.clone_for_test();
        put(
            &mut name,
            Key::global(Kind::TeamName).bytes(b"ghost\0"),
            999u64.to_le_bytes().to_vec(),
        );
        assert!(refused(&name).contains("holds no team record"));
        let mut user_team = snap.clone_for_test();
        put(
            &mut user_team,
            Key::global(Kind::UserTeam).u32(4242).u64(999),
            vec![],
        );
        assert!(refused(&user_team).contains("holds no team record"));
    }

    #[test]
    fn kinds_places_and_member_ids_are_checked() {
        let (snap, team) = snapshot();
        let mut unknown = snap.clone_for_test();
        let mut key = team.to_be_bytes().to_vec();
        key.push(0x7f);
        put(&mut unknown, key, vec![]);
        assert!(refused(&unknown).contains("unknown kind 0x7f"));
        let mut global_in_team = snap.clone_for_test();
        put(
            &mut global_in_team,
            Key::new(team, Kind::User).u32(5),
            vec![],
        );
        assert!(refused(&global_in_team).contains("under team"));
        let mut short = snap.clone_for_test();
        put(&mut short, [0u8; 4], vec![]);
        assert!(refused(&short).contains("a key of 4 bytes"));
        let mut meta = snap.clone_for_test();
        put(&mut meta, Key::global(Kind::Meta).bytes(b"owner"), vec![]);
        assert!(refused(&meta).contains("meta record"));
        let mut member = snap.clone_for_test();
        let far = snap.next_id + 1;
        put(
            &mut member,
            Key::new(team, Kind::MemberByGithubId).u64(99),
            far.to_le_bytes().to_vec(),
        );
        assert!(refused(&member).contains("beyond the id counter"));
        let mut order = snap.clone_for_test();
        let first = order.entries[0].clone();
        order.entries.push(first);
        assert_eq!(
            order.validate(),
            Err(SnapshotError::Order(order.entries.len() - 1))
        );
    }

    impl Snapshot {
        fn clone_for_test(&self) -> Snapshot {
            Snapshot {
                entries: self.entries.clone(),
                next_id: self.next_id,
            }
        }
    }
}
