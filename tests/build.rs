//! Decides, when the tests are built, which end-to-end tests this machine cannot run, so that
//! they are marked ignored with their reason, which the test runner counts, rather than passing
//! without having checked anything.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tidemark_no_tmux)");
    println!("cargo::rustc-check-cfg=cfg(tidemark_not_root)");
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
}
