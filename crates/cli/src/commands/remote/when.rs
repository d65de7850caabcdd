//! Times for people: how long ago (`3m ago`), how long something took (`1.2s`,
//! `4m05s`), and `--since` values (`1h`, `30m`, `2d`, `1h30m`, or an RFC 3339 time).
//!
//! Times come from the server as RFC 3339 text; one that does not parse is shown as
//! it is rather than failing the command.

use jiff::{SignedDuration, Timestamp};

/// `AGE ago` for an RFC 3339 time, relative to `now`; the text as it is when it is not
/// a time.
pub(crate) fn ago(at: &str, now: Timestamp) -> String {
    match at.parse::<Timestamp>() {
        Ok(t) => format!("{} ago", short(now.duration_since(t))),
        Err(_) => at.to_string(),
    }
}

/// How long from `start` to `end` (or to `now` while it runs); `-` without a start.
pub(crate) fn took(start: Option<&str>, end: Option<&str>, now: Timestamp) -> String {
    let Some(Ok(start)) = start.map(str::parse::<Timestamp>) else {
        return "-".to_string();
    };
    let end = end.and_then(|e| e.parse::<Timestamp>().ok()).unwrap_or(now);
    elapsed(end.duration_since(start))
}

/// A duration to the tenth of a second under a minute (`0.4s`, `12.0s`), then minutes
/// and seconds (`4m05s`), then hours and minutes (`2h07m`).
pub(crate) fn elapsed(d: SignedDuration) -> String {
    let ms = d.as_millis().max(0);
    if ms < 60_000 {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}

/// A coarse age: `12s`, `5m`, `3h`, `2d`.
fn short(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// A `--since` value as the RFC 3339 time it means: a duration back from `now`
/// (`90s`, `30m`, `1h`, `2d`, `1h30m`) or a time as it is.
pub(crate) fn since(value: &str, now: Timestamp) -> Result<String, String> {
    if let Ok(t) = value.parse::<Timestamp>() {
        return Ok(t.to_string());
    }
    let back = back(value).ok_or_else(|| {
        format!(
            "`{value}` is neither a duration like 30m, 1h, 2d or 1h30m nor a time like 2026-11-24T10:00:00Z"
        )
    })?;
    now.checked_sub(back)
        .map(|t| t.to_string())
        .map_err(|_| format!("`{value}` goes back too far"))
}

/// `1h30m`, `2d`, `90s`: numbers each followed by d, h, m or s.
fn back(value: &str) -> Option<SignedDuration> {
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in value.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: i64 = match c {
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: i64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
        any = true;
    }
    (any && number.is_empty()).then(|| SignedDuration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-30T12:00:00Z".parse().expect("a time")
    }

    #[test]
    fn ages_and_durations_read_at_a_glance() {
        assert_eq!(ago("2026-11-30T11:59:48Z", now()), "12s ago");
        assert_eq!(ago("2026-11-30T11:55:00Z", now()), "5m ago");
        assert_eq!(ago("2026-11-28T11:00:00Z", now()), "2d ago");
        assert_eq!(ago("yesterday", now()), "yesterday");
        assert_eq!(
            took(
                Some("2026-11-30T11:59:59.600Z"),
                Some("2026-11-30T12:00:00Z"),
                now()
            ),
            "0.4s"
        );
        assert_eq!(took(Some("2026-11-30T11:55:55Z"), None, now()), "4m05s");
        assert_eq!(took(None, None, now()), "-");
        assert_eq!(elapsed(SignedDuration::from_secs(7620)), "2h07m");
    }

    #[test]
    fn since_takes_durations_and_times() {
        assert_eq!(since("1h", now()).as_deref(), Ok("2026-11-30T11:00:00Z"));
        assert_eq!(since("1h30m", now()).as_deref(), Ok("2026-11-30T10:30:00Z"));
        assert_eq!(since("2d", now()).as_deref(), Ok("2026-11-28T12:00:00Z"));
        assert_eq!(
            since("2026-11-24T10:00:00Z", now()).as_deref(),
            Ok("2026-11-24T10:00:00Z")
        );
        for bad in ["", "1", "h", "1w", "-1h", "soon"] {
            assert!(since(bad, now()).is_err(), "{bad}");
        }
    }
}
