//! Streaming reader of the `getEdoc` answer: `{"status":…,"ErrorCode":…,"data":"<base64>"}`.
//! The `data` string is base64-decoded chunk by chunk straight into a writer, so a package is
//! never held whole in memory (nor its 1.33× base64 form). Other members are small and parsed
//! with serde_json, each bounded.

use std::io::{self, BufRead, Write};

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};

/// Largest non-`data` member accepted.
const MAX_MEMBER: usize = 1024 * 1024;
/// Base64 characters decoded per step.
const STEP: usize = 64 * 1024;

const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What the answer held besides `data`.
#[derive(Debug, Default)]
pub struct Answer {
    /// Every member except `data`.
    pub members: Map<String, Value>,
    /// Whether a `data` string was present (and streamed).
    pub had_data: bool,
    /// Decoded bytes written.
    pub written: u64,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn next_byte(r: &mut impl BufRead) -> io::Result<u8> {
    let b = {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "câu trả lời bị cắt (answer truncated)",
            ));
        }
        buf[0]
    };
    r.consume(1);
    Ok(b)
}

fn skip_ws(r: &mut impl BufRead) -> io::Result<u8> {
    loop {
        let b = next_byte(r)?;
        if !b.is_ascii_whitespace() {
            return Ok(b);
        }
    }
}

/// Reads the raw text of a JSON string whose opening quote was consumed (escapes kept).
fn raw_string(r: &mut impl BufRead, out: &mut Vec<u8>) -> io::Result<()> {
    out.push(b'"');
    loop {
        let b = next_byte(r)?;
        out.push(b);
        if out.len() > MAX_MEMBER {
            return Err(bad("trường JSON quá dài (member too long)"));
        }
        match b {
            b'\\' => out.push(next_byte(r)?),
            b'"' => return Ok(()),
            _ => {}
        }
    }
}

/// Reads the raw text of one JSON value whose first byte is `first`; returns it and the byte
/// that follows the value (`,` or `}`).
fn raw_value(r: &mut impl BufRead, first: u8) -> io::Result<(Vec<u8>, u8)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut b = first;
    loop {
        match b {
            b'"' => raw_string(r, &mut out)?,
            b'{' | b'[' => {
                depth += 1;
                out.push(b);
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                out.push(b);
            }
            b',' | b'}' if depth == 0 => return Ok((out, b)),
            _ => out.push(b),
        }
        if out.len() > MAX_MEMBER {
            return Err(bad("trường JSON quá dài (member too long)"));
        }
        b = next_byte(r)?;
    }
}

/// Streams the `data` string (opening quote consumed) through a base64 decoder into `out`.
fn stream_data(r: &mut impl BufRead, out: &mut dyn Write) -> io::Result<u64> {
    let mut pending: Vec<u8> = Vec::with_capacity(STEP + 4);
    let mut decoded = Vec::with_capacity(STEP);
    let mut written = 0u64;
    let mut flush = |pending: &mut Vec<u8>, last: bool, out: &mut dyn Write| -> io::Result<u64> {
        let take = if last {
            pending.len()
        } else {
            pending.len() / 4 * 4
        };
        if take == 0 {
            return Ok(0);
        }
        decoded.clear();
        B64.decode_vec(&pending[..take], &mut decoded)
            .map_err(|e| bad(format!("data: base64 sai (bad base64): {e}")))?;
        pending.drain(..take);
        out.write_all(&decoded)?;
        Ok(decoded.len() as u64)
    };
    loop {
        let (consumed, done) = {
            let buf = r.fill_buf()?;
            if buf.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "câu trả lời bị cắt giữa dữ liệu (answer truncated inside data)",
                ));
            }
            let mut i = 0;
            let mut done = false;
            while i < buf.len() {
                match buf[i] {
                    b'"' => {
                        done = true;
                        i += 1;
                        break;
                    }
                    b'\\' => {
                        // `\/` (some JSON writers escape slashes); `\n`, `\r` are line breaks
                        if i + 1 >= buf.len() {
                            break;
                        }
                        match buf[i + 1] {
                            b'/' => pending.push(b'/'),
                            b'n' | b'r' | b't' => {}
                            _ => return Err(bad("data: ký tự thoát lạ (unexpected escape)")),
                        }
                        i += 2;
                        continue;
                    }
                    c if c.is_ascii_whitespace() => {}
                    c => pending.push(c),
                }
                i += 1;
            }
            (i, done)
        };
        r.consume(consumed);
        if done {
            written += flush(&mut pending, true, out)?;
            return Ok(written);
        }
        if consumed == 0 {
            // a lone backslash at the end of the buffer: pull one more byte in
            let b = next_byte(r)?;
            let c = next_byte(r)?;
            debug_assert_eq!(b, b'\\');
            if c == b'/' {
                pending.push(b'/');
            }
        }
        if pending.len() >= STEP {
            written += flush(&mut pending, false, out)?;
        }
    }
}

/// Reads a whole answer object, streaming `data` into `out`.
pub fn read_answer(r: &mut impl BufRead, out: &mut dyn Write) -> io::Result<Answer> {
    let mut ans = Answer::default();
    if skip_ws(r)? != b'{' {
        return Err(bad(
            "câu trả lời không phải đối tượng JSON (not a JSON object)",
        ));
    }
    let mut b = skip_ws(r)?;
    if b == b'}' {
        return Ok(ans);
    }
    loop {
        if b != b'"' {
            return Err(bad("JSON: thiếu tên trường (expected a member name)"));
        }
        let mut key_raw = Vec::new();
        raw_string(r, &mut key_raw)?;
        let key: String = serde_json::from_slice(&key_raw).map_err(|e| bad(e.to_string()))?;
        if skip_ws(r)? != b':' {
            return Err(bad("JSON: thiếu dấu hai chấm (expected ':')"));
        }
        let first = skip_ws(r)?;
        let after = if key == "data" && first == b'"' {
            ans.written = stream_data(r, out)?;
            ans.had_data = true;
            skip_ws(r)?
        } else {
            let (raw, after) = raw_value(r, first)?;
            let v: Value = serde_json::from_slice(raw.trim_ascii_end())
                .map_err(|e| bad(format!("JSON {key}: {e}")))?;
            ans.members.insert(key, v);
            if after.is_ascii_whitespace() {
                skip_ws(r)?
            } else {
                after
            }
        };
        match after {
            b',' => b = skip_ws(r)?,
            b'}' => return Ok(ans),
            _ => return Err(bad("JSON: thiếu dấu phẩy (expected ',' or '}')")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str) -> io::Result<(Answer, Vec<u8>)> {
        let mut out = Vec::new();
        let mut r = io::BufReader::with_capacity(7, json.as_bytes());
        let a = read_answer(&mut r, &mut out)?;
        Ok((a, out))
    }

    #[test]
    fn streams_data_in_any_member_order() {
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&payload);
        let json = format!(
            r#"{{ "data" : "{}", "status":"OK","ErrorCode":"0","ErrorDesc":"Thành công \"x\"","n":[1,{{"a":"}}"}}]}}"#,
            b64.replace('/', "\\/")
        );
        let (a, out) = run(&json).unwrap();
        assert!(a.had_data);
        assert_eq!(out, payload);
        assert_eq!(a.members["status"], "OK");
        assert_eq!(a.members["ErrorDesc"], "Thành công \"x\"");
        let (a, out) =
            run(r#"{"status":"FAIL","ErrorCode":"2005","ErrorDesc":"không có"}"#).unwrap();
        assert!(!a.had_data && out.is_empty());
        assert_eq!(a.members["ErrorCode"], "2005");
        // wrapped lines and missing padding
        let (_, out) = run("{\"data\":\"aGVs\\nbG8\"}").unwrap();
        assert_eq!(out, b"hello");
    }

    #[test]
    fn truncated_or_broken_answers_are_errors() {
        assert!(run(r#"{"status":"OK","data":"aGVsbG8"#).is_err());
        assert!(run(r#"{"status":"OK""#).is_err());
        assert!(run("<html>").is_err());
        assert!(run(r#"{"data":"a$b="}"#).is_err());
    }
}
