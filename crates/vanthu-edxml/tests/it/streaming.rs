//! End-to-end streaming: a writer thread packs into a pipe while the reader decodes from
//! it, so neither side ever holds the package or the attachment.

use std::io::{BufReader, Read};

use crate::writer::pack_request;
use vanthu_edxml::*;

struct Gen {
    left: u64,
    state: u32,
}

impl Read for Gen {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            self.state = self.state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (self.state >> 16) as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn pipe_through_writer_and_reader() {
    const SIZE: u64 = 24 << 20;
    let (rx, tx) = std::io::pipe().unwrap();
    let writer = std::thread::spawn(move || {
        pack(
            &pack_request(),
            vec![(
                "lớn.pdf".to_string(),
                "application/pdf".to_string(),
                Gen {
                    left: SIZE,
                    state: 7,
                },
            )],
            tx,
        )
        .unwrap()
    });
    let m = read_message(BufReader::new(rx), HashOnlySink, &ReadOptions::default()).unwrap();
    let rep = writer.join().unwrap();
    assert_eq!(m.attachments[0].size, SIZE);
    assert_eq!(
        m.attachments[0].sha256.as_deref(),
        Some(rep.write.attachments[0].sha256.as_str())
    );
    assert_eq!(m.attachments[0].attachment_name.as_deref(), Some("lớn.pdf"));
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
}
