//! A secret value (token, webhook secret, key) that cannot be printed by accident.

use std::fmt;
use zeroize::Zeroizing;

/// Holds a secret string. Debug and Display print `[redacted]`; the bytes are zeroed on drop.
/// The only way to read it is [`Secret::expose`], which makes every use greppable.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A mask that is safe to show: a token's prefix (up to its first `_`, as GitHub's `gho_`) and
    /// its last four characters, e.g. `gho_…a1b2`. Short secrets show nothing of themselves.
    pub fn mask(&self) -> String {
        let s = self.expose();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() < 16 {
            return "…".into();
        }
        let prefix: String = match s.find('_') {
            Some(i) if i <= 8 => s[..=i].to_string(),
            _ => String::new(),
        };
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{prefix}…{tail}")
    }
}

/// A fresh random secret of `bytes` random bytes, hex-encoded (webhook secrets). The random
/// bytes are zeroed after use, and the text is written into one allocation of its final size
/// (no stray copies from growing it), which the caller's `Secret::new` then owns and zeroes.
pub fn random_token(bytes: usize) -> String {
    use rand::TryRngCore;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = zeroize::Zeroizing::new(vec![0u8; bytes]);
    rand::rngs::OsRng
        .try_fill_bytes(&mut buf)
        .expect("the OS random source works");
    let mut out = String::with_capacity(bytes * 2);
    for b in buf.iter() {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    out
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("gho_16C7e42F292c6912E7710c838347Ae178B4a");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret([redacted]))");
    }

    #[test]
    fn random_tokens_are_hex_of_the_asked_length_and_differ() {
        let (a, b) = (random_token(32), random_token(32));
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn mask_shows_prefix_and_last_four() {
        let s = Secret::new("gho_16C7e42F292c6912E7710c838347Ae178B4a");
        assert_eq!(s.mask(), "gho_…8B4a");
        assert_eq!(Secret::new("x".repeat(40)).mask(), "…xxxx");
        assert_eq!(Secret::new("short_token").mask(), "…");
        assert_eq!(Secret::new("").mask(), "…");
    }
}
