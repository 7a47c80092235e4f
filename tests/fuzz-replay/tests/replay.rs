//! Replays every corpus file through its target: each must return, whatever the bytes.
//!
//! `cargo fuzz` (nightly) grows and minimises the corpora under `corpus/<target>/`; this test
//! runs them on stable, so every test run replays what fuzzing found, regressions included.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fuzz_replay::{seeds, TARGETS};

fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name)
}

/// Runs `target` on `input`; a panic comes back as its message.
fn run(target: fn(&[u8]), input: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| target(input))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-string panic".into())
    })
}

#[test]
fn every_corpus_file_decodes_to_a_value_or_an_error() {
    let mut panics = Vec::new();
    for &(name, target) in TARGETS {
        let dir = corpus_dir(name);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("corpus {}: {err}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "corpus {} is empty", dir.display());
        for file in files {
            let input = fs::read(&file).expect("corpus file");
            if let Err(message) = run(target, &input) {
                panics.push(format!("{name}: {}: {message}", file.display()));
            }
        }
    }
    assert!(
        panics.is_empty(),
        "inputs that panic:\n{}",
        panics.join("\n")
    );
}

#[test]
fn seeds_and_their_truncations_decode_to_a_value_or_an_error() {
    let mut panics = Vec::new();
    for &(name, target) in TARGETS {
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "{name} has no seeds");
        for (index, seed) in seeds.iter().enumerate() {
            // A peer that stops mid-message: every seed cut at a few points.
            for cut in [
                seed.len(),
                seed.len() / 2,
                seed.len().saturating_sub(1),
                1,
                0,
            ] {
                if let Err(message) = run(target, &seed[..cut]) {
                    panics.push(format!("{name}: seed {index} cut at {cut}: {message}"));
                }
            }
        }
    }
    assert!(
        panics.is_empty(),
        "inputs that panic:\n{}",
        panics.join("\n")
    );
}

/// Writes each target's seeds into its corpus (`cargo test -p fuzz-replay -- --ignored`),
/// the starting point for `cargo fuzz run`.
#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn write_seeds() {
    for &(name, _) in TARGETS {
        let dir = corpus_dir(name);
        fs::create_dir_all(&dir).expect("corpus dir");
        for (index, seed) in seeds(name).iter().enumerate() {
            fs::write(dir.join(format!("seed-{index}")), seed).expect("seed file");
        }
    }
}

#[test]
fn honest_announcements_and_operations_are_accepted() {
    for seed in fuzz_replay::topic_discovery::seeds() {
        fuzz_replay::topic_discovery::decode_and_verify(&seed).expect("honest announcement");
    }
    let seed = &fuzz_replay::operation::seeds()[0];
    let mut rest = seed.as_slice();
    let _: p2panda_core::Header<()> =
        p2panda_core::cbor::decode_cbor(&mut rest).expect("honest header");
    let header = &seed[..seed.len() - rest.len()];
    fuzz_replay::operation::ingest(header, Some(rest)).expect("honest operation");
}
