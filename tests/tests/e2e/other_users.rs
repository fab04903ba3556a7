//! Several users sharing one daemon, for real: the `tidemark` CLI binary runs as uids 60001 and
//! 60002 (no passwd entries needed: a root process can start a child with any uid) against the
//! real `tidemarkd`, whose peer-credential check is all that tells them apart. Each sees only
//! their own teams; another's team is "not found", worded exactly as a team that does not exist;
//! membership and roles work through the CLI, and nobody joins a team without accepting. Needs root; built as another user it is ignored
//! with that reason (see `tests/build.rs`).

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use tidemark_tests::harness::{Daemon, Sandbox, bin, block_on, ctx};

const ALICE: u32 = 60_001;
const BOB: u32 = 60_002;

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// `tidemark ARGS` as `uid`, against the sandbox's daemon (never starting one).
fn tidemark(sandbox: &Sandbox, uid: u32, args: &[&str]) -> Run {
    let out: Output = Command::new(bin("tidemark"))
        .arg("--no-start")
        .arg("--socket")
        .arg(sandbox.socket())
        // A client-side dir the user cannot have: nothing is logged, nothing created.
        .arg("--data-dir")
        .arg(sandbox.dir.path().join(format!("client-{uid}")))
        .args(args)
        .env_remove("TIDEMARK_DATA_DIR")
        .env_remove("TIDEMARK_SOCKET")
        .env("HOME", "/nonexistent")
        .uid(uid)
        .gid(uid)
        .output()
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok_json(sandbox: &Sandbox, uid: u32, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let run = tidemark(sandbox, uid, &args);
    assert!(run.ok, "uid {uid} {args:?}: {}{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn fails(sandbox: &Sandbox, uid: u32, args: &[&str]) -> String {
    let run = tidemark(sandbox, uid, args);
    assert!(!run.ok, "uid {uid} {args:?} succeeded: {}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    run.stderr
}

/// (name, role) of the teams `uid` sees.
fn teams(sandbox: &Sandbox, uid: u32) -> Vec<(String, String)> {
    ok_json(sandbox, uid, &["team", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["role"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(name: &str, role: &str) -> (String, String) {
    (name.to_string(), role.to_string())
}

#[test]
#[cfg_attr(
    tidemark_not_root,
    ignore = "needs root (it runs the client as other uids); the tests were built as another user"
)]
fn users_sharing_a_daemon_see_only_their_teams() {
    // SAFETY: geteuid cannot fail.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "built as root, run as another user: running the client as other uids needs root"
    );
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 1);
    // Open the way on purpose (sandbox dir, socket dir, socket), as a system service's socket
    // group would, so the daemon's own check is what stands between the users.
    for dir in [sandbox.dir.path(), sandbox.socket().parent().unwrap()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(sandbox.socket(), std::fs::Permissions::from_mode(0o666)).unwrap();

    // Anyone the socket lets in may create a team, and owns it.
    let alpha = ok_json(&sandbox, ALICE, &["team", "create", "alpha"]);
    assert_eq!(alpha["role"], "owner");
    ok_json(&sandbox, BOB, &["team", "create", "bravo"]);
    assert_eq!(teams(&sandbox, ALICE), [pair("alpha", "owner")]);
    assert_eq!(teams(&sandbox, BOB), [pair("bravo", "owner")]);

    // Alice's team is, for Bob, exactly a team that does not exist: by name and by id.
    for args in [
        &["status", "--team", "{}"][..],
        &["team", "members", "{}"],
        &["team", "rename", "{}", "mine"],
        &["members", "--team", "{}"],
        &["sync", "--team", "{}"],
        &["team", "invitations", "--team", "{}"],
        &["team", "accept", "{}"],
        &["team", "decline", "{}"],
    ] {
        let with =
            |name: &str| -> Vec<String> { args.iter().map(|a| a.replace("{}", name)).collect() };
        let foreign = with("alpha");
        let missing = with("nonexistent");
        let foreign: Vec<&str> = foreign.iter().map(String::as_str).collect();
        let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
        let a = fails(&sandbox, BOB, &foreign);
        let b = fails(&sandbox, BOB, &missing);
        assert_eq!(
            a.replace("alpha", "X"),
            b.replace("nonexistent", "X"),
            "{args:?}"
        );
        assert!(a.contains("team 'alpha' not found"), "{a}");
    }

    // Alice adds Bob: that invites him, and he is not a member until he accepts.
    let added = ok_json(
        &sandbox,
        ALICE,
        &["team", "add-member", "alpha", "60002", "--role", "member"],
    );
    let invited = &added["invited"];
    assert_eq!(
        (invited["user"]["uid"].as_u64(), invited["role"].as_str()),
        (Some(60_002), Some("member")),
        "{added}"
    );
    let said = tidemark(
        &sandbox,
        ALICE,
        &["team", "add-member", "alpha", "60002", "--role", "member"],
    );
    assert!(
        said.ok && said.stdout.contains("Invited") && said.stdout.contains("tidemark team accept"),
        "{}{}",
        said.stdout,
        said.stderr
    );
    assert_eq!(teams(&sandbox, BOB), [pair("bravo", "owner")]);
    let not_yet = fails(&sandbox, BOB, &["status", "--team", "alpha"]);
    assert!(not_yet.contains("team 'alpha' not found"), "{not_yet}");
    let list = tidemark(&sandbox, BOB, &["team", "list"]);
    assert!(
        list.ok
            && list
                .stdout
                .contains("1 invitation waiting: see `tidemark team invitations`"),
        "{}",
        list.stdout
    );
    let mine = ok_json(&sandbox, BOB, &["team", "invitations"]);
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(
        (
            mine[0]["team_name"].as_str(),
            mine[0]["invited_by"]["uid"].as_u64()
        ),
        (Some("alpha"), Some(60_001))
    );
    let pending = tidemark(&sandbox, ALICE, &["team", "members", "alpha"]);
    assert!(
        pending.ok
            && pending
                .stdout
                .contains("Invited (members once they accept)"),
        "{}",
        pending.stdout
    );
    // Nobody else answers for him.
    let theirs = fails(&sandbox, ALICE, &["team", "accept", "alpha"]);
    assert!(theirs.contains("team 'alpha' not found"), "{theirs}");

    // He accepts: a member, as invited. He reads, but may not manage or rename.
    let joined = ok_json(&sandbox, BOB, &["team", "accept", "alpha"]);
    assert_eq!(
        (joined["name"].as_str(), joined["role"].as_str()),
        (Some("alpha"), Some("member"))
    );
    assert!(
        ok_json(&sandbox, BOB, &["team", "invitations"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        teams(&sandbox, BOB),
        [pair("alpha", "member"), pair("bravo", "owner")]
    );
    ok_json(&sandbox, BOB, &["status", "--team", "alpha"]);
    let denied = fails(&sandbox, BOB, &["team", "rename", "alpha", "mine"]);
    assert!(
        denied.contains("permission denied") && denied.contains("owner"),
        "{denied}"
    );
    let denied = fails(&sandbox, BOB, &["sync", "--team", "alpha"]);
    assert!(denied.contains("permission denied"), "{denied}");
    let members = ok_json(&sandbox, BOB, &["team", "members", "alpha"]);
    let uids: Vec<u64> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["uid"].as_u64().unwrap())
        .collect();
    assert_eq!(uids, [60_001, 60_002], "owner first");

    // The last owner cannot go; unknown users are named as such.
    let refused = fails(
        &sandbox,
        ALICE,
        &["team", "remove-member", "alpha", "60001"],
    );
    assert!(refused.contains("last owner"), "{refused}");
    let unknown = fails(
        &sandbox,
        ALICE,
        &[
            "team",
            "add-member",
            "alpha",
            "no-such-user-tm",
            "--role",
            "admin",
        ],
    );
    assert!(
        unknown.contains("no user named 'no-such-user-tm'"),
        "{unknown}"
    );

    // Bob leaves; Alice's team is gone for him again.
    ok_json(&sandbox, BOB, &["team", "remove-member", "alpha", "60002"]);
    assert_eq!(teams(&sandbox, BOB), [pair("bravo", "owner")]);

    // Invited again, as owner this time, he declines: nothing is left; invited once more,
    // Alice withdraws it.
    ok_json(
        &sandbox,
        ALICE,
        &["team", "add-member", "alpha", "60002", "--role", "owner"],
    );
    ok_json(&sandbox, BOB, &["team", "decline", "alpha"]);
    assert_eq!(teams(&sandbox, BOB), [pair("bravo", "owner")]);
    let none = ok_json(&sandbox, ALICE, &["team", "invitations", "--team", "alpha"]);
    assert!(none.as_array().unwrap().is_empty(), "{none}");
    ok_json(
        &sandbox,
        ALICE,
        &["team", "add-member", "alpha", "60002", "--role", "owner"],
    );
    let withdrawn = tidemark(
        &sandbox,
        ALICE,
        &["team", "remove-member", "alpha", "60002"],
    );
    assert!(
        withdrawn.ok && withdrawn.stdout.contains("Withdrew the invitation"),
        "{}{}",
        withdrawn.stdout,
        withdrawn.stderr
    );
    let late = fails(&sandbox, BOB, &["team", "accept", "alpha"]);
    assert!(late.contains("team 'alpha' not found"), "{late}");
    assert_eq!(teams(&sandbox, BOB), [pair("bravo", "owner")]);

    // Root (here also the daemon's user) is an operator: it sees no team it is not in, but
    // may look at and manage any team's membership.
    block_on(async {
        let c = tidemark_tests::harness::connect(&daemon.socket)
            .await
            .unwrap();
        assert!(c.team_list(ctx()).await.unwrap().unwrap().is_empty());
        let alpha = tidemark_protocol::TeamRef::Name("alpha".into());
        let members = c.team_members(ctx(), alpha.clone()).await.unwrap().unwrap();
        assert_eq!(members.len(), 1);
        let status = c.status(ctx(), Some(alpha)).await.unwrap();
        assert_eq!(
            status,
            Err(tidemark_protocol::RpcError::NotFound("team 'alpha'".into()))
        );
    });
    let log = daemon.log_text();
    assert!(log.contains("team created"), "the daemon logged the calls");
}
