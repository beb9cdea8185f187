//! Tolerant reading: prefixes, order, stray bytes, base64 layout.

use crate::common::*;
use crate::samples::parse;
use vanthu_edxml::*;

fn read(bytes: &[u8]) -> Result<Message, EdxmlError> {
    read_message(bytes, HashOnlySink, &ReadOptions::default())
}

#[test]
fn leading_bytes_bom_and_junk() {
    let base = sample_bytes(&sdk("edoc_new.edxml"));
    let mut v = b"1212".to_vec();
    v.extend_from_slice(&base);
    let m = read(&v).unwrap();
    assert!(m.has_diagnostic("LEADING_BYTES_SKIPPED"));

    let mut v = b"\xEF\xBB\xBF".to_vec();
    v.extend_from_slice(&base);
    let m = read(&v).unwrap();
    assert!(
        !m.has_diagnostic("LEADING_BYTES_SKIPPED"),
        "a BOM is silent"
    );

    let mut v = vec![b'x'; 2048];
    v.extend_from_slice(&base);
    let e = read(&v).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotWellFormed);
}

#[test]
fn prefixes_do_not_matter() {
    let xml = sample_bytes(&sdk("status.edxml"));
    let s = String::from_utf8(xml).unwrap();
    // Rebind the namespace to another prefix, and use the default namespace for the header.
    let s = s
        .replace("edXML:", "q:")
        .replace("xmlns:edXML=", "xmlns:q=");
    let m = read(s.as_bytes()).unwrap();
    assert_eq!(m.status().unwrap().status_code, StatusCode::Arrived);
    // Same local names in a foreign namespace do not count.
    let s2 = s.replace(
        "<q:edXMLEnvelope xmlns:q=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">",
        "<q:edXMLEnvelope xmlns:q=\"urn:other\">",
    );
    let e = read(s2.as_bytes()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Structure, "{e}");
}

#[test]
fn wrong_root_namespace_is_not_edxml() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let s = s.replacen(
        "<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">",
        "<edXML xmlns=\"urn:wrong\">",
        1,
    );
    let e = read(s.as_bytes()).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotEdxml);
    assert_eq!(e.location.path, "/edXML");
    let e = read(b"<?xml version=\"1.0\"?><html/>").unwrap_err();
    assert_eq!(e.code, ErrorCode::NotEdxml);
}

#[test]
fn comments_unknown_elements_and_order() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let s = s.replace(
        "<edXML:StatusCode>01</edXML:StatusCode>",
        "<!-- c --><edXML:Extra a=\"1\">x</edXML:Extra><edXML:StatusCode> 1 </edXML:StatusCode>",
    );
    let m = read(s.as_bytes()).unwrap();
    assert_eq!(m.status().unwrap().status_code.as_str(), "01");
    let d = m.diagnostics_with("UNKNOWN_ELEMENT");
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].location.path,
        "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Extra"
    );
    assert!(d[0].location.line > 0);
}

#[test]
fn entities_and_char_refs_in_values() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let s = s.replace(
        "<edXML:Description>Văn thư",
        "<edXML:Description>&lt;a&amp;b&gt; &#86;&#x41; Văn thư",
    );
    let m = read(s.as_bytes()).unwrap();
    assert!(m
        .status()
        .unwrap()
        .description
        .as_deref()
        .unwrap()
        .starts_with("<a&b> VA Văn thư"));
}

#[test]
fn missing_document_id_is_derived() {
    let s = String::from_utf8(sample_bytes(&sdk("edoc_revocation.edxml"))).unwrap();
    let s = s.replacen(
        "<edXML:DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</edXML:DocumentId>",
        "",
        1,
    );
    let m = read(s.as_bytes()).unwrap();
    assert_eq!(
        m.edoc().unwrap().document_id,
        "000.00.00.G22,2018/09/28,7816/VPCP-TTĐT"
    );
    assert!(m.has_diagnostic("DOCUMENT_ID_DERIVED"));
}

#[test]
fn missing_required_fields_are_precise() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let s = s.replace(
        "<edXML:Timestamp>2018/09/28 17:25:11</edXML:Timestamp>",
        "<edXML:Timestamp/>",
    );
    let m = read(s.as_bytes()).unwrap();
    let d = m.diagnostics_with("FIELD_MISSING");
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].location.path,
        "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Timestamp"
    );
    assert_eq!(d[0].severity, Severity::Error);

    let s = String::from_utf8(sample_bytes(&sdk("edoc_revocation.edxml"))).unwrap();
    let s = s.replacen("<edXML:OrganId>000.00.00.H14</edXML:OrganId>", "", 1);
    let m = read(s.as_bytes()).unwrap();
    let d = m.diagnostics_with("FIELD_MISSING");
    assert_eq!(
        d[0].location.path,
        "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To[2]/OrganId"
    );

    // No MessageHeader at all: structure error.
    let e = read(b"<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"><edXMLEnvelope><edXMLHeader/></edXMLEnvelope></edXML>").unwrap_err();
    assert_eq!(e.code, ErrorCode::Structure);
    assert_eq!(e.location.path, "/edXML/edXMLEnvelope/edXMLHeader");
    let e = read(b"<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"><edXMLEnvelope><edXMLHeader><MessageHeader><From/></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>").unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownKind);
}

fn with_base64(b64: &str) -> Vec<u8> {
    let s = String::from_utf8(sample_bytes(&sdk("edoc_new.edxml"))).unwrap();
    let start = s.find("<edXML:ContentTransferEncoded").unwrap();
    let open_end = start + s[start..].find('>').unwrap() + 1;
    let close = s.find("</edXML:ContentTransferEncoded>").unwrap();
    format!("{}{}{}", &s[..open_end], b64, &s[close..]).into_bytes()
}

fn original_base64() -> String {
    let s = String::from_utf8(sample_bytes(&sdk("edoc_new.edxml"))).unwrap();
    let start = s.find("<edXML:ContentTransferEncoded").unwrap();
    let open_end = start + s[start..].find('>').unwrap() + 1;
    let close = s.find("</edXML:ContentTransferEncoded>").unwrap();
    s[open_end..close].to_string()
}

#[test]
fn base64_wrapped_at_76_columns_decodes_like_one_line() {
    let one = original_base64();
    let wrapped: String = one
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let mut sink = VecSink::new();
    let m = read_message(
        &with_base64(&format!("\n  {wrapped}  "))[..],
        &mut sink,
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(m.attachments[0].size, 270823);
    assert_eq!(
        m.attachments[0].sha256.as_deref(),
        Some("7ab7c43a02a3cf2cedd14ebf2545a37e7a1307e0091b4ba94c2ef1e842a763aa")
    );
    // Char-ref line breaks (&#13;&#10;) as some Java serializers write them.
    let refs = wrapped.replace("\r\n", "&#13;&#10;");
    let m = read(&with_base64(&refs)).unwrap();
    assert_eq!(m.attachments[0].size, 270823);
    assert!(m.attachments[0].error.is_none());
}

#[test]
fn missing_padding_is_accepted() {
    // "QUJD" = ABC, "QUI=" = AB
    let m = read(&with_base64("QUJDQUI")).unwrap();
    assert_eq!(m.attachments[0].size, 5);
    let m = read(&with_base64("QUJDQUI=")).unwrap();
    assert_eq!(m.attachments[0].size, 5);
}

#[test]
fn bad_base64_fails_only_that_attachment() {
    for bad in [
        "${__StringFromFile(test.txt,,,)}",
        "QUJD=QUJD",
        "QUJDQ",
        "QU&amp;JD",
    ] {
        let m = read(&with_base64(bad)).unwrap();
        let d = m.diagnostics_with("ATTACHMENT_BAD_BASE64");
        assert_eq!(d.len(), 1, "{bad}");
        assert_eq!(
            d[0].location.path,
            "/edXML/AttachmentEncoded/Attachment/ContentTransferEncoded"
        );
        assert!(m.attachments[0].sha256.is_none());
        assert_eq!(m.edoc().unwrap().code.code_number, "74fass22");
    }
}

#[test]
fn manifest_without_attachment_and_orphans() {
    let s = String::from_utf8(sample_bytes(&sdk("edoc_new.edxml"))).unwrap();
    let s = s.replacen(
        "<ContentId>cid:209</ContentId>",
        "<ContentId>cid:999</ContentId>",
        1,
    );
    let m = read(s.as_bytes()).unwrap();
    assert!(m.has_diagnostic("ATTACHMENT_MISSING"));
    assert!(m.has_diagnostic("ATTACHMENT_ORPHAN"));
}

#[test]
fn streaming_from_a_slow_reader() {
    // One byte at a time exercises chunk boundaries everywhere (quads, entity refs, tags).
    struct OneByte<'a>(&'a [u8]);
    impl std::io::Read for OneByte<'_> {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || b.is_empty() {
                return Ok(0);
            }
            b[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }
    let bytes = sample_bytes(TRUC);
    let m = read_message(
        std::io::BufReader::with_capacity(1, OneByte(&bytes)),
        HashOnlySink,
        &ReadOptions::default(),
    )
    .unwrap();
    let (n, _) = parse(TRUC);
    assert_eq!(m, n);
}

#[test]
fn iso_dates_are_accepted_with_a_warning() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let s = s.replace("2018/09/28 17:25:11", "2018-09-28T17:25:11+07:00");
    let m = read(s.as_bytes()).unwrap();
    assert_eq!(
        m.status().unwrap().timestamp,
        "2018-09-28T17:25:11+07:00",
        "kept raw"
    );
    let d = m.diagnostics_with("FIELD_DATE_ISO");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(d[0].location.path.ends_with("/MessageHeader/Timestamp"));
}

#[test]
fn attachment_count_limit() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let one = "<Attachment><ContentId>cid:x</ContentId><ContentTransferEncoded>QUJD</ContentTransferEncoded></Attachment>";
    let mk = |n: usize| {
        s.replace(
            "</edXML>",
            &format!(
                "<AttachmentEncoded>{}</AttachmentEncoded></edXML>",
                one.repeat(n)
            ),
        )
    };
    let m = read(mk(500).as_bytes()).unwrap();
    assert_eq!(m.attachments.len(), 500);
    assert!(m.has_diagnostic("ATTACHMENT_ORPHAN"));
    let e = read(mk(501).as_bytes()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    assert!(e.detail.contains("attachments"));
}
