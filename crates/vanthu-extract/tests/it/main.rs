//! Extraction from real packages built here with the zip writer, and hostile inputs.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vanthu_extract::{extract_text, supports, ExtractError, Extracted, Format, Limits};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

const TITLE: &str = "Quyết định về việc kiện toàn Ban chỉ đạo chuyển đổi số";

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, body) in entries {
        let method = if *name == "mimetype" {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn run(name: &str, ct: Option<&str>, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    extract_text(name, ct, &mut Cursor::new(bytes), &Limits::default())
}

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

fn docx_with(document_xml: &str) -> Vec<u8> {
    zip_of(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#,
        ),
        ("word/document.xml", document_xml),
    ])
}

fn sample_docx() -> Vec<u8> {
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document {W}><w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>{TITLE}</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Số: 12/QĐ-UBND</w:t></w:r><w:r><w:tab/><w:t>Hà Nội, ngày 05 tháng 3 năm 2024</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Căn cứ Luật Tổ chức </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>chính quyền</w:t></w:r><w:r><w:t xml:space="preserve"> địa phương &amp; Nghị định 30/2020/NĐ-CP;</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Họ và tên</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Chức vụ</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>Nguyễn Văn An</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Trưởng ban</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:instrText>PAGE</w:instrText><w:delText>đã xoá</w:delText><w:t>Điều 1.</w:t><w:br/><w:t>Điều 2.</w:t></w:r></w:p>
</w:body></w:document>"#
    );
    docx_with(&doc)
}

#[test]
fn docx_paragraphs_tabs_tables() {
    let bytes = sample_docx();
    let out = run("qd.docx", None, &bytes).unwrap();
    assert_eq!(out.format, Format::Docx);
    assert!(!out.truncated);
    let lines: Vec<&str> = out.text.lines().collect();
    assert_eq!(lines[0], TITLE);
    assert_eq!(lines[1], "Số: 12/QĐ-UBND\tHà Nội, ngày 05 tháng 3 năm 2024");
    assert_eq!(
        lines[2],
        "Căn cứ Luật Tổ chức chính quyền địa phương & Nghị định 30/2020/NĐ-CP;"
    );
    assert_eq!(lines[3], "Họ và tên\tChức vụ");
    assert_eq!(lines[4], "Nguyễn Văn An\tTrưởng ban");
    assert_eq!(lines[5], "Điều 1.");
    assert_eq!(lines[6], "Điều 2.");
    assert!(!out.text.contains("PAGE") && !out.text.contains("đã xoá"));
    // Detection is by content, not by name.
    assert_eq!(
        run("tep-dinh-kem.bin", None, &bytes).unwrap().format,
        Format::Docx
    );
}

#[test]
fn docx_headers_footers_and_nfc() {
    // "ế" written decomposed (e + U+0302 + U+0301) comes out composed.
    let doc = format!(
        r#"<w:document {W}><w:body><w:p><w:r><w:t>Quye&#x302;&#x301;t định</w:t></w:r></w:p></w:body></w:document>"#
    );
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (n, b) in [
        ("word/document.xml", doc.as_str()),
        (
            "word/header1.xml",
            &format!(r#"<w:hdr {W}><w:p><w:r><w:t>ỦY BAN NHÂN DÂN</w:t></w:r></w:p></w:hdr>"#),
        ),
        (
            "word/footer1.xml",
            &format!(r#"<w:ftr {W}><w:p><w:r><w:t>Trang cuối</w:t></w:r></w:p></w:ftr>"#),
        ),
    ] {
        w.start_file(n, SimpleFileOptions::default()).unwrap();
        w.write_all(b.as_bytes()).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    let out = run("a.docx", None, &bytes).unwrap();
    assert!(out.text.starts_with("Quyết định"), "{:?}", out.text);
    assert!(out.text.contains("ỦY BAN NHÂN DÂN"));
    assert!(out.text.contains("Trang cuối"));
}

const ODF_NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3""#;

#[test]
fn odt_headings_spaces_tabs_breaks_tables() {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {ODF_NS}><office:automatic-styles/><office:body><office:text>
<text:h text:outline-level="1">{TITLE}</text:h>
<text:p>Kính gửi:<text:s text:c="3"/>Sở Nội vụ<text:tab/>tỉnh Nghệ An</text:p>
<text:p>Dòng một<text:line-break/>Dòng <text:span>hai</text:span></text:p>
<table:table table:name="Bảng1"><table:table-column table:number-columns-repeated="2"/>
<table:table-row><table:table-cell><text:p>Đơn vị</text:p></table:table-cell><table:table-cell><text:p>Số lượng</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell><text:p>Văn phòng</text:p></table:table-cell><table:table-cell><text:p>3</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1000"/></table:table-row>
</table:table>
<text:tracked-changes><text:changed-region><text:deletion><text:p>bản nháp đã xoá</text:p></text:deletion></text:changed-region></text:tracked-changes>
<text:p>Nơi nhận: như trên.</text:p>
</office:text></office:body></office:document-content>"#
    );
    let bytes = zip_of(&[
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("content.xml", &content),
        ("META-INF/manifest.xml", "<manifest/>"),
    ]);
    let out = run("x.odt", None, &bytes).unwrap();
    assert_eq!(out.format, Format::Odt);
    let lines: Vec<&str> = out.text.lines().collect();
    assert_eq!(
        lines,
        vec![
            TITLE,
            "Kính gửi:   Sở Nội vụ\ttỉnh Nghệ An",
            "Dòng một",
            "Dòng hai",
            "Đơn vị\tSố lượng",
            "Văn phòng\t3",
            "Nơi nhận: như trên.",
        ]
    );
}

#[test]
fn ods_cells_and_rows() {
    let content = format!(
        r#"<office:document-content {ODF_NS}><office:body><office:spreadsheet>
<table:table table:name="Sổ đến">
<table:table-row><table:table-cell office:value-type="string"><text:p>Số đến</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Trích yếu</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="float" office:value="15"><text:p>15</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>{TITLE}</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16000"/></table:table-row>
<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let bytes = zip_of(&[
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        ("content.xml", &content),
    ]);
    let out = run("so-den.ods", None, &bytes).unwrap();
    assert_eq!(out.format, Format::Ods);
    assert_eq!(out.text, format!("Số đến\tTrích yếu\n15\t{TITLE}"));
}

#[test]
fn xlsx_shared_inline_and_numbers() {
    let shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>Số đến</t></si><si><t>Trích yếu</t></si><si><r><t>{}</t></r><r><rPr><b/></rPr><t xml:space="preserve"> {}</t></r><rPh><t>PHONETIC</t></rPh></si></sst>"#,
        "Quyết định về việc kiện toàn", "Ban chỉ đạo chuyển đổi số"
    );
    let sheet1 = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>
<row r="2"><c r="A2"><v>15</v></c><c r="B2" t="s"><v>2</v></c><c r="C2"><f>SUM(A1:A2)</f><v>15.5</v></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><t>Ghi chú nội bộ</t></is></c><c r="B3" t="b"><v>1</v></c><c r="C3" t="s"><v>999</v></c></row>
<row r="4"/>
</sheetData></worksheet>"#;
    let sheet2 = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="str"><v>Trang hai</v></c></row></sheetData></worksheet>"#;
    let bytes = zip_of(&[
        ("[Content_Types].xml", "<Types/>"),
        ("xl/workbook.xml", "<workbook/>"),
        ("xl/sharedStrings.xml", &shared),
        ("xl/worksheets/sheet10.xml", "<worksheet><sheetData><row><c t=\"inlineStr\"><is><t>Mười</t></is></c></row></sheetData></worksheet>"),
        ("xl/worksheets/sheet2.xml", sheet2),
        ("xl/worksheets/sheet1.xml", sheet1),
    ]);
    let out = run("so.xlsx", None, &bytes).unwrap();
    assert_eq!(out.format, Format::Xlsx);
    assert_eq!(
        out.text,
        format!("Số đến\tTrích yếu\n15\t{TITLE}\t15.5\nGhi chú nội bộ\tTRUE\n\nTrang hai\n\nMười")
    );
}

#[test]
fn plain_text_utf8_and_utf16() {
    let out = run("a.txt", None, TITLE.as_bytes()).unwrap();
    assert_eq!((out.text.as_str(), out.format), (TITLE, Format::PlainText));

    let mut le = vec![0xFF, 0xFE];
    le.extend(TITLE.encode_utf16().flat_map(|u| u.to_le_bytes()));
    assert_eq!(run("a.txt", None, &le).unwrap().text, TITLE);
    let mut be = vec![0xFE, 0xFF];
    be.extend(TITLE.encode_utf16().flat_map(|u| u.to_be_bytes()));
    // Detected by BOM even without a name hint.
    assert_eq!(run("khong-ten", None, &be).unwrap().text, TITLE);

    let lossy = run("x", Some("text/plain; charset=utf-8"), b"ab\xFFcd").unwrap();
    assert_eq!(lossy.text, "ab\u{FFFD}cd");
}

#[test]
fn eml_quoted_printable_vietnamese() {
    let eml = "From: =?UTF-8?B?VsSDbiB0aMawIFPhu58gTuG7mWkgduG7pQ==?= <vanthu@noivu.gov.vn>\r\n\
To: ubnd@example.gov.vn\r\n\
Subject: =?UTF-8?Q?Gi=E1=BA=A5y_m=E1=BB=9Di_h=E1=BB=8Dp?=\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\
\r\n\
preamble\r\n\
--XYZ\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
K=C3=ADnh g=E1=BB=ADi c=C3=A1c =C4=91=C6=A1n v=E1=BB=8B: h=E1=BB=8Dp v=\r\n\
=C3=A0o 8h s=C3=A1ng th=E1=BB=A9 Hai.\r\n\
--XYZ\r\n\
Content-Type: application/pdf; name=\"a.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--XYZ--\r\n";
    let out = run("thu.eml", None, eml.as_bytes()).unwrap();
    assert_eq!(out.format, Format::Eml);
    assert_eq!(
        out.text,
        "Giấy mời họp\nVăn thư Sở Nội vụ <vanthu@noivu.gov.vn>\n\nKính gửi các đơn vị: họp vào 8h sáng thứ Hai."
    );

    let simple = "Subject: Test\nContent-Transfer-Encoding: base64\n\nVGjDtG5nIGLDoW8gbeG7m2k=\n";
    let out = run("x", Some("message/rfc822"), simple.as_bytes()).unwrap();
    assert_eq!(out.text, "Test\n\nThông báo mới");
}

#[test]
fn supports_by_name_and_type() {
    assert!(supports("QĐ 12.DOCX", None));
    assert!(supports("a.odt", None) && supports("a.ods", None) && supports("b.xlsx", None));
    assert!(supports("a.eml", None) && supports("a.txt", None));
    assert!(supports("blob", Some("message/rfc822")));
    assert!(supports(
        "blob",
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    ));
    assert!(!supports("a.pdf", Some("application/pdf")));
    assert!(!supports("a.doc", None));
}

#[test]
fn text_limit_truncates() {
    let limits = Limits {
        max_text_chars: 10,
        ..Limits::default()
    };
    let out = extract_text("a.docx", None, &mut Cursor::new(sample_docx()), &limits).unwrap();
    assert!(out.truncated);
    assert_eq!(out.text, "Quyết định");
}

// ---------------------------------------------------------------------------------------------
// Hostile input

/// 200 MiB of zeros as `word/document.xml`, written in 1 MiB chunks.
fn zip_bomb() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(false);
    w.start_file("word/document.xml", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..200 {
        w.write_all(&chunk).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Rewrites the declared uncompressed size of every entry (local and central headers).
fn lie_about_sizes(mut z: Vec<u8>, size: u32) -> Vec<u8> {
    let mut i = 0;
    while i + 30 <= z.len() {
        let (sig, off) = match z.get(i..i + 4) {
            Some(b"PK\x03\x04") => (true, 22),
            Some(b"PK\x01\x02") => (true, 24),
            _ => (false, 0),
        };
        if sig {
            z[i + off..i + off + 4].copy_from_slice(&size.to_le_bytes());
        }
        i += 1;
    }
    z
}

#[test]
fn zip_bomb_is_too_large_quickly() {
    let bomb = zip_bomb();
    assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());
    let t = Instant::now();
    let err = run("bomb.docx", None, &bomb).unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge { .. }), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5));

    // Headers that lie: the streaming cut-off catches it.
    let liar = lie_about_sizes(bomb, 1000);
    let t = Instant::now();
    let limits = Limits {
        max_entry_bytes: 4 << 20,
        ..Limits::default()
    };
    let res = extract_text("bomb.docx", None, &mut Cursor::new(&liar), &limits);
    assert!(matches!(res, Err(ExtractError::TooLarge { .. })), "{res:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn too_many_entries() {
    let entries: Vec<(String, String)> = (0..20)
        .map(|i| (format!("f{i}.xml"), String::new()))
        .collect();
    let refs: Vec<(&str, &str)> = entries
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let bytes = zip_of(&refs);
    let limits = Limits {
        max_zip_entries: 10,
        ..Limits::default()
    };
    let err = extract_text("a.docx", None, &mut Cursor::new(bytes), &limits).unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge { .. }), "{err}");
}

#[test]
fn truncated_and_random_bytes_are_errors() {
    let good = sample_docx();
    for cut in [4, 10, 100, good.len() / 2, good.len() - 10] {
        let err = run("a.docx", None, &good[..cut]).unwrap_err();
        assert!(matches!(err, ExtractError::Corrupt { .. }), "{cut}: {err}");
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let err = run("a.docx", None, &random).unwrap_err();
    assert!(matches!(err, ExtractError::Corrupt { .. }));
    assert!(err.to_string().starts_with("Tệp Word bị hỏng"), "{err}");
    assert!(err.to_string().ends_with("(corrupt DOCX)"), "{err}");
    assert!(matches!(
        run("a.bin", None, &random).unwrap_err(),
        ExtractError::Unsupported(_)
    ));
    let mut pk = b"PK\x03\x04".to_vec();
    pk.extend_from_slice(&random);
    assert!(run("a.xlsx", None, &pk).is_err());
    assert!(run("", None, &[]).is_err());
    // A ZIP that is no office document.
    let other = zip_of(&[("readme.txt", "hi")]);
    assert!(matches!(
        run("a.zip", None, &other).unwrap_err(),
        ExtractError::Unsupported(_)
    ));
}

#[test]
fn doctype_and_entity_bomb_refused() {
    let bomb = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><w:document {W}><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"#
    );
    let err = run("a.docx", None, &docx_with(&bomb)).unwrap_err();
    assert!(err.to_string().contains("DOCTYPE"), "{err}");
    // An undefined entity without a DTD is refused too.
    let undefined = format!(
        r#"<w:document {W}><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"#
    );
    assert!(matches!(
        run("a.docx", None, &docx_with(&undefined)).unwrap_err(),
        ExtractError::Corrupt { .. }
    ));
    // Malformed XML.
    let bad = format!(r#"<w:document {W}><w:body><w:p></w:r></w:body></w:document>"#);
    assert!(run("a.docx", None, &docx_with(&bad)).is_err());
    let unclosed = format!(r#"<w:document {W}><w:body><w:p>"#);
    assert!(run("a.docx", None, &docx_with(&unclosed)).is_err());
}

#[test]
fn deep_nesting_refused() {
    let depth = 100_000;
    let mut xml = String::with_capacity(depth * 8);
    for _ in 0..depth {
        xml.push_str("<w:p>");
    }
    let err = run("a.docx", None, &docx_with(&xml)).unwrap_err();
    assert!(matches!(err, ExtractError::Corrupt { .. }), "{err}");
    let mut xml = String::new();
    for _ in 0..300 {
        xml.push_str("<a>");
    }
    xml.push_str("<b/>");
    let content = zip_of(&[
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("content.xml", &xml),
    ]);
    assert!(run("a.odt", None, &content).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mutated_docx_never_panics(
        muts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = sample_docx();
        for (i, b) in muts {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        if let Some(c) = cut {
            let c = c.index(bytes.len());
            bytes.truncate(c);
        }
        let limits = Limits { max_entry_bytes: 1 << 20, ..Limits::default() };
        let _ = extract_text("a.docx", None, &mut Cursor::new(&bytes), &limits);
    }
}
