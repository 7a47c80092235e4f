//! The CSV of a run's samples: one row per sample, one column per figure, so that another run
//! can be compared with it later (`mesh-soak --compare-with`).

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use csv::{ReaderBuilder, StringRecord, Writer};

use super::figure_names;
use crate::probe::{Reading, Sample};

/// The columns before the figures: seconds since the run started, churn cycles done, and the
/// quiet and settled flags (`1` or `0`).
const FIXED_COLUMNS: [&str; 4] = ["elapsed_s", "cycles", "quiet", "settled"];

/// Writes every sample as CSV: `elapsed_s`, `cycles`, `quiet` and `settled` (`1` or `0`), then
/// one column per figure (empty where a sample has no such figure).
pub fn write_csv(path: &Path, samples: &[Sample]) -> Result<()> {
    let names = figure_names(samples);
    let written = || -> Result<()> {
        let mut writer = Writer::from_path(path)?;
        writer.write_record(
            FIXED_COLUMNS
                .iter()
                .copied()
                .chain(names.iter().map(String::as_str)),
        )?;
        for sample in samples {
            writer.write_record(row(sample, &names))?;
        }
        writer.flush()?;
        Ok(())
    };
    written().with_context(|| format!("writing {}", path.display()))
}

/// A sample's cells, in the columns [`write_csv`] writes.
fn row(sample: &Sample, names: &[String]) -> Vec<String> {
    let mut cells = vec![
        format!("{:.3}", sample.elapsed.as_secs_f64()),
        sample.cycles.to_string(),
        u8::from(sample.quiet).to_string(),
        u8::from(sample.settled).to_string(),
    ];
    cells.extend(names.iter().map(|name| {
        sample
            .figure(name)
            .map_or_else(String::new, |(value, _)| value.to_string())
    }));
    cells
}

/// Reads samples back from [`write_csv`]'s format (bounds are not kept in the CSV). Older
/// harnesses' CSVs are read too: without a `settled` column no sample is settled, and without a
/// `process.heap_blocks` column no sample has blocks recorded.
pub fn read_csv(path: &Path) -> Result<Vec<Sample>> {
    let read = || -> Result<Vec<Sample>> {
        let mut reader = ReaderBuilder::new().flexible(true).from_path(path)?;
        let header = reader.headers()?.clone();
        if header.len() < 3
            || header
                .iter()
                .take(3)
                .ne(FIXED_COLUMNS.iter().take(3).copied())
        {
            bail!("not a soak CSV");
        }
        let fixed = if header.get(3) == Some("settled") {
            4
        } else {
            3
        };
        reader
            .records()
            .map(|record| parse_row(&header, fixed, &record?))
            .collect()
    };
    read().with_context(|| format!("reading {}", path.display()))
}

/// The sample in `record`, whose first `fixed` columns are the fixed ones.
fn parse_row(header: &StringRecord, fixed: usize, record: &StringRecord) -> Result<Sample> {
    let cell = |i: usize| record.get(i).context("a row with too few cells");
    let mut sample = Sample {
        elapsed: Duration::from_secs_f64(cell(0)?.parse()?),
        cycles: cell(1)?.parse()?,
        quiet: cell(2)? == "1",
        settled: fixed == 4 && cell(3)? == "1",
        heap_bytes: 0,
        heap_blocks: None,
        rss_bytes: 0,
        fds: 0,
        tasks: 0,
        structures: Vec::new(),
    };
    for (name, cell) in header.iter().zip(record.iter()).skip(fixed) {
        if !cell.is_empty() {
            set_figure(&mut sample, name, cell.parse()?);
        }
    }
    Ok(sample)
}

/// Sets the figure `name` of `sample` (see [`Sample::figures`]).
fn set_figure(sample: &mut Sample, name: &str, value: u64) {
    match name {
        "process.heap_bytes" => sample.heap_bytes = value,
        "process.heap_blocks" => sample.heap_blocks = Some(value),
        "process.rss_bytes" => sample.rss_bytes = value,
        "process.open_fds" => sample.fds = value,
        "process.tokio_tasks" => sample.tasks = value,
        other => sample.structures.push(Reading::new(other, value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_samples::sample;
    use crate::report::{summarize, table, Criteria};

    /// A CSV without a block column (an older harness's) shows "n/a" for blocks, not a flat 0
    /// judged "ok".
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
    fn csv_round_trips() {
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
        let t = table(&[("fork", &summarize(&samples, &Criteria::default()))]);
        assert!(t.contains("process.heap_bytes"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
