//! Human output of `team add-member`, `remove-member` and `members`.

use tidemark_protocol::TeamMembership;

use super::github::printable;
use crate::columns::{self, Align};
use crate::timefmt;

pub fn member_added(team: &str, m: &TeamMembership) -> String {
    format!(
        "{} (uid {}) is now {} of team '{}'.\n",
        printable(&m.user.name),
        m.user.uid,
        m.role.as_str(),
        printable(team)
    )
}

pub fn member_removed(team: &str, user: &str) -> String {
    format!(
        "Removed {} from team '{}'.\n",
        printable(user),
        printable(team)
    )
}

/// Aligned table: user, uid, role, since.
pub fn team_members(team: &str, members: &[TeamMembership]) -> String {
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
    out
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

    #[test]
    fn members_table_is_aligned_and_escaped() {
        let text = team_members(
            "platform",
            &[
                member(1000, "alice", Role::Owner),
                member(60_002, "60002", Role::Member),
                member(1001, "evil\u{1b}[2J", Role::Admin),
            ],
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
            member_added("platform", &member(1001, "bob", Role::Admin)),
            "bob (uid 1001) is now admin of team 'platform'.\n"
        );
    }
}
