//! Crash atomicity of the store: run `store-churn` on a store, SIGKILL it at a varying point,
//! reopen the store and check that no multi-record change is half there. Twenty rounds on the
//! same directory, so recovery also runs on stores that were themselves recovered.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tidemark_daemon::store::{Kind, Provider, Store, StoreError, keys};

const ROUNDS: u64 = 20;

/// (step, occurrence) after which to kill. Each iteration of store-churn is: delete the oldest
/// team (when it has 4), create_team, create_credential, create_github_integration,
/// track_repos, upsert_members, put_pull_requests ×3, put_review, then by iteration number
/// mod 4: delete_credential, rename_team, delete_team, rewrite_pr. These triggers put the kill
/// inside each kind of step, the cascades most of all.
const TRIGGERS: [(&str, u64); 10] = [
    ("put_review", 1),        // → delete_credential
    ("put_review", 3),        // → delete_team
    ("put_review", 2),        // → rename_team
    ("delete_credential", 1), // → delete the oldest team, or create_team
    ("put_review", 4),        // → rewrite_pr
    ("rename_team", 1),       // → delete the oldest team, or create_team
    ("delete_team", 1),       // → whatever follows a delete
    ("create_credential", 1), // → create_github_integration
    ("track_repos", 2),       // → upsert_members
    ("put_pull_requests", 2), // → put_pull_requests
];

#[test]
fn killed_mid_change_the_store_reopens_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen_team_keys = 0;
    let mut seen_teams = BTreeSet::new();
    for round in 0..ROUNDS {
        // Kill right after a chosen step completes, i.e. while the next one runs; with the
        // child's continuous flusher the cut falls anywhere inside that next step.
        let (step, nth) = TRIGGERS[round as usize % TRIGGERS.len()];
        let nth = nth + round / TRIGGERS.len() as u64;
        let (mut child, lines) = spawn_churn(dir.path());
        let seen = wait_for_step(&lines, step, nth, Duration::from_secs(10));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        if let Err(lines) = seen {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            panic!("round {round}: no {step} #{nth} after {lines} steps ({status}): {stderr}");
        }
        let report = check_invariants(dir.path(), round);
        seen_team_keys += report.team_keys;
        seen_teams.extend(report.teams);
    }
    // The checks were not vacuous.
    assert!(
        seen_team_keys > 100,
        "only {seen_team_keys} team keys checked"
    );
    assert!(seen_teams.len() > 3, "teams seen: {seen_teams:?}");
}

fn spawn_churn(dir: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store-churn"))
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// Wait until the `nth` line naming `step` (lines are "N STEP ..."); Err(lines seen) on timeout
/// or if the child died.
fn wait_for_step(
    lines: &mpsc::Receiver<String>,
    step: &str,
    nth: u64,
    timeout: Duration,
) -> Result<u64, u64> {
    let deadline = Instant::now() + timeout;
    let (mut seen, mut hits) = (0, 0);
    while hits < nth {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).map_err(|_| seen)?;
        seen += 1;
        if line.split_whitespace().nth(1) == Some(step) {
            hits += 1;
        }
    }
    Ok(seen)
}

/// Open, retrying while the killed child's lock is still being released.
fn open_store(dir: &Path) -> Store {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Store::open(dir) {
            Ok(store) => return store,
            Err(StoreError::Locked(_)) if Instant::now() < deadline => {
                std::thread::yield_now();
            }
            Err(e) => panic!("the store does not reopen after a crash: {e}"),
        }
    }
}

/// Every key and value, read with sled directly (the store keeps raw access to itself).
/// sled's flusher thread holds the lock a moment after a store is dropped: wait it out.
fn raw_entries(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let db = loop {
        match sled::Config::new().path(dir).open() {
            Ok(db) => break db,
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::Other
                    && e.to_string().contains("could not acquire lock")
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("the store's files do not open: {e}"),
        }
    };
    let entries = db
        .iter()
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect();
    drop(db);
    entries
}

struct Report {
    team_keys: usize,
    teams: Vec<u64>,
}

fn u64_value(v: &[u8]) -> u64 {
    u64::from_le_bytes(v.try_into().expect("an 8-byte bincode u64"))
}

fn check_invariants(dir: &Path, round: u64) -> Report {
    // Recovery and the schema check happen in Store::open; then read every key raw.
    drop(open_store(dir));
    let entries = raw_entries(dir);
    let store = open_store(dir);
    let fail = |what: String| -> ! { panic!("round {round}: {what}") };
    let kind = |k: &[u8]| k[8];
    let mut team_keys = 0;
    for (key, value) in &entries {
        let team = keys::read_u64(key, 0).unwrap();
        let id = |n: usize| keys::read_u64(key, keys::ID_OFFSET + 8 * n).unwrap();
        if team == keys::GLOBAL {
            match kind(key) {
                k if k == Kind::TeamName as u8 => {
                    let t = store.team(u64_value(value)).unwrap().unwrap_or_else(|| {
                        fail(format!(
                            "name index entry for missing team {}",
                            u64_value(value)
                        ))
                    });
                    // Lower-cased name, NUL, then the id (schema v4).
                    let (name, rest) = key[9..].split_at(key.len().saturating_sub(18));
                    if t.name.to_lowercase().as_bytes() != name
                        || rest.first() != Some(&0)
                        || keys::read_u64(rest, 1) != Some(t.id)
                    {
                        fail(format!("stale name index entry for team {}", t.id));
                    }
                }
                k if k == Kind::UserTeam as u8 => {
                    let uid = keys::read_u32(key, keys::ID_OFFSET).unwrap();
                    let t = keys::read_u64(key, keys::ID_OFFSET + 4).unwrap();
                    if store.membership(t, uid).unwrap().is_none() {
                        fail(format!(
                            "user-team index for user {uid} without membership in {t}"
                        ));
                    }
                }
                _ => {}
            }
            continue;
        }
        team_keys += 1;
        let Some(t) = store.team(team).unwrap() else {
            fail(format!(
                "key of kind {:#x} of team {team} without a team record",
                kind(key)
            ))
        };
        match store.team_by_name(&t.name).unwrap() {
            Some(found) if found.id == team => {}
            _ => fail(format!(
                "team {team} ('{}') has no name index entry",
                t.name
            )),
        }
        let k = kind(key);
        let broken = if k == Kind::TrackedRepo as u8 {
            (store.github_integration(team).unwrap().is_none())
                .then(|| format!("tracked repo {} of team {team} without integration", id(0)))
        } else if k == Kind::GitHubIntegration as u8 {
            (store.credential(team, Provider::Github).unwrap().is_none())
                .then(|| format!("integration of team {team} without github credential"))
        } else if k == Kind::Review as u8 || k == Kind::Commit as u8 {
            (store.pull_request(team, id(0), id(1)).unwrap().is_none()).then(|| {
                format!(
                    "review/commit of missing PR {}#{} in team {team}",
                    id(0),
                    id(1)
                )
            })
        } else if k == Kind::MemberByGithubId as u8 || k == Kind::MemberByEmail as u8 {
            (store.member(team, u64_value(value)).unwrap().is_none())
                .then(|| format!("member index of team {team} points at a missing member"))
        } else if k == Kind::Membership as u8 {
            let uid = keys::read_u32(key, keys::ID_OFFSET).unwrap();
            let teams = store.teams_of_user(uid).unwrap();
            (!teams.iter().any(|(t, _)| t.id == team))
                .then(|| format!("membership of {uid} in team {team} missing from its index"))
        } else {
            None
        };
        if let Some(what) = broken {
            fail(what);
        }
    }
    // Every record decodes: list everything through the typed API.
    let teams = store.teams().unwrap();
    for t in &teams {
        store.credentials(t.id).unwrap();
        store.tracked_repos(t.id).unwrap();
        store.members(t.id).unwrap();
        for pr in store.pull_requests(t.id, None).unwrap() {
            let reviews = store.reviews(t.id, pr.repo_id, pr.number).unwrap();
            if !reviews.is_empty() && pr.first_review_at.is_none() {
                fail(format!(
                    "PR {}#{} has reviews but no first review",
                    pr.repo_id, pr.number
                ));
            }
        }
    }
    Report {
        team_keys,
        teams: teams.iter().map(|t| t.id).collect(),
    }
}
