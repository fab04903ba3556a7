//! Working time: how a span of an agreement is counted. Without working hours every second
//! counts; with them, only the seconds inside the team's working window on its working days,
//! in its time zone (so a daylight-saving change moves the window with the wall clock).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use tidemark_protocol::agreements::{Span, WorkingHours};

/// Days walked at most when looking for a deadline or summing time: more than a year of spans
/// (366 working days are about 512 calendar days) and far beyond any PR's life.
const MAX_DAYS: u32 = 4_000;

#[derive(Debug, Clone)]
pub struct WorkClock {
    tz: TimeZone,
    hours: Option<WorkingHours>,
}

#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not a time zone this machine knows (an IANA name such as Europe/Berlin)")]
pub struct UnknownZone(pub String);

impl WorkClock {
    pub fn new(timezone: &str, hours: Option<WorkingHours>) -> Result<WorkClock, UnknownZone> {
        let tz = TimeZone::get(timezone).map_err(|_| UnknownZone(timezone.to_string()))?;
        Ok(WorkClock { tz, hours })
    }

    /// Every second counts (UTC, no working hours).
    pub fn calendar() -> WorkClock {
        WorkClock {
            tz: TimeZone::UTC,
            hours: None,
        }
    }

    pub fn timezone(&self) -> &TimeZone {
        &self.tz
    }

    /// The seconds a span stands for: working seconds when working hours are set.
    fn span_seconds(&self, span: Span) -> i64 {
        match (self.hours, span) {
            (None, s) => s.calendar_hours() as i64 * 3_600,
            (Some(_), Span::Hours(h)) => i64::from(h) * 3_600,
            (Some(w), Span::Days(d)) => i64::from(d) * w.day_seconds(),
        }
    }

    /// The instant at which `span` of counted time has passed since `start`.
    pub fn deadline(&self, start: i64, span: Span) -> i64 {
        let mut need = self.span_seconds(span);
        let Some(_) = self.hours else {
            return start.saturating_add(need);
        };
        let mut day = self.date_of(start);
        for _ in 0..MAX_DAYS {
            if let Some((open, close)) = self.window(day) {
                let from = open.max(start);
                if from < close {
                    let available = close - from;
                    if need <= available {
                        return from + need;
                    }
                    need -= available;
                }
            }
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
        // No working day in reach (cannot happen with a validated week): never late.
        i64::MAX
    }

    /// Counted seconds between `from` and `to` (0 when `to` is not after `from`).
    pub fn elapsed(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let Some(_) = self.hours else {
            return to - from;
        };
        let mut total = 0;
        let mut day = self.date_of(from);
        for _ in 0..MAX_DAYS {
            if let Some((open, close)) = self.window(day) {
                if open >= to {
                    break;
                }
                let (a, b) = (open.max(from), close.min(to));
                if a < b {
                    total += b - a;
                }
            }
            let Ok(next) = day.tomorrow() else { break };
            day = next;
            if self.midnight(day).is_some_and(|m| m >= to) {
                break;
            }
        }
        total
    }

    /// The local date of an instant.
    pub fn date_of(&self, t: i64) -> Date {
        Timestamp::from_second(t)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.tz.clone())
            .date()
    }

    /// Local minutes after midnight of an instant.
    pub fn minute_of(&self, t: i64) -> u16 {
        let z = Timestamp::from_second(t)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.tz.clone());
        (z.hour() as u16) * 60 + z.minute() as u16
    }

    /// The instant a local date's wall clock shows `minute` (after a daylight-saving gap, the
    /// instant just after it, as RFC 5545's "compatible" choice does).
    pub fn at(&self, day: Date, minute: u16) -> Option<i64> {
        let (day, minute) = if minute >= 24 * 60 {
            (day.tomorrow().ok()?, minute - 24 * 60)
        } else {
            (day, minute)
        };
        let dt = day.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        dt.to_zoned(self.tz.clone())
            .ok()
            .map(|z| z.timestamp().as_second())
    }

    fn midnight(&self, day: Date) -> Option<i64> {
        self.at(day, 0)
    }

    /// A working day's window, or None on a day off.
    fn window(&self, day: Date) -> Option<(i64, i64)> {
        let w = self.hours?;
        let weekday = day.weekday().to_monday_zero_offset();
        if w.days & (1 << weekday) == 0 {
            return None;
        }
        Some((self.at(day, w.start_minute)?, self.at(day, w.end_minute)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seconds of a local Berlin wall-clock time.
    fn berlin(clock: &WorkClock, y: i16, m: i8, d: i8, hh: u16, mm: u16) -> i64 {
        clock.at(jiff::civil::date(y, m, d), hh * 60 + mm).unwrap()
    }

    fn nine_to_six() -> WorkClock {
        WorkClock::new(
            "Europe/Berlin",
            Some(WorkingHours::parse("09:00-18:00").unwrap()),
        )
        .unwrap()
    }

    #[test]
    fn without_working_hours_every_second_counts() {
        let c = WorkClock::calendar();
        assert_eq!(c.deadline(1_000, Span::Hours(24)), 1_000 + 86_400);
        assert_eq!(c.deadline(1_000, Span::Days(7)), 1_000 + 7 * 86_400);
        assert_eq!(c.elapsed(1_000, 4_600), 3_600);
        assert_eq!(c.elapsed(4_600, 1_000), 0);
    }

    #[test]
    fn a_friday_evening_pull_request_is_due_on_tuesday_not_saturday() {
        let c = nine_to_six();
        // Friday 2026-12-04 17:00: one working hour on Friday, nine on Monday, so eight hours
        // is Monday 16:00, and 24 working hours Wednesday 14:00.
        let fri = berlin(&c, 2026, 12, 4, 17, 0);
        assert_eq!(
            c.deadline(fri, Span::Hours(8)),
            berlin(&c, 2026, 12, 7, 16, 0)
        );
        assert_eq!(
            c.deadline(fri, Span::Hours(24)),
            berlin(&c, 2026, 12, 9, 14, 0)
        );
        // A day is a working day: Friday 17:00 plus one day is Monday 17:00.
        assert_eq!(
            c.deadline(fri, Span::Days(1)),
            berlin(&c, 2026, 12, 7, 17, 0)
        );
        // Saturday counts nothing; the weekend does not make it late.
        let sat = berlin(&c, 2026, 12, 5, 12, 0);
        assert_eq!(c.elapsed(fri, sat), 3_600);
        assert_eq!(
            c.elapsed(fri, berlin(&c, 2026, 12, 7, 10, 30)),
            2 * 3_600 + 1_800
        );
    }

    #[test]
    fn opened_at_night_or_on_sunday_the_clock_starts_at_the_next_opening() {
        let c = nine_to_six();
        let sunday = berlin(&c, 2026, 12, 6, 22, 0);
        assert_eq!(
            c.deadline(sunday, Span::Hours(2)),
            berlin(&c, 2026, 12, 7, 11, 0)
        );
        let tuesday_night = berlin(&c, 2026, 12, 8, 23, 0);
        assert_eq!(
            c.deadline(tuesday_night, Span::Hours(9)),
            berlin(&c, 2026, 12, 9, 18, 0)
        );
    }

    #[test]
    fn the_window_follows_the_wall_clock_across_daylight_saving_changes() {
        let c = nine_to_six();
        // Berlin moves to summer time on Sunday 2026-03-29. Friday 27th 09:00 CET is 08:00 UTC;
        // Monday 30th 09:00 CEST is 07:00 UTC: nine working hours either side.
        let fri = berlin(&c, 2026, 3, 27, 9, 0);
        assert_eq!(fri, 1_774_598_400);
        let due = c.deadline(fri, Span::Hours(18));
        assert_eq!(due, berlin(&c, 2026, 3, 30, 18, 0));
        assert_eq!(due - fri, 3 * 86_400 + 9 * 3_600 - 3_600);
        assert_eq!(c.elapsed(fri, due), 18 * 3_600);
        // And back on Sunday 2026-10-25: the window is still 09:00-18:00 local.
        let fri = berlin(&c, 2026, 10, 23, 12, 0);
        let due = c.deadline(fri, Span::Hours(9));
        assert_eq!(due, berlin(&c, 2026, 10, 26, 12, 0));
        assert_eq!(due - fri, 3 * 86_400 + 3_600);
    }

    #[test]
    fn a_zone_the_machine_does_not_know_is_refused() {
        let err = WorkClock::new("Mars/Olympus", None).unwrap_err();
        assert!(err.to_string().contains("Mars/Olympus"));
    }
}
