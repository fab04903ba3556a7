//! Whole-store snapshots (backup and restore) and the integrity check (`doctor`).
//!
//! Every write goes through the store's [`Writer`](super::Writer) and its mutex, so holding that
//! mutex while reading every record yields a state that some moment of the store really had:
//! no batch is half in it. Writers wait meanwhile; webhook deliveries do not (they go to the
//! spool, and the waiting ones are read under the same lock: a delivery leaves them only by
//! `inbox_done`, a write). The snapshot is copied to memory under the lock and written out
//! after it is released.

use super::agreements::{AgreementSettings, BreachRecord, DigestRecord, SlackLink};
use super::delivery::{Compared, DeliverySettings, DeliverySync, Deploy, IssueRecord};
use super::keys::{ID_OFFSET, Kind};
use super::records::*;
use super::{Result, Store, StoreError, decode, id_floor_key};
use std::path::Path;

/// Every record of a store, and the id counter to continue from.
pub struct Snapshot {
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
    /// The next id `Store::next_id` may hand out (sled keeps its counter outside the tree).
    pub next_id: u64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Snapshot({} records)", self.entries.len())
    }
}

/// What [`Store::check_integrity`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Integrity {
    pub records: u64,
    /// Webhook deliveries waiting in the spool, each body read back and checked.
    pub webhooks_waiting: u64,
    /// One line per record that does not decode (kind and reason, never the value).
    pub problems: Vec<String>,
}

impl Store {
    /// A consistent copy of every record (see the module comment). Webhook deliveries waiting in
    /// the spool come as inbox records with their bodies inline (`StoredBody::Inline`), so a
    /// snapshot stands alone.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let _write_lock = self.writer();
        let db = self.db()?;
        let floor = id_floor_key();
        let mut entries = Vec::new();
        for item in db.iter() {
            let (k, v) = item.map_err(|e| self.sled_error(e))?;
            // Folded into `next_id` below.
            if k.as_ref() != floor.as_ref() {
                entries.push((k.to_vec(), v.to_vec()));
            }
        }
        // The waiting deliveries, as inbox records with their bodies (opening a store moves
        // such records into its spool), in key order with the rest.
        let inbox = self.inbox_records();
        if !inbox.is_empty() {
            entries.extend(
                inbox
                    .into_iter()
                    .map(|(k, r)| (k.as_ref().to_vec(), super::encode(&r))),
            );
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
        let drawn = db.generate_id().map_err(|e| self.sled_error(e))?;
        let next_id = self.id_floor.load(std::sync::atomic::Ordering::SeqCst) + drawn;
        Ok(Snapshot { entries, next_id })
    }

    /// Create a store in the empty or missing `dir` holding exactly `snapshot`, durably; it is
    /// returned open (schema checked, upgraded if older) with its record-by-record check.
    /// (Kept open: sled lets go of a dropped store's lock only a moment later.) A snapshot that
    /// does not hold together ([`Snapshot::validate`]) is refused before anything is written.
    pub fn create_from_snapshot(dir: &Path, snapshot: &Snapshot) -> Result<(Store, Integrity)> {
        snapshot.validate()?;
        let db = {
            let db = sled::Config::new()
                .path(dir)
                .open()
                .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", dir.display())))?;
            if !db.is_empty() {
                return Err(StoreError::Io(format!(
                    "{} is not empty; restore writes into a fresh directory",
                    dir.display()
                )));
            }
            for chunk in snapshot.entries.chunks(10_000) {
                let mut batch = sled::Batch::default();
                for (k, v) in chunk {
                    batch.insert(k.as_slice(), v.as_slice());
                }
                db.apply_batch(batch)?;
            }
            // sled cannot set its id counter, and drawing ids up to the snapshot's one by one
            // took as long as the counter was large (forever for a crafted 2^62): the counter
            // is kept as the floor sled's ids are added to, so no restored id is handed out
            // again.
            db.insert(id_floor_key(), super::encode(&snapshot.next_id))?;
            db.flush()?;
            db
        };
        let store = Store::from_db(db, dir)?;
        let integrity = store.check_integrity()?;
        Ok((store, integrity))
    }

    /// Decode every record as its kind (index entries and meta are checked for a known kind
    /// only). Reports problems rather than failing, so `doctor` can say how many.
    pub fn check_integrity(&self) -> Result<Integrity> {
        let mut report = Integrity::default();
        let floor = id_floor_key();
        for item in self.db()?.iter() {
            let (key, value) = item.map_err(|e| self.sled_error(e))?;
            if key.as_ref() == floor.as_ref() {
                // Not a record of the store's own (see `id_floor_key`): not counted.
                continue;
            }
            report.records += 1;
            if let Err(reason) = check_record(&key, &value) {
                report.problems.push(reason);
            }
        }
        let (waiting, damaged) = self.inbox_check();
        report.webhooks_waiting = waiting;
        report.problems.extend(damaged);
        Ok(report)
    }
}

fn check_record(key: &[u8], value: &[u8]) -> std::result::Result<(), String> {
    if key.len() < ID_OFFSET {
        return Err(format!("a key of {} bytes is too short", key.len()));
    }
    let kind = key[ID_OFFSET - 1];
    let ok = |r: Result<()>| r.map_err(|e| e.to_string());
    macro_rules! as_record {
        ($kind:expr, $ty:ty) => {
            ok(decode::<$ty>($kind, value).map(|_| ()))
        };
    }
    match kind {
        k if k == Kind::Meta as u8 && key == super::teams::next_team_id_key().as_ref() => {
            as_record!(Kind::Meta, u64)
        }
        k if k == Kind::Meta as u8 && key == id_floor_key().as_ref() => {
            as_record!(Kind::Meta, u64)
        }
        k if k == Kind::Meta as u8
            || k == Kind::TeamName as u8
            || k == Kind::UserTeam as u8
            || k == Kind::MemberByGithubId as u8
            || k == Kind::MemberByEmail as u8 =>
        {
            Ok(())
        }
        k if k == Kind::User as u8 => as_record!(Kind::User, User),
        k if k == Kind::Team as u8 => as_record!(Kind::Team, Team),
        k if k == Kind::Membership as u8 => as_record!(Kind::Membership, Membership),
        k if k == Kind::Credential as u8 => {
            as_record!(Kind::Credential, IntegrationCredential)
        }
        k if k == Kind::GitHubIntegration as u8 => {
            as_record!(Kind::GitHubIntegration, GitHubIntegration)
        }
        k if k == Kind::TrackedRepo as u8 => as_record!(Kind::TrackedRepo, TrackedRepository),
        k if k == Kind::TeamMember as u8 => as_record!(Kind::TeamMember, TeamMember),
        k if k == Kind::PullRequest as u8 => as_record!(Kind::PullRequest, PullRequest),
        k if k == Kind::Review as u8 => as_record!(Kind::Review, PrReview),
        k if k == Kind::Commit as u8 => as_record!(Kind::Commit, Commit),
        k if k == Kind::SyncCursor as u8 => as_record!(Kind::SyncCursor, SyncCursor),
        k if k == Kind::PrExtra as u8 => as_record!(Kind::PrExtra, PrExtra),
        k if k == Kind::Inbox as u8 => as_record!(Kind::Inbox, InboxRecord),
        k if k == Kind::DeliverySeen as u8 => as_record!(Kind::DeliverySeen, DeliverySeen),
        k if k == Kind::HookHealth as u8 => as_record!(Kind::HookHealth, HookHealth),
        k if k == Kind::PreviousWebhookSecret as u8 => {
            as_record!(Kind::PreviousWebhookSecret, PreviousWebhookSecret)
        }
        k if k == Kind::RepoNode as u8 => as_record!(Kind::RepoNode, String),
        k if k == Kind::OrgHook as u8 => as_record!(Kind::OrgHook, OrgHook),
        k if k == Kind::HookProblem as u8 => as_record!(Kind::HookProblem, HookProblem),
        k if k == Kind::Invitation as u8 => as_record!(Kind::Invitation, Invitation),
        k if k == Kind::Deploy as u8 => as_record!(Kind::Deploy, Deploy),
        k if k == Kind::Issue as u8 => as_record!(Kind::Issue, IssueRecord),
        k if k == Kind::Compare as u8 => as_record!(Kind::Compare, Compared),
        k if k == Kind::DeliverySettings as u8 => {
            as_record!(Kind::DeliverySettings, DeliverySettings)
        }
        k if k == Kind::DeliverySync as u8 => as_record!(Kind::DeliverySync, DeliverySync),
        k if k == Kind::AgreementSettings as u8 => {
            as_record!(Kind::AgreementSettings, AgreementSettings)
        }
        k if k == Kind::Breach as u8 => as_record!(Kind::Breach, BreachRecord),
        k if k == Kind::SlackLink as u8 => as_record!(Kind::SlackLink, SlackLink),
        k if k == Kind::SlackDigest as u8 => as_record!(Kind::SlackDigest, DigestRecord),
        other => Err(format!("a record of unknown kind 0x{other:02x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_restores_to_an_equal_store_and_ids_move_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a")).unwrap();
        let team = store.create_team("platform", None).unwrap();
        let snap = store.snapshot().unwrap();
        let (restored, integrity) =
            Store::create_from_snapshot(&dir.path().join("b"), &snap).unwrap();
        assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
        assert_eq!(integrity.records, snap.entries.len() as u64);
        assert_eq!(restored.snapshot().unwrap().entries, snap.entries);
        let next = restored.create_team("infra", None).unwrap();
        assert!(next.id > team.id, "a restored store reused id {}", next.id);
    }

    /// Waiting webhook deliveries live in the spool, not in sled: a snapshot carries them
    /// (bodies inline) and the restored store has them waiting, in its own spool.
    #[test]
    fn waiting_webhook_deliveries_are_carried_by_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a")).unwrap();
        let team = store.create_team("platform", None).unwrap().id;
        let entry = |seq: u64, guid: &str| InboxEntry {
            team_id: team,
            seq,
            guid: guid.into(),
            event: "pull_request".into(),
            hook_id: Some(1),
            repo_id: Some(2),
            received_at: 1_700_000_000,
            body: format!("body of {guid}").repeat(1000).into_bytes(),
        };
        let (applied, waiting) = (entry(1, "applied"), entry(2, "waiting"));
        store
            .inbox_add(&[applied.clone(), waiting.clone()])
            .unwrap();
        store.inbox_done(&applied, None).unwrap();
        let snap = store.snapshot().unwrap();
        let (restored, integrity) =
            Store::create_from_snapshot(&dir.path().join("b"), &snap).unwrap();
        assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
        assert_eq!(restored.inbox(team).unwrap(), [waiting]);
        assert!(restored.delivery_seen(team, "applied").unwrap());
        assert!(restored.spool_dir().read_dir().unwrap().next().is_some());
        assert_eq!(restored.snapshot().unwrap().entries, snap.entries);
    }

    #[test]
    fn integrity_names_a_corrupt_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let team = store.create_team("platform", None).unwrap();
        let key = super::super::keys::Key::new(team.id, Kind::Team);
        store.raw().insert(key, &b"\xff"[..]).unwrap();
        let report = store.check_integrity().unwrap();
        assert_eq!(report.problems.len(), 1, "{report:?}");
        assert!(report.problems[0].contains("team"), "{report:?}");
    }

    /// A large id counter is restored at once (drawing sled's ids up to it one by one took as
    /// long as the counter was large), and ids go on past it, through later snapshots too.
    #[test]
    fn a_large_id_counter_restores_at_once_and_ids_go_on_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a")).unwrap();
        let team = store.create_team("platform", None).unwrap().id;
        let mut snap = store.snapshot().unwrap();
        snap.next_id = 1 << 40;
        let started = std::time::Instant::now();
        let (restored, integrity) =
            Store::create_from_snapshot(&dir.path().join("b"), &snap).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(integrity.records, snap.entries.len() as u64);
        let member = restored
            .upsert_member(
                team,
                crate::store::MemberInput {
                    github_id: Some(7),
                    ..crate::store::MemberInput::default()
                },
            )
            .unwrap();
        assert!(member.id > 1 << 40, "{}", member.id);
        let again = restored.snapshot().unwrap();
        assert!(again.next_id >= member.id);
        assert!(
            again.entries.len() > snap.entries.len(),
            "the member's records"
        );
        // A crafted counter is refused before anything is written.
        snap.next_id = 1 << 62;
        let target = dir.path().join("c");
        assert!(matches!(
            Store::create_from_snapshot(&target, &snap),
            Err(StoreError::Snapshot(_))
        ));
        assert!(!target.exists());
    }
}
