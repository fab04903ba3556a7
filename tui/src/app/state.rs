//! Everything the screen shows. Views only read this; only `update` writes it.

use std::path::PathBuf;

use tidemark_protocol::{TeamId, TeamInfo, TeamStatus};

use crate::widgets::text_input::TextInput;

/// Data that arrives from the daemon later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loadable<T> {
    Loading,
    Loaded(T),
    Failed(String),
}

/// The team being looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamView {
    pub id: TeamId,
    /// Known from the list, so the title shows before the details arrive.
    pub name: String,
    pub status: Loadable<TeamStatus>,
    pub selected_repo: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Teams,
    Team(TeamView),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateForm {
    pub input: TextInput,
    /// Why the name was refused, by local validation or by the daemon.
    pub error: Option<String>,
    pub submitting: bool,
}

/// Something drawn over the screen that takes the keys while open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modal {
    Help,
    Create(CreateForm),
    ConfirmDelete { id: TeamId, name: String },
}

/// The connection to the daemon, as far as the UI knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Starting,
    Connected { daemon_version: String },
    Lost { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Shown when the daemon cannot be reached, so the user knows which one we tried.
    pub socket: PathBuf,
    pub screen: Screen,
    pub teams: Loadable<Vec<TeamInfo>>,
    pub selected: usize,
    pub modal: Option<Modal>,
    /// RPCs sent and not yet answered; the spinner turns while this is non-zero.
    pub in_flight: usize,
    pub notice: Option<Notice>,
    pub link: Link,
    pub spinner_tick: usize,
    pub quit: bool,
}

impl State {
    pub fn new(socket: PathBuf) -> Self {
        State {
            socket,
            screen: Screen::Teams,
            teams: Loadable::Loading,
            selected: 0,
            modal: None,
            in_flight: 0,
            notice: None,
            link: Link::Connecting,
            spinner_tick: 0,
            quit: false,
        }
    }

    pub fn teams(&self) -> &[TeamInfo] {
        match &self.teams {
            Loadable::Loaded(teams) => teams,
            _ => &[],
        }
    }

    pub fn selected_team(&self) -> Option<&TeamInfo> {
        self.teams().get(self.selected)
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Connected { .. })
    }

    /// Whether something is under way that deserves the spinner.
    pub fn is_busy(&self) -> bool {
        self.in_flight > 0 || matches!(self.link, Link::Connecting | Link::Starting)
    }
}
