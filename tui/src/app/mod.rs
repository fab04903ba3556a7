//! The TUI's model: state, the actions keys map to, the events that arrive, and the update
//! function tying them together. Nothing in here does I/O.

pub mod action;
pub mod daemon_state;
pub mod event;
pub mod selection;
pub mod state;
pub mod update;

#[cfg(test)]
mod daemon_tests;
#[cfg(test)]
mod github_tests;
#[cfg(test)]
mod invitation_tests;
#[cfg(test)]
mod selection_tests;
#[cfg(test)]
mod team_tests;
#[cfg(test)]
mod tests;

pub use action::{Action, action_for_key};
pub use event::{Effect, Event, LinkEvent, OperateError, Reply, Request, StartError};
pub use state::{
    ConnectDialog, ConnectPhase, CreateForm, DaemonPanel, InvitationsDialog, Link, Loadable, Modal,
    Notice, Screen, SetupDialog, SetupStep, State, TeamView,
};
pub use update::{apply, handle_event};
