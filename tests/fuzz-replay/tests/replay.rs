//! Replays every corpus file through its target: each must return, whatever the bytes.
//!
//! `cargo fuzz` (nightly) grows and minimises the corpora under `corpus/<target>/`; this test
//! runs them on stable, so every test run replays what fuzzing found, regressions included.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fuzz_replay::{seeds, TARGETS};

/// Panics fuzzing found that wait for a fork patch: the target, the start of the panic message
/// and the regression file in `corpus/<target>/` (docs/fuzzing.md, findings). A panic that
/// matches one is printed, not failed; `known_findings_still_reproduce` fails once the patch
/// lands, so that the entry goes and the file stays as a plain regression input.
const KNOWN_FINDINGS: &[(&str, &str, &str)] = &[(
    "gossip_message",
    "split_to out of bounds",
    "crash-truncated-frame",
)];

fn is_known(name: &str, message: &str) -> bool {
    KNOWN_FINDINGS
        .iter()
        .any(|(target, prefix, _)| *target == name && message.starts_with(prefix))
}

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
                let line = format!("{name}: {}: {message}", file.display());
                if is_known(name, &message) {
                    eprintln!("known finding, awaiting its patch: {line}");
                } else {
                    panics.push(line);
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
                    let line = format!("{name}: seed {index} cut at {cut}: {message}");
                    if is_known(name, &message) {
                        eprintln!("known finding, awaiting its patch: {line}");
                    } else {
                        panics.push(line);
                    }
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

#[test]
fn known_findings_still_reproduce() {
    for &(name, prefix, file) in KNOWN_FINDINGS {
        let (_, target) = TARGETS
            .iter()
            .find(|(target, _)| *target == name)
            .expect("a finding names a target");
        let input = fs::read(corpus_dir(name).join(file)).expect("regression file");
        match run(*target, &input) {
            Err(message) if message.starts_with(prefix) => {}
            Err(message) => panic!("{name}/{file} now panics differently: {message}"),
            Ok(()) => panic!(
                "{name}/{file} no longer panics: remove its KNOWN_FINDINGS entry \
                 (the file stays in the corpus as a regression input)"
            ),
        }
    }
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
