//! Arguments of `tidemark team ...`: teams, their members and invitations. Parsing only;
//! running them is in `commands` (`commands::members` for membership), wording their output in
//! `output`.

use clap::Subcommand;

use super::Format;

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum TeamCommand {
    /// Create a team; you become its owner
    Create {
        /// 1 to 64 characters, no leading or trailing space
        name: String,
        #[command(flatten)]
        format: Format,
    },
    /// List the teams you can see (and say when invitations wait for you)
    List {
        #[command(flatten)]
        format: Format,
    },
    /// Rename a team
    Rename {
        /// The team's current name (or #id)
        old: String,
        /// Its new name
        new: String,
        #[command(flatten)]
        format: Format,
    },
    /// Delete a team and everything stored for it (asks first unless --yes)
    Delete {
        /// The team to delete (a name, or #id)
        name: String,
        /// Do not ask for confirmation (needed when stdin is not a terminal)
        #[arg(long, short)]
        yes: bool,
        #[command(flatten)]
        format: Format,
    },
    /// Invite a local user into a team, or change a member's role (owners only)
    #[command(after_help = MEMBERS_HELP)]
    AddMember {
        /// The team, by name or #id
        team: String,
        /// A login name on this machine, or a numeric uid
        user: String,
        /// What the user may do in the team (once they accept, if they are not a member yet)
        #[arg(long, value_enum)]
        role: RoleArg,
        #[command(flatten)]
        format: Format,
    },
    /// Remove a user from a team, or withdraw their invitation (owners only; anyone may remove
    /// themselves to leave)
    #[command(after_help = MEMBERS_HELP)]
    RemoveMember {
        /// The team, by name or #id
        team: String,
        /// A login name on this machine, or a numeric uid
        user: String,
        #[command(flatten)]
        format: Format,
    },
    /// Who belongs to a team, with which role, and who is invited
    #[command(after_help = MEMBERS_HELP)]
    Members {
        /// The team, by name or #id
        team: String,
        #[command(flatten)]
        format: Format,
    },
    /// The invitations waiting for your answer (or, with --team, a team's pending invitations)
    #[command(after_help = INVITATIONS_HELP)]
    Invitations {
        /// List this team's pending invitations instead (a name, or #id; members only)
        #[arg(long, value_name = "NAME")]
        team: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Accept an invitation: join the team with the role it gives
    #[command(after_help = INVITATIONS_HELP)]
    Accept {
        /// The team, by the name or #id the invitation shows
        team: String,
        #[command(flatten)]
        format: Format,
    },
    /// Decline an invitation: nothing of it is kept
    #[command(after_help = INVITATIONS_HELP)]
    Decline {
        /// The team, by the name or #id the invitation shows
        team: String,
        #[command(flatten)]
        format: Format,
    },
}

const MEMBERS_HELP: &str = "\
Roles:
  member  sees the team: status, repositories, members, pull requests, metrics, sync progress
  admin   also connects and disconnects GitHub, tracks and untracks repositories, starts syncs
          and rotates the webhook secret
  owner   also manages membership, renames and deletes the team
The creator of a team is its owner; a team always keeps at least one owner. Several users share
one daemon this way: each sees only the teams they belong to. Root and the daemon's own user may
manage the membership of any team (to recover one whose owners are gone).

Nobody is made a member by someone else: adding a user who is not a member sends them an
invitation, and they join, with the role given, only once they accept it (`tidemark team accept
TEAM`, or `i` in the terminal UI). It waits 14 days. Adding again sends it again with the new
role; `remove-member` withdraws it; `members` lists who is invited. Changing the role of a member
takes effect at once.

Examples:
  tidemark team add-member platform alice --role admin
  tidemark team add-member platform 1002 --role member
  tidemark team members platform --json
  tidemark team remove-member platform alice";

const INVITATIONS_HELP: &str = "\
When an owner of a team adds you (`tidemark team add-member`), you are invited, not added: you
see nothing of the team, and it is not in your list, until you accept. An invitation shows the
team's #id and name, who sent it and the role it gives; it lapses after 14 days. Anyone who owns
a team may name it like one of yours, so look at who sent it: when you already have a team of
that name, the list says so, and after accepting you name the two by #id. Declining leaves
nothing behind; the owner may invite you again.

Examples:
  tidemark team invitations
  tidemark team accept platform
  tidemark team accept '#7'
  tidemark team decline '#7'
  tidemark team invitations --team platform --json";

/// A team role, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Owner,
    Admin,
    Member,
}

impl From<RoleArg> for tidemark_protocol::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Owner => tidemark_protocol::Role::Owner,
            RoleArg::Admin => tidemark_protocol::Role::Admin,
            RoleArg::Member => tidemark_protocol::Role::Member,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, Parser};

    #[test]
    fn invitation_commands_parse_and_explain() {
        let team = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Some(Command::Team { command }) => command,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            team(&["tidemark", "team", "invitations", "--json"]),
            TeamCommand::Invitations {
                team: None,
                format: Format { json: true }
            }
        );
        assert_eq!(
            team(&["tidemark", "team", "invitations", "--team", "platform"]),
            TeamCommand::Invitations {
                team: Some("platform".into()),
                format: Format { json: false }
            }
        );
        assert_eq!(
            team(&["tidemark", "team", "accept", "#7"]),
            TeamCommand::Accept {
                team: "#7".into(),
                format: Format { json: false }
            }
        );
        assert_eq!(
            team(&["tidemark", "team", "decline", "platform", "--json"]),
            TeamCommand::Decline {
                team: "platform".into(),
                format: Format { json: true }
            }
        );
        assert_eq!(
            Cli::try_parse_from(["tidemark", "team", "accept"])
                .unwrap_err()
                .exit_code(),
            2,
            "the team is required"
        );
        for command in ["invitations", "accept", "decline"] {
            let help = Cli::command()
                .find_subcommand_mut("team")
                .and_then(|team| team.find_subcommand_mut(command))
                .unwrap()
                .render_long_help()
                .to_string();
            assert!(
                help.contains("you are invited, not added") && help.contains("14 days"),
                "{command}: {help}"
            );
        }
    }
}
