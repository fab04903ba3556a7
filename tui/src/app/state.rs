//! Everything the screen shows. Views only read this; only `update` writes it.

use std::path::PathBuf;

use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, DaemonInfo, FlowId, Invitation, OrgChoice, TeamId, TeamInfo,
};

pub use super::daemon_state::{DaemonPanel, SetupDialog, SetupStep};
use super::event::Effect;
use super::selection::Selection;
use crate::config::Config;
pub use crate::tabs::TeamView;
pub use crate::tabs::pulls::PrDetail;
pub use crate::tabs::repos::picker::AddRepos;

use crate::widgets::text_input::TextInput;

/// Data that arrives from the daemon later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loadable<T> {
    Loading,
    Loaded(T),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Teams,
    Team(Box<TeamView>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateForm {
    pub input: TextInput,
    /// Why the name was refused, by local validation or by the daemon.
    pub error: Option<String>,
    pub submitting: bool,
    /// Opened from the end of the GitHub setup: once created, the team opens and its connect
    /// flow starts.
    pub connect_after: bool,
}

/// Where a GitHub connect flow stands, as its dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectPhase {
    /// `github_connect` asked; the daemon has not answered yet.
    Starting,
    /// The user has to act at GitHub; a status long-poll is in flight.
    Waiting {
        flow: FlowId,
        prompt: ConnectPrompt,
        expires_at: i64,
    },
    /// Web flow: GitHub signed the browser in as `github_login`; the daemon stores nothing until
    /// the user says it is the account to connect (`y`), and `n` cancels.
    ConfirmLogin {
        flow: FlowId,
        github_login: String,
        /// The confirmation was sent; waiting for the daemon.
        submitting: bool,
    },
    /// GitHub approved and the token sees several organizations.
    ChooseOrg {
        flow: FlowId,
        orgs: Vec<OrgChoice>,
        selected: usize,
        /// The choice was sent; waiting for the daemon to finish.
        submitting: bool,
    },
    /// The flow ended without connecting (the daemon's reason, or why it could not start).
    Failed { reason: String },
    /// The daemon has no GitHub OAuth app yet (its words): `g` opens the setup.
    NotConfigured { reason: String },
}

impl ConnectPhase {
    /// The daemon-side flow still open, which closing the dialog must cancel.
    pub fn open_flow(&self) -> Option<FlowId> {
        match self {
            ConnectPhase::Waiting { flow, .. }
            | ConnectPhase::ConfirmLogin { flow, .. }
            | ConnectPhase::ChooseOrg { flow, .. } => Some(*flow),
            ConnectPhase::Starting
            | ConnectPhase::Failed { .. }
            | ConnectPhase::NotConfigured { .. } => None,
        }
    }
}

/// The "Connect GitHub" dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectDialog {
    pub team: TeamId,
    pub team_name: String,
    pub method: ConnectMethod,
    /// The user agreed to replace the team's current token.
    pub replace: bool,
    /// Tells this dialog's start reply from a late one meant for an earlier dialog.
    pub attempt: u64,
    pub phase: ConnectPhase,
    /// Feedback on the last key (copied, opening the browser, no display here...).
    pub hint: Option<String>,
}

/// The invitations dialog (`i` on the teams screen): the caller's invitations into teams, to
/// accept or decline. The list itself is `State::invitations`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationsDialog {
    /// By team id.
    pub selected: Selection<TeamId>,
    /// An answer was sent for this team; waiting for the daemon.
    pub answering: Option<TeamId>,
}

/// Something drawn over the screen that takes the keys while open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modal {
    Help,
    Create(CreateForm),
    ConfirmDelete {
        id: TeamId,
        name: String,
    },
    Connect(ConnectDialog),
    /// The team already has a GitHub token: replace it?
    ConfirmReplace {
        id: TeamId,
        name: String,
        method: ConnectMethod,
        /// The organization it is connected to, when known.
        connection: Option<String>,
        /// The daemon's refusal, when that is how we learned it.
        daemon_says: Option<String>,
    },
    ConfirmDisconnect {
        id: TeamId,
        name: String,
        connection: Option<String>,
        /// Tracked repositories that go with it, when known.
        repos: Option<usize>,
        /// Also delete the synced history.
        purge: bool,
    },
    PullRequest(PrDetail),
    AddRepos(AddRepos),
    ConfirmUntrack {
        team: TeamId,
        repo: String,
    },
    ConfirmRotate {
        team: TeamId,
        name: String,
    },
    /// The guided GitHub setup (`g`).
    Setup(SetupDialog),
    /// The daemon panel (`D`).
    Daemon(DaemonPanel),
    /// The caller's invitations into teams (`i`).
    Invitations(InvitationsDialog),
}

/// The connection to the daemon, as far as the UI knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Starting,
    Connected {
        daemon_version: String,
    },
    Lost {
        reason: String,
    },
    /// The daemon this TUI started did not come up: nothing will bring it back by itself
    /// unless someone starts it (`s` here, or elsewhere).
    StartFailed {
        reason: String,
    },
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
    /// Invitations into teams waiting for the caller's answer; asked for with the teams.
    pub invitations: Loadable<Vec<Invitation>>,
    /// The daemon itself: whether GitHub is set up (the first screen), its settings (the
    /// panel), the values to register (the setup). Asked for with every reload.
    pub daemon_info: Loadable<DaemonInfo>,
    /// In the teams list, by team id.
    pub selected: Selection<TeamId>,
    pub modal: Option<Modal>,
    /// RPCs sent and not yet answered; the spinner turns while this is non-zero.
    pub in_flight: usize,
    pub notice: Option<Notice>,
    pub link: Link,
    pub spinner_tick: usize,
    /// Wall clock (Unix seconds) as of the last `Clock` event; 0 until the first. Countdowns
    /// read it, so rendering stays a pure function of state.
    pub now: i64,
    /// Whether a browser opened from here can appear (see [`crate::browser`]); set at start.
    pub can_open_browser: bool,
    /// Connect attempts so far; numbers each [`ConnectDialog`].
    pub connect_attempts: u64,
    /// Local side effects (open a browser, copy to the clipboard) for the runtime to perform;
    /// it drains them after every event.
    pub effects: Vec<Effect>,
    /// The config file's settings (theme, default team, columns).
    pub config: Config,
    /// The default team was opened once already (it is opened at start only).
    pub opened_default: bool,
    pub quit: bool,
}

impl State {
    pub fn new(socket: PathBuf) -> Self {
        State {
            socket,
            screen: Screen::Teams,
            teams: Loadable::Loading,
            invitations: Loadable::Loading,
            daemon_info: Loadable::Loading,
            selected: Selection::default(),
            modal: None,
            in_flight: 0,
            notice: None,
            link: Link::Connecting,
            spinner_tick: 0,
            now: 0,
            can_open_browser: false,
            connect_attempts: 0,
            effects: Vec::new(),
            config: Config::default(),
            opened_default: false,
            quit: false,
        }
    }

    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    pub fn with_browser(mut self, can_open_browser: bool) -> Self {
        self.can_open_browser = can_open_browser;
        self
    }

    /// The effects asked for since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn teams(&self) -> &[TeamInfo] {
        match &self.teams {
            Loadable::Loaded(teams) => teams,
            _ => &[],
        }
    }

    /// The invitations waiting, once loaded.
    pub fn invitations(&self) -> &[Invitation] {
        match &self.invitations {
            Loadable::Loaded(all) => all,
            _ => &[],
        }
    }

    pub fn selected_team(&self) -> Option<&TeamInfo> {
        self.teams().get(self.selected.row())
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Connected { .. })
    }

    /// Whether something is under way that deserves the spinner.
    pub fn is_busy(&self) -> bool {
        self.in_flight > 0 || matches!(self.link, Link::Connecting | Link::Starting)
    }
}
