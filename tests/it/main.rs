//! Architecture invariants (see ARCHITECTURE.md), checked against `cargo metadata` and sources.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// package name -> (manifest dir, set of normal (non-dev) dependency names)
fn packages() -> BTreeMap<String, (PathBuf, BTreeSet<String>)> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut m = BTreeMap::new();
    for p in v["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap().to_string();
        let dir = Path::new(p["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap()
            .to_path_buf();
        let deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        m.insert(name, (dir, deps));
    }
    m
}

#[test]
fn core_depends_on_no_io_crate() {
    let pk = packages();
    let deps = &pk["vanthu-core"].1;
    for banned in [
        "rusqlite",
        "tokio",
        "reqwest",
        "tauri",
        "vanthu-store",
        "vanthu-app",
        "quick-xml",
        "tantivy",
    ] {
        assert!(!deps.contains(banned), "vanthu-core depends on {banned}");
    }
}

fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn core_sources_do_no_io_and_read_no_clock() {
    let src = root().join("crates/vanthu-core/src");
    for f in rust_sources(&src) {
        let text = std::fs::read_to_string(&f).unwrap();
        for banned in [
            "std::fs",
            "std::net",
            "std::process",
            "std::env",
            "File::",
            "now_utc()",
            "now_local()",
            "SystemTime::now",
            "Instant::now",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", f.display());
        }
    }
}

#[test]
fn only_the_store_links_sqlcipher_and_no_library_uses_tauri() {
    for (name, (_, deps)) in packages() {
        if deps.contains("rusqlite") {
            assert!(
                name == "vanthu-store" || name == "xtask",
                "{name} links rusqlite directly; go through vanthu-store"
            );
        }
        if name != "vanthu-desktop" {
            assert!(!deps.contains("tauri"), "{name} depends on tauri");
        }
        if deps.contains("tantivy") {
            assert_eq!(name, "vanthu-search", "{name} uses tantivy directly");
        }
        if deps.contains("quick-xml") {
            assert!(
                name == "vanthu-edxml" || name == "vanthu-extract",
                "{name} parses XML itself"
            );
        }
    }
}

#[test]
fn architecture_map_names_every_crate() {
    let arch = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    for (name, (dir, _)) in packages() {
        let rel = dir
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        assert!(
            arch.contains(&format!("`{rel}`")) || arch.contains(&format!("`{rel}/`")),
            "ARCHITECTURE.md does not map {name} ({rel})"
        );
    }
}

#[test]
fn migrations_are_numbered_and_embedded() {
    let dir = root().join("schemas/migrations");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    let store = std::fs::read_to_string(root().join("crates/vanthu-store/src/store.rs")).unwrap();
    for (i, n) in names.iter().enumerate() {
        assert!(
            n.starts_with(&format!("{:04}_", i + 1)),
            "migration {n} out of sequence"
        );
        assert!(
            store.contains(n.as_str()),
            "migration {n} not embedded by the store"
        );
    }
}
