//! The pinned upstream set (`upstream.toml`): fetching each package through cargo, verifying its
//! sha256 against the pin, and unpacking it.
//!
//! A package is only ever unpacked from a `.crate` file whose sha256 equals the pin; the lock
//! file cargo writes while fetching must carry the same checksum. Either mismatch is a hard error.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// One pinned upstream package.
#[derive(Debug, Clone, Deserialize)]
pub struct Pin {
    /// Package name on crates.io.
    pub name: String,
    /// Exact version.
    pub version: String,
    /// sha256 of the `.crate` file, lowercase hex (crates.io's `cksum`).
    pub sha256: String,
    /// Where the fork is materialised, relative to the repository root.
    pub dir: PathBuf,
}

impl Pin {
    /// `name-version`, the package's directory name inside its `.crate` archive.
    pub fn id(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(rename = "crate")]
    crates: Vec<Pin>,
}

/// Reads and validates a pin manifest.
pub fn load(path: &Path) -> Result<Vec<Pin>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: Manifest =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for pin in &manifest.crates {
        let hex_ok = pin.sha256.len() == 64
            && pin
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_ok {
            bail!(
                "{}: sha256 of {} is not 64 lowercase hex digits",
                path.display(),
                pin.id()
            );
        }
    }
    Ok(manifest.crates)
}

/// sha256 of `bytes`, lowercase hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// sha256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Refuses a `.crate` file whose sha256 is not the pinned one.
pub fn verify(pin: &Pin, crate_file: &Path) -> Result<()> {
    let actual = sha256_file(crate_file)?;
    if actual != pin.sha256 {
        bail!(
            "checksum mismatch for {}: {} has sha256 {actual}, upstream.toml pins {}.\n\
             Refusing to unpack it. If the cached file is corrupt, delete it and run again; \
             if the pin is wrong, fix upstream.toml deliberately.",
            pin.id(),
            crate_file.display(),
            pin.sha256
        );
    }
    Ok(())
}

/// Unpacks a verified `.crate` (tar.gz with one top directory `name-version/`) into `dest`,
/// which must not exist yet. Entries outside that top directory are refused.
pub fn unpack(pin: &Pin, crate_file: &Path, dest: &Path) -> Result<()> {
    verify(pin, crate_file)?;
    let staging = dest.with_extension("unpacking");
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    let top = pin.id();
    let mut archive = open_archive(crate_file)?;
    for entry in archive.entries().context("reading archive")? {
        let mut entry = entry.context("reading archive entry")?;
        let path = entry.path()?.into_owned();
        if !path.starts_with(&top) {
            bail!(
                "{}: entry {} outside {top}/",
                crate_file.display(),
                path.display()
            );
        }
        // `unpack_in` refuses `..` and never writes outside `staging`.
        let unpacked = entry
            .unpack_in(&staging)
            .with_context(|| format!("unpacking {}", path.display()))?;
        if !unpacked {
            bail!(
                "{}: suspicious entry {}",
                crate_file.display(),
                path.display()
            );
        }
    }
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::rename(staging.join(&top), dest)?;
    fs::remove_dir(&staging)?;
    Ok(())
}

/// The text of the files `wanted` (paths inside the package, e.g. `src/lib.rs`) from a verified
/// `.crate`, without unpacking it. Files the package does not have are left out.
pub fn read_files(
    pin: &Pin,
    crate_file: &Path,
    wanted: &BTreeSet<String>,
) -> Result<BTreeMap<String, String>> {
    verify(pin, crate_file)?;
    let top = Path::new(&pin.id()).to_path_buf();
    let mut found = BTreeMap::new();
    let mut archive = open_archive(crate_file)?;
    for entry in archive.entries().context("reading archive")? {
        let mut entry = entry.context("reading archive entry")?;
        let path = entry.path()?.into_owned();
        let Some(rel) = path.strip_prefix(&top).ok().and_then(Path::to_str) else {
            continue;
        };
        if wanted.contains(rel) {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .with_context(|| format!("reading {} from {}", rel, crate_file.display()))?;
            found.insert(rel.to_string(), text);
        }
    }
    Ok(found)
}

fn open_archive(crate_file: &Path) -> Result<tar::Archive<flate2::read::GzDecoder<fs::File>>> {
    let file =
        fs::File::open(crate_file).with_context(|| format!("opening {}", crate_file.display()))?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(file)))
}

/// Makes sure every pinned `.crate` is in cargo's cache, fetching them with cargo itself, and
/// returns their paths in pin order. The checksums cargo recorded must equal the pins.
pub fn fetch(pins: &[Pin], work: &Path) -> Result<Vec<PathBuf>> {
    if let Some(found) = cached(pins)? {
        return Ok(found);
    }
    let dir = work.join("fetch");
    fs::create_dir_all(dir.join("src"))?;
    fs::write(dir.join("src/lib.rs"), "")?;
    let mut manifest = String::from(
        "# generated by `cargo xtask`: names every pinned package so that cargo fetches it\n\
         [package]\nname = \"mesh-patches-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\n\n[workspace]\n\n[dependencies]\n",
    );
    for pin in pins {
        manifest.push_str(&format!("{} = \"={}\"\n", pin.name, pin.version));
    }
    fs::write(dir.join("Cargo.toml"), manifest)?;
    eprintln!("xtask: fetching {} pinned packages with cargo", pins.len());
    let status = Command::new(cargo())
        .args(["fetch", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .status()
        .context("running cargo fetch")?;
    if !status.success() {
        bail!("cargo fetch of the pinned packages failed");
    }
    let lock = fs::read_to_string(dir.join("Cargo.lock"))?;
    for pin in pins {
        let recorded = lock_checksum(&lock, &pin.name, &pin.version)
            .with_context(|| format!("{} missing from the fetch lock file", pin.id()))?;
        if recorded != pin.sha256 {
            bail!(
                "the registry's checksum for {} is {recorded}, upstream.toml pins {}: refusing it",
                pin.id(),
                pin.sha256
            );
        }
    }
    cached(pins)?.context("cargo fetch succeeded but a pinned .crate is not in the cache")
}

fn cached(pins: &[Pin]) -> Result<Option<Vec<PathBuf>>> {
    let cache = cargo_home().join("registry").join("cache");
    let mut found = Vec::new();
    for pin in pins {
        let file = format!("{}.crate", pin.id());
        let hit = fs::read_dir(&cache)
            .into_iter()
            .flatten()
            .flatten()
            .map(|index| index.path().join(&file))
            .find(|p| p.is_file());
        match hit {
            Some(path) => found.push(path),
            None => return Ok(None),
        }
    }
    Ok(Some(found))
}

fn lock_checksum(lock: &str, name: &str, version: &str) -> Option<String> {
    let value: toml::Value = toml::from_str(lock).ok()?;
    value
        .get("package")?
        .as_array()?
        .iter()
        .find(|p| {
            p.get("name").and_then(|v| v.as_str()) == Some(name)
                && p.get("version").and_then(|v| v.as_str()) == Some(version)
        })?
        .get("checksum")?
        .as_str()
        .map(str::to_owned)
}

/// The cargo binary that runs us.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn make_crate(
        dir: &Path,
        name: &str,
        version: &str,
        extra: Option<&str>,
    ) -> PathBuf {
        build_crate(dir, name, version, "pub fn hello() {}\n", extra)
    }

    /// A package whose only file is `src/lib.rs` with `lib_rs` in it.
    pub(crate) fn make_crate_with(dir: &Path, name: &str, version: &str, lib_rs: &str) -> PathBuf {
        build_crate(dir, name, version, lib_rs, None)
    }

    fn build_crate(
        dir: &Path,
        name: &str,
        version: &str,
        lib_rs: &str,
        extra: Option<&str>,
    ) -> PathBuf {
        let path = dir.join(format!("{name}-{version}.crate"));
        let file = fs::File::create(&path).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let mut builder = tar::Builder::new(gz);
        let body = lib_rs.as_bytes();
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{name}-{version}/src/lib.rs"), body)
            .unwrap();
        if let Some(evil) = extra {
            let mut header = tar::Header::new_gnu();
            header.set_size(1);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, evil, &b"x"[..]).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
        path
    }

    pub(crate) fn pin_for(file: &Path) -> Pin {
        Pin {
            name: "demo".into(),
            version: "1.0.0".into(),
            sha256: sha256_file(file).unwrap(),
            dir: "patch/demo".into(),
        }
    }

    #[test]
    fn unpacks_a_package_whose_checksum_matches() {
        let tmp = tempfile::tempdir().unwrap();
        let file = make_crate(tmp.path(), "demo", "1.0.0", None);
        let pin = pin_for(&file);
        let dest = tmp.path().join("out");
        unpack(&pin, &file, &dest).unwrap();
        assert_eq!(
            fs::read_to_string(dest.join("src/lib.rs")).unwrap(),
            "pub fn hello() {}\n"
        );
    }

    #[test]
    fn refuses_a_corrupted_package() {
        let tmp = tempfile::tempdir().unwrap();
        let file = make_crate(tmp.path(), "demo", "1.0.0", None);
        let pin = pin_for(&file);
        // Flip one byte in the middle of the archive.
        let mut bytes = fs::read(&file).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        fs::write(&file, bytes).unwrap();
        let dest = tmp.path().join("out");
        let err = unpack(&pin, &file, &dest).unwrap_err().to_string();
        assert!(err.contains("checksum mismatch for demo-1.0.0"), "{err}");
        assert!(
            !dest.exists(),
            "nothing may be unpacked from a refused package"
        );
    }

    #[test]
    fn refuses_a_wrong_pin() {
        let tmp = tempfile::tempdir().unwrap();
        let file = make_crate(tmp.path(), "demo", "1.0.0", None);
        let mut pin = pin_for(&file);
        pin.sha256 = "0".repeat(64);
        let err = verify(&pin, &file).unwrap_err().to_string();
        assert!(err.contains("upstream.toml pins 0000"), "{err}");
    }

    #[test]
    fn refuses_entries_outside_the_package_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = make_crate(tmp.path(), "demo", "1.0.0", Some("other-1.0.0/evil.rs"));
        let pin = pin_for(&file);
        let err = unpack(&pin, &file, &tmp.path().join("out")).unwrap_err();
        assert!(
            format!("{err:#}").contains("outside demo-1.0.0/"),
            "{err:#}"
        );
    }

    #[test]
    fn finds_the_checksum_in_a_lock_file() {
        let lock =
            "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nchecksum = \"ab\"\n\
                    [[package]]\nname = \"a\"\nversion = \"2.0.0\"\nchecksum = \"cd\"\n";
        assert_eq!(lock_checksum(lock, "a", "2.0.0").as_deref(), Some("cd"));
        assert_eq!(lock_checksum(lock, "b", "1.0.0"), None);
    }

    #[test]
    fn the_committed_manifest_is_well_formed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let pins = load(&root.join("upstream.toml")).unwrap();
        assert!(pins
            .iter()
            .any(|p| p.name == "p2panda-net" && p.version == "0.4.0"));
        assert!(pins.iter().all(|p| p.dir.starts_with("patch")));
    }
}
