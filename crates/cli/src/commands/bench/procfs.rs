//! What a child reads about itself in `/proc`: CPU time and context switches over all
//! its threads, and its peak resident set. Linux only; elsewhere the figures are `None`.
//!
//! CPU time is the first field of each thread's `schedstat` (nanoseconds on a CPU,
//! user and system together), summed over `/proc/self/task/*`: exact, where the
//! `utime`/`stime` of `/proc/self/stat` count 10 ms clock ticks (the fallback when
//! `schedstat` is missing). A thread that ends between two samples takes its figures
//! with it; the engine's threads live as long as the measurement.

use std::path::Path;

/// The nanoseconds per clock tick of `/proc/self/stat` (`sysconf(_SC_CLK_TCK)` is 100
/// on Linux).
const NS_PER_TICK: u64 = 10_000_000;

/// CPU time and context switches of this process so far (or between two samples).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Usage {
    /// On a CPU, user and system, in nanoseconds.
    pub(super) cpu_ns: Option<u64>,
    /// Voluntary and involuntary context switches.
    pub(super) switches: Option<u64>,
}

impl Usage {
    /// This process's usage so far, summed over its live threads.
    pub(super) fn sample() -> Usage {
        let mut usage = Usage::default();
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let dir = task.path();
                if let Some(ns) = read(&dir.join("schedstat")).and_then(|s| schedstat_ns(&s)) {
                    usage.cpu_ns = Some(usage.cpu_ns.unwrap_or(0) + ns);
                }
                if let Some(n) = read(&dir.join("status")).and_then(|s| context_switches(&s)) {
                    usage.switches = Some(usage.switches.unwrap_or(0) + n);
                }
            }
        }
        if usage.cpu_ns.is_none() {
            usage.cpu_ns = read(Path::new("/proc/self/stat"))
                .and_then(|s| stat_cpu_ticks(&s))
                .map(|ticks| ticks * NS_PER_TICK);
        }
        usage
    }

    /// The usage from `before` to `self`.
    pub(super) fn since(self, before: Usage) -> Usage {
        let delta = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
        Usage {
            cpu_ns: delta(self.cpu_ns, before.cpu_ns),
            switches: delta(self.switches, before.switches),
        }
    }
}

/// This process's peak resident set so far, in KiB (`VmHWM`).
pub(super) fn peak_rss_kb() -> Option<u64> {
    read(Path::new("/proc/self/status")).and_then(|s| status_field(&s, "VmHWM"))
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The number of a `Key:   value [kB]` line of a `status` file.
fn status_field(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (k, rest) = line.split_once(':')?;
        if k != key {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Voluntary plus involuntary context switches, from a `status` file.
fn context_switches(status: &str) -> Option<u64> {
    Some(
        status_field(status, "voluntary_ctxt_switches")?
            + status_field(status, "nonvoluntary_ctxt_switches")?,
    )
}

/// The nanoseconds on a CPU of a `schedstat` file (its first field).
fn schedstat_ns(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().next()?.parse().ok()
}

/// `utime + stime` of a `/proc/PID/stat` line, in clock ticks. The command name (field
/// 2) may hold spaces and parentheses, so the fields are counted after its last `)`:
/// `utime` and `stime` are fields 14 and 15.
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tharmonia\nVmHWM:\t   12345 kB\nVmRSS:\t   1000 kB\n\
        voluntary_ctxt_switches:\t16\nnonvoluntary_ctxt_switches:\t4\n";

    #[test]
    fn reads_status_lines() {
        assert_eq!(status_field(STATUS, "VmHWM"), Some(12345));
        assert_eq!(status_field(STATUS, "VmRSS"), Some(1000));
        assert_eq!(status_field(STATUS, "VmSwap"), None);
        // `voluntary_ctxt_switches` is not read from `nonvoluntary_ctxt_switches`.
        assert_eq!(status_field(STATUS, "voluntary_ctxt_switches"), Some(16));
        assert_eq!(context_switches(STATUS), Some(20));
        assert_eq!(context_switches("Name:\tx\n"), None);
    }

    #[test]
    fn reads_schedstat_and_stat() {
        assert_eq!(schedstat_ns("557635108 296136 19\n"), Some(557_635_108));
        assert_eq!(schedstat_ns(""), None);
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 100 0 0 0 55 7 0 0 20 0 1 0";
        assert_eq!(stat_cpu_ticks(stat), Some(62));
        assert_eq!(stat_cpu_ticks("42 (x) S 1"), None);
    }

    #[test]
    fn usage_since_subtracts_and_keeps_unknowns() {
        let before = Usage {
            cpu_ns: Some(100),
            switches: None,
        };
        let after = Usage {
            cpu_ns: Some(350),
            switches: Some(9),
        };
        assert_eq!(
            after.since(before),
            Usage {
                cpu_ns: Some(250),
                switches: None,
            }
        );
    }

    #[test]
    fn samples_this_process() {
        if !Path::new("/proc/self/task").exists() {
            return;
        }
        let before = Usage::sample();
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let spent = Usage::sample().since(before);
        assert!(spent.cpu_ns.is_some_and(|ns| ns > 0), "{spent:?}");
        assert!(spent.switches.is_some(), "{spent:?}");
        assert!(peak_rss_kb().is_some_and(|kb| kb > 0));
    }
}
