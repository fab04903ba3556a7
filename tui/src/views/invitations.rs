//! The invitations dialog (`i`): each invitation with its team's id, who sent it, the role it
//! gives and until when; a warning where its team is named like one of the caller's (anyone
//! owning a team can name it so); `a` accept, `x` decline.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin};
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tidemark_protocol::Invitation;

use crate::app::{InvitationsDialog, Loadable, State};
use crate::output::look_alikes;
use crate::timefmt;
use crate::widgets::popup;

const WIDTH: u16 = 72;

/// The one line summing up what waits, for the teams screen; None when nothing does.
pub fn waiting(state: &State) -> Option<String> {
    match state.invitations().len() {
        0 => None,
        1 => Some("1 invitation waiting: i to answer".into()),
        n => Some(format!("{n} invitations waiting: i to answer")),
    }
}

fn entry(state: &State, invitation: &Invitation, selected: bool) -> Vec<Line<'static>> {
    let marker = if selected { "› " } else { "  " };
    let head = Line::from(vec![
        Span::from(marker).cyan().bold(),
        Span::from(format!("#{} ", invitation.team_id)),
        Span::from(format!("'{}'", invitation.team_name)).bold(),
        Span::raw(format!(" as {}", invitation.role.as_str())),
    ]);
    let head = if selected { head.reversed() } else { head };
    let mut lines = vec![
        head,
        Line::from(format!(
            "    from {} (uid {}) · until {}",
            invitation.invited_by.name,
            invitation.invited_by.uid,
            timefmt::utc(invitation.expires_at)
        ))
        .dark_gray(),
    ];
    let alikes = look_alikes(invitation, state.teams());
    if !alikes.is_empty() {
        let ids: Vec<String> = alikes.iter().map(|t| format!("#{}", t.id)).collect();
        lines.push(
            Line::from(format!(
                "    not your team {} of that name: another team, {}'s",
                ids.join(", "),
                invitation.invited_by.name
            ))
            .yellow(),
        );
    }
    lines
}

pub fn render(frame: &mut Frame, state: &State, dialog: &InvitationsDialog) {
    let mut body: Vec<Line> = Vec::new();
    match &state.invitations {
        Loadable::Loading => body.push(Line::from("Loading invitations…").dark_gray()),
        Loadable::Failed(err) => body.push(Line::from(format!("Cannot list them: {err}")).red()),
        Loadable::Loaded(all) if all.is_empty() => {
            body.push(Line::from("No invitations waiting for you."));
        }
        Loadable::Loaded(all) => {
            body.push(Line::from(
                "You join a team only by accepting; until then you see nothing of it.",
            ));
            body.push(Line::default());
            for (row, invitation) in all.iter().enumerate() {
                body.extend(entry(state, invitation, row == dialog.selected.row()));
            }
        }
    }
    let keys = match dialog.answering {
        Some(_) => Line::from("answering…").dark_gray(),
        None => Line::from("a accept · x decline · j/k move · esc close").dark_gray(),
    };
    let paragraph = Paragraph::new(body).wrap(Wrap { trim: false });
    let width = WIDTH.min(frame.area().width);
    // Borders 2 rows, the keys and a blank line above them 2.
    let height = paragraph.line_count(width.saturating_sub(4)) as u16 + 4;
    let area = popup::centered(frame.area(), width, height);
    let inner = popup::frame(frame, area, "Invitations", Color::Cyan).inner(Margin::new(1, 0));
    let [text, _, footer] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(paragraph, text);
    frame.render_widget(keys, footer);
}
