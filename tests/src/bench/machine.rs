//! What machine the figures come from.

use serde::Serialize;

/// Cores, CPU model, memory and load at the start of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub mem_total_mb: u64,
    /// `/proc/loadavg` when the run started (the machine is shared).
    pub loadavg: String,
}

fn first_field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

impl Machine {
    /// Reads `/proc`; fields it cannot read say so.
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kb = first_field(&meminfo, "MemTotal")
            .and_then(|v| v.split_whitespace().next().map(str::to_string))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        Machine {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: first_field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            mem_total_mb: mem_kb / 1024,
            loadavg: std::fs::read_to_string("/proc/loadavg")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
        }
    }

    /// The header of the human output.
    pub fn print(&self) {
        println!(
            "machine: {} cores ({}), {} MB RAM, loadavg {}",
            self.nproc, self.cpu_model, self.mem_total_mb, self.loadavg
        );
    }
}
