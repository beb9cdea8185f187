//! Rebuilding the cross-reference of an unsigned PDF whose own is damaged (offsets shifted by a
//! line-ending conversion or bytes before the header, a missing or wrong `startxref`, a cut
//! trailer), the way viewers silently do, so that it can be signed.
//!
//! The repair is one more cross-reference section, appended: it lists every object found by
//! scanning the file (in file order, a later definition replacing an earlier one; objects in
//! object streams through those streams) and has no `/Prev`, so readers never reach the damaged
//! one. The original bytes stay as they are, except anything before the `%PDF-` header, which
//! is dropped so that every offset means the same to readers that count from the header and
//! readers that count from the start of the file. A file that holds signatures is never
//! repaired: their byte ranges would no longer describe the file.

use std::collections::BTreeMap;

use crate::doc::Entry;
use crate::object::{is_ws, Dict, Lexer, Obj};
use crate::PdfError;

/// Where the `%PDF-` header starts (within the first 1024 bytes, as readers accept it).
pub fn header_offset(data: &[u8]) -> Option<usize> {
    memchr::memmem::find(&data[..data.len().min(1024)], b"%PDF-")
}

/// Whether the bytes hold anything of a signature (a `/ByteRange`, or a `/Sig` type, field or
/// flag): then a damaged file is not repaired.
pub fn has_signature_marks(data: &[u8]) -> bool {
    memchr::memmem::find(data, b"/ByteRange").is_some()
        || memchr::memmem::find(data, b"/Sig").is_some()
}

/// What a scan of the file found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every object's last definition: at an offset, or in an object stream.
    pub entries: BTreeMap<u32, Entry>,
    /// `/Root`, `/Info` and `/ID` of the last trailer (or cross-reference stream) whose
    /// `/Root` was found among the objects; else the last catalog.
    pub root: Option<Obj>,
    pub info: Option<Obj>,
    pub id: Option<Obj>,
    /// A trailer names an `/Encrypt` dictionary: the objects are encrypted, and a rebuilt
    /// trailer would present them as plain text.
    pub encrypted: bool,
}

/// The start of an object header `N G obj` whose `obj` keyword begins at `kw`.
fn header_start(data: &[u8], kw: usize) -> Option<usize> {
    let mut i = kw;
    let ws = |i: usize| i > 0 && is_ws(data[i - 1]);
    let digits = |mut i: usize| {
        let e = i;
        while i > 0 && data[i - 1].is_ascii_digit() {
            i -= 1;
        }
        (i < e).then_some(i)
    };
    if !ws(i) {
        return None;
    }
    while ws(i) {
        i -= 1;
    }
    i = digits(i)?;
    if !ws(i) {
        return None;
    }
    while ws(i) {
        i -= 1;
    }
    i = digits(i)?;
    // The number starts a token.
    (i == 0 || is_ws(data[i - 1]) || matches!(data[i - 1], b'>' | b']' | b')')).then_some(i)
}

/// Scans `data` (starting at the header) for its objects and trailers.
pub fn scan(data: &[u8]) -> Scan {
    let mut s = Scan::default();
    // Trailer candidates in file order: (position, dict).
    let mut trailers: Vec<(usize, Dict)> = Vec::new();
    let mut catalogs: Vec<(u32, u16)> = Vec::new();
    let obj_kw = memchr::memmem::Finder::new(b"obj");
    let mut pos = 0;
    while let Some(i) = obj_kw.find(&data[pos..]) {
        let kw = pos + i;
        pos = kw + 3;
        // `obj` must end its token too (not `objects`, not `endobj`'s tail: that has no
        // number before it).
        if data.get(kw + 3).is_some_and(|&c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let Some(start) = header_start(data, kw) else {
            continue;
        };
        let mut lx = Lexer::new(data, start);
        let (Some(n), Some(g)) = (lx.uint(), lx.uint()) else {
            continue;
        };
        if lx.word() != b"obj" || n > u32::MAX as u64 || g > u16::MAX as u64 {
            continue;
        }
        let Ok(o) = lx.object() else {
            continue;
        };
        let (n, g) = (n as u32, g as u16);
        s.entries.insert(n, Entry::Offset(start, g));
        pos = lx.pos;
        let Obj::Dict(d) = o else {
            continue;
        };
        if d.name_is("Type", "Catalog") {
            catalogs.push((n, g));
        }
        if d.name_is("Type", "XRef") {
            trailers.push((start, d.clone()));
        }
        if lx.peek_word() != b"stream" {
            continue;
        }
        lx.word();
        let body = lx.pos + usize::from(data.get(lx.pos) == Some(&b'\r'));
        let body = body + usize::from(data.get(body) == Some(&b'\n'));
        let Some(end) = memchr::memmem::find(&data[body.min(data.len())..], b"endstream") else {
            break;
        };
        let end = body + end;
        pos = end + 9;
        if d.name_is("Type", "ObjStm") {
            let mut raw = &data[body..end];
            while let [rest @ .., b'\r' | b'\n'] = raw {
                raw = rest;
            }
            let stm = Obj::Stream(d.clone(), raw.to_vec());
            if let Ok(plain) = crate::doc::decode_stream(&stm) {
                let count = d.get("N").and_then(Obj::as_int).unwrap_or(0).max(0);
                let mut lx = Lexer::new(&plain, 0);
                for idx in 0..count as u32 {
                    let (Some(on), Some(_)) = (lx.uint(), lx.uint()) else {
                        break;
                    };
                    if let Ok(on) = u32::try_from(on) {
                        s.entries.insert(on, Entry::InStream(n, idx));
                    }
                }
            }
        }
    }
    // Classic trailers.
    let kw = memchr::memmem::Finder::new(b"trailer");
    let mut pos = 0;
    while let Some(i) = kw.find(&data[pos..]) {
        let at = pos + i;
        pos = at + 7;
        if let Ok(Obj::Dict(d)) = Lexer::new(data, at + 7).object() {
            trailers.push((at, d));
        }
    }
    trailers.sort_by_key(|t| t.0);
    s.encrypted = trailers.iter().any(|(_, t)| t.get("Encrypt").is_some());
    let exists = |o: &Obj| o.as_ref().is_some_and(|(n, _)| s.entries.contains_key(&n));
    if let Some((_, t)) = trailers
        .iter()
        .rev()
        .find(|(_, t)| t.get("Root").is_some_and(exists))
    {
        s.root = t.get("Root").cloned();
        s.info = t.get("Info").filter(|i| exists(i)).cloned();
        s.id = t.get("ID").cloned();
    } else if let Some(&(n, g)) = catalogs.last() {
        s.root = Some(Obj::Ref(n, g));
    }
    s
}

/// The repair section for `data` (starting at its header), to be appended to it: a complete
/// cross-reference (a table, or a stream when objects live in object streams) with a trailer
/// and no `/Prev`.
pub fn section(data: &[u8], scan: &Scan) -> Result<Vec<u8>, PdfError> {
    let root = scan
        .root
        .clone()
        .ok_or_else(|| PdfError::Damaged("no document catalog found".into()))?;
    let max = scan.entries.keys().next_back().copied().unwrap_or(0);
    let mut out = Vec::new();
    if !matches!(data.last(), Some(b'\n' | b'\r')) {
        out.push(b'\n');
    }
    let mut trailer = Dict::new().with("Root", root);
    if let Some(i) = &scan.info {
        trailer.set("Info", i.clone());
    }
    if let Some(id) = &scan.id {
        trailer.set("ID", id.clone());
    }
    // Runs of consecutive object numbers, entry 0 (the head of the free list) first.
    let runs = |nums: &[u32]| {
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for &n in nums {
            match runs.last_mut() {
                Some((s, c)) if *s + *c == n => *c += 1,
                _ => runs.push((n, 1)),
            }
        }
        runs
    };
    let streams = scan
        .entries
        .values()
        .any(|e| matches!(e, Entry::InStream(..)));
    if !streams {
        let xref_at = data.len() + out.len();
        out.extend_from_slice(b"xref\n");
        let nums: Vec<u32> = std::iter::once(0)
            .chain(scan.entries.keys().copied().filter(|&n| n != 0))
            .collect();
        let mut k = 0;
        for (start, count) in runs(&nums) {
            out.extend_from_slice(format!("{start} {count}\n").as_bytes());
            for &n in &nums[k..k + count as usize] {
                match scan.entries.get(&n) {
                    Some(Entry::Offset(off, g)) if n != 0 => {
                        out.extend_from_slice(format!("{off:010} {g:05} n\r\n").as_bytes())
                    }
                    _ => out.extend_from_slice(b"0000000000 65535 f\r\n"),
                }
            }
            k += count as usize;
        }
        trailer.set("Size", Obj::Int(max as i64 + 1));
        crate::sign::end_table(&mut out, &trailer, xref_at);
        return Ok(out);
    }
    let xs = max + 1;
    let xref_at = data.len() + out.len();
    let w2: usize = if xref_at > u32::MAX as usize { 8 } else { 4 };
    let nums: Vec<u32> = std::iter::once(0)
        .chain(scan.entries.keys().copied().filter(|&n| n != 0))
        .chain(std::iter::once(xs))
        .collect();
    let mut rows = Vec::new();
    let mut row = |t: u8, a: u64, b: u16| {
        rows.push(t);
        rows.extend_from_slice(&a.to_be_bytes()[8 - w2..]);
        rows.extend_from_slice(&b.to_be_bytes());
    };
    for &n in &nums {
        match scan.entries.get(&n) {
            _ if n == xs => row(1, xref_at as u64, 0),
            Some(Entry::Offset(off, g)) if n != 0 => row(1, *off as u64, *g),
            Some(Entry::InStream(stm, idx)) if n != 0 => {
                row(2, *stm as u64, u16::try_from(*idx).unwrap_or(u16::MAX))
            }
            _ => row(0, 0, 65535),
        }
    }
    let index: Vec<Obj> = runs(&nums)
        .into_iter()
        .flat_map(|(s, c)| [Obj::Int(s as i64), Obj::Int(c as i64)])
        .collect();
    crate::sign::write_xref_stream(&mut out, xs, xref_at, trailer, xs + 1, index, w2, rows);
    Ok(out)
}

/// Whether a failure to read a file for signing is one a repair may cure (its structure, not
/// what it is: not a PDF, encrypted, unsupported).
pub fn curable(e: &PdfError) -> bool {
    matches!(e, PdfError::Damaged(_) | PdfError::Syntax { .. })
}

/// How to repair a damaged file.
#[derive(Debug)]
pub struct Plan {
    /// Bytes before the `%PDF-` header, dropped.
    pub skip: usize,
    /// The repair section, appended after the rest.
    pub section: Vec<u8>,
    /// Objects the section lists.
    pub objects: usize,
}

/// The repair of `data`, a file that failed to parse with a curable error: drop what precedes
/// the header, append [`section`]. Refused for a file with signatures. The caller checks that
/// the result parses and has pages.
pub fn plan(data: &[u8]) -> Result<Plan, PdfError> {
    let skip = header_offset(data).ok_or(PdfError::NotPdf)?;
    let body = &data[skip..];
    if has_signature_marks(body) {
        return Err(PdfError::Damaged(
            "tệp có chữ ký số nhưng cấu trúc bị hỏng: sửa sẽ làm hỏng các chữ ký (a signed file \
             with a damaged structure cannot be repaired without breaking its signatures)"
                .into(),
        ));
    }
    let scan = scan(body);
    if scan.encrypted {
        return Err(PdfError::Encrypted);
    }
    Ok(Plan {
        skip,
        section: section(body, &scan)?,
        objects: scan.entries.len(),
    })
}

/// The complete section for a file that reads soundly but that strict readers refuse (a
/// `/Size` below its objects, a hybrid cross-reference): built from the file's own
/// cross-reference — every section's entries, the newer over the older, a hybrid section's
/// stream included, freed objects left out — so that each object resolves exactly as before.
pub fn plan_from_doc(doc: &crate::doc::Doc) -> Result<Plan, PdfError> {
    let data = &doc.data[..];
    if header_offset(data) != Some(0) {
        return Err(PdfError::Damaged("bytes before the header".into()));
    }
    let mut entries = BTreeMap::new();
    for s in &doc.sections {
        for (n, e) in &s.entries {
            match e {
                Entry::Free(_) => entries.remove(n),
                e => entries.insert(*n, *e),
            };
        }
    }
    entries.remove(&0);
    let t = doc.trailer();
    if t.get("Encrypt").is_some() {
        return Err(PdfError::Encrypted);
    }
    let scan = Scan {
        entries,
        root: t.get("Root").cloned(),
        info: t.get("Info").cloned(),
        id: t.get("ID").cloned(),
        encrypted: false,
    };
    Ok(Plan {
        skip: 0,
        section: section(data, &scan)?,
        objects: scan.entries.len(),
    })
}

/// Whether a rebuilt file can be signed: it has pages and lacks nothing it refers to (else it
/// was cut short, and signing it would sign less than the author wrote).
pub fn is_whole(doc: &crate::doc::Doc) -> bool {
    doc.pages().is_ok_and(|p| !p.is_empty()) && missing_object(doc).is_none()
}

/// The first object that the document reaches from its trailer (catalog, page tree, pages,
/// their contents and resources, everything they refer to) but that is not in the file: a
/// sign that it was cut short, which a repair must not paper over. `None` when nothing is
/// missing.
pub fn missing_object(doc: &crate::doc::Doc) -> Option<u32> {
    let mut todo: Vec<u32> = ["Root", "Info"]
        .iter()
        .filter_map(|k| doc.trailer().get(k).and_then(Obj::as_ref))
        .map(|r| r.0)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let refs = |o: &Obj, out: &mut Vec<u32>| {
        let mut stack = vec![o];
        while let Some(o) = stack.pop() {
            match o {
                Obj::Ref(n, _) => out.push(*n),
                Obj::Arr(a) => stack.extend(a.iter()),
                Obj::Dict(d) | Obj::Stream(d, _) => stack.extend(d.0.iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    };
    while let Some(n) = todo.pop() {
        if !seen.insert(n) {
            continue;
        }
        if !matches!(
            doc.entry_in(n, doc.sections.len() - 1),
            Some(Entry::Offset(..) | Entry::InStream(..))
        ) {
            return Some(n);
        }
        match doc.get(n) {
            Ok(o) => refs(&o, &mut todo),
            Err(_) => return Some(n),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects are found after any line ending or none; text inside a stream that looks like
    /// an object header is skipped with the stream; the last definition of a number wins.
    #[test]
    fn scan_finds_objects_not_look_alikes() {
        let data = b"%PDF-1.4\r1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n3 0 obj\n<</Length 14>>stream\n9 0 obj (fake)\nendstream\nendobj\n2 0 obj<</Type/Pages/Kids[]/Count 0/V 2>>endobj\ntrailer<</Root 1 0 R/Size 4>>";
        let s = scan(data);
        assert_eq!(s.entries.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
        let last2 = data.windows(8).rposition(|w| w == b"2 0 obj<").unwrap();
        assert_eq!(s.entries[&2], Entry::Offset(last2, 0));
        assert_eq!(s.root, Some(Obj::Ref(1, 0)));
        // The section makes a file that parses as it is and resolves the last definition.
        let mut whole = data.to_vec();
        whole.extend_from_slice(&section(data, &s).unwrap());
        let doc = crate::doc::Doc::parse(whole).unwrap();
        assert_eq!(
            doc.get(2).unwrap().as_dict().unwrap().get("V"),
            Some(&Obj::Int(2))
        );
        assert_eq!(missing_object(&doc), None);
    }

    /// No catalog: nothing to repair. A reference to an object that is not there is found.
    #[test]
    fn no_catalog_no_repair_and_missing_objects_are_named() {
        let data = b"%PDF-1.4\n1 0 obj\n<</Foo 1>>\nendobj\n";
        assert!(section(data, &scan(data)).is_err());
        let data = b"%PDF-1.4\n1 0 obj\n<</Type/Catalog/Pages 2 0 R/Extra 7 0 R>>\nendobj\n2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n";
        let mut whole = data.to_vec();
        whole.extend_from_slice(&section(data, &scan(data)).unwrap());
        let doc = crate::doc::Doc::parse(whole).unwrap();
        assert_eq!(missing_object(&doc), Some(7));
    }

    #[test]
    fn signature_marks_refuse_a_repair() {
        assert!(matches!(
            plan(b"%PDF-1.7\n1 0 obj\n<</Type/Sig/ByteRange[0 1 2 3]>>\nendobj\n"),
            Err(PdfError::Damaged(m)) if m.contains("signatures")
        ));
        assert!(matches!(plan(b"no header"), Err(PdfError::NotPdf)));
    }
}
