//! Incremental base64 decoding and encoding.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use std::io::{self, Read, Write};

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

const STAGE: usize = 64 * 1024;

/// Why base64 decoding failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64Problem {
    /// Offset (in base64 characters, whitespace excluded) of the problem.
    pub at: u64,
    /// Short reason.
    pub reason: String,
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Length of the prefix without whitespace or control bytes (all ≤ 0x20; base64
/// characters are all above), scanned in vectorisable blocks.
fn first_special(text: &[u8]) -> usize {
    const B: usize = 64;
    let mut i = 0;
    while i + B <= text.len() {
        let block = &text[i..i + B];
        if block.iter().fold(false, |acc, &b| acc | (b <= b' ')) {
            break;
        }
        i += B;
    }
    i + text[i..]
        .iter()
        .position(|&b| b <= b' ')
        .unwrap_or(text.len() - i)
}

#[inline]
fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// A streaming base64 decoder: feed text chunks of any size, whitespace is skipped,
/// partial quads are carried between chunks, padding may be missing.
#[derive(Debug)]
pub struct Base64Decoder {
    stage: Vec<u8>,
    out: Vec<u8>,
    consumed: u64,
    padded: bool,
}

impl Default for Base64Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Base64Decoder {
    /// New decoder.
    pub fn new() -> Self {
        Base64Decoder {
            stage: Vec::with_capacity(STAGE + 4),
            out: vec![0; STAGE / 4 * 3 + 3],
            consumed: 0,
            padded: false,
        }
    }

    /// Feeds text; decoded bytes are passed to `emit` in chunks.
    ///
    /// Returns `Err` for invalid base64 and `Ok(Err(_))` when `emit` failed.
    pub fn feed(
        &mut self,
        mut text: &[u8],
        emit: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<io::Result<()>, Base64Problem> {
        while !text.is_empty() {
            // Fast path: nothing staged, decode whole quads straight from the input.
            if self.stage.is_empty() && !self.padded {
                let run = first_special(text);
                let quads = run / 4 * 4;
                if quads >= 4 {
                    let mut done = 0;
                    while done < quads {
                        let n = (quads - done).min(STAGE);
                        let chunk = &text[done..done + n];
                        if let Err(e) = self.decode_direct(chunk, emit)? {
                            return Ok(Err(e));
                        }
                        done += n;
                    }
                    text = &text[quads..];
                    continue;
                }
            }
            // Slow path: filter whitespace into the stage until a quad boundary where
            // the fast path can take over again.
            let mut k = 0;
            while k < text.len() && k < 4096 {
                let b = text[k];
                if self.stage.len().is_multiple_of(4) && !is_ws(b) && !self.padded && k > 0 {
                    break;
                }
                k += 1;
                if is_ws(b) {
                    continue;
                }
                if self.padded && b != b'=' {
                    return Err(Base64Problem {
                        at: self.consumed + self.stage.len() as u64,
                        reason: "data after padding".into(),
                    });
                }
                self.stage.push(b);
                if self.stage.len() >= STAGE {
                    break;
                }
            }
            text = &text[k..];
            if self.stage.len() >= 4 {
                if let Err(e) = self.flush(false, emit)? {
                    return Ok(Err(e));
                }
            }
        }
        Ok(Ok(()))
    }

    /// Decodes whole quads without whitespace straight from the input.
    fn decode_direct(
        &mut self,
        chunk: &[u8],
        emit: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<io::Result<()>, Base64Problem> {
        let n = chunk.len();
        if let Some(p) = memchr::memchr(b'=', chunk) {
            if p + 4 < n {
                return Err(Base64Problem {
                    at: self.consumed + p as u64,
                    reason: "padding in the middle".into(),
                });
            }
            self.padded = true;
        }
        match LENIENT.decode_slice_unchecked(chunk, &mut self.out) {
            Ok(len) => {
                self.consumed += n as u64;
                Ok(emit(&self.out[..len]))
            }
            Err(e) => {
                let (at, reason) = match e {
                    base64::DecodeError::InvalidByte(i, b) => {
                        (i as u64, format!("invalid character 0x{b:02x}"))
                    }
                    base64::DecodeError::InvalidLastSymbol(i, b) => {
                        (i as u64, format!("invalid last symbol 0x{b:02x}"))
                    }
                    other => (0, other.to_string()),
                };
                Err(Base64Problem {
                    at: self.consumed + at,
                    reason,
                })
            }
        }
    }

    fn flush(
        &mut self,
        last: bool,
        emit: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<io::Result<()>, Base64Problem> {
        let n = if last {
            self.stage.len()
        } else {
            self.stage.len() / 4 * 4
        };
        if n == 0 {
            return Ok(Ok(()));
        }
        let chunk = &self.stage[..n];
        if let Some(pos) = chunk.iter().position(|&b| !is_b64(b)) {
            return Err(Base64Problem {
                at: self.consumed + pos as u64,
                reason: format!("invalid character 0x{:02x}", chunk[pos]),
            });
        }
        if let Some(p) = chunk.iter().position(|&b| b == b'=') {
            // Padding may only appear in the final quad.
            if p + 4 < n || (!last && p < n - 4) {
                return Err(Base64Problem {
                    at: self.consumed + p as u64,
                    reason: "padding in the middle".into(),
                });
            }
            self.padded = true;
        }
        let body: &[u8] = if last {
            let mut end = n;
            while end > 0 && chunk[end - 1] == b'=' {
                end -= 1;
            }
            &chunk[..end]
        } else {
            chunk
        };
        let res = match LENIENT.decode_slice_unchecked(body, &mut self.out) {
            Ok(len) => emit(&self.out[..len]),
            Err(e) => {
                return Err(Base64Problem {
                    at: self.consumed,
                    reason: format!("{e}"),
                })
            }
        };
        self.consumed += n as u64;
        self.stage.drain(..n);
        Ok(res)
    }

    /// Finishes decoding (missing padding is accepted).
    pub fn finish(
        mut self,
        emit: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<io::Result<()>, Base64Problem> {
        if self.stage.len() % 4 == 1 && !self.stage.contains(&b'=') {
            return Err(Base64Problem {
                at: self.consumed + self.stage.len() as u64,
                reason: "truncated (one character in the last quad)".into(),
            });
        }
        self.flush(true, emit)
    }
}

/// Encodes everything from `src` as one padded base64 line into `out`, reading in
/// chunks. Returns (bytes read, SHA-256 of the bytes read).
pub fn encode_stream(
    src: &mut dyn Read,
    out: &mut dyn Write,
    hasher: &mut sha2::Sha256,
) -> io::Result<u64> {
    use sha2::Digest;
    const IN: usize = 3 * 64 * 1024;
    let mut inbuf = vec![0u8; IN];
    let mut outbuf = vec![0u8; IN / 3 * 4];
    let mut total = 0u64;
    loop {
        let mut filled = 0;
        while filled < IN {
            match src.read(&mut inbuf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            break;
        }
        hasher.update(&inbuf[..filled]);
        total += filled as u64;
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(&inbuf[..filled], &mut outbuf)
            .map_err(io::Error::other)?;
        out.write_all(&outbuf[..n])?;
        if filled < IN {
            break;
        }
    }
    Ok(total)
}
