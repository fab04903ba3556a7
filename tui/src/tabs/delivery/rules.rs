//! The team's delivery rules on the Delivery tab (`e`): the patterns and labels, and the signal
//! chosen for each tracked repository. Admins and owners edit them; before a save, the effect
//! on the last 12 weeks is shown (a `dora` call with the edited rules, before → after of the
//! five figures), and `s` saves only the rules whose effect is on screen. A rule the daemon
//! refuses shows the daemon's words under that rule. Members see the rules read-only.

use tidemark_protocol::delivery::{DeliveryConfig, DoraGroup, RepoSignal, Signal};

use crate::app::action::Action;
use crate::app::selection::step;
use crate::app::state::Loadable;
use crate::output::delivery::RULE_NAMES;
use crate::widgets::text_input::{Edit, TextInput};

/// The text rules come first (in [`RULE_NAMES`] order), then one row per repository.
pub const TEXT_RULES: usize = RULE_NAMES.len();

/// The effect of rules on the team's figures over the last 12 weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The rules previewed.
    pub config: DeliveryConfig,
    /// Before (the saved rules) and after (these).
    pub figures: Loadable<Box<(DoraGroup, DoraGroup)>>,
}

/// Where a save stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saving {
    Idle,
    /// Sent; waiting for the daemon.
    Sending(DeliveryConfig),
    /// The daemon saved them.
    Saved,
}

/// A refusal from the daemon, under the rule it names (when it names one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// In [`RULE_NAMES`], or None when it names no text rule.
    pub rule: Option<usize>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesEditor {
    /// Admins and owners may change the rules; members only read them.
    pub may_edit: bool,
    /// The rules as saved (the daemon's word).
    pub saved: DeliveryConfig,
    /// The rules as edited here.
    pub config: DeliveryConfig,
    /// The tracked repositories with the signal the report found for each and why.
    pub repos: Vec<RepoSignal>,
    /// The row under the cursor: a text rule, then the repositories.
    pub cursor: usize,
    /// The rule being typed, when one is.
    pub editing: Option<TextInput>,
    pub preview: Option<Preview>,
    pub saving: Saving,
    pub refusal: Option<Refusal>,
    /// Why a key did nothing (a member's, say), until the next key.
    pub hint: Option<String>,
}

/// What `s` does now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveStep {
    /// The effect of these rules is not on screen yet: show it first.
    Preview(DeliveryConfig),
    Save(DeliveryConfig),
    Nothing,
}

/// What a member is told, on the page and when a key would change something.
pub const READ_ONLY: &str = "Read-only: only the team's admins and owners change these rules.";

impl RulesEditor {
    pub fn new(config: DeliveryConfig, repos: Vec<RepoSignal>, may_edit: bool) -> RulesEditor {
        RulesEditor {
            may_edit,
            saved: config.clone(),
            config,
            repos,
            cursor: 0,
            editing: None,
            preview: None,
            saving: Saving::Idle,
            refusal: None,
            hint: None,
        }
    }

    pub fn rows(&self) -> usize {
        TEXT_RULES + self.repos.len()
    }

    /// The edited rules differ from the saved ones.
    pub fn changed(&self) -> bool {
        self.config != self.saved
    }

    /// The text rule `i` of the edited rules.
    pub fn rule_mut(&mut self, i: usize) -> &mut String {
        let c = &mut self.config;
        match i {
            0 => &mut c.production_pattern,
            1 => &mut c.workflow_pattern,
            2 => &mut c.tag_pattern,
            3 => &mut c.incident_label,
            _ => &mut c.hotfix_label,
        }
    }

    /// The signal chosen for `repo` (None: the best one found).
    pub fn choice(&self, repo: &str) -> Option<Signal> {
        self.config
            .signals
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(repo))
            .map(|(_, s)| *s)
    }

    /// The preview on screen is of the rules as edited now, and it came back.
    pub fn previewed_now(&self) -> bool {
        self.preview
            .as_ref()
            .is_some_and(|p| p.config == self.config && matches!(p.figures, Loadable::Loaded(_)))
    }

    pub fn move_cursor(&mut self, action: Action) {
        if self.editing.is_none() {
            self.cursor = step(self.cursor, self.rows(), action);
        }
    }

    fn refuse_read_only(&mut self) -> bool {
        if self.may_edit {
            self.hint = None;
            return false;
        }
        self.hint = Some(READ_ONLY.into());
        true
    }

    /// `enter`: type the text rule under the cursor; on a repository, its next signal.
    pub fn enter(&mut self) {
        if self.refuse_read_only() {
            return;
        }
        if self.cursor >= TEXT_RULES {
            self.next_signal();
            return;
        }
        let value = self.rule_mut(self.cursor).clone();
        self.editing = Some(TextInput::new(&value));
    }

    pub fn edit(&mut self, edit: Edit) {
        if let Some(input) = &mut self.editing {
            input.apply(edit);
        }
    }

    /// Enter keeps the typed rule, esc leaves it as it was.
    pub fn end_edit(&mut self, keep: bool) {
        let Some(input) = self.editing.take() else {
            return;
        };
        if keep {
            let value = input.value().to_string();
            let rule = self.rule_mut(self.cursor);
            if *rule != value {
                *rule = value;
                self.edited();
            }
        }
    }

    /// Space or → on a repository: the best signal found, then each signal in turn.
    pub fn next_signal(&mut self) {
        if self.refuse_read_only() {
            return;
        }
        let Some(repo) = self.cursor.checked_sub(TEXT_RULES) else {
            return;
        };
        let Some(name) = self.repos.get(repo).map(|r| r.repo.clone()) else {
            return;
        };
        let next = match self.choice(&name) {
            None => Some(Signal::ALL[0]),
            Some(s) => Signal::ALL
                .iter()
                .position(|x| *x == s)
                .and_then(|i| Signal::ALL.get(i + 1))
                .copied(),
        };
        let signals = &mut self.config.signals;
        match (
            signals
                .iter()
                .position(|(r, _)| r.eq_ignore_ascii_case(&name)),
            next,
        ) {
            (Some(i), Some(s)) => signals[i].1 = s,
            (Some(i), None) => {
                signals.remove(i);
            }
            (None, Some(s)) => signals.push((name, s)),
            (None, None) => {}
        }
        self.edited();
    }

    /// The rules changed: what was said of the old ones no longer holds.
    fn edited(&mut self) {
        self.refusal = None;
        if self.saving == Saving::Saved {
            self.saving = Saving::Idle;
        }
    }

    /// `p`: the rules to preview, if there is anything to ask.
    pub fn start_preview(&mut self) -> Option<DeliveryConfig> {
        if self.refuse_read_only() {
            return None;
        }
        self.refusal = None;
        self.preview = Some(Preview {
            config: self.config.clone(),
            figures: Loadable::Loading,
        });
        Some(self.config.clone())
    }

    /// `s`: save what was previewed; preview first when the effect is not on screen.
    pub fn start_save(&mut self) -> SaveStep {
        if self.refuse_read_only() || matches!(self.saving, Saving::Sending(_)) {
            return SaveStep::Nothing;
        }
        if !self.changed() {
            self.hint = Some("Nothing to save: the rules are as saved.".into());
            return SaveStep::Nothing;
        }
        if !self.previewed_now() {
            self.hint = Some("Here is the effect first: s again saves these rules.".into());
            return match self.start_preview() {
                Some(config) => SaveStep::Preview(config),
                None => SaveStep::Nothing,
            };
        }
        self.refusal = None;
        self.saving = Saving::Sending(self.config.clone());
        SaveStep::Save(self.config.clone())
    }

    /// The daemon's answer to a preview of `config`.
    pub fn previewed(
        &mut self,
        config: &DeliveryConfig,
        result: Result<Box<(DoraGroup, DoraGroup)>, String>,
    ) {
        let Some(preview) = &mut self.preview else {
            return;
        };
        if preview.config != *config {
            return;
        }
        match result {
            Ok(figures) => preview.figures = Loadable::Loaded(figures),
            Err(text) => {
                self.preview = None;
                self.refusal = Some(refusal(text));
            }
        }
    }

    /// The daemon's answer to a save.
    pub fn saved(&mut self, result: Result<DeliveryConfig, String>) {
        match result {
            Ok(saved) => {
                let same = self.config == self.saved_sending();
                self.saved = saved.clone();
                if same {
                    self.config = saved;
                }
                self.saving = Saving::Saved;
                self.hint = None;
            }
            Err(text) => {
                self.saving = Saving::Idle;
                self.refusal = Some(refusal(text));
            }
        }
    }

    fn saved_sending(&self) -> DeliveryConfig {
        match &self.saving {
            Saving::Sending(config) => config.clone(),
            _ => self.config.clone(),
        }
    }

    /// The tab's data came again (a sync, a webhook, a save): the saved rules and the
    /// repositories as the daemon has them now; what is being edited stays.
    pub fn reloaded(&mut self, saved: &DeliveryConfig, repos: &[RepoSignal]) {
        if !self.changed() && self.editing.is_none() {
            self.config = saved.clone();
        }
        self.saved = saved.clone();
        self.repos = repos.to_vec();
        self.cursor = self.cursor.min(self.rows().saturating_sub(1));
    }
}

/// The daemon's refusal, placed under the rule its words name.
fn refusal(text: String) -> Refusal {
    let rule = RULE_NAMES
        .iter()
        .enumerate()
        .filter_map(|(i, name)| text.find(name).map(|at| (at, i)))
        .min()
        .map(|(_, i)| i);
    Refusal { rule, text }
}
