//! `inspect` and `pack`, and the ZIP quirk.

use std::io::{Cursor, Write};

use crate::common::*;
use crate::writer::pack_request;
use vanthu_edxml::*;

fn inspect_file(rel: &str) -> InspectReport {
    inspect(&sample_bytes(rel)[..]).unwrap()
}

#[test]
fn inspect_sdk_edoc_unwraps_inner_edxml() {
    let r = inspect_file(&sdk("edoc_new.edxml"));
    assert_eq!(r.kind, MessageKind::Edoc);
    assert_eq!(r.from, "000.00.00.A80");
    assert_eq!(r.to, ["28.22.H17"]);
    assert_eq!(r.code_number.as_deref(), Some("74fass22"));
    assert_eq!(r.business_type.as_deref(), Some("new"));
    let a = &r.attachments[0];
    assert_eq!(a.name.as_deref(), Some("1896_QD-TTg_m_294779.doc"));
    assert_eq!(a.size, 270823);
    let u = a.unwrapped.as_ref().unwrap();
    assert_eq!(u.size, 388_347);
    assert_eq!(
        u.sha256,
        "8385739ec4a4ed36d71eabcaead629641ffc5ffff3d487ff5c34d2f821c9f36e"
    );
    assert_eq!(u.entry_name, "32da2890-1a55-4ccd-9ac9-cd0d98559e67.edxml");
    assert_eq!(u.sniffed_type.as_deref(), Some("application/xml"));
    assert!(u.type_mismatch);
    assert!(r
        .warnings
        .iter()
        .any(|d| d.code == "ATTACHMENT_TYPE_MISMATCH"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["attachments"][0]["sha256"],
        "7ab7c43a02a3cf2cedd14ebf2545a37e7a1307e0091b4ba94c2ef1e842a763aa"
    );
    assert_eq!(json["kind"], "edoc");
}

#[test]
fn inspect_api_gateway_unwraps_pdf() {
    let r = inspect_file(API_GW);
    let a = &r.attachments[0];
    let u = a.unwrapped.as_ref().unwrap();
    assert_eq!(u.entry_name, "5c7082fe-4ac3-4b46-961e-e2439bfae484.PDF");
    assert_eq!(u.size, 17);
    assert_eq!(
        u.sha256,
        "c0469bc89f8b4d2aa08161bc7591309989461aa5e67709f2608b86ddcfb3b943"
    );
    assert!(!u.type_mismatch, "extensions compare case-insensitively");
    assert!(r.warnings.iter().any(|d| d.code == "CONTENT_TYPE_MISMATCH"));
    assert_eq!(r.trace_headers.len(), 2);
}

#[test]
fn inspect_status() {
    let r = inspect_file(&sdk("status_rejection_02.edxml"));
    assert_eq!(r.kind, MessageKind::Status);
    assert_eq!(r.status_code.as_deref(), Some("02"));
    assert_eq!(r.status_label.as_deref(), Some("Từ chối tiếp nhận"));
    assert_eq!(
        r.document_id.as_deref(),
        Some("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
    );
    let j = serde_json::to_string(&r).unwrap();
    assert!(j.contains("\"status_code\":\"02\""));
}

#[test]
fn pack_then_inspect() {
    let pdf = b"%PDF-1.7\n...".to_vec();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut out = Vec::new();
    let rep = pack(
        &pack_request(),
        vec![
            (
                "Công văn 12.pdf".to_string(),
                "application/pdf".to_string(),
                Cursor::new(pdf.clone()),
            ),
            (
                "data.bin".to_string(),
                "application/octet-stream".to_string(),
                Cursor::new(big.clone()),
            ),
        ],
        &mut out,
    )
    .unwrap();
    assert_eq!(rep.document_id, "000.00.00.H41,2026/01/05,12/UBND-VP");
    assert_eq!(rep.content_ids.len(), 2);
    let r = inspect(&out[..]).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(
        r.subject.as_deref(),
        Some("V/v thử nghiệm <liên thông> & gửi nhận")
    );
    assert_eq!(r.to, ["000.00.00.G22", "000.00.00.H14"]);
    assert_eq!(r.attachments[0].name.as_deref(), Some("Công văn 12.pdf"));
    assert_eq!(r.attachments[0].size, pdf.len() as u64);
    assert_eq!(
        r.attachments[0].sniffed_type.as_deref(),
        Some("application/pdf")
    );
    assert_eq!(r.attachments[1].size, 200_000);
    assert_eq!(
        r.attachments[1].sha256.as_deref(),
        Some(rep.write.attachments[1].sha256.as_str())
    );
    assert_eq!(
        r.message.trace.as_ref().unwrap().trace_headers[0].timestamp,
        "2026/01/05 09:30:07"
    );
    assert_eq!(
        r.attachments[0].content_id,
        format!("cid:{}", rep.content_ids[0])
    );
}

fn make_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (n, d) in entries {
        w.start_file(*n, opts).unwrap();
        w.write_all(d).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_quirk_rules() {
    let l = Limits::default();
    let one = make_zip(&[("inner.pdf", b"%PDF-1.4 hello")]);
    match unwrap_single_entry_zip(Cursor::new(&one), "Văn bản.pdf", &l, None).unwrap() {
        UnwrapOutcome::Unwrapped(u) => {
            assert_eq!(u.size, 14);
            assert!(!u.type_mismatch);
            assert_eq!(u.sniffed_type.as_deref(), Some("application/pdf"));
        }
        o => panic!("{o:?}"),
    }
    // Named .zip: a real archive.
    assert_eq!(
        unwrap_single_entry_zip(Cursor::new(&one), "a.ZIP", &l, None).unwrap(),
        UnwrapOutcome::NotWrapped
    );
    // Not a zip at all.
    assert_eq!(
        unwrap_single_entry_zip(Cursor::new(b"%PDF-"), "a.pdf", &l, None).unwrap(),
        UnwrapOutcome::NotWrapped
    );
    // Several entries: stays wrapped.
    let two = make_zip(&[("a.pdf", b"1"), ("b.pdf", b"2")]);
    assert!(matches!(
        unwrap_single_entry_zip(Cursor::new(&two), "x.pdf", &l, None).unwrap(),
        UnwrapOutcome::KeptWrapped { .. }
    ));
    // Office-like single entry stays wrapped.
    let ct = make_zip(&[("[Content_Types].xml", b"<Types/>")]);
    assert!(matches!(
        unwrap_single_entry_zip(Cursor::new(&ct), "x.docx", &l, None).unwrap(),
        UnwrapOutcome::KeptWrapped { .. }
    ));
    // A hostile entry name is only a label: bytes go to our writer, never to a path.
    let evil = make_zip(&[("../../x.pdf", b"%PDF-evil")]);
    let mut out = Vec::new();
    match unwrap_single_entry_zip(Cursor::new(&evil), "x.pdf", &l, Some(&mut out)).unwrap() {
        UnwrapOutcome::Unwrapped(u) => assert_eq!(u.entry_name, "../../x.pdf"),
        o => panic!("{o:?}"),
    }
    assert_eq!(out, b"%PDF-evil");
    assert!(!std::path::Path::new("../../x.pdf").exists());
}

#[test]
fn zip_bomb_stops_at_the_limit() {
    // 64 MiB of zeros compresses ~1000:1, beyond the 100:1 ratio.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("bomb.pdf", opts).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        w.write_all(&zeros).unwrap();
    }
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 1 << 20);
    let mut sink = std::io::sink();
    let e = unwrap_single_entry_zip(
        Cursor::new(&bomb),
        "x.pdf",
        &Limits::default(),
        Some(&mut sink),
    )
    .unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
}
