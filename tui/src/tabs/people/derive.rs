//! The People table, derived from members, per-member metrics and the loaded pull requests when
//! any of them changes, never while drawing.

use std::collections::HashMap;

use super::Person;
use crate::app::state::Loadable;
use crate::tabs::TeamView;

/// Recompute the People table: members with what they authored over the period (from the
/// per-member metrics) and reviews given (from the daemon when it tells), people before bots.
pub fn rebuild_people(view: &mut TeamView) {
    let Loadable::Loaded(data) = &view.people else {
        view.people_rows.clear();
        return;
    };
    let by_login: HashMap<&str, _> = data
        .by_member
        .iter()
        .map(|row| (row.key.as_str(), row))
        .collect();
    let mut rows: Vec<Person> = data
        .members
        .iter()
        .map(|m| {
            let login = m.github_login.clone().unwrap_or_default();
            let row = by_login.get(login.as_str());
            Person {
                member: Some(m.id),
                name: m.display_name.clone(),
                is_bot: m.is_bot,
                left: m.left_at.is_some(),
                authored: row.map_or(0, |r| r.prs),
                merged: row.map_or(0, |r| r.merged),
                reviews_given: data.reviews_given.get(&login).copied(),
                median_pickup: row.and_then(|r| r.pickup.p50),
                median_cycle: row.and_then(|r| r.cycle_time.p50),
                login,
            }
        })
        .collect();
    // Authors who are not org members (bots above all: GitHub apps are no members) still
    // show, from their pull requests.
    let known: std::collections::HashSet<&str> = data
        .members
        .iter()
        .filter_map(|m| m.github_login.as_deref())
        .collect();
    let pulls = match &view.pulls {
        Loadable::Loaded(pulls) => pulls.as_slice(),
        _ => &[],
    };
    for row in &data.by_member {
        if known.contains(row.key.as_str()) || row.key == "(unknown)" {
            continue;
        }
        let is_bot = row.key.ends_with("[bot]")
            || pulls
                .iter()
                .any(|p| p.author_is_bot && p.author.as_deref() == Some(row.key.as_str()));
        rows.push(Person {
            member: None,
            login: row.key.clone(),
            name: if is_bot {
                "(app)".into()
            } else {
                "(not a member)".into()
            },
            is_bot,
            left: false,
            authored: row.prs,
            merged: row.merged,
            reviews_given: data.reviews_given.get(&row.key).copied(),
            median_pickup: row.pickup.p50,
            median_cycle: row.cycle_time.p50,
        });
    }
    rows.sort_by(|a, b| {
        a.is_bot
            .cmp(&b.is_bot)
            .then(b.authored.cmp(&a.authored))
            .then_with(|| a.login.to_lowercase().cmp(&b.login.to_lowercase()))
    });
    view.selected_person.follow(rows.iter());
    view.people_rows = rows;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::tabs::people::PeopleData;

    #[test]
    fn authors_who_are_not_members_show_and_bots_go_last() {
        let mut by_member = fixtures::metrics_rows(tidemark_protocol::MetricsGrouping::Member);
        by_member.push(tidemark_protocol::MetricsRow {
            key: "renovate[bot]".into(),
            ..by_member[0].clone()
        });
        by_member.push(tidemark_protocol::MetricsRow {
            key: "contractor".into(),
            ..by_member[1].clone()
        });
        let mut view = TeamView::new(1, "platform".into());
        view.pulls = Loadable::Loaded(fixtures::pull_requests());
        view.people = Loadable::Loaded(PeopleData {
            members: fixtures::members(),
            by_member,
            reviews_given: fixtures::reviews_given(),
        });
        rebuild_people(&mut view);
        let logins: Vec<(&str, bool)> = view
            .people_rows
            .iter()
            .map(|p| (p.login.as_str(), p.is_bot))
            .collect();
        assert_eq!(
            logins,
            vec![
                ("alice", false),
                ("bob-k", false),
                ("contractor", false),
                ("", false),
                ("renovate[bot]", true),
                ("dependabot[bot]", true),
            ]
        );
        assert_eq!(view.people_rows[0].reviews_given, Some(31));
    }
}
