//! CPU time and resident memory of a process, from `/proc`, and the file
//! descriptor limit.

use std::time::Duration;

/// `USER_HZ`: the unit of `utime`/`stime` in `/proc/PID/stat`. The kernel
/// fixes it at 100 for user space on every architecture Linux supports
/// today, whatever `CONFIG_HZ` is.
const TICKS_PER_SECOND: u64 = 100;

/// CPU time of a process, read two ways.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// `utime + stime` from `/proc/PID/stat`: every thread, live or
    /// exited, in 10 ms ticks.
    pub stat: Duration,
    /// The system part of `stat` (`stime`): the kernel's work for the
    /// process, system calls and the loopback TCP path among it.
    pub system: Duration,
    /// The sum of the live threads' `sum_exec_runtime` from
    /// `/proc/PID/task/*/schedstat`: the same quantity the kernel turns
    /// into `utime + stime`, in nanoseconds. A window of 2 s at 5 % CPU is
    /// only 10 ticks, so this is the one the report uses.
    pub threads: Option<Duration>,
}

impl Cpu {
    pub fn read(pid: &str) -> Cpu {
        // One read of `/proc/PID/stat` for both numbers.
        let (user, system) = stat_times(pid).unwrap_or_default();
        Cpu {
            stat: user + system,
            system,
            threads: threads_cpu_time(pid),
        }
    }

    /// CPU time spent between `earlier` and `self`: the nanosecond sum when
    /// both samples have it, else the ticks.
    pub fn since(&self, earlier: &Cpu) -> Duration {
        match (self.threads, earlier.threads) {
            // Less than before: a thread exited and took its time out of
            // the live threads' sum; the ticks count it.
            (Some(now), Some(then)) if now >= then => now - then,
            _ => self.stat.saturating_sub(earlier.stat),
        }
    }
}

/// Sum of the first field (run time, ns) of each thread's schedstat.
fn threads_cpu_time(pid: &str) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread may exit between the listing and the read.
        if let Ok(text) = std::fs::read_to_string(path) {
            total += text.split_whitespace().next()?.parse::<u64>().ok()?;
        }
    }
    Some(Duration::from_nanos(total))
}

/// User plus system CPU time of a process (all its threads, live and
/// exited), from fields 14 and 15 of `/proc/PID/stat`. `pid` may be
/// `"self"`.
pub fn stat_cpu_time(pid: &str) -> Option<Duration> {
    stat_times(pid).map(|(user, system)| user + system)
}

/// User and system CPU time of a process, as [`stat_cpu_time`] reads them.
fn stat_times(pid: &str) -> Option<(Duration, Duration)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field N is at index N - 3.
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    let ticks = |t: u64| Duration::from_millis(t * 1000 / TICKS_PER_SECOND);
    Some((ticks(utime), ticks(stime)))
}

/// Resident set size in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Raises the soft limit on open files to the hard limit, so that 10 000
/// streams fit; returns the limit now in force.
pub fn raise_nofile_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        // Burn CPU until the schedstat sum has moved by 20 ms of CPU time,
        // however long that takes in wall time on a busy machine (the
        // wall-clock cap only keeps a broken reader from spinning forever).
        let before = Cpu::read("self");
        let start = before.threads.expect("schedstat readable");
        let cap = std::time::Instant::now() + Duration::from_secs(300);
        let mut x = 0u64;
        let burned = loop {
            for _ in 0..100_000 {
                x = x.wrapping_mul(31).wrapping_add(7);
            }
            let now = Cpu::read("self");
            if now.threads.unwrap() >= start + Duration::from_millis(20) {
                break now;
            }
            assert!(
                std::time::Instant::now() < cap,
                "CPU time never moved: {now:?}"
            );
        };
        assert!(x != 1);
        assert!(burned.since(&before) >= Duration::from_millis(20));
        assert!(stat_cpu_time("self").is_some());
        // The system part is part of the whole.
        assert!(burned.system <= burned.stat);
        assert!(rss_kib("self").unwrap() > 0);
    }

    #[test]
    fn a_thread_that_exited_falls_back_to_the_ticks() {
        let ms = Duration::from_millis;
        let sample = |threads, stat| Cpu {
            stat: ms(stat),
            system: Duration::ZERO,
            threads: Some(ms(threads)),
        };
        // The live threads' sum grew: it is the measure.
        assert_eq!(sample(150, 200).since(&sample(100, 100)), ms(50));
        // It shrank (a thread and its time went away): the ticks, which
        // keep exited threads, are.
        assert_eq!(sample(40, 200).since(&sample(100, 100)), ms(100));
    }
}
