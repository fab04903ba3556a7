//! Copying to the clipboard without a clipboard crate: the OSC 52 escape sequence asks the
//! terminal itself to set the system clipboard, which also works over SSH. Terminals may ignore
//! it (some disable it by default), so the UI says "copied" only as far as it can know.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The escape sequence that sets the clipboard (`c`) to `text`. Terminated with BEL, which more
/// terminals accept than ST.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", STANDARD.encode(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_text_in_base64() {
        assert_eq!(osc52("WDJB-MJHT"), "\x1b]52;c;V0RKQi1NSkhU\x07");
        // Nothing of the text goes through raw, so it cannot end the sequence early.
        assert_eq!(osc52("a\x07b").matches('\x07').count(), 1);
    }
}
