//! How a backfill's progress is shown: a bar on a terminal, a line every
//! few seconds in a log, a JSON line per batch on stderr with
//! `--format json` (stdout keeps the one report).

use crate::output;
use schemactl::model::backfill::BackfillProgress;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    /// A bar, redrawn in place.
    Terminal,
    /// A text line at most every [`LOG_EVERY`], and the last.
    Log,
    /// A JSON object per batch.
    Json,
}

/// How often a log gets a progress line.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Shows `status` as `shown` says.
pub(crate) fn show(status: &BackfillProgress, shown: Shown) {
    match shown {
        Shown::Json => {
            let line = serde_json::json!({ "backfill": status });
            output::stderr_line(&line.to_string());
        }
        Shown::Terminal => bar(status),
        Shown::Log => {
            static LAST: Mutex<Option<Instant>> = Mutex::new(None);
            let Ok(mut last) = LAST.lock() else { return };
            let due = last.is_none_or(|at| at.elapsed() >= LOG_EVERY);
            if due || status.done {
                *last = (!status.done).then(Instant::now);
                output::stderr_line(&format!("  {}", line(status)));
            }
        }
    }
}

/// `backfill 0004_x: batch 17, 170,000 of ~1,000,000 keys (17 %), 169,998 rows changed, 52,000 keys/s, eta 16 s`.
pub(crate) fn line(status: &BackfillProgress) -> String {
    let seconds = status.elapsed_ms as f64 / 1000.0;
    let resumed = status.resumed_after_batch.unwrap_or(0);
    let keys_here = status
        .keys_done
        .saturating_sub(resumed_keys(status, resumed));
    let rate = (seconds > 0.0).then(|| keys_here as f64 / seconds);
    let mut text = format!(
        "backfill {}: batch {}, {} keys",
        status.label, status.batch, status.keys_done
    );
    if let Some(total) = status
        .keys_total
        .filter(|t| *t >= status.keys_done && !status.done)
    {
        text.push_str(&format!(
            " of ~{total} ({} %)",
            status.keys_done * 100 / total.max(1)
        ));
    }
    text.push_str(&format!(", {} rows changed", status.rows));
    if let Some(rate) = rate.filter(|r| *r > 0.0) {
        text.push_str(&format!(", {} keys/s", rate as u64));
        let left = status
            .keys_total
            .filter(|_| !status.done)
            .map(|t| t.saturating_sub(status.keys_done));
        if let Some(left) = left {
            text.push_str(&format!(", eta {} s", (left as f64 / rate).ceil() as u64));
        }
    }
    if status.replica_wait_ms > 0 {
        text.push_str(&format!(
            ", {} ms waiting for the replica",
            status.replica_wait_ms
        ));
    }
    if status.done {
        text.push_str(&format!(
            "; done, longest batch {} ms",
            status.longest_batch_ms
        ));
    }
    text
}

/// The keys earlier runs covered (the rate counts this run's only).
fn resumed_keys(status: &BackfillProgress, resumed_after: u64) -> u64 {
    if resumed_after == 0 || status.batch == 0 {
        return 0;
    }
    status.keys_done / status.batch * resumed_after
}

fn bar(status: &BackfillProgress) {
    static BAR: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);
    let Ok(mut bar) = BAR.lock() else { return };
    let shown = bar.get_or_insert_with(|| {
        let bar = indicatif::ProgressBar::new(status.keys_total.unwrap_or(0));
        let style = indicatif::ProgressStyle::with_template("  {msg} {bar:30} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    });
    if let Some(total) = status.keys_total {
        shown.set_length(total.max(status.keys_done));
    }
    shown.set_position(status.keys_done);
    shown.set_message(line(status));
    if status.done {
        shown.finish_and_clear();
        *bar = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_where_the_backfill_is_and_when_it_ends() {
        let status = BackfillProgress {
            label: "0004_totals".into(),
            batch: 4,
            keys_done: 40_000,
            keys_total: Some(100_000),
            rows: 39_990,
            elapsed_ms: 2_000,
            resumed_after_batch: Some(2),
            longest_batch_ms: 120,
            done: false,
            replica_wait_ms: 0,
        };
        assert_eq!(
            line(&status),
            "backfill 0004_totals: batch 4, 40000 keys of ~100000 (40 %), 39990 rows changed, 10000 keys/s, eta 6 s"
        );
        let done = BackfillProgress {
            done: true,
            ..status
        };
        assert!(
            line(&done).ends_with("; done, longest batch 120 ms"),
            "{}",
            line(&done)
        );
    }
}
