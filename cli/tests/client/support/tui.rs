//! The TUI without a terminal: the update function driven through the real link against the
//! fake daemon, as the runtime drives it (requests out, events in). Every wait is on a
//! condition of the state, bounded by [`PATIENCE`].

// Each test binary uses a different part.
#![allow(dead_code)]

use std::path::Path;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_tui::app::{Event, Loadable, Request, Screen, State, handle_event};
use tidemark_tui::autostart::Endpoint;
use tidemark_tui::{link, views};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::connect::PATIENCE;

/// A key press without modifiers.
pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Each character of `text` as a key press.
pub fn typed(text: &str) -> Vec<Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

/// Hand `events` to the update function, dropping the requests it makes.
pub fn send(state: &mut State, events: impl IntoIterator<Item = Event>) {
    for event in events {
        handle_event(state, event);
    }
}

pub struct Tui {
    pub state: State,
    pub requests: Option<UnboundedSender<Request>>,
    pub events: UnboundedReceiver<Event>,
    pub link: Option<JoinHandle<()>>,
}

impl Tui {
    /// The link started on `socket` (never starting a daemon); nothing waited for yet.
    pub fn start(socket: &Path) -> Tui {
        let endpoint = Endpoint {
            data_dir: socket.parent().unwrap().join("data"),
            socket: socket.to_path_buf(),
            autostart: false,
        };
        let (req_tx, req_rx) = unbounded_channel();
        let (ev_tx, ev_rx) = unbounded_channel();
        let link = tokio::spawn(link::run(endpoint, req_rx, ev_tx));
        Tui {
            state: State::new(socket.to_path_buf()),
            requests: Some(req_tx),
            events: ev_rx,
            link: Some(link),
        }
    }

    pub fn handle(&mut self, event: Event) {
        for request in handle_event(&mut self.state, event) {
            let _ = self.requests.as_ref().unwrap().send(request);
        }
    }

    pub fn press(&mut self, keys: &str) {
        for c in keys.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    pub fn key(&mut self, code: KeyCode) {
        self.handle(key(code));
    }

    /// Apply events from the link until `done` holds.
    pub async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(&self.state) {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:#?}", self.state))
                .expect("link alive");
            self.handle(event);
        }
    }

    /// Open the team `name` and wait for its status.
    pub async fn open(&mut self, name: &str) {
        let index = self.state.teams().iter().position(|t| t.name == name);
        for _ in 0..index.unwrap() {
            self.press("j");
        }
        self.key(KeyCode::Enter);
        self.until(
            "the team view",
            |s| matches!(&s.screen, Screen::Team(v) if matches!(v.status, Loadable::Loaded(_))),
        )
        .await;
    }

    /// The screen as text at `width` x `height`, one string per row.
    pub fn screen(&self, width: u16, height: u16) -> Vec<String> {
        screen_lines(&self.state, width, height)
    }
}

/// `state` drawn at `width` x `height`, one string per row (a wide character's second cell
/// left out, so text reads as typed).
pub fn screen_lines(state: &State, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    views::draw(&mut terminal, state).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            (0..width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// Whether some row of `lines` holds `text` whole.
pub fn shows(lines: &[String], text: &str) -> bool {
    lines.iter().any(|line| line.contains(text))
}
