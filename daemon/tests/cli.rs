//! The `tidemarkd` binary's own command line. (Also makes cargo build the binary for the
//! workspace's end-to-end tests.)

use std::process::Command;

fn tidemarkd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tidemarkd"))
}

#[test]
fn help_documents_every_flag_and_environment_variable() {
    let out = tidemarkd().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--data-dir",
        "--socket",
        "TIDEMARK_DATA_DIR",
        "TIDEMARK_SOCKET",
        "INTEGRATION_ENCRYPTION_KEY",
        "RUST_LOG",
        "rotate-key",
        "generate-key",
    ] {
        assert!(
            help.contains(needle),
            "--help does not mention {needle}:\n{help}"
        );
    }
}

#[test]
fn version_and_generated_keys() {
    let out = tidemarkd().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("tidemarkd {}", env!("CARGO_PKG_VERSION"))
    );
    let a = tidemarkd().arg("generate-key").output().unwrap();
    let b = tidemarkd().arg("generate-key").output().unwrap();
    let (a, b) = (
        String::from_utf8(a.stdout).unwrap(),
        String::from_utf8(b.stdout).unwrap(),
    );
    assert_eq!(a.trim().len(), 44, "32 bytes in url-safe base64");
    assert_ne!(a, b);
}

#[test]
fn unknown_flags_are_usage_errors() {
    let out = tidemarkd().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}
