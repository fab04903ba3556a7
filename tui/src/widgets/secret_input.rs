//! A one-line field for a secret (the GitHub OAuth app's client secret): edited like
//! [`TextInput`], but it shows one `•` per character and its `Debug` says only how long it is,
//! so neither a screen nor a log line (`{state:?}` in a test failure, say) can carry it.

use super::text_input::{Edit, TextInput};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretInput(TextInput);

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretInput({} chars)", self.len())
    }
}

/// What the field shows for each character.
pub const BULLET: char = '•';

impl SecretInput {
    /// The secret itself: only for the request that carries it to the daemon.
    pub fn reveal(&self) -> &str {
        self.0.value()
    }

    pub fn len(&self) -> usize {
        self.0.value().chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.value().is_empty()
    }

    pub fn apply(&mut self, edit: Edit) {
        self.0.apply(edit);
    }

    /// Bullets for the part in view, and the cursor's column: [`TextInput::visible`] over
    /// bullets, so the secret's characters never reach the screen.
    pub fn visible(&self, width: usize) -> (String, usize) {
        let (text, cursor) = self.0.visible(width);
        (text.chars().map(|_| BULLET).collect(), cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> SecretInput {
        let mut input = SecretInput::default();
        text.chars().for_each(|c| input.apply(Edit::Insert(c)));
        input
    }

    #[test]
    fn shows_bullets_and_debugs_without_the_secret() {
        let input = typed("s3cr3t-value");
        assert_eq!(input.reveal(), "s3cr3t-value");
        assert_eq!(input.visible(40), ("••••••••••••".to_string(), 12));
        let debug = format!("{input:?}");
        assert_eq!(debug, "SecretInput(12 chars)");
        assert!(!debug.contains("s3cr3t"));
    }

    #[test]
    fn edits_like_a_text_field() {
        let mut input = typed("abc");
        input.apply(Edit::Backspace);
        input.apply(Edit::Home);
        input.apply(Edit::Insert('x'));
        assert_eq!(input.reveal(), "xab");
        assert_eq!(input.visible(2), ("••".to_string(), 1));
    }
}
