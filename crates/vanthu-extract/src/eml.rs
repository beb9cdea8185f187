//! A deliberately small RFC 5322 / MIME reader: Subject, From and the first text/plain body.

use crate::Sink;

const MAX_MIME_DEPTH: usize = 8;
const MAX_PARTS: usize = 256;

pub(crate) fn extract(msg: &[u8], sink: &mut Sink) {
    let (headers, body) = split_message(msg);
    for key in ["subject", "from"] {
        if let Some(v) = header(&headers, key) {
            let v = decode_words(&v);
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            if !(sink.push_str(v) && sink.push('\n')) {
                return;
            }
        }
    }
    if let Some(text) = text_body(&headers, body, 0) {
        sink.push('\n');
        sink.push_str(&text);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Headers (unfolded, names lower-cased) and the body.
fn split_message(msg: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let (head, body) = match (find(msg, b"\r\n\r\n"), find(msg, b"\n\n")) {
        (Some(a), Some(b)) if b < a => (msg.get(..b), msg.get(b + 2..)),
        (Some(a), _) => (msg.get(..a), msg.get(a + 4..)),
        (None, Some(b)) => (msg.get(..b), msg.get(b + 2..)),
        (None, None) => (Some(msg), None),
    };
    let head = String::from_utf8_lossy(head.unwrap_or(&[]));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    (headers, body.unwrap_or(&[]))
}

fn header(h: &[(String, String)], key: &str) -> Option<String> {
    h.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// A parameter of a structured header, e.g. `boundary` or `charset`.
fn param(value: &str, name: &str) -> Option<String> {
    for part in value.split(';').skip(1) {
        if let Some((k, v)) = part.split_once('=') {
            if k.trim().eq_ignore_ascii_case(name) {
                let v = v.trim();
                let v = v.strip_prefix('"').unwrap_or(v);
                let v = v.strip_suffix('"').unwrap_or(v);
                return Some(v.to_string());
            }
        }
    }
    None
}

fn text_body(headers: &[(String, String)], body: &[u8], depth: usize) -> Option<String> {
    let ct = header(headers, "content-type").unwrap_or_else(|| "text/plain".into());
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime.starts_with("multipart/") {
        if depth >= MAX_MIME_DEPTH {
            return None;
        }
        let boundary = param(&ct, "boundary")?;
        let delim = format!("--{boundary}");
        let mut rest = body;
        // Skip the preamble.
        let start = find(rest, delim.as_bytes())?;
        rest = rest.get(start + delim.len()..)?;
        for _ in 0..MAX_PARTS {
            if rest.starts_with(b"--") {
                return None;
            }
            let end = find(rest, delim.as_bytes()).unwrap_or(rest.len());
            let part = rest.get(..end)?;
            let part = part
                .strip_prefix(b"\r\n")
                .or_else(|| part.strip_prefix(b"\n"))
                .unwrap_or(part);
            let (h, b) = split_message(part);
            if let Some(t) = text_body(&h, b, depth + 1) {
                return Some(t);
            }
            rest = rest.get(end + delim.len()..)?;
        }
        return None;
    }
    if mime != "text/plain" {
        return None;
    }
    let cte = header(headers, "content-transfer-encoding")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let raw = match cte.as_str() {
        "quoted-printable" => quoted_printable(body, false),
        "base64" => base64(body),
        _ => body.to_vec(),
    };
    let charset = param(&ct, "charset").unwrap_or_default();
    Some(decode_charset(&raw, &charset).trim().to_string())
}

fn decode_charset(raw: &[u8], charset: &str) -> String {
    let cs = charset.to_ascii_lowercase();
    if cs == "iso-8859-1" || cs == "latin1" || cs == "us-ascii" && !raw.is_ascii() {
        raw.iter().map(|&b| char::from(b)).collect()
    } else {
        String::from_utf8_lossy(raw).into_owned()
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Quoted-printable (RFC 2045); `q_word` additionally maps `_` to a space (RFC 2047 "Q").
fn quoted_printable(src: &[u8], q_word: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while let Some(&b) = src.get(i) {
        if b == b'=' {
            let (a, c) = (src.get(i + 1).copied(), src.get(i + 2).copied());
            match (a, c) {
                (Some(b'\r'), Some(b'\n')) => i += 3,
                (Some(b'\n'), _) => i += 2,
                (Some(x), Some(y)) => match (hex(x), hex(y)) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    _ => {
                        out.push(b);
                        i += 1;
                    }
                },
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        } else if q_word && b == b'_' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// Tolerant base64: characters outside the alphabet are skipped, decoding stops at `=`.
fn base64(src: &[u8]) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in src {
        if c == b'=' {
            break;
        }
        let Some(v) = val(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xFF) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    out
}

/// RFC 2047 encoded words (`=?charset?B|Q?text?=`); whitespace between two words is dropped.
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    let mut pending_ws = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            out.push_str(&pending_ws);
            out.push_str(rest);
            break;
        };
        let (before, tail) = rest.split_at(start);
        let decoded = tail.get(2..).and_then(|t| {
            let mut it = t.splitn(3, '?');
            let charset = it.next()?;
            let enc = it.next()?;
            let remainder = it.next()?;
            let end = remainder.find("?=")?;
            let text = remainder.get(..end)?;
            let bytes = match enc {
                "B" | "b" => base64(text.as_bytes()),
                "Q" | "q" => quoted_printable(text.as_bytes(), true),
                _ => return None,
            };
            let consumed = 2 + charset.len() + 1 + enc.len() + 1 + end + 2;
            Some((decode_charset(&bytes, charset), consumed))
        });
        match decoded {
            Some((s, consumed)) => {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(&pending_ws);
                    out.push_str(before);
                }
                pending_ws.clear();
                out.push_str(&s);
                last_was_word = true;
                rest = tail.get(consumed..).unwrap_or("");
                let ws_len = rest.len() - rest.trim_start().len();
                pending_ws = rest.get(..ws_len).unwrap_or("").to_string();
                rest = rest.get(ws_len..).unwrap_or("");
            }
            None => {
                out.push_str(&pending_ws);
                pending_ws.clear();
                out.push_str(before);
                out.push_str("=?");
                rest = tail.get(2..).unwrap_or("");
                last_was_word = false;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            decode_words("=?UTF-8?B?VGjDtG5nIGLDoW8=?= =?UTF-8?Q?_m=E1=BB=9Bi?= x"),
            "Thông báo mới x"
        );
        assert_eq!(decode_words("plain =?bad"), "plain =?bad");
    }
}
