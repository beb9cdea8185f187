//! Visible signatures: PNG with transparency and Vietnamese text in an embedded font subset.
//! Oracles: pyHanko (still VALID), qpdf, poppler's pdffonts/pdftotext/pdftoppm.

mod common;

use std::process::Command;

use common::*;
use vanthu_pdf::doc::Doc;
use vanthu_pdf::object::Obj;
use vanthu_pdf::sign::{sign_bytes, Seal, SignOptions, Visible};
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
        .args(["-r", "72", "-png", "-f", "1", "-l", "1", "-singlefile"])
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
    // Without a name the seal goes next to the last signed visible signature.
    let auto = sign_bytes(
        std::fs::read(&f).unwrap()[..].to_vec(),
        &p12("clerk"),
        &SignOptions {
            field_name: Some("ToChuc2".into()),
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
