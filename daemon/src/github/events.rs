//! GitHub's webhook event kinds, known here alone: which ones tidemark's hooks ask for, and
//! what each means to the applier. Names are GitHub's `X-GitHub-Event` values.

/// An event kind as `X-GitHub-Event` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    PullRequest,
    PullRequestReview,
    PullRequestReviewComment,
    Push,
    Repository,
    /// A collaborator added to a repository (repository hooks).
    Member,
    /// Members added to or removed from the organization (organization hooks).
    Organization,
    /// A deployment created; its statuses (delivery metrics).
    Deployment,
    DeploymentStatus,
    /// An Actions workflow run requested, in progress or completed.
    WorkflowRun,
    /// A release published, edited, deleted.
    Release,
    /// An issue opened, labelled, closed... (incidents).
    Issues,
    /// GitHub's check that a new hook works.
    Ping,
    /// Anything else: received, counted, not acted on.
    Other,
}

/// Events tidemark asks its repository webhooks for: only events GitHub sends to repository
/// hooks. `organization` and `membership` never reach a repository hook; member changes come
/// through the organization hook ([`ORGANIZATION_HOOK`]) or the periodic sync.
pub const REPOSITORY_HOOK: [Event; 10] = [
    Event::PullRequest,
    Event::PullRequestReview,
    Event::Push,
    Event::Repository,
    Event::Member,
    Event::Deployment,
    Event::DeploymentStatus,
    Event::WorkflowRun,
    Event::Release,
    Event::Issues,
];

/// Events tidemark asks its organization webhook for: members added and removed.
pub const ORGANIZATION_HOOK: [Event; 1] = [Event::Organization];

const ALL: [Event; 13] = [
    Event::PullRequest,
    Event::PullRequestReview,
    Event::PullRequestReviewComment,
    Event::Push,
    Event::Repository,
    Event::Member,
    Event::Organization,
    Event::Deployment,
    Event::DeploymentStatus,
    Event::WorkflowRun,
    Event::Release,
    Event::Issues,
    Event::Ping,
];

impl Event {
    /// GitHub's name (`X-GitHub-Event`); empty for [`Event::Other`].
    pub const fn name(self) -> &'static str {
        match self {
            Event::PullRequest => "pull_request",
            Event::PullRequestReview => "pull_request_review",
            Event::PullRequestReviewComment => "pull_request_review_comment",
            Event::Push => "push",
            Event::Repository => "repository",
            Event::Member => "member",
            Event::Organization => "organization",
            Event::Deployment => "deployment",
            Event::DeploymentStatus => "deployment_status",
            Event::WorkflowRun => "workflow_run",
            Event::Release => "release",
            Event::Issues => "issues",
            Event::Ping => "ping",
            Event::Other => "",
        }
    }

    /// From `X-GitHub-Event`.
    pub fn from_name(name: &str) -> Event {
        ALL.into_iter()
            .find(|e| e.name() == name)
            .unwrap_or(Event::Other)
    }

    /// Does the applier act on it (re-read something from GitHub)? Every kind the hooks ask
    /// for, and review comments (a pull request's review activity, if a hook sends them).
    pub fn acted_on(self) -> bool {
        !matches!(self, Event::Ping | Event::Other)
    }

    /// Does it change a repository's delivery data (its deployments, runs, releases,
    /// incidents)? The applier reads that repository's delivery data again.
    pub fn is_delivery(self) -> bool {
        matches!(
            self,
            Event::Deployment
                | Event::DeploymentStatus
                | Event::WorkflowRun
                | Event::Release
                | Event::Issues
        )
    }
}

/// [`REPOSITORY_HOOK`] as a hook's `events` list.
pub const REPOSITORY_HOOK_NAMES: [&str; 10] = names(REPOSITORY_HOOK);
/// [`ORGANIZATION_HOOK`] as a hook's `events` list.
pub const ORGANIZATION_HOOK_NAMES: [&str; 1] = names(ORGANIZATION_HOOK);

const fn names<const N: usize>(events: [Event; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = events[i].name();
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_hooks_ask_only_for_what_is_acted_on() {
        for e in ALL {
            assert_eq!(Event::from_name(e.name()), e);
        }
        assert_eq!(Event::from_name("membership"), Event::Other);
        assert_eq!(Event::from_name(""), Event::Other);
        assert!(
            REPOSITORY_HOOK
                .iter()
                .chain(&ORGANIZATION_HOOK)
                .all(|e| e.acted_on())
        );
        assert_eq!(
            REPOSITORY_HOOK_NAMES,
            [
                "pull_request",
                "pull_request_review",
                "push",
                "repository",
                "member",
                "deployment",
                "deployment_status",
                "workflow_run",
                "release",
                "issues"
            ]
        );
        assert!(REPOSITORY_HOOK.iter().filter(|e| e.is_delivery()).count() == 5);
        assert_eq!(ORGANIZATION_HOOK_NAMES, ["organization"]);
    }
}
