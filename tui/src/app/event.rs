//! What flows between the UI loop and the daemon link: requests out, events in.

use ratatui::crossterm::event::KeyEvent;
use tidemark_protocol::{TeamId, TeamInfo, TeamStatus};

/// An RPC the UI wants made. The link runs it on its own task and answers with a [`Reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    ListTeams,
    LoadTeam(TeamId),
    CreateTeam(String),
    DeleteTeam { id: TeamId, name: String },
}

/// The answer to a [`Request`]. Errors are already worded for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Teams(Result<Vec<TeamInfo>, String>),
    Team {
        id: TeamId,
        result: Result<TeamStatus, String>,
    },
    Created(Result<TeamInfo, String>),
    Deleted {
        id: TeamId,
        name: String,
        result: Result<(), String>,
    },
}

/// Changes in the connection to the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Nothing answered, so the built-in daemon is being started.
    Starting,
    Connected {
        daemon_version: String,
    },
    /// Not connected (lost, or never reached); the link keeps retrying.
    Lost {
        reason: String,
    },
}

/// Everything the UI loop reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Key(KeyEvent),
    /// The terminal changed size: redraw.
    Resize,
    /// Animation clock for the spinner.
    Tick,
    Link(LinkEvent),
    Reply(Reply),
}
