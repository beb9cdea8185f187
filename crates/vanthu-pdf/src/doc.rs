//! A read-only view of a PDF file: the chain of cross-reference sections (tables, streams and
//! hybrids), one per revision, and object resolution as of any revision.

use std::collections::BTreeMap;

use crate::object::{Dict, Lexer, Obj};
use crate::PdfError;

/// Where an object lives according to one cross-reference section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A freed object, with the generation its next use must have.
    Free(u32),
    Offset(usize, u16),
    InStream(u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefKind {
    Table,
    Stream,
}

/// One cross-reference section, i.e. one revision of the file (oldest first in `Doc::sections`).
#[derive(Debug, Clone)]
pub struct Section {
    pub offset: usize,
    pub kind: XrefKind,
    pub entries: BTreeMap<u32, Entry>,
    pub trailer: Dict,
    /// End of this revision: just after its `%%EOF` marker (0 if none was found).
    pub end: usize,
    /// The highest generation number an entry of this section gives (free ones included; a
    /// valid file stays at or below 65535).
    pub max_generation: u64,
    /// A table entry not in the fixed 20-byte form (space-padded numbers, short fields).
    pub loose_entries: bool,
}

/// The bytes of a PDF: held in memory, or a read-only map of a file (only the pages the parser
/// touches are read, so a 100 MB scan costs little memory).
pub enum Bytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

pub struct Doc {
    pub data: Bytes,
    /// Oldest first.
    pub sections: Vec<Section>,
    /// The file behind a mapped `data`: long passes (hashing, scanning) read it in chunks
    /// instead of touching every page of the map, so they do not grow the resident set.
    file: Option<std::fs::File>,
    /// The key of a file encrypted with an empty user password ([`crate::crypt`]): objects
    /// are decrypted as they are read.
    crypt: Option<crate::crypt::Crypt>,
}

/// Chunk size of the streamed passes.
const CHUNK: usize = 1 << 20;

const MAX_SECTIONS: usize = 4096;

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

impl Doc {
    pub fn parse(data: Vec<u8>) -> Result<Doc, PdfError> {
        Doc::parse_bytes(Bytes::Owned(data), None, "")
    }

    /// Maps `path` read-only and parses it lazily: the cross-reference chain and, later, only
    /// the objects asked for. The file must not be changed while the `Doc` lives.
    pub fn open(path: &std::path::Path) -> Result<Doc, PdfError> {
        Doc::open_with_password(path, "")
    }

    /// [`Doc::open`] for a file that may need a password to open (the user or the owner
    /// password; files encrypted without one open with "").
    pub fn open_with_password(path: &std::path::Path, password: &str) -> Result<Doc, PdfError> {
        let f = std::fs::File::open(path).map_err(|e| PdfError::io(path, e))?;
        let meta = f.metadata().map_err(|e| PdfError::io(path, e))?;
        if meta.is_dir() {
            return Err(PdfError::io(path, crate::error::is_a_folder()));
        }
        let len = meta.len();
        if len == 0 {
            return Err(PdfError::NotPdf);
        }
        // SAFETY: read-only map of a file that vanthu does not modify while mapped; the
        // documented contract is that no other process truncates it meanwhile.
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(|e| PdfError::io(path, e))?;
        Doc::parse_bytes(Bytes::Mapped(map), Some(f), password)
    }

    /// The whole file as an owned buffer (copies a mapped file).
    pub fn into_vec(self) -> Vec<u8> {
        match self.data {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m.to_vec(),
        }
    }

    /// Feeds the byte ranges `[start, end)` to `f` in order: from memory, or for a mapped file
    /// by reading it in chunks (the map's pages stay untouched, so the resident set does not
    /// grow with the file). `from_map` forces the map (the fallback after a read error).
    pub(crate) fn feed(
        &self,
        ranges: &[(usize, usize)],
        from_map: bool,
        f: &mut dyn FnMut(&[u8]),
    ) -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let len = self.data.len();
        let clamp = |&(a, b): &(usize, usize)| (a.min(len), b.min(len).max(a.min(len)));
        let Some(mut file) = self.file.as_ref().filter(|_| !from_map) else {
            for r in ranges {
                let (a, b) = clamp(r);
                f(&self.data[a..b]);
            }
            return Ok(());
        };
        let mut buf = vec![0u8; CHUNK.min(len)];
        for r in ranges {
            let (a, b) = clamp(r);
            file.seek(SeekFrom::Start(a as u64))?;
            let mut left = b - a;
            while left > 0 {
                let n = left.min(buf.len());
                file.read_exact(&mut buf[..n])?;
                f(&buf[..n]);
                left -= n;
            }
        }
        Ok(())
    }

    /// Digest of the byte ranges, in one streamed pass.
    pub fn digest_ranges(&self, alg: crate::keys::Hash, ranges: &[(usize, usize)]) -> Vec<u8> {
        use sha2::Digest;
        fn run<D: Digest>(doc: &Doc, ranges: &[(usize, usize)]) -> Vec<u8> {
            for from_map in [false, true] {
                let mut h = D::new();
                if doc.feed(ranges, from_map, &mut |c| h.update(c)).is_ok() {
                    return h.finalize().to_vec();
                }
            }
            unreachable!("feeding from memory cannot fail")
        }
        match alg {
            crate::keys::Hash::Sha1 => {
                for from_map in [false, true] {
                    let mut h = openssl::sha::Sha1::new();
                    if self.feed(ranges, from_map, &mut |c| h.update(c)).is_ok() {
                        return h.finish().to_vec();
                    }
                }
                unreachable!("feeding from memory cannot fail")
            }
            crate::keys::Hash::S256 => run::<sha2::Sha256>(self, ranges),
            crate::keys::Hash::S384 => run::<sha2::Sha384>(self, ranges),
            crate::keys::Hash::S512 => run::<sha2::Sha512>(self, ranges),
        }
    }

    /// Occurrences of `needle` anywhere in the file, in one streamed pass.
    pub fn count(&self, needle: &[u8]) -> usize {
        let finder = memchr::memmem::Finder::new(needle);
        if self.file.is_none() {
            return finder.find_iter(&self.data).count();
        }
        // Matches inside a chunk are counted in the chunk; a match across a boundary lies in
        // the last len-1 bytes before it (`carry`, too short to hold a whole match) plus the
        // first len-1 bytes after it, so it is counted once in that small window.
        let keep = needle.len().saturating_sub(1);
        for from_map in [false, true] {
            let mut carry: Vec<u8> = Vec::new();
            let mut window: Vec<u8> = Vec::new();
            let mut n = 0;
            let ok = self
                .feed(&[(0, self.data.len())], from_map, &mut |c| {
                    if !carry.is_empty() {
                        window.clear();
                        window.extend_from_slice(&carry);
                        window.extend_from_slice(&c[..c.len().min(keep)]);
                        n += finder.find_iter(&window).count();
                    }
                    n += finder.find_iter(c).count();
                    if c.len() >= keep {
                        carry.clear();
                        carry.extend_from_slice(&c[c.len() - keep..]);
                    } else {
                        carry.extend_from_slice(c);
                        let cut = carry.len().saturating_sub(keep);
                        carry.drain(..cut);
                    }
                })
                .is_ok();
            if ok {
                return n;
            }
        }
        unreachable!("feeding from memory cannot fail")
    }

    fn parse_bytes(
        data: Bytes,
        file: Option<std::fs::File>,
        password: &str,
    ) -> Result<Doc, PdfError> {
        if !data.starts_with(b"%PDF-") && find(&data[..data.len().min(1024)], b"%PDF-", 0).is_none()
        {
            return Err(PdfError::NotPdf);
        }
        let tail_start = data.len().saturating_sub(2048);
        let sx = rfind(&data[tail_start..], b"startxref")
            .map(|p| p + tail_start)
            .ok_or_else(|| PdfError::Damaged("startxref not found".into()))?;
        let mut lx = Lexer::new(&data, sx + 9);
        let mut off = lx
            .uint()
            .ok_or_else(|| PdfError::Damaged("startxref has no offset".into()))?
            as usize;
        let mut doc = Doc {
            data,
            sections: Vec::new(),
            file,
            crypt: None,
        };
        let mut seen = Vec::new();
        loop {
            if seen.contains(&off) || seen.len() > MAX_SECTIONS {
                return Err(PdfError::Damaged("cross-reference chain loops".into()));
            }
            seen.push(off);
            let sec = doc.read_section(off)?;
            let prev = sec.trailer.get("Prev").and_then(Obj::as_int);
            doc.sections.push(sec);
            match prev {
                Some(p) if p >= 0 => off = p as usize,
                _ => break,
            }
        }
        doc.sections.reverse();
        if let Some(enc) = doc.trailer().get("Encrypt").cloned() {
            // Read before the key exists: the /Encrypt dictionary is never encrypted.
            let dict_num = enc.as_ref().map(|r| r.0);
            let enc = doc.resolve(&enc)?;
            let id0 = match doc.trailer().get("ID") {
                Some(Obj::Arr(a)) => a.first().and_then(Obj::as_str).unwrap_or_default().to_vec(),
                _ => Vec::new(),
            };
            let enc = enc
                .as_dict()
                .ok_or_else(|| PdfError::Damaged("/Encrypt is not a dictionary".into()))?;
            doc.crypt = Some(
                crate::crypt::Crypt::open(enc, dict_num, &id0, password).map_err(|e| match e {
                    crate::crypt::CryptError::Password => PdfError::Protected,
                    crate::crypt::CryptError::Unsupported(what) => {
                        PdfError::Unsupported(format!("mã hóa PDF ({what}) (PDF encryption)"))
                    }
                })?,
            );
        }
        if doc.trailer().get("Root").and_then(Obj::as_ref).is_none() {
            return Err(PdfError::Damaged("trailer has no /Root".into()));
        }
        Ok(doc)
    }

    pub fn trailer(&self) -> &Dict {
        &self.sections.last().expect("at least one section").trailer
    }

    fn revision_end(&self, from: usize) -> usize {
        let Some(p) = find(&self.data, b"%%EOF", from) else {
            return 0;
        };
        p + 5
    }

    fn read_section(&self, off: usize) -> Result<Section, PdfError> {
        if off >= self.data.len() {
            return Err(PdfError::Damaged(format!(
                "cross-reference offset {off} past end of file"
            )));
        }
        let mut lx = Lexer::new(&self.data, off);
        if lx.peek_word() == b"xref" {
            lx.word();
            let mut entries = BTreeMap::new();
            let mut max_generation = 0;
            let mut loose_entries = false;
            loop {
                let save = lx.pos;
                let (Some(start), Some(count)) = (lx.uint(), lx.uint()) else {
                    lx.pos = save;
                    break;
                };
                lx.skip_ws();
                for i in 0..count {
                    lx.skip_ws();
                    let at = lx.pos;
                    let (Some(o), Some(g)) = (lx.uint(), lx.uint()) else {
                        return Err(PdfError::Damaged("bad cross-reference entry".into()));
                    };
                    let kind = lx.word();
                    let num = (start + i) as u32;
                    max_generation = max_generation.max(g);
                    // The fixed 20-byte form ("nnnnnnnnnn ggggg n"), which strict readers
                    // read by position.
                    let fixed = self.data.get(at..at + 18).is_some_and(|e| {
                        e[..10].iter().all(u8::is_ascii_digit)
                            && e[10] == b' '
                            && e[11..16].iter().all(u8::is_ascii_digit)
                            && e[16] == b' '
                            && matches!(e[17], b'n' | b'f')
                    });
                    loose_entries |= !fixed;
                    let e = match kind {
                        b"n" => Entry::Offset(o as usize, g as u16),
                        b"f" => Entry::Free(g.min(u64::from(u32::MAX)) as u32),
                        _ => return Err(PdfError::Damaged("bad cross-reference entry".into())),
                    };
                    // Within one table the first entry for a number counts.
                    entries.entry(num).or_insert(e);
                }
            }
            if lx.word() != b"trailer" {
                return Err(PdfError::Damaged(
                    "cross-reference table without trailer".into(),
                ));
            }
            let trailer = match lx.object()? {
                Obj::Dict(d) => d,
                _ => return Err(PdfError::Damaged("trailer is not a dictionary".into())),
            };
            // Hybrid file: the table's entries win, the stream fills in.
            if let Some(x) = trailer.get("XRefStm").and_then(Obj::as_int) {
                if let Ok(s) = self.read_xref_stream(x as usize) {
                    for (k, v) in s.entries {
                        entries.entry(k).or_insert(v);
                    }
                }
            }
            Ok(Section {
                offset: off,
                kind: XrefKind::Table,
                entries,
                trailer,
                end: self.revision_end(lx.pos),
                max_generation,
                loose_entries,
            })
        } else {
            self.read_xref_stream(off)
        }
    }

    fn read_xref_stream(&self, off: usize) -> Result<Section, PdfError> {
        let (_, obj, end) = self.parse_indirect_at(off, None)?;
        let Obj::Stream(dict, _) = &obj else {
            return Err(PdfError::Damaged(format!(
                "no cross-reference at offset {off}"
            )));
        };
        if !dict.name_is("Type", "XRef") {
            return Err(PdfError::Damaged(format!(
                "object at {off} is not a cross-reference stream"
            )));
        }
        let data = self.stream_data(&obj)?;
        let w: Vec<usize> = dict
            .get("W")
            .and_then(Obj::as_arr)
            .map(|a| {
                a.iter()
                    .map(|x| x.as_int().unwrap_or(0).clamp(0, 8) as usize)
                    .collect()
            })
            .unwrap_or_default();
        if w.len() != 3 {
            return Err(PdfError::Damaged("cross-reference stream /W".into()));
        }
        let size = dict.get("Size").and_then(Obj::as_int).unwrap_or(0);
        let index: Vec<i64> = match dict.get("Index").and_then(Obj::as_arr) {
            Some(a) => a.iter().filter_map(Obj::as_int).collect(),
            None => vec![0, size],
        };
        let rec = w[0] + w[1] + w[2];
        let mut entries = BTreeMap::new();
        let mut max_generation = 0;
        let mut p = 0;
        let field = |b: &[u8]| b.iter().fold(0u64, |a, &c| a << 8 | c as u64);
        for pair in index.chunks(2) {
            let (start, count) = (pair[0], *pair.get(1).unwrap_or(&0));
            for i in 0..count.max(0) {
                if rec == 0 || p + rec > data.len() {
                    break;
                }
                let r = &data[p..p + rec];
                p += rec;
                let t = if w[0] == 0 { 1 } else { field(&r[..w[0]]) };
                let f2 = field(&r[w[0]..w[0] + w[1]]);
                let f3 = field(&r[w[0] + w[1]..]);
                if t < 2 {
                    max_generation = max_generation.max(f3);
                }
                let e = match t {
                    0 => Entry::Free(f3.min(u64::from(u32::MAX)) as u32),
                    1 => Entry::Offset(f2 as usize, f3 as u16),
                    2 => Entry::InStream(f2 as u32, f3 as u32),
                    _ => continue,
                };
                entries.entry((start + i) as u32).or_insert(e);
            }
        }
        Ok(Section {
            offset: off,
            kind: XrefKind::Stream,
            entries,
            trailer: dict.clone(),
            end: self.revision_end(end),
            max_generation,
            loose_entries: false,
        })
    }

    /// Parses `n g obj … endobj` at `off`; returns the number, the object and the end offset.
    /// `view` resolves an indirect stream /Length (None = latest).
    pub fn parse_indirect_at(
        &self,
        off: usize,
        view: Option<usize>,
    ) -> Result<(u32, Obj, usize), PdfError> {
        let mut lx = Lexer::new(&self.data, off);
        let (Some(n), Some(_g)) = (lx.uint(), lx.uint()) else {
            return Err(PdfError::Damaged(format!("no object at offset {off}")));
        };
        if lx.word() != b"obj" {
            return Err(PdfError::Damaged(format!("no object at offset {off}")));
        }
        let o = lx.object()?;
        let after = lx.pos;
        if let Obj::Dict(d) = &o {
            if lx.peek_word() == b"stream" {
                lx.word();
                let mut s = lx.pos;
                if self.data.get(s) == Some(&b'\r') {
                    s += 1;
                }
                if self.data.get(s) == Some(&b'\n') {
                    s += 1;
                }
                let len = match d.get("Length") {
                    Some(Obj::Int(l)) => Some(*l),
                    Some(Obj::Ref(rn, _)) if *rn != n as u32 => self
                        .get_in(*rn, view.unwrap_or(self.sections.len() - 1))
                        .ok()
                        .and_then(|x| x.as_int()),
                    _ => None,
                };
                let e = match len {
                    Some(l)
                        if l >= 0
                            && s + (l as usize) <= self.data.len()
                            && find(&self.data[s + l as usize..], b"endstream", 0)
                                .is_some_and(|q| q < 4) =>
                    {
                        s + l as usize
                    }
                    _ => {
                        let q = find(&self.data, b"endstream", s)
                            .ok_or_else(|| PdfError::Damaged("stream without end".into()))?;
                        let mut e = q;
                        if e > s && self.data[e - 1] == b'\n' {
                            e -= 1;
                        }
                        if e > s && self.data[e - 1] == b'\r' {
                            e -= 1;
                        }
                        e
                    }
                };
                let data = self.data[s..e].to_vec();
                let mut lx2 = Lexer::new(&self.data, e);
                lx2.word();
                lx2.word();
                return Ok((n as u32, Obj::Stream(d.clone(), data), lx2.pos));
            }
        }
        let _ = after;
        let end = if lx.peek_word() == b"endobj" {
            lx.word();
            lx.pos
        } else {
            lx.pos
        };
        Ok((n as u32, o, end))
    }

    /// Where object `num` lives as of revision `view` (index into `sections`).
    pub fn entry_in(&self, num: u32, view: usize) -> Option<Entry> {
        self.sections[..=view.min(self.sections.len() - 1)]
            .iter()
            .rev()
            .find_map(|s| s.entries.get(&num).copied())
    }

    /// Object `num` as of the latest revision.
    pub fn get(&self, num: u32) -> Result<Obj, PdfError> {
        self.get_in(num, self.sections.len() - 1)
    }

    pub fn get_in(&self, num: u32, view: usize) -> Result<Obj, PdfError> {
        self.get_depth(num, view, 0)
    }

    fn get_depth(&self, num: u32, view: usize, depth: usize) -> Result<Obj, PdfError> {
        if depth > 4 {
            return Err(PdfError::Damaged("object streams nest too deeply".into()));
        }
        match self.entry_in(num, view) {
            None | Some(Entry::Free(_)) => Ok(Obj::Null),
            Some(Entry::Offset(off, gen)) => {
                let (n, o, _) = self.parse_indirect_at(off, Some(view))?;
                if n != num {
                    return Err(PdfError::Damaged(format!(
                        "cross-reference for object {num} points at object {n}"
                    )));
                }
                Ok(self.decrypted(num, gen, o))
            }
            Some(Entry::InStream(stm, idx)) => {
                let s = self.get_depth(stm, view, depth + 1)?;
                let Obj::Stream(d, _) = &s else {
                    return Err(PdfError::Damaged(format!("object stream {stm} missing")));
                };
                let data = self.stream_data(&s)?;
                let n = d.get("N").and_then(Obj::as_int).unwrap_or(0);
                let first = d.get("First").and_then(Obj::as_int).unwrap_or(0) as usize;
                let mut lx = Lexer::new(&data, 0);
                let mut found = None;
                for i in 0..n {
                    let (Some(on), Some(oo)) = (lx.uint(), lx.uint()) else {
                        break;
                    };
                    if i as u32 == idx || on as u32 == num {
                        found = Some((on as u32, oo as usize));
                        if on as u32 == num {
                            break;
                        }
                    }
                }
                let Some((on, oo)) = found.filter(|f| f.0 == num) else {
                    return Err(PdfError::Damaged(format!(
                        "object {num} not in object stream {stm}"
                    )));
                };
                let _ = on;
                Lexer::new(&data, first + oo).object()
            }
        }
    }

    /// Whether a cross-reference section is hybrid (a table whose trailer points at a
    /// cross-reference stream with `/XRefStm`, as Word writes its files).
    pub fn hybrid(&self) -> bool {
        self.sections
            .iter()
            .any(|s| s.trailer.get("XRefStm").is_some())
    }

    /// Whether the file is encrypted (read with its empty user password; never signed).
    pub fn encrypted(&self) -> bool {
        self.crypt.is_some()
    }

    /// Refuses an encrypted file for writing: vanthu reads such files (to validate their
    /// signatures) but does not sign or extend them.
    pub fn refuse_encrypted(&self) -> Result<(), PdfError> {
        match self.crypt {
            Some(_) => Err(PdfError::Encrypted),
            None => Ok(()),
        }
    }

    /// Object `num gen` as parsed from the file ([`Doc::parse_indirect_at`]), decrypted when
    /// the file is encrypted.
    pub fn decrypted(&self, num: u32, gen: u16, o: Obj) -> Obj {
        match &self.crypt {
            Some(c) => c.object(num, gen, o),
            None => o,
        }
    }

    /// Follows a reference (latest revision); other objects are returned as they are.
    pub fn resolve(&self, o: &Obj) -> Result<Obj, PdfError> {
        match o {
            Obj::Ref(n, _) => self.get(*n),
            _ => Ok(o.clone()),
        }
    }

    pub fn resolve_in(&self, o: &Obj, view: usize) -> Result<Obj, PdfError> {
        match o {
            Obj::Ref(n, _) => self.get_in(*n, view),
            _ => Ok(o.clone()),
        }
    }

    /// Decoded data of a stream (FlateDecode with PNG/TIFF predictors; no filter).
    pub fn stream_data(&self, o: &Obj) -> Result<Vec<u8>, PdfError> {
        decode_stream(o)
    }

    pub fn root_ref(&self) -> (u32, u16) {
        self.trailer()
            .get("Root")
            .and_then(Obj::as_ref)
            .expect("checked in parse")
    }

    /// The catalog dictionary (latest revision).
    pub fn catalog(&self) -> Result<Dict, PdfError> {
        self.get(self.root_ref().0)?
            .as_dict()
            .cloned()
            .ok_or_else(|| PdfError::Damaged("catalog is not a dictionary".into()))
    }

    /// References of the pages in order (latest revision).
    pub fn pages(&self) -> Result<Vec<(u32, u16)>, PdfError> {
        let cat = self.catalog()?;
        let root = cat
            .get("Pages")
            .and_then(Obj::as_ref)
            .ok_or_else(|| PdfError::Damaged("catalog has no /Pages".into()))?;
        let mut out = Vec::new();
        let mut stack = vec![(root, 0usize)];
        let mut visited = 0usize;
        while let Some((r, depth)) = stack.pop() {
            visited += 1;
            if depth > 64 || visited > 1_000_000 {
                return Err(PdfError::Damaged("page tree too deep or cyclic".into()));
            }
            let n = self.get(r.0)?;
            let Some(d) = n.as_dict() else { continue };
            if let Some(kids) = d.get("Kids").and_then(Obj::as_arr) {
                for k in kids.iter().rev() {
                    if let Some(kr) = k.as_ref() {
                        stack.push((kr, depth + 1));
                    }
                }
            } else {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// An inheritable page attribute (MediaBox, CropBox, Rotate, Resources).
    pub fn page_attr(&self, page: u32, key: &str) -> Result<Option<Obj>, PdfError> {
        let mut cur = self.get(page)?;
        for _ in 0..64 {
            let Some(d) = cur.as_dict() else { break };
            if let Some(v) = d.get(key) {
                return self.resolve(v).map(Some);
            }
            match d.get("Parent").and_then(Obj::as_ref) {
                Some(p) => cur = self.get(p.0)?,
                None => break,
            }
        }
        Ok(None)
    }

    /// Highest object number + 1 as of the latest revision.
    pub fn size(&self) -> u32 {
        let t = self
            .trailer()
            .get("Size")
            .and_then(Obj::as_int)
            .unwrap_or(0) as u32;
        let m = self
            .sections
            .iter()
            .filter_map(|s| s.entries.keys().next_back())
            .max()
            .map(|m| m + 1)
            .unwrap_or(0);
        t.max(m)
    }

    /// Whether a cross-reference section lists an object at or beyond its own trailer's
    /// `/Size` (pdfunite writes such files): readers accept them, strict ones (pyHanko) refuse
    /// the whole file.
    pub fn size_mismatch(&self) -> bool {
        self.sections.iter().any(|s| {
            let size = s
                .trailer
                .get("Size")
                .and_then(Obj::as_int)
                .unwrap_or(i64::MAX);
            s.entries
                .keys()
                .next_back()
                .is_some_and(|&m| i64::from(m) >= size)
        })
    }

    /// What a strict reader finds wrong with this file's cross-reference chain, readable as it
    /// is by vanthu and by lenient readers: pyHanko's default (strict) mode refuses to
    /// validate *any* signature in such a file, whoever made it. `sign_file` hides an unsigned
    /// file's chain behind one complete section of its own for these (the original bytes stay).
    /// Checked: `/Size` below the objects listed (pdfunite); a hybrid section (Word); a
    /// generation above 65535 (Pillow's `0 65536 f`); a table entry not in the fixed 20-byte
    /// form; `/Size` shrinking in a later section; an
    /// object freed with next generation 0 in a later section, or used again with a lower
    /// generation than its freeing announced, or moved into an object stream; a
    /// cross-reference stream's own object number reused by a later section.
    pub fn strict_objection(&self) -> Option<String> {
        if self.size_mismatch() {
            return Some(
                "/Size nhỏ hơn số đối tượng (/Size below the highest object number)".into(),
            );
        }
        if self.hybrid() {
            return Some(
                "tệp dùng bảng tham chiếu chéo lai /XRefStm, như Word ghi (a hybrid-reference \
                 file, as Word writes them)"
                    .into(),
            );
        }
        if let Some(g) = self
            .sections
            .iter()
            .map(|s| s.max_generation)
            .find(|&g| g > 0xFFFF)
        {
            return Some(format!(
                "số thế hệ {g} vượt 65535 trong bảng tham chiếu chéo (generation {g} above \
                 65535 in the cross-reference)"
            ));
        }
        if self.sections.iter().any(|s| s.loose_entries) {
            return Some(
                "bảng tham chiếu chéo có mục không đúng dạng 20 byte (a cross-reference entry \
                 not in the fixed 20-byte form)"
                    .into(),
            );
        }
        let size = |s: &Section| s.trailer.get("Size").and_then(Obj::as_int).unwrap_or(0);
        let mut largest = 0;
        for (i, s) in self.sections.iter().enumerate() {
            if size(s) < largest {
                return Some(format!(
                    "/Size giảm từ {largest} xuống {} ở bản cập nhật sau (/Size shrinks in a \
                     later update)",
                    size(s)
                ));
            }
            largest = largest.max(size(s));
            let later = &self.sections[i + 1..];
            for (&n, e) in &s.entries {
                let Entry::Free(next) = *e else { continue };
                if n == 0 {
                    continue;
                }
                if next == 0 && i > 0 {
                    return Some(format!(
                        "đối tượng {n} bị xoá với thế hệ kế tiếp 0 ở bản cập nhật sau (object \
                         {n} freed with next generation 0 in a later update)"
                    ));
                }
                let reused = later.iter().find_map(|l| match l.entries.get(&n) {
                    Some(Entry::InStream(..)) => Some(0),
                    Some(&Entry::Offset(_, g)) if next == 0 || u32::from(g) < next => {
                        Some(u32::from(g))
                    }
                    _ => None,
                });
                if let Some(g) = reused {
                    return Some(format!(
                        "đối tượng {n} được dùng lại với thế hệ {g} sau khi bị xoá (object {n} \
                         used again with generation {g} after it was freed)"
                    ));
                }
            }
            if s.kind == XrefKind::Stream {
                let n = Lexer::new(&self.data, s.offset).uint();
                if let Some(n) = n.and_then(|n| u32::try_from(n).ok()) {
                    if later.iter().any(|l| l.entries.contains_key(&n)) {
                        return Some(format!(
                            "số đối tượng {n} của luồng tham chiếu chéo được dùng lại (the \
                             cross-reference stream's object number {n} is used again)"
                        ));
                    }
                }
            }
        }
        None
    }
}

/// Decoded data of a stream object (FlateDecode with PNG/TIFF predictors; no filter).
pub fn decode_stream(o: &Obj) -> Result<Vec<u8>, PdfError> {
    let Obj::Stream(d, raw) = o else {
        return Err(PdfError::Damaged("not a stream".into()));
    };
    let filters: Vec<Vec<u8>> = match d.get("Filter") {
        None => vec![],
        Some(Obj::Name(n)) => vec![n.clone()],
        Some(Obj::Arr(a)) => a
            .iter()
            .filter_map(|x| x.as_name().map(<[u8]>::to_vec))
            .collect(),
        _ => return Err(PdfError::Damaged("bad /Filter".into())),
    };
    let parms: Vec<Option<Dict>> = match d.get("DecodeParms") {
        Some(Obj::Dict(p)) => vec![Some(p.clone())],
        Some(Obj::Arr(a)) => a.iter().map(|x| x.as_dict().cloned()).collect(),
        _ => vec![],
    };
    let mut data = raw.clone();
    for (i, f) in filters.iter().enumerate() {
        match f.as_slice() {
            // Decrypted as the object was read (`crate::crypt`).
            b"Crypt" => {}
            b"FlateDecode" | b"Fl" => {
                use std::io::Read;
                let mut out = Vec::new();
                let mut z = flate2::read::ZlibDecoder::new(&data[..]);
                if z.read_to_end(&mut out).is_err() && out.is_empty() {
                    return Err(PdfError::Damaged("corrupt Flate stream".into()));
                }
                data = out;
                if let Some(Some(p)) = parms.get(i) {
                    data = unpredict(data, p)?;
                }
            }
            other => {
                return Err(PdfError::Unsupported(format!(
                    "stream filter {}",
                    String::from_utf8_lossy(other)
                )))
            }
        }
    }
    Ok(data)
}

fn unpredict(data: Vec<u8>, p: &Dict) -> Result<Vec<u8>, PdfError> {
    let pred = p.get("Predictor").and_then(Obj::as_int).unwrap_or(1);
    if pred < 10 {
        return Ok(data);
    }
    let colors = p.get("Colors").and_then(Obj::as_int).unwrap_or(1).max(1) as usize;
    let bpc = p
        .get("BitsPerComponent")
        .and_then(Obj::as_int)
        .unwrap_or(8)
        .max(1) as usize;
    let cols = p.get("Columns").and_then(Obj::as_int).unwrap_or(1).max(1) as usize;
    let bpp = (colors * bpc).div_ceil(8);
    let row = (colors * bpc * cols).div_ceil(8);
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        if chunk.len() < row + 1 {
            break;
        }
        let ft = chunk[0];
        let mut cur = chunk[1..].to_vec();
        for i in 0..row {
            let a = if i >= bpp { cur[i - bpp] } else { 0 } as i16;
            let b = prev[i] as i16;
            let c = if i >= bpp { prev[i - bpp] } else { 0 } as i16;
            let add = match ft {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let pp = a + b - c;
                    let (pa, pb, pc) = ((pp - a).abs(), (pp - b).abs(), (pp - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                _ => return Err(PdfError::Damaged("bad PNG predictor".into())),
            };
            cur[i] = cur[i].wrapping_add(add as u8);
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(out)
}

#[cfg(test)]
mod count_tests {
    use super::*;

    /// The streamed count (file read in 1 MiB chunks) equals a plain search of the whole file,
    /// with matches ending at, straddling and following chunk boundaries.
    #[test]
    fn streamed_count_sees_matches_across_chunk_boundaries() {
        let needle = b"/ByteRange";
        let mut data = b"%PDF-1.4\n%".to_vec();
        data.resize(3 * CHUNK + 100, b' ');
        for p in [
            100,
            CHUNK - needle.len(),
            2 * CHUNK - 3,
            2 * CHUNK + 20,
            3 * CHUNK - 9,
        ] {
            data[p..p + needle.len()].copy_from_slice(needle);
        }
        data.push(b'\n');
        let o1 = data.len();
        data.extend_from_slice(b"1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n");
        let o2 = data.len();
        data.extend_from_slice(b"2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n");
        let xref = data.len();
        data.extend_from_slice(
            format!(
                "xref\n0 3\n0000000000 65535 f \n{o1:010} 00000 n \n{o2:010} 00000 n \n\
                 trailer\n<</Size 3/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n"
            )
            .as_bytes(),
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big.pdf");
        std::fs::write(&f, &data).unwrap();
        let doc = Doc::open(&f).unwrap();
        assert_eq!(doc.count(needle), 5);
        assert_eq!(
            doc.count(needle),
            memchr::memmem::find_iter(&data, needle).count()
        );
        assert_eq!(Doc::parse(data).unwrap().count(needle), 5);
    }
}
