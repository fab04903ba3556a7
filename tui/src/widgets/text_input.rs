//! A one-line text field: the edit model (cursor in characters, not bytes, so Ünïcode names edit
//! correctly) and how to show it scrolled so the cursor stays visible.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    value: String,
    /// Cursor position in characters, `0..=len`.
    cursor: usize,
}

/// One editing step, produced from a key by the action layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
}

impl TextInput {
    /// A field holding `value`, the cursor at its end.
    pub fn new(value: &str) -> TextInput {
        TextInput {
            value: value.to_string(),
            cursor: value.chars().count(),
        }
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn byte_index(&self, chars: usize) -> usize {
        self.value
            .char_indices()
            .nth(chars)
            .map_or(self.value.len(), |(i, _)| i)
    }

    fn len(&self) -> usize {
        self.value.chars().count()
    }

    pub fn apply(&mut self, edit: Edit) {
        match edit {
            Edit::Insert(c) => {
                let at = self.byte_index(self.cursor);
                self.value.insert(at, c);
                self.cursor += 1;
            }
            Edit::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_index(self.cursor);
                self.value.remove(at);
            }
            Edit::Delete if self.cursor < self.len() => {
                let at = self.byte_index(self.cursor);
                self.value.remove(at);
            }
            Edit::Left => self.cursor = self.cursor.saturating_sub(1),
            Edit::Right => self.cursor = (self.cursor + 1).min(self.len()),
            Edit::Home => self.cursor = 0,
            Edit::End => self.cursor = self.len(),
            Edit::Backspace | Edit::Delete => {}
        }
    }

    /// The part of the value to show in `width` cells, and the cursor's column within it.
    /// Scrolls so the cursor is always visible (one cell per char: team names are short and
    /// mostly narrow; a wide char only shifts the cursor, it never hides it).
    pub fn visible(&self, width: usize) -> (String, usize) {
        if width == 0 {
            return (String::new(), 0);
        }
        let start = (self.cursor + 1).saturating_sub(width);
        let text: String = self.value.chars().skip(start).take(width).collect();
        (text, self.cursor - start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> TextInput {
        let mut input = TextInput::default();
        text.chars().for_each(|c| input.apply(Edit::Insert(c)));
        input
    }

    #[test]
    fn typing_and_editing_multibyte_text() {
        let mut input = typed("Ünïcode");
        input.apply(Edit::Backspace);
        assert_eq!(input.value(), "Ünïcod");
        input.apply(Edit::Home);
        input.apply(Edit::Delete);
        assert_eq!(input.value(), "nïcod");
        input.apply(Edit::Right);
        input.apply(Edit::Insert('ñ'));
        assert_eq!(input.value(), "nñïcod");
        assert_eq!(input.cursor(), 2);
    }

    #[test]
    fn cursor_stays_in_bounds() {
        let mut input = typed("ab");
        input.apply(Edit::Right);
        assert_eq!(input.cursor(), 2);
        input.apply(Edit::Delete);
        assert_eq!(input.value(), "ab");
        input.apply(Edit::Home);
        input.apply(Edit::Left);
        input.apply(Edit::Backspace);
        assert_eq!((input.value(), input.cursor()), ("ab", 0));
    }

    #[test]
    fn long_values_scroll_to_keep_the_cursor_visible() {
        let input = typed("abcdefghij");
        assert_eq!(input.visible(4), ("hij".to_string(), 3));
        assert_eq!(typed("ab").visible(4), ("ab".to_string(), 2));
    }
}
