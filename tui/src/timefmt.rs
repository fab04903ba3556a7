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

/// `2025-01-05 15:03 +01:00`: the wall time at `offset` seconds east of UTC, with the offset
/// (`UTC` for none), so a pasted line still says which time it is.
pub fn at_offset(secs: i64, offset: i64) -> String {
    if offset == 0 {
        return utc(secs);
    }
    let text = utc(secs + offset);
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.abs();
    format!(
        "{} {sign}{:02}:{:02}",
        &text[..text.len() - 4],
        abs / 3600,
        abs % 3600 / 60
    )
}

/// This machine's local time (its `TZ`, else `/etc/localtime`), as [`at_offset`] writes it.
/// For the CLI, where a person reads times next to their own clock; the TUI and snapshots keep
/// to UTC and `ago`.
pub fn local(secs: i64) -> String {
    at_offset(secs, local_offset(secs))
}

/// Seconds east of UTC in the local time zone at `secs` (0 if the C library cannot say).
#[allow(unsafe_code)] // localtime_r, with its SAFETY comment.
#[allow(clippy::useless_conversion)] // c_long is i64 here, i32 on 32-bit targets.
fn local_offset(secs: i64) -> i64 {
    // time_t is 64 bits here; where it is 32, a far time takes the latest offset it can.
    let t = libc::time_t::try_from(secs).unwrap_or(libc::time_t::MAX);
    // SAFETY: `tm` is plain data that localtime_r fills in; both pointers are valid for the
    // call, and localtime_r (unlike localtime) keeps no pointer to them.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&raw const t, &raw mut tm).is_null() {
            return 0;
        }
        i64::from(tm.tm_gmtoff)
    }
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

/// A duration for people: `45s`, `45m`, `3h 20m`, `3d 4h`. Two units at most, rounded down; a
/// negative duration (clock skew between GitHub's events) shows as `0s`.
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// What shows where there is no duration (a PR not merged, not reviewed yet).
pub const NO_DURATION: &str = "\u{2014}";

/// [`duration`], or `—` when there is none.
pub fn duration_or_dash(secs: Option<i64>) -> String {
    secs.map_or_else(|| NO_DURATION.to_string(), duration)
}

/// Midnight UTC starting `YYYY-MM-DD`, in Unix seconds. Strict: four-digit year from 1970,
/// two-digit month and day, a day that exists.
pub fn parse_date(text: &str) -> Result<i64, String> {
    let bad = || format!("'{text}' is not a date of the form YYYY-MM-DD");
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes[range.clone()]
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| text[range].parse::<u32>().ok())
            .flatten()
    };
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(bad());
    }
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return Err(bad());
    };
    if year < 1970 {
        return Err(format!("'{text}' is before 1970"));
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(format!("'{text}' is not a day of the calendar"));
    }
    Ok(days_from_civil(i64::from(year), month, day) * 86_400)
}

/// `--since`: a date ([`parse_date`]) or a span back from `now`: `30d` (days) or `12w` (weeks).
pub fn parse_since(text: &str, now: i64) -> Result<i64, String> {
    let span = text
        .strip_suffix('d')
        .map(|n| (n, 86_400))
        .or_else(|| text.strip_suffix('w').map(|n| (n, 7 * 86_400)));
    let Some((count, unit)) = span else {
        let date = parse_date(text).map_err(|reason| {
            if text.len() == 10 {
                reason
            } else {
                format!("'{text}' is neither a date (YYYY-MM-DD) nor a span like 30d or 12w")
            }
        })?;
        // Nothing was created after it yet: an empty answer would read as "no pull requests".
        if date > now {
            return Err(format!(
                "{text} is in the future (today is {}), so no pull request was created since",
                &utc(now)[..10]
            ));
        }
        return Ok(date);
    };
    let digits = !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit());
    let count: i64 = match count.parse() {
        Ok(n) if digits => n,
        _ if digits => i64::MAX,
        _ => {
            return Err(format!(
                "'{text}' is neither a date (YYYY-MM-DD) nor a span like 30d or 12w"
            ));
        }
    };
    // A century back is as far as anyone means; more is a typo (and would overflow).
    if !(1..=36_500 * 86_400 / unit).contains(&count) {
        return Err(format!(
            "'{text}': a span counts at least 1 and at most 36500 days back"
        ));
    }
    Ok(now - count * unit)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The inverse of [`civil_from_days`] (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_at_an_offset_name_it() {
        let t = 1_736_085_780; // 2025-01-05 14:03 UTC
        assert_eq!(at_offset(t, 0), "2025-01-05 14:03 UTC");
        assert_eq!(at_offset(t, 3600), "2025-01-05 15:03 +01:00");
        assert_eq!(
            at_offset(t, -(5 * 3600 + 30 * 60)),
            "2025-01-05 08:33 -05:30"
        );
        // Across midnight, the date moves too.
        assert_eq!(at_offset(t, 10 * 3600), "2025-01-06 00:03 +10:00");
    }

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
    #[test]
    fn durations_read_like_people_speak() {
        for (secs, want) in [
            (0, "0s"),
            (-30, "0s"),
            (59, "59s"),
            (60, "1m"),
            (45 * 60 + 59, "45m"),
            (3600, "1h"),
            (3600 + 20 * 60 + 5, "1h 20m"),
            (86_399, "23h 59m"),
            (86_400, "1d"),
            (86_400 + 59 * 60, "1d"),
            (3 * 86_400 + 4 * 3600 + 59 * 60, "3d 4h"),
            (400 * 86_400, "400d"),
        ] {
            assert_eq!(duration(secs), want, "{secs}");
        }
        assert_eq!(duration_or_dash(None), "\u{2014}");
        assert_eq!(duration_or_dash(Some(2700)), "45m");
    }

    #[test]
    fn dates_are_midnight_utc() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("2025-01-05"), Ok(1_736_035_200));
        assert_eq!(
            utc(parse_date("2025-01-05").unwrap()),
            "2025-01-05 00:00 UTC"
        );
        assert_eq!(parse_date("2000-02-29"), Ok(951_782_400));
        assert_eq!(
            utc(parse_date("2024-12-31").unwrap()),
            "2024-12-31 00:00 UTC"
        );
        // Every day of four years round-trips through the calendar.
        for day in 19_000..19_000 + 4 * 366 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
            assert_eq!(
                parse_date(&format!("{y:04}-{m:02}-{d:02}")),
                Ok(day * 86_400)
            );
        }
    }

    #[test]
    fn bad_dates_say_what_is_expected() {
        for text in [
            "",
            "2025",
            "2025-1-5",
            "2025/01/05",
            "25-01-05",
            "2025-01-05T00:00",
            "2025-0a-05",
            "+025-01-05",
            "2025-01-+5",
            "２０２５-01-05",
        ] {
            let err = parse_date(text).unwrap_err();
            assert!(err.contains("YYYY-MM-DD"), "{text:?}: {err}");
        }
        for text in [
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-04-31",
            "2025-01-00",
        ] {
            assert_eq!(
                parse_date(text),
                Err(format!("'{text}' is not a day of the calendar"))
            );
        }
        assert_eq!(
            parse_date("1969-12-31"),
            Err("'1969-12-31' is before 1970".into())
        );
    }

    #[test]
    fn since_takes_dates_and_spans_back_from_now() {
        let now = 1_736_085_780;
        assert_eq!(parse_since("30d", now), Ok(now - 30 * 86_400));
        assert_eq!(parse_since("12w", now), Ok(now - 84 * 86_400));
        assert_eq!(parse_since("2025-01-01", now), Ok(1_735_689_600));
        for text in [
            "30",
            "d",
            "-3d",
            "+3d",
            "3.5w",
            "30 d",
            "3m",
            "yesterday",
            "1y",
        ] {
            let err = parse_since(text, now).unwrap_err();
            assert!(
                err.contains("YYYY-MM-DD") && err.contains("30d"),
                "{text:?}: {err}"
            );
        }
        for text in ["0d", "0w", "36501d", "99999999999999999w"] {
            let err = parse_since(text, now).unwrap_err();
            assert!(err.contains("at least 1"), "{text:?}: {err}");
        }
        assert!(
            parse_since("2025-02-30", now)
                .unwrap_err()
                .contains("calendar")
        );
    }

    /// `metrics --since 2030-01-01` said "No pull requests": the date is in the future.
    #[test]
    fn since_refuses_a_date_in_the_future_and_says_so() {
        let now = 1_736_085_780; // 2025-01-05 14:03 UTC
        assert_eq!(
            parse_since("2030-01-01", now),
            Err(
                "2030-01-01 is in the future (today is 2025-01-05), so no pull request was \
                 created since"
                    .into()
            )
        );
        assert!(parse_since("2025-01-06", now).is_err());
        assert_eq!(
            parse_since("2025-01-05", now),
            Ok(1_736_035_200),
            "today is fine"
        );
    }
}
