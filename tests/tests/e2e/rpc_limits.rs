//! What one local user can cost the real daemon over its socket (issue 15): a flood of
//! connections under a low file limit (EMFILE) must not spin a core nor fill the log, and the
//! daemon answers once the flood ends; the 65th connection of one uid is refused with a reason
//! the client shows; a 16 MiB length prefix closes its connection without growing the daemon;
//! a symlink planted as the socket's lock file stops the start, and its target is untouched.
//! Each test prints its figures (`--no-capture`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};
use tidemark_tests::harness::{Daemon, Sandbox, block_on_shared, connect, wait_until};

/// Run a command; (success, stdout + stderr).
fn output(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The process's user + system CPU time so far (`/proc/PID/stat` fields 14 and 15).
fn cpu_time(pid: i32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces), from field 3 on.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// The process's resident set size, in bytes.
fn rss(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// `tidemark team list` against the sandbox's daemon, never starting one.
fn team_list(sandbox: &Sandbox) -> (bool, String) {
    output(
        sandbox
            .client_command()
            .args(["--no-start", "team", "list"]),
    )
}

/// Whether the daemon closed `stream` (EOF or reset) within `within`.
fn closed_within(stream: &mut UnixStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

/// How long the CPU time and the log are measured while the flood holds the daemon out of
/// descriptors: a measuring interval, not a wait for something to happen.
const FLOOD_WINDOW: Duration = Duration::from_secs(3);

#[test]
fn out_of_file_descriptors_the_daemon_neither_spins_nor_floods_its_log_and_answers_after() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child before exec.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 64,
                    rlim_max: 64,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", daemon.pid())).unwrap();
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.contains(" 64 ")),
        "{limits}"
    );
    let log_before = file_len(&daemon.log);
    let cpu_before = cpu_time(daemon.pid());
    // More connections than the daemon has descriptors: the rest wait in the backlog, and the
    // listener stays ready while every accept fails with EMFILE.
    let flood: Vec<UnixStream> = (0..200)
        .map_while(|_| UnixStream::connect(&daemon.socket).ok())
        .collect();
    assert!(flood.len() > 100, "only {} connections", flood.len());
    wait_until(
        Duration::from_secs(20),
        "the daemon to run out of descriptors",
        || {
            let log = daemon.log_text();
            log.contains("accept failed")
                .then_some(())
                .filter(|()| log.contains("Too many open files"))
        },
    );
    let (cpu_start, log_start, started) = (
        cpu_time(daemon.pid()),
        file_len(&daemon.log),
        Instant::now(),
    );
    std::thread::sleep(FLOOD_WINDOW);
    let cpu = cpu_time(daemon.pid()) - cpu_start;
    let logged = file_len(&daemon.log) - log_start;
    let window = started.elapsed();
    println!(
        "EMFILE flood: {} connections, RLIMIT_NOFILE 64: daemon CPU {:?} in {window:?} ({:.0}%), \
         log +{logged} bytes in the window, +{} bytes since the flood began (CPU {:?})",
        flood.len(),
        cpu,
        100.0 * cpu.as_secs_f64() / window.as_secs_f64(),
        file_len(&daemon.log) - log_before,
        cpu_time(daemon.pid()) - cpu_before,
    );
    // Spinning took a whole core (87% on this loaded 2-core machine before the fix); a few
    // accepts a second take next to nothing.
    assert!(
        cpu < window / 10,
        "the daemon used {cpu:?} of CPU in {window:?} while out of descriptors"
    );
    // One line per 10 s at most (it was 98 MB in 5 s). What else there is comes from the
    // connections accepted before the descriptors ran out (at trace level, about 19 KB; some
    // of it may land inside the window), so the bound is on the whole flood.
    let flood_log = file_len(&daemon.log) - log_before;
    assert!(
        flood_log < 64 * 1024,
        "the log grew {flood_log} bytes during the flood ({logged} in the window)"
    );
    let failures = daemon.log_text().matches("accept failed").count();
    assert!(failures <= 2, "{failures} accept failure lines");

    drop(flood);
    let (ok, out) = team_list(&sandbox);
    assert!(ok && out.contains("No teams yet"), "after the flood: {out}");
    assert!(wait_until(
        Duration::from_secs(10),
        "the recovery to be logged",
        || {
            daemon
                .log_text()
                .contains("accepting connections again")
                .then_some(true)
        }
    ));
}

#[test]
fn the_65th_connection_of_one_user_is_refused_with_a_reason_the_client_shows() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 0);
    // 64 connections, each through the handshake, so each is known to hold its place (the
    // harness's readiness probe may still hold one for a moment: then wait for it to go).
    let mut held = Vec::new();
    while held.len() < 64 {
        match block_on_shared(connect(&daemon.socket)) {
            Ok(client) => held.push(client),
            Err(e) => {
                assert!(
                    e.to_string().contains("connections from uid"),
                    "connection {}: {e}",
                    held.len() + 1
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    let (ok, out) = team_list(&sandbox);
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert!(!ok, "the 65th connection was served: {out}");
    assert!(
        out.contains(&format!(
            "the daemon already has 64 connections from uid {uid}, the most it takes from one user"
        )),
        "{out}"
    );
    println!("65th connection: {}", out.trim());
    // A place given back is a place for the next one.
    drop(held.pop());
    let out = wait_until(
        Duration::from_secs(10),
        "a connection once one closed",
        || {
            let (ok, out) = team_list(&sandbox);
            ok.then_some(out)
        },
    );
    assert!(out.contains("No teams yet"), "{out}");
    drop(held);
    assert!(daemon.stop().success());
}

#[test]
fn a_16_mib_length_prefix_closes_its_connection_and_the_daemon_does_not_grow() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 0);
    let rss_before = rss(daemon.pid());

    // The attack: 100 connections each starting a 16 MiB frame.
    let mut closed = 0;
    let mut conns = Vec::new();
    for _ in 0..100 {
        let mut s = UnixStream::connect(&daemon.socket).unwrap();
        s.write_all(&(16u32 << 20).to_be_bytes()).unwrap();
        // The daemon closes it at the prefix: the body cannot all go in.
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        let body = vec![0u8; 1 << 20];
        let mut refused = false;
        for _ in 0..16 {
            if s.write_all(&body).is_err() {
                refused = true;
                break;
            }
        }
        if refused || closed_within(&mut s, Duration::from_secs(10)) {
            closed += 1;
        }
        conns.push(s);
    }
    let rss_big = rss(daemon.pid());
    assert_eq!(closed, 100, "every 16 MiB frame closes its connection");

    // Frames just under the 1 MiB limit, left unfinished on 64 connections: past the uid's
    // 8 MiB of unfinished frames the next one is closed.
    drop(conns);
    let mut held = Vec::new();
    let mut cut = 0;
    wait_until(
        Duration::from_secs(10),
        "the closed connections to go",
        || {
            let ok = team_list(&sandbox).0;
            ok.then_some(())
        },
    );
    for _ in 0..64 {
        let mut s = UnixStream::connect(&daemon.socket).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        let len = 1024 * 1024u32;
        let mut frame = len.to_be_bytes().to_vec();
        frame.resize(4 + len as usize - 1, 0);
        if s.write_all(&frame).is_err() || closed_within(&mut s, Duration::from_millis(200)) {
            cut += 1;
        }
        held.push(s);
    }
    let rss_partial = rss(daemon.pid());
    println!(
        "RSS: {} MB before; {} MB after 100 connections x 16 MiB prefix (all closed); {} MB with \
         64 connections x (1 MiB - 1 byte) unfinished ({cut} of them closed by the per-uid budget)",
        rss_before >> 20,
        rss_big >> 20,
        rss_partial >> 20
    );
    assert!(
        cut >= 64 - 8,
        "only {cut} connections were cut at the 8 MiB budget"
    );
    assert!(
        rss_big < rss_before + (32 << 20),
        "RSS grew from {rss_before} to {rss_big} bytes"
    );
    assert!(
        rss_partial < rss_before + (48 << 20),
        "RSS grew from {rss_before} to {rss_partial} bytes"
    );
    drop(held);
    let (ok, out) = team_list(&sandbox);
    assert!(ok, "{out}");
    // The refusals were logged at warn level once per 10 s (each connection's end is a debug
    // line, which the default `info` leaves out).
    let log = daemon.log_text();
    let warned = |needle: &str| {
        log.lines()
            .filter(|l| l.contains(" WARN ") && l.contains(needle))
            .count()
    };
    assert!(
        log.contains("a request frame of 16777216 bytes is over the limit of 1048576 bytes"),
        "{log}"
    );
    assert!(warned("is over the limit of") <= 2, "{log}");
    assert!(warned("unfinished request frames of uid") <= 2, "{log}");
    assert!(daemon.stop().success());
}

#[test]
fn a_symlink_planted_as_the_lock_file_stops_the_start_and_its_target_is_untouched() {
    let sandbox = Sandbox::new();
    let run_dir = sandbox.socket().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&run_dir).unwrap();
    let victim = sandbox.dir.path().join("victim.txt");
    std::fs::write(&victim, "the owner's data\n").unwrap();
    let lock = run_dir.join("tidemark.sock.lock");
    std::os::unix::fs::symlink(&victim, &lock).unwrap();

    let (ok, out) = output(sandbox.daemon_command().arg("run"));
    assert!(!ok, "started through a symlinked lock file: {out}");
    assert!(
        out.contains(&format!("refusing {}", lock.display()))
            && out.contains("the lock file is a symbolic link"),
        "{out}"
    );
    // The client that starts it says why, too.
    let (ok, out) = output(sandbox.client_command().args(["team", "list"]));
    assert!(
        !ok && out.contains("the lock file is a symbolic link"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "the owner's data\n"
    );
    assert!(!sandbox.socket().exists(), "nothing was bound");

    // Once the symlink is gone, the daemon starts and makes a lock file of its own.
    std::fs::remove_file(&lock).unwrap();
    let daemon = Daemon::start(&sandbox, 1);
    let meta = std::fs::symlink_metadata(&lock).unwrap();
    assert!(meta.file_type().is_file());
    assert!(daemon.stop().success());
}
