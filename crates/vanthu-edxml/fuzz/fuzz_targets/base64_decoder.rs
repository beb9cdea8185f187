//! The incremental base64 decoder, fed in two pieces split at the first byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vanthu_edxml::b64::Base64Decoder;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let cut = data[0] as usize % data.len();
    let mut d = Base64Decoder::new();
    let mut out = Vec::new();
    let mut emit = |b: &[u8]| {
        out.extend_from_slice(b);
        Ok(())
    };
    if d.feed(&data[1..cut.max(1)], &mut emit).is_err() {
        return;
    }
    if d.feed(&data[cut.max(1)..], &mut emit).is_err() {
        return;
    }
    let _ = d.finish(&mut emit);
});
