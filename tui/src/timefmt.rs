//! Human rendering of the protocol's Unix-second timestamps, shared by the CLI and the TUI.
//!
//! Absolute UTC on purpose: output must be the same for everyone who reads a pasted status, and
//! snapshot tests must not depend on the clock. A calendar crate would be heavier than this one
//! function (Howard Hinnant's `civil_from_days`).

/// The wall clock in Unix seconds (0 if the clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

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

/// Time left until a deadline, for prompts: `15 min` (rounded up), `45 s`, or `expired`.
pub fn time_left(secs: i64) -> String {
    match secs {
        i64::MIN..=0 => "expired".into(),
        1..=119 => format!("{secs} s"),
        _ => format!("{} min", (secs + 59) / 60),
    }
}

/// A countdown for a screen that redraws every second: `14:32`, `0:05`, `0:00`.
pub fn countdown(secs: i64) -> String {
    let secs = secs.max(0);
    format!("{}:{:02}", secs / 60, secs % 60)
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
    fn time_left_rounds_up_to_minutes() {
        assert_eq!(time_left(900), "15 min");
        assert_eq!(time_left(899), "15 min");
        assert_eq!(time_left(120), "2 min");
        assert_eq!(time_left(119), "119 s");
        assert_eq!(time_left(0), "expired");
        assert_eq!(time_left(-5), "expired");
        assert_eq!(countdown(872), "14:32");
        assert_eq!(countdown(5), "0:05");
        assert_eq!(countdown(-3), "0:00");
    }

    #[test]
    fn missing_time_uses_placeholder() {
        assert_eq!(utc_or(None, "never"), "never");
        assert_eq!(utc_or(Some(0), "never"), "1970-01-01 00:00 UTC");
    }
}
