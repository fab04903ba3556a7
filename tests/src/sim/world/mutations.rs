//! The mutations the control API (and the activity generator) offer. Every mutation returns the
//! webhook events GitHub would send for it; `webhooks.rs` renders them when it delivers.

use super::{
    Account, Event, ORG_LEVEL, OrgRole, Pull, Repo, Review, ReviewState, TimelineEvent,
    TimelineKind, World, WorldError, WorldResult, new_commit,
};

/// What the control API needs to open a pull request.
#[derive(Debug, Clone)]
pub struct NewPull {
    pub author: String,
    pub title: String,
    pub body: String,
    pub draft: bool,
    pub commits: u64,
}

impl World {
    pub fn add_account(&mut self, login: &str, name: &str, email: Option<String>, at: i64) -> u64 {
        let id = self.next_id(super::IdKind::Account);
        self.accounts.insert(
            id,
            Account {
                id,
                login: login.to_string(),
                name: name.to_string(),
                email,
                is_bot: login.ends_with("[bot]"),
                created_at: at,
            },
        );
        id
    }

    /// Add an account to the org (creating the account when the login is new).
    pub fn add_member(&mut self, login: &str, role: OrgRole, at: i64) -> WorldResult<Vec<Event>> {
        let id = match self.account_by_login(login) {
            Ok(a) => a.id,
            Err(_) => self.add_account(login, login, None, at),
        };
        if self.account(id).is_bot {
            return Err(WorldError::Invalid(
                "a bot cannot join an organization".into(),
            ));
        }
        if self.members.insert(id, role).is_some() {
            return Ok(Vec::new());
        }
        Ok(self.member_events("member_added", id, role))
    }

    pub fn remove_member(&mut self, login: &str) -> WorldResult<Vec<Event>> {
        let id = self.account_by_login(login)?.id;
        let role = self
            .members
            .remove(&id)
            .ok_or_else(|| WorldError::NotFound(format!("member {login}")))?;
        Ok(self.member_events("member_removed", id, role))
    }

    /// GitHub tells the organization's hooks (never a repository's): `organization` with
    /// `member_added` or `member_removed`.
    fn member_events(&self, action: &str, id: u64, role: OrgRole) -> Vec<Event> {
        vec![Event {
            name: "organization".into(),
            repo_id: ORG_LEVEL,
            payload: serde_json::json!({
                "action": action,
                "member_id": id,
                "role": role.as_str(),
            }),
        }]
    }

    /// Make `login` a collaborator of a repository (`admin`: also its admin); its hooks get
    /// `member` `added`, as on GitHub.
    pub fn add_collaborator(
        &mut self,
        repo_id: u64,
        login: &str,
        admin: bool,
    ) -> WorldResult<Vec<Event>> {
        self.repo_mut(repo_id)?;
        let id = self.account_by_login(login)?.id;
        if admin {
            self.repo_admins.insert((repo_id, id));
        } else {
            self.repo_admins.remove(&(repo_id, id));
        }
        Ok(vec![Event {
            name: "member".into(),
            repo_id,
            payload: serde_json::json!({
                "action": "added",
                "member_id": id,
                "role": if admin { "admin" } else { "write" },
            }),
        }])
    }

    /// Remove a collaborator: its hooks get `member` `removed`.
    pub fn remove_collaborator(&mut self, repo_id: u64, login: &str) -> WorldResult<Vec<Event>> {
        self.repo_mut(repo_id)?;
        let id = self.account_by_login(login)?.id;
        self.repo_admins.remove(&(repo_id, id));
        Ok(vec![Event {
            name: "member".into(),
            repo_id,
            payload: serde_json::json!({ "action": "removed", "member_id": id }),
        }])
    }

    pub fn create_repo(
        &mut self,
        name: &str,
        private: bool,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        if self
            .repos
            .values()
            .any(|r| r.name.eq_ignore_ascii_case(name))
        {
            return Err(WorldError::Invalid(format!("name already exists: {name}")));
        }
        let id = self.next_id(crate::sim::world::IdKind::Repo);
        self.repos.insert(
            id,
            Repo {
                id,
                name: name.to_string(),
                description: String::new(),
                private,
                archived: false,
                default_branch: "main".into(),
                created_at: at,
                updated_at: at,
                pushed_at: at,
                next_number: 1,
            },
        );
        self.history_mut(id)?;
        Ok((id, vec![repo_event(id, "created", None)]))
    }

    pub fn rename_repo(
        &mut self,
        repo_id: u64,
        new_name: &str,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        if self
            .repos
            .values()
            .any(|r| r.id != repo_id && r.name.eq_ignore_ascii_case(new_name))
        {
            return Err(WorldError::Invalid(format!(
                "name already exists: {new_name}"
            )));
        }
        let repo = self.repo_mut(repo_id)?;
        let from = std::mem::replace(&mut repo.name, new_name.to_string());
        repo.updated_at = at;
        Ok(vec![repo_event(repo_id, "renamed", Some(from))])
    }

    pub fn set_archived(
        &mut self,
        repo_id: u64,
        archived: bool,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let repo = self.repo_mut(repo_id)?;
        if repo.archived == archived {
            return Ok(Vec::new());
        }
        repo.archived = archived;
        repo.updated_at = at;
        let action = if archived { "archived" } else { "unarchived" };
        Ok(vec![repo_event(repo_id, action, None)])
    }

    /// Delete a repository with its pull requests; its hooks go once they have been sent the
    /// `repository.deleted` event, which renders the repository from `deleted_repos`.
    pub fn delete_repo(&mut self, repo_id: u64) -> WorldResult<(Repo, Vec<Event>)> {
        let repo = self
            .repos
            .remove(&repo_id)
            .ok_or_else(|| WorldError::NotFound(format!("repository {repo_id}")))?;
        self.pulls.retain(|(r, _), _| *r != repo_id);
        self.forget_delivery_data(repo_id);
        self.deleted_repos.insert(repo_id, repo.clone());
        // The hooks stay until `webhooks::dispatch` has sent them `repository.deleted`.
        let events = vec![repo_event(repo_id, "deleted", None)];
        Ok((repo, events))
    }

    pub(super) fn pull_mut(&mut self, repo_id: u64, number: u64) -> WorldResult<&mut Pull> {
        self.pulls
            .get_mut(&(repo_id, number))
            .ok_or_else(|| WorldError::NotFound(format!("pull request #{number}")))
    }

    pub(super) fn repo_mut(&mut self, repo_id: u64) -> WorldResult<&mut Repo> {
        self.repos
            .get_mut(&repo_id)
            .ok_or_else(|| WorldError::NotFound(format!("repository {repo_id}")))
    }

    /// Open a pull request with `commits` new commits by its author.
    pub fn open_pull(
        &mut self,
        repo_id: u64,
        spec: NewPull,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        self.open_pull_from(repo_id, spec, None, at)
    }

    /// [`World::open_pull`] from a head branch of the caller's choosing (None: the author's
    /// `login/change-N`).
    pub fn open_pull_from(
        &mut self,
        repo_id: u64,
        spec: NewPull,
        head_ref: Option<String>,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        let author = self.account_by_login(&spec.author)?.clone();
        let repo = self.repo_mut(repo_id)?;
        if repo.archived {
            return Err(WorldError::Invalid("repository is archived".into()));
        }
        let number = repo.next_number;
        repo.next_number += 1;
        repo.updated_at = at;
        repo.pushed_at = at;
        let base_ref = repo.default_branch.clone();
        let id = self.next_id(crate::sim::world::IdKind::Pull);
        let commits = (0..spec.commits.max(1))
            .map(|i| {
                new_commit(
                    &author,
                    &format!("{id}-{i}"),
                    at - 60 * (spec.commits as i64 - i as i64),
                    12,
                    3,
                )
            })
            .collect();
        let pull = Pull {
            id,
            repo_id,
            number,
            title: spec.title,
            body: spec.body,
            user_id: author.id,
            open: true,
            draft: spec.draft,
            created_at: at,
            updated_at: at,
            closed_at: None,
            merged_at: None,
            merged_by: None,
            merge_commit_sha: None,
            head_ref: head_ref.unwrap_or_else(|| {
                format!("{}/change-{number}", author.login.trim_end_matches("[bot]"))
            }),
            base_ref,
            changed_files: spec.commits.max(1),
            reviews: Vec::new(),
            commits,
            timeline: Vec::new(),
            labels: Vec::new(),
            merge_method: None,
        };
        self.pulls.insert((repo_id, number), pull);
        Ok((
            number,
            vec![self.pull_event(repo_id, number, "opened", author.id)],
        ))
    }

    pub fn edit_pull(
        &mut self,
        repo_id: u64,
        number: u64,
        title: &str,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let pull = self.pull_mut(repo_id, number)?;
        let from = std::mem::replace(&mut pull.title, title.to_string());
        pull.updated_at = at;
        let actor = pull.user_id;
        let mut event = self.pull_event(repo_id, number, "edited", actor);
        event.payload["changes"] = serde_json::json!({ "title": { "from": from } });
        Ok(vec![event])
    }

    pub fn close_pull(&mut self, repo_id: u64, number: u64, at: i64) -> WorldResult<Vec<Event>> {
        let pull = self.pull_mut(repo_id, number)?;
        if !pull.open {
            return Err(WorldError::Invalid("pull request is already closed".into()));
        }
        pull.open = false;
        pull.closed_at = Some(at);
        pull.updated_at = at;
        let actor = pull.user_id;
        pull.timeline.push(TimelineEvent {
            kind: TimelineKind::Closed,
            at,
            actor_id: actor,
        });
        Ok(vec![self.pull_event(repo_id, number, "closed", actor)])
    }

    /// Merge with a merge commit (see [`World::merge_pull_with`] for squash).
    pub fn merge_pull(
        &mut self,
        repo_id: u64,
        number: u64,
        by: &str,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        self.merge_pull_with(repo_id, number, by, super::MergeMethod::Merge, at)
    }

    pub fn reopen_pull(&mut self, repo_id: u64, number: u64, at: i64) -> WorldResult<Vec<Event>> {
        let pull = self.pull_mut(repo_id, number)?;
        if pull.open || pull.merged() {
            return Err(WorldError::Invalid(
                "only a closed, unmerged pull request can be reopened".into(),
            ));
        }
        pull.open = true;
        pull.closed_at = None;
        pull.updated_at = at;
        let actor = pull.user_id;
        pull.timeline.push(TimelineEvent {
            kind: TimelineKind::Reopened,
            at,
            actor_id: actor,
        });
        Ok(vec![self.pull_event(repo_id, number, "reopened", actor)])
    }

    pub fn set_draft(
        &mut self,
        repo_id: u64,
        number: u64,
        draft: bool,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let pull = self.pull_mut(repo_id, number)?;
        if !pull.open || pull.draft == draft {
            return Err(WorldError::Invalid(format!(
                "pull request is {} a draft",
                if pull.draft { "already" } else { "not" }
            )));
        }
        pull.draft = draft;
        pull.updated_at = at;
        let actor = pull.user_id;
        let kind = if draft {
            TimelineKind::ConvertedToDraft
        } else {
            TimelineKind::ReadyForReview
        };
        pull.timeline.push(TimelineEvent {
            kind,
            at,
            actor_id: actor,
        });
        let action = if draft {
            "converted_to_draft"
        } else {
            "ready_for_review"
        };
        Ok(vec![self.pull_event(repo_id, number, action, actor)])
    }

    /// Push `count` commits onto a pull request's branch (by its author unless `author` says).
    pub fn push_commits(
        &mut self,
        repo_id: u64,
        number: u64,
        count: u64,
        author: Option<&str>,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let author = match author {
            Some(login) => self.account_by_login(login)?.clone(),
            None => {
                let uid = self.pull(repo_id, number)?.user_id;
                self.account(uid).clone()
            }
        };
        let pull = self.pull_mut(repo_id, number)?;
        if !pull.open {
            return Err(WorldError::Invalid("pull request is closed".into()));
        }
        let before = pull.head_sha();
        let start = pull.commits.len();
        for i in 0..count {
            let c = new_commit(
                &author,
                &format!("{}-{}", pull.id, start as u64 + i),
                at,
                8,
                2,
            );
            pull.commits.push(c);
        }
        pull.changed_files += count.min(3);
        pull.updated_at = at;
        let new_commits = pull.commits[start..].to_vec();
        let head_ref = pull.head_ref.clone();
        let after = pull.head_sha();
        if let Some(repo) = self.repos.get_mut(&repo_id) {
            repo.pushed_at = at;
        }
        let mut events = vec![Event {
            name: "push".into(),
            repo_id,
            payload: serde_json::json!({
                "ref": format!("refs/heads/{head_ref}"),
                "before": before,
                "after": after,
                "pusher_id": author.id,
                "commit_shas": new_commits.iter().map(|c| c.sha.clone()).collect::<Vec<_>>(),
            }),
        }];
        let mut sync = self.pull_event(repo_id, number, "synchronize", author.id);
        sync.payload["before"] = serde_json::Value::String(before);
        sync.payload["after"] = serde_json::Value::String(after);
        events.push(sync);
        Ok(events)
    }

    pub fn submit_review(
        &mut self,
        repo_id: u64,
        number: u64,
        reviewer: &str,
        state: ReviewState,
        body: &str,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        if state == ReviewState::Dismissed {
            return Err(WorldError::Invalid(
                "a review is submitted, then dismissed".into(),
            ));
        }
        let reviewer = self.account_by_login(reviewer)?.id;
        let id = self.next_id(crate::sim::world::IdKind::Review);
        let pull = self.pull_mut(repo_id, number)?;
        if pull.user_id == reviewer && state != ReviewState::Commented {
            return Err(WorldError::Invalid(
                "Can not approve or request changes on your own pull request".into(),
            ));
        }
        let commit_id = pull.head_sha();
        pull.reviews.push(Review {
            id,
            user_id: reviewer,
            state,
            body: body.to_string(),
            submitted_at: at,
            commit_id,
        });
        pull.updated_at = at;
        Ok((
            id,
            vec![self.review_event(repo_id, number, id, "submitted")],
        ))
    }

    pub fn dismiss_review(
        &mut self,
        repo_id: u64,
        number: u64,
        review_id: u64,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let pull = self.pull_mut(repo_id, number)?;
        let review = pull
            .reviews
            .iter_mut()
            .find(|r| r.id == review_id)
            .ok_or_else(|| WorldError::NotFound(format!("review {review_id}")))?;
        if review.state != ReviewState::Approved && review.state != ReviewState::ChangesRequested {
            return Err(WorldError::Invalid(
                "only approvals and change requests can be dismissed".into(),
            ));
        }
        review.state = ReviewState::Dismissed;
        pull.updated_at = at;
        Ok(vec![self.review_event(
            repo_id,
            number,
            review_id,
            "dismissed",
        )])
    }

    /// A `pull_request` event: the payload names what to render; `webhooks.rs` renders it from
    /// the world as it is when the delivery is made.
    pub(super) fn pull_event(&self, repo_id: u64, number: u64, action: &str, sender: u64) -> Event {
        Event {
            name: "pull_request".into(),
            repo_id,
            payload: serde_json::json!({ "action": action, "number": number, "sender_id": sender }),
        }
    }

    fn review_event(&self, repo_id: u64, number: u64, review_id: u64, action: &str) -> Event {
        Event {
            name: "pull_request_review".into(),
            repo_id,
            payload: serde_json::json!({ "action": action, "number": number, "review_id": review_id }),
        }
    }
}

fn repo_event(repo_id: u64, action: &str, renamed_from: Option<String>) -> Event {
    Event {
        name: "repository".into(),
        repo_id,
        payload: serde_json::json!({ "action": action, "renamed_from": renamed_from }),
    }
}
