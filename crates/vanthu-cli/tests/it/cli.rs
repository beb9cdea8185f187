use serde_json::Value;

use crate::*;

#[test]
fn register_list_show_export_with_vietnamese_metadata() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let scan = d.path().join("công văn 12.pdf");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&scan, &content).unwrap();

    let a = json(vanthu(&data).args(["incoming", "add"]).arg(&scan).args([
        "--from",
        "Ủy ban nhân dân tỉnh Hòa Bình",
        "--notation",
        "12/QĐ-UBND",
        "--date",
        "2026-11-20",
        "--subject",
        "Quyết định phê duyệt Kiến trúc Chính quyền điện tử tỉnh Hòa Bình",
        "--type",
        "QĐ",
        "--urgency",
        "khan",
    ]));
    assert_eq!(a["so_den"], 1);
    assert_eq!(a["so_den_text"], "01");
    let b = json(vanthu(&data).args([
        "incoming",
        "add",
        "--from",
        "Bộ Nội vụ",
        "--notation",
        "05/2025/TT-BNV",
        "--date",
        "2026-11-21",
        "--subject",
        "Thông tư quy định về lưu trữ hồ sơ điện tử",
        "--type",
        "Thông tư",
    ]));
    assert_eq!(b["so_den"], 2);

    let list = json(vanthu(&data).args(["list", "incoming"]));
    let arr = list.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(
        arr[0]["trich_yeu"],
        "Quyết định phê duyệt Kiến trúc Chính quyền điện tử tỉnh Hòa Bình"
    );
    assert_eq!(arr[1]["so_ky_hieu"], "05/2025/TT-BNV");
    assert_eq!(arr[0]["do_khan"], "khan");
    let this_year = arr[0]["year"].as_i64().unwrap();
    let other = json(
        vanthu(&data)
            .args(["list", "incoming", "--year"])
            .arg((this_year - 1).to_string()),
    );
    assert_eq!(other.as_array().unwrap().len(), 0);

    let id = a["id"].as_str().unwrap();
    let show = json(vanthu(&data).args(["show", id]));
    assert_eq!(show["tac_gia"], "Ủy ban nhân dân tỉnh Hòa Bình");
    assert_eq!(show["files"][0]["name"], "công văn 12.pdf");
    assert_eq!(show["files"][0]["size"], content.len());

    let out = d.path().join("ra.pdf");
    ok(vanthu(&data).args(["export", id]).arg(&out));
    assert_eq!(std::fs::read(&out).unwrap(), content);
    // into a folder: original name
    let outdir = d.path().join("xuat");
    std::fs::create_dir(&outdir).unwrap();
    ok(vanthu(&data).args(["export", id]).arg(&outdir));
    assert_eq!(
        std::fs::read(outdir.join("công văn 12.pdf")).unwrap(),
        content
    );

    let human = ok(vanthu(&data).args(["list", "incoming"]));
    assert!(human.contains("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"));
    assert!(human.contains("12/QĐ-UBND"));

    let v = json(vanthu(&data).args(["audit", "verify"]));
    assert_eq!(v["ok"], true);
}

#[test]
fn secret_documents_use_their_own_register() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let add = |notation: &str, secrecy: &str| -> Value {
        json(vanthu(d.path()).args([
            "incoming",
            "add",
            "--from",
            "Công an tỉnh",
            "--notation",
            notation,
            "--date",
            "2026-11-20",
            "--subject",
            "Về việc bảo vệ bí mật",
            "--secrecy",
            secrecy,
        ]))
    };
    assert_eq!(add("01/CV-CA", "thuong")["so_den"], 1);
    let m = add("02/CV-CA", "mat");
    assert_eq!(m["so_den"], 1);
    assert_eq!(m["register"], "den-mat");
    assert_eq!(add("03/CV-CA", "Tối mật")["so_den"], 2);
    assert_eq!(add("04/CV-CA", "thuong")["so_den"], 2);
}

#[test]
fn duplicates_are_refused_unless_a_reason_is_given() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let base = [
        "incoming",
        "add",
        "--from",
        "Bộ Nội vụ",
        "--date",
        "2026-11-20",
        "--subject",
        "Về việc A",
    ];
    ok(vanthu(d.path())
        .args(base)
        .args(["--notation", "05/UBND-VP"]));
    let o = run(vanthu(d.path())
        .args(base)
        .args(["--notation", "5/UBND-VP"]));
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("có thể đã được vào sổ"), "{err}");
    let r = json(vanthu(d.path()).args(base).args([
        "--notation",
        "5/UBND-VP",
        "--duplicate-reason",
        "Bản giấy gửi kèm",
    ]));
    assert_eq!(r["so_den"], 2);
    assert_eq!(r["duplicate_of"][0]["so_den"], 1);
    // another year's document with the same number is no duplicate
    let o = json(vanthu(d.path()).args([
        "incoming",
        "add",
        "--from",
        "Bộ Nội vụ",
        "--date",
        "2025-11-20",
        "--subject",
        "Về việc B",
        "--notation",
        "05/UBND-VP",
    ]));
    assert_eq!(o["so_den"], 3);
}

#[test]
fn wrong_passphrase_fails_cleanly_and_changes_nothing() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    ok(vanthu(d.path()).args([
        "incoming",
        "add",
        "--from",
        "Bộ Tài chính",
        "--notation",
        "9/TB-BTC",
        "--date",
        "2026-11-01",
        "--subject",
        "Thông báo",
    ]));
    let before = all_files(d.path());
    for cmd in [
        vec!["list", "incoming"],
        vec![
            "incoming",
            "add",
            "--from",
            "X",
            "--notation",
            "1/X-Y",
            "--date",
            "2026-11-01",
            "--subject",
            "Y",
        ],
    ] {
        let o = run(vanthu(d.path())
            .env("VANTHU_PASSPHRASE", "sai-mật-khẩu")
            .args(&cmd));
        assert_eq!(o.status.code(), Some(5), "{cmd:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("Sai mật khẩu"));
        assert!(o.stdout.is_empty());
    }
    assert_eq!(before, all_files(d.path()));
}

#[test]
fn missing_or_corrupt_store_and_bad_arguments() {
    let d = tempfile::tempdir().unwrap();
    let o = run(vanthu(&d.path().join("không-có")).args(["list", "incoming"]));
    assert_eq!(o.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Chưa có kho dữ liệu"));

    let o = run(vanthu(d.path()).args(["incoming", "add", "--bogus"]));
    assert_eq!(o.status.code(), Some(2));

    init(d.path());
    let o = run(vanthu(d.path()).args(["init"]));
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("đã có kho dữ liệu"));

    let o = run(vanthu(d.path()).args([
        "incoming",
        "add",
        "--from",
        "A",
        "--notation",
        "1/A-B",
        "--date",
        "20/11/2026",
        "--subject",
        "S",
        "--secrecy",
        "siêu mật",
    ]));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("do_mat"));

    let o = run(vanthu(d.path()).args([
        "incoming",
        "add",
        "/không/có/tệp.pdf",
        "--from",
        "A",
        "--notation",
        "1/A-B",
        "--date",
        "2026-11-20",
        "--subject",
        "S",
    ]));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Không đọc được tệp"));
    // nothing was registered by the failures
    assert_eq!(
        json(vanthu(d.path()).args(["list", "incoming"]))
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // a damaged database: clear message, exit 6
    let db = d.path().join("vanthu.db");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().skip(100).take(3000) {
        *b = 0;
    }
    std::fs::write(&db, bytes).unwrap();
    let _ = std::fs::remove_file(d.path().join("vanthu.db-wal"));
    let o = run(vanthu(d.path()).args(["list", "incoming"]));
    assert_eq!(o.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hỏng"));
}

#[test]
fn import_reports_bad_lines_and_keeps_the_rest() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let dir = d.path().join("nhap");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("scan1.pdf"), b"%PDF-1.4 gia lap").unwrap();
    let lines = [
        r#"{"so_ky_hieu":"01/QĐ-UBND","tac_gia":"UBND tỉnh","ngay_van_ban":"2026-11-01","trich_yeu":"Quyết định số một","files":["scan1.pdf"]}"#,
        r#"{"notation":"02/QĐ-UBND","from":"UBND tỉnh","date":"2026-11-02","subject":"Quyết định số hai","type":"QĐ"}"#,
        r#"{"so_ky_hieu": "03/QĐ-UBND", "tac_gia": "#,
        "",
        r#"{"so_ky_hieu":"04/QĐ-UBND","tac_gia":"UBND tỉnh","ngay_van_ban":"2026-11-04"}"#,
        r#"{"so_ky_hieu":"05/QĐ-UBND","tac_gia":"UBND tỉnh","ngay_van_ban":"2026-11-05","trich_yeu":"Năm","do_khan":"hoa-toc"}"#,
        r#"{"so_ky_hieu":"06/QĐ-UBND","tac_gia":"UBND tỉnh","ngay_van_ban":"2026-11-06","trich_yeu":"Sáu","files":["khong-co.pdf"]}"#,
    ];
    let f = dir.join("vao-so.jsonl");
    std::fs::write(&f, lines.join("\n")).unwrap();
    let o = run(vanthu(d.path())
        .args(["incoming", "import", "--jsonl"])
        .arg(&f)
        .args(["--batch", "2"]));
    assert_eq!(o.status.code(), Some(3), "partial import signals failures");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Dòng 3:"), "{err}");
    assert!(
        err.contains("Dòng 5:") && err.contains("Trích yếu"),
        "{err}"
    );
    assert!(err.contains("Dòng 7:"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Đã vào sổ 3 văn bản"), "{out}");
    let list = json(vanthu(d.path()).args(["list", "incoming"]));
    let notations: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["so_ky_hieu"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(notations, ["01/QĐ-UBND", "02/QĐ-UBND", "05/QĐ-UBND"]);
    let nums: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["so_den"].as_u64().unwrap())
        .collect();
    assert_eq!(nums, [1, 2, 3], "no gaps from the skipped lines");
    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(
        json(vanthu(d.path()).args(["show", id]))["files"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // the failed line with a missing file left no blob behind
    let blobs = all_files(&d.path().join("blobs"));
    assert_eq!(blobs.len(), 1, "{blobs:?}");
}

#[test]
fn no_readable_trace_of_documents_in_the_data_folder() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let subject = "Kế hoạch tuyệt đối riêng tư ZQXSUBJ về nhân sự";
    let file_text = "Nội dung tệp ZQXBODY: danh sách cán bộ diện quy hoạch".repeat(2000);
    let scan = d.path().join("ZQXNAME.txt");
    std::fs::write(&scan, &file_text).unwrap();
    ok(vanthu(&data).args(["incoming", "add"]).arg(&scan).args([
        "--from",
        "Ban Tổ chức Tỉnh ủy ZQXFROM",
        "--notation",
        "77/KH-BTCTU",
        "--date",
        "2026-11-20",
        "--subject",
        subject,
        "--note",
        "Ghi chú ZQXNOTE",
        "--signer",
        "Nguyễn Văn ZQXSIGNER",
    ]));
    // the search index holds the same text: it must be there, and unreadable too
    assert!(!json(vanthu(&data).args(["search", "ZQXSUBJ"]))
        .as_array()
        .unwrap()
        .is_empty());
    assert!(data.join("index").is_dir());
    let mut scanned = 0;
    for (p, bytes) in all_files(&data) {
        scanned += 1;
        for m in [
            "ZQXSUBJ",
            "ZQXBODY",
            "ZQXNAME",
            "ZQXFROM",
            "ZQXNOTE",
            "ZQXSIGNER",
            "77/KH-BTCTU",
            "tuyệt đối riêng tư",
            "Ban Tổ chức",
        ] {
            assert!(
                !contains(&bytes, m.as_bytes()),
                "{m} readable in {}",
                p.display()
            );
        }
    }
    assert!(scanned >= 3, "db, key file and a blob at least");
}

#[test]
fn passphrase_change_keeps_documents() {
    let d = tempfile::tempdir().unwrap();
    init(d.path());
    let f = d.path().join("a.txt");
    std::fs::write(&f, "văn bản").unwrap();
    let a = json(vanthu(d.path()).args(["incoming", "add"]).arg(&f).args([
        "--from",
        "A",
        "--notation",
        "1/A-B",
        "--date",
        "2026-11-20",
        "--subject",
        "S",
    ]));
    ok(vanthu(d.path())
        .env("VANTHU_NEW_PASSPHRASE", "mật khẩu mới dài")
        .arg("passwd"));
    let o = run(vanthu(d.path()).args(["list", "incoming"]));
    assert_eq!(o.status.code(), Some(5));
    let out = d.path().join("b.txt");
    ok(vanthu(d.path())
        .env("VANTHU_PASSPHRASE", "mật khẩu mới dài")
        .args(["export", a["id"].as_str().unwrap()])
        .arg(&out));
    assert_eq!(std::fs::read_to_string(out).unwrap(), "văn bản");
}

#[test]
fn demo_store_is_populated() {
    let d = tempfile::tempdir().unwrap();
    let v = json(vanthu(d.path()).arg("demo"));
    assert_eq!(v["fresh"], true);
    let rows = v["incoming"].as_array().unwrap();
    assert!(rows.len() >= 5);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["so_den"].as_u64().unwrap(), i as u64 + 1);
    }
    // a partner agency's report arrived over the local axis and was registered…
    let via_axis: Vec<_> = rows
        .iter()
        .filter(|r| r["kenh"] == "truc-lien-thong" && r["so_ky_hieu"] == "45/BC-UBND")
        .collect();
    assert_eq!(via_axis.len(), 1, "{rows:?}");
    // …and the demo agency's letter to the partner came back with its statuses
    let story = v["exchange"]["lines"].as_array().unwrap();
    assert!(
        story
            .iter()
            .any(|l| l.as_str().unwrap().ends_with("01, 03, 04, 06")),
        "{story:?}"
    );
    // second start reuses it
    assert_eq!(json(vanthu(d.path()).arg("demo"))["fresh"], false);
}

#[test]
fn search_finds_documents_with_or_without_diacritics_and_hides_secret_ones() {
    let d = tempfile::tempdir().unwrap();
    ok(vanthu(d.path()).arg("demo"));
    let ids = |q: &[&str]| -> Vec<String> {
        json(vanthu(d.path()).arg("search").args(q))
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["title"].as_str().unwrap().to_string())
            .collect()
    };
    let with = ids(&["kiến trúc chính quyền điện tử"]);
    let without = ids(&["kien truc chinh quyen dien tu"]);
    assert_eq!(
        with.first().map(String::as_str),
        Some("Quyết định ban hành Kiến trúc Chính quyền điện tử tỉnh Hòa Bình, phiên bản 2.0")
    );
    assert_eq!(with, without);
    // a word that only the attached file contains
    assert!(ids(&["LGSP"]).iter().any(|t| t.contains("chuyển đổi số")));
    // phrase, filters
    assert_eq!(ids(&["\"cải cách hành chính\""]).len(), 1);
    assert!(ids(&["\"hành chính cải cách\""]).is_empty());
    assert_eq!(ids(&["hội nghị", "--type", "GM"]).len(), 1);
    let v = json(vanthu(d.path()).args(["search", "hoi nghi", "--limit", "1"]));
    let h = &v[0];
    assert!(h["id"].is_string() && h["score"].as_f64().unwrap() > 0.0);
    assert!(h["snippet"].as_str().unwrap().contains("<b>"));

    // a secret document is registered but never returned
    ok(vanthu(d.path()).args([
        "incoming",
        "add",
        "--from",
        "Công an tỉnh Hòa Bình",
        "--notation",
        "88/CV-CAT",
        "--date",
        "2026-11-20",
        "--subject",
        "Phương án bảo vệ mục tiêu trọng yếu ZQXMAT",
        "--secrecy",
        "mat",
    ]));
    assert!(ids(&["ZQXMAT"]).is_empty());
    assert!(ids(&["phuong an bao ve muc tieu"]).is_empty());

    // rebuilt from the store, same answers
    ok(vanthu(d.path()).arg("reindex"));
    assert_eq!(ids(&["kien truc chinh quyen dien tu"]), with);
    assert!(ids(&["ZQXMAT"]).is_empty());
}

pub fn docx(path: &std::path::Path, paragraphs: &[&str]) {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("[Content_Types].xml", opts).unwrap();
    z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#).unwrap();
    z.start_file("word/document.xml", opts).unwrap();
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#,
    );
    for p in paragraphs {
        body.push_str(&format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"));
    }
    body.push_str("</w:body></w:document>");
    z.write_all(body.as_bytes()).unwrap();
    z.finish().unwrap();
}

#[test]
fn office_files_are_searchable_and_a_hostile_one_harms_nothing() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let good = d.path().join("to-trinh.docx");
    docx(
        &good,
        &[
            "TỜ TRÌNH",
            "Về việc phê duyệt dự án đường giao thông nông thôn xã Tân Lạc",
        ],
    );
    // not a word processing package at all, despite its name
    let bad = d.path().join("hong.docx");
    std::fs::write(&bad, b"PK\x03\x04 this is not really a zip file").unwrap();
    for (f, n) in [(&good, "01/TTr-UBND"), (&bad, "02/TTr-UBND")] {
        ok(vanthu(&data).args(["incoming", "add"]).arg(f).args([
            "--from",
            "Ủy ban nhân dân huyện Tân Lạc",
            "--notation",
            n,
            "--date",
            "2026-11-20",
            "--subject",
            "Tờ trình",
        ]));
    }
    // words only the DOCX body contains, with and without diacritics
    for q in ["đường giao thông nông thôn", "duong giao thong nong thon"] {
        let hits = json(vanthu(&data).args(["search", q]));
        let hits = hits.as_array().unwrap();
        assert_eq!(hits.len(), 1, "{q}");
        assert_eq!(hits[0]["notation"], "01/TTr-UBND");
    }
    // both documents are registered and listed
    assert_eq!(
        json(vanthu(&data).args(["list", "incoming"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // and the document text is no more readable on disk than the rest
    for (p, bytes) in all_files(&data) {
        assert!(
            !contains(&bytes, "giao thông nông thôn".as_bytes()),
            "{}",
            p.display()
        );
        assert!(!contains(&bytes, b"giao thong"), "{}", p.display());
    }
}
