//! Parser security: DTDs, entities, limits, truncation.

use crate::common::*;
use vanthu_edxml::*;

fn read(bytes: &[u8]) -> Result<Message, EdxmlError> {
    read_message(bytes, HashOnlySink, &ReadOptions::default())
}

fn read_lim(bytes: &[u8], limits: Limits) -> Result<Message, EdxmlError> {
    read_message(bytes, HashOnlySink, &ReadOptions { limits })
}

#[test]
fn xxe_and_billion_laughs_are_forbidden() {
    let xxe = br#"<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&x;</edXML>"#;
    let e = read(xxe).unwrap_err();
    assert_eq!(e.code, ErrorCode::DtdForbidden);
    assert_eq!(e.location.line, 2);

    let mut lol =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        lol.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&lol{};", i - 1)
                .repeat(10)
                .replace("&lol0;", "&lol;")
        ));
    }
    lol.push_str("]>\n<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">&lol9;</edXML>");
    assert_eq!(
        read(lol.as_bytes()).unwrap_err().code,
        ErrorCode::DtdForbidden
    );
}

#[test]
fn undefined_entities_are_rejected() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let s = s.replace("<edXML:Description>", "<edXML:Description>&nbsp;");
    let e = read(s.as_bytes()).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotWellFormed);
    assert!(e.detail.contains("nbsp"));
    assert!(
        e.location.path.ends_with("/MessageHeader/Description"),
        "{}",
        e.location.path
    );
}

#[test]
fn non_utf8_encodings_are_rejected() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let s = s.replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1);
    assert_eq!(read(s.as_bytes()).unwrap_err().code, ErrorCode::Encoding);
    let s = s.replacen("encoding=\"ISO-8859-1\"", "encoding=\"utf-8\"", 1);
    assert!(read(s.as_bytes()).is_ok());
    let mut v = sample_bytes(&sdk("status.edxml"));
    let i = v.windows(2).position(|w| w == b"Vi").unwrap();
    v[i] = 0xFF;
    let e = read(&v).unwrap_err();
    assert!(
        matches!(e.code, ErrorCode::Encoding | ErrorCode::NotWellFormed),
        "{e}"
    );
}

fn nested(depth: usize) -> String {
    let mut s = String::from("<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">");
    for _ in 1..depth {
        s.push_str("<a>");
    }
    for _ in 1..depth {
        s.push_str("</a>");
    }
    s.push_str("</edXML>");
    s
}

#[test]
fn depth_limit() {
    let e = read(nested(17).as_bytes()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    assert!(e.detail.contains("depth"));
    // Depth 16 passes the limit (and then fails on structure).
    assert_eq!(
        read(nested(16).as_bytes()).unwrap_err().code,
        ErrorCode::Structure
    );
}

#[test]
fn element_count_limit() {
    let mut s = String::from("<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">");
    s.push_str(&"<a/>".repeat(100_000));
    s.push_str("</edXML>");
    let e = read(s.as_bytes()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    assert!(e.detail.contains("elements"), "{}", e.detail);
}

#[test]
fn to_count_limit() {
    let s = String::from_utf8(sample_bytes(&sdk("edoc_revocation.edxml"))).unwrap();
    let start = s.find("<edXML:To>").unwrap();
    let end = s.find("</edXML:To>").unwrap() + "</edXML:To>".len();
    let to = &s[start..end];
    let many = to.repeat(5_001);
    let big = format!("{}{}{}", &s[..start], many, &s[end..]);
    let limits = Limits {
        max_elements: 1_000_000,
        max_text_total: 64 << 20,
        ..Limits::default()
    };
    let e = read_lim(big.as_bytes(), limits.clone()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    assert!(e.detail.contains("To"), "{}", e.detail);
    let ok = format!("{}{}{}", &s[..start], to.repeat(3), &s[end..]);
    let m = read_lim(ok.as_bytes(), limits).unwrap();
    assert!(m.has_diagnostic("DUPLICATE_TO"));
}

#[test]
fn text_value_and_package_limits() {
    let s = String::from_utf8(sample_bytes(&sdk("status.edxml"))).unwrap();
    let s2 = s.replace(
        "<edXML:Description>",
        &format!("<edXML:Description>{}", "x".repeat(70_000)),
    );
    let e = read(s2.as_bytes()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    let e = read_lim(
        s.as_bytes(),
        Limits {
            max_package_bytes: 1000,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    // Attachment size limit.
    let e = read_lim(
        &sample_bytes(&sdk("edoc_new.edxml")),
        Limits {
            max_attachment_bytes: 100_000,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Limit);
    assert!(
        e.location.path.ends_with("ContentTransferEncoded"),
        "{}",
        e.location.path
    );
}

#[test]
fn truncation_is_reported_with_the_open_element() {
    let v = sample_bytes(&sdk("edoc_new.edxml"));
    for cut in [100, 5000, 200_000, v.len() - 3] {
        let mut sink = VecSink::new();
        let e = read_message(&v[..cut], &mut sink, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotWellFormed, "cut {cut}: {e}");
        assert!(
            e.detail.contains("truncated")
                || e.detail.contains("not closed")
                || !e.detail.is_empty()
        );
        if cut <= 200_000 {
            assert!(
                sink.attachments.iter().all(Option::is_none),
                "no partial attachment is kept"
            );
        }
    }
    let e = read(&v[..200_000]).unwrap_err();
    assert!(e.detail.contains("ContentTransferEncoded"), "{}", e.detail);
}

#[test]
fn misc_not_well_formed() {
    for bad in [
        &b""[..],
        b"   ",
        b"<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"></edXML><edXML/>",
        b"<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"></edXML>junk",
        b"<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"><p:a/></edXML>",
        b"<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\" a=\"1\" a=\"2\"></edXML>",
    ] {
        let e = read(bad).unwrap_err();
        assert_eq!(
            e.code,
            ErrorCode::NotWellFormed,
            "{:?}: {e}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn sink_errors_are_fatal() {
    struct Failing;
    impl AttachmentSink for Failing {
        type Writer = std::io::Sink;
        fn begin(&mut self, _m: &AttachmentMeta) -> std::io::Result<std::io::Sink> {
            Err(std::io::Error::other("disk full"))
        }
        fn finish(
            &mut self,
            _m: &AttachmentMeta,
            _w: std::io::Sink,
            _d: &AttachmentDigest,
        ) -> std::io::Result<()> {
            Ok(())
        }
        fn abort(&mut self, _m: &AttachmentMeta, _w: std::io::Sink, _r: &str) {}
    }
    let e = read_message(
        &sample_bytes(&sdk("edoc_new.edxml"))[..],
        Failing,
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Sink);
    assert!(e.detail.contains("disk full"));
}

#[test]
fn sink_sees_meta_and_finish() {
    #[derive(Default)]
    struct Rec(Vec<String>);
    impl AttachmentSink for Rec {
        type Writer = Vec<u8>;
        fn begin(&mut self, m: &AttachmentMeta) -> std::io::Result<Vec<u8>> {
            self.0.push(format!(
                "begin {} {:?} {:?} {:?}",
                m.index, m.content_id, m.attachment_name, m.content_type
            ));
            Ok(Vec::new())
        }
        fn finish(
            &mut self,
            m: &AttachmentMeta,
            w: Vec<u8>,
            d: &AttachmentDigest,
        ) -> std::io::Result<()> {
            self.0
                .push(format!("finish {} {} {}", m.index, w.len(), d.size));
            Ok(())
        }
        fn abort(&mut self, m: &AttachmentMeta, _w: Vec<u8>, _r: &str) {
            self.0.push(format!("abort {}", m.index));
        }
    }
    let mut r = Rec::default();
    read_message(
        &sample_bytes(&sdk("edoc_new.edxml"))[..],
        &mut r,
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        r.0,
        [
            "begin 0 Some(\"cid:209\") Some(\"1896_QD-TTg_m_294779.doc\") Some(\"application/zip\")",
            "finish 0 270823 270823"
        ]
    );
    let mut r = Rec::default();
    read_message(&sample_bytes(TEMPLATE)[..], &mut r, &ReadOptions::default()).unwrap();
    assert_eq!(
        r.0,
        [
            "begin 0 Some(\"abf52b38-78f5-4008-b7cd-93ce4002ba45\") None Some(\"application/pdf\")",
            "abort 0"
        ]
    );
}

/// A huge text, comment or tag is stopped while streaming, before it is buffered whole.
#[test]
fn huge_single_events_are_bounded() {
    struct Repeat {
        head: Vec<u8>,
        fill: u8,
        left: u64,
    }
    impl std::io::Read for Repeat {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            if !self.head.is_empty() {
                let n = self.head.len().min(b.len());
                b[..n].copy_from_slice(&self.head[..n]);
                self.head.drain(..n);
                return Ok(n);
            }
            let n = (b.len() as u64).min(self.left) as usize;
            b[..n].fill(self.fill);
            self.left -= n as u64;
            Ok(n)
        }
    }
    let root = "<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">";
    for (head, fill) in [
        (format!("{root}<a>"), b'x'),
        (format!("{root}<!--"), b'x'),
        (format!("{root}<a b=\""), b'x'),
        (format!("{root}<"), b'a'),
    ] {
        // 1 GiB that is never materialised: the reader must stop early.
        let r = std::io::BufReader::new(Repeat {
            head: head.into_bytes(),
            fill,
            left: 1 << 30,
        });
        let t = std::time::Instant::now();
        let e = read_message(r, HashOnlySink, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::Limit, "{e}");
        assert!(t.elapsed().as_secs() < 5);
    }
}
