//! PDF objects, a lexer/parser over bytes, and serialisation.

use std::fmt::Write as _;

use crate::PdfError;

/// A PDF object. Streams keep their dictionary and the byte range of their raw data.
#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Arr(Vec<Obj>),
    Dict(Dict),
    Ref(u32, u16),
    /// Dictionary and raw (still encoded) data.
    Stream(Dict, Vec<u8>),
}

/// A dictionary that keeps key order (so a rewritten object stays recognisable).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Obj)>);

impl Dict {
    pub fn new() -> Self {
        Dict(Vec::new())
    }
    pub fn get(&self, k: &str) -> Option<&Obj> {
        self.0
            .iter()
            .find(|(n, _)| n.as_slice() == k.as_bytes())
            .map(|(_, v)| v)
    }
    pub fn set(&mut self, k: &str, v: Obj) {
        if let Some(e) = self
            .0
            .iter_mut()
            .find(|(n, _)| n.as_slice() == k.as_bytes())
        {
            e.1 = v;
        } else {
            self.0.push((k.as_bytes().to_vec(), v));
        }
    }
    pub fn remove(&mut self, k: &str) {
        self.0.retain(|(n, _)| n.as_slice() != k.as_bytes());
    }
    pub fn with(mut self, k: &str, v: Obj) -> Self {
        self.set(k, v);
        self
    }
    pub fn name_is(&self, k: &str, v: &str) -> bool {
        matches!(self.get(k), Some(Obj::Name(n)) if n.as_slice() == v.as_bytes())
    }
}

impl Obj {
    pub fn name(s: &str) -> Obj {
        Obj::Name(s.as_bytes().to_vec())
    }
    pub fn str(s: &str) -> Obj {
        Obj::Str(s.as_bytes().to_vec())
    }
    /// A text string: ASCII as is, anything else UTF-16BE with a BOM.
    /// A computed coordinate, rounded to 1/10000 pt (written as at most four decimals).
    pub fn coord(x: f64) -> Obj {
        Obj::Real((x * 10_000.0).round() / 10_000.0)
    }

    pub fn text(s: &str) -> Obj {
        if s.is_ascii() {
            Obj::str(s)
        } else {
            let mut v = vec![0xFE, 0xFF];
            for u in s.encode_utf16() {
                v.extend_from_slice(&u.to_be_bytes());
            }
            Obj::Str(v)
        }
    }
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Obj::Dict(d) | Obj::Stream(d, _) => Some(d),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Int(i) => Some(*i),
            Obj::Real(r) if r.fract() == 0.0 => Some(*r as i64),
            _ => None,
        }
    }
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Obj::Int(i) => Some(*i as f64),
            Obj::Real(r) => Some(*r),
            _ => None,
        }
    }
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }
    pub fn as_ref(&self) -> Option<(u32, u16)> {
        match self {
            Obj::Ref(n, g) => Some((*n, *g)),
            _ => None,
        }
    }
    pub fn as_arr(&self) -> Option<&[Obj]> {
        match self {
            Obj::Arr(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Obj::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Decodes a PDF text string (UTF-16BE with BOM, else PDFDocEncoding ≈ Latin-1).
pub fn decode_text(b: &[u8]) -> String {
    if b.len() >= 2 && b[0] == 0xFE && b[1] == 0xFF {
        let u: Vec<u16> = b[2..]
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&u)
    } else if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(&b[3..]).into_owned()
    } else {
        b.iter().map(|&c| c as char).collect()
    }
}

pub fn is_ws(c: u8) -> bool {
    matches!(c, 0 | 9 | 10 | 12 | 13 | 32)
}
/// Hex digit values; [`HEX_WS`] for white space (skipped), [`HEX_BAD`] for anything else.
const HEX: [u8; 256] = {
    let mut t = [HEX_BAD; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            0 | 9 | 10 | 12 | 13 | 32 => HEX_WS,
            _ => HEX_BAD,
        };
        i += 1;
    }
    t
};
const HEX_WS: u8 = 0x40;
const HEX_BAD: u8 = 0x80;

fn is_delim(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}
fn is_regular(c: u8) -> bool {
    !is_ws(c) && !is_delim(c)
}

const MAX_DEPTH: usize = 64;

/// A cursor over PDF bytes.
pub struct Lexer<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Obj(Obj),
    ArrOpen,
    ArrClose,
    DictOpen,
    DictClose,
    Kw(Vec<u8>),
}

impl<'a> Lexer<'a> {
    /// A lexer at `pos`; a position past the end (a damaged offset) reads as the end.
    pub fn new(buf: &'a [u8], pos: usize) -> Self {
        Lexer {
            buf,
            pos: pos.min(buf.len()),
        }
    }

    fn err(&self, what: &str) -> PdfError {
        PdfError::Syntax {
            offset: self.pos,
            what: what.to_string(),
        }
    }

    pub fn skip_ws(&mut self) {
        while self.pos < self.buf.len() {
            let c = self.buf[self.pos];
            if is_ws(c) {
                self.pos += 1;
            } else if c == b'%' {
                while self.pos < self.buf.len() && !matches!(self.buf[self.pos], b'\r' | b'\n') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Reads a bare keyword or number token without interpreting it.
    pub fn word(&mut self) -> &'a [u8] {
        self.skip_ws();
        let s = self.pos;
        while self.pos < self.buf.len() && is_regular(self.buf[self.pos]) {
            self.pos += 1;
        }
        &self.buf[s..self.pos]
    }

    pub fn peek_word(&mut self) -> &'a [u8] {
        let p = self.pos;
        let w = self.word();
        self.pos = p;
        w
    }

    pub fn uint(&mut self) -> Option<u64> {
        let p = self.pos;
        let w = self.word();
        match std::str::from_utf8(w).ok().and_then(|s| s.parse().ok()) {
            Some(v) if !w.is_empty() && w.iter().all(u8::is_ascii_digit) => Some(v),
            _ => {
                self.pos = p;
                None
            }
        }
    }

    fn tok(&mut self) -> Result<Tok, PdfError> {
        self.skip_ws();
        let Some(&c) = self.buf.get(self.pos) else {
            return Err(self.err("unexpected end of file"));
        };
        match c {
            b'[' => {
                self.pos += 1;
                Ok(Tok::ArrOpen)
            }
            b']' => {
                self.pos += 1;
                Ok(Tok::ArrClose)
            }
            b'<' if self.buf.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                Ok(Tok::DictOpen)
            }
            b'>' if self.buf.get(self.pos + 1) == Some(&b'>') => {
                self.pos += 2;
                Ok(Tok::DictClose)
            }
            b'<' => self.hex_string().map(|s| Tok::Obj(Obj::Str(s))),
            b'(' => self.lit_string().map(|s| Tok::Obj(Obj::Str(s))),
            b'/' => {
                self.pos += 1;
                let s = self.pos;
                while self.pos < self.buf.len() && is_regular(self.buf[self.pos]) {
                    self.pos += 1;
                }
                Ok(Tok::Obj(Obj::Name(unescape_name(&self.buf[s..self.pos]))))
            }
            _ if is_regular(c) => {
                let w = self.word();
                if let Some(n) = parse_number(w) {
                    return Ok(Tok::Obj(n));
                }
                Ok(match w {
                    b"true" => Tok::Obj(Obj::Bool(true)),
                    b"false" => Tok::Obj(Obj::Bool(false)),
                    b"null" => Tok::Obj(Obj::Null),
                    _ => Tok::Kw(w.to_vec()),
                })
            }
            _ => Err(self.err("unexpected delimiter")),
        }
    }

    fn hex_string(&mut self) -> Result<Vec<u8>, PdfError> {
        self.pos += 1;
        // A signature's /Contents is tens of kilobytes of hex: find the end at once and decode
        // through a table rather than character by character.
        let Some(len) = memchr::memchr(b'>', &self.buf[self.pos..]) else {
            self.pos = self.buf.len();
            return Err(self.err("unterminated hex string"));
        };
        let body = &self.buf[self.pos..self.pos + len];
        let mut out = Vec::with_capacity(len.div_ceil(2));
        let mut hi: Option<u8> = None;
        for (i, &c) in body.iter().enumerate() {
            let v = HEX[c as usize];
            if v < 16 {
                match hi.take() {
                    None => hi = Some(v),
                    Some(h) => out.push(h << 4 | v),
                }
            } else if v == HEX_BAD {
                self.pos += i + 1;
                return Err(self.err("bad hex digit"));
            }
        }
        self.pos += len + 1;
        if let Some(h) = hi {
            out.push(h << 4);
        }
        Ok(out)
    }

    fn lit_string(&mut self) -> Result<Vec<u8>, PdfError> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut depth = 1;
        loop {
            let Some(&c) = self.buf.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c)
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(c)
                }
                b'\\' => {
                    let Some(&e) = self.buf.get(self.pos) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.buf.get(self.pos) == Some(&b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = (e - b'0') as u32;
                            for _ in 0..2 {
                                match self.buf.get(self.pos) {
                                    Some(&d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        _ => out.push(e),
                    }
                }
                _ => out.push(c),
            }
        }
        Ok(out)
    }

    /// Parses one direct object (arrays and dictionaries included; `n g R` becomes a reference).
    pub fn object(&mut self) -> Result<Obj, PdfError> {
        self.object_depth(0)
    }

    fn object_depth(&mut self, depth: usize) -> Result<Obj, PdfError> {
        if depth > MAX_DEPTH {
            return Err(self.err("objects nested too deeply"));
        }
        match self.tok()? {
            Tok::Obj(Obj::Int(n)) => {
                // Look ahead for `gen R`.
                let save = self.pos;
                if n >= 0 && n <= u32::MAX as i64 {
                    if let Some(g) = self.uint() {
                        if self.word() == b"R" && g <= u16::MAX as u64 {
                            return Ok(Obj::Ref(n as u32, g as u16));
                        }
                    }
                }
                self.pos = save;
                Ok(Obj::Int(n))
            }
            Tok::Obj(o) => Ok(o),
            Tok::ArrOpen => {
                let mut v = Vec::new();
                loop {
                    self.skip_ws();
                    if self.buf.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        return Ok(Obj::Arr(v));
                    }
                    v.push(self.object_depth(depth + 1)?);
                }
            }
            Tok::DictOpen => Ok(Obj::Dict(self.dict_body(depth)?)),
            Tok::ArrClose | Tok::DictClose => Err(self.err("unexpected closing bracket")),
            Tok::Kw(k) => Err(self.err(&format!(
                "unexpected keyword {:?}",
                String::from_utf8_lossy(&k)
            ))),
        }
    }

    fn dict_body(&mut self, depth: usize) -> Result<Dict, PdfError> {
        let mut d = Dict::new();
        loop {
            self.skip_ws();
            if self.buf.get(self.pos..self.pos + 2) == Some(b">>") {
                self.pos += 2;
                return Ok(d);
            }
            let k = match self.tok()? {
                Tok::Obj(Obj::Name(n)) => n,
                _ => return Err(self.err("dictionary key is not a name")),
            };
            let v = self.object_depth(depth + 1)?;
            // The first occurrence of a duplicated key wins, as in most readers.
            if !d.0.iter().any(|(n, _)| *n == k) {
                d.0.push((k, v));
            }
        }
    }

    /// For the dictionary starting here: each key with the byte span of its value.
    pub fn dict_spans(&mut self) -> Result<Vec<(Vec<u8>, usize, usize)>, PdfError> {
        if self.tok()? != Tok::DictOpen {
            return Err(self.err("expected a dictionary"));
        }
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.buf.get(self.pos..self.pos + 2) == Some(b">>") {
                self.pos += 2;
                return Ok(out);
            }
            let k = match self.tok()? {
                Tok::Obj(Obj::Name(n)) => n,
                _ => return Err(self.err("dictionary key is not a name")),
            };
            self.skip_ws();
            let s = self.pos;
            self.object_depth(1)?;
            out.push((k, s, self.pos));
        }
    }
}

fn unescape_name(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'#' && i + 2 < b.len() {
            if let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn parse_number(w: &[u8]) -> Option<Obj> {
    if w.is_empty()
        || !w
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'))
        || !w.iter().any(u8::is_ascii_digit)
    {
        return None;
    }
    let s = std::str::from_utf8(w).ok()?;
    if !s.contains('.') {
        if let Ok(i) = s.parse::<i64>() {
            return Some(Obj::Int(i));
        }
    }
    let t = s.trim_start_matches('+');
    let t = if let Some(r) = t.strip_prefix("-.") {
        format!("-0.{r}")
    } else if t.starts_with('.') {
        format!("0{t}")
    } else {
        t.to_string()
    };
    t.parse::<f64>().ok().map(Obj::Real)
}

/// `fmt::Write` into a byte vector.
struct DisplayVec<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for DisplayVec<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Serialises an object into `out`.
pub fn write_obj(out: &mut Vec<u8>, o: &Obj) {
    match o {
        Obj::Null => out.extend_from_slice(b"null"),
        Obj::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Obj::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        // The shortest decimal text that reads back as the same number (Rust's `Display` for
        // f64, never in exponent form). A rewritten dictionary must keep its values exactly: a
        // page's `/MediaBox [0 0 595.303937007874 841.889763779528]` (LibreOffice) written back
        // as 595.3039 is a changed page to every validator of an earlier signature.
        Obj::Real(r) => {
            if !r.is_finite() || *r == 0.0 {
                out.push(b'0');
            } else {
                let _ = write!(DisplayVec(out), "{r}");
            }
        }
        Obj::Name(n) => {
            out.push(b'/');
            for &c in n {
                if is_regular(c) && (b'!'..=b'~').contains(&c) && c != b'#' {
                    out.push(c);
                } else {
                    out.extend_from_slice(format!("#{c:02X}").as_bytes());
                }
            }
        }
        Obj::Str(s) => {
            if s.iter().all(|&c| (32..127).contains(&c)) {
                out.push(b'(');
                for &c in s {
                    if matches!(c, b'(' | b')' | b'\\') {
                        out.push(b'\\');
                    }
                    out.push(c);
                }
                out.push(b')');
            } else {
                out.push(b'<');
                out.extend_from_slice(hex::encode_upper(s).as_bytes());
                out.push(b'>');
            }
        }
        Obj::Arr(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_obj(out, x);
            }
            out.push(b']');
        }
        Obj::Dict(d) => write_dict(out, d),
        Obj::Ref(n, g) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
        Obj::Stream(d, data) => {
            let mut d = d.clone();
            d.set("Length", Obj::Int(data.len() as i64));
            write_dict(out, &d);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\nendstream");
        }
    }
}

pub fn write_dict(out: &mut Vec<u8>, d: &Dict) {
    out.extend_from_slice(b"<<");
    for (k, v) in &d.0 {
        write_obj(out, &Obj::Name(k.clone()));
        out.push(b' ');
        write_obj(out, v);
    }
    out.extend_from_slice(b">>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_objects_and_refs() {
        let src = b"<< /A 1 0 R /B [1 2.5 -.5 (a\\(b\\)) <41 42>] /C /N#20x /D << /E true >> >>";
        let o = Lexer::new(src, 0).object().unwrap();
        let d = o.as_dict().unwrap();
        assert_eq!(d.get("A"), Some(&Obj::Ref(1, 0)));
        assert_eq!(
            d.get("B"),
            Some(&Obj::Arr(vec![
                Obj::Int(1),
                Obj::Real(2.5),
                Obj::Real(-0.5),
                Obj::Str(b"a(b)".to_vec()),
                Obj::Str(b"AB".to_vec())
            ]))
        );
        assert_eq!(d.get("C"), Some(&Obj::Name(b"N x".to_vec())));
        let mut out = Vec::new();
        write_obj(&mut out, &o);
        assert_eq!(Lexer::new(&out, 0).object().unwrap(), o);
    }

    /// Hex strings: white space anywhere, either case, an odd final digit taken as followed
    /// by 0 (ISO 32000 §7.3.4.3); a bad digit or a missing `>` is an error, not a short string.
    #[test]
    fn hex_strings_decode_per_the_standard() {
        let s = |src: &[u8]| Lexer::new(src, 0).object();
        assert_eq!(
            s(b"<4a 4B\n\r\t\x0c0c>").unwrap(),
            Obj::Str(vec![0x4a, 0x4b, 0x0c])
        );
        assert_eq!(s(b"<901FA>").unwrap(), Obj::Str(vec![0x90, 0x1f, 0xa0]));
        assert_eq!(s(b"<>").unwrap(), Obj::Str(Vec::new()));
        assert!(s(b"<12G4>").is_err());
        assert!(s(b"<1234").is_err());
        // The lexer goes on after the string.
        let mut l = Lexer::new(b"[<00FF> <7>]", 0);
        assert_eq!(
            l.object().unwrap(),
            Obj::Arr(vec![Obj::Str(vec![0, 255]), Obj::Str(vec![0x70])])
        );
    }

    /// Reals are written back as exactly the number that was read (so rewriting a page keeps
    /// its MediaBox), never in exponent form, which PDF does not have.
    #[test]
    fn reals_round_trip_exactly() {
        let mut vals = vec![
            595.303937007874,
            841.889763779528,
            595.2755905511812,
            0.1,
            -0.5,
            1e-7,
            -12345.678901234,
            1e15 + 0.5,
            3.4e38,
        ];
        // And a spread of awkward values from a fixed linear congruential sequence.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = f64::from_bits(x >> 2);
            if v.is_finite() && v.abs() < 1e30 && v.abs() > 1e-30 {
                vals.push(v);
            }
        }
        for v in vals {
            let mut out = Vec::new();
            write_obj(&mut out, &Obj::Real(v));
            let text = String::from_utf8(out.clone()).unwrap();
            assert!(!text.contains(['e', 'E']), "{text}");
            match Lexer::new(&out, 0).object().unwrap() {
                Obj::Real(r) => assert_eq!(r.to_bits(), v.to_bits(), "{text}"),
                Obj::Int(i) => assert_eq!(i as f64, v, "{text}"),
                o => panic!("{text} read back as {o:?}"),
            }
        }
        let mut out = Vec::new();
        write_obj(&mut out, &Obj::Real(595.303937007874));
        assert_eq!(out, b"595.303937007874");
    }

    #[test]
    fn text_strings_round_trip() {
        let o = Obj::text("Nguyễn Văn A");
        assert_eq!(decode_text(o.as_str().unwrap()), "Nguyễn Văn A");
    }
}
