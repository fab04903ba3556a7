//! Time as GitHub writes it: ISO 8601 UTC with a `Z` and no fractions.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `2011-01-26T19:01:12Z`.
pub fn iso(t: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    dt.format(&f).expect("a valid date formats")
}

/// An HTTP `Date` header value: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    dt.format(&f).expect("a valid date formats")
}

/// Parse an RFC 3339 time (GitHub's `since`, GraphQL DateTime).
pub fn parse_iso(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_github_and_parses_back() {
        assert_eq!(iso(1_296_068_472), "2011-01-26T19:01:12Z");
        assert_eq!(parse_iso("2011-01-26T19:01:12Z"), Some(1_296_068_472));
        assert_eq!(parse_iso("yesterday"), None);
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
