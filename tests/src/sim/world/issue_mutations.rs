//! Mutations of issues (incidents): opened with labels, closed and reopened, labelled,
//! edited. Each returns the webhook events GitHub would send.

use super::delivery::Issue;
use super::delivery_mutations::{invalid, toggle};
use super::{Event, IdKind, World, WorldError, WorldResult};
use serde_json::json;

/// What the control API needs to open an issue.
#[derive(Debug, Clone, Default)]
pub struct NewIssue {
    pub author: Option<String>,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
}

impl World {
    /// Open an issue (its number from the repository's sequence shared with pull requests):
    /// `opened`, then `labeled` for each label.
    pub fn open_issue(
        &mut self,
        repo_id: u64,
        spec: NewIssue,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        let author = self.login_or_viewer(spec.author.as_deref())?;
        let mut labels = Vec::new();
        for l in &spec.labels {
            labels.push(self.ensure_label(repo_id, l, at)?.name);
        }
        let repo = self.repo_mut(repo_id)?;
        let number = repo.next_number;
        repo.next_number += 1;
        repo.updated_at = at;
        let id = self.next_id(IdKind::Issue);
        self.issues.insert(
            (repo_id, number),
            Issue {
                id,
                repo_id,
                number,
                title: spec.title,
                body: spec.body,
                user_id: author,
                open: true,
                state_reason: None,
                labels: labels.clone(),
                created_at: at,
                updated_at: at,
                closed_at: None,
                closed_by: None,
            },
        );
        let mut events = vec![issue_event(repo_id, number, "opened", author)];
        for l in labels {
            let mut e = issue_event(repo_id, number, "labeled", author);
            e.payload["label"] = json!(l);
            events.push(e);
        }
        Ok((number, events))
    }

    fn issue_mut(&mut self, repo_id: u64, number: u64) -> WorldResult<&mut Issue> {
        self.issues
            .get_mut(&(repo_id, number))
            .ok_or_else(|| WorldError::NotFound(format!("issue #{number}")))
    }

    /// Close (`open` false, `reason` completed or not_planned) or reopen an issue.
    pub fn set_issue_open(
        &mut self,
        repo_id: u64,
        number: u64,
        open: bool,
        reason: Option<&str>,
        by: Option<&str>,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let by = self.login_or_viewer(by)?;
        let issue = self.issue_mut(repo_id, number)?;
        if issue.open == open {
            return Err(invalid(format!(
                "issue is already {}",
                if open { "open" } else { "closed" }
            )));
        }
        issue.open = open;
        issue.updated_at = at;
        if open {
            issue.closed_at = None;
            issue.closed_by = None;
            issue.state_reason = Some("reopened".into());
        } else {
            issue.closed_at = Some(at);
            issue.closed_by = Some(by);
            issue.state_reason = Some(reason.unwrap_or("completed").to_string());
        }
        let action = if open { "reopened" } else { "closed" };
        Ok(vec![issue_event(repo_id, number, action, by)])
    }

    pub fn label_issue(
        &mut self,
        repo_id: u64,
        number: u64,
        label: &str,
        on: bool,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let label = self.ensure_label(repo_id, label, at)?.name;
        let sender = self.viewer_id;
        let issue = self.issue_mut(repo_id, number)?;
        if !toggle(&mut issue.labels, &label, on) {
            return Ok(Vec::new());
        }
        issue.updated_at = at;
        let action = if on { "labeled" } else { "unlabeled" };
        let mut e = issue_event(repo_id, number, action, sender);
        e.payload["label"] = json!(label);
        Ok(vec![e])
    }

    /// Change an issue's title and/or body: `edited` with what they were.
    pub fn edit_issue(
        &mut self,
        repo_id: u64,
        number: u64,
        title: Option<&str>,
        body: Option<&str>,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let issue = self.issue_mut(repo_id, number)?;
        let mut changes = json!({});
        if let Some(t) = title {
            changes["title"] = json!({ "from": std::mem::replace(&mut issue.title, t.into()) });
        }
        if let Some(b) = body {
            changes["body"] = json!({ "from": std::mem::replace(&mut issue.body, b.into()) });
        }
        issue.updated_at = at;
        let author = issue.user_id;
        let mut e = issue_event(repo_id, number, "edited", author);
        e.payload["changes"] = changes;
        Ok(vec![e])
    }
}

fn issue_event(repo_id: u64, number: u64, action: &str, sender: u64) -> Event {
    Event {
        name: "issues".into(),
        repo_id,
        payload: json!({ "action": action, "number": number, "sender_id": sender }),
    }
}
