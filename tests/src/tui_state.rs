//! The TUI's team screen filled from a real daemon through the real client, as the link would
//! fill it: for the TUI benchmark and the simulator-derived screen snapshots.

use anyhow::{Context, Result, bail};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;
use tidemark_protocol::{MetricsGrouping, MetricsQuery, PrQuery, TeamRef};
use tidemark_tui::app::{Event, LinkEvent, Reply, Screen, State, handle_event};
use tidemark_tui::client::Connection;
use tidemark_tui::tabs::metrics::MetricsData;
use tidemark_tui::tabs::people::PeopleData;

use crate::harness::block_on;

/// Open team `team` at clock `now` and answer its data requests with the daemon's replies.
pub fn load_team_screen(socket: &Path, team: u64, now: i64) -> Result<State> {
    let mut state = State::new(socket.to_path_buf());
    let teams = block_on(async { Connection::connect(socket).await?.team_list().await })?;
    let index = teams
        .iter()
        .position(|t| t.id == team)
        .context("no such team")?;
    let mut events = vec![
        Event::Link(LinkEvent::Connected {
            daemon_version: "test".into(),
        }),
        Event::Reply(Reply::Teams(Ok(teams))),
        Event::Clock(now),
    ];
    events.extend((0..index).map(|_| key(KeyCode::Down)));
    events.push(key(KeyCode::Enter));
    for event in events {
        handle_event(&mut state, event);
    }
    let since = match &state.screen {
        Screen::Team(view) => view.since,
        Screen::Teams => bail!("the team did not open"),
    };
    let replies = block_on(async {
        let conn = Connection::connect(socket).await?;
        let id = TeamRef::Id(team);
        let pulls = conn
            .pull_requests(PrQuery {
                team: id.clone(),
                repo: None,
                state: None,
                limit: 0,
            })
            .await?;
        let query = |by| MetricsQuery {
            team: id.clone(),
            since: Some(since),
            by,
            include_bots: by == MetricsGrouping::Member,
        };
        let people = PeopleData {
            members: conn.members(id.clone()).await?,
            by_member: conn.metrics(query(MetricsGrouping::Member)).await?,
            reviews_given: conn
                .reviewers(id.clone(), Some(since))
                .await?
                .into_iter()
                .map(|r| (r.login, r.reviews))
                .collect(),
        };
        let metrics = MetricsData {
            weekly: conn.metrics(query(MetricsGrouping::Week)).await?,
            total: conn.metrics(query(MetricsGrouping::Team)).await?.pop(),
        };
        let delivery = tidemark_tui::tabs::delivery::link::load(&conn, team, since).await?;
        let alerts = tidemark_tui::tabs::alerts::link::load(&conn, team, false).await?;
        let status = conn.status(Some(id)).await?.pop().context("no status")?;
        let daemon = conn.daemon_info().await?;
        let invitations = conn.invitations().await?;
        anyhow::Ok(vec![
            Reply::DaemonInfo(Ok(Box::new(daemon))),
            Reply::Invitations(Ok(invitations)),
            Reply::Team {
                id: team,
                result: Ok(Box::new(status)),
            },
            Reply::Pulls {
                team,
                load: 1,
                result: Ok(pulls),
            },
            Reply::People {
                team,
                since,
                result: Ok(people),
            },
            Reply::Metrics {
                team,
                since,
                result: Ok(Box::new(metrics)),
            },
            Reply::Delivery {
                team,
                since,
                result: Ok(Box::new(delivery)),
            },
            Reply::Alerts {
                team,
                resolved: false,
                result: Ok(Box::new(alerts)),
            },
        ])
    })?;
    for reply in replies {
        handle_event(&mut state, Event::Reply(reply));
    }
    Ok(state)
}

/// A key pressed without modifiers, as the terminal reports it to the TUI.
pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A character key pressed without modifiers.
pub fn char_key(c: char) -> Event {
    key(KeyCode::Char(c))
}
