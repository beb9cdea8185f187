//! `vanthu edxml inspect`, `vanthu edxml pack` and `vanthu incoming receive`.

use crate::*;

fn sample(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/edxml")
        .join(name)
}

#[test]
fn inspect_reports_header_attachments_and_warnings() {
    let d = tempfile::tempdir().unwrap();
    let v = json(
        vanthu(d.path())
            .args(["edxml", "inspect"])
            .arg(sample("vpcp-sdk-samples/edoc_new.edxml")),
    );
    assert_eq!(v["kind"], "edoc");
    assert_eq!(v["from"], "000.00.00.A80");
    assert_eq!(v["code_notation"], "VPCP-TTĐT");
    assert_eq!(
        v["subject"],
        "V/v kết nối, liên thông phần mềm quản lý văn bản"
    );
    assert_eq!(v["attachments"][0]["name"], "1896_QD-TTg_m_294779.doc");
    assert!(v["attachments"][0]["sha256"].as_str().unwrap().len() == 64);
    assert!(!v["warnings"].as_array().unwrap().is_empty());

    let s = json(
        vanthu(d.path())
            .args(["edxml", "inspect"])
            .arg(sample("vpcp-sdk-samples/status_finish_06.edxml")),
    );
    assert_eq!(s["kind"], "status");
    assert_eq!(s["status_code"], "06");

    let o = run(vanthu(d.path())
        .args(["edxml", "inspect"])
        .arg(sample("vpcp-sdk-samples/edoc.edxml")));
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("không hợp lệ") && err.contains("line 74"),
        "{err}"
    );
}

#[test]
fn pack_then_inspect_and_receive_round_trip() {
    let d = tempfile::tempdir().unwrap();
    let pdf = d.path().join("qd-15.pdf");
    let content: Vec<u8> = (0..150_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&pdf, &content).unwrap();
    let out = d.path().join("goi.edxml");
    let p = json(
        vanthu(d.path())
            .args([
                "edxml",
                "pack",
                "--from",
                "000.00.12.H29",
                "--from-name",
                "Sở Nội vụ tỉnh Hòa Bình",
                "--to",
                "000.00.18.H29,000.00.31.H29",
                "--notation",
                "15/QĐ-SNV",
                "--subject",
                "Quyết định về việc cử cán bộ đi học",
                "--date",
                "2026-11-20",
            ])
            .arg(&pdf)
            .arg("-o")
            .arg(&out),
    );
    use sha2::Digest;
    let want = hex::encode(sha2::Sha256::digest(&content));
    assert_eq!(p["attachments"][0]["sha256"], want.as_str());
    let v = json(vanthu(d.path()).args(["edxml", "inspect"]).arg(&out));
    assert_eq!(v["code_number"], "15");
    assert_eq!(v["code_notation"], "QĐ-SNV");
    assert_eq!(v["to"].as_array().unwrap().len(), 2);
    assert_eq!(v["attachments"][0]["sha256"], want.as_str());
    assert_eq!(v["attachments"][0]["size"], content.len());

    // the recipient registers it; the stored file is the same bytes
    let kho = d.path().join("kho");
    init(&kho);
    let r = json(vanthu(&kho).args(["incoming", "receive"]).arg(&out));
    assert_eq!(r["registered"]["so_den"], 1);
    let id = r["registered"]["id"].as_str().unwrap().to_string();
    let show = json(vanthu(&kho).args(["show", &id]));
    assert_eq!(show["tac_gia"], "Sở Nội vụ tỉnh Hòa Bình");
    assert_eq!(show["kenh"], "truc-lien-thong");
    assert_eq!(show["files"][0]["sha256"], want.as_str());

    // and forwards it, streaming the attachment from the encrypted store
    let fwd = d.path().join("chuyen-tiep.edxml");
    json(
        vanthu(&kho)
            .args([
                "edxml",
                "pack",
                "--from",
                "000.00.18.H29",
                "--to",
                "000.00.31.H29",
                "--notation",
                "15/QĐ-SNV",
                "--subject",
                "Chuyển tiếp",
                "--date",
                "2026-11-21",
                "--document",
                &id,
            ])
            .arg("-o")
            .arg(&fwd),
    );
    let v = json(vanthu(d.path()).args(["edxml", "inspect"]).arg(&fwd));
    assert_eq!(v["attachments"][0]["sha256"], want.as_str());
}

#[test]
fn pack_with_bad_input_writes_no_file() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("khong.edxml");
    let base = [
        "edxml",
        "pack",
        "--from",
        "000.00.12.H29",
        "--to",
        "000.00.18.H29",
        "--subject",
        "S",
        "--date",
        "2026-11-20",
    ];
    let o = run(vanthu(d.path())
        .args(base)
        .args(["--notation", "15/QĐ-SNV", "/khong/co.pdf", "-o"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(3));
    let o = run(vanthu(d.path())
        .args(base)
        .args(["--notation", "khong-co-so", "/etc/hostname", "-o"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--notation"));
    let o = run(vanthu(d.path())
        .args([
            "edxml",
            "pack",
            "--from",
            "bad id",
            "--to",
            "000.00.18.H29",
            "--subject",
            "S",
            "--date",
            "2026-11-20",
            "--notation",
            "1/A-B",
            "/etc/hostname",
            "-o",
        ])
        .arg(&out));
    assert_ne!(o.status.code(), Some(0));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        0,
        "no temporary file left"
    );
}
