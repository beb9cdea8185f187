//! Visible signatures: PNG with transparency and Vietnamese text in an embedded font subset.
//! Oracles: pyHanko (still VALID), qpdf, poppler's pdffonts/pdftotext/pdftoppm.

mod common;

use std::process::Command;

use common::*;
use vanthu_pdf::sign::{sign_bytes, SignOptions, Visible};
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
