//! What a child reads about itself: CPU time and context switches over all its
//! threads, and its peak resident set (from `/proc`; Linux only, `None` elsewhere).
//!
//! CPU time is the sum of each live thread's CPU-time clock (`/proc/self/task` lists
//! them), read with `clock_gettime`: nanoseconds on a CPU, user and system, and exact
//! for a thread that is running on another CPU at that moment. The process's own
//! clock (`CLOCK_PROCESS_CPUTIME_ID`), and each thread's `schedstat`, leave out what a
//! running thread has run since it last stopped: a chain run by the scheduler's thread
//! without a pause counted next to nothing when that thread was still at work as the
//! sample was taken. Context switches are `getrusage`'s voluntary and involuntary ones,
//! of every thread the process has had (counted as they happen). A thread that ends
//! between two samples takes its CPU time with it; the engine's threads live as long as
//! the measurement. A sample is a listing and a system call per thread: the sampling
//! thread's own share of it is a few microseconds.

use std::path::Path;

use nix::sys::resource::{UsageWho, getrusage};
use nix::time::{ClockId, clock_gettime};

/// CPU time and context switches of this process so far (or between two samples).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Usage {
    /// On a CPU, user and system, in nanoseconds.
    pub(super) cpu_ns: Option<u64>,
    /// Voluntary and involuntary context switches.
    pub(super) switches: Option<u64>,
}

impl Usage {
    /// This process's usage so far, over all its threads.
    pub(super) fn sample() -> Usage {
        let cpu_ns = std::fs::read_dir("/proc/self/task").ok().map(|tasks| {
            tasks
                .flatten()
                .filter_map(|task| task.file_name().to_str()?.parse::<i32>().ok())
                .filter_map(|tid| clock_gettime(thread_clock(tid)).ok())
                .filter_map(|t| {
                    u64::try_from(t.tv_sec())
                        .ok()?
                        .checked_mul(1_000_000_000)?
                        .checked_add(u64::try_from(t.tv_nsec()).ok()?)
                })
                .sum()
        });
        let switches = getrusage(UsageWho::RUSAGE_SELF).ok().and_then(|u| {
            let n = i128::from(u.voluntary_context_switches())
                + i128::from(u.involuntary_context_switches());
            u64::try_from(n).ok()
        });
        Usage { cpu_ns, switches }
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

/// The CPU-time clock of thread `tid` of this process: Linux's
/// `MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)`, what `pthread_getcpuclockid` returns.
fn thread_clock(tid: i32) -> ClockId {
    const CPUCLOCK_SCHED: i32 = 2;
    const CPUCLOCK_PERTHREAD: i32 = 4;
    ClockId::from_raw((!tid << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED)
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

    /// A thread's work is counted while it still runs on another CPU, without having
    /// stopped since its last tick: a sample is never below what the thread itself
    /// read of its own clock just before.
    #[test]
    fn samples_a_thread_that_is_still_running() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        if !Path::new("/proc/self/task").exists() {
            return;
        }
        let (stop, own) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (stopping, reading) = (stop.clone(), own.clone());
        let spinner = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                if let Ok(t) = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID) {
                    let ns = t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64;
                    reading.store(ns, Ordering::Relaxed);
                }
            }
        });
        for _ in 0..20 {
            std::thread::sleep(std::time::Duration::from_micros(700));
            let at_least = own.load(Ordering::Relaxed);
            let sampled = Usage::sample().cpu_ns.unwrap();
            assert!(sampled >= at_least, "{sampled} < {at_least}");
        }
        stop.store(true, Ordering::Relaxed);
        spinner.join().unwrap();
        let before = Usage::sample();
        assert!(Usage::sample().since(before).switches.is_some());
        assert!(peak_rss_kb().is_some_and(|kb| kb > 0));
    }
}
