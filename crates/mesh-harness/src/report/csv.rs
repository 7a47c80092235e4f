//! The CSV of a run's samples: one row per sample, one column per figure, so that another run
//! can be compared with it later (`mesh-soak --compare-with`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::figure_names;
use crate::probe::{Reading, Sample};

/// Writes every sample as CSV: `elapsed_s,cycles`, then one column per figure.
pub fn write_csv(path: &Path, samples: &[Sample]) -> Result<()> {
    let names = figure_names(samples);
    let mut out = String::from("elapsed_s,cycles,quiet,settled");
    for name in &names {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for s in samples {
        let _ = write!(
            out,
            "{:.3},{},{},{}",
            s.elapsed.as_secs_f64(),
            s.cycles,
            u8::from(s.quiet),
            u8::from(s.settled)
        );
        for name in &names {
            out.push(',');
            if let Some((v, _)) = s.figure(name) {
                let _ = write!(out, "{v}");
            }
        }
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

/// Reads samples back from [`write_csv`]'s format (bounds are not kept in the CSV).
pub fn read_csv(path: &Path) -> Result<Vec<Sample>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().context("empty CSV")?.split(',').collect();
    if header.get(..3) != Some(&["elapsed_s", "cycles", "quiet"]) {
        bail!("{} is not a soak CSV", path.display());
    }
    // CSVs written before settled samples existed have no `settled` column.
    let fixed = if header.get(3) == Some(&"settled") {
        4
    } else {
        3
    };
    let mut samples = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let mut sample = Sample {
            elapsed: Duration::from_secs_f64(cells[0].parse()?),
            cycles: cells[1].parse()?,
            quiet: cells[2] == "1",
            settled: fixed == 4 && cells[3] == "1",
            heap_bytes: 0,
            heap_blocks: None,
            rss_bytes: 0,
            fds: 0,
            tasks: 0,
            structures: Vec::new(),
        };
        for (name, cell) in header.iter().zip(&cells).skip(fixed) {
            if cell.is_empty() {
                continue;
            }
            let value: u64 = cell.parse()?;
            match *name {
                "process.heap_bytes" => sample.heap_bytes = value,
                "process.heap_blocks" => sample.heap_blocks = Some(value),
                "process.rss_bytes" => sample.rss_bytes = value,
                "process.open_fds" => sample.fds = value,
                "process.tokio_tasks" => sample.tasks = value,
                other => sample.structures.push(Reading::new(other, value)),
            }
        }
        samples.push(sample);
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_samples::sample;
    use crate::report::{summarize, table, write_chart, Criteria};

    /// A CSV written before live blocks were counted has no block column: its runs show "n/a"
    /// for blocks, not a flat 0 judged "ok".
    #[test]
    fn csv_without_a_block_column_reads_back_as_not_recorded() {
        let dir = std::env::temp_dir().join(format!("mesh-harness-old-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let samples: Vec<Sample> = (0..=100).map(|c| sample(c, 1_000 + c, 20)).collect();
        let csv = dir.join("old.csv");
        write_csv(&csv, &samples).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let column = text
            .lines()
            .next()
            .unwrap()
            .split(',')
            .position(|name| name == "process.heap_blocks")
            .expect("a block column to drop");
        let old: Vec<String> = text
            .lines()
            .map(|line| {
                let mut cells: Vec<&str> = line.split(',').collect();
                cells.remove(column);
                cells.join(",")
            })
            .collect();
        std::fs::write(&csv, old.join("\n")).unwrap();

        let back = read_csv(&csv).unwrap();
        assert_eq!(back.len(), samples.len());
        assert!(back.iter().all(|s| s.heap_blocks.is_none()));
        assert_eq!(back[100].heap_bytes, 1_100);
        let old_summary = summarize(&back, &Criteria::default());
        assert!(old_summary.iter().all(|s| s.name != "process.heap_blocks"));
        let new_summary = summarize(&samples, &Criteria::default());
        let t = table(&[("fork", &new_summary), ("old", &old_summary)]);
        let row = t
            .lines()
            .find(|l| l.starts_with("| process.heap_blocks "))
            .expect("a block row for the run that has blocks");
        assert_eq!(row.matches("n/a").count(), 6, "{row}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn csv_round_trips_and_chart_is_written() {
        let dir = std::env::temp_dir().join(format!("mesh-harness-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut samples: Vec<Sample> = (0..5).map(|c| sample(c, 100 + c, c)).collect();
        samples[0].settled = true;
        let csv = dir.join("s.csv");
        write_csv(&csv, &samples).unwrap();
        let back = read_csv(&csv).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back[3].heap_bytes, 103);
        assert!(back[0].quiet && !back[3].quiet);
        assert!(back[0].settled && !back[1].settled);
        assert_eq!(back[3].structures[0].value, 3);
        let svg = dir.join("c.svg");
        write_chart(&svg, &[("fork", &samples), ("upstream", &back)]).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg") && text.contains("p2panda_net.address_book.peers"));
        let t = table(&[("fork", &summarize(&samples, &Criteria::default()))]);
        assert!(t.contains("process.heap_bytes"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
