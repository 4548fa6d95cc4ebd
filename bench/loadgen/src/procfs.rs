//! CPU time and resident memory of processes, read from `/proc`, so a run
//! can say what each operation cost the server and whether the generator
//! itself was the bottleneck.

use crate::error::{Error, Result};

/// Clock ticks per second of the `utime`/`stime` fields. The kernel fixes
/// USER_HZ at 100 for user space on every Linux architecture this runs on,
/// which saves asking `sysconf` (and an unsafe call) for it.
const TICKS_PER_SECOND: f64 = 100.0;

/// What the processes had used at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// utime + stime of the server processes, summed, in seconds.
    pub server_cpu_s: f64,
    /// Resident memory of the server processes, summed, in KiB.
    pub server_rss_kb: u64,
    /// utime + stime of this generator, in seconds.
    pub gen_cpu_s: f64,
}

impl Sample {
    /// Reads all of it now. A server pid that cannot be read is an error:
    /// a report that silently left a node out would mislead.
    pub fn take(server_pids: &[u32]) -> Result<Self> {
        let mut sample = Self {
            gen_cpu_s: cpu_seconds("self", 0)?,
            ..Self::default()
        };
        for &pid in server_pids {
            sample.server_cpu_s += cpu_seconds(&pid.to_string(), pid)?;
            sample.server_rss_kb += rss_kb(pid)?;
        }
        Ok(sample)
    }
}

/// utime + stime of `/proc/<name>/stat`, in seconds.
fn cpu_seconds(name: &str, pid: u32) -> Result<f64> {
    let text = read(&format!("/proc/{name}/stat"), pid)?;
    let ticks = stat_cpu_ticks(&text).ok_or_else(|| Error::Proc {
        pid,
        reason: "unreadable stat line".into(),
    })?;
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

/// `VmRSS` of `/proc/<pid>/status`, in KiB.
fn rss_kb(pid: u32) -> Result<u64> {
    let text = read(&format!("/proc/{pid}/status"), pid)?;
    vm_rss_kb(&text).ok_or_else(|| Error::Proc {
        pid,
        reason: "no VmRSS line".into(),
    })
}

fn read(path: &str, pid: u32) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Proc {
        pid,
        reason: format!("{path}: {e}"),
    })
}

/// utime (field 14) + stime (field 15) of a stat line. The command name
/// (field 2) is in parentheses and may hold spaces, so fields are counted
/// from the last `)`.
pub fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    utime.checked_add(stime)
}

/// The KiB figure of the `VmRSS:` line of a status file.
pub fn vm_rss_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_lines() {
        let stat = "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0 100 1000 50";
        assert_eq!(stat_cpu_ticks(stat), Some(325));
        assert_eq!(stat_cpu_ticks("1234 (x) S 1 2"), None);
        assert_eq!(stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn parses_vm_rss() {
        let status = "Name:\tswitchyard\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
        assert_eq!(vm_rss_kb(status), Some(12345));
        assert_eq!(vm_rss_kb("Name:\tx\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let sample = Sample::take(&[std::process::id()]).expect("readable");
        assert!(sample.server_rss_kb > 0);
        assert!(sample.gen_cpu_s >= 0.0);
        assert!(Sample::take(&[u32::MAX]).is_err());
    }
}
