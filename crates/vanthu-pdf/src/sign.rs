//! Signing by incremental update: a new revision with the signature field, widget and signature
//! dictionary is appended after the last `%%EOF`; earlier bytes are never touched.

use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::{OffsetDateTime, UtcOffset};

use crate::doc::{Doc, XrefKind};
use crate::object::{write_dict, write_obj, Dict, Obj};
use crate::{cms_build, keys::Signer, PdfError};

/// Where and how a visible signature is drawn.
#[derive(Debug, Clone)]
pub struct Visible {
    /// 1-based page number.
    pub page: usize,
    /// x, y, width, height in PDF points from the page's lower-left corner.
    pub rect: [f64; 4],
    /// Transparent PNG drawn in the box (leader's handwritten signature, seal).
    pub image_png: Option<Vec<u8>>,
    /// Text lines drawn in the box; empty = the signer's name and the signing time (ISO 8601,
    /// +07:00, equal to `/M`). Vietnamese is drawn with an embedded font subset.
    pub text: Vec<String>,
    /// TrueType font file; None = Times New Roman, Liberation Serif or DejaVu Serif.
    pub font: Option<std::path::PathBuf>,
}

/// The organisation's seal on the main document (Decree 30/2020, Appendix I): the red seal PNG
/// at its real size, its right edge ⅓ into the leader's signature image, vertically centred on
/// it, drawn on top (its widget is appended last to the page's `/Annots`); no text.
#[derive(Debug, Clone)]
pub struct Seal {
    /// Transparent PNG of the seal (square: the diameter is its width and height).
    pub png: Vec<u8>,
    /// Real diameter in millimetres (e.g. 36).
    pub diameter_mm: f64,
    /// The leader's signature field; None = the last signed, visible signature field.
    pub next_to: Option<String>,
}

impl Visible {
    /// The seal's rectangle `[x, y, w, h]` next to the leader's image rectangle `leader`
    /// (`[x, y, w, h]`, same space): `seal_mm` × 72/25.4 ÷ `user_unit` points square, its right
    /// edge at `leader.x + leader.w / 3`, its vertical centre equal to the leader's.
    pub fn seal_next_to(leader: [f64; 4], seal_mm: f64, user_unit: f64) -> [f64; 4] {
        let d = seal_mm * 72.0 / 25.4 / user_unit;
        let right = leader[0] + leader[2] / 3.0;
        let cy = leader[1] + leader[3] / 2.0;
        [right - d, cy - d / 2.0, d, d]
    }
}

/// Copy stamp on an e-copy (Decree 30, Appendix I): `<kind>; <agency>; <time>`.
#[derive(Debug, Clone)]
pub struct CopyStamp {
    /// `SAO Y`, `SAO LỤC` or `TRÍCH SAO`.
    pub kind: String,
    /// The copying agency; None = the signer certificate's CN.
    pub agency: Option<String>,
}

/// The page as displayed: its CropBox (else MediaBox), `/Rotate` (0, 90, 180, 270) and
/// `/UserUnit`. Visible rectangles are given in displayed coordinates: points from the lower-left
/// corner of the CropBox as the page is shown (after rotation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageGeom {
    pub crop: [f64; 4],
    pub rotate: i64,
    pub user_unit: f64,
}

impl PageGeom {
    pub fn of(doc: &Doc, page: u32) -> Result<PageGeom, PdfError> {
        let bx = |k: &str| -> Result<Option<Vec<f64>>, PdfError> {
            Ok(doc
                .page_attr(page, k)?
                .and_then(|b| {
                    b.as_arr()
                        .map(|a| a.iter().filter_map(Obj::as_num).collect::<Vec<_>>())
                })
                .filter(|a| a.len() == 4))
        };
        let b = bx("CropBox")?
            .or(bx("MediaBox")?)
            .unwrap_or(vec![0.0, 0.0, 595.0, 842.0]);
        let crop = [
            b[0].min(b[2]),
            b[1].min(b[3]),
            b[0].max(b[2]),
            b[1].max(b[3]),
        ];
        let rotate = doc
            .page_attr(page, "Rotate")?
            .and_then(|r| r.as_int())
            .unwrap_or(0)
            .rem_euclid(360);
        let rotate = if rotate % 90 == 0 { rotate } else { 0 };
        let user_unit = doc
            .get(page)?
            .as_dict()
            .and_then(|d| d.get("UserUnit"))
            .and_then(Obj::as_num)
            .filter(|u| *u > 0.0)
            .unwrap_or(1.0);
        Ok(PageGeom {
            crop,
            rotate,
            user_unit,
        })
    }

    /// Displayed width and height.
    pub fn size(&self) -> (f64, f64) {
        let (w, h) = (self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]);
        if self.rotate % 180 == 0 {
            (w, h)
        } else {
            (h, w)
        }
    }

    /// A displayed point to default user space.
    fn pt_to_user(&self, x: f64, y: f64) -> (f64, f64) {
        let [x0, y0, x1, y1] = self.crop;
        match self.rotate {
            90 => (x1 - y, y0 + x),
            180 => (x1 - x, y1 - y),
            270 => (x0 + y, y1 - x),
            _ => (x0 + x, y0 + y),
        }
    }

    /// A user-space point to displayed coordinates.
    fn pt_to_disp(&self, u: f64, v: f64) -> (f64, f64) {
        let [x0, y0, x1, y1] = self.crop;
        match self.rotate {
            90 => (v - y0, x1 - u),
            180 => (x1 - u, y1 - v),
            270 => (y1 - v, u - x0),
            _ => (u - x0, v - y0),
        }
    }

    /// A displayed `[x, y, w, h]` to a user-space `[x0, y0, x1, y1]`.
    pub fn rect_to_user(&self, r: [f64; 4]) -> [f64; 4] {
        let a = self.pt_to_user(r[0], r[1]);
        let b = self.pt_to_user(r[0] + r[2], r[1] + r[3]);
        [a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1)]
    }

    /// A user-space `[x0, y0, x1, y1]` to a displayed `[x, y, w, h]`.
    pub fn rect_to_disp(&self, r: [f64; 4]) -> [f64; 4] {
        let a = self.pt_to_disp(r[0], r[1]);
        let b = self.pt_to_disp(r[2], r[3]);
        let (x, y) = (a.0.min(b.0), a.1.min(b.1));
        [x, y, a.0.max(b.0) - x, a.1.max(b.1) - y]
    }
}

/// The UTC offset as `+07:00`.
fn offset_text(t: OffsetDateTime) -> String {
    let (h, m, _) = t.offset().as_hms();
    let sign = if t.offset().is_negative() { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

/// `2026-03-05T14:22:10+07:00`.
pub fn iso_time(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        offset_text(t)
    )
}

/// What a visible signature shows when no text is given: the signer's name and the signing
/// time (ISO 8601, equal to `/M`).
fn default_lines(signer: &dyn Signer, now: OffsetDateTime) -> Vec<String> {
    let cn = crate::verify::cn(&signer.chain()[0].tbs_certificate.subject);
    vec![cn, iso_time(now)]
}

/// The stamp time, Decree 30 default form: `05/03/2026; 14:22:10 +07:00`.
pub fn vn_time(t: OffsetDateTime) -> String {
    format!(
        "{:02}/{:02}/{:04}; {:02}:{:02}:{:02} {}",
        t.day(),
        t.month() as u8,
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
        offset_text(t)
    )
}

/// PAdES baseline level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    #[default]
    BB,
    BT,
    BLT,
    BLTA,
}

impl Level {
    /// As PAdES writes it: `B-B`, `B-T`, `B-LT`, `B-LTA`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLT => "B-LT",
            Level::BLTA => "B-LTA",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = PdfError;
    fn from_str(s: &str) -> Result<Level, PdfError> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "B-B" => Level::BB,
            "B-T" => Level::BT,
            "B-LT" => Level::BLT,
            "B-LTA" => Level::BLTA,
            _ => {
                return Err(PdfError::Request(format!(
                    "mức {s:?}: cần B-B, B-T, B-LT hoặc B-LTA (unknown PAdES level)"
                )))
            }
        })
    }
}

/// A FieldMDP lock: `All` fields, the listed ones (`Include`), or all but the listed ones
/// (`Exclude`), by fully qualified field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldMdp {
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl FieldMdp {
    /// `/Action … /Fields […]` (plus `/Type`).
    fn dict(&self, ty: &str) -> Dict {
        let (action, fields) = match self {
            FieldMdp::All => ("All", None),
            FieldMdp::Include(f) => ("Include", Some(f)),
            FieldMdp::Exclude(f) => ("Exclude", Some(f)),
        };
        let mut d = Dict::new()
            .with("Type", Obj::name(ty))
            .with("Action", Obj::name(action));
        if let Some(f) = fields {
            d.set("Fields", Obj::Arr(f.iter().map(|n| Obj::text(n)).collect()));
        }
        d
    }
}

#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// B-B, B-T (needs `tsa_url`), B-LT (adds a DSS revision), B-LTA (then a document
    /// timestamp). Used by [`sign_pades`] and [`sign_file`].
    pub level: Level,
    /// Field to fill (an empty signature field of that name) or create.
    pub field_name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// `/M`; defaults to now in Vietnam time (+07:00).
    pub signing_time: Option<OffsetDateTime>,
    /// Certify with DocMDP (first signature only): P=2 (form filling and signing), or P=3
    /// with `docmdp: 3` (annotations too).
    pub certify: bool,
    /// DocMDP level when certifying: 0 (= 2), 2 or 3. P=1 is refused (spec §1.6).
    pub docmdp: u8,
    /// FieldMDP: the fields this signature locks, written as the field's `/Lock` and as a
    /// FieldMDP entry of the signature's `/Reference` (spec §1.6: leaders exclude the number,
    /// date and organisation fields).
    pub field_lock: Option<FieldMdp>,
    pub visible: Option<Visible>,
    /// Organisation signature on a separate attachment (Decree 30, Appendix I): no image, text
    /// only, top right of page 1 (17 mm from the CropBox's right edge, 14 mm from its top, 80 mm
    /// wide). Overrides `visible`'s position; its text lines (if any) are kept.
    pub org_stamp: bool,
    /// With `org_stamp`: the document's number and symbol; the stamp reads
    /// `Số: <number>; <time>` (time as [`vn_time`], equal to `/M`).
    pub stamp_number: Option<String>,
    /// With `org_stamp`: an e-copy stamp `<SAO Y|SAO LỤC|TRÍCH SAO>; <agency>; <time>`.
    pub stamp_copy: Option<CopyStamp>,
    /// The stamp's time in the ISO 8601 extended form `2026-03-05T14:22:10+07:00`
    /// ([`iso_time`]) instead of Decree 30's default `05/03/2026; 14:22:10 +07:00`
    /// ([`vn_time`]). Both show the instant of `/M`.
    pub stamp_time_iso: bool,
    /// The organisation's seal next to the leader's signature (main document). Overrides
    /// `visible`.
    pub seal: Option<Seal>,
    /// Bytes reserved for the DER CMS; 0 = estimate.
    pub contents_size: usize,
    /// RFC 3161 timestamp authority (http://) for B-T and above.
    pub tsa_url: Option<String>,
    /// [`sign_file`] only: keep the prepared revision byte-exact in this JSON file (key
    /// `"revision"`, other keys kept) and, when the file already holds one for the same input,
    /// reuse it instead of preparing a new one (a rebuild changes `/M` and the digest), so a
    /// remote approval requested before a restart still matches. The caller removes the file.
    pub resume_file: Option<PathBuf>,
    /// [`sign_file`] only: an unsigned input whose cross-reference is damaged is repaired
    /// ([`crate::repair`]) and signed, instead of refused as damaged. Asked for, never by
    /// default: a damaged file is first of all bad input.
    pub repair: bool,
}

pub(crate) fn vn_offset() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).expect("valid offset")
}

/// `D:YYYYMMDDHHmmSS+07'00'`.
pub fn pdf_date(t: OffsetDateTime) -> String {
    let (h, m, _) = t.offset().as_hms();
    let sign = if t.offset().is_negative() { '-' } else { '+' };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{}{:02}'{:02}'",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        sign,
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

/// A signature-like dictionary whose `/ByteRange` and `/Contents` are written as placeholders.
pub(crate) struct Placeholder {
    pub num: u32,
    /// Entries other than /ByteRange and /Contents.
    pub dict: Dict,
    /// Bytes reserved for the DER.
    pub size: usize,
}

/// A revision being appended.
pub(crate) struct Update<'a> {
    pub doc: &'a Doc,
    pub next: u32,
    pub objs: Vec<(u32, Obj)>,
}

/// The appended bytes and, when a placeholder was written, the positions (relative to the
/// start of the appended bytes) of the ByteRange array and of the Contents hex string.
pub(crate) struct Written {
    pub buf: Vec<u8>,
    pub br: Option<(usize, usize)>,
    pub contents: Option<(usize, usize)>,
}

impl Written {
    /// The ByteRange of this update's signature once appended to `base` bytes: everything but
    /// the Contents hex string.
    fn byte_range(&self, base: usize) -> [usize; 4] {
        let (cs, ce) = self.contents.expect("placeholder written");
        [0, base + cs, base + ce, self.buf.len() - ce]
    }
}

const BR_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

impl<'a> Update<'a> {
    pub fn new(doc: &'a Doc) -> Self {
        Update {
            doc,
            next: doc.size(),
            objs: Vec::new(),
        }
    }
    pub fn alloc(&mut self) -> u32 {
        let n = self.next;
        self.next += 1;
        n
    }
    pub fn put(&mut self, num: u32, o: Obj) {
        if let Some(e) = self.objs.iter_mut().find(|(n, _)| *n == num) {
            e.1 = o;
        } else {
            self.objs.push((num, o));
        }
    }
    pub fn write(&mut self, ph: Option<Placeholder>) -> Result<Written, PdfError> {
        let data = &self.doc.data;
        let base = data.len();
        let mut buf = Vec::new();
        if !matches!(data.last(), Some(b'\n' | b'\r')) {
            buf.push(b'\n');
        }
        let mut offsets: Vec<(u32, usize)> = Vec::new();
        let (mut br, mut contents) = (None, None);
        if let Some(ph) = ph {
            offsets.push((ph.num, base + buf.len()));
            buf.extend_from_slice(format!("{} 0 obj\n<<", ph.num).as_bytes());
            for (k, v) in &ph.dict.0 {
                write_obj(&mut buf, &Obj::Name(k.clone()));
                buf.push(b' ');
                write_obj(&mut buf, v);
            }
            buf.extend_from_slice(b"/ByteRange ");
            br = Some((buf.len(), BR_PLACEHOLDER.len()));
            buf.extend_from_slice(BR_PLACEHOLDER.as_bytes());
            buf.extend_from_slice(b"/Contents ");
            let s = buf.len();
            buf.push(b'<');
            buf.resize(buf.len() + 2 * ph.size, b'0');
            buf.push(b'>');
            contents = Some((s, buf.len()));
            buf.extend_from_slice(b">>\nendobj\n");
        }
        for (num, o) in &self.objs {
            offsets.push((*num, base + buf.len()));
            buf.extend_from_slice(format!("{num} 0 obj\n").as_bytes());
            write_obj(&mut buf, o);
            buf.extend_from_slice(b"\nendobj\n");
        }
        let last = self.doc.sections.last().expect("one section");
        let old_trailer = self.doc.trailer();
        let mut trailer = Dict::new();
        trailer.set(
            "Root",
            old_trailer.get("Root").cloned().unwrap_or(Obj::Null),
        );
        if let Some(i) = old_trailer.get("Info") {
            trailer.set("Info", i.clone());
        }
        let mut new_id = [0u8; 16];
        rand::Rng::fill(&mut rand::thread_rng(), &mut new_id[..]);
        let first_id = old_trailer
            .get("ID")
            .and_then(Obj::as_arr)
            .and_then(|a| a.first())
            .and_then(Obj::as_str)
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| new_id.to_vec());
        trailer.set(
            "ID",
            Obj::Arr(vec![Obj::Str(first_id), Obj::Str(new_id.to_vec())]),
        );
        trailer.set("Prev", Obj::Int(last.offset as i64));
        match last.kind {
            XrefKind::Table => {
                offsets.sort();
                let xref_off = base + buf.len();
                buf.extend_from_slice(b"xref\n");
                let mut i = 0;
                while i < offsets.len() {
                    let mut j = i + 1;
                    while j < offsets.len() && offsets[j].0 == offsets[j - 1].0 + 1 {
                        j += 1;
                    }
                    buf.extend_from_slice(format!("{} {}\n", offsets[i].0, j - i).as_bytes());
                    for (_, off) in &offsets[i..j] {
                        buf.extend_from_slice(format!("{off:010} 00000 n\r\n").as_bytes());
                    }
                    i = j;
                }
                trailer.set("Size", Obj::Int(self.next as i64));
                end_table(&mut buf, &trailer, xref_off);
            }
            XrefKind::Stream => {
                let xs = self.alloc();
                let xref_off = base + buf.len();
                offsets.push((xs, xref_off));
                offsets.sort();
                let w2 = if xref_off > u32::MAX as usize { 8 } else { 4 };
                let mut index = Vec::new();
                let mut rows = Vec::new();
                let mut i = 0;
                while i < offsets.len() {
                    let mut j = i + 1;
                    while j < offsets.len() && offsets[j].0 == offsets[j - 1].0 + 1 {
                        j += 1;
                    }
                    index.push(Obj::Int(offsets[i].0 as i64));
                    index.push(Obj::Int((j - i) as i64));
                    for (_, off) in &offsets[i..j] {
                        rows.push(1u8);
                        rows.extend_from_slice(&(*off as u64).to_be_bytes()[8 - w2..]);
                        rows.extend_from_slice(&[0, 0]);
                    }
                    i = j;
                }
                let size = self.next;
                write_xref_stream(&mut buf, xs, xref_off, trailer, size, index, w2, rows);
            }
        }
        Ok(Written { buf, br, contents })
    }
}

/// Ends a revision with a classic cross-reference table (written at `at`): the trailer, then
/// `startxref` and `%%EOF`.
pub(crate) fn end_table(buf: &mut Vec<u8>, trailer: &Dict, at: usize) {
    buf.extend_from_slice(b"trailer\n");
    write_dict(buf, trailer);
    buf.extend_from_slice(format!("\nstartxref\n{at}\n%%EOF\n").as_bytes());
}

/// Ends a revision with a cross-reference stream, object `num` at offset `at`: `trailer`'s
/// entries plus /Type /XRef, /Size, /Index and /W [1 `w2` 2] over `rows`, then `startxref`
/// and `%%EOF`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_xref_stream(
    buf: &mut Vec<u8>,
    num: u32,
    at: usize,
    mut trailer: Dict,
    size: u32,
    index: Vec<Obj>,
    w2: usize,
    rows: Vec<u8>,
) {
    trailer.set("Type", Obj::name("XRef"));
    trailer.set("Size", Obj::Int(size as i64));
    trailer.set("Index", Obj::Arr(index));
    trailer.set(
        "W",
        Obj::Arr(vec![Obj::Int(1), Obj::Int(w2 as i64), Obj::Int(2)]),
    );
    buf.extend_from_slice(format!("{num} 0 obj\n").as_bytes());
    write_obj(buf, &Obj::Stream(trailer, rows));
    buf.extend_from_slice(format!("\nendobj\nstartxref\n{at}\n%%EOF\n").as_bytes());
}

/// A signature that was made but did not pass the check of what was written.
fn self_check_failed() -> PdfError {
    PdfError::Sign(
        "tự kiểm tra chữ ký mới thất bại (self-check of the new signature failed)".into(),
    )
}

/// Fills the ByteRange of an update appended to `base` bytes.
pub(crate) fn set_byterange(base: usize, w: &mut Written) -> Result<[usize; 4], PdfError> {
    let (bp, blen) = w.br.expect("placeholder written");
    let [_, b, c, d] = w.byte_range(base);
    let mut s = format!("[0 {b} {c} {d}]");
    if s.len() > blen {
        return Err(PdfError::Unsupported("file too large for ByteRange".into()));
    }
    while s.len() < blen {
        s.push(' ');
    }
    w.buf[bp..bp + blen].copy_from_slice(s.as_bytes());
    Ok([0, b, c, d])
}

/// Hashes the signed bytes (`prefix` feeds the original file, then the update without its
/// Contents gap), obtains the CMS (or the timestamp token for a document timestamp) and writes
/// it into the gap. Returns the digest and the DER.
fn finish(
    w: &mut Written,
    signer: Option<&dyn Signer>,
    tsa_url: Option<&str>,
    prefix: impl FnOnce(&mut Sha256) -> Result<(), PdfError>,
) -> Result<(Vec<u8>, Vec<u8>), PdfError> {
    let (cs, ce) = w.contents.expect("placeholder written");
    let mut h = Sha256::new();
    prefix(&mut h)?;
    h.update(&w.buf[..cs]);
    h.update(&w.buf[ce..]);
    let digest = h.finalize().to_vec();
    let der = match signer {
        None => crate::tsa::timestamp(tsa_url.unwrap_or_default(), &digest)?,
        Some(signer) => {
            let mut si = cms_build::signer_info(signer, &digest)?;
            if let Some(url) = tsa_url {
                let tst = crate::tsa::timestamp(url, &Sha256::digest(si.signature.as_bytes()))?;
                cms_build::add_timestamp(&mut si, &tst)?;
            }
            cms_build::content_info(si, signer.chain())?
        }
    };
    fill_contents(w, &der)?;
    Ok((digest, der))
}

/// Writes the DER into the Contents gap (hex, zero padded).
pub(crate) fn fill_contents(w: &mut Written, der: &[u8]) -> Result<(), PdfError> {
    let (cs, ce) = w.contents.expect("placeholder written");
    let room = (ce - cs - 2) / 2;
    if der.len() > room {
        return Err(PdfError::Sign(format!(
            "chữ ký {} byte vượt chỗ dành sẵn {room} byte (signature larger than reserved space)",
            der.len()
        )));
    }
    // Upper-case hex straight into the gap (no intermediate string).
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let gap = &mut w.buf[cs + 1..cs + 1 + 2 * der.len()];
    for (pair, &b) in gap.chunks_exact_mut(2).zip(der) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 15)];
    }
    Ok(())
}

/// Finds a top-level field named `name` in the AcroForm (latest revision).
fn find_field(doc: &Doc, fields: &[Obj], name: &str) -> Result<Option<(u32, Dict)>, PdfError> {
    // Fully qualified names (`Form.Ky.LanhDao`, as forms made in Acrobat or LiveCycle nest
    // them): each level's partial name /T, joined with dots.
    let mut stack: Vec<(Obj, String, usize)> = fields
        .iter()
        .rev()
        .map(|f| (f.clone(), String::new(), 0))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    while let Some((f, prefix, depth)) = stack.pop() {
        let Some((n, _)) = f.as_ref() else { continue };
        if depth > 32 || !seen.insert(n) {
            continue;
        }
        let o = doc.get(n)?;
        let Some(d) = o.as_dict() else { continue };
        let Some(t) = d
            .get("T")
            .and_then(Obj::as_str)
            .map(crate::object::decode_text)
        else {
            continue;
        };
        let full = if prefix.is_empty() {
            t
        } else {
            format!("{prefix}.{t}")
        };
        if full == name {
            if d.name_is("FT", "Sig") && d.get("Rect").is_none() && d.get("Kids").is_some() {
                return Err(PdfError::Field(format!(
                    "trường {name} có các ô hiển thị (widget) riêng, chưa hỗ trợ ký vào (a field with separate widget annotations is not supported)"
                )));
            }
            return Ok(Some((n, d.clone())));
        }
        if name.starts_with(&format!("{full}.")) {
            if let Some(kids) = d.get("Kids").and_then(Obj::as_arr) {
                for k in kids.iter().rev() {
                    stack.push((k.clone(), full.clone(), depth + 1));
                }
            }
        }
    }
    Ok(None)
}

/// Names of the top-level fields.
fn field_names(doc: &Doc, fields: &[Obj]) -> Vec<String> {
    fields
        .iter()
        .filter_map(|f| f.as_ref())
        .filter_map(|(n, _)| doc.get(n).ok())
        .filter_map(|o| {
            o.as_dict()
                .and_then(|d| d.get("T"))
                .and_then(Obj::as_str)
                .map(crate::object::decode_text)
        })
        .collect()
}

/// The field a signature goes into when the user names none: with `reuse` (a person's
/// signature whose place the user did not choose), the first empty signature field made for
/// that role (a template's pre-created `LanhDao…` or `ToChuc…`), otherwise a new name
/// for the role — `LanhDao1`, `LanhDao2`… for a person, `ToChuc`, `ToChuc2`… for the
/// organisation stamp, `DauThoiGian1`… for a document timestamp (always a new field).
fn default_field_name(doc: &Doc, fields: &[Obj], person: bool, org: bool, reuse: bool) -> String {
    let prefix = match (person, org) {
        (false, _) => "DauThoiGian",
        (true, true) => "ToChuc",
        (true, false) => "LanhDao",
    };
    if reuse {
        let empty = fields.iter().filter_map(Obj::as_ref).find_map(|(n, _)| {
            let o = doc.get(n).ok()?;
            let d = o.as_dict()?;
            let name = d
                .get("T")
                .and_then(Obj::as_str)
                .map(crate::object::decode_text)?;
            let is_sig = d.get("FT").and_then(Obj::as_name) == Some(&b"Sig"[..]);
            let unsigned = matches!(d.get("V"), None | Some(Obj::Null));
            (is_sig && unsigned && name.starts_with(prefix)).then_some(name)
        });
        if let Some(name) = empty {
            return name;
        }
    }
    let names = field_names(doc, fields);
    (1..)
        .map(|i| match i {
            1 if org => prefix.to_string(),
            _ => format!("{prefix}{i}"),
        })
        .find(|n| !names.contains(n))
        .expect("free name")
}

/// The numbers of a widget's /Rect (resolved if indirect); empty when it has none.
fn rect_nums(doc: &Doc, d: &Dict) -> Vec<f64> {
    d.get("Rect")
        .and_then(|r| doc.resolve(r).ok())
        .and_then(|r| {
            r.as_arr()
                .map(|a| a.iter().filter_map(Obj::as_num).collect())
        })
        .unwrap_or_default()
}

/// Where a pre-created field is drawn: its page's index and its box in display coordinates,
/// when it is a visible box of at least 10 × 10 pt on one of the pages.
fn precreated_box(
    doc: &Doc,
    pages: &[(u32, u16)],
    d: &Dict,
) -> Result<Option<(usize, [f64; 4])>, PdfError> {
    let Some(p) = d.get("P").and_then(Obj::as_ref).map(|p| p.0) else {
        return Ok(None);
    };
    let hidden = d.get("F").and_then(Obj::as_int).unwrap_or(0) & (2 | 32) != 0;
    let user = rect_nums(doc, d);
    let (Some(page_ix), &[x0, y0, x1, y1], false) =
        (pages.iter().position(|pg| pg.0 == p), &user[..], hidden)
    else {
        return Ok(None);
    };
    let disp = PageGeom::of(doc, p)?.rect_to_disp([x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]);
    Ok((disp[2] >= 10.0 && disp[3] >= 10.0).then_some((page_ix, disp)))
}

/// The AcroForm as it stands: (indirect number if any, dictionary).
pub(crate) fn acroform(doc: &Doc, cat: &Dict) -> Result<(Option<u32>, Dict), PdfError> {
    Ok(match cat.get("AcroForm") {
        Some(Obj::Ref(n, _)) => (
            Some(*n),
            doc.get(*n)?.as_dict().cloned().unwrap_or_default(),
        ),
        Some(Obj::Dict(d)) => (None, d.clone()),
        _ => (None, Dict::new()),
    })
}

/// The /Fields array (resolved if indirect) and its object number if indirect.
pub(crate) fn fields_of(doc: &Doc, af: &Dict) -> Result<(Option<u32>, Vec<Obj>), PdfError> {
    Ok(match af.get("Fields") {
        Some(Obj::Ref(n, _)) => (
            Some(*n),
            doc.get(*n)?
                .as_arr()
                .map(<[Obj]>::to_vec)
                .unwrap_or_default(),
        ),
        Some(Obj::Arr(a)) => (None, a.clone()),
        _ => (None, Vec::new()),
    })
}

/// Estimated DER size: chain + 2 KB (+ 8 KB with a timestamp), rounded up to 4 KiB, ≥ 16 KiB.
fn estimate(signer: &dyn Signer, tsa: bool) -> usize {
    use der::Encode;
    let chain: usize = signer
        .chain()
        .iter()
        .map(|c| c.to_der().map(|d| d.len()).unwrap_or(2048))
        .sum();
    let est = chain + 2048 + 1024 + if tsa { 8192 } else { 0 };
    // spec §1.3: at least 16 KiB, 32 KiB for remote signers
    est.max(signer.min_signature_space()).div_ceil(4096) * 4096
}

/// Adds a signature field (or fills an empty one) and signs: one new revision (B-B, or B-T
/// when `opts.tsa_url` is set). Returns the whole new file.
pub fn sign_bytes(
    data: Vec<u8>,
    signer: &dyn Signer,
    opts: &SignOptions,
) -> Result<Vec<u8>, PdfError> {
    sign_inner(data, Some(signer), opts)
}

/// Signs at `opts.level`: the signature revision, then for B-LT a DSS revision (certificates
/// and CRLs of every chain), then for B-LTA a document timestamp revision.
pub fn sign_pades(
    data: Vec<u8>,
    signer: &dyn Signer,
    opts: &SignOptions,
) -> Result<Vec<u8>, PdfError> {
    let o = level_options(opts)?;
    let mut out = sign_bytes(data, signer, &o)?;
    if opts.level >= Level::BLT {
        let anchors: Vec<Vec<u8>> = signer
            .roots()
            .iter()
            .filter_map(|c| der::Encode::to_der(c).ok())
            .collect();
        out = crate::ltv::add_dss_if(out, &anchors, |dss| refuse_revoked(signer, dss))?;
    }
    if opts.level == Level::BLTA {
        out = add_doc_timestamp(out, o.tsa_url.as_deref().unwrap_or_default())?;
    }
    Ok(out)
}

/// Spare capacity that lets [`sign_document`] append a signature revision (B-B or B-T, the
/// default 16 KiB signature space written as hex, with its field and cross-reference) to the
/// caller's buffer without copying the document; a larger revision still fits, after a copy.
pub const SIGNATURE_HEADROOM: usize = 64 * 1024;

/// Reads `path` into a buffer with [`SIGNATURE_HEADROOM`] to spare, for [`sign_document`].
pub fn read_for_signing(path: &Path) -> Result<Vec<u8>, PdfError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| PdfError::io(path, e))?;
    let len = f.metadata().map_err(|e| PdfError::io(path, e))?.len();
    let len = usize::try_from(len)
        .map_err(|_| PdfError::Unsupported("file too large to read into memory".into()))?;
    let mut data = Vec::with_capacity(len.saturating_add(SIGNATURE_HEADROOM));
    f.read_to_end(&mut data)
        .map_err(|e| PdfError::io(path, e))?;
    Ok(data)
}

/// The in-memory counterpart of [`sign_file`], for documents that must not reach disk in
/// plaintext (the app's encrypted store): an *unsigned* input that strict readers refuse
/// ([`Doc::strict_objection`]) first gets one complete cross-reference section, the original
/// bytes kept; with `opts.repair`, an unsigned input whose structure is damaged is rebuilt
/// ([`crate::repair`]); an earlier signature that is broken, cannot be checked or was followed
/// by forbidden changes is refused; then it is signed at `opts.level` ([`sign_pades`]) and the
/// result is checked (every signature in it intact). The report says what was rebuilt and what
/// the signer should know, as [`sign_file`]'s does. A `data` buffer with
/// [`SIGNATURE_HEADROOM`] spare capacity ([`read_for_signing`]) becomes the result in place.
pub fn sign_document(
    data: Vec<u8>,
    signer: &dyn Signer,
    opts: &SignOptions,
) -> Result<(Vec<u8>, Signed), PdfError> {
    // The rebuilt file, parsed, when it holds (`repair::is_whole`).
    let rebuilt = |data: &[u8], plan: crate::repair::Plan, why: Option<String>| {
        let mut v = Vec::with_capacity(data.len() - plan.skip + plan.section.len());
        v.extend_from_slice(&data[plan.skip..]);
        v.extend_from_slice(&plan.section);
        let repaired = Repaired {
            objects: plan.objects,
            dropped: plan.skip,
            inconsistent: why,
        };
        Doc::parse(v)
            .ok()
            .filter(crate::repair::is_whole)
            .map(|d| (d, Some(repaired)))
    };
    let backup = opts.repair.then(|| data.clone());
    let (doc, repaired) = match Doc::parse(data) {
        Ok(doc) => {
            // As `sign_file`: the cross-reference first, the scan only on an objection.
            let why = doc
                .strict_objection()
                .filter(|_| !crate::repair::has_signature_marks(&doc.data));
            let plan = why
                .as_ref()
                .and_then(|_| crate::repair::plan_from_doc(&doc).ok());
            // Readable as it is: when the rebuild does not hold, signed as it is.
            match plan.and_then(|p| rebuilt(&doc.data, p, why)) {
                Some(done) => done,
                None => (doc, None),
            }
        }
        Err(e) if crate::repair::curable(&e) && backup.is_some() => {
            let data = backup.unwrap_or_default();
            match crate::repair::plan(&data) {
                Ok(p) => rebuilt(&data, p, None).ok_or(e)?,
                Err(e2) => return Err(unrepairable(e, e2, &data)),
            }
        }
        Err(e) => return Err(e),
    };
    if let Some(r) = &repaired {
        tracing::info!(
            objects = r.objects,
            dropped = r.dropped,
            "cross-reference rebuilt before signing"
        );
    }
    // As `sign_file`: never sign over a broken or forbidden-changed earlier signature.
    refuse_broken(&doc)?;
    let before = crate::verify::signature_fields(&doc).len();
    let o = level_options(opts)?;
    let doc = if before == 0 && o.level < Level::BLT {
        // The first signature, in one revision: checked as `sign_file` checks what it wrote —
        // the file parses, its only signature's ByteRange covers all of it but the gap, the
        // gap holds the CMS and the CMS verifies against the digest the signer signed (the
        // digest of exactly these bytes: no second hashing pass).
        let a = append_signature(doc, Some(signer), &o)?;
        let doc = Doc::parse(a.out)?;
        if !crate::verify::self_check(&doc, a.br, &a.der, &a.digest, false) {
            return Err(self_check_failed());
        }
        doc
    } else {
        let out = sign_pades(doc.into_vec(), signer, opts)?;
        // Earlier signatures, a DSS or a document timestamp: the new revisions and every
        // earlier signature are validated in full (intact, no forbidden change).
        let doc = Doc::parse(out)?;
        let rep = crate::verify::verify_doc(&doc, &crate::verify::VerifyOptions::default());
        if rep.signatures.len() <= before || rep.signatures.iter().any(|s| !s.intact) {
            return Err(self_check_failed());
        }
        doc
    };
    Ok((
        doc.into_vec(),
        Signed {
            repaired,
            notes: signing_notes(signer),
        },
    ))
}

/// Appends a document timestamp (PAdES B-LTA): an invisible field whose `/Contents` is an
/// RFC 3161 token over the ByteRange.
pub fn add_doc_timestamp(data: Vec<u8>, tsa_url: &str) -> Result<Vec<u8>, PdfError> {
    let opts = SignOptions {
        tsa_url: Some(tsa_url.to_string()),
        ..Default::default()
    };
    sign_inner(data, None, &opts)
}

fn sign_inner(
    data: Vec<u8>,
    signer: Option<&dyn Signer>,
    opts: &SignOptions,
) -> Result<Vec<u8>, PdfError> {
    append_signature(Doc::parse(data)?, signer, opts).map(|a| a.out)
}

/// One signature (or document timestamp) revision appended in memory, with what a self-check
/// of it needs.
struct Appended {
    /// The whole new file.
    out: Vec<u8>,
    /// The new signature's ByteRange.
    br: [usize; 4],
    /// SHA-256 of the bytes the ByteRange covers, as they were hashed for the signature.
    digest: Vec<u8>,
    /// The CMS (or timestamp token) in the gap.
    der: Vec<u8>,
}

/// [`sign_inner`] on a parsed document, keeping the ByteRange, digest and CMS.
fn append_signature(
    doc: Doc,
    signer: Option<&dyn Signer>,
    opts: &SignOptions,
) -> Result<Appended, PdfError> {
    let mut w = prepare(&doc, signer, opts)?;
    let (digest, der) = finish(&mut w, signer, opts.tsa_url.as_deref(), |h| {
        h.update(&doc.data[..]);
        Ok(())
    })?;
    let br = w.byte_range(doc.data.len());
    let mut out = doc.into_vec();
    out.reserve_exact(w.buf.len());
    out.extend_from_slice(&w.buf);
    Ok(Appended {
        out,
        br,
        digest,
        der,
    })
}

/// Builds the signature revision for `doc` with a zeroed Contents gap and its ByteRange set.
fn prepare(
    doc: &Doc,
    signer: Option<&dyn Signer>,
    opts: &SignOptions,
) -> Result<Written, PdfError> {
    doc.refuse_encrypted()?;
    let now = opts
        .signing_time
        .unwrap_or_else(|| OffsetDateTime::now_utc().to_offset(vn_offset()));
    if let Some(signer) = signer {
        let cert = signer
            .chain()
            .first()
            .ok_or_else(|| PdfError::Key("no certificate".into()))?;
        check_validity(cert, now)?;
        if !crate::verify::key_usage_ok(cert) {
            return Err(PdfError::Key(
                "chứng thư không dùng để ký số được: keyUsage không có digitalSignature hay \
                 nonRepudiation (the certificate's key usage does not allow signing)"
                    .into(),
            ));
        }
    }
    let pages = doc.pages()?;
    if pages.is_empty() {
        return Err(PdfError::Damaged("no pages".into()));
    }
    // The user placed the signature themselves (not the organisation stamp or the seal, whose
    // places follow from the regulation).
    let place_chosen = opts.visible.is_some() && !opts.org_stamp && opts.seal.is_none();
    let (mut visible, default_text) = placement(doc, &pages, signer, opts, now)?;
    let root = doc.root_ref().0;
    let mut cat = doc.catalog()?;
    if opts.certify {
        let existing = existing_signatures(doc)?;
        if existing > 0 {
            return Err(PdfError::Request(
                "chỉ chữ ký đầu tiên được chứng nhận (only the first signature may certify)".into(),
            ));
        }
    }
    // A certification with P=1 allows no change at all but DSS and document timestamps
    // (PAdES): another signature would void it, so refuse before writing anything.
    if signer.is_some() && crate::verify::current_certification(doc) == Some(1) {
        return Err(PdfError::Request(
            "tài liệu đã được chứng nhận không cho phép thay đổi (DocMDP P=1): ký thêm sẽ làm mất \
             hiệu lực chữ ký chứng nhận (the document is certified with no changes allowed)"
                .into(),
        ));
    }
    let (af_num, mut af) = acroform(doc, &cat)?;
    let (fields_num, mut fields) = fields_of(doc, &af)?;
    let name = match &opts.field_name {
        Some(n) => n.clone(),
        // The seal is the organisation's too; its place follows the leader's signature, so a
        // template's empty box is not taken for it unless named.
        None => default_field_name(
            doc,
            &fields,
            signer.is_some(),
            opts.org_stamp || opts.seal.is_some(),
            signer.is_some() && !place_chosen && opts.seal.is_none(),
        ),
    };
    let existing = find_field(doc, &fields, &name)?;
    if existing.is_none() && (!name.is_ascii() || name.contains('.') || name.is_empty()) {
        return Err(PdfError::Field(format!(
            "tên trường mới phải là ASCII, không có dấu chấm: {name:?} (new field names are ASCII without dots; an existing field is named in full, e.g. Form.Ky.LanhDao)"
        )));
    }
    // The organisation stamp into a pre-created field: drawn in the box the template put there
    // (moving a field is a forbidden change once anything is signed).
    if let (true, Some((_, d)), Some(v)) = (opts.org_stamp, &existing, visible.as_mut()) {
        if let Some((page_ix, rect)) = precreated_box(doc, &pages, d)? {
            v.page = page_ix + 1;
            v.rect = rect;
        }
    }
    let opts = &SignOptions {
        visible,
        ..opts.clone()
    };
    let page_no = opts.visible.as_ref().map(|v| v.page).unwrap_or(1);
    let page = *pages.get(page_no.wrapping_sub(1)).ok_or_else(|| {
        PdfError::Request(format!(
            "trang {page_no} không có (page {page_no} does not exist; {} pages)",
            pages.len()
        ))
    })?;
    let mut up = Update::new(doc);
    let sig_num = up.alloc();
    let existing_rect = existing
        .as_ref()
        .and_then(|(_, d)| d.get("Rect").and_then(|r| doc.resolve(r).ok()));
    let existing_rect_raw = existing.as_ref().and_then(|(_, d)| d.get("Rect").cloned());
    let existing_page = existing
        .as_ref()
        .and_then(|(_, d)| d.get("P").and_then(Obj::as_ref).map(|p| p.0));
    let (widget_num, mut widget, new_widget) = match existing {
        Some((n, d)) => {
            if !d.name_is("FT", "Sig") {
                return Err(PdfError::Field(format!(
                    "trường {name} không phải trường chữ ký (not a signature field)"
                )));
            }
            if let Some(by) = crate::verify::locked_by(doc, &name) {
                return Err(PdfError::Field(format!(
                    "trường {name} bị chữ ký \"{by}\" khóa (FieldMDP), không ký được (field locked by an earlier signature)"
                )));
            }
            if d.get("V").is_some() {
                return Err(PdfError::Field(format!(
                    "trường {name} đã được ký (field already signed)"
                )));
            }
            (n, d, false)
        }
        None => {
            if opts.visible.is_some()
                && cat.get("Perms").is_some_and(|p| {
                    doc.resolve(p)
                        .ok()
                        .is_some_and(|p| p.as_dict().is_some_and(|d| d.get("DocMDP").is_some()))
                })
            {
                return Err(PdfError::Field(format!(
                    "tài liệu đã được chứng nhận: chữ ký hiện phải dùng trường có sẵn, không tạo trường {name} mới (certified document: fill a pre-created field)"
                )));
            }
            let n = up.alloc();
            let d = Dict::new()
                .with("Type", Obj::name("Annot"))
                .with("Subtype", Obj::name("Widget"))
                .with("FT", Obj::name("Sig"))
                .with("T", Obj::str(&name))
                .with("F", Obj::Int(132))
                .with("P", Obj::Ref(page.0, page.1))
                .with(
                    "Rect",
                    Obj::Arr(vec![Obj::Int(0), Obj::Int(0), Obj::Int(0), Obj::Int(0)]),
                );
            (n, d, true)
        }
    };
    widget.set("V", Obj::Ref(sig_num, 0));
    if let Some(l) = &opts.field_lock {
        widget.set("Lock", Obj::Dict(l.dict("SigFieldLock")));
    }
    if let Some(v) = &opts.visible {
        let geom = PageGeom::of(doc, page.0)?;
        let r = geom.rect_to_user(v.rect);
        widget.set("Rect", Obj::Arr(r.iter().map(|c| Obj::coord(*c)).collect()));
        if new_widget {
            widget.set("P", Obj::Ref(page.0, page.1));
        }
        let mut v = v.clone();
        if v.text.is_empty() && default_text {
            if let Some(signer) = signer {
                v.text = default_lines(signer, now);
            }
        }
        let ap = crate::appearance::build(&mut up, &v, geom.rotate)?;
        widget.set("AP", Obj::Dict(Dict::new().with("N", Obj::Ref(ap, 0))));
    }
    // A pre-created visible field (an empty box placed by the drafter's tool) signed without
    // --visible: the signer's name and time are drawn in that box, which stays where it is.
    if let (false, None, Some(signer)) = (new_widget, &opts.visible, signer) {
        if let Some((page_ix, rect)) = precreated_box(doc, &pages, &widget)? {
            let v = Visible {
                page: page_ix + 1,
                rect,
                image_png: None,
                text: default_lines(signer, now),
                font: None,
            };
            let geom = PageGeom::of(doc, pages[page_ix].0)?;
            let ap = crate::appearance::build(&mut up, &v, geom.rotate)?;
            widget.set("AP", Obj::Dict(Dict::new().with("N", Obj::Ref(ap, 0))));
        }
    }
    // A pre-created field is filled where it is: a changed /Rect (or a reordered /Annots) is a
    // forbidden change once anything in the document is signed (spec §4.2), and a field moved
    // to another page would leave that page's /Annots without it.
    if let (false, Some(v)) = (new_widget, &opts.visible) {
        let want = PageGeom::of(doc, page.0)?.rect_to_user(v.rect);
        let was: Vec<f64> = existing_rect
            .as_ref()
            .and_then(Obj::as_arr)
            .map(|r| r.iter().filter_map(Obj::as_num).collect())
            .unwrap_or_default();
        let same = was.len() == 4
            && [
                was[0].min(was[2]),
                was[1].min(was[3]),
                was[0].max(was[2]),
                was[1].max(was[3]),
            ]
            .iter()
            .zip(want)
            .all(|(a, b)| (a - b).abs() < 0.5);
        let other_page = existing_page.is_some_and(|p| p != page.0);
        if opts.seal.is_some() && (!same || existing_page != Some(page.0)) {
            return Err(PdfError::Field(format!(
                "trường {name} có sẵn không nằm đúng chỗ đóng dấu [{:.1} {:.1} {:.1} {:.1}] trên trang {}; bỏ --field để tạo trường mới (a pre-created seal field must already sit where the seal goes)",
                want[0], want[1], want[2], want[3], page_no
            )));
        }
        if other_page || (!same && existing_signatures(doc)? > 0) {
            let at = match pages.iter().position(|p| Some(p.0) == existing_page) {
                Some(i) => format!("trang {} (page {})", i + 1, i + 1),
                None => "chỗ khác (elsewhere)".into(),
            };
            return Err(PdfError::Field(format!(
                "trường {name} có sẵn nằm ở {at}, không di chuyển được sau khi tài liệu đã có chữ ký hoặc sang trang khác: bỏ --visible để ký vào đúng ô có sẵn, hoặc dùng --field với tên khác để tạo trường mới (a pre-created field is filled where it is)"
            )));
        }
        if same {
            // Unchanged, to the digit: the field is filled, not moved.
            if let Some(r) = existing_rect_raw {
                widget.set("Rect", r);
            }
        }
    }
    up.put(widget_num, Obj::Dict(widget));
    if new_widget {
        // Field list.
        fields.push(Obj::Ref(widget_num, 0));
        match fields_num {
            Some(n) => up.put(n, Obj::Arr(fields.clone())),
            None => af.set("Fields", Obj::Arr(fields.clone())),
        }
        // Page annotations: appended last so the signature draws on top.
        let mut pd = doc
            .get(page.0)?
            .as_dict()
            .cloned()
            .ok_or_else(|| PdfError::Damaged("page is not a dictionary".into()))?;
        match pd.get("Annots").cloned() {
            Some(Obj::Ref(an, _)) => {
                let mut a = doc
                    .get(an)?
                    .as_arr()
                    .map(<[Obj]>::to_vec)
                    .unwrap_or_default();
                a.push(Obj::Ref(widget_num, 0));
                up.put(an, Obj::Arr(a));
            }
            Some(Obj::Arr(mut a)) => {
                a.push(Obj::Ref(widget_num, 0));
                pd.set("Annots", Obj::Arr(a));
                up.put(page.0, Obj::Dict(pd));
            }
            _ => {
                pd.set("Annots", Obj::Arr(vec![Obj::Ref(widget_num, 0)]));
                up.put(page.0, Obj::Dict(pd));
            }
        }
    }
    af.set("SigFlags", Obj::Int(3));
    let mut cat_changed = false;
    match af_num {
        Some(n) => up.put(n, Obj::Dict(af)),
        None => {
            if matches!(cat.get("AcroForm"), Some(Obj::Dict(_))) {
                cat.set("AcroForm", Obj::Dict(af));
            } else {
                let n = up.alloc();
                up.put(n, Obj::Dict(af));
                cat.set("AcroForm", Obj::Ref(n, 0));
            }
            cat_changed = true;
        }
    }
    let mut sig = match signer {
        Some(_) => Dict::new()
            .with("Type", Obj::name("Sig"))
            .with("Filter", Obj::name("Adobe.PPKLite"))
            .with("SubFilter", Obj::name("ETSI.CAdES.detached"))
            .with("M", Obj::str(&pdf_date(now))),
        None => Dict::new()
            .with("Type", Obj::name("DocTimeStamp"))
            .with("Filter", Obj::name("Adobe.PPKLite"))
            .with("SubFilter", Obj::name("ETSI.RFC3161")),
    };
    if let Some(r) = &opts.reason {
        sig.set("Reason", Obj::text(r));
    }
    if let Some(l) = &opts.location {
        sig.set("Location", Obj::text(l));
    }
    let mut refs = Vec::new();
    if opts.certify {
        let p = match opts.docmdp {
            0 | 2 => 2,
            3 => 3,
            p => {
                return Err(PdfError::Request(format!(
                    "DocMDP P={p} không dùng được, chỉ 2 hoặc 3 (DocMDP level must be 2 or 3)"
                )))
            }
        };
        refs.push(Obj::Dict(
            Dict::new()
                .with("Type", Obj::name("SigRef"))
                .with("TransformMethod", Obj::name("DocMDP"))
                .with(
                    "TransformParams",
                    Obj::Dict(
                        Dict::new()
                            .with("Type", Obj::name("TransformParams"))
                            .with("P", Obj::Int(p))
                            .with("V", Obj::name("1.2")),
                    ),
                ),
        ));
    }
    if let Some(l) = &opts.field_lock {
        refs.push(Obj::Dict(
            Dict::new()
                .with("Type", Obj::name("SigRef"))
                .with("TransformMethod", Obj::name("FieldMDP"))
                .with(
                    "TransformParams",
                    Obj::Dict(l.dict("TransformParams").with("V", Obj::name("1.2"))),
                ),
        ));
    }
    if !refs.is_empty() {
        sig.set("Reference", Obj::Arr(refs));
    }
    if opts.certify {
        let mut perms = cat
            .get("Perms")
            .and_then(Obj::as_dict)
            .cloned()
            .unwrap_or_default();
        perms.set("DocMDP", Obj::Ref(sig_num, 0));
        cat.set("Perms", Obj::Dict(perms));
        cat_changed = true;
    }
    if cat_changed {
        up.put(root, Obj::Dict(cat));
    }
    let size = match (opts.contents_size, signer) {
        (0, Some(signer)) => estimate(signer, opts.tsa_url.is_some()),
        (0, None) => 12 * 1024,
        (n, _) => n,
    };
    let mut w = up.write(Some(Placeholder {
        num: sig_num,
        dict: sig,
        size,
    }))?;
    set_byterange(doc.data.len(), &mut w)?;
    Ok(w)
}

/// Where the visible signature goes (displayed coordinates, see [`PageGeom`]) and whether an
/// empty text means "the signer's name and the time": the organisation stamp (top right of
/// page 1), the seal next to the leader's signature, or `opts.visible` as given.
fn placement(
    doc: &Doc,
    pages: &[(u32, u16)],
    signer: Option<&dyn Signer>,
    opts: &SignOptions,
    now: OffsetDateTime,
) -> Result<(Option<Visible>, bool), PdfError> {
    let cn = || {
        signer
            .and_then(|s| s.chain().first().cloned())
            .map(|c| crate::verify::cn(&c.tbs_certificate.subject))
            .unwrap_or_default()
    };
    if let Some(seal) = &opts.seal {
        crate::appearance::check_seal(&seal.png)?;
        let cat = doc.catalog()?;
        let (_, af) = acroform(doc, &cat)?;
        let (_, fields) = fields_of(doc, &af)?;
        let mut leader = None;
        for f in &fields {
            let Ok(o) = doc.resolve(f) else { continue };
            let Some(d) = o.as_dict() else { continue };
            let name = d
                .get("T")
                .and_then(Obj::as_str)
                .map(crate::object::decode_text)
                .unwrap_or_default();
            let r = rect_nums(doc, d);
            let Some(p) = d.get("P").and_then(Obj::as_ref) else {
                continue;
            };
            let visible = r.len() == 4 && (r[2] - r[0]).abs() > 0.0 && (r[3] - r[1]).abs() > 0.0;
            let wanted = match &seal.next_to {
                Some(n) => *n == name,
                None => d.name_is("FT", "Sig") && d.get("V").is_some(),
            };
            if wanted && visible {
                leader = Some((p, [r[0], r[1], r[2], r[3]]));
            }
        }
        let (p, r) = leader.ok_or_else(|| {
            PdfError::Field(match &seal.next_to {
                Some(n) => format!(
                    "không thấy chữ ký hiện {n} để đóng dấu bên cạnh (no visible signature field {n} for the seal)"
                ),
                None => "không có chữ ký hiện của lãnh đạo để đóng dấu bên cạnh (no visible leader signature for the seal)".into(),
            })
        })?;
        let page_no = pages.iter().position(|q| q.0 == p.0).ok_or_else(|| {
            PdfError::Field("trang của chữ ký lãnh đạo không có (leader's page not found)".into())
        })?;
        let geom = PageGeom::of(doc, p.0)?;
        let r = [
            r[0].min(r[2]),
            r[1].min(r[3]),
            r[0].max(r[2]),
            r[1].max(r[3]),
        ];
        let leader_rect = geom.rect_to_disp(r);
        return Ok((
            Some(Visible {
                page: page_no + 1,
                rect: Visible::seal_next_to(leader_rect, seal.diameter_mm, geom.user_unit),
                image_png: Some(seal.png.clone()),
                text: Vec::new(),
                font: opts.visible.as_ref().and_then(|v| v.font.clone()),
            }),
            false,
        ));
    }
    if !opts.org_stamp {
        if let Some(png) = opts.visible.as_ref().and_then(|v| v.image_png.as_ref()) {
            crate::appearance::check_signature_image(png);
        }
        return Ok((opts.visible.clone(), true));
    }
    let geom = PageGeom::of(doc, pages[0].0)?;
    let (pw, ph) = geom.size();
    let mm = 72.0 / 25.4 / geom.user_unit;
    let (w, h) = (80.0 * mm, 14.0 * mm);
    let when = if opts.stamp_time_iso {
        iso_time(now)
    } else {
        vn_time(now)
    };
    let text = if let Some(c) = &opts.stamp_copy {
        let agency = c.agency.clone().unwrap_or_else(cn);
        vec![format!("{}; {agency}; {when}", c.kind)]
    } else if let Some(n) = &opts.stamp_number {
        vec![format!("Số: {n}; {when}")]
    } else {
        opts.visible
            .as_ref()
            .map(|v| v.text.clone())
            .unwrap_or_default()
    };
    let font = opts.visible.as_ref().and_then(|v| v.font.clone());
    // The box hugs the (wrapped) text, so the stamp's right edge is 17 mm from the CropBox's.
    let w = if text.is_empty() {
        w
    } else {
        crate::appearance::text_box_width(&text, w, font.as_deref())?
    };
    Ok((
        Some(Visible {
            page: 1,
            rect: [pw - 17.0 * mm - w, ph - 14.0 * mm - h, w, h],
            image_png: None,
            text,
            font,
        }),
        true,
    ))
}

/// Counts signature fields that carry a value.
fn existing_signatures(doc: &Doc) -> Result<usize, PdfError> {
    let cat = doc.catalog()?;
    let (_, af) = acroform(doc, &cat)?;
    let (_, fields) = fields_of(doc, &af)?;
    let mut n = 0;
    for f in &fields {
        if let Ok(o) = doc.resolve(f) {
            if o.as_dict().is_some_and(|d| d.get("V").is_some()) {
                n += 1;
            }
        }
    }
    Ok(n)
}

fn check_validity(cert: &x509_cert::Certificate, now: OffsetDateTime) -> Result<(), PdfError> {
    let v = &cert.tbs_certificate.validity;
    let t = now.unix_timestamp();
    let nb = v.not_before.to_unix_duration().as_secs() as i64;
    let na = v.not_after.to_unix_duration().as_secs() as i64;
    if t < nb || t > na {
        return Err(PdfError::CertExpired(format!(
            "{} — {}",
            v.not_before, v.not_after
        )));
    }
    Ok(())
}

/// B-LT and B-LTA: a signature that the revocation data just fetched for its DSS shows
/// revoked (or on hold) is not finished — every validator would reject it. (B-B and B-T do
/// not ask: they must work without the certificate authority's servers.)
fn refuse_revoked(signer: &dyn Signer, dss: &crate::ltv::DssRevision) -> Result<(), PdfError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    match crate::verify::revoked_now(signer.chain(), &signer.roots(), &dss.crls, &dss.ocsps, now) {
        Some(why) => Err(PdfError::Revoked(why)),
        None => Ok(()),
    }
}

/// Signs `input` into `output` atomically: the new file is written next to the output, checked,
/// then renamed into place. A failure leaves no output file.
///
/// Streamed at every level, and spread over two threads so that the copy, the disk flush and
/// most checks happen while the document is hashed and signed:
/// - the writer creates the temporary file and copies the original into it in chunks, at once;
///   it then appends the new revision (Contents left empty), starts flushing the file to disk
///   and meanwhile re-parses it to check the layout (the signature dictionary reached from the
///   AcroForm has exactly the new ByteRange, around an empty Contents);
/// - this thread parses only the cross-reference chain and the objects the new revision
///   touches, hashes each chunk *read back from the temporary file* as soon as it is written
///   (so the digest covers the bytes on disk, even if the input changed meanwhile), and builds
///   the CMS;
/// - the writer puts the CMS into its gap and flushes the file again while this thread
///   verifies the CMS against the digest; the bytes in the gap are then read back.
///
/// B-LT appends the DSS revision to the same temporary file; B-LTA then a document timestamp
/// whose range is hashed by reading that file (self-checked the same way). Memory stays flat
/// with the file size.
///
/// With `opts.repair`, an unsigned input whose cross-reference is damaged (as viewers silently
/// tolerate) is signed after a repair ([`crate::repair`]): reported in the result, never done
/// to a signed file.
pub fn sign_file(
    input: &Path,
    output: &Path,
    signer: &dyn Signer,
    opts: &SignOptions,
) -> Result<Signed, PdfError> {
    let o = level_options(opts)?;
    let mut done = match replace_with(output, |tmp| sign_into(input, tmp, signer, &o, true)) {
        Ok(()) => Ok(Signed::default()),
        Err(e) if o.repair && crate::repair::curable(&e) => {
            sign_repaired(input, output, signer, &o, e)
        }
        // Readable but inconsistent (unsigned): rebuilt so that strict readers accept the
        // result, without being asked; if that fails, signed as it is, as before.
        Err(e @ PdfError::Inconsistent(_)) => {
            sign_repaired(input, output, signer, &o, e).or_else(|_| {
                replace_with(output, |tmp| sign_into(input, tmp, signer, &o, false))
                    .map(|()| Signed::default())
            })
        }
        Err(e) => Err(e),
    }?;
    done.notes = signing_notes(signer);
    Ok(done)
}

/// What the signer should know about a signature just made with `signer`'s certificate
/// (Vietnamese, English in parentheses): a key usage without nonRepudiation, which pyHanko's
/// default policy (and some agencies' validators) refuse although PAdES accepts
/// digitalSignature alone; an extended key usage that Acrobat does not take for documents.
pub fn signing_notes(signer: &dyn Signer) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(cert) = signer.chain().first() {
        if crate::verify::key_usage_lacks_non_repudiation(cert) {
            notes.push(
                "chứng thư của người ký không có mục đích nonRepudiation (chống chối bỏ): chữ ký \
                 hợp lệ theo PAdES nhưng một số phần mềm kiểm tra (như pyHanko) không chấp nhận \
                 (the certificate's key usage lacks nonRepudiation: some validators refuse such \
                 signatures)"
                    .into(),
            );
        }
        if !crate::verify::eku_allows_documents(cert) {
            notes.push(crate::verify::EKU_NOTE.into());
        }
    }
    notes
}

/// What [`sign_file`] did besides signing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The input's cross-reference was damaged and was rebuilt before signing.
    pub repaired: Option<Repaired>,
    /// Notes for the signer ([`signing_notes`]).
    pub notes: Vec<String>,
}

/// A repair made before signing ([`crate::repair`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// Objects the rebuilt cross-reference lists.
    pub objects: usize,
    /// Bytes before the `%PDF-` header, dropped.
    pub dropped: usize,
    /// Why a readable file was rebuilt (its `/Size`, a hybrid cross-reference); `None` when
    /// it was damaged.
    pub inconsistent: Option<String>,
}

/// [`sign_file`] for an input that failed with `first`, a damaged structure: repairs it into a
/// temporary file next to the output, checks that the repair parses and has pages, and signs
/// that. When it cannot be repaired, the error is `first` (or why a signed file is not
/// repaired).
fn sign_repaired(
    input: &Path,
    output: &Path,
    signer: &dyn Signer,
    o: &SignOptions,
    first: PdfError,
) -> Result<Signed, PdfError> {
    let plan = {
        let f = std::fs::File::open(input).map_err(|e| PdfError::io(input, e))?;
        // SAFETY: a read-only map of the input, as in `Doc::open`.
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(|e| PdfError::io(input, e))?;
        // A readable file: its own cross-reference says where each object is; a damaged one
        // is scanned.
        let own = match &first {
            PdfError::Inconsistent(_) => Doc::open(input)
                .ok()
                .and_then(|d| crate::repair::plan_from_doc(&d).ok()),
            _ => None,
        };
        match own.map_or_else(|| crate::repair::plan(&map), Ok) {
            Ok(p) => p,
            Err(e) => return Err(unrepairable(first, e, &map)),
        }
    };
    let inconsistent = match &first {
        PdfError::Inconsistent(why) => Some(why.clone()),
        _ => None,
    };
    let fixed = temp_path(output, "repaired");
    let res = (|| {
        {
            let mut src = std::fs::File::open(input).map_err(|e| PdfError::io(input, e))?;
            src.seek(SeekFrom::Start(plan.skip as u64))
                .map_err(|e| PdfError::io(input, e))?;
            let mut dst = std::fs::File::create(&fixed).map_err(|e| PdfError::io(&fixed, e))?;
            std::io::copy(&mut src, &mut dst).map_err(|e| PdfError::io(&fixed, e))?;
            dst.write_all(&plan.section)
                .map_err(|e| PdfError::io(&fixed, e))?;
        }
        // The rebuilt file must parse as it is and hold (`repair::is_whole`).
        let whole = Doc::open(&fixed).is_ok_and(|d| crate::repair::is_whole(&d));
        if !whole {
            return Err(first);
        }
        tracing::info!(
            objects = plan.objects,
            dropped = plan.skip,
            "damaged cross-reference rebuilt before signing"
        );
        replace_with(output, |tmp| sign_into(&fixed, tmp, signer, o, true))
    })();
    let _ = std::fs::remove_file(&fixed);
    res.map(|()| Signed {
        repaired: Some(Repaired {
            objects: plan.objects,
            dropped: plan.skip,
            inconsistent,
        }),
        notes: Vec::new(),
    })
}

/// What to report for an input that failed with `first` when its repair fails with `e`: a
/// damaged file with signatures is never repaired (said so), an encrypted one is named as
/// such, anything else keeps the first error. `data`: the input.
fn unrepairable(first: PdfError, e: PdfError, data: &[u8]) -> PdfError {
    match e {
        e @ PdfError::Damaged(_) if crate::repair::has_signature_marks(data) => e,
        e @ PdfError::Encrypted => e,
        _ => first,
    }
}

/// The work of [`sign_file`], into the temporary file `tmp`. With `consistent`, an unsigned
/// input whose cross-reference is inconsistent is refused with [`PdfError::Inconsistent`].
fn sign_into(
    input: &Path,
    tmp: &Path,
    signer: &dyn Signer,
    o: &SignOptions,
    consistent: bool,
) -> Result<(), PdfError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let io = |e| PdfError::io(tmp, e);
    let (copied_tx, copied_rx) = std::sync::mpsc::channel();
    let (tail_tx, tail_rx) = std::sync::mpsc::channel();
    let (gap_tx, gap_rx) = std::sync::mpsc::channel();
    let stop = AtomicBool::new(false);
    let last = o.level < Level::BLT;
    let (mut f, w, gap) = std::thread::scope(|s| {
        let stop = &stop;
        let writer =
            s.spawn(move || write_side(input, tmp, copied_tx, tail_rx, gap_rx, last, stop));
        let signed = (|| {
            let doc = Doc::open(input)?;
            if consistent {
                // pyHanko's strict mode refuses to validate any signature in such a file; a
                // complete section without /Prev hides the old chain (`Doc::strict_objection`,
                // read from the cross-reference alone; the scan of the whole file for marks
                // of a signature only when there is an objection).
                if let Some(why) = doc
                    .strict_objection()
                    .filter(|_| !crate::repair::has_signature_marks(&doc.data))
                {
                    return Err(PdfError::Inconsistent(why));
                }
            }
            refuse_broken(&doc)?;
            let mut w = match &o.resume_file {
                Some(rf) => prepared_revision(rf, &doc, || prepare(&doc, Some(signer), o))?,
                None => prepare(&doc, Some(signer), o)?,
            };
            let base = doc.data.len();
            drop(doc);
            let br = w.byte_range(base);
            // The writer is gone only when it failed; its error is reported below.
            let _ = tail_tx.send((w.buf.clone(), br));
            let (digest, der) = finish(&mut w, Some(signer), o.tsa_url.as_deref(), |h| {
                hash_as_written(tmp, base, &copied_rx, h)
            })?;
            // The writer puts the CMS into its gap and flushes while it is checked here.
            let (cs, ce) = w.contents.expect("placeholder written");
            let _ = gap_tx.send(w.buf[cs..ce].to_vec());
            let cms_ok = crate::verify::cms_matches(&der, &digest, false);
            Ok((w, base, cms_ok))
        })();
        if signed.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        drop((tail_tx, gap_tx));
        // The writer's error is the cause when both failed (hashing then lacks bytes).
        let written = writer.join().expect("writer thread")?;
        let (w, base, cms_ok) = signed?;
        let Some(WriterDone {
            file,
            copied,
            layout_ok,
            gap,
        }) = written
        else {
            return Err(self_check_failed());
        };
        if copied != base {
            return Err(PdfError::Request(format!(
                "{}: tệp đã thay đổi trong khi ký (the file changed while it was being signed)",
                input.display()
            )));
        }
        if !(layout_ok && cms_ok) {
            return Err(self_check_failed());
        }
        Ok((file, w, gap))
    })?;
    let (cs, ce) = w.contents.expect("placeholder written");
    if read_back(tmp, gap, ce - cs).map_err(io)? != w.buf[cs..ce] {
        return Err(self_check_failed());
    }
    if last {
        return Ok(());
    }
    let anchors: Vec<Vec<u8>> = signer
        .roots()
        .iter()
        .filter_map(|c| der::Encode::to_der(c).ok())
        .collect();
    append_ltv(tmp, &mut f, &anchors, o, |dss| refuse_revoked(signer, dss))?;
    f.sync_all().map_err(io)
}

/// B-LT: the DSS revision (certificates, CRLs and OCSP answers of every chain in the file,
/// plus the `anchors` that issued them), appended to the file `f` open at `tmp`'s end, once
/// `accept` has seen what was fetched; B-LTA: then a document timestamp over everything so
/// far, hashed from the file and self-checked.
fn append_ltv(
    tmp: &Path,
    f: &mut std::fs::File,
    anchors: &[Vec<u8>],
    o: &SignOptions,
    accept: impl FnOnce(&crate::ltv::DssRevision) -> Result<(), PdfError>,
) -> Result<(), PdfError> {
    let io = |e| PdfError::io(tmp, e);
    let check = Doc::open(tmp)?;
    let dss = crate::ltv::dss_revision(&check, anchors)?;
    drop(check);
    accept(&dss)?;
    f.write_all(&dss.buf).map_err(io)?;
    if o.level == Level::BLTA {
        let check = Doc::open(tmp)?;
        let ts_opts = SignOptions {
            tsa_url: o.tsa_url.clone(),
            ..Default::default()
        };
        let mut tw = prepare(&check, None, &ts_opts)?;
        let len = check.data.len();
        let tbr = {
            let (cs, ce) = tw.contents.expect("placeholder written");
            [0, len + cs, len + ce, tw.buf.len() - ce]
        };
        let (digest, token) = finish(&mut tw, None, o.tsa_url.as_deref(), |h| {
            check
                .feed(&[(0, len)], false, &mut |c| h.update(c))
                .map_err(io)
        })?;
        drop(check);
        f.write_all(&tw.buf).map_err(io)?;
        let check = Doc::open(tmp)?;
        if !crate::verify::self_check(&check, tbr, &token, &digest, true) {
            return Err(PdfError::Sign(
                "tự kiểm tra dấu thời gian tài liệu thất bại (self-check of the document timestamp failed)"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// Brings the signatures already in `input` to B-LT or B-LTA (`level`) without a new
/// signature, into `output` (atomically, as [`sign_file`]): the validation data of every
/// chain in the file in a DSS revision, then for B-LTA a document timestamp from `tsa_url` —
/// for files signed at B-B/B-T by a USB token away from the network, and to renew an
/// archive's timestamp before its authority's certificate expires. `anchors` (DER) are added
/// to the DSS when they issued a certificate in it. Earlier revisions stay byte-identical.
pub fn extend_file(
    input: &Path,
    output: &Path,
    level: Level,
    tsa_url: Option<&str>,
    anchors: &[Vec<u8>],
) -> Result<(), PdfError> {
    if level < Level::BLT {
        return Err(PdfError::Request(
            "chỉ nâng lên B-LT hoặc B-LTA (extend to B-LT or B-LTA only)".into(),
        ));
    }
    if level == Level::BLTA && tsa_url.is_none() {
        return Err(PdfError::Request(
            "B-LTA cần --tsa URL (B-LTA needs a timestamp authority)".into(),
        ));
    }
    let doc = Doc::open(input)?;
    doc.refuse_encrypted()?;
    if crate::verify::signature_fields(&doc).is_empty() {
        return Err(PdfError::NoSignature);
    }
    refuse_broken(&doc)?;
    let len = doc.data.len();
    drop(doc);
    let o = SignOptions {
        level,
        tsa_url: tsa_url.map(str::to_string),
        ..Default::default()
    };
    replace_with(output, |tmp| {
        let io = |e| PdfError::io(tmp, e);
        let mut f = std::fs::File::create(tmp).map_err(io)?;
        let mut src = std::fs::File::open(input).map_err(|e| PdfError::io(input, e))?;
        let copied = std::io::copy(&mut src, &mut f).map_err(io)?;
        if copied as usize != len {
            return Err(PdfError::Request(format!(
                "{}: tệp đã thay đổi trong khi xử lý (the file changed meanwhile)",
                input.display()
            )));
        }
        append_ltv(tmp, &mut f, anchors, &o, |_| Ok(()))?;
        f.sync_all().map_err(io)
    })
}

/// `len` bytes of the file at `path` from `at`.
fn read_back(path: &Path, at: u64, len: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0; len];
    f.read_exact(&mut buf)?;
    Ok(buf)
}

/// Reads a JSON object file (empty when missing).
pub fn read_json_file(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, PdfError> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            PdfError::Request(format!(
                "{}: tệp tiếp tục hỏng ({e}) (damaged resume file)",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(PdfError::io(path, e)),
    }
}

/// The prepared revision kept in `file` for this input, or a new one (then saved there).
fn prepared_revision(
    file: &Path,
    doc: &Doc,
    prepare: impl FnOnce() -> Result<Written, PdfError>,
) -> Result<Written, PdfError> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let input_sha256 = hex::encode(Sha256::digest(&doc.data[..]));
    let mut state = read_json_file(file)?;
    if let Some(r) = state.get("revision") {
        let pair = |k: &str| -> Option<(usize, usize)> {
            let a = r[k].as_array()?;
            Some((a.first()?.as_u64()? as usize, a.get(1)?.as_u64()? as usize))
        };
        if r["input_len"].as_u64() != Some(doc.data.len() as u64)
            || r["input_sha256"].as_str() != Some(&input_sha256)
        {
            return Err(PdfError::Request(format!(
                "{}: tệp tiếp tục thuộc về một tệp PDF khác hoặc tệp đã bị sửa (the resume file \
                 belongs to another input)",
                file.display()
            )));
        }
        let buf = b64.decode(r["buf"].as_str().unwrap_or_default()).ok();
        return match (buf, pair("br"), pair("contents")) {
            (Some(buf), Some(br), Some(contents))
                if br.0 + br.1 <= buf.len()
                    && contents.0 < contents.1
                    && contents.1 <= buf.len() =>
            {
                Ok(Written {
                    buf,
                    br: Some(br),
                    contents: Some(contents),
                })
            }
            _ => Err(PdfError::Request(format!(
                "{}: tệp tiếp tục hỏng (damaged resume file)",
                file.display()
            ))),
        };
    }
    let w = prepare()?;
    let (br, contents) = (w.br.expect("placeholder"), w.contents.expect("placeholder"));
    state.insert(
        "revision".into(),
        serde_json::json!({
            "input_len": doc.data.len(),
            "input_sha256": input_sha256,
            "buf": b64.encode(&w.buf),
            "br": [br.0, br.1],
            "contents": [contents.0, contents.1],
        }),
    );
    write_json_file(file, &state)?;
    Ok(w)
}

/// Writes a JSON object file atomically.
pub fn write_json_file(
    path: &Path,
    v: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), PdfError> {
    let b = serde_json::to_vec_pretty(v).map_err(|e| PdfError::Request(e.to_string()))?;
    write_atomic(path, &b)
}

/// Chunk of the copy in [`sign_file`]: small enough that hashing starts soon after the copy
/// does, large enough that the hand-over costs nothing.
const COPY_CHUNK: usize = 256 << 10;

/// What the writer of [`sign_file`] hands back.
struct WriterDone {
    file: std::fs::File,
    /// Bytes of the input copied.
    copied: usize,
    /// The signature dictionary reached from the AcroForm has exactly the new ByteRange,
    /// around an empty Contents.
    layout_ok: bool,
    /// Where the Contents gap starts in the file.
    gap: u64,
}

/// The writer of [`sign_file`]: creates the temporary file `tmp` and copies `input` into it,
/// reporting each chunk's end on `copied`; then appends the new revision (with an empty
/// Contents) that arrives on `tail` with its ByteRange, checks the file's layout and flushes
/// it to disk; last, writes the filled Contents that arrives on `gap` into its place and, when
/// nothing is to follow (`last`), flushes again. `None` when the signing side gave up (`stop`,
/// or nothing arrived).
fn write_side(
    input: &Path,
    tmp: &Path,
    copied: std::sync::mpsc::Sender<usize>,
    tail: std::sync::mpsc::Receiver<(Vec<u8>, [usize; 4])>,
    gap: std::sync::mpsc::Receiver<Vec<u8>>,
    last: bool,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Option<WriterDone>, PdfError> {
    use std::io::Read;
    let in_err = |e| PdfError::io(input, e);
    let out_err = |e| PdfError::io(tmp, e);
    let mut out = std::fs::File::create(tmp).map_err(out_err)?;
    let mut src = std::fs::File::open(input).map_err(in_err)?;
    let len = src.metadata().map_err(in_err)?.len() as usize;
    let mut buf = vec![0u8; COPY_CHUNK.min(len.max(1))];
    let mut done = 0;
    while done < len {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        let n = (len - done).min(buf.len());
        src.read_exact(&mut buf[..n]).map_err(in_err)?;
        out.write_all(&buf[..n]).map_err(out_err)?;
        done += n;
        // The hashing side is gone only when it failed; its error is reported.
        let _ = copied.send(done);
    }
    drop((copied, src, buf));
    let Ok((tail, br)) = tail.recv() else {
        return Ok(None);
    };
    out.write_all(&tail).map_err(out_err)?;
    let layout_ok = Doc::open(tmp).is_ok_and(|doc| {
        doc.data.len() == len + tail.len()
            && crate::verify::signed_range_contents(&doc, br)
                .is_some_and(|c| !c.is_empty() && c.iter().all(|&x| x == 0))
    });
    out.sync_data().map_err(out_err)?;
    let Ok(contents) = gap.recv() else {
        return Ok(None);
    };
    let at = br[1] as u64;
    out.seek(SeekFrom::Start(at)).map_err(out_err)?;
    out.write_all(&contents).map_err(out_err)?;
    out.seek(SeekFrom::End(0)).map_err(out_err)?;
    if last {
        out.sync_data().map_err(out_err)?;
    }
    Ok(Some(WriterDone {
        file: out,
        copied: len,
        layout_ok,
        gap: at,
    }))
}

/// The hashing side of [`sign_file`]: hashes the first `len` bytes of the file at `path` as
/// the writer reports them written.
fn hash_as_written(
    path: &Path,
    len: usize,
    written: &std::sync::mpsc::Receiver<usize>,
    h: &mut Sha256,
) -> Result<(), PdfError> {
    use std::io::Read;
    let mut file = None;
    let mut buf = vec![0u8; COPY_CHUNK.min(len.max(1))];
    let mut hashed = 0;
    while hashed < len {
        let ready = written.recv().map_err(|_| {
            PdfError::Sign("chép tệp gốc bị gián đoạn (copying the original stopped)".into())
        })?;
        // Opened once the writer has created it and written a first chunk.
        let file = match &mut file {
            Some(f) => f,
            None => file.insert(std::fs::File::open(path).map_err(|e| PdfError::io(path, e))?),
        };
        while hashed < ready {
            let n = (ready - hashed).min(buf.len());
            file.read_exact(&mut buf[..n])
                .map_err(|e| PdfError::io(path, e))?;
            h.update(&buf[..n]);
            hashed += n;
        }
    }
    Ok(())
}

/// B-B drops the TSA; B-T and above need one.
fn level_options(opts: &SignOptions) -> Result<SignOptions, PdfError> {
    let mut o = opts.clone();
    if opts.level == Level::BB {
        o.tsa_url = None;
    } else if opts.tsa_url.is_none() {
        return Err(PdfError::Request(
            "mức B-T trở lên cần máy chủ dấu thời gian --tsa (B-T and above need a TSA URL)".into(),
        ));
    }
    Ok(o)
}

/// Never add a signature on top of a broken one (integrity only: trust is the reader's).
fn refuse_broken(doc: &Doc) -> Result<(), PdfError> {
    // Nothing to check on a file without signature fields (most inputs): skip the full
    // validation pass and its scan of the whole file.
    if crate::verify::signature_fields(doc).is_empty() {
        return Ok(());
    }
    let rep = crate::verify::verify_doc(doc, &crate::verify::VerifyOptions::default());
    if let Some(bad) = rep
        .signatures
        .iter()
        .find(|s| !s.intact && s.verdict == crate::verify::UNDETERMINED)
    {
        return Err(PdfError::Request(format!(
            "chữ ký có sẵn \"{}\" dùng thuật toán hoặc dạng vanthu chưa kiểm tra được, không ký \
             tiếp (an existing signature cannot be checked by vanthu)",
            bad.field
        )));
    }
    if let Some(bad) = rep.signatures.iter().find(|s| !s.intact) {
        return Err(PdfError::Request(format!(
            "chữ ký có sẵn \"{}\" không toàn vẹn, không ký tiếp (existing signature is broken)",
            bad.field
        )));
    }
    if let Some(bad) = rep.signatures.iter().find(|s| {
        s.modifications
            .iter()
            .any(|m| m.class == crate::verify::ChangeClass::Forbidden)
    }) {
        return Err(PdfError::Request(format!(
            "tệp đã bị sửa không được phép sau chữ ký \"{}\" (forbidden changes after an existing signature)",
            bad.field
        )));
    }
    Ok(())
}

/// Writes to a temporary file in the same folder, syncs it and renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PdfError> {
    replace_with(path, |tmp| {
        let mut f = std::fs::File::create(tmp).map_err(|e| PdfError::io(tmp, e))?;
        f.write_all(bytes).map_err(|e| PdfError::io(tmp, e))?;
        f.sync_all().map_err(|e| PdfError::io(tmp, e))
    })
}

/// A temporary file next to `path`: `.NAME.PID.EXT`.
fn temp_path(path: &Path, ext: &str) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out.pdf".into());
    dir.join(format!(".{name}.{}.{ext}", std::process::id()))
}

/// Lets `fill` write, sync and check a temporary file in `path`'s folder (every handle to it
/// closed on return), then renames it over `path`; on any error the temporary file is removed
/// and `path` untouched.
fn replace_with(
    path: &Path,
    fill: impl FnOnce(&Path) -> Result<(), PdfError>,
) -> Result<(), PdfError> {
    // Named before anything is written: a folder in place of the output file, or a folder
    // for it that does not exist (otherwise the error would name the temporary file).
    if path.is_dir() {
        return Err(PdfError::io(path, crate::error::is_a_folder()));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent.filter(|d| !d.is_dir()) {
        return Err(PdfError::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "thư mục để lưu tệp không có (the output folder does not exist)",
            ),
        ));
    }
    let tmp = temp_path(path, "tmp");
    let res =
        fill(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| PdfError::io(path, e)));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}
