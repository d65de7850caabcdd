//! The time window of an analytics request, and the buckets of a time series.
//!
//! A window is `[since, until)` of creation times (see the store's `Analytics`
//! contract); by default the last [`DEFAULT_SPAN_MS`] up to now, `since` defaulting to
//! `until` minus that span when only `until` is given. `since` must be before `until`.
//! A series' bucket is given in whole seconds or chosen so that the window holds about
//! [`TARGET_BUCKETS`] (the smallest of [`NICE_BUCKETS`] that gives at most that many,
//! whole days beyond); buckets start at round times ([`origin`]), and a window is cut
//! into at most [`MAX_BUCKETS`].

use harmonia_storage::Timestamp;
use harmonia_storage::analytics::Window;

use crate::{Error, Result, present};

/// The window when none is given: the last 24 hours.
pub const DEFAULT_SPAN_MS: i64 = 24 * 3600 * 1000;

/// About how many buckets a series has when its bucket is not given.
pub const TARGET_BUCKETS: i64 = 60;

/// The most buckets a series may have.
pub const MAX_BUCKETS: i64 = 1_000;

/// The largest bucket, in seconds: 100 years (times stay far from `i64`'s limits).
pub const MAX_BUCKET_SECONDS: i64 = 100 * 365 * 86_400;

/// The bucket sizes chosen automatically, in seconds.
pub const NICE_BUCKETS: [i64; 19] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
    86_400, 604_800,
];

/// What a caller asks about: a window (either end may be left to the default) and
/// an optional workflow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Range {
    /// Created at or after this time (default: `until` minus 24 hours).
    pub since: Option<Timestamp>,
    /// Created before this time (default: now).
    pub until: Option<Timestamp>,
    /// Only executions of this workflow (by name; empty: every workflow).
    pub workflow: Option<String>,
}

impl Range {
    /// The window this range means at `now`; `since` must be before `until`.
    pub fn window(&self, now: Timestamp) -> Result<Window> {
        let until = self.until.unwrap_or(now);
        let since = self
            .since
            .unwrap_or(Timestamp(until.0.saturating_sub(DEFAULT_SPAN_MS)));
        if since >= until {
            return Err(Error::InvalidRequest(format!(
                "`since` must be before `until`: the window from {since} to {until} is empty \
                 (by default `until` is now and `since` 24 hours before it)"
            )));
        }
        Ok(Window {
            since,
            until,
            workflow: present(self.workflow.clone()),
        })
    }
}

/// The span of `window` in milliseconds (at least 1).
pub fn span_ms(window: &Window) -> i64 {
    window.until.0.saturating_sub(window.since.0).max(1)
}

/// The minutes of `window` that have passed at `now` (what rates are per); `None`
/// when none has.
pub fn elapsed_minutes(window: &Window, now: Timestamp) -> Option<f64> {
    let end = window.until.min(now);
    let ms = end.0.saturating_sub(window.since.0);
    (ms > 0).then(|| ms as f64 / 60_000.0)
}

/// Where the buckets of `bucket_ms` of a series over `window` start: `since` rounded
/// down to a multiple of the bucket (UTC), so that buckets start at round times (a
/// half hour at :00 and :30, a day at midnight); the first may begin before `since`.
pub fn origin(window: &Window, bucket_ms: i64) -> Timestamp {
    Timestamp(window.since.0 - window.since.0.rem_euclid(bucket_ms.max(1)))
}

/// How many buckets of `bucket_ms` from [`origin`] cover `window` (the first and the
/// last may reach beyond it).
pub fn bucket_count(window: &Window, bucket_ms: i64) -> i64 {
    buckets(
        window.until.0.saturating_sub(origin(window, bucket_ms).0),
        bucket_ms,
    )
}

/// The bucket of a series over `window`, in milliseconds: `seconds` when given (at
/// least 1, and at most [`MAX_BUCKETS`] of them over the window), else chosen.
pub fn bucket_ms(window: &Window, seconds: Option<u64>) -> Result<i64> {
    let span = span_ms(window);
    let Some(seconds) = seconds else {
        return Ok(auto_bucket_ms(span));
    };
    let ms = i64::try_from(seconds)
        .ok()
        .filter(|s| (1..=MAX_BUCKET_SECONDS).contains(s))
        .map(|s| s * 1_000)
        .ok_or_else(|| {
            Error::InvalidRequest(format!(
                "`bucket` must be a whole number of seconds from 1 to {MAX_BUCKET_SECONDS} \
                 (100 years), found {seconds}"
            ))
        })?;
    let count = bucket_count(window, ms);
    if count > MAX_BUCKETS {
        // Enough for any alignment: one bucket fewer than the most.
        let most = (MAX_BUCKETS - 1) * 1_000;
        let least = (span + most - 1) / most;
        return Err(Error::InvalidRequest(format!(
            "`bucket` of {seconds} s cuts the window into {count} buckets, more than \
             {MAX_BUCKETS}: ask for a bucket of at least {least} s, or a shorter window"
        )));
    }
    Ok(ms)
}

/// How many buckets of `bucket_ms` cover `span_ms` (the last may be partial).
pub fn buckets(span_ms: i64, bucket_ms: i64) -> i64 {
    let bucket_ms = bucket_ms.max(1);
    span_ms / bucket_ms + i64::from(span_ms % bucket_ms != 0)
}

/// The smallest nice bucket that cuts `span_ms` into at most [`TARGET_BUCKETS`];
/// whole days beyond the largest.
fn auto_bucket_ms(span_ms: i64) -> i64 {
    let wanted = (span_ms + TARGET_BUCKETS - 1) / TARGET_BUCKETS;
    NICE_BUCKETS
        .iter()
        .map(|s| s * 1_000)
        .find(|ms| *ms >= wanted)
        .unwrap_or_else(|| {
            let day = 86_400_000;
            (wanted + day - 1) / day * day
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn window(span_ms: i64) -> Window {
        Window {
            since: Timestamp(NOW.0 - span_ms),
            until: NOW,
            workflow: None,
        }
    }

    #[test]
    fn the_default_window_is_the_last_day() {
        let w = Range::default().window(NOW).expect("window");
        assert_eq!((w.since.0, w.until.0), (NOW.0 - DEFAULT_SPAN_MS, NOW.0));
        let only_until = Range {
            until: Some(Timestamp(1_000_000_000_000)),
            workflow: Some(String::new()),
            ..Range::default()
        };
        let w = only_until.window(NOW).expect("window");
        assert_eq!(w.since.0, 1_000_000_000_000 - DEFAULT_SPAN_MS);
        assert_eq!(w.workflow, None);
        let reversed = Range {
            since: Some(NOW),
            until: Some(Timestamp(NOW.0 - 1)),
            workflow: None,
        };
        assert!(matches!(
            reversed.window(NOW),
            Err(Error::InvalidRequest(m)) if m.starts_with("`since` must be before `until`")
        ));
    }

    #[test]
    fn buckets_are_chosen_nice_or_checked() {
        // A day: 30 minutes, 48 buckets; an hour: a minute, 60.
        assert_eq!(
            bucket_ms(&window(DEFAULT_SPAN_MS), None).ok(),
            Some(1_800_000)
        );
        assert_eq!(bucket_ms(&window(3_600_000), None).ok(), Some(60_000));
        assert_eq!(bucket_ms(&window(10), None).ok(), Some(1_000));
        // A year: whole days beyond a week.
        let year = 365 * 86_400_000;
        assert_eq!(bucket_ms(&window(year), None).ok(), Some(7 * 86_400_000));
        let decade = 10 * year;
        assert_eq!(bucket_ms(&window(decade), None).ok(), Some(61 * 86_400_000));
        // Given: in seconds, at most 1,000 buckets.
        assert_eq!(
            bucket_ms(&window(DEFAULT_SPAN_MS), Some(300)).ok(),
            Some(300_000)
        );
        assert_eq!(
            bucket_ms(&window(DEFAULT_SPAN_MS), Some(87)).ok(),
            Some(87_000)
        );
        assert!(matches!(
            bucket_ms(&window(DEFAULT_SPAN_MS), Some(60)),
            Err(Error::InvalidRequest(m)) if m.contains("1440 buckets") && m.contains("at least 87 s")
        ));
        // Round starts: a day from 10:07 in half hours starts at 10:00, 49 buckets.
        let w = Window {
            since: Timestamp(NOW.0 + 7 * 60_000),
            until: Timestamp(NOW.0 + 7 * 60_000 + DEFAULT_SPAN_MS),
            workflow: None,
        };
        assert_eq!(origin(&w, 1_800_000), NOW);
        assert_eq!(bucket_count(&w, 1_800_000), 49);
        assert_eq!(
            origin(&window(1_000), 1_800_000),
            Timestamp(NOW.0 - 1_800_000)
        );
        assert!(matches!(
            bucket_ms(&window(DEFAULT_SPAN_MS), Some(0)),
            Err(Error::InvalidRequest(m)) if m.starts_with("`bucket` must be")
        ));
        assert!(bucket_ms(&window(DEFAULT_SPAN_MS), Some(u64::MAX)).is_err());
        let century = MAX_BUCKET_SECONDS as u64;
        assert_eq!(
            bucket_ms(&window(DEFAULT_SPAN_MS), Some(century)).ok(),
            Some(MAX_BUCKET_SECONDS * 1_000)
        );
        assert!(bucket_ms(&window(DEFAULT_SPAN_MS), Some(century + 1)).is_err());
        assert_eq!(
            (buckets(10, 3), buckets(9, 3), buckets(1, 1_000)),
            (4, 3, 1)
        );
    }

    #[test]
    fn rates_are_per_minute_passed() {
        let w = window(120_000);
        assert_eq!(elapsed_minutes(&w, NOW), Some(2.0));
        assert_eq!(elapsed_minutes(&w, Timestamp(NOW.0 - 60_000)), Some(1.0));
        assert_eq!(elapsed_minutes(&w, Timestamp(NOW.0 - 120_000)), None);
    }
}
