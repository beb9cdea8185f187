//! Shared test helpers.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Path of a reference sample (read in place, never copied).
pub fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/edxml")
        .join(rel)
}

pub fn sample_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(sample(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

pub const SDK: &str = "vpcp-sdk-samples";
pub const API_GW: &str = "received/api-gateway-ioffice_852e179c-8eca-4502-ac38-0b97321f29c3.edxml";
pub const TRUC: &str = "received/truclienthong-example_dc0bdef0-c7a3-4aaf-b717-777303442973.edxml";
pub const TEMPLATE: &str = "templates/ss_adapter_form.edxml";

pub fn sdk(name: &str) -> String {
    format!("{SDK}/{name}")
}

pub const STATUS_SAMPLES: [(&str, &str); 10] = [
    ("status.edxml", "01"),
    ("status_inbox__01.edxml", "01"),
    ("status_rejection_02.edxml", "02"),
    ("status_acceptance_03.edxml", "03"),
    ("status_assignment_04.edxml", "04"),
    ("status_processing_05.edxml", "05"),
    ("status_finish_06.edxml", "06"),
    ("status_cancellation_13.edxml", "13"),
    ("status_change-acceptance_15.edxml", "15"),
    ("status_change-rejection_16.edxml", "16"),
];

pub const EDOC_SAMPLES: [&str; 4] = [
    "edoc_new.edxml",
    "edoc_revocation.edxml",
    "edoc_update.edxml",
    "edoc_replacement.edxml",
];

/// Every well-formed sample (16).
pub fn all_good_samples() -> Vec<String> {
    let mut v: Vec<String> = EDOC_SAMPLES.iter().map(|s| sdk(s)).collect();
    v.extend(STATUS_SAMPLES.iter().map(|(s, _)| sdk(s)));
    v.push(API_GW.into());
    v.push(TRUC.into());
    v
}

/// Handles a missing external tool: fail under CI, otherwise print a note and skip.
fn missing(tool: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("{tool} is required when CI is set");
    }
    eprintln!("note: {tool} not found, skipping this check");
    false
}

/// Python with lxml: $VANTHU_PYTHON, else the project venv, else python3.
pub fn python() -> Option<String> {
    let mut cands = Vec::new();
    if let Ok(p) = std::env::var("VANTHU_PYTHON") {
        cands.push(p);
    }
    if let Ok(v) = std::env::var("VANTHU_VENV") {
        cands.push(format!("{v}/bin/python"));
    }
    cands.push("/root/.cache/vanthu/venv/bin/python".into());
    if let Some(h) = std::env::var_os("HOME") {
        cands.push(format!(
            "{}/.cache/vanthu/venv/bin/python",
            h.to_string_lossy()
        ));
    }
    cands.push("python3".into());
    for c in cands {
        let ok = Command::new(&c)
            .args(["-c", "import lxml"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Some(c);
        }
    }
    missing("python3 with lxml");
    None
}

pub fn xmllint() -> Option<String> {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some("xmllint".into())
    } else {
        missing("xmllint");
        None
    }
}

pub fn xsd_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/edxml/edxml-qcvn102-2016.xsd")
}

pub fn tmp_file(name: &str, bytes: &[u8]) -> tempfile::TempPath {
    let mut f = tempfile::Builder::new()
        .prefix(name)
        .suffix(".edxml")
        .tempfile()
        .unwrap();
    std::io::Write::write_all(&mut f, bytes).unwrap();
    f.into_temp_path()
}
