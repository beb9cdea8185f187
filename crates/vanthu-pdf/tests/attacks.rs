//! Attack samples built here from our own signed files (never copied from elsewhere): vanthu's
//! validator and pyHanko must both reject every one.

mod common;

use common::*;
use vanthu_pdf::sign::{sign_bytes, FieldMdp, SignOptions};
use vanthu_pdf::verify::{verify_bytes, ChangeClass, INVALID, VALID};

fn signed() -> Vec<u8> {
    sign_bytes(
        sample_pdf(1, "So tien: 1.000.000 dong"),
        &p12("leader"),
        &SignOptions::default(),
    )
    .unwrap()
}

fn byterange(data: &[u8]) -> (Vec<u8>, [usize; 4]) {
    let p = data.windows(11).position(|w| w == b"/ByteRange ").unwrap() + 11;
    let e = p + data[p..].iter().position(|&c| c == b']').unwrap() + 1;
    let mut full = e;
    while data[full] == b' ' {
        full += 1;
    }
    let v: Vec<usize> = std::str::from_utf8(&data[p + 1..e - 1])
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (data[p..full].to_vec(), [v[0], v[1], v[2], v[3]])
}

/// Both validators reject the sample.
fn rejected(name: &str, data: Vec<u8>) -> vanthu_pdf::Report {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join(format!("{name}.pdf"));
    std::fs::write(&f, &data).unwrap();
    let (ok, out) = pyhanko_validate(&f, &[]);
    assert!(!ok, "{name}: pyHanko accepted it: {out}");
    let rep = match verify_bytes(data, &opts()) {
        Ok(r) => r,
        Err(e) => panic!("{name}: vanthu could not parse ({e}); expected a report"),
    };
    assert!(!rep.all_valid, "{name}: vanthu accepted it: {rep:#?}");
    assert_ne!(rep.verdict, VALID, "{name}");
    rep
}

#[test]
fn incremental_saving_attack_is_detected() {
    let base = signed();
    for xref in ["table", "stream"] {
        let body = "BT /F1 14 Tf 72 760 Td (So tien: 9.000.000 dong) Tj ET";
        let evil = append_revision(
            &base,
            &[(
                5,
                format!("<< /Length {} >>\nstream\n{body}\nendstream", body.len()),
            )],
            xref,
        );
        let rep = rejected(&format!("isa-{xref}"), evil);
        let s = &rep.signatures[0];
        assert!(s.intact, "the old range still verifies");
        assert_eq!(s.verdict, INVALID);
        assert!(!s.covers_final_revision);
        assert!(
            s.modifications
                .iter()
                .any(|m| m.object == 5 && m.class == ChangeClass::Forbidden),
            "{s:#?}"
        );
    }
}

#[test]
fn appended_bytes_without_xref_are_reported() {
    let body = "BT /F1 14 Tf 72 760 Td (So tien: 9.000.000 dong) Tj ET";
    let evil = append_revision(
        &signed(),
        &[(
            5,
            format!("<< /Length {} >>\nstream\n{body}\nendstream", body.len()),
        )],
        "none",
    );
    let rep = verify_bytes(evil, &opts()).unwrap();
    assert!(!rep.all_valid, "{rep:#?}");
    assert!(rep
        .warnings
        .iter()
        .any(|w| w.contains("after the last revision")));
}

#[test]
fn universal_signature_forgery_variants_are_rejected() {
    let base = signed();
    let (br, [_, b, c, d]) = byterange(&base);
    let variants: Vec<(&str, Vec<u8>)> = vec![
        (
            "br-3",
            patch_same_len(&base, &br, format!("[0 {b} {c}]").as_bytes()),
        ),
        (
            "br-5",
            patch_same_len(&base, &br, format!("[0 {b} {c} {d} 0]").as_bytes()),
        ),
        ("br-null", patch_same_len(&base, &br, b"null")),
        ("br-empty", patch_same_len(&base, &br, b"[]")),
        (
            "br-neg",
            patch_same_len(&base, &br, format!("[0 {b} {c} -{d}]").as_bytes()),
        ),
        (
            "br-past-eof",
            patch_same_len(&base, &br, format!("[0 {b} {c} {}]", d + 100).as_bytes()),
        ),
        (
            "br-missing",
            patch_same_len(&base, b"/ByteRange", b"/ByteRangX"),
        ),
        (
            "contents-missing",
            patch_same_len(&base, b"/Contents", b"/Contentz"),
        ),
        (
            "contents-empty",
            patch_same_len(&base, &base[b..b + 12], b"<>"),
        ),
        (
            "contents-nonhex",
            patch_same_len(&base, &base[b..b + 3], b"<zz"),
        ),
        (
            "contents-null",
            patch_same_len(&base, &base[b..b + 12], b"null"),
        ),
    ];
    for (name, v) in variants {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&f, &v).unwrap();
        let (ok, out) = pyhanko_validate(&f, &[]);
        assert!(!ok, "{name}: pyHanko accepted it: {out}");
        // Refused as damaged (Err) is a rejection too.
        if let Ok(rep) = verify_bytes(v, &opts()) {
            assert!(!rep.all_valid, "{name}: {rep:#?}");
        }
    }
}

#[test]
fn signature_wrapping_and_odd_ranges_are_rejected() {
    let base = signed();
    let (br, [_, b, c, d]) = byterange(&base);
    // The declared gap no longer matches this dictionary's Contents.
    let shifted = patch_same_len(&base, &br, format!("[0 {} {} {}]", b - 1, c, d).as_bytes());
    let rep = rejected("wrap-shift", shifted);
    assert!(rep.signatures[0]
        .errors
        .iter()
        .any(|e| e.contains("ByteRange")));
    // A range that stops before the end of the revision.
    let short = patch_same_len(&base, &br, format!("[0 {b} {c} {}]", d - 5).as_bytes());
    rejected("wrap-short", short);
}

#[test]
fn hide_and_replace_by_xref_only_remap_is_rejected() {
    // Plant an unused second definition of the content stream before signing.
    let mut pdf = sample_pdf(1, "Dong y");
    let eof = pdf.len();
    let body = "BT /F1 14 Tf 72 760 Td (Khong dong y) Tj ET";
    let planted_off = eof;
    let planted = format!(
        "5 0 obj\n<< /Length {} >>\nstream\n{body}\nendstream\nendobj\n",
        body.len()
    );
    // Rebuild as an incremental update whose xref does not list the planted object.
    pdf.extend_from_slice(planted.as_bytes());
    let doc = vanthu_pdf::doc::Doc::parse(sample_pdf(1, "Dong y")).unwrap();
    let prev = doc.sections[0].offset;
    let x = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 6 /Root 1 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    let signed = sign_bytes(pdf, &p12("leader"), &SignOptions::default()).unwrap();
    assert!(verify_bytes(signed.clone(), &opts()).unwrap().all_valid);
    // The attack revision is only an xref pointing object 5 at the planted copy.
    let d2 = vanthu_pdf::doc::Doc::parse(signed.clone()).unwrap();
    let prev = d2.sections.last().unwrap().offset;
    let size = d2.size();
    let mut evil = signed.clone();
    let x = evil.len();
    evil.extend_from_slice(
        format!("xref\n5 1\n{planted_off:010} 00000 n\r\ntrailer\n<< /Size {size} /Root 1 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    let rep = rejected("hide-and-replace", evil);
    assert!(rep.signatures[0]
        .modifications
        .iter()
        .any(|m| m.object == 5 && m.class == ChangeClass::Forbidden));
}

/// A look-alike root's signer, and a certificate whose key usage is keyEncipherment only:
/// neither is trusted. vanthu refuses to sign with the second (before writing anything), so
/// that sample is made by pyHanko.
#[test]
fn look_alike_root_and_bad_key_usage_are_not_trusted() {
    let e = sign_bytes(
        sample_pdf(1, "x"),
        &p12("nokeyusage"),
        &SignOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("key usage does not allow signing"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (i, o) = (dir.path().join("in.pdf"), dir.path().join("ku.pdf"));
    std::fs::write(&i, sample_pdf(1, "x")).unwrap();
    pyhanko_addsig("nokeyusage", "Sig1", &i, &o, &[]);
    let samples = [
        (
            "evil",
            sign_bytes(sample_pdf(1, "x"), &p12("evil"), &SignOptions::default()).unwrap(),
        ),
        ("nokeyusage", std::fs::read(&o).unwrap()),
    ];
    for (key, s) in samples {
        let rep = rejected(key, s);
        let r = &rep.signatures[0];
        assert!(r.intact, "{key}");
        assert!(!r.trusted, "{key}: {r:#?}");
    }
}

#[test]
fn shadow_hide_cover_disguised_as_metadata_is_rejected() {
    // A page whose text is covered by an opaque image whose dictionary says /Type /Metadata.
    let mut pdf = sample_pdf(1, "Noi dung that");
    let doc = vanthu_pdf::doc::Doc::parse(pdf.clone()).unwrap();
    let prev = doc.sections[0].offset;
    let content =
        "BT /F1 14 Tf 72 760 Td (Noi dung that - page 1) Tj ET q 300 0 0 30 70 752 cm /Cover Do Q";
    let cover = |gray: u8| {
        format!(
            "<< /Type /Metadata /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 1 >>\nstream\n{}\nendstream",
            gray as char
        )
    };
    let page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Cover 6 0 R >> >> /Contents 5 0 R >>";
    let mut offs = Vec::new();
    for (n, body) in [
        (4u32, page.to_string()),
        (
            5,
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            ),
        ),
        (6, cover(b'\xff')),
    ] {
        offs.push((n, pdf.len()));
        pdf.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let x = pdf.len();
    pdf.extend_from_slice(b"xref\n4 3\n");
    for (_, o) in &offs {
        pdf.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size 7 /Root 1 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n")
            .as_bytes(),
    );
    let signed = sign_bytes(pdf, &p12("leader"), &SignOptions::default()).unwrap();
    assert!(verify_bytes(signed.clone(), &opts()).unwrap().all_valid);
    // After signing, the "metadata" cover is made transparent-looking (another image).
    let evil = append_revision(&signed, &[(6, cover(0))], "table");
    let rep = rejected("shadow-hide", evil);
    assert!(rep.signatures[0]
        .modifications
        .iter()
        .any(|m| m.object == 6 && m.class == ChangeClass::Forbidden));
}

#[test]
fn annotation_after_certification_is_rejected_and_blocks_signing() {
    let certified = sign_bytes(
        sample_pdf(1, "Hop dong"),
        &p12("leader"),
        &SignOptions {
            certify: true,
            ..Default::default()
        },
    )
    .unwrap();
    // A FreeText annotation added to the page under DocMDP P=2.
    let evil = add_freetext(&certified);
    let rep = rejected("annot-under-p2", evil.clone());
    assert_eq!(rep.signatures[0].certification, Some(2));
    assert!(rep.signatures[0]
        .modifications
        .iter()
        .any(|m| m.class == ChangeClass::Forbidden));
    // The report names the page as the reader sees it (page 1), beside its object number.
    assert!(
        rep.signatures[0].modifications.iter().any(
            |m| m.what.contains("page annotations") && m.what.contains("trang 1 (đối tượng 4)")
        ),
        "{:#?}",
        rep.signatures[0].modifications
    );
    // vanthu refuses to add a signature on top.
    let dir = tempfile::tempdir().unwrap();
    let (i, o) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    std::fs::write(&i, &evil).unwrap();
    let e = vanthu_pdf::sign_file(&i, &o, &p12("clerk"), &SignOptions::default()).unwrap_err();
    assert!(e.to_string().contains("forbidden changes"), "{e}");
    assert!(!o.exists());
    // In memory (the app's path), alike.
    let e = vanthu_pdf::sign_document(evil, &p12("clerk"), &SignOptions::default()).unwrap_err();
    assert!(e.to_string().contains("forbidden changes"), "{e}");
}

/// Appends a FreeText annotation to page 1 (object 4) of a signed sample.
fn add_freetext(certified: &[u8]) -> Vec<u8> {
    let doc = vanthu_pdf::doc::Doc::parse(certified.to_vec()).unwrap();
    let n = doc.size();
    let page = String::from_utf8({
        let mut v = Vec::new();
        let mut d = doc.get(4).unwrap().as_dict().unwrap().clone();
        let mut annots = d
            .get("Annots")
            .and_then(|a| a.as_arr().map(<[_]>::to_vec))
            .unwrap_or_default();
        annots.push(vanthu_pdf::object::Obj::Ref(n, 0));
        d.set("Annots", vanthu_pdf::object::Obj::Arr(annots));
        vanthu_pdf::object::write_dict(&mut v, &d);
        v
    })
    .unwrap();
    let out = append_revision(
        certified,
        &[
            (4, page),
            (
                n,
                "<< /Type /Annot /Subtype /FreeText /Rect [72 700 300 730] /Contents (Da huy) /DA (/Helv 12 Tf 0 g) /P 4 0 R >>".into(),
            ),
        ],
        "table",
    );
    with_size(out, n + 1)
}

/// `sample_pdf` plus a pre-created, empty text field "GhiChu" whose widget lies over the
/// page's text (an incremental update made before anyone signs).
fn with_text_field(text: &str) -> Vec<u8> {
    with_text_fields(text, &[("GhiChu", "[70 750 400 780]")])
}

/// `sample_pdf` plus pre-created empty text fields (objects 6, 7, … in order; the AcroForm
/// follows them), added by an incremental update before anyone signs.
fn with_text_fields(text: &str, fields: &[(&str, &str)]) -> Vec<u8> {
    let base = sample_pdf(1, text);
    let nums: Vec<u32> = (6..6 + fields.len() as u32).collect();
    let af = 6 + fields.len() as u32;
    let refs: Vec<String> = nums.iter().map(|n| format!("{n} 0 R")).collect();
    let refs = refs.join(" ");
    let mut objs = vec![
        (1, format!("<< /Type /Catalog /Pages 2 0 R /AcroForm {af} 0 R >>")),
        (4, format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [{refs}] >>")),
    ];
    for (n, (name, rect)) in nums.iter().zip(fields) {
        objs.push((*n, text_widget(name, rect, "")));
    }
    objs.push((
        af,
        format!("<< /Fields [{refs}] /DR << /Font << /F1 3 0 R >> >> /DA (/F1 12 Tf 0 g) >>"),
    ));
    with_size(append_revision(&base, &objs, "table"), af + 1)
}

/// A text field's widget on page 1; `extra` adds entries (a value, an appearance). A name
/// starting "sig:" makes an empty signature field instead.
fn text_widget(name: &str, rect: &str, extra: &str) -> String {
    match name.strip_prefix("sig:") {
        Some(n) => format!("<< /Type /Annot /Subtype /Widget /FT /Sig /T ({n}) /Rect {rect} /P 4 0 R /F 132{extra} >>"),
        None => format!("<< /Type /Annot /Subtype /Widget /FT /Tx /T ({name}) /Rect {rect} /P 4 0 R /F 4 /DA (/F1 14 Tf 0 g){extra} >>"),
    }
}

/// Fills text field object `num` with `value` and an appearance, as a form filler would.
fn fill(signed: &[u8], num: u32, name: &str, rect: &str, value: &str) -> Vec<u8> {
    let doc = vanthu_pdf::doc::Doc::parse(signed.to_vec()).unwrap();
    let ap = doc.size();
    let out = append_revision(
        signed,
        &[
            (
                num,
                text_widget(name, rect, &format!(" /V ({value}) /AP << /N {ap} 0 R >>")),
            ),
            (ap, overlay_ap(value)),
        ],
        "table",
    );
    with_size(out, ap + 1)
}

/// Sets the last trailer's (or xref stream's) /Size: `append_revision` keeps the old one, which
/// is too small once the revision adds objects.
fn with_size(data: Vec<u8>, size: u32) -> Vec<u8> {
    let at = data.windows(6).rposition(|w| w == b"/Size ").unwrap();
    let end = at + 6 + data[at + 6..].iter().position(|c| *c == b' ').unwrap();
    let mut out = data[..at].to_vec();
    out.extend_from_slice(format!("/Size {size}").as_bytes());
    out.extend_from_slice(&data[end..]);
    out
}

/// An appearance stream (form XObject): an opaque white box with `text` drawn on it.
fn overlay_ap(text: &str) -> String {
    let s = format!("1 g 0 0 330 30 re f BT /F1 14 Tf 0 g 2 10 Td ({text}) Tj ET");
    format!(
        "<< /Type /XObject /Subtype /Form /BBox [0 0 330 30] /Resources << /Font << /F1 3 0 R >> >> /Length {} >>\nstream\n{s}\nendstream",
        s.len()
    )
}

/// Shadow "replace" (spec §5): a pre-created empty text field lies over signed text; after an
/// approval signature its fill paints an opaque box with other words there. No FieldMDP and no
/// DocMDP allow the fill, so it is "another field": Không được phép. pyHanko (0.38, default
/// policy) accepts this fill on an uncertified file, so only its opinion is logged here.
#[test]
fn shadow_replace_by_form_fill_over_signed_text_is_rejected() {
    let input = with_text_field("So tien: 1.000.000 dong");
    let signed = sign_bytes(input, &p12("leader"), &SignOptions::default()).unwrap();
    let rep = verify_bytes(signed.clone(), &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    // After signing: the empty field gets a value and an appearance that paints an opaque box
    // with other text exactly over the signed sentence.
    let evil = fill(
        &signed,
        6,
        "GhiChu",
        "[70 750 400 780]",
        "So tien: 9.000.000 dong - page 1",
    );
    let rep = rejected_by_vanthu("shadow-replace-form-fill", evil);
    let s = &rep.signatures[0];
    assert_eq!(s.verdict, INVALID, "{s:#?}");
    assert!(
        s.modifications
            .iter()
            .any(|m| m.object == 6 && m.class == ChangeClass::Forbidden),
        "{s:#?}"
    );
}

/// Shadow "replace" by fonts: the signed page's font redefined so "1" draws "9", or the page's
/// /Resources /Font pointed at a new font. Both validators reject both.
#[test]
fn shadow_replace_by_font_swap_is_rejected() {
    let base = signed();
    let doc = vanthu_pdf::doc::Doc::parse(base.clone()).unwrap();
    let n = doc.size();
    // 1. The font object itself redefined: every "1" now draws a "9".
    let swapped = append_revision(
        &base,
        &[(
            3,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [49 /nine] >> >>".into(),
        )],
        "table",
    );
    let rep = rejected("shadow-replace-font-object", swapped);
    assert!(rep.signatures[0]
        .modifications
        .iter()
        .any(|m| m.object == 3 && m.class == ChangeClass::Forbidden));
    // 2. A new font object under the page's /Resources /Font.
    let page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 {n} 0 R >> >> /Contents 5 0 R >>".replace("{n}", &n.to_string());
    let new_font = append_revision(
        &base,
        &[
            (4, page),
            (
                n,
                "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Differences [49 /nine] >> >>".into(),
            ),
        ],
        "stream",
    );
    let new_font = with_size(new_font, n + 2);
    let rep = rejected("shadow-replace-resources-font", new_font);
    assert!(rep.signatures[0]
        .modifications
        .iter()
        .any(|m| m.object == 4 && m.class == ChangeClass::Forbidden));
}

/// vanthu rejects the sample (KHÔNG HỢP LỆ or not valid); pyHanko's opinion is logged.
fn rejected_by_vanthu(name: &str, data: Vec<u8>) -> vanthu_pdf::Report {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join(format!("{name}.pdf"));
    std::fs::write(&f, &data).unwrap();
    let (ok, out) = pyhanko_validate(&f, &[]);
    eprintln!(
        "{name}: pyHanko {}: {out}",
        if ok { "accepts" } else { "rejects" }
    );
    let rep = verify_bytes(data, &opts()).unwrap();
    assert!(!rep.all_valid, "{name}: vanthu accepted it: {rep:#?}");
    assert_ne!(rep.verdict, VALID, "{name}");
    rep
}

/// pyHanko's verdict on a file (logged; returned for the cases where it is asserted).
fn pyhanko_says(name: &str, data: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join(format!("{name}.pdf"));
    std::fs::write(&f, data).unwrap();
    let (ok, out) = pyhanko_validate(&f, &[]);
    eprintln!(
        "{name}: pyHanko {}: {out}",
        if ok { "accepts" } else { "rejects" }
    );
    ok
}

/// FieldMDP (spec §1.6, §4.2): the signature's lock decides which later fills are allowed;
/// pyHanko agrees on the open fill and on the locked one.
#[test]
fn field_mdp_lock_allows_only_the_open_fields() {
    let (so, ghi) = (
        ("SoKyHieu", "[70 700 300 720]"),
        ("GhiChu", "[70 750 400 780]"),
    );
    let input = with_text_fields("So tien: 1.000.000 dong", &[so, ghi]);
    // An approval signature that leaves only the number open (spec §1.6: /Exclude).
    let signed = sign_bytes(
        input.clone(),
        &p12("leader"),
        &SignOptions {
            field_lock: Some(FieldMdp::Exclude(vec!["SoKyHieu".into()])),
            ..Default::default()
        },
    )
    .unwrap();
    let rep = verify_bytes(signed.clone(), &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    assert_eq!(
        rep.signatures[0].field_lock.as_deref(),
        Some("FieldMDP /Exclude [SoKyHieu]")
    );
    assert!(pyhanko_says("fieldmdp-signed", &signed));
    // Filling the open field: Được phép – điền biểu mẫu, still HỢP LỆ.
    let ok = fill(&signed, 6, so.0, so.1, "123/QD-UBND");
    let rep = verify_bytes(ok.clone(), &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let m = &rep.signatures[0].modifications;
    assert!(
        m.iter()
            .any(|m| m.object == 6 && m.class == ChangeClass::FormFill),
        "{m:#?}"
    );
    assert!(pyhanko_says("fieldmdp-open-fill", &ok), "pyHanko agrees");
    // Filling a locked field: Không được phép.
    let bad = fill(&signed, 7, ghi.0, ghi.1, "So tien: 9.000.000 dong - page 1");
    let rep = rejected("fieldmdp-locked-fill", bad);
    let s = &rep.signatures[0];
    assert_eq!(s.verdict, INVALID);
    assert!(
        s.modifications.iter().any(|m| m.object == 7
            && m.class == ChangeClass::Forbidden
            && m.what.contains("locked by FieldMDP")),
        "{s:#?}"
    );
    // Under certification P=2 a fill is allowed, except of what FieldMDP /Include locks.
    let certified = sign_bytes(
        input,
        &p12("leader"),
        &SignOptions {
            certify: true,
            field_lock: Some(FieldMdp::Include(vec!["GhiChu".into()])),
            ..Default::default()
        },
    )
    .unwrap();
    let rep = verify_bytes(fill(&certified, 6, so.0, so.1, "123/QD-UBND"), &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
    let rep = rejected(
        "fieldmdp-include-p2",
        fill(&certified, 7, ghi.0, ghi.1, "Khong dong y"),
    );
    assert_eq!(rep.signatures[0].certification, Some(2));
}

/// DocMDP P=3 lets later revisions add annotations (P=2 does not: see
/// `annotation_after_certification_is_rejected_and_blocks_signing`).
#[test]
fn docmdp_p3_allows_annotations_unlike_p2() {
    let certified = sign_bytes(
        sample_pdf(1, "Hop dong"),
        &p12("leader"),
        &SignOptions {
            certify: true,
            docmdp: 3,
            ..Default::default()
        },
    )
    .unwrap();
    let annotated = add_freetext(&certified);
    let rep = verify_bytes(annotated.clone(), &opts()).unwrap();
    let s = &rep.signatures[0];
    assert_eq!(s.certification, Some(3));
    assert!(rep.all_valid, "{rep:#?}");
    assert!(s
        .modifications
        .iter()
        .all(|m| m.class == ChangeClass::Allowed));
    // pyHanko 0.38's StandardDiffPolicy "was not designed to support DocMDP level 3" and
    // rejects this file: logged only.
    pyhanko_says("annot-under-p3", &annotated);
    // P=1 is never written.
    let e = sign_bytes(
        sample_pdf(1, "x"),
        &p12("leader"),
        &SignOptions {
            certify: true,
            docmdp: 1,
            ..Default::default()
        },
    );
    assert!(e.is_err());
}

/// Hide-and-replace, "free" variant (spec §5): the update is only an xref that frees the
/// signed page's content stream (the page then shows nothing, or what a viewer falls back
/// to). Both validators reject it.
#[test]
fn xref_only_update_freeing_signed_content_is_rejected() {
    let signed = signed();
    let doc = vanthu_pdf::doc::Doc::parse(signed.clone()).unwrap();
    let prev = doc.sections.last().unwrap().offset;
    let size = doc.size();
    let root = doc.root_ref().0;
    let mut evil = signed.clone();
    let x = evil.len();
    evil.extend_from_slice(
        format!("xref\n5 1\n0000000000 00001 f\r\ntrailer\n<< /Size {size} /Root {root} 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    let rep = rejected("xref-only-free", evil);
    assert!(
        rep.signatures[0]
            .modifications
            .iter()
            .any(|m| m.object == 5 && m.class == ChangeClass::Forbidden),
        "{rep:#?}"
    );
}

/// A signature field locked by an earlier signature's FieldMDP cannot be signed: vanthu
/// refuses to, and a signature put there by another tool is a forbidden change.
#[test]
fn locked_signature_field_cannot_be_signed() {
    let input = with_text_fields("Quyet dinh", &[("sig:ToChuc", "[0 0 0 0]")]);
    let leader = sign_bytes(
        input,
        &p12("leader"),
        &SignOptions {
            field_name: Some("LanhDao1".into()),
            field_lock: Some(FieldMdp::All),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(verify_bytes(leader.clone(), &opts()).unwrap().all_valid);
    let clerk = SignOptions {
        field_name: Some("ToChuc".into()),
        ..Default::default()
    };
    let e = sign_bytes(leader.clone(), &p12("clerk"), &clerk).unwrap_err();
    assert!(e.to_string().contains("FieldMDP"), "{e}");
    // pyHanko signs it anyway (it does not check locks when signing): vanthu's validator
    // then calls the fill of the locked field forbidden for the leader's signature.
    let dir = tempfile::tempdir().unwrap();
    let (i, o) = (dir.path().join("locked.pdf"), dir.path().join("py.pdf"));
    std::fs::write(&i, &leader).unwrap();
    let k = pki();
    let out = pyhanko()
        .args([
            "sign",
            "addsig",
            "--field",
            "ToChuc",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(k.join("clerk.key.pem"))
        .arg("--cert")
        .arg(k.join("clerk.pem"))
        .arg("--chain")
        .arg(k.join("chain.pem"))
        .arg(&i)
        .arg(&o)
        .output()
        .unwrap();
    eprintln!(
        "pyHanko addsig on a locked field: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
    let rep = rejected("locked-field-signed", std::fs::read(&o).unwrap());
    let s = &rep.signatures[0];
    assert_eq!(s.field, "LanhDao1");
    assert_eq!(s.verdict, INVALID, "{s:#?}");
    assert!(
        s.modifications
            .iter()
            .any(|m| m.what.contains("locked by FieldMDP")),
        "{s:#?}"
    );
    // Control: a leader signature that leaves ToChuc open (/Exclude [ToChuc]) lets the clerk
    // sign it, and both signatures are HỢP LỆ.
    let open = sign_bytes(
        with_text_fields("Quyet dinh", &[("sig:ToChuc", "[0 0 0 0]")]),
        &p12("leader"),
        &SignOptions {
            field_name: Some("LanhDao1".into()),
            field_lock: Some(FieldMdp::Exclude(vec!["ToChuc".into()])),
            ..Default::default()
        },
    )
    .unwrap();
    let both = sign_bytes(open, &p12("clerk"), &clerk).unwrap();
    let rep = verify_bytes(both, &opts()).unwrap();
    assert!(rep.all_valid, "{rep:#?}");
}

/// Sneaky Signature Attack (Mladenov et al., "Breaking the Specification: PDF Certification",
/// 2021): under DocMDP P=2 signing is allowed, so an attacker signs the certified document with a
/// *new* signature field whose widget is a large box over the signed text (its appearance may
/// draw anything). Made here with pyHanko's own signer (`addsig --field page/box/name`), which
/// adds the field. Both validators reject the certification; vanthu itself refuses to create
/// such a field (`visible_signature_after_certification_needs_a_precreated_field`).
#[test]
fn sneaky_signature_field_over_certified_content_is_rejected() {
    let certified = sign_bytes(
        sample_pdf(1, "So tien: 1.000.000 dong"),
        &p12("leader"),
        &SignOptions {
            certify: true,
            ..Default::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (i, o) = (dir.path().join("in.pdf"), dir.path().join("ssa.pdf"));
    std::fs::write(&i, certified).unwrap();
    pyhanko_sign_locked_with(&i, &o, "", &["--field", "1/40,600,560,800/Sneaky"]);
    let rep = rejected("sneaky-signature", std::fs::read(&o).unwrap());
    let cert = &rep.signatures[0];
    assert_eq!(cert.certification, Some(2));
    assert!(cert.intact, "{rep:#?}");
    assert!(
        cert.modifications
            .iter()
            .any(|m| m.class == ChangeClass::Forbidden),
        "{rep:#?}"
    );
    assert_eq!(rep.signatures[1].field, "Sneaky");
    assert!(rep.signatures[1].intact);
}

/// Hide-and-replace through a hybrid-reference update: after the signature, an update whose
/// table is empty and whose trailer's /XRefStm points at a cross-reference stream that moves
/// the signed page (object 4) into a new object stream, with new contents. Readers that honour
/// /XRefStm show the new page; a PDF 1.4 reader (and a validator that ignores /XRefStm) still
/// sees the signed one. vanthu reads the stream and names the change; pyHanko refuses the file.
#[test]
fn hybrid_update_replacing_the_signed_page_is_rejected() {
    let signed = signed();
    let doc = vanthu_pdf::doc::Doc::parse(signed.clone()).unwrap();
    let n = doc.size();
    let (stm, content, xs) = (n, n + 1, n + 2);
    let mut page = doc.get(4).unwrap().as_dict().unwrap().clone();
    page.set("Contents", vanthu_pdf::object::Obj::Ref(content, 0));
    let mut body = Vec::new();
    vanthu_pdf::object::write_dict(&mut body, &page);
    let body = String::from_utf8(body).unwrap();
    let mut out = signed.clone();
    let prev = doc.sections.last().unwrap().offset;
    let mut off = std::collections::BTreeMap::new();
    let hdr = "4 0 ";
    let data = format!("{hdr}{body}");
    off.insert(stm, out.len());
    out.extend_from_slice(
        format!(
            "{stm} 0 obj\n<< /Type /ObjStm /N 1 /First {} /Length {} >>\nstream\n{data}\nendstream\nendobj\n",
            hdr.len(),
            data.len()
        )
        .as_bytes(),
    );
    let text = "BT /F1 14 Tf 72 760 Td (So tien: 9.000.000 dong) Tj ET";
    off.insert(content, out.len());
    out.extend_from_slice(
        format!(
            "{content} 0 obj\n<< /Length {} >>\nstream\n{text}\nendstream\nendobj\n",
            text.len()
        )
        .as_bytes(),
    );
    // Entries: 4 → (2, stm, 0); stm, content, xs → (1, offset, 0). W [1 4 2].
    let xs_off = out.len();
    off.insert(xs, xs_off);
    let mut rows = vec![2u8, 0, 0, 0, 0, 0, 0];
    rows[1..5].copy_from_slice(&stm.to_be_bytes());
    for k in [stm, content, xs] {
        rows.push(1);
        rows.extend_from_slice(&(off[&k] as u32).to_be_bytes());
        rows.extend_from_slice(&[0, 0]);
    }
    out.extend_from_slice(
        format!(
            "{xs} 0 obj\n<< /Type /XRef /Size {} /Index [4 1 {stm} 3] /W [1 4 2] /Length {} >>\nstream\n",
            xs + 1,
            rows.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&rows);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let upd = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 0\ntrailer\n<< /Size {} /Root 1 0 R /Prev {prev} /XRefStm {xs_off} >>\nstartxref\n{upd}\n%%EOF\n",
            xs + 1
        )
        .as_bytes(),
    );
    // What a PDF 1.5 reader shows: the new amount.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hybrid.pdf");
    std::fs::write(&f, &out).unwrap();
    let shown = std::process::Command::new("pdftotext")
        .arg(&f)
        .arg("-")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("9.000.000"));
    let rep = rejected("hybrid-update", out);
    assert!(rep.signatures[0].intact, "{rep:#?}");
    assert!(
        rep.signatures[0]
            .modifications
            .iter()
            .any(|m| m.object == 4 && m.class == ChangeClass::Forbidden),
        "{rep:#?}"
    );
}

/// Acrobat keeps a page's /Annots in an object of its own; a later signer may write a direct
/// array in the page instead, with a new signature field's widget (some writers give that
/// widget no /Parent: the field lists it in /Kids). vanthu compares the arrays themselves:
/// everything signed still there, only signature widgets added — allowed, as pyHanko says; a
/// direct array that drops the signed widget is forbidden, by both.
#[test]
fn page_annotations_held_by_reference_may_be_rewritten_directly() {
    use vanthu_pdf::object::{write_dict, Obj};
    let base = sample_pdf(1, "Annots");
    let doc = vanthu_pdf::doc::Doc::parse(base.clone()).unwrap();
    let arr = doc.size();
    let mut page = doc.get(4).unwrap().as_dict().unwrap().clone();
    page.set("Annots", Obj::Ref(arr, 0));
    let dict = |d: &vanthu_pdf::object::Dict| {
        let mut v = Vec::new();
        write_dict(&mut v, d);
        String::from_utf8(v).unwrap()
    };
    let unsigned = with_size(
        append_revision(&base, &[(4, dict(&page)), (arr, "[]".into())], "table"),
        arr + 1,
    );
    let signed = sign_bytes(unsigned, &p12("leader"), &SignOptions::default()).unwrap();
    let doc = vanthu_pdf::doc::Doc::parse(signed.clone()).unwrap();
    assert!(matches!(
        doc.get(4).unwrap().as_dict().unwrap().get("Annots"),
        Some(Obj::Ref(..))
    ));
    let signed_widgets = doc.get(arr).unwrap().as_arr().unwrap().to_vec();
    assert_eq!(signed_widgets.len(), 1);
    let n = doc.size();
    // The form's field list with `field` added, as the update that holds it must write it.
    let cat = doc.catalog().unwrap();
    let root = doc.root_ref().0;
    let with_field = |field: u32| -> (u32, String) {
        match cat.get("AcroForm") {
            Some(Obj::Ref(af, _)) => {
                let mut d = doc.get(*af).unwrap().as_dict().unwrap().clone();
                let mut f = d.get("Fields").unwrap().as_arr().unwrap().to_vec();
                f.push(Obj::Ref(field, 0));
                d.set("Fields", Obj::Arr(f));
                (*af, dict(&d))
            }
            _ => {
                let mut c = cat.clone();
                let mut d = c.get("AcroForm").unwrap().as_dict().unwrap().clone();
                let mut f = d.get("Fields").unwrap().as_arr().unwrap().to_vec();
                f.push(Obj::Ref(field, 0));
                d.set("Fields", Obj::Arr(f));
                c.set("AcroForm", Obj::Dict(d));
                (root, dict(&c))
            }
        }
    };
    let page_with = |annots: Vec<Obj>| {
        let mut p = doc.get(4).unwrap().as_dict().unwrap().clone();
        p.set("Annots", Obj::Arr(annots));
        (4, dict(&p))
    };
    let widget = "/Type /Annot /Subtype /Widget /Rect [0 0 0 0] /F 132 /P 4 0 R";
    let mut kept = signed_widgets.clone();
    kept.push(Obj::Ref(n, 0));
    let direct = with_size(
        append_revision(
            &signed,
            &[
                page_with(kept),
                (n, format!("<< /FT /Sig /T (Sig2) {widget} >>")),
                with_field(n),
            ],
            "table",
        ),
        n + 1,
    );
    let mut kept = signed_widgets.clone();
    kept.push(Obj::Ref(n + 1, 0));
    let orphan_widget = with_size(
        append_revision(
            &signed,
            &[
                page_with(kept),
                (n, format!("<< /FT /Sig /T (Sig2) /Kids [{} 0 R] >>", n + 1)),
                (n + 1, format!("<< {widget} >>")),
                with_field(n),
            ],
            "table",
        ),
        n + 2,
    );
    for (name, data) in [("direct", direct), ("no-parent", orphan_widget)] {
        let rep = verify_bytes(data.clone(), &opts()).unwrap();
        let s = &rep.signatures[0];
        assert!(
            s.modifications_allowed && s.verdict == VALID,
            "{name}: {:#?}",
            s.modifications
        );
        assert!(pyhanko_says(name, &data), "{name}: pyHanko disagrees");
    }
    let dropped = with_size(
        append_revision(
            &signed,
            &[
                page_with(vec![Obj::Ref(n, 0)]),
                (n, format!("<< /FT /Sig /T (Sig2) {widget} >>")),
                with_field(n),
            ],
            "table",
        ),
        n + 1,
    );
    let rep = rejected("dropped-signed-widget", dropped);
    assert!(rep.signatures[0]
        .modifications
        .iter()
        .any(|m| m.class == ChangeClass::Forbidden && m.what.contains("page annotations")));
}

/// A cross-reference section planted in the document before it is signed, outside the chain
/// the signer reads (its own `startxref` points back at the original table), with a `/Prev`
/// naming where the signer's section will be; after signing, an update of one empty table hooks
/// it in. The chain then runs update → planted → signature → original, and the planted section
/// remaps the page's content to a stream hidden in the original ("REPLACED"). Its bytes are
/// signed, but it is not what the signer saw: a later change, forbidden — as pyHanko says too.
#[test]
fn a_planted_cross_reference_hooked_in_after_signing_is_rejected() {
    let base = sample_pdf(1, "Original text");
    let base_xref = vanthu_pdf::doc::Doc::parse(base.clone())
        .unwrap()
        .sections
        .last()
        .unwrap()
        .offset;
    let plant = |prev: usize| -> (Vec<u8>, usize) {
        let mut v = base.clone();
        let hidden = v.len();
        let s = "BT /F1 14 Tf 72 760 Td (REPLACED - page 1) Tj ET";
        v.extend_from_slice(
            format!(
                "5 0 obj\n<< /Length {} >>\nstream\n{s}\nendstream\nendobj\n",
                s.len()
            )
            .as_bytes(),
        );
        let planted = v.len();
        v.extend_from_slice(
            format!(
                "xref\n0 1\n0000000000 65535 f \n5 1\n{hidden:010} 00000 n \ntrailer\n<< /Size 6 \
                 /Root 1 0 R /Prev {prev:010} >>\nstartxref\n{base_xref}\n%%EOF\n"
            )
            .as_bytes(),
        );
        (v, planted)
    };
    let signer_section = |signed: &[u8]| {
        vanthu_pdf::doc::Doc::parse(signed.to_vec())
            .unwrap()
            .sections
            .last()
            .unwrap()
            .offset
    };
    // Where the signer's section lands (the same layout whatever the /Prev digits).
    let key = p12("leader");
    let o = SignOptions {
        signing_time: Some(time::OffsetDateTime::now_utc()),
        ..Default::default()
    };
    let (probe, _) = plant(0);
    let x = signer_section(&sign_bytes(probe, &key, &o).unwrap());
    let (doc, planted) = plant(x);
    let signed = sign_bytes(doc, &key, &o).unwrap();
    assert_eq!(signer_section(&signed), x, "the prediction holds");
    let before = verify_bytes(signed.clone(), &opts()).unwrap();
    assert!(before.all_valid, "{before:#?}");
    let size = vanthu_pdf::doc::Doc::parse(signed.clone()).unwrap().size();
    let mut evil = signed.clone();
    let u = evil.len();
    evil.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size {size} /Root 1 0 R /Prev \
             {planted} >>\nstartxref\n{u}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let chain = vanthu_pdf::doc::Doc::parse(evil.clone()).unwrap();
    assert_eq!(
        chain.sections.len(),
        4,
        "update → planted → signature → original"
    );
    let rep = rejected("planted-xref", evil);
    assert!(
        rep.signatures[0]
            .modifications
            .iter()
            .any(|m| m.class == ChangeClass::Forbidden),
        "{:#?}",
        rep.signatures[0]
    );
}
