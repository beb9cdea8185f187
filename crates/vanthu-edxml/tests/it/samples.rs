//! Every sample parses to the values a person reads in the file.

use crate::common::*;
use vanthu_edxml::*;

pub fn parse(rel: &str) -> (Message, VecSink) {
    let mut sink = VecSink::new();
    let m = read_message(&sample_bytes(rel)[..], &mut sink, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    (m, sink)
}

const DOC_NAME: &str = "1896_QD-TTg_m_294779.doc";
const GW_PDF: &str = "GUIDE_INSTALL OPENVPN.SIGNED.PDF";

/// (sample, decoded size, SHA-256) computed with Python's base64 + hashlib (independent).
const ATTACHMENT_DIGESTS: [(&str, u64, &str); 6] = [
    (
        "vpcp-sdk-samples/edoc_new.edxml",
        270823,
        "7ab7c43a02a3cf2cedd14ebf2545a37e7a1307e0091b4ba94c2ef1e842a763aa",
    ),
    (
        "vpcp-sdk-samples/edoc_replacement.edxml",
        270823,
        "57634d6539d79c5935c12fabd7d8fa513d81d84a5fad4c82258a31ffa741aba5",
    ),
    (
        "vpcp-sdk-samples/edoc_revocation.edxml",
        270823,
        "22100d39101238b750bc39a24ff6994cb2c0cf08f4edbf5f3c34d4700857d378",
    ),
    (
        "vpcp-sdk-samples/edoc_update.edxml",
        270823,
        "51653b9613f7f0275b43f80704033299740c702f354f44a06f55770cfbb0b135",
    ),
    (
        API_GW,
        214,
        "acd14b4a499d015745bccb707d3c55b42c4b8ad68185fe26afb1c55e675e7d04",
    ),
    (
        TRUC,
        4151,
        "913d275321151c3408eda5544d2f15c5919666636d57701bd57852f1b34a7c6d",
    ),
];

#[test]
fn all_sixteen_parse_without_fatal_errors() {
    let all = all_good_samples();
    assert_eq!(all.len(), 16);
    for s in all {
        let (m, _) = parse(&s);
        let kind = if s.contains("status") {
            MessageKind::Status
        } else {
            MessageKind::Edoc
        };
        assert_eq!(m.kind(), kind, "{s}");
        assert!(
            !m.diagnostics.iter().any(|d| d.code == "FIELD_MISSING"),
            "{s}: {:?}",
            m.diagnostics
        );
    }
}

#[test]
fn edoc_new_values() {
    let (m, sink) = parse(&sdk("edoc_new.edxml"));
    let h = m.edoc().unwrap();
    assert_eq!(h.from.organ_id, "000.00.00.A80");
    assert_eq!(
        h.from.organ_name,
        "UBND xã Hòa Tiến - UBND huyện Hòa Vang - Thành phố Đà Nẵng"
    );
    assert_eq!(
        h.from.organ_add.as_deref(),
        Some("Số 1 Hoàng Hoa Thám, Quận Ba Đình, Hà Nội")
    );
    assert_eq!(h.to.len(), 1);
    assert_eq!(h.to[0].organ_id, "28.22.H17");
    assert_eq!(h.document_id, "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT");
    assert_eq!(h.code.code_number, "74fass22");
    assert_eq!(h.code.code_notation, "VPCP-TTĐT");
    assert_eq!(h.promulgation_info.place.as_deref(), Some("Hà Nội"));
    assert_eq!(h.promulgation_info.promulgation_date, "2019/01/16");
    assert_eq!(
        h.subject,
        "V/v kết nối, liên thông phần mềm quản lý văn bản"
    );
    assert_eq!(h.due_date.as_deref(), Some("2018/09/28"));
    let dt = h.document_type.as_ref().unwrap();
    assert_eq!(dt.doc_type.as_deref(), Some("1"));
    assert_eq!(dt.type_detail.as_deref(), Some("0"));
    assert_eq!(dt.type_name.as_deref(), Some("Công văn"));
    let s = h.signer_info.as_ref().unwrap();
    assert_eq!(s.competence.as_deref(), Some("TL. BO TRUONG"));
    assert_eq!(s.full_name.as_deref(), Some("Nguyen Thanh Phuc"));
    let o = h.other_info.as_ref().unwrap();
    assert_eq!(o.priority.as_deref(), Some("0"));
    assert_eq!(o.promulgation_amount.as_deref(), Some("2"));
    assert_eq!(o.page_amount.as_deref(), Some("22"));
    assert_eq!(o.direction.as_deref(), Some("false"));
    assert_eq!(
        o.appendixes,
        vec!["Công văn về việc kết nối, liên thông phần mềm quản lý văn bản"]
    );
    assert_eq!(h.steering_type.as_deref(), Some("1"));
    assert_eq!(
        h.to_places,
        vec!["Cac bo va co quan ngang bo", "Uy ban nhan dan cac tinh, TP"]
    );
    assert!(h.response_for.is_empty());
    let t = m.trace.as_ref().unwrap();
    assert_eq!(
        t.trace_headers,
        vec![TraceHeader {
            organ_id: "000.00.00.G22".into(),
            timestamp: "2018/09/28 00:00:00".into()
        }]
    );
    let b = m.business().unwrap();
    assert_eq!(b.doc_type, BusinessDocType::New);
    assert_eq!(b.reason.as_deref(), Some("Văn bản điện tử mới"));
    assert_eq!(b.paper.as_deref(), Some("0"));
    assert_eq!(
        b.staff_info.as_ref().unwrap().staff.as_deref(),
        Some("Nguyễn Thị Ngọc Trâm")
    );
    assert_eq!(m.signature, SignatureKind::NotXmlDsig);
    assert_eq!(m.manifest.len(), 1);
    assert_eq!(m.manifest[0].content_id, "cid:209");
    assert_eq!(m.manifest[0].attachment_name.as_deref(), Some(DOC_NAME));
    assert_eq!(m.attachments.len(), 1);
    let a = &m.attachments[0];
    assert_eq!(a.content_id, "cid:209");
    assert_eq!(a.attachment_name.as_deref(), Some(DOC_NAME));
    assert_eq!(a.content_type.as_deref(), Some("application/zip"));
    assert_eq!(a.sniffed_type.as_deref(), Some("application/zip"));
    assert!(a.is_zip_wrapped_candidate());
    assert_eq!(sink.get(0).unwrap().len(), 270823);
    // The bad date inside the Bussiness DocumentId is a field diagnostic.
    assert!(m
        .diagnostics
        .iter()
        .any(|d| d.code == "FIELD_FORMAT" && d.detail.contains("2014/02/30")));
    assert!(m.has_diagnostic("ORGAN_ID_NONCANONICAL"));
}

#[test]
fn attachment_sizes_and_hashes_match_independent_values() {
    for (s, size, sha) in ATTACHMENT_DIGESTS {
        let (m, sink) = parse(s);
        assert_eq!(m.attachments.len(), 1, "{s}");
        let a = &m.attachments[0];
        assert_eq!(a.size, size, "{s}");
        assert_eq!(a.sha256.as_deref(), Some(sha), "{s}");
        assert_eq!(sink.get(0).unwrap().len() as u64, size);
    }
}

/// Cross-check every sample against Python's base64/hashlib at test time.
#[test]
fn attachment_hashes_match_python() {
    let Some(py) = python() else { return };
    let script = r#"
import sys, base64, hashlib
from lxml import etree
NS = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
for a in etree.parse(sys.argv[1]).iter(NS + "Attachment"):
    raw = base64.b64decode("".join((a.findtext(NS + "ContentTransferEncoded") or "").split()))
    print(len(raw), hashlib.sha256(raw).hexdigest())
"#;
    for s in all_good_samples() {
        let out = std::process::Command::new(&py)
            .args(["-c", script, sample(&s).to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        let (m, _) = parse(&s);
        let got: Vec<String> = m
            .attachments
            .iter()
            .map(|a| format!("{} {}", a.size, a.sha256.clone().unwrap()))
            .collect();
        assert_eq!(got, expected, "{s}");
    }
}

#[test]
fn edoc_revocation_values() {
    let (m, _) = parse(&sdk("edoc_revocation.edxml"));
    let h = m.edoc().unwrap();
    assert_eq!(m.business_doc_type(), Some(BusinessDocType::Revoke));
    assert_eq!(h.from.organ_id, "000.00.00.G22");
    let to: Vec<_> = h.to.iter().map(|t| t.organ_id.as_str()).collect();
    assert_eq!(to, ["000.00.00.H41", "000.00.00.H14", "000.00.00.G17"]);
    assert_eq!(h.document_id, "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT");
    assert_eq!(h.code.code_number, "7816");
    assert_eq!(h.promulgation_info.promulgation_date, "2018/09/28");
    assert_eq!(h.response_for.len(), 1);
    let r = &h.response_for[0];
    assert_eq!(r.organ_id.as_deref(), Some("000.00.00.H14"));
    assert_eq!(r.code.as_deref(), Some("267/VPCP-TTĐT"));
    assert_eq!(
        r.document_id.as_deref(),
        Some("000.00.04.G14,2012/08/06,267/VPCP-TTĐT")
    );
    assert_eq!(r.promulgation_date.as_deref(), Some("2018/09/28"));
    assert_eq!(
        m.business().unwrap().reason.as_deref(),
        Some("Thu hồi văn bản điện tử")
    );
    assert_eq!(m.business().unwrap().document_id, None);
}

#[test]
fn edoc_update_values() {
    let (m, _) = parse(&sdk("edoc_update.edxml"));
    assert_eq!(m.business_doc_type(), Some(BusinessDocType::Update));
    let b = m.business().unwrap();
    assert_eq!(
        b.document_id.as_deref(),
        Some("000.00.00.G22,2014/02/30,7806/VPCP-TTĐT")
    );
    let info = b.document_info.as_ref().unwrap();
    assert_eq!(info.document_info.as_deref(), Some("1"));
    assert_eq!(info.document_receiver.as_deref(), Some("1"));
    assert_eq!(
        info.receivers,
        vec![
            Receiver {
                organ_id: "000.00.00.H41".into(),
                receiver_type: "0".into()
            },
            Receiver {
                organ_id: "000.00.00.H14".into(),
                receiver_type: "1".into()
            },
        ]
    );
    assert_eq!(b.reason.as_deref(), Some("Cập nhật văn bản điện tử"));
}

#[test]
fn edoc_replacement_values() {
    let (m, _) = parse(&sdk("edoc_replacement.edxml"));
    assert_eq!(m.business_doc_type(), Some(BusinessDocType::Replace));
    let b = m.business().unwrap();
    assert_eq!(b.reason.as_deref(), Some("Văn bản thay thế"));
    assert_eq!(b.replacements.len(), 2, "duplicates are kept");
    for r in &b.replacements {
        assert_eq!(r.document_id, "000.00.00.G22,2014/01/30,7806/VPCP-TTĐT");
        assert_eq!(r.organ_ids, ["000.00.00.H41", "000.00.00.H14"]);
    }
}

#[test]
fn status_samples_values() {
    for (file, code) in STATUS_SAMPLES {
        let (m, _) = parse(&sdk(file));
        let s = m.status().unwrap_or_else(|| panic!("{file}"));
        assert_eq!(s.status_code.as_str(), code, "{file}");
        assert!(!matches!(s.status_code, StatusCode::Unknown(_)));
        assert!(m.trace.is_none() && m.attachments.is_empty() && m.manifest.is_empty());
        assert_eq!(
            s.response_for.code.as_deref(),
            Some("7816/VPCP-TTĐT"),
            "{file}"
        );
        assert_eq!(
            s.response_for.document_id.as_deref(),
            Some("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"),
            "{file}"
        );
        if code == "13" {
            assert_eq!(s.from.organ_id, "000.00.00.G22");
            assert_eq!(s.response_for.organ_id.as_deref(), Some("000.00.00.H41"));
            assert!(s.status_code.sent_by_original_sender());
            assert_eq!(
                s.description.as_deref(),
                Some("Văn thư yêu cầu lấy lại văn bản điện tử kèm lý do")
            );
        } else {
            assert_eq!(s.from.organ_id, "000.00.00.H41", "{file}");
            assert_eq!(s.response_for.organ_id.as_deref(), Some("000.00.00.G22"));
        }
        if file == "status.edxml" {
            assert_eq!(s.timestamp, "2018/09/28 17:25:11");
            assert_eq!(
                s.response_for.promulgation_date.as_deref(),
                Some("2018/09/28")
            );
            assert_eq!(
                s.staff_info.as_ref().unwrap().staff.as_deref(),
                Some("Nguyễn Thị Ngọc Trâm")
            );
        } else {
            assert_eq!(s.timestamp, "2015/09/20 11:08:36", "{file}");
            assert_eq!(
                s.response_for.promulgation_date.as_deref(),
                Some("2015/09/30")
            );
            assert_eq!(
                s.staff_info.as_ref().unwrap().staff.as_deref(),
                Some("Nguyen thi ngoc tram")
            );
        }
    }
    let (m, _) = parse(&sdk("status_finish_06.edxml"));
    assert_eq!(
        m.status().unwrap().description.as_deref(),
        Some("Văn thư: Ban hành văn bản đến, hoàn thành xử lý")
    );
}

#[test]
fn status_code_table() {
    let codes: Vec<&str> = StatusCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        codes,
        ["01", "02", "03", "04", "05", "06", "13", "15", "16"]
    );
    assert_eq!(StatusCode::parse("1"), StatusCode::Arrived);
    assert_eq!(StatusCode::parse("07"), StatusCode::Unknown("07".into()));
    assert_eq!(StatusCode::parse("14"), StatusCode::Unknown("14".into()));
}

#[test]
fn api_gateway_received_values() {
    let (m, _) = parse(API_GW);
    let h = m.edoc().unwrap();
    assert_eq!(h.from.organ_id, "000.00.15.H51");
    assert_eq!(h.document_id, "9fbfbad2-f1f8-4256-a2eb-50fb1061cddb");
    assert_eq!(h.code.code_number, "1223412");
    assert_eq!(h.code.code_notation, "PRO-TEST-CASE1");
    assert_eq!(h.subject, "Văn bản liên thông chỉ đạo - 190701");
    assert_eq!(h.promulgation_info.promulgation_date, "2019/01/17");
    assert!(h.response_for.is_empty(), "empty ResponseFor is absent");
    let t = m.trace.as_ref().unwrap();
    assert_eq!(t.trace_headers.len(), 2);
    assert_eq!(t.trace_headers[0].organ_id, "01.02.G22");
    assert_eq!(t.trace_headers[1].organ_id, "001.00.20.TT2");
    assert_eq!(t.trace_headers[1].timestamp, "2019/05/17 18:16:33");
    assert!(t.business.is_none());
    assert_eq!(m.business_doc_type(), Some(BusinessDocType::New));
    let a = &m.attachments[0];
    assert_eq!(a.attachment_name.as_deref(), Some(GW_PDF));
    assert_eq!(a.content_type.as_deref(), Some("application/zip"));
    assert_eq!(a.manifest_content_type.as_deref(), Some("application/pdf"));
    assert!(m.has_diagnostic("CONTENT_TYPE_MISMATCH"));
    let flagged: Vec<_> = m
        .diagnostics_with("ORGAN_ID_NONCANONICAL")
        .iter()
        .map(|d| d.detail.clone())
        .collect();
    assert!(flagged.contains(&"01.02.G22".to_string()));
}

#[test]
fn truclienthong_has_same_business_as_edoc_new() {
    let (a, _) = parse(TRUC);
    let (b, _) = parse(&sdk("edoc_new.edxml"));
    assert_eq!(a.business(), b.business());
    let h = a.edoc().unwrap();
    assert_eq!(h.promulgation_info.promulgation_date, "2019/04/11");
    assert_eq!(
        a.trace.as_ref().unwrap().trace_headers[0].timestamp,
        "2019/04/11 00:00:00"
    );
}

#[test]
fn edoc_xml_is_rejected_at_line_74() {
    let e = read_message(
        &sample_bytes(&sdk("edoc.edxml"))[..],
        HashOnlySink,
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotWellFormed);
    assert_eq!(e.location.line, 74);
    assert_eq!(
        e.location.path,
        "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From"
    );
    assert!(
        e.detail
            .contains("end tag edXML:MessageHeader does not match edXML:From opened on line 7"),
        "{}",
        e.detail
    );
    let text = e.to_string();
    assert!(text.starts_with("Gói tin XML bị lỗi"), "{text}");
    assert!(text.contains("not well-formed") && text.contains("/MessageHeader/From"));
}

#[test]
fn template_parses_with_field_format_and_bad_base64() {
    let (m, sink) = parse(TEMPLATE);
    assert_eq!(m.kind(), MessageKind::Edoc);
    assert!(m.has_diagnostic("FIELD_FORMAT"));
    assert!(m.has_diagnostic("ATTACHMENT_BAD_BASE64"));
    assert!(m.has_diagnostic("UNKNOWN_ELEMENT"));
    assert_eq!(m.signature, SignatureKind::NotXmlDsig);
    // Bare ContentId on the attachment matched the cid: in the manifest: no ATTACHMENT_MISSING.
    assert!(
        !m.has_diagnostic("ATTACHMENT_MISSING"),
        "{:?}",
        m.diagnostics
    );
    assert!(!m.has_diagnostic("ATTACHMENT_ORPHAN"));
    let a = &m.attachments[0];
    assert_eq!(a.content_id, "abf52b38-78f5-4008-b7cd-93ce4002ba45");
    assert_eq!(
        a.attachment_name.as_deref(),
        Some("Tên file đính kèm được gửi lên")
    );
    assert!(a.sha256.is_none() && a.error.is_some());
    assert!(sink.get(0).is_none(), "aborted attachment is not stored");
    let b = m.business().unwrap();
    assert_eq!(b.doc_type, BusinessDocType::Update);
    assert_eq!(
        b.document_id.as_deref(),
        Some("000.00.14.H56,2020/06/02,808/VNPTTEST")
    );
    // Value annotated in parentheses is kept raw.
    assert_eq!(
        m.edoc().unwrap().promulgation_info.promulgation_date,
        "2020/06/02(Ngày tháng nam ban hành yyyy/mm/dd)"
    );
}
