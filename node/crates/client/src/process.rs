//! The standard `process_*` metrics of the Prometheus client libraries, read from `/proc` at
//! each scrape: CPU seconds, resident and virtual memory, open and maximum file descriptors,
//! threads and the start time. On a system without `/proc` they are left out.

use crate::metrics::gauge;
use std::fmt::Write;

/// Linux reports process times in these ticks per second to user space (`USER_HZ`).
const TICKS_PER_SECOND: f64 = 100.0;

/// Appends the process metrics to `out`.
pub fn render(out: &mut String) {
    let Some(stat) = Stat::read() else {
        return;
    };
    let cpu = (stat.utime + stat.stime) as f64 / TICKS_PER_SECOND;
    let _ = writeln!(
        out,
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
         # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}"
    );
    if let Some(rss) = status_kib("VmRSS:") {
        gauge(
            out,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            &[("", rss * 1024)],
        );
    }
    gauge(
        out,
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        &[("", stat.vsize)],
    );
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge(
            out,
            "process_open_fds",
            "Number of open file descriptors.",
            &[("", fds.count() as u64)],
        );
    }
    if let Some(max) = max_open_files() {
        gauge(
            out,
            "process_max_fds",
            "Maximum number of open file descriptors.",
            &[("", max)],
        );
    }
    gauge(
        out,
        "process_threads",
        "Number of OS threads in the process.",
        &[("", stat.threads)],
    );
    if let Some(boot) = boot_time() {
        let start = boot + stat.starttime / TICKS_PER_SECOND as u64;
        gauge(
            out,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            &[("", start)],
        );
    }
}

/// The fields of `/proc/self/stat` we expose.
struct Stat {
    utime: u64,
    stime: u64,
    threads: u64,
    starttime: u64,
    vsize: u64,
}

impl Stat {
    fn read() -> Option<Stat> {
        let text = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) is in parentheses and may hold spaces: fields count from
        // the last ')', whose next field is field 3.
        let rest = &text[text.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| f.get(n - 3)?.parse::<u64>().ok();
        Some(Stat {
            utime: field(14)?,
            stime: field(15)?,
            threads: field(20)?,
            starttime: field(22)?,
            vsize: field(23)?,
        })
    }
}

/// A `kB` line of `/proc/self/status`.
fn status_kib(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// The soft limit on open files.
fn max_open_files() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The system's boot time, seconds since the epoch.
fn boot_time() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_process_metrics_are_read_from_proc() {
        let mut out = String::new();
        super::render(&mut out);
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_virtual_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
            "process_threads ",
            "process_start_time_seconds ",
        ] {
            assert!(out.contains(name), "{name} missing:\n{out}");
        }
        let rss: u64 = out
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .and_then(|v| v.parse().ok())
            .expect("rss");
        assert!(rss > 1 << 20, "rss {rss}");
    }
}
