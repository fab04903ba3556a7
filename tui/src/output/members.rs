//! Human output of `team add-member`, `remove-member`, `members`, `invitations`, `accept` and
//! `decline`.

use tidemark_protocol::{Invitation, MemberAdded, TeamInfo, TeamMembership};

use super::github::printable;
use crate::columns::{self, Align};
use crate::timefmt;

/// How the invited user answers, on a line of its own: by id, which cannot be mistaken.
fn accept_command(team_id: u64) -> String {
    format!("tidemark team accept '#{team_id}'")
}

pub fn member_added(team: &str, added: &MemberAdded) -> String {
    match added {
        MemberAdded::Member(m) => format!(
            "{} (uid {}) is now {} of team '{}'.\n",
            printable(&m.user.name),
            m.user.uid,
            m.role.as_str(),
            printable(team)
        ),
        MemberAdded::Invited(i) => format!(
            "Invited {} (uid {}) to team '{}' (#{}) as {}.\n\
             They join only once they accept, until {}: as {}, run\n  {}\n\
             or press i in the terminal UI.\n",
            printable(&i.user.name),
            i.user.uid,
            printable(&i.team_name),
            i.team_id,
            i.role.as_str(),
            timefmt::utc(i.expires_at),
            printable(&i.user.name),
            accept_command(i.team_id),
        ),
    }
}

/// `invitation`: what went was an invitation, not a membership.
pub fn member_removed(team: &str, user: &str, invitation: bool) -> String {
    if invitation {
        format!(
            "Withdrew the invitation of {} to team '{}'.\n",
            printable(user),
            printable(team)
        )
    } else {
        format!(
            "Removed {} from team '{}'.\n",
            printable(user),
            printable(team)
        )
    }
}

/// Aligned table: user, uid, role, since; then who is invited, if anyone.
pub fn team_members(team: &str, members: &[TeamMembership], invited: &[Invitation]) -> String {
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            vec![
                printable(&m.user.name),
                m.user.uid.to_string(),
                m.role.as_str().into(),
                timefmt::utc(m.since),
            ]
        })
        .collect();
    let mut out = format!("Team '{}'\n", printable(team));
    out.push_str(&columns::text_table(
        &[
            ("USER", Align::Left),
            ("UID", Align::Right),
            ("ROLE", Align::Left),
            ("SINCE", Align::Left),
        ],
        &rows,
        2,
        "",
    ));
    if !invited.is_empty() {
        out.push_str("\nInvited (members once they accept):\n");
        out.push_str(&invited_table(invited));
    }
    out
}

/// Who is invited into one team: user, uid, role, by whom, until when.
fn invited_table(invited: &[Invitation]) -> String {
    let rows: Vec<Vec<String>> = invited
        .iter()
        .map(|i| {
            vec![
                printable(&i.user.name),
                i.user.uid.to_string(),
                i.role.as_str().into(),
                printable(&i.invited_by.name),
                timefmt::utc(i.expires_at),
            ]
        })
        .collect();
    columns::text_table(
        &[
            ("USER", Align::Left),
            ("UID", Align::Right),
            ("ROLE", Align::Left),
            ("INVITED BY", Align::Left),
            ("UNTIL", Align::Left),
        ],
        &rows,
        2,
        "",
    )
}

/// `team invitations --team`: a team's pending invitations.
pub fn team_invitations(team: &str, invited: &[Invitation]) -> String {
    if invited.is_empty() {
        return format!("No invitations pending in team '{}'.\n", printable(team));
    }
    format!(
        "Invited into team '{}' (members once they accept):\n{}",
        printable(team),
        invited_table(invited)
    )
}

/// The caller's own teams named like `invitation`'s team (ignoring case, as names are).
pub fn look_alikes<'a>(invitation: &Invitation, teams: &'a [TeamInfo]) -> Vec<&'a TeamInfo> {
    let name = tidemark_protocol::nfc(&invitation.team_name).to_lowercase();
    teams
        .iter()
        .filter(|t| {
            t.id != invitation.team_id && tidemark_protocol::nfc(&t.name).to_lowercase() == name
        })
        .collect()
}

/// `team invitations`: the caller's, with a note where one names a team like one of theirs.
pub fn my_invitations(mine: &[Invitation], teams: &[TeamInfo]) -> String {
    if mine.is_empty() {
        return "No invitations waiting for you.\n".into();
    }
    let rows: Vec<Vec<String>> = mine
        .iter()
        .map(|i| {
            vec![
                format!("#{}", i.team_id),
                printable(&i.team_name),
                i.role.as_str().into(),
                format!(
                    "{} (uid {})",
                    printable(&i.invited_by.name),
                    i.invited_by.uid
                ),
                timefmt::utc(i.expires_at),
            ]
        })
        .collect();
    let mut out = String::from("Invitations waiting for your answer:\n");
    out.push_str(&columns::text_table(
        &[
            ("ID", Align::Left),
            ("TEAM", Align::Left),
            ("ROLE", Align::Left),
            ("FROM", Align::Left),
            ("UNTIL", Align::Left),
        ],
        &rows,
        2,
        "",
    ));
    for i in mine {
        let alikes = look_alikes(i, teams);
        if !alikes.is_empty() {
            let ids: Vec<String> = alikes.iter().map(|t| format!("#{}", t.id)).collect();
            out.push_str(&format!(
                "Note: #{} is another team than your {} of that name; the invitation comes from \
                 {}. Once accepted, name them by #id.\n",
                i.team_id,
                ids.join(", "),
                printable(&i.invited_by.name),
            ));
        }
    }
    let first = mine[0].team_id;
    out.push_str(&format!(
        "Accept: {}   Decline: tidemark team decline '#{first}'\n",
        accept_command(first)
    ));
    out
}

pub fn invitation_accepted(team: &TeamInfo) -> String {
    format!(
        "Joined team '{}' (#{}) as {}.\n",
        printable(&team.name),
        team.id,
        super::describe_role(team.role)
    )
}

pub fn invitation_declined(team: &str) -> String {
    format!("Declined the invitation to team '{}'.\n", printable(team))
}

/// The line `team list` ends with: how many invitations wait, and where to see them.
pub fn invitations_waiting(count: usize) -> String {
    match count {
        0 => String::new(),
        1 => "1 invitation waiting: see `tidemark team invitations`.\n".into(),
        n => format!("{n} invitations waiting: see `tidemark team invitations`.\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_protocol::{Role, UserInfo};

    fn member(uid: u32, name: &str, role: Role) -> TeamMembership {
        TeamMembership {
            user: UserInfo {
                uid,
                name: name.into(),
            },
            role,
            since: 1_736_085_780,
        }
    }

    fn invitation(team_id: u64, team: &str, uid: u32, name: &str, role: Role) -> Invitation {
        Invitation {
            team_id,
            team_name: team.into(),
            user: UserInfo {
                uid,
                name: name.into(),
            },
            role,
            invited_by: UserInfo {
                uid: 1000,
                name: "alice".into(),
            },
            created_at: 1_736_085_780,
            expires_at: 1_736_085_780 + 14 * 86_400,
        }
    }

    #[test]
    fn members_table_is_aligned_and_escaped() {
        let text = team_members(
            "platform",
            &[
                member(1000, "alice", Role::Owner),
                member(60_002, "60002", Role::Member),
                member(1001, "evil\u{1b}[2J", Role::Admin),
            ],
            &[],
        );
        assert_eq!(
            text,
            "Team 'platform'\n\
             USER        UID  ROLE    SINCE\n\
             alice      1000  owner   2025-01-05 14:03 UTC\n\
             60002     60002  member  2025-01-05 14:03 UTC\n\
             evil?[2J   1001  admin   2025-01-05 14:03 UTC\n"
        );
        assert_eq!(
            member_added(
                "platform",
                &MemberAdded::Member(member(1001, "bob", Role::Admin))
            ),
            "bob (uid 1001) is now admin of team 'platform'.\n"
        );
    }

    #[test]
    fn an_invitation_is_not_called_a_membership() {
        let sent = invitation(3, "platform", 1001, "bob", Role::Owner);
        assert_eq!(
            member_added("platform", &MemberAdded::Invited(sent.clone())),
            "Invited bob (uid 1001) to team 'platform' (#3) as owner.\n\
             They join only once they accept, until 2025-01-19 14:03 UTC: as bob, run\n  \
             tidemark team accept '#3'\n\
             or press i in the terminal UI.\n"
        );
        let text = team_members("platform", &[member(1000, "alice", Role::Owner)], &[sent]);
        assert!(
            text.ends_with(
                "\nInvited (members once they accept):\n\
                 USER   UID  ROLE   INVITED BY  UNTIL\n\
                 bob   1001  owner  alice       2025-01-19 14:03 UTC\n"
            ),
            "{text}"
        );
        assert_eq!(
            member_removed("platform", "bob", true),
            "Withdrew the invitation of bob to team 'platform'.\n"
        );
        assert_eq!(
            member_removed("platform", "bob", false),
            "Removed bob from team 'platform'.\n"
        );
    }

    #[test]
    fn my_invitations_point_out_a_team_named_like_mine() {
        let mine = [invitation(7, "Platform", 1001, "bob", Role::Owner)];
        let teams = crate::fixtures::teams();
        let text = my_invitations(&mine, &teams);
        assert_eq!(
            text,
            "Invitations waiting for your answer:\n\
             ID  TEAM      ROLE   FROM              UNTIL\n\
             #7  Platform  owner  alice (uid 1000)  2025-01-19 14:03 UTC\n\
             Note: #7 is another team than your #1 of that name; the invitation comes from \
             alice. Once accepted, name them by #id.\n\
             Accept: tidemark team accept '#7'   Decline: tidemark team decline '#7'\n"
        );
        assert_eq!(
            my_invitations(&[], &teams),
            "No invitations waiting for you.\n"
        );
        let elsewhere = [invitation(7, "design", 1001, "bob", Role::Member)];
        assert!(!my_invitations(&elsewhere, &teams).contains("Note:"));
        assert_eq!(invitations_waiting(0), "");
        assert_eq!(
            invitations_waiting(1),
            "1 invitation waiting: see `tidemark team invitations`.\n"
        );
        assert_eq!(
            invitations_waiting(2),
            "2 invitations waiting: see `tidemark team invitations`.\n"
        );
    }
}
