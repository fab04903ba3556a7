//! The TUI's figures with 50,000 pull requests in a team, printed (not asserted):
//! - render time per frame, p50/p99, of each tab at 100x30 and 80x24, moving the selection
//!   between frames (goal p99 ≤ 5 ms); the data comes from a real daemon over the real client
//! - the cost of re-sorting and re-filtering the table (done on a key, not per frame)
//! - the real `tidemark` TUI's memory, showing that team's pull requests in tmux (goal ≤ 100 MB)
//!
//! Run: cargo build --release --workspace && target/release/tui-bench [--prs N]

use anyhow::{Context, Result, bail};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tidemark_tests::harness::{Daemon, Sandbox, bin, seed_connected_team, wait_until};
use tidemark_tests::seed::seed_pull_requests;
use tidemark_tests::tui_state::{char_key, key, load_team_screen};
use tidemark_tui::app::{State, handle_event};
use tidemark_tui::tabs::Tab;
use tidemark_tui::views;

const FRAMES: usize = 2_000;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let prs: u64 = match args.iter().position(|a| a == "--prs") {
        Some(i) => args.get(i + 1).context("--prs takes a number")?.parse()?,
        None => 50_000,
    };
    let sandbox = Sandbox::new();
    let t = Instant::now();
    let team = seed_connected_team(
        &sandbox,
        "bench",
        "gho_benchtoken0000000000000000000000000000",
        "ghr_x",
        "hook",
    );
    seed_pull_requests(&sandbox, team, prs)?;
    println!("seeded {prs} pull requests in {:.1?}", t.elapsed());
    let daemon = Daemon::start(&sandbox, 0);

    let mut state = load_state(&daemon.socket, team)?;
    let loaded = match &state.screen {
        tidemark_tui::app::Screen::Team(view) => view.pulls().len(),
        _ => 0,
    };
    println!("the team screen holds {loaded} pull requests");
    measure_rebuilds(&mut state);
    for (width, height) in [(100, 30), (80, 24)] {
        for tab in Tab::ALL {
            measure_frames(&mut state, tab, width, height)?;
        }
    }
    match tui_rss(&sandbox, &daemon.socket, prs) {
        Ok((rss, peak)) => println!(
            "tidemark TUI memory, {prs} pull requests on screen: RSS {rss:.1} MB, peak {peak:.1} MB   [goal ≤ 100 MB]"
        ),
        Err(err) => println!("tidemark TUI memory: not measured ({err})"),
    }
    assert!(daemon.stop().success());
    Ok(())
}

fn load_state(socket: &Path, team: u64) -> Result<State> {
    let t = Instant::now();
    let state = load_team_screen(socket, team, tidemark_tui::timefmt::now())?;
    println!(
        "team screen loaded from the daemon (pull requests, people, metrics) in {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(state)
}

fn pct(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e3
}

/// What a key that re-sorts or re-filters the table costs (update, not render).
fn measure_rebuilds(state: &mut State) {
    handle_event(state, char_key('3'));
    let mut sorts = Vec::new();
    for _ in 0..18 {
        let t = Instant::now();
        handle_event(state, char_key('s'));
        sorts.push(t.elapsed());
    }
    let mut filters = Vec::new();
    handle_event(state, char_key('/'));
    for c in "widget part 1".chars() {
        let t = Instant::now();
        handle_event(state, char_key(c));
        filters.push(t.elapsed());
    }
    handle_event(state, key(KeyCode::Esc));
    println!(
        "re-sort on `s`: p50 {:.1} ms, max {:.1} ms; re-filter per typed character: p50 {:.1} ms, max {:.1} ms",
        pct(&mut sorts, 0.5),
        pct(&mut sorts, 1.0),
        pct(&mut filters, 0.5),
        pct(&mut filters, 1.0)
    );
}

fn measure_frames(state: &mut State, tab: Tab, width: u16, height: u16) -> Result<()> {
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    handle_event(state, char_key(char::from(b'1' + tab.index() as u8)));
    handle_event(state, char_key('g'));
    let mut samples = Vec::with_capacity(FRAMES);
    for i in 0..FRAMES {
        // Move through the list between frames (page jumps now and then), as a user would.
        let step = if i % 50 == 49 {
            key(KeyCode::PageDown)
        } else {
            char_key('j')
        };
        handle_event(state, step);
        let t = Instant::now();
        views::draw(&mut terminal, state)?;
        samples.push(t.elapsed());
    }
    println!(
        "render {width}x{height} {:<14} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({FRAMES} frames)   [goal p99 ≤ 5 ms]",
        tab.title(),
        pct(&mut samples, 0.5),
        pct(&mut samples, 0.99),
        pct(&mut samples, 1.0)
    );
    Ok(())
}

fn tmux(server: &str, args: &[&str]) -> Result<String> {
    let out = Command::new("tmux")
        .arg("-L")
        .arg(server)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("tmux not installed")?;
    if !out.status.success() {
        bail!("tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn status_mb(pid: u32, field: &str) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .context("no such field")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb / 1024.0)
}

/// Run the real TUI in tmux on the Pull requests tab until it shows every PR; its RSS then.
fn tui_rss(sandbox: &Sandbox, socket: &Path, prs: u64) -> Result<(f64, f64)> {
    let config = tempfile::tempdir()?;
    std::fs::create_dir_all(config.path().join("tidemark"))?;
    std::fs::write(
        config.path().join("tidemark/config.toml"),
        "default_team = \"bench\"\ndefault_tab = \"pulls\"\n",
    )?;
    let server = format!("tidemark-bench-{}", std::process::id());
    let command = format!(
        "exec env XDG_CONFIG_HOME='{}' '{}' --socket '{}' --data-dir '{}' --no-start",
        config.path().display(),
        bin("tidemark").display(),
        socket.display(),
        sandbox.data_dir().display()
    );
    tmux(
        &server,
        &[
            "new-session",
            "-d",
            "-s",
            "tui",
            "-x",
            "100",
            "-y",
            "30",
            &command,
        ],
    )?;
    let result = (|| {
        let want = format!("{prs}/{prs}");
        wait_until(Duration::from_secs(60), "the TUI to show every PR", || {
            let screen = tmux(&server, &["capture-pane", "-p", "-t", "tui"]).ok()?;
            screen.contains(&want).then_some(())
        });
        let pid: u32 = tmux(&server, &["display", "-p", "-t", "tui", "#{pane_pid}"])?
            .trim()
            .parse()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))?;
        if comm.trim() != "tidemark" {
            bail!("the pane runs {comm:?}, not tidemark");
        }
        // Settle: a few watch rounds, then read.
        std::thread::sleep(Duration::from_secs(3));
        Ok((status_mb(pid, "VmRSS:")?, status_mb(pid, "VmHWM:")?))
    })();
    let _ = tmux(&server, &["kill-server"]);
    result
}
