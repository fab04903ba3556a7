//! Decides, when the tests are built, which end-to-end tests this machine cannot run, so that
//! they are marked ignored with their reason, which the test runner counts, rather than passing
//! without having checked anything.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tidemark_no_tmux)");
    println!("cargo::rustc-check-cfg=cfg(tidemark_not_root)");
    println!("cargo::rustc-check-cfg=cfg(tidemark_few_open_files)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-changed=build.rs");
    let tmux = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if !tmux {
        println!("cargo::rustc-cfg=tidemark_no_tmux");
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .is_some_and(|uid| uid.trim() == "0");
    if !root {
        println!("cargo::rustc-cfg=tidemark_not_root");
    }
    // `e2e/webhooks_attack.rs` holds 1,100 idle connections open against the daemon's 1,024 slots.
    let open_files = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|n| n.trim().to_string());
    let enough = open_files
        .as_deref()
        .is_some_and(|n| n == "unlimited" || n.parse::<u64>().is_ok_and(|n| n >= 2_400));
    if !enough {
        println!("cargo::rustc-cfg=tidemark_few_open_files");
    }
}
