//! What this process uses: CPU time (user and system, from `getrusage`) and resident
//! memory (`VmRSS` of `/proc/self/status`, on Linux; `None` elsewhere, or when it
//! cannot be read).
//!
//! Reading `/proc` is a file read, so it runs on the blocking pool.

/// The resources of this process at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessUsage {
    /// CPU time in user mode since the process started, in milliseconds.
    pub cpu_user_ms: Option<u64>,
    /// CPU time in the kernel on its behalf, in milliseconds.
    pub cpu_system_ms: Option<u64>,
    /// Resident memory now, in bytes.
    pub rss_bytes: Option<u64>,
}

/// This process's usage now.
pub async fn usage() -> ProcessUsage {
    tokio::task::spawn_blocking(read).await.unwrap_or_default()
}

fn read() -> ProcessUsage {
    let (cpu_user_ms, cpu_system_ms) = cpu();
    ProcessUsage {
        cpu_user_ms,
        cpu_system_ms,
        rss_bytes: rss(),
    }
}

fn cpu() -> (Option<u64>, Option<u64>) {
    use nix::sys::resource::{UsageWho, getrusage};
    let ms = |t: nix::sys::time::TimeVal| {
        let us = i128::from(t.tv_sec()) * 1_000_000 + i128::from(t.tv_usec());
        u64::try_from(us / 1_000).ok()
    };
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => (ms(u.user_time()), ms(u.system_time())),
        Err(_) => (None, None),
    }
}

fn rss() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    vm_rss(&status)
}

/// The `VmRSS` of a `/proc/<pid>/status` text, in bytes.
fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => n.checked_mul(1024),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_from_the_status_text() {
        let status = "Name:\tharmonia\nVmPeak:\t  200 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
        assert_eq!(vm_rss(status), Some(12_345 * 1024));
        assert_eq!(vm_rss("Name: x\n"), None);
        assert_eq!(vm_rss("VmRSS: lots kB\n"), None);
    }

    #[tokio::test]
    async fn this_process_uses_some_cpu_and_memory() {
        // Burn a little CPU so that user time is not zero.
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert_ne!(x, 1);
        let u = usage().await;
        assert!(
            u.cpu_user_ms.is_some() && u.cpu_system_ms.is_some(),
            "{u:?}"
        );
        if cfg!(target_os = "linux") {
            assert!(u.rss_bytes.is_some_and(|b| b > 1024 * 1024), "{u:?}");
        }
    }
}
