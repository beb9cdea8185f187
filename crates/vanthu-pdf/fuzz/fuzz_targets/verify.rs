//! Feeds arbitrary bytes to the PDF reader, the verifier (offline, nothing trusted) and the
//! cross-reference repair: they must return a report or an error, never panic. Seed the corpus with signed PDFs (for
//! example the files `cargo test -p vanthu-pdf` writes) for useful coverage.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vanthu_pdf::verify::{verify_bytes, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = vanthu_pdf::doc::Doc::parse(data.to_vec()) {
        let _ = doc.catalog();
        let _ = doc.pages();
    }
    let _ = verify_bytes(data.to_vec(), &VerifyOptions::default());
    if let Ok(plan) = vanthu_pdf::repair::plan(data) {
        let mut fixed = data[plan.skip..].to_vec();
        fixed.extend_from_slice(&plan.section);
        if let Ok(doc) = vanthu_pdf::doc::Doc::parse(fixed) {
            let _ = vanthu_pdf::repair::missing_object(&doc);
        }
    }
});
