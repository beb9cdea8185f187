//! Feeds arbitrary bytes to the reader and to `inspect`: they must return Ok or Err,
//! never panic, and never exceed the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vanthu_edxml::{inspect, read_message, Limits, ReadOptions, VecSink};

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        limits: Limits {
            max_elements: 10_000,
            max_attachment_bytes: 16 << 20,
            ..Limits::default()
        },
    };
    let mut sink = VecSink::new();
    let _ = read_message(data, &mut sink, &opts);
    let _ = inspect(data);
});
