//! Tolerant, streaming edXML reader.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};

use quick_xml::events::Event;
use quick_xml::Reader;
use sha2::{Digest, Sha256};

use crate::b64::Base64Decoder;
use crate::error::{diag, Diagnostic, EdxmlError, ErrorCode, Location, Severity};
use crate::model::*;
use crate::sink::{AttachmentDigest, AttachmentMeta, AttachmentSink};

/// Parser limits (§5). All are enforced while streaming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Whole package in bytes (default 300 MiB).
    pub max_package_bytes: u64,
    /// Total text outside `ContentTransferEncoded` (default 4 MiB).
    pub max_text_total: usize,
    /// Element nesting depth (default 16).
    pub max_depth: usize,
    /// Number of elements (default 100 000).
    pub max_elements: usize,
    /// One text value (default 64 KiB).
    pub max_text_value: usize,
    /// Number of `To` (default 5 000).
    pub max_to: usize,
    /// Number of attachments (default 500).
    pub max_attachments: usize,
    /// Decoded bytes per attachment, also after unzipping (default 250 MiB).
    pub max_attachment_bytes: u64,
    /// Maximum decompression ratio when unwrapping a ZIP (default 100).
    pub max_unzip_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_package_bytes: 300 << 20,
            max_text_total: 4 << 20,
            max_depth: 16,
            max_elements: 100_000,
            max_text_value: 64 << 10,
            max_to: 5_000,
            max_attachments: 500,
            max_attachment_bytes: 250 << 20,
            max_unzip_ratio: 100,
        }
    }
}

impl Limits {
    /// Limits with every size limit raised (for benchmarks and trusted local files).
    pub fn unlimited_sizes() -> Self {
        Limits {
            max_package_bytes: u64::MAX,
            max_attachment_bytes: u64::MAX,
            ..Limits::default()
        }
    }
}

/// Reader options.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Limits.
    pub limits: Limits,
}

// ---------------------------------------------------------------------------
// Source: a buffered reader that counts lines and can peek ahead.

const RING: usize = 8192;

struct Source<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    consumed: u64,
    newlines: u64,
    ring: VecDeque<u64>,
    /// The XML parser may not read past this offset (bounds one event's size).
    budget_end: u64,
}

const EVENT_LIMIT: &str = "vanthu-edxml: single XML event exceeds the limit";

impl<R: Read> Source<R> {
    fn new(inner: R) -> Self {
        Source {
            inner,
            buf: vec![0; 256 * 1024].into_boxed_slice(),
            pos: 0,
            end: 0,
            consumed: 0,
            newlines: 0,
            ring: VecDeque::with_capacity(RING),
            budget_end: u64::MAX,
        }
    }

    fn peek_at_least(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.pos < n {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            while self.end < n.min(self.buf.len()) {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }

    /// (line, column) of an absolute offset, as well as the ring allows.
    fn line_col(&self, off: u64) -> (u32, u32) {
        let after = self.ring.partition_point(|&p| p < off);
        let later = (self.ring.len() - after) as u64;
        let line = self.newlines.saturating_sub(later) + 1;
        let col = if after > 0 {
            off - self.ring[after - 1]
        } else if self.newlines == 0 || self.newlines as usize == self.ring.len() {
            off + 1
        } else {
            0
        };
        (line as u32, col as u32)
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let b = self.fill_buf()?;
            let n = b.len().min(out.len());
            out[..n].copy_from_slice(&b[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.end {
            self.pos = 0;
            self.end = 0;
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(k) => {
                        self.end = k;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let left = self.budget_end.saturating_sub(self.consumed);
        if left == 0 && self.pos < self.end {
            return Err(io::Error::other(EVENT_LIMIT));
        }
        let end = self.end.min(
            self.pos
                .saturating_add(usize::try_from(left).unwrap_or(usize::MAX)),
        );
        Ok(&self.buf[self.pos..end])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.end - self.pos);
        let base = self.consumed;
        for i in memchr::memchr_iter(b'\n', &self.buf[self.pos..self.pos + amt]) {
            self.newlines += 1;
            if self.ring.len() == RING {
                self.ring.pop_front();
            }
            self.ring.push_back(base + i as u64);
        }
        self.pos += amt;
        self.consumed += amt as u64;
    }
}

// ---------------------------------------------------------------------------
// A small DOM for everything except attachment data.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Edxml,
    Dsig,
    None,
    Other,
}

#[derive(Debug)]
struct Node {
    ns: Ns,
    local: String,
    text: String,
    children: Vec<usize>,
    line: u32,
    col: u32,
    offset: u64,
    href: Option<String>,
    cte: Option<usize>,
}

struct Open {
    node: usize,
    qname: String,
    line: u32,
    scope_len: usize,
}

struct RawAttachment {
    size: u64,
    sha256: Option<String>,
    head: Vec<u8>,
    error: Option<String>,
}

struct Cte<W> {
    meta: AttachmentMeta,
    writer: Option<W>,
    decoder: Option<Base64Decoder>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    error: Option<String>,
    over_limit: bool,
    sink_error: Option<io::Error>,
}

impl<W: Write> Cte<W> {
    fn feed(&mut self, text: &[u8], max: u64) {
        if self.error.is_some() || self.over_limit || self.sink_error.is_some() {
            return;
        }
        let Some(dec) = self.decoder.as_mut() else {
            return;
        };
        let (size, hasher, head, writer, over) = (
            &mut self.size,
            &mut self.hasher,
            &mut self.head,
            &mut self.writer,
            &mut self.over_limit,
        );
        let mut emit = |chunk: &[u8]| -> io::Result<()> {
            *size += chunk.len() as u64;
            if *size > max {
                *over = true;
                return Ok(());
            }
            hasher.update(chunk);
            if head.len() < 16 {
                let k = (16 - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..k]);
            }
            match writer.as_mut() {
                Some(w) => w.write_all(chunk),
                None => Ok(()),
            }
        };
        match dec.feed(text, &mut emit) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.sink_error = Some(e),
            Err(p) => self.error = Some(format!("{} at base64 char {}", p.reason, p.at)),
        }
    }
}

struct Parser<R: Read, S: AttachmentSink> {
    xml: Reader<Source<R>>,
    base: u64,
    sink: S,
    limits: Limits,
    dom: Vec<Node>,
    stack: Vec<Open>,
    scopes: Vec<(String, String)>,
    text_total: usize,
    elements: usize,
    diags: Vec<Diagnostic>,
    raw_attachments: Vec<RawAttachment>,
    cte: Option<Cte<S::Writer>>,
    root_done: bool,
}

fn is_ws_str(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Reads a message, streaming attachment bytes into `sink`.
///
/// Fatal problems return an [`EdxmlError`]; everything else is recorded in
/// [`Message::diagnostics`]. Memory use is bounded by the limits in `options`,
/// independently of attachment sizes.
pub fn read_message<R: BufRead, S: AttachmentSink>(
    input: R,
    sink: S,
    options: &ReadOptions,
) -> Result<Message, EdxmlError> {
    let mut src = Source::new(input);
    let mut diags = Vec::new();
    skip_prefix(&mut src, &mut diags)?;
    let base = src.consumed;
    let mut xml = Reader::from_reader(src);
    {
        let c = xml.config_mut();
        c.check_end_names = false;
        c.expand_empty_elements = false;
        c.trim_text(false);
        c.check_comments = true;
    }
    let mut p = Parser {
        xml,
        base,
        sink,
        limits: options.limits.clone(),
        dom: Vec::new(),
        stack: Vec::new(),
        scopes: Vec::new(),
        text_total: 0,
        elements: 0,
        diags,
        raw_attachments: Vec::new(),
        cte: None,
        root_done: false,
    };
    let res = p.run();
    if let Err(e) = res {
        if let Some(mut c) = p.cte.take() {
            if let Some(w) = c.writer.take() {
                p.sink.abort(&c.meta, w, &e.detail);
            }
        }
        return Err(e);
    }
    let Parser {
        dom,
        mut diags,
        raw_attachments,
        limits,
        ..
    } = p;
    let mut ex = Extract {
        dom: &dom,
        diags: &mut diags,
        limits: &limits,
    };
    let mut msg = ex.message(&raw_attachments)?;
    msg.diagnostics = diags;
    Ok(msg)
}

fn skip_prefix<R: Read>(
    src: &mut Source<R>,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), EdxmlError> {
    const MAX: usize = 1024;
    let io_err = |e: io::Error| EdxmlError::new(ErrorCode::Io, Location::default(), e.to_string());
    let head = src.peek_at_least(MAX + 8).map_err(io_err)?;
    let mut skip = 0;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        skip = 3;
    } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(EdxmlError::new(
            ErrorCode::Encoding,
            Location::default(),
            "UTF-16 byte order mark",
        ));
    }
    let rest = &head[skip..];
    let first = rest.iter().position(|b| !b" \t\r\n".contains(b));
    match first {
        None => {
            return Err(EdxmlError::new(
                ErrorCode::NotWellFormed,
                Location::default(),
                "empty document",
            ))
        }
        Some(i) if rest[i] == b'<' => {
            if i > 0 && rest[i..].starts_with(b"<?xml") {
                diags.push(diag(
                    "LEADING_BYTES_SKIPPED",
                    Severity::Warning,
                    Location::default(),
                    format!("{i} whitespace bytes"),
                ));
            }
            skip += i;
        }
        Some(_) => {
            let found = memchr::memmem::find(&rest[..rest.len().min(MAX + 5)], b"<?xml");
            match found {
                Some(i) => {
                    diags.push(diag(
                        "LEADING_BYTES_SKIPPED",
                        Severity::Warning,
                        Location::default(),
                        format!("{i} bytes before <?xml"),
                    ));
                    skip += i;
                }
                None => {
                    return Err(EdxmlError::new(
                        ErrorCode::NotWellFormed,
                        Location {
                            line: 1,
                            column: 1,
                            ..Default::default()
                        },
                        "no XML declaration or element within the first 1 KiB",
                    ))
                }
            }
        }
    }
    src.consume(skip);
    Ok(())
}

impl<R: Read, S: AttachmentSink> Parser<R, S> {
    fn path(&self) -> String {
        let mut s = String::new();
        for (i, o) in self.stack.iter().enumerate() {
            s.push('/');
            let n = &self.dom[o.node];
            s.push_str(&n.local);
            if i > 0 {
                let parent = &self.dom[self.stack[i - 1].node];
                let same: Vec<usize> = parent
                    .children
                    .iter()
                    .copied()
                    .filter(|&c| self.dom[c].local == n.local)
                    .collect();
                if same.len() > 1 {
                    let k = same.iter().position(|&c| c == o.node).unwrap_or(0) + 1;
                    s.push_str(&format!("[{k}]"));
                }
            }
        }
        s
    }

    fn loc_at(&self, off: u64) -> Location {
        let (line, column) = self.xml.get_ref().line_col(off);
        Location {
            line,
            column,
            offset: off,
            path: self.path(),
        }
    }

    fn err_at(&self, code: ErrorCode, off: u64, detail: impl Into<String>) -> EdxmlError {
        EdxmlError::new(code, self.loc_at(off), detail)
    }

    fn abs(&self) -> u64 {
        self.base + self.xml.buffer_position()
    }

    fn check_package(&self) -> Result<(), EdxmlError> {
        let pos = self.abs();
        if pos > self.limits.max_package_bytes {
            return Err(self.err_at(
                ErrorCode::Limit,
                pos,
                format!(
                    "package size: {} > {} bytes",
                    pos, self.limits.max_package_bytes
                ),
            ));
        }
        Ok(())
    }

    fn add_text(&mut self, s: &str, off: u64) -> Result<(), EdxmlError> {
        if self.cte.is_some() {
            let max = self.limits.max_attachment_bytes;
            if let Some(c) = self.cte.as_mut() {
                c.feed(s.as_bytes(), max);
            }
            return self.check_cte(off);
        }
        let Some(top) = self.stack.last() else {
            if is_ws_str(s) {
                return Ok(());
            }
            return Err(self.err_at(
                ErrorCode::NotWellFormed,
                off,
                "text outside the root element",
            ));
        };
        let node = top.node;
        self.text_total += s.len();
        if self.text_total > self.limits.max_text_total {
            return Err(self.err_at(
                ErrorCode::Limit,
                off,
                format!("total text > {} bytes", self.limits.max_text_total),
            ));
        }
        let t = &mut self.dom[node].text;
        if s.contains('\r') {
            t.push_str(&s.replace("\r\n", "\n").replace('\r', "\n"));
        } else {
            t.push_str(s);
        }
        if t.len() > self.limits.max_text_value {
            return Err(self.err_at(
                ErrorCode::Limit,
                off,
                format!("text value > {} bytes", self.limits.max_text_value),
            ));
        }
        Ok(())
    }

    fn check_cte(&mut self, off: u64) -> Result<(), EdxmlError> {
        if let Some(c) = self.cte.as_mut() {
            if let Some(e) = c.sink_error.take() {
                return Err(self.err_at(ErrorCode::Sink, off, e.to_string()));
            }
            if c.over_limit {
                let detail = format!(
                    "attachment size > {} bytes",
                    self.limits.max_attachment_bytes
                );
                return Err(self.err_at(ErrorCode::Limit, off, detail));
            }
        }
        Ok(())
    }

    fn raw_scan(&mut self) -> Result<(), EdxmlError> {
        let max = self.limits.max_attachment_bytes;
        self.xml.get_mut().budget_end = u64::MAX;
        loop {
            let mut st = self.xml.stream();
            let buf = match st.fill_buf() {
                Ok(b) => b,
                Err(e) => {
                    let off = self.abs();
                    return Err(self.err_at(ErrorCode::Io, off, e.to_string()));
                }
            };
            if buf.is_empty() {
                return Ok(());
            }
            let stop = memchr::memchr2(b'<', b'&', buf);
            let n = stop.unwrap_or(buf.len());
            if let Some(c) = self.cte.as_mut() {
                c.feed(&buf[..n], max);
            }
            st.consume(n);
            let off = self.abs();
            self.check_cte(off)?;
            self.check_package()?;
            if stop.is_some() {
                return Ok(());
            }
        }
    }

    fn resolve(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some("http://www.w3.org/XML/1998/namespace");
        }
        self.scopes
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }

    fn start(
        &mut self,
        e: &quick_xml::events::BytesStart<'_>,
        off: u64,
        empty: bool,
    ) -> Result<(), EdxmlError> {
        if self.root_done {
            return Err(self.err_at(
                ErrorCode::NotWellFormed,
                off,
                "content after the root element",
            ));
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(self.err_at(
                ErrorCode::Limit,
                off,
                format!("elements > {}", self.limits.max_elements),
            ));
        }
        if self.stack.len() + 1 > self.limits.max_depth {
            return Err(self.err_at(
                ErrorCode::Limit,
                off,
                format!("depth > {}", self.limits.max_depth),
            ));
        }
        let qname = e.name().0.to_string();
        let scope_len = self.scopes.len();
        let mut href = None;
        for a in e.attributes().with_checks(true) {
            let a = a.map_err(|er| {
                self.err_at(ErrorCode::NotWellFormed, off, format!("attribute: {er}"))
            })?;
            let key = a.key.0;
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|er| {
                    self.err_at(
                        ErrorCode::NotWellFormed,
                        off,
                        format!("attribute {key}: {er}"),
                    )
                })?;
            if key == "xmlns" {
                self.scopes.push((String::new(), value.into_owned()));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                self.scopes.push((p.to_string(), value.into_owned()));
            } else if key == "href" || key.ends_with(":href") {
                href = Some(value.trim().to_string());
            }
        }
        let (prefix, local) = match qname.split_once(':') {
            Some((p, l)) => (p.to_string(), l.to_string()),
            None => (String::new(), qname.clone()),
        };
        let prefix = prefix.as_str();
        let local = local.as_str();
        let ns = match self.resolve(prefix) {
            Some(NS) => Ns::Edxml,
            Some(NS_DSIG) => Ns::Dsig,
            Some("") | None if prefix.is_empty() => Ns::None,
            Some(_) => Ns::Other,
            None => {
                let d = format!("undeclared namespace prefix '{prefix}' on <{qname}>");
                return Err(self.err_at(ErrorCode::NotWellFormed, off, d));
            }
        };
        let (line, col) = self.xml.get_ref().line_col(off);
        let id = self.dom.len();
        self.dom.push(Node {
            ns,
            local: local.to_string(),
            text: String::new(),
            children: Vec::new(),
            line,
            col,
            offset: off,
            href,
            cte: None,
        });
        match self.stack.last() {
            Some(parent) => {
                let pid = parent.node;
                self.dom[pid].children.push(id);
            }
            None => {
                if local != "edXML" {
                    return Err(EdxmlError::new(
                        ErrorCode::NotEdxml,
                        Location {
                            line,
                            column: col,
                            offset: off,
                            path: format!("/{local}"),
                        },
                        format!("root element is <{qname}>, expected edXML"),
                    ));
                }
                if ns != Ns::Edxml {
                    return Err(EdxmlError::new(
                        ErrorCode::NotEdxml,
                        Location {
                            line,
                            column: col,
                            offset: off,
                            path: "/edXML".into(),
                        },
                        format!(
                            "root namespace is '{}', expected {NS}",
                            self.resolve(prefix).unwrap_or("")
                        ),
                    ));
                }
            }
        }
        self.stack.push(Open {
            node: id,
            qname,
            line,
            scope_len,
        });
        let is_cte = local == "ContentTransferEncoded"
            && matches!(ns, Ns::Edxml | Ns::None)
            && self.stack.len() >= 2
            && self.dom[self.stack[self.stack.len() - 2].node].local == "Attachment";
        if is_cte {
            self.begin_cte(id, off)?;
        }
        if empty {
            self.end_current(off)?;
        }
        Ok(())
    }

    fn begin_cte(&mut self, id: usize, off: u64) -> Result<(), EdxmlError> {
        if self.cte.is_some() {
            return Err(self.err_at(
                ErrorCode::NotWellFormed,
                off,
                "nested ContentTransferEncoded",
            ));
        }
        let index = self.raw_attachments.len();
        if index >= self.limits.max_attachments {
            return Err(self.err_at(
                ErrorCode::Limit,
                off,
                format!("attachments > {}", self.limits.max_attachments),
            ));
        }
        let parent = self.stack[self.stack.len() - 2].node;
        let field = |name: &str| -> Option<String> {
            self.dom[parent]
                .children
                .iter()
                .map(|&c| &self.dom[c])
                .find(|n| n.local == name)
                .map(|n| n.text.trim().to_string())
                .filter(|t| !t.is_empty())
        };
        let meta = AttachmentMeta {
            index,
            content_id: field("ContentId"),
            attachment_name: field("AttachmentName"),
            content_type: field("ContentType"),
        };
        let writer = self
            .sink
            .begin(&meta)
            .map_err(|e| self.err_at(ErrorCode::Sink, off, e.to_string()))?;
        self.dom[id].cte = Some(index);
        self.raw_attachments.push(RawAttachment {
            size: 0,
            sha256: None,
            head: Vec::new(),
            error: None,
        });
        self.cte = Some(Cte {
            meta,
            writer: Some(writer),
            decoder: Some(Base64Decoder::new()),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            error: None,
            over_limit: false,
            sink_error: None,
        });
        Ok(())
    }

    fn finish_cte(&mut self, off: u64) -> Result<(), EdxmlError> {
        let Some(mut c) = self.cte.take() else {
            return Ok(());
        };
        let index = c.meta.index;
        let writer = c.writer.take().expect("writer present");
        if c.error.is_none() {
            let dec = c.decoder.take().expect("decoder present");
            let mut w = writer;
            let max = self.limits.max_attachment_bytes;
            let (size, hasher, head, over) =
                (&mut c.size, &mut c.hasher, &mut c.head, &mut c.over_limit);
            let mut emit = |chunk: &[u8]| -> io::Result<()> {
                *size += chunk.len() as u64;
                if *size > max {
                    *over = true;
                    return Ok(());
                }
                hasher.update(chunk);
                if head.len() < 16 {
                    let k = (16 - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..k]);
                }
                w.write_all(chunk)
            };
            let r = dec.finish(&mut emit);
            let r = match r {
                Ok(Ok(())) => w.flush().map(|_| None),
                Ok(Err(e)) => Err(e),
                Err(p) => Ok(Some(format!("{} at base64 char {}", p.reason, p.at))),
            };
            match r {
                Err(e) => {
                    self.sink.abort(&c.meta, w, "sink error");
                    return Err(self.err_at(ErrorCode::Sink, off, e.to_string()));
                }
                Ok(_) if c.over_limit => {
                    self.sink.abort(&c.meta, w, "size limit");
                    let d = format!(
                        "attachment size > {} bytes",
                        self.limits.max_attachment_bytes
                    );
                    return Err(self.err_at(ErrorCode::Limit, off, d));
                }
                Ok(Some(err)) => {
                    self.sink.abort(&c.meta, w, &err);
                    c.error = Some(err);
                }
                Ok(None) => {
                    let sha = hex::encode(c.hasher.clone().finalize());
                    let digest = AttachmentDigest {
                        size: c.size,
                        sha256: sha.clone(),
                    };
                    self.sink
                        .finish(&c.meta, w, &digest)
                        .map_err(|e| self.err_at(ErrorCode::Sink, off, e.to_string()))?;
                    let ra = &mut self.raw_attachments[index];
                    ra.sha256 = Some(sha);
                }
            }
        } else {
            let err = c.error.clone().unwrap_or_default();
            self.sink.abort(&c.meta, writer, &err);
        }
        let ra = &mut self.raw_attachments[index];
        ra.size = c.size;
        ra.head = c.head;
        ra.error = c.error;
        Ok(())
    }

    fn end_current(&mut self, off: u64) -> Result<(), EdxmlError> {
        if self.cte.is_some() {
            let top = self.stack.last().map(|o| o.node);
            if top.is_some_and(|t| self.dom[t].cte.is_some()) {
                self.finish_cte(off)?;
            }
        }
        let o = self.stack.pop().expect("open element");
        self.scopes.truncate(o.scope_len);
        if self.stack.is_empty() {
            self.root_done = true;
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), EdxmlError> {
        let mut buf = Vec::with_capacity(4096);
        loop {
            if self.cte.is_some() {
                self.raw_scan()?;
            }
            buf.clear();
            let off = self.abs();
            let max_event = (self.limits.max_text_value as u64).max(64 * 1024) * 2 + 1024;
            let src = self.xml.get_mut();
            src.budget_end = src.consumed.saturating_add(max_event);
            let ev = match self.xml.read_event_into(&mut buf) {
                Ok(ev) => ev,
                Err(quick_xml::Error::Io(e)) if e.to_string() == EVENT_LIMIT => {
                    let d = format!("one XML event (text, tag or comment) > {max_event} bytes");
                    return Err(self.err_at(ErrorCode::Limit, off, d));
                }
                Err(e) => {
                    let pos = self.base + self.xml.error_position();
                    let code = match &e {
                        quick_xml::Error::Io(_) => ErrorCode::Io,
                        quick_xml::Error::Encoding(_) => ErrorCode::Encoding,
                        _ => ErrorCode::NotWellFormed,
                    };
                    return Err(self.err_at(code, pos, e.to_string()));
                }
            };
            match ev {
                Event::Decl(d) => {
                    if let Some(enc) = d.encoding() {
                        let enc = enc.map_err(|e| {
                            self.err_at(ErrorCode::NotWellFormed, off, e.to_string())
                        })?;
                        if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
                            let d = format!("declared encoding '{enc}', only UTF-8 is accepted");
                            return Err(self.err_at(ErrorCode::Encoding, off, d));
                        }
                    }
                }
                Event::DocType(_) => {
                    return Err(self.err_at(ErrorCode::DtdForbidden, off, "<!DOCTYPE> found"));
                }
                Event::Start(e) => self.start(&e, off, false)?,
                Event::Empty(e) => self.start(&e, off, true)?,
                Event::End(e) => {
                    let name = e.name().0.to_string();
                    let Some(top) = self.stack.last() else {
                        let d = format!("end tag {name} without a start tag");
                        return Err(self.err_at(ErrorCode::NotWellFormed, off, d));
                    };
                    if top.qname != name {
                        let d = format!(
                            "end tag {name} does not match {} opened on line {}",
                            top.qname, top.line
                        );
                        return Err(self.err_at(ErrorCode::NotWellFormed, off, d));
                    }
                    self.end_current(off)?;
                }
                Event::Text(t) => {
                    let s: &str = &t;
                    let s = s.to_string();
                    self.add_text(&s, off)?;
                }
                Event::CData(t) => {
                    let s: String = t.into_inner().into_owned();
                    self.add_text(&s, off)?;
                }
                Event::GeneralRef(r) => {
                    let ch = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match &*r.into_inner() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "apos" => '\'',
                            "quot" => '"',
                            other => {
                                let d = format!("undefined entity &{other}; (only the 5 predefined entities are allowed)");
                                return Err(self.err_at(ErrorCode::NotWellFormed, off, d));
                            }
                        },
                        Err(e) => {
                            return Err(self.err_at(ErrorCode::NotWellFormed, off, e.to_string()))
                        }
                    };
                    let mut b = [0u8; 4];
                    let s = ch.encode_utf8(&mut b).to_string();
                    self.add_text(&s, off)?;
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => {
                    if let Some(top) = self.stack.last() {
                        let d = format!(
                            "truncated: <{}> opened on line {} is not closed",
                            top.qname, top.line
                        );
                        return Err(self.err_at(ErrorCode::NotWellFormed, off, d));
                    }
                    if !self.root_done {
                        return Err(self.err_at(ErrorCode::NotWellFormed, off, "no root element"));
                    }
                    return Ok(());
                }
            }
            self.check_package()?;
        }
    }
}

// ---------------------------------------------------------------------------
// Extraction of the typed model from the DOM.

struct Extract<'a> {
    dom: &'a [Node],
    diags: &'a mut Vec<Diagnostic>,
    limits: &'a Limits,
}

/// Elements in the edXML namespace (or no namespace, for the unprefixed attachment part).
fn ours(n: &Node) -> bool {
    matches!(n.ns, Ns::Edxml | Ns::None)
}

impl Extract<'_> {
    fn loc(&self, id: usize, path: &str) -> Location {
        let n = &self.dom[id];
        Location {
            line: n.line,
            column: n.col,
            offset: n.offset,
            path: path.to_string(),
        }
    }

    fn kids<'b>(&'b self, id: usize, local: &'b str) -> impl Iterator<Item = usize> + 'b {
        self.dom[id]
            .children
            .iter()
            .copied()
            .filter(move |&c| ours(&self.dom[c]) && self.dom[c].local == local)
    }

    fn find(&self, id: usize, local: &str) -> Option<usize> {
        self.kids(id, local).next()
    }

    fn child_path(&self, parent: usize, ppath: &str, child: usize) -> String {
        let local = &self.dom[child].local;
        let same: Vec<usize> = self.dom[parent]
            .children
            .iter()
            .copied()
            .filter(|&c| &self.dom[c].local == local)
            .collect();
        if same.len() > 1 {
            let k = same.iter().position(|&c| c == child).unwrap_or(0) + 1;
            format!("{ppath}/{local}[{k}]")
        } else {
            format!("{ppath}/{local}")
        }
    }

    fn text(&self, id: usize) -> Option<String> {
        let t = self.dom[id].text.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    fn field(&self, id: usize, local: &str) -> Option<String> {
        self.find(id, local).and_then(|c| self.text(c))
    }

    fn required(&mut self, id: usize, path: &str, local: &str) -> String {
        match self.field(id, local) {
            Some(v) => v,
            None => {
                let l = self.loc(id, &format!("{path}/{local}"));
                self.diags.push(diag(
                    "FIELD_MISSING",
                    Severity::Error,
                    l,
                    format!("{local} is required"),
                ));
                String::new()
            }
        }
    }

    fn unknown(&mut self, id: usize, path: &str, allowed: &[&str]) {
        for &c in &self.dom[id].children {
            let n = &self.dom[c];
            if !(ours(n) && allowed.contains(&n.local.as_str())) {
                let l = self.loc(c, &self.child_path(id, path, c));
                self.diags.push(diag(
                    "UNKNOWN_ELEMENT",
                    Severity::Info,
                    l,
                    format!("<{}>", n.local),
                ));
            }
        }
    }

    fn field_diag(
        &mut self,
        id: usize,
        path: &str,
        local: &str,
        sev: Severity,
        code: &'static str,
        detail: String,
    ) {
        let target = self.find(id, local).unwrap_or(id);
        let l = self.loc(target, &format!("{path}/{local}"));
        self.diags.push(diag(code, sev, l, detail));
    }

    /// `From` of a message header (edoc or status): required; an absent one is reported
    /// and replaced by an empty organisation so the rest of the header is still read.
    fn required_from(&mut self, id: usize, path: &str) -> Organization {
        match self.find(id, "From") {
            Some(f) => self.organization(f, &format!("{path}/From")),
            None => {
                let l = self.loc(id, &format!("{path}/From"));
                self.diags.push(diag(
                    "FIELD_MISSING",
                    Severity::Error,
                    l,
                    "From is required",
                ));
                Organization::default()
            }
        }
    }

    fn check_date(&mut self, id: usize, path: &str, local: &str, value: &str) {
        let class = classify_date(value);
        self.report_date_class(id, path, local, value, class, "yyyy/MM/dd");
    }

    /// Reports a date or timestamp that is ISO (a warning) or unreadable (an error).
    fn report_date_class(
        &mut self,
        id: usize,
        path: &str,
        local: &str,
        value: &str,
        class: DateClass,
        expected: &str,
    ) {
        match class {
            DateClass::Ok => {}
            DateClass::Iso => self.field_diag(
                id,
                path,
                local,
                Severity::Warning,
                "FIELD_DATE_ISO",
                value.into(),
            ),
            DateClass::Bad => self.field_diag(
                id,
                path,
                local,
                Severity::Error,
                "FIELD_FORMAT",
                format!("'{value}' is not {expected}"),
            ),
        }
    }

    /// A DocumentId is opaque, but a `{organ},{date},{code}` id with an impossible date
    /// (`2014/02/30` occurs) is flagged.
    fn check_document_id(&mut self, id: usize, path: &str, value: &str) {
        let parts: Vec<&str> = value.split(',').collect();
        if parts.len() == 3
            && parts[1].len() == 10
            && parts[1].as_bytes()[4] == b'/'
            && classify_date(parts[1]) != DateClass::Ok
        {
            self.field_diag(
                id,
                path,
                "DocumentId",
                Severity::Warning,
                "FIELD_FORMAT",
                format!("impossible date '{}' in DocumentId", parts[1]),
            );
        }
    }

    fn check_timestamp(&mut self, id: usize, path: &str, local: &str, value: &str) {
        let class = classify_timestamp(value);
        self.report_date_class(id, path, local, value, class, "yyyy/MM/dd HH:mm:ss");
    }

    fn check_organ_id(&mut self, id: usize, path: &str, value: &str) {
        match classify_organ_id(value) {
            OrganIdClass::Canonical => {}
            OrganIdClass::Accepted => self.field_diag(
                id,
                path,
                "OrganId",
                Severity::Warning,
                "ORGAN_ID_NONCANONICAL",
                value.into(),
            ),
            OrganIdClass::Bad => self.field_diag(
                id,
                path,
                "OrganId",
                Severity::Error,
                "FIELD_FORMAT",
                format!("'{value}' is not an organ id"),
            ),
        }
    }

    fn check_code(
        &mut self,
        id: usize,
        path: &str,
        local: &str,
        value: &Option<String>,
        allowed: &[&str],
    ) {
        if let Some(v) = value {
            if !allowed.contains(&v.as_str()) {
                self.field_diag(
                    id,
                    path,
                    local,
                    Severity::Error,
                    "FIELD_FORMAT",
                    format!("'{v}' not in {}", allowed.join("|")),
                );
            }
        }
    }

    fn organization(&mut self, id: usize, path: &str) -> Organization {
        self.unknown(
            id,
            path,
            &[
                "OrganId",
                "OrganizationInCharge",
                "OrganName",
                "OrganAdd",
                "Email",
                "Telephone",
                "Fax",
                "Website",
            ],
        );
        let organ_id = self.required(id, path, "OrganId");
        if !organ_id.is_empty() {
            self.check_organ_id(id, path, &organ_id);
        }
        Organization {
            organ_id,
            organization_in_charge: self.field(id, "OrganizationInCharge"),
            organ_name: self.required(id, path, "OrganName"),
            organ_add: self.field(id, "OrganAdd"),
            email: self.field(id, "Email"),
            telephone: self.field(id, "Telephone"),
            fax: self.field(id, "Fax"),
            website: self.field(id, "Website"),
        }
    }

    fn staff_info(&mut self, id: usize, path: &str) -> StaffInfo {
        self.unknown(id, path, &["Department", "Staff", "Email", "Mobile"]);
        StaffInfo {
            department: self.field(id, "Department"),
            staff: self.field(id, "Staff"),
            email: self.field(id, "Email"),
            mobile: self.field(id, "Mobile"),
        }
    }

    fn response_for(&mut self, id: usize, path: &str) -> ResponseFor {
        self.unknown(
            id,
            path,
            &["OrganId", "Code", "DocumentId", "PromulgationDate"],
        );
        let r = ResponseFor {
            organ_id: self.field(id, "OrganId"),
            code: self.field(id, "Code"),
            document_id: self.field(id, "DocumentId"),
            promulgation_date: self.field(id, "PromulgationDate"),
        };
        if let Some(d) = r.promulgation_date.clone() {
            self.check_date(id, path, "PromulgationDate", &d);
        }
        r
    }

    fn edoc_header(&mut self, id: usize, path: &str) -> Result<EdocHeader, EdxmlError> {
        self.unknown(
            id,
            path,
            &[
                "From",
                "To",
                "DocumentId",
                "Code",
                "PromulgationInfo",
                "DocumentType",
                "Subject",
                "Content",
                "SignerInfo",
                "DueDate",
                "OtherInfo",
                "ResponseFor",
                "SteeringType",
                "ToPlaces",
            ],
        );
        let from = self.required_from(id, path);
        let tos: Vec<usize> = self.kids(id, "To").collect();
        if tos.len() > self.limits.max_to {
            return Err(EdxmlError::new(
                ErrorCode::Limit,
                self.loc(tos[self.limits.max_to], &format!("{path}/To")),
                format!("To count {} > {}", tos.len(), self.limits.max_to),
            ));
        }
        let mut to = Vec::new();
        for t in tos {
            let p = self.child_path(id, path, t);
            let o = self.organization(t, &p);
            if !o.organ_id.is_empty() && to.iter().any(|x: &Organization| x.organ_id == o.organ_id)
            {
                let l = self.loc(t, &p);
                self.diags.push(diag(
                    "DUPLICATE_TO",
                    Severity::Warning,
                    l,
                    o.organ_id.clone(),
                ));
            }
            to.push(o);
        }
        if to.is_empty() {
            let l = self.loc(id, &format!("{path}/To"));
            self.diags
                .push(diag("FIELD_MISSING", Severity::Error, l, "To is required"));
        }
        let code = match self.find(id, "Code") {
            Some(c) => {
                let p = format!("{path}/Code");
                self.unknown(c, &p, &["CodeNumber", "CodeNotation"]);
                Code {
                    code_number: self.required(c, &p, "CodeNumber"),
                    code_notation: self.required(c, &p, "CodeNotation"),
                }
            }
            None => {
                let l = self.loc(id, &format!("{path}/Code"));
                self.diags.push(diag(
                    "FIELD_MISSING",
                    Severity::Error,
                    l,
                    "Code is required",
                ));
                Code::default()
            }
        };
        let promulgation_info = match self.find(id, "PromulgationInfo") {
            Some(c) => {
                let p = format!("{path}/PromulgationInfo");
                self.unknown(c, &p, &["Place", "PromulgationDate"]);
                let date = self.required(c, &p, "PromulgationDate");
                if !date.is_empty() {
                    self.check_date(c, &p, "PromulgationDate", &date);
                }
                PromulgationInfo {
                    place: self.field(c, "Place"),
                    promulgation_date: date,
                }
            }
            None => {
                let l = self.loc(id, &format!("{path}/PromulgationInfo"));
                self.diags.push(diag(
                    "FIELD_MISSING",
                    Severity::Error,
                    l,
                    "PromulgationInfo is required",
                ));
                PromulgationInfo::default()
            }
        };
        let document_type = self.find(id, "DocumentType").map(|c| {
            let p = format!("{path}/DocumentType");
            self.unknown(c, &p, &["Type", "TypeDetail", "TypeName"]);
            let t = DocumentType {
                doc_type: self.field(c, "Type"),
                type_detail: self.field(c, "TypeDetail"),
                type_name: self.field(c, "TypeName"),
            };
            self.check_code(c, &p, "Type", &t.doc_type, &["1", "2"]);
            t
        });
        let subject = self.required(id, path, "Subject");
        let signer_info = self.find(id, "SignerInfo").map(|c| {
            let p = format!("{path}/SignerInfo");
            self.unknown(c, &p, &["Competence", "Position", "FullName"]);
            SignerInfo {
                competence: self.field(c, "Competence"),
                position: self.field(c, "Position"),
                full_name: self.field(c, "FullName"),
            }
        });
        let due_date = self.field(id, "DueDate");
        if let Some(d) = due_date.clone() {
            self.check_date(id, path, "DueDate", &d);
        }
        let other_info = self.find(id, "OtherInfo").map(|c| {
            let p = format!("{path}/OtherInfo");
            self.unknown(
                c,
                &p,
                &[
                    "Priority",
                    "SphereOfPromulgation",
                    "TyperNotation",
                    "PromulgationAmount",
                    "PageAmount",
                    "Direction",
                    "Appendixes",
                ],
            );
            let mut appendixes = Vec::new();
            if let Some(a) = self.find(c, "Appendixes") {
                self.unknown(a, &format!("{p}/Appendixes"), &["Appendix"]);
                appendixes = self
                    .kids(a, "Appendix")
                    .filter_map(|x| self.text(x))
                    .collect();
            }
            let o = OtherInfo {
                priority: self.field(c, "Priority"),
                sphere_of_promulgation: self.field(c, "SphereOfPromulgation"),
                typer_notation: self.field(c, "TyperNotation"),
                promulgation_amount: self.field(c, "PromulgationAmount"),
                page_amount: self.field(c, "PageAmount"),
                direction: self.field(c, "Direction"),
                appendixes,
            };
            self.check_code(c, &p, "Priority", &o.priority, &["0", "1", "2", "3", "4"]);
            if o.priority.as_deref() == Some("4") {
                self.field_diag(
                    c,
                    &p,
                    "Priority",
                    Severity::Info,
                    "PRIORITY_DEPRECATED",
                    "4".into(),
                );
            }
            for (name, v) in [
                ("PromulgationAmount", o.promulgation_amount.clone()),
                ("PageAmount", o.page_amount.clone()),
            ] {
                if let Some(v) = v {
                    if v.parse::<u64>().is_err() {
                        self.field_diag(
                            c,
                            &p,
                            name,
                            Severity::Error,
                            "FIELD_FORMAT",
                            format!("'{v}' is not a number"),
                        );
                    }
                }
            }
            o
        });
        let mut response_for = Vec::new();
        for r in self.kids(id, "ResponseFor").collect::<Vec<_>>() {
            let p = self.child_path(id, path, r);
            let rf = self.response_for(r, &p);
            if !rf.is_empty() {
                response_for.push(rf);
            }
        }
        let steering_type = self.field(id, "SteeringType");
        self.check_code(
            id,
            path,
            "SteeringType",
            &steering_type,
            &["0", "1", "2", "3"],
        );
        let to_places = match self.find(id, "ToPlaces") {
            Some(c) => {
                self.unknown(c, &format!("{path}/ToPlaces"), &["Place"]);
                self.kids(c, "Place").filter_map(|x| self.text(x)).collect()
            }
            None => Vec::new(),
        };
        let document_id = match self.field(id, "DocumentId") {
            Some(d) => {
                self.check_document_id(id, path, &d);
                d
            }
            None => {
                let derived = format!(
                    "{},{},{}/{}",
                    from.organ_id,
                    promulgation_info.promulgation_date,
                    code.code_number,
                    code.code_notation
                );
                let l = self.loc(id, &format!("{path}/DocumentId"));
                self.diags.push(diag(
                    "DOCUMENT_ID_DERIVED",
                    Severity::Warning,
                    l,
                    derived.clone(),
                ));
                derived
            }
        };
        Ok(EdocHeader {
            from,
            to,
            document_id,
            code,
            promulgation_info,
            document_type,
            subject,
            content: self.field(id, "Content"),
            signer_info,
            due_date,
            other_info,
            response_for,
            steering_type,
            to_places,
        })
    }

    fn status_header(&mut self, id: usize, path: &str) -> StatusHeader {
        self.unknown(
            id,
            path,
            &[
                "From",
                "ResponseFor",
                "StaffInfo",
                "StatusCode",
                "Description",
                "Timestamp",
            ],
        );
        let from = self.required_from(id, path);
        let response_for = match self.find(id, "ResponseFor") {
            Some(r) => self.response_for(r, &format!("{path}/ResponseFor")),
            None => ResponseFor::default(),
        };
        if response_for.is_empty() {
            let l = self.loc(id, &format!("{path}/ResponseFor"));
            self.diags.push(diag(
                "FIELD_MISSING",
                Severity::Error,
                l,
                "ResponseFor is required",
            ));
        }
        let staff_info = self
            .find(id, "StaffInfo")
            .map(|s| self.staff_info(s, &format!("{path}/StaffInfo")));
        let raw = self.required(id, path, "StatusCode");
        let status_code = StatusCode::parse(&raw);
        if matches!(status_code, StatusCode::Unknown(_)) && !raw.is_empty() {
            self.field_diag(
                id,
                path,
                "StatusCode",
                Severity::Warning,
                "FIELD_FORMAT",
                format!("unknown status code '{raw}'"),
            );
        }
        let timestamp = self.required(id, path, "Timestamp");
        if !timestamp.is_empty() {
            self.check_timestamp(id, path, "Timestamp", &timestamp);
        }
        StatusHeader {
            from,
            response_for,
            staff_info,
            status_code,
            description: self.field(id, "Description"),
            timestamp,
        }
    }

    fn trace(&mut self, id: usize, path: &str) -> TraceHeaderList {
        self.unknown(id, path, &["TraceHeader", "Bussiness"]);
        let mut trace_headers = Vec::new();
        for t in self.kids(id, "TraceHeader").collect::<Vec<_>>() {
            let p = self.child_path(id, path, t);
            self.unknown(t, &p, &["OrganId", "Timestamp"]);
            let organ_id = self.required(t, &p, "OrganId");
            if !organ_id.is_empty() {
                self.check_organ_id(t, &p, &organ_id);
            }
            let timestamp = self.required(t, &p, "Timestamp");
            if !timestamp.is_empty() {
                self.check_timestamp(t, &p, "Timestamp", &timestamp);
            }
            trace_headers.push(TraceHeader {
                organ_id,
                timestamp,
            });
        }
        let business = self.find(id, "Bussiness").map(|b| {
            let p = format!("{path}/Bussiness");
            self.unknown(
                b,
                &p,
                &[
                    "DocumentId",
                    "BussinessDocType",
                    "BussinessDocReason",
                    "Paper",
                    "BussinessDocumentInfo",
                    "ReplacementInfoList",
                    "StaffInfo",
                ],
            );
            let raw = self.required(b, &p, "BussinessDocType");
            let doc_type = BusinessDocType::parse(&raw);
            if matches!(doc_type, BusinessDocType::Unknown(_)) && !raw.is_empty() {
                self.field_diag(
                    b,
                    &p,
                    "BussinessDocType",
                    Severity::Error,
                    "FIELD_FORMAT",
                    format!("'{raw}' not in 0|1|2|3"),
                );
            }
            let document_info = self.find(b, "BussinessDocumentInfo").map(|d| {
                let dp = format!("{p}/BussinessDocumentInfo");
                self.unknown(
                    d,
                    &dp,
                    &["DocumentInfo", "DocumentReceiver", "ReceiverList"],
                );
                let mut receivers = Vec::new();
                if let Some(rl) = self.find(d, "ReceiverList") {
                    for r in self.kids(rl, "Receiver").collect::<Vec<_>>() {
                        let rp = self.child_path(rl, &format!("{dp}/ReceiverList"), r);
                        receivers.push(Receiver {
                            organ_id: self.required(r, &rp, "OrganId"),
                            receiver_type: self.required(r, &rp, "ReceiverType"),
                        });
                    }
                }
                BusinessDocumentInfo {
                    document_info: self.field(d, "DocumentInfo"),
                    document_receiver: self.field(d, "DocumentReceiver"),
                    receivers,
                }
            });
            let mut replacements = Vec::new();
            if let Some(rl) = self.find(b, "ReplacementInfoList") {
                let lp = format!("{p}/ReplacementInfoList");
                for r in self.kids(rl, "ReplacementInfo").collect::<Vec<_>>() {
                    let rp = self.child_path(rl, &lp, r);
                    let organ_ids = match self.find(r, "OrganIdList") {
                        Some(l) => self
                            .kids(l, "OrganId")
                            .filter_map(|x| self.text(x))
                            .collect(),
                        None => Vec::new(),
                    };
                    replacements.push(ReplacementInfo {
                        document_id: self.required(r, &rp, "DocumentId"),
                        organ_ids,
                    });
                }
            }
            let paper = self.field(b, "Paper");
            self.check_code(b, &p, "Paper", &paper, &["0", "1"]);
            let document_id = self.field(b, "DocumentId");
            if let Some(d) = &document_id {
                self.check_document_id(b, &p, d);
            }
            Business {
                document_id,
                doc_type,
                reason: self.field(b, "BussinessDocReason"),
                paper,
                document_info,
                replacements,
                staff_info: self
                    .find(b, "StaffInfo")
                    .map(|s| self.staff_info(s, &format!("{p}/StaffInfo"))),
            }
        });
        TraceHeaderList {
            trace_headers,
            business,
        }
    }

    fn message(&mut self, raw: &[RawAttachment]) -> Result<Message, EdxmlError> {
        let root = 0usize;
        let rp = "/edXML";
        self.unknown(root, rp, &["edXMLEnvelope", "AttachmentEncoded"]);
        let structure = |s: &Self, id: usize, path: &str, what: &str| {
            EdxmlError::new(
                ErrorCode::Structure,
                s.loc(id, path),
                format!("{what} is missing"),
            )
        };
        let env = self
            .find(root, "edXMLEnvelope")
            .filter(|&e| self.dom[e].ns == Ns::Edxml)
            .ok_or_else(|| structure(self, root, rp, "edXMLEnvelope"))?;
        let ep = "/edXML/edXMLEnvelope";
        self.unknown(env, ep, &["edXMLHeader", "edXMLBody"]);
        let hdr = self
            .find(env, "edXMLHeader")
            .ok_or_else(|| structure(self, env, ep, "edXMLHeader"))?;
        let hp = "/edXML/edXMLEnvelope/edXMLHeader";
        let mut signature = SignatureKind::Absent;
        for &c in &self.dom[hdr].children {
            let n = &self.dom[c];
            if n.local == "Signature" && n.ns == Ns::Dsig {
                signature = SignatureKind::XmlDsig;
            } else if (n.local == "Signature" || n.local == "DigitalSignature")
                && ours(n)
                && signature == SignatureKind::Absent
            {
                signature = SignatureKind::NotXmlDsig;
            }
        }
        // Signature children are opaque: only flag unknown direct children of the header.
        for &c in &self.dom[hdr].children.clone() {
            let n = &self.dom[c];
            let known = (ours(n)
                && [
                    "MessageHeader",
                    "TraceHeaderList",
                    "Signature",
                    "DigitalSignature",
                ]
                .contains(&n.local.as_str()))
                || (n.ns == Ns::Dsig && n.local == "Signature");
            if !known {
                let l = self.loc(c, &self.child_path(hdr, hp, c));
                self.diags.push(diag(
                    "UNKNOWN_ELEMENT",
                    Severity::Info,
                    l,
                    format!("<{}>", n.local),
                ));
            }
        }
        let mh = self
            .find(hdr, "MessageHeader")
            .ok_or_else(|| structure(self, hdr, hp, "MessageHeader"))?;
        let mp = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader";
        let header = if self.find(mh, "StatusCode").is_some() {
            Header::Status(Box::new(self.status_header(mh, mp)))
        } else if self.find(mh, "To").is_some() || self.find(mh, "Code").is_some() {
            Header::Edoc(Box::new(self.edoc_header(mh, mp)?))
        } else {
            return Err(EdxmlError::new(
                ErrorCode::UnknownKind,
                self.loc(mh, mp),
                "MessageHeader has neither StatusCode nor To/Code",
            ));
        };
        let trace = self
            .find(hdr, "TraceHeaderList")
            .map(|t| self.trace(t, &format!("{hp}/TraceHeaderList")));

        let mut manifest = Vec::new();
        if let Some(body) = self.find(env, "edXMLBody") {
            let bp = format!("{ep}/edXMLBody");
            self.unknown(body, &bp, &["edXMLManifest"]);
            if let Some(m) = self.find(body, "edXMLManifest") {
                let mp = format!("{bp}/edXMLManifest");
                self.unknown(m, &mp, &["Reference"]);
                for r in self.kids(m, "Reference").collect::<Vec<_>>() {
                    let p = self.child_path(m, &mp, r);
                    self.unknown(
                        r,
                        &p,
                        &["ContentId", "ContentType", "Description", "AttachmentName"],
                    );
                    let content_id = match self
                        .field(r, "ContentId")
                        .or_else(|| self.dom[r].href.clone().filter(|h| !h.is_empty()))
                    {
                        Some(c) => c,
                        None => self.required(r, &p, "ContentId"),
                    };
                    manifest.push(ManifestReference {
                        content_id,
                        content_type: self.field(r, "ContentType"),
                        description: self.field(r, "Description"),
                        attachment_name: self.field(r, "AttachmentName"),
                    });
                }
            }
        }

        let mut attachments = Vec::new();
        let mut att_nodes = Vec::new();
        for ae in self.kids(root, "AttachmentEncoded").collect::<Vec<_>>() {
            let ap = "/edXML/AttachmentEncoded";
            self.unknown(ae, ap, &["Attachment"]);
            for a in self.kids(ae, "Attachment").collect::<Vec<_>>() {
                let p = self.child_path(ae, ap, a);
                self.unknown(
                    a,
                    &p,
                    &[
                        "ContentId",
                        "AttachmentName",
                        "Description",
                        "ContentType",
                        "ContentTransferEncoded",
                    ],
                );
                let cte = self.find(a, "ContentTransferEncoded");
                let r = cte.and_then(|c| self.dom[c].cte).and_then(|i| raw.get(i));
                let mut att = Attachment {
                    index: cte.and_then(|c| self.dom[c].cte).unwrap_or(usize::MAX),
                    content_id: self.required(a, &p, "ContentId"),
                    attachment_name: self.field(a, "AttachmentName"),
                    description: self.field(a, "Description"),
                    content_type: self.field(a, "ContentType"),
                    ..Default::default()
                };
                match r {
                    Some(r) => {
                        att.size = r.size;
                        att.sha256 = r.sha256.clone();
                        att.sniffed_type = sniff(&r.head).map(str::to_string);
                        att.error = r.error.clone();
                        if let Some(e) = &r.error {
                            let l =
                                self.loc(cte.unwrap_or(a), &format!("{p}/ContentTransferEncoded"));
                            self.diags.push(diag(
                                "ATTACHMENT_BAD_BASE64",
                                Severity::Error,
                                l,
                                e.clone(),
                            ));
                        }
                    }
                    None => {
                        self.required(a, &p, "ContentTransferEncoded");
                        att.error = Some("no ContentTransferEncoded".into());
                    }
                }
                att_nodes.push((a, p));
                attachments.push(att);
            }
        }
        // Link manifest and attachments.
        let mut linked = vec![false; attachments.len()];
        for (ri, r) in manifest.iter().enumerate() {
            let key = norm_cid(&r.content_id);
            match attachments
                .iter()
                .position(|a| norm_cid(&a.content_id) == key)
            {
                Some(i) => {
                    linked[i] = true;
                    let a = &mut attachments[i];
                    a.manifest_content_type = r.content_type.clone();
                    if let (Some(m), Some(t)) = (&r.content_type, &a.content_type) {
                        if !m.eq_ignore_ascii_case(t) {
                            let (node, p) = &att_nodes[i];
                            let l = self.loc(*node, &format!("{p}/ContentType"));
                            self.diags.push(diag(
                                "CONTENT_TYPE_MISMATCH",
                                Severity::Warning,
                                l,
                                format!("manifest {m}, attachment {t}"),
                            ));
                        }
                    }
                    if a.attachment_name.is_none() {
                        a.attachment_name = r.attachment_name.clone();
                    }
                }
                None => {
                    let l = Location::path(format!(
                        "/edXML/edXMLEnvelope/edXMLBody/edXMLManifest/Reference[{}]",
                        ri + 1
                    ));
                    self.diags.push(diag(
                        "ATTACHMENT_MISSING",
                        Severity::Error,
                        l,
                        r.content_id.clone(),
                    ));
                }
            }
        }
        for (i, done) in linked.iter().enumerate() {
            if !done {
                let (node, p) = &att_nodes[i];
                let l = self.loc(*node, p);
                let cid = attachments[i].content_id.clone();
                self.diags
                    .push(diag("ATTACHMENT_ORPHAN", Severity::Warning, l, cid));
            }
        }
        Ok(Message {
            header,
            trace,
            signature,
            manifest,
            attachments,
            diagnostics: Vec::new(),
        })
    }
}

/// Normalizes a content id: trim, strip a leading `cid:`.
pub fn norm_cid(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix("cid:").unwrap_or(t).trim()
}

/// Sniffs a content type from the first bytes.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Some("application/x-ole-storage")
    } else if head.starts_with(b"PK\x03\x04") {
        Some("application/zip")
    } else if head.starts_with(b"<?xml") || head.starts_with(b"\xEF\xBB\xBF<?xml") {
        Some("application/xml")
    } else {
        None
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DateClass {
    Ok,
    Iso,
    Bad,
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn valid_ymd(y: u32, m: u32, d: u32) -> bool {
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=dim).contains(&d) && y >= 1
}

fn ymd(b: &[u8], sep: u8) -> bool {
    b.len() == 10
        && b[4] == sep
        && b[7] == sep
        && match (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10])) {
            (Some(y), Some(m), Some(d)) => valid_ymd(y, m, d),
            _ => false,
        }
}

fn hms(b: &[u8]) -> bool {
    b.len() == 8
        && b[2] == b':'
        && b[5] == b':'
        && matches!((digits(&b[0..2]), digits(&b[3..5]), digits(&b[6..8])), (Some(h), Some(m), Some(s)) if h < 24 && m < 60 && s < 61)
}

/// `yyyy/MM/dd` with a real calendar date.
pub(crate) fn classify_date(v: &str) -> DateClass {
    let b = v.as_bytes();
    if ymd(b, b'/') {
        DateClass::Ok
    } else if b.len() >= 10 && ymd(&b[..10], b'-') {
        DateClass::Iso
    } else {
        DateClass::Bad
    }
}

/// `yyyy/MM/dd HH:mm:ss`.
pub(crate) fn classify_timestamp(v: &str) -> DateClass {
    let b = v.as_bytes();
    if b.len() == 19 && ymd(&b[..10], b'/') && b[10] == b' ' && hms(&b[11..]) {
        DateClass::Ok
    } else if b.len() >= 19
        && ymd(&b[..10], b'-')
        && (b[10] == b'T' || b[10] == b' ')
        && hms(&b[11..19])
    {
        DateClass::Iso
    } else {
        DateClass::Bad
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OrganIdClass {
    Canonical,
    Accepted,
    Bad,
}

/// Classifies an organ id (§1.6).
pub(crate) fn classify_organ_id(v: &str) -> OrganIdClass {
    let parts: Vec<&str> = v.split('.').collect();
    let canonical = parts.len() == 4
        && parts[0].len() == 3
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts[..3]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && {
            let l = parts[3].as_bytes();
            l.len() == 3
                && l[0].is_ascii_uppercase()
                && l[1].is_ascii_digit()
                && l[2].is_ascii_digit()
        };
    if canonical {
        OrganIdClass::Canonical
    } else if (2..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        OrganIdClass::Accepted
    } else {
        OrganIdClass::Bad
    }
}

/// True for a canonical organ id `^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$`.
pub fn is_canonical_organ_id(v: &str) -> bool {
    classify_organ_id(v) == OrganIdClass::Canonical
}

/// True for a valid `yyyy/MM/dd` date.
pub fn is_valid_date(v: &str) -> bool {
    classify_date(v) == DateClass::Ok
}

/// True for a valid `yyyy/MM/dd HH:mm:ss` timestamp.
pub fn is_valid_timestamp(v: &str) -> bool {
    classify_timestamp(v) == DateClass::Ok
}
