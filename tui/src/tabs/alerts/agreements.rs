//! The team's working agreements on the Alerts tab (`e`): each setting as text, edited with
//! `enter` and checked with the protocol's own parsers (`Span::parse`, `WorkingHours::parse`,
//! `parse_clock`, as `tidemark agreements set` does) before it is kept, so a bad value is
//! refused inline and never sent; `s` saves them with `agreements_set`. Admins and owners edit;
//! members read. An empty value takes a limit back (the time zone always has one).

use tidemark_protocol::agreements::{Agreements, Span, WorkingHours, clock};

use crate::app::action::Action;
use crate::app::selection::step;
use crate::cli::time_of_day;
use crate::widgets::text_input::{Edit, TextInput};

/// The settings in the order shown (as `agreements show` lists them).
pub const FIELDS: [&str; 8] = [
    "first-review",
    "max-size",
    "merge-within",
    "min-approvals",
    "max-open-per-author",
    "working-hours",
    "timezone",
    "digest",
];

/// What a member is told, on the page and when a key would change something.
pub const READ_ONLY: &str = "Read-only: only the team's admins and owners change the agreements.";

/// Where a save stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saving {
    Idle,
    Sending,
    Saved,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementsEditor {
    pub may_edit: bool,
    /// As saved (the daemon's word).
    pub saved: Agreements,
    /// As edited here.
    pub edited: Agreements,
    /// The row under the cursor, in [`FIELDS`].
    pub cursor: usize,
    /// The value being typed, when one is.
    pub editing: Option<TextInput>,
    /// Why the typed value was not kept (shown under its row while typing goes on).
    pub invalid: Option<String>,
    pub saving: Saving,
    /// The daemon's refusal of a save.
    pub refusal: Option<String>,
    /// Why a key did nothing, until the next key.
    pub hint: Option<String>,
}

/// A setting's value as it is typed (empty: not set).
pub fn field_text(a: &Agreements, field: usize) -> String {
    let n = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    let s = |v: Option<Span>| v.map(|s| s.to_string()).unwrap_or_default();
    match field {
        0 => s(a.first_review_within),
        1 => n(a.max_size),
        2 => s(a.merge_within),
        3 => n(a.min_approvals),
        4 => n(a.max_open_per_author),
        5 => a
            .working_hours
            .map(|w| format!("{}-{}", clock(w.start_minute), clock(w.end_minute)))
            .unwrap_or_default(),
        6 => a.timezone.clone(),
        _ => a.digest_at.map(clock).unwrap_or_default(),
    }
}

fn count(text: &str) -> Result<Option<u32>, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(format!("'{text}' is not a whole number")),
    }
}

/// `text` as the value of `field` in `a`, or why it cannot be. Empty takes a limit back.
pub fn set_field(a: &mut Agreements, field: usize, text: &str) -> Result<(), String> {
    let text = text.trim();
    let empty = text.is_empty();
    let span = |t: &str| (!empty).then(|| Span::parse(t)).transpose();
    match field {
        0 => a.first_review_within = span(text)?,
        1 => a.max_size = if empty { None } else { count(text)? },
        2 => a.merge_within = span(text)?,
        3 => a.min_approvals = if empty { None } else { count(text)? },
        4 => a.max_open_per_author = if empty { None } else { count(text)? },
        5 => {
            let unchanged = text == field_text(a, 5);
            // The same window keeps its days (the parser's are Monday to Friday).
            if !unchanged {
                a.working_hours = (!empty).then(|| WorkingHours::parse(text)).transpose()?;
            }
        }
        6 => {
            if empty || text.chars().any(char::is_whitespace) {
                return Err("a time zone is an IANA name, e.g. Europe/Berlin or UTC".into());
            }
            a.timezone = text.to_string();
        }
        _ => a.digest_at = (!empty).then(|| time_of_day(text)).transpose()?,
    }
    Ok(())
}

impl AgreementsEditor {
    pub fn new(agreements: Agreements, may_edit: bool) -> AgreementsEditor {
        AgreementsEditor {
            may_edit,
            saved: agreements.clone(),
            edited: agreements,
            cursor: 0,
            editing: None,
            invalid: None,
            saving: Saving::Idle,
            refusal: None,
            hint: None,
        }
    }

    pub fn changed(&self) -> bool {
        self.edited != self.saved
    }

    pub fn move_cursor(&mut self, action: Action) {
        if self.editing.is_none() {
            self.cursor = step(self.cursor, FIELDS.len(), action);
            self.hint = None;
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

    /// `enter`: type the value under the cursor.
    pub fn enter(&mut self) {
        if self.refuse_read_only() || self.editing.is_some() {
            return;
        }
        self.invalid = None;
        self.editing = Some(TextInput::new(&field_text(&self.edited, self.cursor)));
    }

    pub fn edit(&mut self, edit: Edit) {
        if let Some(input) = &mut self.editing {
            input.apply(edit);
            self.invalid = None;
        }
    }

    /// Enter keeps the typed value when it parses (else says why and goes on typing); esc
    /// leaves the value as it was.
    pub fn end_edit(&mut self, keep: bool) {
        let Some(input) = &self.editing else {
            return;
        };
        if !keep {
            self.editing = None;
            self.invalid = None;
            return;
        }
        let mut edited = self.edited.clone();
        match set_field(&mut edited, self.cursor, input.value()) {
            Ok(()) => {
                self.editing = None;
                self.invalid = None;
                if edited != self.edited {
                    self.edited = edited;
                    self.refusal = None;
                    if self.saving == Saving::Saved {
                        self.saving = Saving::Idle;
                    }
                }
            }
            Err(reason) => self.invalid = Some(reason),
        }
    }

    /// `s`: the agreements to send, if there is anything to save.
    pub fn start_save(&mut self) -> Option<Agreements> {
        if self.refuse_read_only() || self.saving == Saving::Sending || self.editing.is_some() {
            return None;
        }
        if !self.changed() {
            self.hint = Some("Nothing to save: the agreements are as saved.".into());
            return None;
        }
        self.refusal = None;
        self.saving = Saving::Sending;
        Some(self.edited.clone())
    }

    /// The daemon's answer to a save.
    pub fn saved(&mut self, result: Result<Agreements, String>) {
        match result {
            Ok(saved) => {
                self.saved = saved.clone();
                self.edited = saved;
                self.saving = Saving::Saved;
            }
            Err(text) => {
                self.saving = Saving::Idle;
                self.refusal = Some(text);
            }
        }
    }

    /// The tab's data came again: the saved agreements as the daemon has them now; what is
    /// being edited stays.
    pub fn reloaded(&mut self, saved: &Agreements) {
        if !self.changed() && self.editing.is_none() {
            self.edited = saved.clone();
        }
        self.saved = saved.clone();
    }
}
