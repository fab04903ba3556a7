//! Operations from the command line with the real binaries: `doctor` against the simulator,
//! permission checks at start, core dumps off, a group socket, the systemd unit written and
//! removed, `--version` and shell completions.

mod doctor;
mod system_mode;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;
use tidemark_tests::harness::{Daemon, Sandbox, bin};

/// Run a command; (success, stdout + stderr).
pub fn output(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_daemon_refuses_a_readable_key_file_or_a_writable_data_dir_and_says_the_chmod() {
    let sandbox = Sandbox::new();
    Daemon::start(&sandbox, 0).stop();
    let key = sandbox.data_dir().join("encryption.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (ok, out) = output(sandbox.daemon_command().arg("run"));
    assert!(!ok, "started with a group-readable key file: {out}");
    assert!(
        out.contains(&format!("chmod 600 {}", key.display())),
        "{out}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    let data = sandbox.data_dir();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o770)).unwrap();
    let (ok, out) = output(sandbox.daemon_command().arg("run"));
    assert!(!ok, "started with a group-writable data dir: {out}");
    assert!(
        out.contains(&format!("chmod 700 {}", data.display())),
        "{out}"
    );
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    Daemon::start(&sandbox, 1).stop();
}

#[test]
fn core_dumps_are_off_in_the_running_daemon() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 0);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", daemon.pid())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core limit line");
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    assert!(daemon.log_text().contains("tidemarkd ready"));
}

#[test]
fn a_group_socket_gets_its_group_and_mode_before_anyone_connects() {
    let sandbox = Sandbox::new();
    // `nogroup` exists on Debian-like systems; any group other than ours would do.
    let group = "nogroup";
    let gid = tidemark_daemon::rpc::socket::group_id(group).expect("group nogroup");
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        cmd.args(["--socket-group", group, "--socket-mode", "0660"]);
    });
    let sock = std::fs::metadata(&daemon.socket).unwrap();
    assert_eq!(sock.mode() & 0o777, 0o660);
    assert_eq!(sock.gid(), gid);
    let dir = std::fs::metadata(daemon.socket.parent().unwrap()).unwrap();
    assert_eq!(
        dir.mode() & 0o777,
        0o750,
        "the socket dir lets the group in"
    );
    assert_eq!(dir.gid(), gid);
    daemon.stop();

    let (ok, out) = output(
        sandbox
            .daemon_command()
            .args(["--socket-mode", "0666", "run"]),
    );
    assert!(!ok && out.contains("others never get access"), "{out}");
}

#[test]
fn install_service_writes_a_unit_that_uninstall_removes() {
    let sandbox = Sandbox::new();
    let units = sandbox.dir.path().join("units");
    let exec = bin("tidemarkd");
    let (ok, out) = output(sandbox.daemon_command().args([
        "install-service",
        "--user",
        "--unit-dir",
        units.to_str().unwrap(),
    ]));
    assert!(ok, "{out}");
    let unit_path = units.join("tidemarkd.service");
    let text = std::fs::read_to_string(&unit_path).unwrap();
    let unit = tidemark_daemon::ops::service::unit::parse(&text);
    let get = |key: &str| {
        unit.iter()
            .find(|(s, k, _)| s == "Service" && k == key)
            .map(|(_, _, v)| v.clone())
            .unwrap_or_else(|| panic!("no {key} in\n{text}"))
    };
    let exec_start = get("ExecStart");
    assert!(
        exec_start.starts_with(&format!(
            "{} --data-dir {}",
            exec.display(),
            sandbox.data_dir().display()
        )),
        "{exec_start}"
    );
    assert_eq!(
        get("ReadWritePaths"),
        sandbox.data_dir().display().to_string()
    );
    assert_eq!(get("NoNewPrivileges"), "yes");
    assert!(
        sandbox.data_dir().is_dir(),
        "the data dir is created for ReadWritePaths"
    );
    assert_eq!(
        std::fs::metadata(sandbox.data_dir()).unwrap().mode() & 0o777,
        0o700
    );

    // --print writes nothing and shows the system unit.
    let (ok, printed) = output(sandbox.daemon_command().args([
        "install-service",
        "--system",
        "--print",
        "--exec",
        "/usr/local/bin/tidemarkd",
    ]));
    assert!(
        ok && printed.contains("User=tidemark") && printed.contains("--socket-mode 0660"),
        "{printed}"
    );
    // A system unit cannot run a binary from a home or temp dir (ProtectHome, PrivateTmp).
    let (ok, out) = output(sandbox.daemon_command().args([
        "install-service",
        "--system",
        "--unit-dir",
        units.to_str().unwrap(),
        "--exec",
        "/root/tidemarkd",
    ]));
    assert!(!ok && out.contains("/usr/local/bin"), "{out}");
    // For packaging: a system unit into a directory, no account or systemd touched.
    let (ok, out) = output(sandbox.daemon_command().args([
        "install-service",
        "--system",
        "--unit-dir",
        units.to_str().unwrap(),
        "--exec",
        "/usr/bin/tidemarkd",
    ]));
    assert!(
        ok && out.contains("systemctl enable --now tidemarkd"),
        "{out}"
    );
    let system = std::fs::read_to_string(&unit_path).unwrap();
    assert!(
        system.contains("ExecStart=/usr/bin/tidemarkd --data-dir /var/lib/tidemark"),
        "{system}"
    );
    let (ok, _) = output(sandbox.daemon_command().args([
        "install-service",
        "--user",
        "--unit-dir",
        units.to_str().unwrap(),
    ]));
    assert!(ok);
    let (ok, out) = output(sandbox.daemon_command().args(["install-service"]));
    assert!(!ok && out.contains("--user"), "a scope is required: {out}");

    let (ok, out) = output(sandbox.daemon_command().args([
        "uninstall-service",
        "--user",
        "--unit-dir",
        units.to_str().unwrap(),
    ]));
    assert!(ok && out.contains("removed"), "{out}");
    assert!(!unit_path.exists());
}

#[test]
fn version_and_completions_of_both_binaries() {
    for name in ["tidemarkd", "tidemark"] {
        let (ok, out) = output(Command::new(bin(name)).arg("--version"));
        assert!(ok, "{out}");
        assert_eq!(out.trim(), format!("{name} {}", env!("CARGO_PKG_VERSION")));
        for shell in ["bash", "zsh", "fish"] {
            let (ok, script) = output(Command::new(bin(name)).args(["completions", shell]));
            assert!(ok, "{name} completions {shell}: {script}");
            let sub = if name == "tidemarkd" {
                "install-service"
            } else {
                "metrics"
            };
            assert!(
                script.contains(sub),
                "{name} {shell} completion lacks {sub}"
            );
        }
        let (ok, help) = output(Command::new(bin(name)).arg("--help"));
        assert!(ok && help.contains("TIDEMARK_SOCKET"), "{help}");
    }
}
