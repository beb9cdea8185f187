//! Visible signatures: PNG with transparency and Vietnamese text in an embedded font subset.
//! Oracles: pyHanko (still VALID), qpdf, poppler's pdffonts/pdftotext/pdftoppm.

mod common;

use std::process::Command;

use common::*;
use vanthu_pdf::doc::Doc;
use vanthu_pdf::object::Obj;
use vanthu_pdf::sign::{sign_bytes, vn_time, CopyStamp, Seal, SignOptions, Visible};
use vanthu_pdf::verify::verify_bytes;

/// A 60×30 transparent PNG with a red stroke (a seal-like image).
fn red_png() -> Vec<u8> {
    let (w, h) = (60u32, 30u32);
    let mut px = vec![0u8; (w * h * 4) as usize];
    for y in 0..h {
        for x in 0..w {
            if (x as i32 - 2 * y as i32).abs() < 6 || y == 15 {
                let i = ((y * w + x) * 4) as usize;
                px[i..i + 4].copy_from_slice(&[220, 0, 0, 255]);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Rgba);
        e.set_depth(png::BitDepth::Eight);
        e.write_header().unwrap().write_image_data(&px).unwrap();
    }
    out
}

fn tool(cmd: &str, args: &[&str], f: &std::path::Path) -> String {
    let o = Command::new(cmd)
        .args(args)
        .arg(f)
        .output()
        .unwrap_or_else(|_| panic!("{cmd} is installed (poppler-utils, scripts/setup.sh)"));
    assert!(
        o.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn visible_signature_with_image_and_vietnamese_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = sign_bytes(
        sample_pdf(2, "Van ban"),
        &p12("leader"),
        &SignOptions {
            visible: Some(Visible {
                page: 1,
                rect: [360.0, 80.0, 180.0, 90.0],
                image_png: Some(red_png()),
                text: Vec::new(),
                font: None,
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let f = dir.path().join("visible.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.contains(":VALID"), "pyHanko: {txt}");
    let (ok, txt) = qpdf_check(&f);
    assert!(ok, "{txt}");
    // The font is embedded as a subset.
    let fonts = tool("pdffonts", &[], &f);
    let line = fonts
        .lines()
        .find(|l| l.contains("CID TrueType"))
        .unwrap_or_else(|| panic!("no CID TrueType font: {fonts}"));
    assert!(line.contains('+'), "subset tag: {line}");
    assert!(
        line.contains("yes yes yes"),
        "embedded, subset, ToUnicode: {line}"
    );
    // Vietnamese text extracts through ToUnicode (the widget is drawn by poppler).
    let text = tool("pdftotext", &["-f", "1", "-l", "1"], &f);
    let text = String::from_utf8_lossy(
        &std::fs::read(f.with_extension("txt")).unwrap_or(text.into_bytes()),
    )
    .into_owned();
    assert!(text.contains("Nguyễn Văn An"), "pdftotext: {text}");
    assert!(text.contains("+07:00"), "time drawn: {text}");
    // The red image is rendered inside the box (72 dpi: 1 px = 1 pt, y from the top).
    let prefix = dir.path().join("page");
    let st = Command::new("pdftoppm")
        .args(["-r", "72", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&f)
        .arg(&prefix)
        .status()
        .expect("pdftoppm");
    assert!(st.success());
    let png_bytes = std::fs::read(prefix.with_extension("png")).unwrap();
    let mut dec = png::Decoder::new(&png_bytes[..]);
    dec.set_transformations(png::Transformations::EXPAND);
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut red = 0;
    for y in (h - 170)..(h - 80) {
        for x in 360..540 {
            let p = &buf[(y * w + x) * ch..];
            if p[0] > 180 && p[1] < 80 && p[2] < 80 {
                red += 1;
            }
        }
    }
    assert!(red > 50, "red image pixels in the box: {red}");
}

#[test]
fn organisation_stamp_top_right_of_page_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = sign_bytes(
        sample_pdf(2, "Phu luc"),
        &p12("clerk"),
        &SignOptions {
            org_stamp: true,
            field_name: Some("ToChuc".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let f = dir.path().join("org.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.contains(":VALID"), "pyHanko: {txt}");
    // Text only, in the top-right corner: crop that area of page 1.
    let o = Command::new("pdftotext")
        .args([
            "-f", "1", "-l", "1", "-x", "300", "-y", "0", "-W", "295", "-H", "120",
        ])
        .arg(&f)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Văn thư Sở Nội vụ"), "{text}");
    let iso = regex_like_iso(&text);
    assert!(iso, "ISO 8601 time with +07:00 in: {text}");
    let fonts = tool("pdfimages", &["-list"], &f);
    assert_eq!(fonts.lines().count(), 2, "no image drawn: {fonts}");
}

fn regex_like_iso(t: &str) -> bool {
    t.split_whitespace().any(|w| {
        w.len() == 25
            && w.as_bytes()[4] == b'-'
            && w.as_bytes()[10] == b'T'
            && w.ends_with("+07:00")
    })
}

/// A `w`×`h` transparent RGBA PNG; `ink(x, y)` gives the opaque pixels' colour.
fn png_of(w: u32, h: u32, ink: impl Fn(u32, u32) -> Option<[u8; 3]>) -> Vec<u8> {
    let mut px = vec![0u8; (w * h * 4) as usize];
    for y in 0..h {
        for x in 0..w {
            if let Some(c) = ink(x, y) {
                let i = ((y * w + x) * 4) as usize;
                px[i..i + 3].copy_from_slice(&c);
                px[i + 3] = 255;
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Rgba);
        e.set_depth(png::BitDepth::Eight);
        e.write_header().unwrap().write_image_data(&px).unwrap();
    }
    out
}

/// The leader's handwritten signature: blue strokes over the whole 200×100 image.
fn blue_png() -> Vec<u8> {
    png_of(200, 100, |x, y| {
        let (x, y) = (x as i32, y as i32);
        ((y - 50 - ((x / 8) % 5 - 2) * 8).abs() < 4 || (x % 40) < 3).then_some([20, 40, 200])
    })
}

/// A round red seal: a filled ring and a star-like centre, transparent outside.
fn seal_png() -> Vec<u8> {
    png_of(240, 240, |x, y| {
        let (dx, dy) = (x as f64 - 119.5, y as f64 - 119.5);
        let r = (dx * dx + dy * dy).sqrt();
        ((100.0..119.0).contains(&r) || (70.0..78.0).contains(&r) || r < 20.0)
            .then_some([220, 0, 0])
    })
}

/// Renders page 1 at 72 dpi (1 px = 1 pt, y from the top): (rgb pixels, width, height).
fn render(f: &std::path::Path, dir: &std::path::Path) -> (Vec<u8>, usize, usize) {
    let prefix = dir.join(format!("r-{}", f.file_stem().unwrap().to_string_lossy()));
    let st = Command::new("pdftoppm")
        .args([
            "-r",
            "72",
            "-png",
            "-cropbox",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
        ])
        .arg(f)
        .arg(&prefix)
        .status()
        .expect("pdftoppm");
    assert!(st.success());
    let png_bytes = std::fs::read(prefix.with_extension("png")).unwrap();
    let mut dec = png::Decoder::new(&png_bytes[..]);
    dec.set_transformations(png::Transformations::EXPAND);
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let rgb: Vec<u8> = buf[..info.buffer_size()]
        .chunks(ch)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (rgb, info.width as usize, info.height as usize)
}

/// Pixels matching `pred` in the page-space box [x0, x1) × [y0, y1) (PDF y, from the bottom).
fn count(
    (rgb, w, h): &(Vec<u8>, usize, usize),
    [x0, y0, x1, y1]: [f64; 4],
    pred: impl Fn(&[u8]) -> bool,
) -> usize {
    let mut n = 0;
    for py in (*h as f64 - y1).max(0.0) as usize..((*h as f64 - y0) as usize).min(*h) {
        for px in x0.max(0.0) as usize..(x1 as usize).min(*w) {
            if pred(&rgb[(py * w + px) * 3..][..3]) {
                n += 1;
            }
        }
    }
    n
}

fn is_red(p: &[u8]) -> bool {
    p[0] > 170 && p[1] < 90 && p[2] < 90
}

fn is_blue(p: &[u8]) -> bool {
    p[2] > 150 && p[0] < 90 && p[1] < 110
}

/// The /Rect of the widget named `name` and whether it is the last of its page's /Annots.
fn widget_rect(data: &[u8], name: &str) -> ([f64; 4], bool) {
    let doc = Doc::parse(data.to_vec()).unwrap();
    let pages = doc.pages().unwrap();
    for (p, _) in pages {
        let annots = doc.page_attr(p, "Annots").unwrap();
        let Some(annots) = annots.as_ref().and_then(Obj::as_arr) else {
            continue;
        };
        for (i, a) in annots.iter().enumerate() {
            let d = doc.resolve(a).unwrap();
            let d = d.as_dict().unwrap();
            let t = d.get("T").and_then(Obj::as_str).unwrap_or_default();
            if t == name.as_bytes() {
                let r: Vec<f64> = doc
                    .resolve(d.get("Rect").unwrap())
                    .unwrap()
                    .as_arr()
                    .unwrap()
                    .iter()
                    .filter_map(Obj::as_num)
                    .collect();
                return ([r[0], r[1], r[2], r[3]], i + 1 == annots.len());
            }
        }
    }
    panic!("no widget {name}");
}

#[test]
fn seal_at_real_size_over_left_third_of_leader_signature() {
    let dir = tempfile::tempdir().unwrap();
    let leader_rect = [330.0, 150.0, 180.0, 90.0];
    let led = sign_bytes(
        sample_pdf(1, "Quyet dinh"),
        &p12("leader"),
        &SignOptions {
            field_name: Some("LanhDao1".into()),
            visible: Some(Visible {
                page: 1,
                rect: leader_rect,
                image_png: Some(blue_png()),
                text: vec!["Nguyễn Văn An".into()],
                font: None,
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let out = sign_bytes(
        led,
        &p12("clerk"),
        &SignOptions {
            field_name: Some("ToChuc".into()),
            seal: Some(Seal {
                png: seal_png(),
                diameter_mm: 36.0,
                next_to: Some("LanhDao1".into()),
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let f = dir.path().join("seal.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out.clone(), &opts()).unwrap();
    assert!(rep.all_valid && rep.signatures.len() == 2, "{rep:#?}");
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.matches(":VALID").count() == 2, "pyHanko: {txt}");
    let (ok, txt) = qpdf_check(&f);
    assert!(ok, "{txt}");
    // Geometry: 36 mm square, right edge ⅓ into the leader's box, same vertical centre, and
    // the seal's widget is the page's last annotation (drawn on top).
    let (l, _) = widget_rect(&out, "LanhDao1");
    let (s, last) = widget_rect(&out, "ToChuc");
    assert!(last, "seal widget last in /Annots");
    let d = 36.0 * 72.0 / 25.4;
    let close = |a: f64, b: f64| (a - b).abs() < 0.01;
    assert!(close(s[2] - s[0], d) && close(s[3] - s[1], d), "size {s:?}");
    assert!(
        close(s[2], l[0] + (l[2] - l[0]) / 3.0),
        "right edge {s:?} {l:?}"
    );
    assert!(
        close((s[1] + s[3]) / 2.0, (l[1] + l[3]) / 2.0),
        "centre {s:?} {l:?}"
    );
    // Rendered: red over the left third of the leader's box, blue still visible on its right,
    // no red right of the seal.
    let img = render(&f, dir.path());
    let third = l[0] + (l[2] - l[0]) / 3.0;
    let red_in_third = count(&img, [l[0], l[1], third, l[3]], is_red);
    assert!(
        red_in_third > 150,
        "red over the leader's left third: {red_in_third}"
    );
    let red_left = count(&img, [s[0], s[1], l[0], s[3]], is_red);
    assert!(red_left > 300, "seal left of the leader's box: {red_left}");
    let red_right = count(&img, [third + 1.0, l[1], l[2], l[3]], is_red);
    assert_eq!(red_right, 0, "no red right of the seal");
    let blue = count(&img, [third + 1.0, l[1], l[2], l[3]], is_blue);
    assert!(blue > 200, "leader's blue signature: {blue}");
    // Without a name the seal goes next to the last signed visible signature, in a new field
    // named for the organisation (ToChuc is taken: ToChuc2).
    let auto = sign_bytes(
        std::fs::read(&f).unwrap()[..].to_vec(),
        &p12("clerk"),
        &SignOptions {
            seal: Some(Seal {
                png: seal_png(),
                diameter_mm: 30.0,
                next_to: None,
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let (s2, _) = widget_rect(&auto, "ToChuc2");
    // The last visible signed field is now the first seal (ToChuc).
    assert!(close(s2[2], s[0] + (s[2] - s[0]) / 3.0), "{s2:?} {s:?}");
}

/// Now in Vietnam time, rounded up to whole seconds (so the drawn time can be compared with
/// `/M`; rounding down could fall before the notBefore of a test certificate made just now).
fn vn_now() -> time::OffsetDateTime {
    // The test PKI first: generated on first use, its certificates start when it is made, so a
    // time read before that would fall outside their validity.
    pki();
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(1))
        .to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap())
        .replace_nanosecond(0)
        .unwrap()
}

/// `pdftotext -bbox` words of page 1: (word, xMin, yMin, xMax, yMax), y from the top.
fn words(f: &std::path::Path) -> Vec<(String, f64, f64, f64, f64)> {
    let html = tool("pdftotext", &["-bbox", "-cropbox", "-f", "1", "-l", "1"], f);
    let html = if html.contains("<word") {
        html
    } else {
        std::fs::read_to_string(f.with_extension("html")).unwrap_or(html)
    };
    let attr = |l: &str, k: &str| -> f64 {
        let i = l.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
        l[i..].split('"').next().unwrap().parse().unwrap()
    };
    html.lines()
        .filter(|l| l.trim_start().starts_with("<word"))
        .map(|l| {
            let w = l.split('>').nth(1).unwrap().split('<').next().unwrap();
            let w = w.replace("&amp;", "&");
            (
                w,
                attr(l, "xMin"),
                attr(l, "yMin"),
                attr(l, "xMax"),
                attr(l, "yMax"),
            )
        })
        .collect()
}

#[test]
fn attachment_stamp_shows_number_and_time_equal_to_m() {
    let dir = tempfile::tempdir().unwrap();
    let t = vn_now();
    let sign = |o: SignOptions| {
        sign_bytes(
            sample_pdf(2, "Phu luc"),
            &p12("clerk"),
            &SignOptions {
                org_stamp: true,
                field_name: Some("ToChuc".into()),
                signing_time: Some(t),
                ..o
            },
        )
        .unwrap()
    };
    let out = sign(SignOptions {
        stamp_number: Some("12/QĐ-UBND".into()),
        ..Default::default()
    });
    let f = dir.path().join("att.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out.clone(), &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.contains(":VALID"), "pyHanko: {txt}");
    // /M is the drawn time.
    let m = vanthu_pdf::sign::pdf_date(t);
    assert!(
        String::from_utf8_lossy(&out).contains(&format!("/M ({m})")),
        "/M {m}"
    );
    let want = format!("Số: 12/QĐ-UBND; {}", vn_time(t));
    assert!(want.ends_with("+07:00") && want.contains("; "), "{want}");
    // Top right of page 1 (crop), the whole line.
    let o = Command::new("pdftotext")
        .args([
            "-f", "1", "-l", "1", "-x", "300", "-y", "0", "-W", "295", "-H", "120",
        ])
        .arg(&f)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&want), "{want:?} in {text:?}");
    // 10 pt upright text, 14–30 mm from the top, right part of the page, no image.
    let ws = words(&f);
    let w = ws
        .iter()
        .find(|w| w.0 == "12/QĐ-UBND;")
        .unwrap_or_else(|| panic!("{ws:?}"));
    let (wd, ht) = (w.3 - w.1, w.4 - w.2);
    assert!(
        wd > 2.0 * ht && (8.0..14.0).contains(&ht),
        "10 pt upright: {w:?}"
    );
    assert!(w.1 > 300.0 && w.2 > 35.0 && w.4 < 90.0, "top right: {w:?}");
    // Its right edge (the time's last word) 15–20 mm from the page's right edge (spec §3.2).
    let mm = 72.0 / 25.4;
    let end = ws
        .iter()
        .filter(|w| w.2 < 90.0)
        .map(|w| w.3)
        .fold(0.0, f64::max);
    assert!(
        (595.0 - 20.0 * mm..=595.0 - 15.0 * mm).contains(&end),
        "right edge {end} ({} mm from the page edge)",
        (595.0 - end) / mm
    );
    assert_eq!(tool("pdfimages", &["-list"], &f).lines().count(), 2);
    // The e-copy stamp: form; agency; time.
    let out = sign(SignOptions {
        stamp_copy: Some(CopyStamp {
            kind: "SAO Y".into(),
            agency: Some("Ủy ban nhân dân tỉnh Bắc Ninh".into()),
        }),
        ..Default::default()
    });
    let f = dir.path().join("copy.pdf");
    std::fs::write(&f, &out).unwrap();
    assert!(verify_bytes(out, &opts()).unwrap().all_valid);
    let text = tool("pdftotext", &["-f", "1", "-l", "1", "-layout"], &f);
    let text = std::fs::read_to_string(f.with_extension("txt")).unwrap_or(text);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let want = format!("SAO Y; Ủy ban nhân dân tỉnh Bắc Ninh; {}", vn_time(t));
    assert!(flat.contains(&want), "{want:?} in {flat:?}");
    // Too long for 80 mm at 10 pt: wrapped after a "; ", still 10 pt, inside the 80 mm box.
    let ws = words(&f);
    let (sao, ninh) = (
        ws.iter().find(|w| w.0 == "SAO").unwrap(),
        ws.iter().find(|w| w.0 == "Ninh;").unwrap(),
    );
    let time_word = ws.iter().find(|w| w.0 == "+07:00").unwrap();
    assert!(
        (sao.4 - sao.2 - (time_word.4 - time_word.2)).abs() < 0.5,
        "same size: {sao:?} {time_word:?}"
    );
    assert!(time_word.2 > ninh.4 - 1.0, "time on the next line: {ws:?}");
    let mm = 72.0 / 25.4;
    // (The page's own text is at the left, x < 200.)
    let stamp = ws.iter().filter(|w| w.1 > 200.0);
    let x0 = stamp.clone().map(|w| w.1).fold(f64::MAX, f64::min);
    let x1 = stamp.map(|w| w.3).fold(0.0, f64::max);
    assert!(
        x1 - x0 <= 80.0 * mm && (595.0 - 20.0 * mm..=595.0 - 15.0 * mm).contains(&x1),
        "{x0} {x1}"
    );
}

/// One empty page: MediaBox [0 0 700 900], CropBox [50 60 650 860] (600×800), `/Rotate rot`.
fn rotated_pdf(rot: i64) -> Vec<u8> {
    page_pdf(&format!(
        "/MediaBox [0 0 700 900] /CropBox [50 60 650 860] /Rotate {rot}"
    ))
}

/// One empty page with these page dictionary entries.
fn page_pdf(entries: &str) -> Vec<u8> {
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!("<< /Type /Page /Parent 2 0 R {entries} /Resources << >> /Contents 4 0 R >>"),
        "<< /Length 0 >>\nstream\n\nendstream".to_string(),
    ];
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>] >>\nstartxref\n{x}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn rotated_pages_and_cropbox_offsets_render_upright_in_place() {
    let dir = tempfile::tempdir().unwrap();
    // Blue only in the image's left half: a mirrored or turned image would show it elsewhere.
    let half = png_of(200, 100, |x, _| (x < 100).then_some([20, 40, 200]));
    for rot in [0, 90, 180, 270] {
        // The leader's image at displayed (60, 100), 200×100.
        let led = sign_bytes(
            rotated_pdf(rot),
            &p12("leader"),
            &SignOptions {
                field_name: Some("LanhDao1".into()),
                visible: Some(Visible {
                    page: 1,
                    rect: [60.0, 100.0, 200.0, 100.0],
                    image_png: Some(half.clone()),
                    text: vec!["Nguyễn Văn An".into()],
                    font: None,
                }),
                ..Default::default()
            },
        )
        .unwrap();
        let f = dir.path().join(format!("led{rot}.pdf"));
        std::fs::write(&f, &led).unwrap();
        let img = render(&f, dir.path());
        let (dw, dh) = if rot % 180 == 0 {
            (600, 800)
        } else {
            (800, 600)
        };
        assert_eq!((img.1, img.2), (dw, dh), "displayed size, /Rotate {rot}");
        // The box holds text below the image: the image area is its upper part.
        let left = count(&img, [62.0, 100.0, 160.0, 200.0], is_blue);
        let right = count(&img, [162.0, 100.0, 260.0, 200.0], is_blue);
        let outside = count(&img, [0.0, 0.0, dw as f64, 95.0], is_blue)
            + count(&img, [265.0, 0.0, dw as f64, dh as f64], is_blue);
        assert!(
            left > 1000 && right == 0 && outside == 0,
            "/Rotate {rot}: blue left {left}, right {right}, outside {outside}"
        );
        // The name reads upright, under the image, inside the box.
        let ws = words(&f);
        let w = ws
            .iter()
            .find(|w| w.0 == "Nguyễn")
            .unwrap_or_else(|| panic!("/Rotate {rot}: {ws:?}"));
        assert!(
            w.3 - w.1 > w.4 - w.2,
            "/Rotate {rot}: horizontal word {w:?}"
        );
        let y_top = dh as f64 - 200.0;
        assert!(
            w.1 >= 60.0 && w.3 <= 260.0 && w.2 >= y_top && w.4 <= dh as f64 - 100.0,
            "/Rotate {rot}: inside the box {w:?}"
        );
        // The clerk's attachment stamp: top right of the displayed CropBox, upright.
        let out = sign_bytes(
            led,
            &p12("clerk"),
            &SignOptions {
                org_stamp: true,
                stamp_number: Some("7/BC-UBND".into()),
                field_name: Some("ToChuc".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let f = dir.path().join(format!("org{rot}.pdf"));
        std::fs::write(&f, &out).unwrap();
        let rep = verify_bytes(out, &opts()).unwrap();
        assert!(rep.all_valid, "/Rotate {rot}: {rep:#?}");
        if rot == 90 {
            let (ok, txt) = pyhanko_validate(&f, &[]);
            assert!(ok && txt.matches(":VALID").count() == 2, "pyHanko: {txt}");
        }
        let ws = words(&f);
        let w = ws
            .iter()
            .find(|w| w.0 == "7/BC-UBND;")
            .unwrap_or_else(|| panic!("/Rotate {rot}: {ws:?}"));
        let mm = 72.0 / 25.4;
        assert!(
            w.3 - w.1 > 2.0 * (w.4 - w.2),
            "/Rotate {rot}: upright stamp {w:?}"
        );
        assert!(
            w.1 >= dw as f64 - 97.0 * mm - 1.0
                && w.3 <= dw as f64 - 17.0 * mm + 1.0
                && w.2 >= 14.0 * mm - 1.0
                && w.4 <= 28.0 * mm + 1.0,
            "/Rotate {rot}: stamp at the top right of {dw}×{dh}: {w:?}"
        );
    }
}

#[test]
fn nfd_text_renders_and_extracts_as_nfc() {
    use unicode_normalization::UnicodeNormalization;
    let dir = tempfile::tempdir().unwrap();
    let t = vn_now();
    let nfc = "Nguyễn Thị Hường, Văn thư Ủy ban";
    let nfd: String = nfc.nfd().collect();
    assert_ne!(nfd, nfc);
    let sign = |text: &str, name: &str| {
        let out = sign_bytes(
            sample_pdf(1, "Van ban"),
            &p12("leader"),
            &SignOptions {
                signing_time: Some(t),
                visible: Some(Visible {
                    page: 1,
                    rect: [300.0, 100.0, 250.0, 40.0],
                    image_png: None,
                    text: vec![text.into()],
                    font: None,
                }),
                ..Default::default()
            },
        )
        .unwrap();
        let f = dir.path().join(name);
        std::fs::write(&f, &out).unwrap();
        f
    };
    let a = sign(nfc, "nfc.pdf");
    let b = sign(&nfd, "nfd.pdf");
    let text = tool("pdftotext", &["-f", "1", "-l", "1"], &b);
    let text = std::fs::read_to_string(b.with_extension("txt")).unwrap_or(text);
    assert!(text.contains(nfc), "NFC extracted: {text:?}");
    assert!(!text.contains(&nfd), "no NFD: {text:?}");
    let (ra, rb) = (render(&a, dir.path()), render(&b, dir.path()));
    assert!(ra.0 == rb.0, "NFD renders the same as NFC");
}

#[test]
fn seal_on_a_rotated_page_goes_left_as_displayed_and_honours_user_unit() {
    let dir = tempfile::tempdir().unwrap();
    let leader_box = [300.0, 200.0, 180.0, 90.0];
    let sealed = |pdf: Vec<u8>, name: &str| {
        let led = sign_bytes(
            pdf,
            &p12("leader"),
            &SignOptions {
                field_name: Some("LanhDao1".into()),
                visible: Some(Visible {
                    page: 1,
                    rect: leader_box,
                    image_png: Some(blue_png()),
                    text: vec!["Nguyễn Văn An".into()],
                    font: None,
                }),
                ..Default::default()
            },
        )
        .unwrap();
        let out = sign_bytes(
            led,
            &p12("clerk"),
            &SignOptions {
                field_name: Some("ToChuc".into()),
                seal: Some(Seal {
                    png: seal_png(),
                    diameter_mm: 36.0,
                    next_to: None,
                }),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(verify_bytes(out.clone(), &opts()).unwrap().all_valid);
        let f = dir.path().join(name);
        std::fs::write(&f, &out).unwrap();
        (f, out)
    };
    // /Rotate 90 with a CropBox offset: in the rendered (displayed) page the seal is left of
    // the leader's box, over its left third, centred vertically.
    let (f, _) = sealed(rotated_pdf(90), "rot90.pdf");
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.matches(":VALID").count() == 2, "pyHanko: {txt}");
    let img = render(&f, dir.path());
    let [x, y, w, h] = leader_box;
    let d = 36.0 * 72.0 / 25.4;
    let third = x + w / 3.0;
    let red_third = count(&img, [x, y, third, y + h], is_red);
    let red_left = count(
        &img,
        [third - d, y + h / 2.0 - d / 2.0, x, y + h / 2.0 + d / 2.0],
        is_red,
    );
    let red_right = count(&img, [third + 1.0, 0.0, 800.0, 600.0], is_red);
    let red_far = count(&img, [0.0, 0.0, third - d - 1.0, 600.0], is_red);
    assert!(
        red_third > 150 && red_left > 300 && red_right == 0 && red_far == 0,
        "seal on /Rotate 90: third {red_third}, left {red_left}, right {red_right}, far {red_far}"
    );
    assert!(count(&img, [third + 1.0, y, x + w, y + h], is_blue) > 200);
    // /UserUnit 2: the real diameter takes half as many units.
    let (_, out) = sealed(page_pdf("/MediaBox [0 0 595 842] /UserUnit 2"), "uu.pdf");
    let (s, last) = widget_rect(&out, "ToChuc");
    assert!(last);
    assert!(((s[2] - s[0]) - d / 2.0).abs() < 0.01, "{s:?}");
    assert!((s[2] - (x + w / 3.0)).abs() < 0.01, "{s:?}");
}

#[test]
fn seal_upload_must_be_transparent_and_red() {
    let led = sign_bytes(
        sample_pdf(1, "Quyet dinh"),
        &p12("leader"),
        &SignOptions {
            field_name: Some("LanhDao1".into()),
            visible: Some(Visible {
                page: 1,
                rect: [330.0, 150.0, 180.0, 90.0],
                image_png: Some(blue_png()),
                text: Vec::new(),
                font: None,
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let seal = |png: Vec<u8>, next_to: Option<&str>| {
        sign_bytes(
            led.clone(),
            &p12("clerk"),
            &SignOptions {
                seal: Some(Seal {
                    png,
                    diameter_mm: 36.0,
                    next_to: next_to.map(Into::into),
                }),
                ..Default::default()
            },
        )
    };
    // Red on an opaque white background would hide the leader's signature.
    let opaque = png_of(100, 100, |x, y| {
        Some(if (x as i32 - 50).pow(2) + (y as i32 - 50).pow(2) < 1600 {
            [220, 0, 0]
        } else {
            [255, 255, 255]
        })
    });
    let e = seal(opaque, None).unwrap_err().to_string();
    assert!(e.contains("transparent"), "{e}");
    // A blue "seal" is not a seal.
    let e = seal(blue_png(), None).unwrap_err().to_string();
    assert!(e.contains("red"), "{e}");
    // No such leader field.
    let e = seal(seal_png(), Some("Khong")).unwrap_err().to_string();
    assert!(e.contains("Khong"), "{e}");
    // No visible signature at all.
    let e = sign_bytes(
        sample_pdf(1, "x"),
        &p12("clerk"),
        &SignOptions {
            seal: Some(Seal {
                png: seal_png(),
                diameter_mm: 36.0,
                next_to: None,
            }),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("leader"), "{e}");
    assert!(seal(seal_png(), None).is_ok());
}

/// A template with pre-created LanhDao1 and ToChuc signature fields (pyHanko `addfields`).
fn template(dir: &std::path::Path, fields: &[&str]) -> Vec<u8> {
    let src = dir.join("in.pdf");
    std::fs::write(&src, sample_pdf(1, "Quyet dinh")).unwrap();
    let tpl = dir.join("tpl.pdf");
    let mut c = pyhanko();
    c.args(["sign", "addfields"]);
    for f in fields {
        c.args(["--field", f]);
    }
    assert!(c.arg(&src).arg(&tpl).status().unwrap().success());
    std::fs::read(&tpl).unwrap()
}

#[test]
fn precreated_seal_field_must_sit_where_the_seal_goes() {
    let dir = tempfile::tempdir().unwrap();
    let lead = |tpl: Vec<u8>| {
        sign_bytes(
            tpl,
            &p12("leader"),
            &SignOptions {
                field_name: Some("LanhDao1".into()),
                visible: Some(Visible {
                    page: 1,
                    rect: [330.0, 150.0, 180.0, 90.0],
                    image_png: Some(blue_png()),
                    text: Vec::new(),
                    font: None,
                }),
                field_lock: Some(vanthu_pdf::sign::FieldMdp::Exclude(vec!["ToChuc".into()])),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let seal = |led: Vec<u8>| {
        sign_bytes(
            led,
            &p12("clerk"),
            &SignOptions {
                field_name: Some("ToChuc".into()),
                seal: Some(Seal {
                    png: seal_png(),
                    diameter_mm: 36.0,
                    next_to: Some("LanhDao1".into()),
                }),
                ..Default::default()
            },
        )
    };
    // Elsewhere: moving it after the leader signed would break the leader's signature.
    let led = lead(template(
        dir.path(),
        &["1/330,150,510,240/LanhDao1", "1/20,20,60,60/ToChuc"],
    ));
    let e = seal(led).unwrap_err().to_string();
    assert!(e.contains("pre-created seal field"), "{e}");
    // Where the seal goes (36 mm square, right edge at 390, centred at 195): filled in place.
    let led = lead(template(
        dir.path(),
        &["1/330,150,510,240/LanhDao1", "1/288,144,390,246/ToChuc"],
    ));
    let out = seal(led).unwrap();
    let f = dir.path().join("sealed.pdf");
    std::fs::write(&f, &out).unwrap();
    let (s, last) = widget_rect(&out, "ToChuc");
    assert!(last && (s[2] - 390.0).abs() < 0.5, "{s:?}");
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid && rep.signatures.len() == 2, "{rep:#?}");
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.matches(":VALID").count() == 2, "pyHanko: {txt}");
    let img = render(&f, dir.path());
    assert!(count(&img, [330.0, 150.0, 390.0, 240.0], is_red) > 150);
}

#[test]
fn stamp_time_default_form_and_seal_geometry() {
    let t = time::Date::from_calendar_date(2026, time::Month::March, 5)
        .unwrap()
        .with_hms(14, 22, 10)
        .unwrap()
        .assume_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap());
    assert_eq!(vn_time(t), "05/03/2026; 14:22:10 +07:00");
    assert_eq!(vanthu_pdf::sign::iso_time(t), "2026-03-05T14:22:10+07:00");
    // 36 mm = 102.05 pt; right edge a third into [300, 100, 150, 60]; centred at y = 130.
    let r = Visible::seal_next_to([300.0, 100.0, 150.0, 60.0], 36.0, 1.0);
    let d = 36.0 * 72.0 / 25.4;
    assert!((r[0] + r[2] - 350.0).abs() < 1e-9 && (r[2] - d).abs() < 1e-9);
    assert!((r[1] + r[3] / 2.0 - 130.0).abs() < 1e-9 && (r[3] - d).abs() < 1e-9);
    let r2 = Visible::seal_next_to([300.0, 100.0, 150.0, 60.0], 36.0, 2.0);
    assert!((r2[2] - d / 2.0).abs() < 1e-9 && (r2[0] + r2[2] - 350.0).abs() < 1e-9);
}

/// A box pre-created by the drafter's tool (pyHanko `addfields`), signed without `--visible`:
/// the signer's name and time appear inside it (pdftotext reads them within the box), the box
/// does not move, and pyHanko still validates.
#[test]
fn a_precreated_visible_field_gets_the_signers_name_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = template(dir.path(), &["1/340,60,540,130/LanhDao1", "1/0,0,0,0/An"]);
    let before = widget_rect(&tpl, "LanhDao1").0;
    let field = |f: &str| SignOptions {
        field_name: Some(f.into()),
        ..Default::default()
    };
    let out = sign_bytes(tpl, &p12("leader"), &field("LanhDao1")).unwrap();
    assert_eq!(widget_rect(&out, "LanhDao1").0, before, "the box stays");
    // An invisible pre-created field stays invisible.
    let out = sign_bytes(out, &p12("clerk"), &field("An")).unwrap();
    let f = dir.path().join("signed.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.signatures.iter().all(|s| s.intact), "{rep:#?}");
    let w = words(&f);
    let page_h = 842.0;
    let inside = |x0: f64, y0: f64, x1: f64, y1: f64| {
        x0 >= 340.0 - 1.0
            && x1 <= 540.0 + 1.0
            && page_h - y1 >= 60.0 - 1.0
            && page_h - y0 <= 130.0 + 1.0
    };
    let name: Vec<_> = w
        .iter()
        .filter(|(t, ..)| ["Nguyễn", "Văn", "An"].contains(&t.as_str()))
        .collect();
    assert!(name.len() >= 3, "{w:?}");
    assert!(
        name.iter().all(|(_, a, b, c, d)| inside(*a, *b, *c, *d)),
        "{name:?}"
    );
    let time = w
        .iter()
        .find(|(t, ..)| regex_like_iso(t))
        .unwrap_or_else(|| panic!("no ISO time in {w:?}"));
    assert!(inside(time.1, time.2, time.3, time.4), "{time:?}");
    assert!(
        !w.iter().any(|(t, ..)| t.contains("Sở")),
        "the invisible field draws nothing: {w:?}"
    );
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && !txt.contains("INVALID"), "pyHanko: {txt}");
}

/// A handwritten signature saved as JPEG (scanners, phones): baseline and progressive, colour
/// and greyscale, embedded as they are (`/DCTDecode`) and drawn in the box; a CMYK JPEG, a GIF
/// and a JPEG seal are refused with their reason, before anything is signed. Images made by
/// Pillow.
#[test]
fn jpeg_signature_images_are_embedded_and_other_formats_named() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys
from PIL import Image, ImageDraw
d = sys.argv[1]
im = Image.new('RGB', (160, 64), 'white')
ImageDraw.Draw(im).ellipse((8, 8, 152, 56), fill=(0, 40, 220))
im.save(d + '/base.jpg', quality=90)
im.save(d + '/prog.jpg', quality=90, progressive=True)
im.convert('L').save(d + '/grey.jpg')
im.convert('CMYK').save(d + '/cmyk.jpg')
im.save(d + '/sig.gif')
"#;
    let o = Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rect = [300.0, 600.0, 200.0, 80.0];
    let vis = |img: &str| SignOptions {
        visible: Some(Visible {
            page: 1,
            rect,
            image_png: Some(std::fs::read(dir.path().join(img)).unwrap()),
            text: Vec::new(),
            font: None,
        }),
        ..Default::default()
    };
    for img in ["base.jpg", "prog.jpg", "grey.jpg"] {
        let out = sign_bytes(sample_pdf(1, "JPEG"), &p12("leader"), &vis(img)).unwrap();
        assert!(
            out.windows(10).any(|w| w == b"/DCTDecode"),
            "{img}: embedded as JPEG"
        );
        let f = dir.path().join(format!("{}.pdf", img.replace('.', "-")));
        std::fs::write(&f, &out).unwrap();
        let rep = verify_bytes(out, &opts()).unwrap();
        assert!(rep.all_valid, "{img}: {rep:#?}");
        let px = render(&f, dir.path());
        let area = [300.0, 600.0, 500.0, 680.0];
        let ink = if img == "grey.jpg" {
            count(&px, area, |p| p[0] < 120 && p[1] < 120 && p[2] < 120)
        } else {
            count(&px, area, is_blue)
        };
        assert!(
            ink > 1000,
            "{img}: the image is drawn in the box ({ink} px)"
        );
        let (ok, txt) = qpdf_check(&f);
        assert!(ok, "{img}: {txt}");
    }
    for (img, want) in [("cmyk.jpg", "4 kênh màu"), ("sig.gif", "PNG hoặc JPEG")] {
        let e = sign_bytes(sample_pdf(1, "JPEG"), &p12("leader"), &vis(img)).unwrap_err();
        assert!(e.to_string().contains(want), "{img}: {e}");
    }
    let e = sign_bytes(
        sample_pdf(1, "JPEG"),
        &p12("clerk"),
        &SignOptions {
            seal: Some(Seal {
                png: std::fs::read(dir.path().join("base.jpg")).unwrap(),
                diameter_mm: 36.0,
                next_to: None,
            }),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("con dấu phải là tệp PNG"), "{e}");
}

/// A drafter's template with empty `LanhDao1` and `ToChuc` boxes, certified by the leader: with
/// no field named, the leader's signature fills `LanhDao1` and the organisation stamp fills
/// `ToChuc`, each drawn in its box, which does not move (a moved field would void the
/// certification: pyHanko and vanthu both said so when the stamp was moved to its default
/// corner). Asking to move a pre-created field once the document is signed is refused before
/// anything is written; without a template, the stamp gets a new field named `ToChuc`, then
/// `ToChuc2`.
#[test]
fn default_fields_fill_the_templates_boxes_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = template(
        dir.path(),
        &["1/340,60,540,130/LanhDao1", "1/380,760,580,820/ToChuc"],
    );
    let boxes = (
        widget_rect(&tpl, "LanhDao1").0,
        widget_rect(&tpl, "ToChuc").0,
    );
    let led = sign_bytes(
        tpl,
        &p12("leader"),
        &SignOptions {
            certify: true,
            ..Default::default()
        },
    )
    .unwrap();
    let org = |data: Vec<u8>, visible: Option<Visible>| {
        sign_bytes(
            data,
            &p12("clerk"),
            &SignOptions {
                org_stamp: true,
                stamp_number: Some("12/QĐ-UBND".into()),
                visible,
                ..Default::default()
            },
        )
    };
    // The report names the box still waiting for a signature.
    let rep = verify_bytes(led.clone(), &opts()).unwrap();
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.starts_with("Trường chữ ký chưa ký: ToChuc (")),
        "{:?}",
        rep.warnings
    );
    let out = org(led.clone(), None).unwrap();
    assert_eq!(widget_rect(&out, "LanhDao1").0, boxes.0);
    assert_eq!(widget_rect(&out, "ToChuc").0, boxes.1);
    let f = dir.path().join("signed.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    assert!(!rep
        .warnings
        .iter()
        .any(|w| w.contains("unsigned signature fields")));
    let fields: Vec<_> = rep.signatures.iter().map(|s| s.field.as_str()).collect();
    assert_eq!(fields, ["LanhDao1", "ToChuc"]);
    assert!(rep.signatures[0]
        .modifications
        .iter()
        .all(|m| m.class != vanthu_pdf::verify::ChangeClass::Forbidden));
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.matches(":VALID").count() == 2, "pyHanko: {txt}");
    // The stamp's number is drawn inside the ToChuc box (top of an 842 pt page).
    let w = words(&f);
    let num = w
        .iter()
        .find(|(t, ..)| t.contains("12/QĐ-UBND"))
        .unwrap_or_else(|| panic!("no stamp number in {w:?}"));
    assert!(num.1 >= 379.0 && num.3 <= 581.0, "{num:?}");
    assert!(842.0 - num.4 >= 759.0 && 842.0 - num.2 <= 821.0, "{num:?}");
    // Moving the pre-created box after the leader signed: refused.
    let moved = SignOptions {
        field_name: Some("ToChuc".into()),
        visible: Some(Visible {
            page: 1,
            rect: [20.0, 20.0, 150.0, 50.0],
            image_png: None,
            text: Vec::new(),
            font: None,
        }),
        ..Default::default()
    };
    let e = sign_bytes(led, &p12("clerk"), &moved)
        .unwrap_err()
        .to_string();
    assert!(e.contains("filled where it is"), "{e}");
    // No template: a new ToChuc field, then ToChuc2.
    let plain = sample_pdf(1, "Phu luc");
    let once = org(plain, None).unwrap();
    let twice = org(once, None).unwrap();
    let rep = verify_bytes(twice, &opts()).unwrap();
    let fields: Vec<_> = rep.signatures.iter().map(|s| s.field.as_str()).collect();
    assert_eq!(fields, ["ToChuc", "ToChuc2"]);
}

/// Forms made in Acrobat or LiveCycle nest their fields (`Form.Ky.LanhDao`); a partial name can
/// be Vietnamese. Such pre-created fields are signed by their full name, in place, and both
/// validators accept the certification followed by the second signature; a field group or a
/// new name with a dot gets its own message.
#[test]
fn nested_precreated_fields_are_signed_by_their_full_name() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = template(
        dir.path(),
        &[
            "1/340,60,540,130/Form.Ky.LanhDao",
            "1/340,700,540,760/Form.Ky.Tổ chức",
        ],
    );
    let field = |f: &str, certify: bool| SignOptions {
        field_name: Some(f.into()),
        certify,
        ..Default::default()
    };
    let e = sign_bytes(tpl.clone(), &p12("leader"), &field("Form.Ky", false))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a signature field"), "{e}");
    let e = sign_bytes(tpl.clone(), &p12("leader"), &field("Form.Moi", false))
        .unwrap_err()
        .to_string();
    assert!(e.contains("new field names are ASCII without dots"), "{e}");
    let led = sign_bytes(tpl, &p12("leader"), &field("Form.Ky.LanhDao", true)).unwrap();
    let out = sign_bytes(led, &p12("clerk"), &field("Form.Ky.Tổ chức", false)).unwrap();
    let f = dir.path().join("signed.pdf");
    std::fs::write(&f, &out).unwrap();
    let rep = verify_bytes(out, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let fields: Vec<_> = rep.signatures.iter().map(|s| s.field.as_str()).collect();
    assert_eq!(fields, ["Form.Ky.LanhDao", "Form.Ky.Tổ chức"]);
    let (ok, txt) = pyhanko_validate(&f, &[]);
    assert!(ok && txt.matches(":VALID").count() == 2, "pyHanko: {txt}");
}
