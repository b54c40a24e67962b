//! What a scenario found, as a table for people or one JSON object.

use super::machine::Machine;
use serde::Serialize;
use std::time::Duration;

/// One measured figure, Cairn next to its baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub metric: String,
    pub unit: &'static str,
    pub cairn: Option<f64>,
    pub baseline: Option<f64>,
    /// Cairn / baseline.
    pub ratio: Option<f64>,
    /// The target, in words (empty when the figure is only reported).
    pub goal: String,
    pub met: Option<bool>,
}

impl Row {
    /// A row with the ratio filled in from the two figures.
    pub fn new(
        metric: impl Into<String>,
        unit: &'static str,
        cairn: Option<f64>,
        baseline: Option<f64>,
    ) -> Self {
        let ratio = match (cairn, baseline) {
            (Some(c), Some(b)) if b != 0.0 => Some(c / b),
            _ => None,
        };
        Row {
            metric: metric.into(),
            unit,
            cairn,
            baseline,
            ratio,
            goal: String::new(),
            met: None,
        }
    }

    /// Adds the goal and whether it was met.
    pub fn goal(mut self, goal: impl Into<String>, met: Option<bool>) -> Self {
        self.goal = goal.into();
        self.met = met;
        self
    }
}

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: &'static str,
    /// What the baseline column is.
    pub baseline: String,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
    /// Raw figures behind the rows.
    pub details: serde_json::Value,
    /// Wall time of the whole scenario.
    pub seconds: f64,
}

impl Report {
    /// An empty report for `scenario`.
    pub fn new(scenario: &'static str, baseline: impl Into<String>) -> Self {
        Report {
            scenario,
            baseline: baseline.into(),
            rows: Vec::new(),
            notes: Vec::new(),
            details: serde_json::Value::Null,
            seconds: 0.0,
        }
    }

    /// The report as one JSON line, with the machine it ran on.
    pub fn to_json(&self, machine: &Machine) -> String {
        let mut v = serde_json::to_value(self).expect("reports serialise");
        v["machine"] = serde_json::to_value(machine).expect("machine info serialises");
        v.to_string()
    }

    /// Prints the table.
    pub fn print(&self) {
        println!();
        println!(
            "== {} ({:.0} s) — baseline: {}",
            self.scenario, self.seconds, self.baseline
        );
        let header = [
            "metric".to_string(),
            "unit".into(),
            "Cairn".into(),
            "baseline".into(),
            "ratio".into(),
            "goal".into(),
            "met".into(),
        ];
        let mut lines = vec![header];
        for r in &self.rows {
            lines.push([
                r.metric.clone(),
                r.unit.to_string(),
                fmt_value(r.cairn, r.unit),
                fmt_value(r.baseline, r.unit),
                r.ratio.map_or("-".into(), |x| format!("{x:.2}x")),
                if r.goal.is_empty() {
                    "-".into()
                } else {
                    r.goal.clone()
                },
                match r.met {
                    Some(true) => "yes".into(),
                    Some(false) => "NO".into(),
                    None => "".into(),
                },
            ]);
        }
        let widths: Vec<usize> = (0..7)
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for l in &lines {
            let cells: Vec<String> = l
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (s, w))| {
                    if (2..=4).contains(&c) {
                        format!("{s:>w$}")
                    } else {
                        format!("{s:<w$}")
                    }
                })
                .collect();
            println!("  {}", cells.join("  ").trim_end());
        }
        for n in &self.notes {
            println!("  note: {n}");
        }
    }
}

/// A figure with a precision that suits its unit.
pub fn fmt_value(v: Option<f64>, unit: &str) -> String {
    let Some(v) = v else {
        return "-".into();
    };
    match unit {
        "%" => format!("{v:.2}"),
        "ms" if v < 100.0 => format!("{v:.2}"),
        "s" => format!("{v:.3}"),
        "MB" | "MB/s" => format!("{v:.1}"),
        _ if v.abs() >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The nearest-rank percentile `p` (0-100) of sorted `values`.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&[3.0], 99.0), Some(3.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn ratios_need_a_nonzero_baseline() {
        assert_eq!(Row::new("x", "ms", Some(4.0), Some(2.0)).ratio, Some(2.0));
        assert_eq!(Row::new("x", "ms", Some(4.0), Some(0.0)).ratio, None);
        assert_eq!(Row::new("x", "ms", None, Some(1.0)).ratio, None);
    }
}
