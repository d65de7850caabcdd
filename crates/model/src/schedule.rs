//! A `schedule` trigger compiled: its cron pattern read in its time zone, and the fire
//! times it names.
//!
//! Times are milliseconds since the Unix epoch (UTC), as the store keeps them. The
//! pattern is read in the time zone's wall clock, with croner's rules at daylight
//! saving changes: a fixed time that a change skips (02:30 on a spring-forward night)
//! fires at the first instant after the gap; a fixed time that a change repeats
//! (01:30 on a fall-back night) fires once, at its first occurrence; an interval
//! pattern (`*/15 * * * *`) fires on both occurrences of a repeated hour.
//!
//! Invariant: `next_after(t)` is strictly after `t`, so walking from a fire to the next
//! never repeats one.

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::tz::TimeZone;

use crate::definition::{Catchup, Overlap};
use harmonia_expr::ValueTemplate;

/// A `schedule` trigger, compiled.
#[derive(Debug, Clone)]
pub struct SchedulePlan {
    /// Its position in `triggers:`.
    pub index: usize,
    /// The pattern, as written.
    pub pattern: String,
    /// The pattern, parsed.
    pub cron: Cron,
    /// The time zone's name, as written (`UTC` when absent).
    pub timezone_name: String,
    /// The time zone.
    pub timezone: TimeZone,
    /// What a fire does while a run is unfinished.
    pub overlap: Overlap,
    /// What missed fires become.
    pub catchup: Catchup,
    /// The execution's inputs (an object), over `$trigger` and `$params`.
    pub inputs: ValueTemplate,
}

impl SchedulePlan {
    /// The first fire time strictly after `after` (ms), if the pattern names one
    /// (a pattern may name no time at all, such as February 30th).
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let start = jiff::Timestamp::from_millisecond(after)
            .ok()?
            .to_zoned(self.timezone.clone());
        // croner works in whole seconds: from within a second, the search starts at
        // that second, which is not after `after` and is skipped below.
        let next = self.cron.find_next_occurrence(&start, false).ok()?;
        let ms = next.timestamp().as_millisecond();
        if ms > after {
            Some(ms)
        } else {
            self.next_after(ms.max(after - after.rem_euclid(1000) + 999))
        }
    }

    /// The latest fire times at or before `until` and after `after`, newest first, at
    /// most `max`.
    pub fn latest_fires(&self, after: i64, until: i64, max: usize) -> Vec<i64> {
        let mut out = Vec::new();
        let Ok(start) = jiff::Timestamp::from_millisecond(until) else {
            return out;
        };
        let mut at = start.to_zoned(self.timezone.clone());
        let mut inclusive = true;
        while out.len() < max {
            let Ok(prev) = self.cron.find_previous_occurrence(&at, inclusive) else {
                break;
            };
            let ms = prev.timestamp().as_millisecond();
            if ms <= after {
                break;
            }
            if ms <= until && out.last() != Some(&ms) {
                out.push(ms);
            }
            at = prev;
            inclusive = false;
        }
        out
    }

    /// The fire times in `(after, until]`, oldest first, at most `max` (the oldest
    /// ones).
    pub fn fires_between(&self, after: i64, until: i64, max: usize) -> Vec<i64> {
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < max {
            match self.next_after(t) {
                Some(next) if next <= until => {
                    out.push(next);
                    t = next;
                }
                _ => break,
            }
        }
        out
    }
}

/// Parses a 5- or 6-field cron pattern (seconds first when 6), or says what is wrong.
pub fn parse_cron(pattern: &str) -> Result<Cron, String> {
    let fields = pattern.split_whitespace().count();
    if !pattern.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
        return Err(format!(
            "a cron pattern has 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), found {fields}"
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(pattern)
        .map_err(|e| {
            format!(
                "not a cron pattern ({}): the fields are [second 0-59] minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-7 or SUN-SAT, each `*`, a value, a range `a-b`, a list `a,b` or a step `*/n`",
                e.to_string().trim_end_matches('.')
            )
        })
}

/// The time zone named `name` (IANA), or says what is wrong.
pub fn parse_timezone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        let names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .collect();
        match harmonia_expr::suggest(name, names.iter().map(String::as_str)) {
            Some(s) => format!(
                "unknown time zone `{}` (did you mean `{s}`?)",
                harmonia_expr::clip(name)
            ),
            None => format!(
                "unknown time zone `{}`: give an IANA name such as `Europe/Paris`, `America/New_York` or `UTC`",
                harmonia_expr::clip(name)
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(cron: &str, zone: &str) -> SchedulePlan {
        SchedulePlan {
            index: 0,
            pattern: cron.to_string(),
            cron: parse_cron(cron).expect("a pattern"),
            timezone_name: zone.to_string(),
            timezone: parse_timezone(zone).expect("a zone"),
            overlap: Overlap::Skip,
            catchup: Catchup::Last,
            inputs: ValueTemplate::Object(Vec::new()),
        }
    }

    fn ms(utc: &str) -> i64 {
        utc.parse::<jiff::Timestamp>()
            .expect("a time")
            .as_millisecond()
    }

    fn utc(ms: i64) -> String {
        jiff::Timestamp::from_millisecond(ms)
            .expect("a time")
            .to_string()
    }

    fn fires(p: &SchedulePlan, from: &str, to: &str) -> Vec<String> {
        p.fires_between(ms(from), ms(to), 100)
            .into_iter()
            .map(utc)
            .collect()
    }

    #[test]
    fn a_fixed_time_skipped_by_spring_forward_fires_after_the_gap() {
        // Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST.
        let p = plan("30 2 * * *", "Europe/Paris");
        assert_eq!(
            fires(&p, "2026-03-27T12:00:00Z", "2026-03-30T12:00:00Z"),
            [
                "2026-03-28T01:30:00Z", // 02:30 CET
                "2026-03-29T01:00:00Z", // 03:00 CEST, the first instant after the gap
                "2026-03-30T00:30:00Z", // 02:30 CEST
            ]
        );
    }

    #[test]
    fn a_fixed_time_repeated_by_fall_back_fires_once() {
        // Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
        let p = plan("30 2 * * *", "Europe/Paris");
        assert_eq!(
            fires(&p, "2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z"),
            ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]
        );
    }

    #[test]
    fn an_interval_fires_on_both_passes_of_a_repeated_hour() {
        let p = plan("*/30 * * * *", "Europe/Paris");
        assert_eq!(
            fires(&p, "2026-10-24T23:45:00Z", "2026-10-25T01:45:00Z"),
            [
                "2026-10-25T00:00:00Z", // 02:00 CEST
                "2026-10-25T00:30:00Z", // 02:30 CEST
                "2026-10-25T01:00:00Z", // 02:00 CET
                "2026-10-25T01:30:00Z", // 02:30 CET
            ]
        );
    }

    #[test]
    fn new_york_follows_its_own_rules() {
        // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT.
        let p = plan("0 9 * * *", "America/New_York");
        assert_eq!(
            fires(&p, "2026-03-07T00:00:00Z", "2026-03-09T00:00:00Z"),
            ["2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"]
        );
    }

    #[test]
    fn six_fields_read_seconds_first_and_next_is_strictly_after() {
        let p = plan("*/20 * * * * *", "UTC");
        assert_eq!(
            fires(&p, "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"),
            [
                "2026-01-01T00:00:20Z",
                "2026-01-01T00:00:40Z",
                "2026-01-01T00:01:00Z"
            ]
        );
        // From inside a fire's second, the next is the next fire, not that one.
        assert_eq!(
            p.next_after(ms("2026-01-01T00:00:20.500Z")).map(utc),
            Some("2026-01-01T00:00:40Z".to_string())
        );
        assert_eq!(
            p.next_after(ms("2026-01-01T00:00:19.999Z")).map(utc),
            Some("2026-01-01T00:00:20Z".to_string())
        );
        assert_eq!(p.fires_between(0, i64::MAX, 3).len(), 3, "bounded");
    }

    #[test]
    fn the_latest_fires_walk_back_and_stop_at_the_mark() {
        let p = plan("0 * * * *", "UTC");
        let latest: Vec<String> = p
            .latest_fires(ms("2026-01-01T00:30:00Z"), ms("2026-01-01T05:00:00Z"), 3)
            .into_iter()
            .map(utc)
            .collect();
        assert_eq!(
            latest,
            [
                "2026-01-01T05:00:00Z",
                "2026-01-01T04:00:00Z",
                "2026-01-01T03:00:00Z"
            ]
        );
        assert_eq!(
            p.latest_fires(ms("2026-01-01T03:00:00Z"), ms("2026-01-01T05:30:00Z"), 10)
                .len(),
            2,
            "the mark itself has fired"
        );
    }

    #[test]
    fn patterns_and_zones_that_are_not() {
        assert!(parse_cron("* * * *").is_err());
        assert!(parse_cron("0 0 0 * * * 2027").is_err());
        assert!(parse_cron("61 * * * *").is_err());
        assert!(parse_cron("@hourly").is_ok());
        assert!(parse_cron("0 9 * * MON-FRI").is_ok());
        assert!(parse_timezone("Mars/Olympus").is_err());
        assert!(parse_timezone("UTC").is_ok());
    }
}
