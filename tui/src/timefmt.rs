//! Human rendering of the protocol's Unix-second timestamps, shared by the CLI and the TUI.
//!
//! Absolute UTC on purpose: output must be the same for everyone who reads a pasted status, and
//! snapshot tests must not depend on the clock. A calendar crate would be heavier than this one
//! function (Howard Hinnant's `civil_from_days`).

/// `2025-01-05 14:03 UTC`.
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// `never` for a missing time, else [`utc`].
pub fn utc_or(secs: Option<i64>, none: &str) -> String {
    secs.map_or_else(|| none.to_string(), utc)
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_736_085_780), "2025-01-05 14:03 UTC");
        // Leap day and the end of a century year.
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn missing_time_uses_placeholder() {
        assert_eq!(utc_or(None, "never"), "never");
        assert_eq!(utc_or(Some(0), "never"), "1970-01-01 00:00 UTC");
    }
}
