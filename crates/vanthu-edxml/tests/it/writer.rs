//! Strict writer: round trips, canonical bytes, XSD (xmllint) and lxml checks, refusals.

use std::process::Command;

use crate::common::*;
use crate::samples::parse;
use vanthu_edxml::*;

/// Model fields the writer normalises on purpose (§4): signature dropped, TypeDetail
/// omitted, Bussiness always present, its DocumentId only for types 1/2, manifest
/// generated from the attachments.
fn normalise(m: &Message) -> Message {
    let mut m = m.clone();
    m.signature = SignatureKind::Absent;
    m.diagnostics.clear();
    m.manifest.clear();
    for a in &mut m.attachments {
        a.manifest_content_type = None;
    }
    if let Header::Edoc(h) = &mut m.header {
        if let Some(t) = &mut h.document_type {
            t.type_detail = None;
        }
        let tr = m.trace.get_or_insert_with(TraceHeaderList::default);
        let b = tr.business.get_or_insert_with(|| Business {
            paper: Some("0".into()),
            ..Business::default()
        });
        if !matches!(
            b.doc_type,
            BusinessDocType::Revoke | BusinessDocType::Update
        ) {
            b.document_id = None;
        }
        if b.doc_type != BusinessDocType::Update {
            b.document_info = None;
        }
        if b.doc_type != BusinessDocType::Replace {
            b.replacements.clear();
        }
    }
    m
}

pub fn rewrite(m: &Message, sink: &VecSink) -> Vec<u8> {
    let atts = m
        .attachments
        .iter()
        .map(|a| AttachmentSource {
            content_id: a.content_id.clone(),
            attachment_name: a.attachment_name.clone().unwrap_or_default(),
            description: a.description.clone(),
            content_type: a.content_type.clone().unwrap_or_default(),
            data: Box::new(sink.get(a.index).unwrap()),
        })
        .collect();
    let mut out = Vec::new();
    let rep = write_message(m, atts, &mut out, &WriteOptions::default()).unwrap();
    assert_eq!(rep.bytes as usize, out.len());
    out
}

fn reparse(bytes: &[u8]) -> (Message, VecSink) {
    let mut sink = VecSink::new();
    let m = read_message(bytes, &mut sink, &ReadOptions::default()).unwrap();
    (m, sink)
}

#[test]
fn samples_round_trip_and_are_canonical() {
    for s in all_good_samples() {
        let (m, sink) = parse(&s);
        let once = rewrite(&m, &sink);
        let (m2, sink2) = reparse(&once);
        assert_eq!(normalise(&m2), normalise(&m), "{s}");
        for a in &m2.attachments {
            assert_eq!(sink2.get(a.index), sink.get(a.index), "{s}");
        }
        let twice = rewrite(&m2, &sink2);
        assert!(once == twice, "{s}: writing twice gives identical bytes");
        // Canonical form.
        assert!(once.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<edXML xmlns="));
        assert!(!once.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(once).unwrap();
        assert_eq!(
            text.matches('\n').count(),
            text.matches("\r\n").count(),
            "{s}: CRLF everywhere"
        );
        assert!(!text.contains("<!--"));
        assert!(!text.contains("Signature"));
        assert!(text.contains("<edXML:Bussiness>") || s.contains("status"));
        assert!(!m2.has_diagnostic("UNKNOWN_ELEMENT"), "{s}");
    }
}

#[test]
fn canonical_layout_of_a_status() {
    let (m, sink) = parse(&sdk("status_cancellation_13.edxml"));
    let out = String::from_utf8(rewrite(&m, &sink)).unwrap();
    let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">\r\n\
\x20 <edXML:edXMLEnvelope xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">\r\n\
\x20   <edXML:edXMLHeader>\r\n\
\x20     <edXML:MessageHeader>\r\n\
\x20       <edXML:From>\r\n\
\x20         <edXML:OrganId>000.00.00.G22</edXML:OrganId>\r\n\
\x20         <edXML:OrganizationInCharge>Văn phòng Chính phủ</edXML:OrganizationInCharge>\r\n\
\x20         <edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName>\r\n";
    assert!(out.starts_with(expected), "{out}");
    let order: Vec<usize> = [
        "<edXML:ResponseFor>",
        "<edXML:StaffInfo>",
        "<edXML:StatusCode>13<",
        "<edXML:Description>",
        "<edXML:Timestamp>",
    ]
    .iter()
    .map(|t| out.find(t).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]));
    // ResponseFor children in canonical order even though the sample has them swapped.
    assert!(
        out.find("<edXML:DocumentId>").unwrap() < out.find("<edXML:PromulgationDate>").unwrap()
    );
}

fn written_samples() -> Vec<(String, tempfile::TempPath)> {
    let mut v = Vec::new();
    for s in all_good_samples() {
        let (m, sink) = parse(&s);
        v.push((s.clone(), tmp_file("rt", &rewrite(&m, &sink))));
    }
    let mut out = Vec::new();
    pack(
        &pack_request(),
        vec![(
            "a.pdf".to_string(),
            "application/pdf".to_string(),
            &b"%PDF-1.4 test"[..],
        )],
        &mut out,
    )
    .unwrap();
    v.push(("pack".into(), tmp_file("pack", &out)));
    v
}

#[test]
fn written_files_validate_against_the_xsd_with_xmllint() {
    let Some(xl) = xmllint() else { return };
    for (s, p) in written_samples() {
        let out = Command::new(&xl)
            .args(["--noout", "--nonet", "--schema"])
            .arg(xsd_path())
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The XSD is a real check: a non-canonical message fails it.
    let bad = tmp_file("bad", &sample_bytes(&sdk("edoc_new.edxml")));
    let out = Command::new(&xl)
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd_path())
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn written_files_are_read_by_lxml() {
    let Some(py) = python() else { return };
    let script = r#"
import sys
from lxml import etree
NS = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
schema = etree.XMLSchema(etree.parse(sys.argv[1]))
for f in sys.argv[2:]:
    t = etree.parse(f, etree.XMLParser(resolve_entities=False, no_network=True))
    schema.assertValid(t)
    print(t.getroot().tag, t.findtext(".//" + NS + "OrganId"), len(t.findall(".//" + NS + "Attachment")))
"#;
    let files = written_samples();
    let mut cmd = Command::new(&py);
    cmd.args(["-c", script]).arg(xsd_path());
    for (_, p) in &files {
        cmd.arg(p);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), files.len());
    assert_eq!(
        lines[0],
        "{http://www.mic.gov.vn/TBT/QCVN_102_2016}edXML 000.00.00.A80 1"
    );
}

pub fn pack_request() -> PackRequest {
    PackRequest {
        from: Organization::new("000.00.00.H41", "UBND tỉnh Nghệ An"),
        to: vec![
            Organization::new("000.00.00.G22", "Văn phòng Chính phủ"),
            Organization::new("000.00.00.H14", "UBND tỉnh Hòa Bình"),
        ],
        code_number: "12".into(),
        code_notation: "UBND-VP".into(),
        subject: "V/v thử nghiệm <liên thông> & gửi nhận".into(),
        date: "2026/01/05".into(),
        timestamp: Some("2026/01/05 09:30:07".into()),
        ..PackRequest::default()
    }
}

fn status_msg() -> Message {
    let (m, _) = parse(&sdk("status_rejection_02.edxml"));
    m
}

fn expect_invalid(r: Result<WriteReport, WriteError>, path_end: &str) -> String {
    match r {
        Err(e @ WriteError::Invalid { .. }) => {
            let WriteError::Invalid { path, .. } = &e else {
                unreachable!()
            };
            assert!(path.ends_with(path_end), "{path} !~ {path_end}");
            let s = e.to_string();
            assert!(
                s.starts_with("Gói tin không hợp lệ / invalid message: "),
                "{s}"
            );
            s
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn writer_refuses_invalid_messages() {
    let w = |req: &PackRequest| {
        let mut out = Vec::new();
        let r = pack(req, Vec::<(String, String, &[u8])>::new(), &mut out);
        if r.is_err() {
            assert!(out.is_empty(), "nothing is written when invalid");
        }
        r.map(|p| p.write)
    };
    assert!(w(&pack_request()).is_ok());
    let mut r = pack_request();
    r.subject = "  ".into();
    expect_invalid(w(&r), "/MessageHeader/Subject");
    let mut r = pack_request();
    r.subject = "x".repeat(501);
    expect_invalid(w(&r), "/MessageHeader/Subject");
    let mut r = pack_request();
    r.to.push(Organization::new("000.00.00.G22", "dup"));
    expect_invalid(w(&r), "/MessageHeader/To[3]/OrganId");
    let mut r = pack_request();
    r.from.organ_id = "28.22.H17".into();
    expect_invalid(w(&r), "/MessageHeader/From/OrganId");
    let mut r = pack_request();
    r.priority = Some("5".into());
    expect_invalid(w(&r), "/OtherInfo/Priority");
    let mut r = pack_request();
    r.priority = Some("4".into());
    expect_invalid(w(&r), "/OtherInfo/Priority");
    let mut r = pack_request();
    r.date = "2026-01-05".into();
    expect_invalid(w(&r), "/PromulgationInfo/PromulgationDate");
    let mut r = pack_request();
    r.code_number = "123456789012".into();
    expect_invalid(w(&r), "/Code/CodeNumber");

    let mut m = status_msg();
    if let Header::Status(h) = &mut m.header {
        h.status_code = StatusCode::Unknown("07".into());
    }
    expect_invalid(
        write_message(&m, vec![], Vec::new(), &WriteOptions::default()),
        "/MessageHeader/StatusCode",
    );
    let mut m = status_msg();
    if let Header::Status(h) = &mut m.header {
        h.description = None;
    }
    expect_invalid(
        write_message(&m, vec![], Vec::new(), &WriteOptions::default()),
        "/MessageHeader/Description",
    );
    let mut m = status_msg();
    if let Header::Status(h) = &mut m.header {
        h.timestamp = "2018-09-28T17:25:11+07:00".into();
    }
    expect_invalid(
        write_message(&m, vec![], Vec::new(), &WriteOptions::default()),
        "/MessageHeader/Timestamp",
    );
}

#[test]
fn every_status_code_can_be_written() {
    for code in StatusCode::ALL {
        let mut m = status_msg();
        if let Header::Status(h) = &mut m.header {
            h.status_code = code.clone();
        }
        let mut out = Vec::new();
        write_message(&m, vec![], &mut out, &WriteOptions::default()).unwrap();
        let (m2, _) = reparse(&out);
        assert_eq!(m2.status().unwrap().status_code, code);
    }
}

#[test]
fn vietnam_time_whatever_the_zone() {
    assert_eq!(format_vn_timestamp(0), "1970/01/01 07:00:00");
    assert_eq!(format_vn_timestamp(1_700_000_000), "2023/11/15 05:13:20");
    assert_eq!(format_vn_timestamp(951_782_400), "2000/02/29 07:00:00");
    assert!(is_valid_timestamp(&now_vn_timestamp()));
    let u = uuid_v4();
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
    assert_ne!(u, uuid_v4());
}
