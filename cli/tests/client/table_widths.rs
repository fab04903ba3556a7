//! Tables are laid out from their contents (`columns.rs`): at every width from 80 to 200 cells
//! every number (durations in every form `timefmt` writes, from seconds to years, counts, ids,
//! dates) shows whole in its row, and long text (titles, `renovate[bot]`, `github-actions[bot]`)
//! ends in `…` without pushing or covering a number. Narrower than 80, a column may be dropped,
//! but a column that shows never shows a number cut.

use crate::support::tui::key;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::{MemberInfo, MetricsGrouping, MetricsRow, PrInfo, PrState, RepoInfo};
use tidemark_tui::app::{Event, LinkEvent, Reply, Request, State, handle_event};
use tidemark_tui::tabs::people::PeopleData;
use tidemark_tui::tabs::pulls::PrColumn;
use tidemark_tui::{columns, fixtures, timefmt, views};

const NOW: i64 = fixtures::T0 + 3600;
const WIDE: std::ops::RangeInclusive<u16> = 80..=200;
const NARROW: std::ops::Range<u16> = 40..80;
const HEIGHT: u16 = 30;

/// One duration of every form `timefmt::duration` writes: seconds, minutes, hours, hours and
/// minutes, days, days and hours; up to years (written in days).
const DURATIONS: [i64; 12] = [
    45,
    47 * 60,
    20 * 3600,
    20 * 3600 + 47 * 60,
    9 * 3600 + 5 * 60,
    86_399,
    3 * 86_400,
    95 * 86_400 + 18 * 3600,
    400 * 86_400,
    1095 * 86_400 + 23 * 3600,
    3652 * 86_400 + 5 * 3600,
    27 * 86_400 + 3600,
];

#[test]
fn the_durations_cover_every_form() {
    let forms: Vec<String> = DURATIONS.iter().map(|&s| timefmt::duration(s)).collect();
    let shape = |d: &String| -> String {
        d.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
    };
    let shapes: std::collections::BTreeSet<String> = forms.iter().map(shape).collect();
    let want: std::collections::BTreeSet<String> = ["s", "m", "h", "h m", "d", "d h"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(shapes, want, "{forms:?}");
    assert!(forms.contains(&"3652d 5h".to_string()), "{forms:?}");
}

/// Send events, answering data requests with fixtures, or with `pulls` for pull requests.
fn send(state: &mut State, pulls: &[PrInfo], events: impl IntoIterator<Item = Event>) {
    for event in events {
        for req in handle_event(state, event) {
            let reply = match &req {
                Request::LoadPulls { team, load } => Some(Reply::Pulls {
                    team: *team,
                    load: *load,
                    result: Ok(pulls.to_vec()),
                }),
                other => fixtures::team_reply(other),
            };
            if let Some(reply) = reply {
                send(state, pulls, [Event::Reply(reply)]);
            }
        }
    }
}

/// `platform` open with `pulls`, the everything-else fixtures, and `status`.
fn team(pulls: &[PrInfo], status: tidemark_protocol::TeamStatus) -> State {
    let mut state = State::new("/run/user/1000/tidemark/tidemark.sock".into());
    send(
        &mut state,
        pulls,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
            Event::Reply(fixtures::daemon_info_reply(true)),
            Event::Clock(NOW),
            key(KeyCode::Enter),
            Event::Reply(Reply::Team {
                id: 1,
                result: Ok(Box::new(status)),
            }),
        ],
    );
    state
}

/// The screen's lines as drawn (a wide character once, not followed by its hidden cell).
fn lines(buffer: &Buffer) -> Vec<String> {
    let area = buffer.area;
    (0..area.height)
        .map(|y| {
            let mut line = String::new();
            let mut hidden = 0;
            for x in 0..area.width {
                if hidden > 0 {
                    hidden -= 1;
                    continue;
                }
                let symbol = buffer[(x, y)].symbol();
                line.push_str(symbol);
                hidden = columns::cells(symbol).saturating_sub(1);
            }
            line
        })
        .collect()
}

fn render(state: &State, width: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, HEIGHT)).unwrap();
    views::draw(&mut terminal, state).unwrap();
    lines(terminal.backend().buffer())
}

fn boundary(c: Option<char>) -> bool {
    c.is_none_or(|c| c == ' ' || c == '│' || c == '›')
}

/// `value` in `line` as a whole cell: nothing but a space or a border on either side.
fn whole(line: &str, value: &str) -> bool {
    line.match_indices(value).any(|(at, _)| {
        boundary(line[..at].chars().next_back())
            && boundary(line[at + value.len()..].chars().next())
    })
}

/// `text` whole, or a beginning of it ended with `…` (the `…` right after it).
fn whole_or_cut(line: &str, text: &str) -> bool {
    whole(line, text)
        || text
            .char_indices()
            .skip(1)
            .map(|(at, _)| format!("{}…", text[..at].trim_end()))
            .any(|cut| cut.chars().count() > 1 && whole(line, &cut))
}

/// The line of the row that has `id` (a whole column unique to it).
fn row<'a>(lines: &'a [String], id: &str, screen: &[String]) -> &'a str {
    let found: Vec<&String> = lines.iter().filter(|l| whole(l, id)).collect();
    assert_eq!(found.len(), 1, "row {id}:\n{}", screen.join("\n"));
    found[0]
}

/// Checks one table on one screen: `header` is the table's header line; each whole column
/// (named by its header) that shows has each row's value whole; at 80 cells and more, every
/// whole column shows.
fn check_whole_columns(
    screen: &[String],
    header_at: usize,
    width: u16,
    columns: &[(&str, Vec<String>)],
    ids: &[String],
) {
    let text = screen.join("\n");
    let header = &screen[header_at];
    let rows = &screen[header_at + 1..];
    for (name, values) in columns {
        if !whole(header, name) {
            assert!(width < 80, "column {name} dropped at {width}:\n{text}");
            continue;
        }
        for (id, value) in ids.iter().zip(values) {
            let line = row(rows, id, screen);
            assert!(
                whole(line, value),
                "{name} of row {id}: {value:?} not whole at {width}:\n{line}\n\n{text}"
            );
        }
    }
}

fn pulls() -> Vec<PrInfo> {
    let authors = [
        Some("renovate[bot]"),
        Some("github-actions[bot]"),
        Some("alice"),
        None,
        Some("dependabot[bot]"),
        Some("a-contributor-with-a-very-long-login"),
    ];
    let titles = [
        "Bump the npm group across 14 directories with 87 updates, including a major one",
        "Fix it",
        "équipe 🚀 日本: les données du tableau de bord arrivent en retard de plusieurs heures",
        "Retry GraphQL pages that time out with a smaller page size, and log the cost",
        "Café crème",
    ];
    DURATIONS
        .iter()
        .enumerate()
        .map(|(i, &cycle)| PrInfo {
            repo: ["acme/api", "acme/web", "acme/infrastructure-as-code"][i % 3].into(),
            number: [7, 32, 311, 1287, 12_345, 123_456][i % 6] + i as u64 * 1_000_000,
            title: titles[i % titles.len()].into(),
            author: authors[i % authors.len()].map(String::from),
            author_is_bot: authors[i % authors.len()].is_some_and(|a| a.ends_with("[bot]")),
            state: [PrState::Merged, PrState::Open, PrState::Closed][i % 3],
            created_at: fixtures::T0 - i as i64 * 86_400 * 400,
            additions: [3, 1_200, 48_000, 9_990_000][i % 4],
            deletions: 1,
            cycle_time: Some(cycle),
            review_time: (i % 5 != 4).then(|| DURATIONS[(i + 5) % DURATIONS.len()]),
            ..fixtures::pull_requests().remove(0)
        })
        .collect()
}

fn pull_table_is_whole_at(state: &State, pulls: &[PrInfo], width: u16) {
    let screen = render(state, width);
    // Header line: under the tab bar and the block's top border.
    let header_at = 3;
    let shown = &state.config.columns;
    let value = |column: PrColumn| -> Vec<String> {
        pulls
            .iter()
            .map(|pr| column.text(pr).into_owned())
            .collect()
    };
    let ids: Vec<String> = pulls.iter().map(|pr| pr.number.to_string()).collect();
    let mut whole_columns = vec![
        ("#", value(PrColumn::Number)),
        ("Cycle", value(PrColumn::Cycle)),
        ("Review", value(PrColumn::Review)),
        ("Size", value(PrColumn::Size)),
        ("State", value(PrColumn::State)),
    ];
    if shown.contains(&PrColumn::Created) {
        whole_columns.push(("Opened↓", value(PrColumn::Created)));
    }
    if !whole(&screen[header_at], "#") {
        // Too narrow even for the ids: nothing to find rows by; no number shows at all then.
        assert!(width < 40, "ids dropped at {width}");
        return;
    }
    check_whole_columns(&screen, header_at, width, &whole_columns, &ids);
    if width < 80 {
        return;
    }
    // Long text gives way, whole or cut with `…`, and never covers the numbers (checked above
    // on the same lines).
    let rows = &screen[header_at + 1..];
    for (pr, id) in pulls.iter().zip(&ids) {
        let line = row(rows, id, &screen);
        let author = pr.author.as_deref().unwrap_or("ghost");
        assert!(
            whole_or_cut(line, author),
            "author {author} at {width}:\n{line}"
        );
        assert!(
            whole_or_cut(line, &pr.title),
            "title {} at {width}:\n{line}",
            pr.title
        );
    }
}

#[test]
fn every_duration_shows_whole_in_the_pull_request_table_at_every_width() {
    let pulls = pulls();
    for columns in [PrColumn::DEFAULT.to_vec(), PrColumn::ALL.to_vec()] {
        let mut state = team(&pulls, fixtures::team_status());
        state.config.columns = columns;
        send(&mut state, &pulls, [key(KeyCode::Char('3'))]);
        for width in NARROW.chain(WIDE) {
            pull_table_is_whole_at(&state, &pulls, width);
        }
    }
}

#[test]
fn long_authors_and_titles_end_in_an_ellipsis() {
    let pulls = pulls();
    let mut state = team(&pulls, fixtures::team_status());
    send(&mut state, &pulls, [key(KeyCode::Char('3'))]);
    let screen = render(&state, 80).join("\n");
    // At 80 cells something has to give: the text, never the numbers.
    assert!(screen.contains("renova"), "{screen}");
    assert!(screen.contains('…'), "{screen}");
    assert!(whole(&screen, "3652d 5h"), "{screen}");
    let screen = render(&state, 200).join("\n");
    assert!(whole(&screen, "github-actions[bot]"), "{screen}");
}

#[test]
fn every_duration_shows_whole_in_the_people_table_at_every_width() {
    let logins = [
        "alice",
        "a-contributor-with-a-very-long-login",
        "日本の開発者",
        "bob-k",
        "zoe",
        "renovate[bot]",
        "github-actions[bot]",
    ];
    let members: Vec<MemberInfo> = logins
        .iter()
        .enumerate()
        .map(|(i, login)| MemberInfo {
            id: i as u64 + 1,
            github_id: Some(5000 + i as u64),
            github_login: Some(login.to_string()),
            display_name: format!("{login} the person with a long display name"),
            email: None,
            is_bot: login.ends_with("[bot]"),
            left_at: None,
        })
        .collect();
    let base = fixtures::metrics_rows(MetricsGrouping::Member).remove(0);
    let by_member: Vec<MetricsRow> = logins
        .iter()
        .enumerate()
        .map(|(i, login)| {
            let mut row = MetricsRow {
                key: login.to_string(),
                prs: 9_000 - i as u64 * 100,
                merged: 12 * i as u64,
                ..base.clone()
            };
            row.pickup.p50 = Some(DURATIONS[i]);
            row.cycle_time.p50 = Some(DURATIONS[(i + 6) % DURATIONS.len()]);
            row
        })
        .collect();
    let pulls = fixtures::pull_requests();
    let mut state = team(&pulls, fixtures::team_status());
    send(&mut state, &pulls, [key(KeyCode::Char('4'))]);
    let since = match &state.screen {
        tidemark_tui::app::Screen::Team(view) => view.since,
        _ => unreachable!(),
    };
    send(
        &mut state,
        &pulls,
        [Event::Reply(Reply::People {
            team: 1,
            since,
            result: Ok(PeopleData {
                members,
                by_member: by_member.clone(),
                reviews_given: logins
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.to_string(), 100_000 + i as u64))
                    .collect(),
            }),
        })],
    );
    let ids: Vec<String> = by_member.iter().map(|r| r.prs.to_string()).collect();
    let columns = [
        (
            "Pickup",
            by_member
                .iter()
                .map(|r| timefmt::duration_or_dash(r.pickup.p50))
                .collect(),
        ),
        (
            "Cycle",
            by_member
                .iter()
                .map(|r| timefmt::duration_or_dash(r.cycle_time.p50))
                .collect(),
        ),
        (
            "Merged",
            by_member.iter().map(|r| r.merged.to_string()).collect(),
        ),
        (
            "Reviews",
            (0..logins.len())
                .map(|i| (100_000 + i).to_string())
                .collect(),
        ),
    ];
    for width in NARROW.chain(WIDE) {
        let screen = render(&state, width);
        if !whole(&screen[3], "PRs") {
            assert!(width < 40, "counts dropped at {width}");
            continue;
        }
        check_whole_columns(&screen, 3, width, &columns, &ids);
        if width >= 80 {
            for (login, id) in logins.iter().zip(&ids) {
                let line = row(&screen[4..], id, &screen);
                assert!(whole_or_cut(line, login), "{login} at {width}:\n{line}");
            }
        }
    }
}

#[test]
fn every_time_ago_shows_whole_in_the_repository_table_at_every_width() {
    let mut status = fixtures::team_status();
    status.repos = DURATIONS
        .iter()
        .enumerate()
        .map(|(i, &ago)| RepoInfo {
            github_repo_id: 100 + i as u64,
            full_name: format!("acme/a-repository-with-a-long-name-number-{i}"),
            last_sync_at: Some(NOW - ago),
            pull_request_count: 1_000_000 + i as u64,
            ..fixtures::repos().remove(0)
        })
        .collect();
    let pulls = fixtures::pull_requests();
    let mut state = team(&pulls, status.clone());
    send(&mut state, &pulls, [key(KeyCode::Char('2'))]);
    let ids: Vec<String> = status
        .repos
        .iter()
        .map(|r| r.pull_request_count.to_string())
        .collect();
    let ago = |secs: i64| {
        if secs < 60 {
            "just now".to_string()
        } else {
            format!("{} ago", timefmt::duration(secs))
        }
    };
    let columns = [("Last sync", DURATIONS.iter().map(|&s| ago(s)).collect())];
    for width in NARROW.chain(WIDE) {
        let screen = render(&state, width);
        if !whole(&screen[3], "PRs") {
            assert!(width < 40, "counts dropped at {width}");
            continue;
        }
        check_whole_columns(&screen, 3, width, &columns, &ids);
    }
}
