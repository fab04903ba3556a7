//! `tidemark team add-member|remove-member|members|invitations|accept|decline`: who belongs to a
//! team and who is invited. Adding someone who is not a member only invites them; the output
//! says so and how they accept.

use tidemark_protocol::{Invitation, TeamRef, UserRef};

use super::{CliError, connect, emit};
use crate::autostart::Endpoint;
use crate::cli::TeamCommand;
use crate::client::Connection;
use crate::output;

pub(super) async fn run(command: TeamCommand, endpoint: &Endpoint) -> Result<(), CliError> {
    match command {
        TeamCommand::AddMember {
            team,
            user,
            role,
            format,
        } => {
            let conn = connect(endpoint).await?;
            let added = conn
                .team_add_member(TeamRef::parse(&team), UserRef::parse(&user), role.into())
                .await?;
            emit(format, &added, || output::member_added(&team, &added))
        }
        TeamCommand::RemoveMember { team, user, format } => {
            let conn = connect(endpoint).await?;
            let (team_ref, user_ref) = (TeamRef::parse(&team), UserRef::parse(&user));
            // Only for the words: was it an invitation that went? (Members may list them;
            // anything else the daemon's answer to the removal says.)
            let invited = pending_of(&conn, &team_ref, &user_ref).await;
            conn.team_remove_member(team_ref, user_ref).await?;
            let json = serde_json::json!({
                "removed": { "team": team, "user": user, "invitation": invited }
            });
            emit(format, &json, || {
                output::member_removed(&team, &user, invited)
            })
        }
        TeamCommand::Members { team, format } => {
            let conn = connect(endpoint).await?;
            let team_ref = TeamRef::parse(&team);
            let members = conn.team_members(team_ref.clone()).await?;
            if format.json {
                // The JSON stays the list of members; `team invitations --team` gives the rest.
                return emit(format, &members, String::new);
            }
            let invited = conn.team_invitations(team_ref).await?;
            emit(format, &members, || {
                output::team_members(&team, &members, &invited)
            })
        }
        TeamCommand::Invitations {
            team: Some(team),
            format,
        } => {
            let conn = connect(endpoint).await?;
            let invited = conn.team_invitations(TeamRef::parse(&team)).await?;
            emit(format, &invited, || {
                output::team_invitations(&team, &invited)
            })
        }
        TeamCommand::Invitations { team: None, format } => {
            let conn = connect(endpoint).await?;
            let mine = conn.invitations().await?;
            // To point out look-alikes: a team of the caller's with an invitation's name.
            let teams = if mine.is_empty() || format.json {
                Vec::new()
            } else {
                conn.team_list().await?
            };
            emit(format, &mine, || output::my_invitations(&mine, &teams))
        }
        TeamCommand::Accept { team, format } => {
            let conn = connect(endpoint).await?;
            let joined = conn.invitation_accept(TeamRef::parse(&team)).await?;
            emit(format, &joined, || output::invitation_accepted(&joined))
        }
        TeamCommand::Decline { team, format } => {
            let conn = connect(endpoint).await?;
            conn.invitation_decline(TeamRef::parse(&team)).await?;
            let json = serde_json::json!({ "declined": { "team": team } });
            emit(format, &json, || output::invitation_declined(&team))
        }
        other => unreachable!("not a membership command: {other:?}"),
    }
}

/// Whether `user` has a pending invitation to `team`, as far as the caller may see.
async fn pending_of(conn: &Connection, team: &TeamRef, user: &UserRef) -> bool {
    let Ok(invited) = conn.team_invitations(team.clone()).await else {
        return false;
    };
    invited.iter().any(|i: &Invitation| match user {
        UserRef::Uid(uid) => i.user.uid == *uid,
        UserRef::Name(name) => i.user.name == *name,
    })
}

/// The line `team list` ends with when invitations wait; empty when none do (or they cannot be
/// read: the list itself is what was asked for).
pub(super) async fn waiting_line(conn: &Connection) -> String {
    match conn.invitations().await {
        Ok(mine) => output::invitations_waiting(mine.len()),
        Err(err) => {
            tracing::info!(error = %err, "invitations not listed");
            String::new()
        }
    }
}
