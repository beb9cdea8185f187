//! Visible signature appearances (Decree 30/2020 Appendix I): a form XObject with the signature
//! or seal image (PNG with transparency → RGB image + `/SMask`) and text lines (signer, time) in
//! an embedded TrueType subset (Type0 / CIDFontType2, Identity-H, `/W`, ToUnicode), so
//! Vietnamese renders and extracts in any viewer.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use unicode_normalization::UnicodeNormalization;

use crate::object::{Dict, Obj};
use crate::sign::{Update, Visible};
use crate::PdfError;

/// Font files tried in order: Times New Roman (where installed), then Liberation Serif, then
/// DejaVu Serif (Debian `fonts-liberation2`, `fonts-dejavu-core`).
pub fn default_font_paths() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    if let Ok(w) = std::env::var("WINDIR") {
        v.push(PathBuf::from(w).join("Fonts").join("times.ttf"));
    }
    for p in [
        "/usr/share/fonts/truetype/msttcorefonts/Times_New_Roman.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
        "/System/Library/Fonts/Supplemental/Times New Roman.ttf",
    ] {
        v.push(PathBuf::from(p));
    }
    v
}

fn flate(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

fn font_err(e: impl std::fmt::Display) -> PdfError {
    PdfError::Unsupported(format!("phông chữ (font): {e}"))
}

/// Loads the first usable font (embedding allowed by its OS/2 fsType).
fn load_font(explicit: Option<&std::path::Path>) -> Result<(Vec<u8>, String), PdfError> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => default_font_paths(),
    };
    for p in candidates {
        let Ok(data) = std::fs::read(&p) else {
            continue;
        };
        let Ok(face) = ttf_parser::Face::parse(&data, 0) else {
            continue;
        };
        if matches!(
            face.permissions(),
            Some(ttf_parser::Permissions::Restricted)
        ) {
            tracing::warn!(font = %p.display(), "font forbids embedding");
            continue;
        }
        let name = face
            .names()
            .into_iter()
            .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .and_then(|n| n.to_string())
            .unwrap_or_else(|| "Font".into());
        let name: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        return Ok((data, name));
    }
    Err(font_err(
        "không tìm thấy phông Unicode (no Unicode TrueType font: install fonts-liberation2 or fonts-dejavu-core)",
    ))
}

/// Font object number, each line as 2-byte CIDs, each line's width at 1 pt.
type EmbeddedText = (u32, Vec<Vec<u8>>, Vec<f64>);

/// Embeds a subset of the font for `lines`; returns (font object number, encoded lines as CID
/// hex strings, widths of the lines at 1 pt).
fn embed_font(
    up: &mut Update<'_>,
    lines: &[String],
    font_path: Option<&std::path::Path>,
) -> Result<EmbeddedText, PdfError> {
    let (data, name) = load_font(font_path)?;
    let face = ttf_parser::Face::parse(&data, 0).map_err(font_err)?;
    let upem = face.units_per_em() as f64;
    let mut remap = subsetter::GlyphRemapper::new();
    let mut widths: BTreeMap<u16, f64> = BTreeMap::new();
    let mut tounicode: BTreeMap<u16, String> = BTreeMap::new();
    let mut encoded = Vec::new();
    let mut line_w = Vec::new();
    for line in lines {
        let mut cids = Vec::new();
        let mut w = 0.0;
        for ch in line.nfc() {
            let gid = face.glyph_index(ch).map(|g| g.0).unwrap_or(0);
            if gid == 0 {
                tracing::warn!(char = %ch, "glyph missing in font");
            }
            let cid = remap.remap(gid);
            let adv = face
                .glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0) as f64
                * 1000.0
                / upem;
            widths.insert(cid, adv);
            tounicode.entry(cid).or_default();
            if tounicode[&cid].is_empty() {
                tounicode.insert(cid, ch.to_string());
            }
            w += adv / 1000.0;
            cids.extend_from_slice(&cid.to_be_bytes());
        }
        encoded.push(cids);
        line_w.push(w);
    }
    let sub = subsetter::subset(&data, 0, &remap).map_err(font_err)?;
    // A subset tag derived from the glyphs used.
    let tag: String = {
        let h = sha2::Digest::finalize(sha2::Digest::chain_update(
            <sha2::Sha256 as sha2::Digest>::new(),
            &sub,
        ));
        h.iter().take(6).map(|b| (b'A' + b % 26) as char).collect()
    };
    let base = format!("{tag}+{name}");
    let ff = up.alloc();
    up.put(
        ff,
        Obj::Stream(
            Dict::new()
                .with("Filter", Obj::name("FlateDecode"))
                .with("Length1", Obj::Int(sub.len() as i64)),
            flate(&sub),
        ),
    );
    let bbox = face.global_bounding_box();
    let s = |v: i16| Obj::Int((v as f64 * 1000.0 / upem).round() as i64);
    let fd = up.alloc();
    up.put(
        fd,
        Obj::Dict(
            Dict::new()
                .with("Type", Obj::name("FontDescriptor"))
                .with("FontName", Obj::name(&base))
                .with("Flags", Obj::Int(4))
                .with(
                    "FontBBox",
                    Obj::Arr(vec![
                        s(bbox.x_min),
                        s(bbox.y_min),
                        s(bbox.x_max),
                        s(bbox.y_max),
                    ]),
                )
                .with("ItalicAngle", Obj::Int(0))
                .with("Ascent", s(face.ascender()))
                .with("Descent", s(face.descender()))
                .with(
                    "CapHeight",
                    s(face.capital_height().unwrap_or(face.ascender())),
                )
                .with("StemV", Obj::Int(80))
                .with("FontFile2", Obj::Ref(ff, 0)),
        ),
    );
    let mut w_arr = Vec::new();
    for (cid, w) in &widths {
        w_arr.push(Obj::Int(*cid as i64));
        w_arr.push(Obj::Arr(vec![Obj::Int(w.round() as i64)]));
    }
    let cid_font = up.alloc();
    up.put(
        cid_font,
        Obj::Dict(
            Dict::new()
                .with("Type", Obj::name("Font"))
                .with("Subtype", Obj::name("CIDFontType2"))
                .with("BaseFont", Obj::name(&base))
                .with(
                    "CIDSystemInfo",
                    Obj::Dict(
                        Dict::new()
                            .with("Registry", Obj::str("Adobe"))
                            .with("Ordering", Obj::str("Identity"))
                            .with("Supplement", Obj::Int(0)),
                    ),
                )
                .with("FontDescriptor", Obj::Ref(fd, 0))
                .with("DW", Obj::Int(1000))
                .with("W", Obj::Arr(w_arr))
                .with("CIDToGIDMap", Obj::name("Identity")),
        ),
    );
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<_> = tounicode.iter().filter(|(_, s)| !s.is_empty()).collect();
    for chunk in entries.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (cid, s) in chunk {
            let u: String = s.encode_utf16().map(|u| format!("{u:04X}")).collect();
            cmap.push_str(&format!("<{cid:04X}> <{u}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let tu = up.alloc();
    up.put(
        tu,
        Obj::Stream(
            Dict::new().with("Filter", Obj::name("FlateDecode")),
            flate(cmap.as_bytes()),
        ),
    );
    let font = up.alloc();
    up.put(
        font,
        Obj::Dict(
            Dict::new()
                .with("Type", Obj::name("Font"))
                .with("Subtype", Obj::name("Type0"))
                .with("BaseFont", Obj::name(&base))
                .with("Encoding", Obj::name("Identity-H"))
                .with("DescendantFonts", Obj::Arr(vec![Obj::Ref(cid_font, 0)]))
                .with("ToUnicode", Obj::Ref(tu, 0)),
        ),
    );
    Ok((font, encoded, line_w))
}

/// A decoded PNG: width, height, RGB samples, alpha samples.
type Decoded = (u32, u32, Vec<u8>, Vec<u8>);

fn decode_png(png_bytes: &[u8]) -> Result<Decoded, PdfError> {
    let bad = |e: &dyn std::fmt::Display| PdfError::Image(format!("ảnh PNG hỏng ({e}) (bad PNG)"));
    let mut dec = png::Decoder::new(png_bytes);
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().map_err(|e| bad(&e))?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).map_err(|e| bad(&e))?;
    let (w, h) = (info.width, info.height);
    let px = &buf[..info.buffer_size()];
    let n = (w * h) as usize;
    let mut rgb = Vec::with_capacity(n * 3);
    let mut alpha = Vec::with_capacity(n);
    match info.color_type {
        png::ColorType::Rgba => {
            for p in px.chunks(4) {
                rgb.extend_from_slice(&p[..3]);
                alpha.push(p[3]);
            }
        }
        png::ColorType::Rgb => {
            rgb.extend_from_slice(px);
            alpha.resize(n, 255);
        }
        png::ColorType::GrayscaleAlpha => {
            for p in px.chunks(2) {
                rgb.extend_from_slice(&[p[0], p[0], p[0]]);
                alpha.push(p[1]);
            }
        }
        png::ColorType::Grayscale => {
            for &g in px {
                rgb.extend_from_slice(&[g, g, g]);
            }
            alpha.resize(n, 255);
        }
        png::ColorType::Indexed => return Err(bad(&"indexed colour after expansion")),
    }
    Ok((w, h, rgb, alpha))
}

/// Share of the visible ink (opaque, not near-white pixels) whose colour `is(r, g, b)`, and
/// whether the image has any transparency.
fn ink_share(d: &Decoded, is: impl Fn(i32, i32, i32) -> bool) -> (f64, bool) {
    let (_, _, rgb, alpha) = d;
    let (mut ink, mut hit) = (0usize, 0usize);
    for (p, &a) in rgb.chunks(3).zip(alpha) {
        let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
        if a < 128 || (r > 230 && g > 230 && b > 230) {
            continue;
        }
        ink += 1;
        if is(r, g, b) {
            hit += 1;
        }
    }
    let share = if ink == 0 {
        0.0
    } else {
        hit as f64 / ink as f64
    };
    (share, alpha.iter().any(|&a| a < 128))
}

/// The seal upload (spec §3.2, "check uploads for alpha and hue"): a transparent background
/// (an opaque seal would hide the leader's signature it overlaps) and red ink.
pub(crate) fn check_seal(png_bytes: &[u8]) -> Result<(), PdfError> {
    if !png_bytes.starts_with(PNG_MAGIC) {
        return Err(PdfError::Image(
            "ảnh con dấu phải là tệp PNG nền trong suốt (the seal image must be a PNG with a transparent background)"
                .into(),
        ));
    }
    let d = decode_png(png_bytes)?;
    let (red, transparent) = ink_share(&d, |r, g, b| r > g + 60 && r > b + 60);
    if !transparent {
        return Err(PdfError::Image(
            "ảnh con dấu phải có nền trong suốt (PNG có kênh alpha) (the seal PNG needs a transparent background)".into(),
        ));
    }
    if red < 0.6 {
        return Err(PdfError::Image(format!(
            "ảnh con dấu phải màu đỏ ({:.0}% điểm ảnh đỏ) (the seal must be red)",
            red * 100.0
        )));
    }
    Ok(())
}

/// The leader's handwritten signature should be blue on a transparent background: only a
/// warning (the image is the signer's own choice).
pub(crate) fn check_signature_image(png_bytes: &[u8]) {
    if let Ok(d) = decode_png(png_bytes) {
        let (blue, transparent) = ink_share(&d, |r, g, b| b > r + 40 && b > g + 20);
        if !transparent || blue < 0.6 {
            tracing::warn!(
                transparent,
                blue_share = blue,
                "signature image should be blue on a transparent background (Decree 30)"
            );
        }
    }
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

fn is_jpeg(b: &[u8]) -> bool {
    b.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// The signature image: a PNG (transparency kept), or a JPEG as scanners and phones save a
/// handwritten signature (embedded as it is, `/DCTDecode`, opaque). Anything else is named.
fn embed_image(up: &mut Update<'_>, bytes: &[u8]) -> Result<(u32, u32, u32), PdfError> {
    if is_jpeg(bytes) {
        return embed_jpeg(up, bytes);
    }
    if !bytes.starts_with(PNG_MAGIC) {
        return Err(PdfError::Image(
            "ảnh chữ ký phải là tệp PNG hoặc JPEG (the signature image must be a PNG or JPEG file)"
                .into(),
        ));
    }
    embed_png(up, bytes)
}

/// Width, height and number of colour components from a JPEG's frame header (SOFn).
pub(crate) fn jpeg_info(b: &[u8]) -> Result<(u32, u32, u8), PdfError> {
    let bad = |why: &str| PdfError::Image(format!("ảnh JPEG hỏng: {why} (bad JPEG)"));
    if !is_jpeg(b) {
        return Err(bad("thiếu SOI (no start of image)"));
    }
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return Err(bad("mất đồng bộ (marker expected)"));
        }
        let m = b[i + 1];
        if m == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if m == 0x01 || (0xD0..=0xD7).contains(&m) {
            i += 2; // markers without a length
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        if len < 2 || i + 2 + len > b.len() {
            return Err(bad("đoạn bị cắt (truncated segment)"));
        }
        let sof = matches!(m, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF);
        if sof {
            if len < 8 {
                return Err(bad("khung quá ngắn (short frame header)"));
            }
            let f = &b[i + 4..];
            let (bits, h, w, n) = (
                f[0],
                u16::from_be_bytes([f[1], f[2]]) as u32,
                u16::from_be_bytes([f[3], f[4]]) as u32,
                f[5],
            );
            if bits != 8 || w == 0 || h == 0 {
                return Err(PdfError::Image(format!(
                    "ảnh JPEG {bits} bit, {w}×{h}: chỉ nhận JPEG 8 bit có kích thước (only 8-bit JPEGs with a size)"
                )));
            }
            return Ok((w, h, n));
        }
        if m == 0xDA || m == 0xD9 {
            break; // scan data before any frame header
        }
        i += 2 + len;
    }
    Err(bad("không có khung ảnh (no frame header)"))
}

/// A JPEG embedded as it is (`/DCTDecode`): greyscale or colour; CMYK is refused (its
/// inversion differs between producers). Returns (object, w, h).
fn embed_jpeg(up: &mut Update<'_>, bytes: &[u8]) -> Result<(u32, u32, u32), PdfError> {
    let (w, h, n) = jpeg_info(bytes)?;
    let cs = match n {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        _ => {
            return Err(PdfError::Image(format!(
                "ảnh JPEG {n} kênh màu (CMYK?): hãy lưu lại dạng RGB hoặc PNG (only greyscale or RGB JPEGs)"
            )))
        }
    };
    let im = up.alloc();
    up.put(
        im,
        Obj::Stream(image_dict(w, h, cs, "DCTDecode"), bytes.to_vec()),
    );
    Ok((im, w, h))
}

/// An 8-bit image XObject's dictionary.
fn image_dict(w: u32, h: u32, colour_space: &str, filter: &str) -> Dict {
    Dict::new()
        .with("Type", Obj::name("XObject"))
        .with("Subtype", Obj::name("Image"))
        .with("Width", Obj::Int(w as i64))
        .with("Height", Obj::Int(h as i64))
        .with("ColorSpace", Obj::name(colour_space))
        .with("BitsPerComponent", Obj::Int(8))
        .with("Filter", Obj::name(filter))
}

/// Decodes a PNG into an RGB image XObject with an alpha `/SMask`; returns (object, w, h).
fn embed_png(up: &mut Update<'_>, png_bytes: &[u8]) -> Result<(u32, u32, u32), PdfError> {
    let (w, h, rgb, alpha) = decode_png(png_bytes)?;
    let img_dict = |cs: &str| image_dict(w, h, cs, "FlateDecode");
    let mut d = img_dict("DeviceRGB");
    if alpha.iter().any(|&a| a != 255) {
        let sm = up.alloc();
        up.put(sm, Obj::Stream(img_dict("DeviceGray"), flate(&alpha)));
        d.set("SMask", Obj::Ref(sm, 0));
    }
    let im = up.alloc();
    up.put(im, Obj::Stream(d, flate(&rgb)));
    Ok((im, w, h))
}

fn hex(b: &[u8]) -> String {
    format!("<{}>", hex::encode_upper(b))
}

/// Width of `s` (NFC) at 1 pt in the font.
fn text_width(face: &ttf_parser::Face<'_>, s: &str) -> f64 {
    let upem = face.units_per_em() as f64;
    s.nfc()
        .map(|ch| {
            let gid = face.glyph_index(ch).map(|g| g.0).unwrap_or(0);
            face.glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0) as f64
                / upem
        })
        .sum()
}

/// Lines normalised to NFC; a line wider than `max_w` at 10 pt is wrapped after its `"; "`
/// separators (the stamp wraps at 80 mm).
fn wrap_lines(
    lines: &[String],
    max_w: f64,
    font_path: Option<&std::path::Path>,
) -> Result<Vec<String>, PdfError> {
    let (data, _) = load_font(font_path)?;
    let face = ttf_parser::Face::parse(&data, 0).map_err(font_err)?;
    Ok(wrap_with(&face, lines, max_w))
}

/// [`wrap_lines`] with the font already parsed.
fn wrap_with(face: &ttf_parser::Face<'_>, lines: &[String], max_w: f64) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines {
        let line: String = line.nfc().collect();
        if text_width(face, &line) * 10.0 <= max_w || !line.contains("; ") {
            out.push(line);
            continue;
        }
        let mut cur = String::new();
        for part in line.split_inclusive("; ") {
            let cand = format!("{cur}{part}");
            if !cur.is_empty() && text_width(face, cand.trim_end()) * 10.0 > max_w {
                out.push(cur.trim_end().to_string());
                cur = part.to_string();
            } else {
                cur = cand;
            }
        }
        if !cur.is_empty() {
            out.push(cur.trim_end().to_string());
        }
    }
    out
}

/// Inner margin of a box with text (points).
const TEXT_PAD: f64 = 2.0;

/// Width of a text-only box for `lines` at 10 pt: the widest line after wrapping at `max_w`
/// (pad included), never more than `max_w`. The organisation stamp's box hugs its text so its
/// right edge, not an empty margin, sits at the regulation's distance from the page edge.
pub(crate) fn text_box_width(
    lines: &[String],
    max_w: f64,
    font_path: Option<&std::path::Path>,
) -> Result<f64, PdfError> {
    let (data, _) = load_font(font_path)?;
    let face = ttf_parser::Face::parse(&data, 0).map_err(font_err)?;
    let widest = wrap_with(&face, lines, max_w - 2.0 * TEXT_PAD)
        .iter()
        .map(|l| text_width(&face, l) * 10.0)
        .fold(0.0, f64::max);
    // Half a point of slack so that rounding never shrinks the font below 10 pt or re-wraps.
    Ok((widest + 2.0 * TEXT_PAD + 0.5).min(max_w))
}

/// Builds the normal appearance of a visible signature and returns its object number. `v.rect`
/// is in displayed coordinates; on a page with `/Rotate` the form's `/Matrix` counter-rotates
/// the drawing so it shows upright.
pub(crate) fn build(up: &mut Update<'_>, v: &Visible, rotate: i64) -> Result<u32, PdfError> {
    let (w, h) = (v.rect[2], v.rect[3]);
    let mut content = String::from("q\n");
    let mut res_font = Dict::new();
    let mut res_xobj = Dict::new();
    // An image alone (the seal) fills its box exactly: real size.
    let pad = if v.text.is_empty() { 0.0 } else { TEXT_PAD };
    let mut text_h = 0.0;
    let mut font_size = 10.0f64;
    let mut lines_enc = Vec::new();
    let mut line_w = Vec::new();
    let text = if v.text.is_empty() {
        Vec::new()
    } else {
        wrap_lines(&v.text, w - 2.0 * pad, v.font.as_deref())?
    };
    let v = &Visible { text, ..v.clone() };
    if !v.text.is_empty() {
        let (font, enc, lw) = embed_font(up, &v.text, v.font.as_deref())?;
        res_font.set("F1", Obj::Ref(font, 0));
        // Times-like 10 pt, smaller if the box is too narrow or too low.
        let widest = lw.iter().cloned().fold(0.0, f64::max);
        if widest > 0.0 {
            font_size = font_size.min((w - 2.0 * pad) / widest);
        }
        let max_h = if v.image_png.is_some() {
            h * 0.45
        } else {
            h - 2.0 * pad
        };
        font_size = font_size.min(max_h / (v.text.len() as f64 * 1.2)).max(4.0);
        text_h = v.text.len() as f64 * font_size * 1.2 + pad;
        lines_enc = enc;
        line_w = lw;
    }
    if let Some(img) = &v.image_png {
        let (im, iw, ih) = embed_image(up, img)?;
        res_xobj.set("Im1", Obj::Ref(im, 0));
        // Fit the image in the area above the text, keeping its aspect ratio.
        let (aw, ah) = (w - 2.0 * pad, (h - text_h - 2.0 * pad).max(1.0));
        let s = (aw / iw as f64).min(ah / ih as f64);
        let (dw, dh) = (iw as f64 * s, ih as f64 * s);
        let x = (w - dw) / 2.0;
        let y = text_h + pad + (ah - dh) / 2.0;
        content.push_str(&format!(
            "q {dw:.3} 0 0 {dh:.3} {x:.3} {y:.3} cm /Im1 Do Q\n"
        ));
    }
    if !lines_enc.is_empty() {
        content.push_str(&format!("BT /F1 {font_size:.2} Tf 0 g\n"));
        let n = lines_enc.len();
        for (i, (enc, lw)) in lines_enc.iter().zip(&line_w).enumerate() {
            let y = pad + (n - 1 - i) as f64 * font_size * 1.2 + font_size * 0.25;
            let x = if v.image_png.is_some() {
                ((w - lw * font_size) / 2.0).max(pad)
            } else {
                pad
            };
            content.push_str(&format!("1 0 0 1 {x:.3} {y:.3} Tm {} Tj\n", hex(enc)));
        }
        content.push_str("ET\n");
    }
    content.push_str("Q\n");
    let mut res = Dict::new();
    if !res_font.0.is_empty() {
        res.set("Font", Obj::Dict(res_font));
    }
    if !res_xobj.0.is_empty() {
        res.set("XObject", Obj::Dict(res_xobj));
    }
    let n = up.alloc();
    let mut d = Dict::new()
        .with("Type", Obj::name("XObject"))
        .with("Subtype", Obj::name("Form"))
        .with(
            "BBox",
            Obj::Arr(vec![Obj::Int(0), Obj::Int(0), Obj::coord(w), Obj::coord(h)]),
        )
        .with("Resources", Obj::Dict(res));
    // The page turns clockwise by `rotate` when shown: turn the form the other way (the
    // transformed BBox is then fitted to the widget's /Rect, so no translation is needed).
    let m = match rotate {
        90 => Some([0, 1, -1, 0]),
        180 => Some([-1, 0, 0, -1]),
        270 => Some([0, -1, 1, 0]),
        _ => None,
    };
    if let Some(m) = m {
        d.set(
            "Matrix",
            Obj::Arr(
                m.iter()
                    .chain(&[0, 0])
                    .map(|c| Obj::Int(*c as i64))
                    .collect(),
            ),
        );
    }
    up.put(n, Obj::Stream(d, content.into_bytes()));
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::jpeg_info;
    use proptest::prelude::*;

    /// SOI, an APP0 segment, a baseline frame header (8 bit, 64×160, 3 components), SOS.
    fn tiny_jpeg() -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        j.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x06, b'J', b'F', b'I', b'F']);
        j.extend_from_slice(&[0xFF, 0xFF]); // a fill byte before the next marker
        j.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 8, 0x00, 0x40, 0x00, 0xA0, 3]);
        j.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        j
    }

    #[test]
    fn frame_header_gives_the_size() {
        assert_eq!(jpeg_info(&tiny_jpeg()).unwrap(), (160, 64, 3));
        let mut twelve = tiny_jpeg();
        twelve[14] = 12;
        assert!(jpeg_info(&twelve).is_err(), "12-bit refused");
        assert!(jpeg_info(b"GIF89a").is_err());
    }

    proptest! {
        /// Any bytes after the SOI marker: an answer or an error, never a panic; a cut or
        /// damaged copy of a JPEG never reports a size other than the real one.
        #[test]
        fn never_panics_and_never_invents(cut in 0usize..40, flip in 0usize..40, tail in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut j = tiny_jpeg();
            j.truncate(cut.max(2));
            let _ = jpeg_info(&j);
            let k = [vec![0xFF, 0xD8, 0xFF], tail].concat();
            let _ = jpeg_info(&k);
            let mut d = tiny_jpeg();
            let f = flip % d.len();
            d[f] ^= 0x5A;
            if let Ok((w, h, n)) = jpeg_info(&d) {
                prop_assert!(w > 0 && h > 0 && n > 0);
            }
            if let Ok(dims) = jpeg_info(&j) {
                prop_assert_eq!(dims, (160, 64, 3));
            }
        }
    }
}
