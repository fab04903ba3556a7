//! The real `tidemark` refuses a bad config file before touching the terminal, naming the file,
//! the key and what is allowed.

use std::process::{Command, Stdio};

fn run_with_config(text: &str) -> (Option<i32>, String) {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("tidemark")).unwrap();
    std::fs::write(home.path().join("tidemark/config.toml"), text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .env("XDG_CONFIG_HOME", home.path())
        .arg("--socket")
        .arg(home.path().join("none.sock"))
        .arg("--data-dir")
        .arg(home.path().join("data"))
        .arg("--no-start")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_config_file_is_refused_with_where_and_what() {
    let (code, stderr) = run_with_config("theme = \"neon\"\n");
    assert_ne!(code, Some(0));
    assert!(stderr.contains("config.toml"), "{stderr}");
    assert!(stderr.contains("'neon' is not a theme"), "{stderr}");

    let (code, stderr) = run_with_config("[pull_requests]\ncolumns = 3\n");
    assert_ne!(code, Some(0));
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn a_good_config_file_gets_as_far_as_the_terminal_check() {
    let (code, stderr) = run_with_config("theme = \"mono\"\ndefault_tab = \"metrics\"\n");
    assert_ne!(code, Some(0));
    assert!(!stderr.contains("config"), "{stderr}");
}
