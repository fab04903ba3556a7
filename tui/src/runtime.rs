//! The interactive loop: terminal setup and teardown, the input thread, the spinner clock, and
//! the event → update → draw cycle. Everything it reacts to arrives on one channel, so drawing
//! never waits on the daemon.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::{
    self as term, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
    MouseEventKind,
};
use ratatui::crossterm::execute;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::app::{Effect, Event, State, handle_event};
use crate::autostart::Endpoint;
use crate::config::Config;
use crate::{browser, clipboard, link, views};

const TICK: Duration = Duration::from_millis(100);
/// Ticks between two `Clock` events (countdowns show seconds).
const TICKS_PER_CLOCK: u32 = 10;
/// How often the input thread looks up from `poll` to see whether it should stop.
const INPUT_POLL: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("cannot use the terminal: {0}")]
    Terminal(#[from] io::Error),
    #[error("internal error: {0}")]
    Link(String),
}

/// Restores the terminal when dropped: on a normal return, on `?`, and while unwinding from a
/// panic. (`ratatui::try_init` also installs a panic hook that restores before the message is
/// printed, so the message is readable; restoring twice is harmless.)
struct RestoreOnDrop;

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// Stops the input thread when the loop ends, however it ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Run the TUI until the user quits.
pub async fn run(endpoint: Endpoint, config: Config) -> Result<(), TuiError> {
    let mut terminal = ratatui::try_init()?;
    let _restore = RestoreOnDrop;
    // The wheel scrolls lists (terminals still select text with shift held).
    execute!(io::stdout(), EnableMouseCapture)?;

    let (events_tx, mut events) = unbounded_channel();
    let (requests, requests_rx) = unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let _stop = StopOnDrop(stop.clone());
    spawn_input_thread(events_tx.clone(), stop);
    spawn_ticker(events_tx.clone());

    // Where the browser's pages go (never the link on the opener's command line).
    let pages = browser::page_dir(&endpoint.data_dir);
    let mut state = State::new(endpoint.socket.clone())
        .with_browser(browser::display_available())
        .with_config(config);
    let mut link = tokio::spawn(link::run(endpoint, requests_rx, events_tx));

    loop {
        views::draw(&mut terminal, &state)?;
        let event = tokio::select! {
            event = events.recv() => event,
            // The link only ends once we drop `requests`; ending earlier means it panicked.
            // Stop, rather than keep drawing on a terminal the panic hook already restored.
            joined = &mut link => return Err(TuiError::Link(joined.err().map_or_else(
                || "the daemon link stopped".to_string(),
                |err| err.to_string(),
            ))),
        };
        let Some(event) = event else {
            break;
        };
        let mut pending = vec![event];
        // Take whatever else already arrived before drawing again: a burst of replies or keys
        // costs one frame, not one per event.
        while let Ok(event) = events.try_recv() {
            pending.push(event);
        }
        for event in pending {
            for request in handle_event(&mut state, event) {
                tracing::debug!(?request, "request");
                let _ = requests.send(request);
            }
            for effect in state.take_effects() {
                if let Err(reason) = perform(terminal.backend_mut(), &pages, effect) {
                    handle_event(&mut state, Event::EffectFailed(reason));
                }
            }
        }
        if state.quit {
            break;
        }
    }
    tracing::info!("quit");
    browser::remove_pages();
    // Quitting with a connect flow open sent its cancel last: give the link a moment to deliver
    // it (it stops once `requests` is gone), with the terminal already given back.
    drop(requests);
    drop(_restore);
    let _ = tokio::time::timeout(link::CANCEL_GRACE * 2, link).await;
    Ok(())
}

/// A local effect. Never blocks: the browser opener is spawned and not waited for, and the
/// clipboard is one escape sequence written to the terminal.
fn perform(out: &mut impl Write, pages: &Path, effect: Effect) -> Result<(), String> {
    match effect {
        Effect::OpenUrl(url) => {
            browser::open(&url, pages).map_err(|err| format!("cannot open a browser: {err}"))
        }
        Effect::Copy(text) => out
            .write_all(clipboard::osc52(&text).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|err| format!("cannot copy: {err}")),
    }
}

/// crossterm's `read` blocks, so input lives on its own thread and feeds the channel.
fn spawn_input_thread(events: UnboundedSender<Event>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match term::poll(INPUT_POLL) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(err) => {
                    tracing::error!(error = %err, "reading the terminal failed");
                    return;
                }
            }
            let event = match term::read() {
                Ok(TermEvent::Key(key)) if key.kind == KeyEventKind::Press => Event::Key(key),
                Ok(TermEvent::Resize(..)) => Event::Resize,
                Ok(TermEvent::Mouse(mouse)) => match mouse.kind {
                    MouseEventKind::ScrollDown => Event::Scroll(true),
                    MouseEventKind::ScrollUp => Event::Scroll(false),
                    _ => continue,
                },
                Ok(_) => continue,
                Err(err) => {
                    tracing::error!(error = %err, "reading the terminal failed");
                    return;
                }
            };
            if events.send(event).is_err() {
                return;
            }
        }
    });
}

fn spawn_ticker(events: UnboundedSender<Event>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut ticks = 0u32;
        loop {
            interval.tick().await;
            let clock = ticks
                .is_multiple_of(TICKS_PER_CLOCK)
                .then(|| Event::Clock(crate::timefmt::now()));
            ticks = ticks.wrapping_add(1);
            for event in std::iter::once(Event::Tick).chain(clock) {
                if events.send(event).is_err() {
                    return;
                }
            }
        }
    });
}
