//! Text extraction through the isolated worker: PDF text layers, OCR of scans (images and PDF
//! pages without text) with Tesseract's Vietnamese model, legacy .doc/.xls, hostile files,
//! the worker's time and memory bounds, and the searchable-PDF export.
//!
//! Fixtures are made here by tools no one here wrote: Pillow renders the scanned page at
//! 300 dpi, LibreOffice writes the text-layer PDF and the Word/Excel 97 files, qpdf assembles
//! a mixed PDF and an encrypted one. Under `CI` a missing tool fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::{all_files, contains, init, json, ok, run, vanthu};

/// The scanned page's text (an excerpt of an ordinary decision).
const SCAN_LINES: &[&str] = &[
    "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH",
    "QUYẾT ĐỊNH",
    "Về việc phê duyệt kế hoạch chuyển đổi số năm 2026",
    "Điều 1. Phê duyệt kế hoạch kèm theo Quyết định này.",
    "Điều 2. Giám đốc các sở, ban, ngành chịu trách nhiệm thi hành.",
    "Nơi nhận: Văn phòng Ủy ban nhân dân tỉnh; lưu văn thư.",
];

const LAYER_TEXT: &str =
    "Báo cáo tình hình thực hiện nhiệm vụ cải cách hành chính quý IV tại huyện Mai Châu";
const DOC_TEXT: &str = "Công văn về việc tổ chức hội nghị tập huấn nghiệp vụ lưu trữ";
const XLS_TEXT: &str = "Bảng tổng hợp kinh phí sửa chữa trụ sở xã Vạn Mai";

fn ci() -> bool {
    std::env::var_os("CI").is_some()
}

fn have(tool: &str, arg: &str) -> bool {
    let found = Command::new(tool)
        .arg(arg)
        .output()
        .map(|_| true)
        .unwrap_or(false);
    if !found {
        assert!(!ci(), "{tool} is missing: scripts/setup.sh installs it");
        eprintln!("note: {tool} not found, skipping");
    }
    found
}

fn python() -> Option<String> {
    let mut cands = Vec::new();
    if let Ok(p) = std::env::var("VANTHU_PYTHON") {
        cands.push(p);
    }
    if let Some(h) = std::env::var_os("HOME") {
        cands.push(format!(
            "{}/.cache/vanthu/venv/bin/python",
            h.to_string_lossy()
        ));
    }
    cands.into_iter().find(|c| {
        Command::new(c)
            .args(["-c", "import PIL"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

struct Fixtures {
    _dir: tempfile::TempDir,
    scan_png: PathBuf,
    scan_pdf: PathBuf,
    text_pdf: PathBuf,
    mixed_pdf: PathBuf,
    encrypted_pdf: PathBuf,
    doc: PathBuf,
    xls: PathBuf,
}

fn sh(cmd: &mut Command) {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Builds the fixtures once per test run; `None` when a tool is missing outside CI.
fn fixtures() -> Option<&'static Fixtures> {
    static F: OnceLock<Option<Fixtures>> = OnceLock::new();
    F.get_or_init(|| {
        let tools = [
            ("tesseract", "--version"),
            ("pdftotext", "-v"),
            ("soffice", "--version"),
            ("qpdf", "--version"),
        ];
        if !tools.iter().all(|(t, a)| have(t, a)) {
            return None;
        }
        let Some(py) = python() else {
            assert!(
                !ci(),
                "the venv with Pillow is missing: run scripts/setup.sh"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A4 at 300 dpi, black text on white, as a scanner gives it.
        let script = format!(
            r#"
import sys
from PIL import Image, ImageDraw, ImageFont
lines = {lines:?}
img = Image.new("L", (2480, 3508), 255)
d = ImageDraw.Draw(img)
font = ImageFont.truetype("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", 48)
y = 300
for l in lines:
    d.text((250, y), l, font=font, fill=0)
    y += 110
img.save(sys.argv[1] + "/scan.png", dpi=(300, 300))
img.save(sys.argv[1] + "/scan.pdf", resolution=300)
"#,
            lines = SCAN_LINES
        );
        sh(Command::new(&py).arg("-c").arg(script).arg(d));
        // Office-made documents: HTML written here (with a font that has every Vietnamese
        // glyph, so the PDF's text layer is clean), converted by LibreOffice Writer.
        let html = |name: &str, paras: &[&str]| {
            let body: String = paras.iter().map(|p| format!("<p>{p}</p>")).collect();
            std::fs::write(
                d.join(name),
                format!(
                    "<html><head><meta charset=\"utf-8\"></head>\
                     <body style=\"font-family: 'Noto Sans'\">{body}</body></html>"
                ),
            )
            .unwrap();
        };
        html("bao-cao.html", &["BÁO CÁO", LAYER_TEXT]);
        html("cong-van.html", &["CÔNG VĂN", DOC_TEXT]);
        std::fs::write(
            d.join("kinh-phi.csv"),
            format!("STT,Nội dung,Số tiền\n1,{XLS_TEXT},125000000\n"),
        )
        .unwrap();
        let profile = format!("-env:UserInstallation=file://{}/lo-profile", d.display());
        let soffice = |args: &[&str]| {
            sh(Command::new("soffice")
                .arg(&profile)
                .args(["--headless", "--norestore"])
                .args(args)
                .arg("--outdir")
                .arg(d)
                .current_dir(d));
        };
        let writer = "--infilter=HTML (StarWriter)";
        soffice(&[
            writer,
            "--convert-to",
            "pdf:writer_pdf_Export",
            "bao-cao.html",
        ]);
        soffice(&[writer, "--convert-to", "doc:MS Word 97", "cong-van.html"]);
        soffice(&[
            "--infilter=CSV:44,34,76,1",
            "--convert-to",
            "xls:MS Excel 97",
            "kinh-phi.csv",
        ]);
        for made in ["bao-cao.pdf", "cong-van.doc", "kinh-phi.xls"] {
            assert!(d.join(made).exists(), "LibreOffice did not write {made}");
        }
        // page 1 with a text layer, page 2 a scan
        sh(Command::new("qpdf")
            .arg("--empty")
            .arg("--pages")
            .arg(d.join("bao-cao.pdf"))
            .arg(d.join("scan.pdf"))
            .arg("--")
            .arg(d.join("mixed.pdf")));
        sh(Command::new("qpdf")
            .args(["--encrypt", "mat-khau-mo", "mat-khau-chu", "256", "--"])
            .arg(d.join("bao-cao.pdf"))
            .arg(d.join("encrypted.pdf")));
        Some(Fixtures {
            scan_png: d.join("scan.png"),
            scan_pdf: d.join("scan.pdf"),
            text_pdf: d.join("bao-cao.pdf"),
            mixed_pdf: d.join("mixed.pdf"),
            encrypted_pdf: d.join("encrypted.pdf"),
            doc: d.join("cong-van.doc"),
            xls: d.join("kinh-phi.xls"),
            _dir: dir,
        })
    })
    .as_ref()
}

/// Registers one document with `file` and returns its id.
fn add(data: &Path, file: &Path, notation: &str) -> String {
    let v = json(vanthu(data).args(["incoming", "add"]).arg(file).args([
        "--from",
        "Ủy ban nhân dân huyện Mai Châu",
        "--notation",
        notation,
        "--date",
        "2026-11-20",
        "--subject",
        "Văn bản thử nghiệm",
    ]));
    v["id"].as_str().expect("id").to_string()
}

fn search_notations(data: &Path, q: &str) -> Vec<String> {
    json(vanthu(data).args(["search", q]))
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["notation"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The extraction record of a document's only file.
fn text_of(data: &Path, id: &str) -> serde_json::Value {
    let v = json(vanthu(data).args(["text", id]));
    v[0]["text"].clone()
}

/// Character error rate of `got` against `want` (Levenshtein over characters, whitespace
/// collapsed).
fn cer(want: &str, got: &str) -> f64 {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let a: Vec<char> = norm(want).chars().collect();
    let b: Vec<char> = norm(got).chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] as f64 / a.len().max(1) as f64
}

#[test]
fn scanned_pages_are_ocred_searchable_and_shown_beside_the_scan() {
    let Some(f) = fixtures() else { return };
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let png = add(&data, &f.scan_png, "11/QĐ-UBND");
    let pdf = add(&data, &f.scan_pdf, "12/QĐ-UBND");

    // words that exist only in the scanned pixels, with and without diacritics, and a phrase
    for q in [
        "chuyển đổi số",
        "chuyen doi so",
        "\"chịu trách nhiệm thi hành\"",
    ] {
        let mut hits = search_notations(&data, q);
        hits.sort();
        assert_eq!(hits, ["11/QĐ-UBND", "12/QĐ-UBND"], "query {q}");
    }

    // the OCR'd text is kept with the scan, and it is good
    let want = SCAN_LINES.join("\n");
    for (id, pages) in [(&png, 1), (&pdf, 1)] {
        let t = text_of(&data, id);
        assert_eq!(t["status"], "ok", "{t}");
        assert_eq!(t["method"], "ocr");
        assert_eq!(t["pages"], pages);
        let got = t["text"].as_str().unwrap();
        let rate = cer(&want, got);
        assert!(rate < 0.05, "character error rate {rate:.3}:\n{got}");
    }
    let human = ok(vanthu(&data).args(["text", &png]));
    assert!(human.contains("OCR"), "{human}");
    assert!(human.contains("QUYẾT ĐỊNH"), "{human}");

    // none of it is readable on disk
    for (p, bytes) in all_files(&data) {
        for marker in ["chuyển đổi", "chuyen doi", "trách nhiệm"] {
            assert!(!contains(&bytes, marker.as_bytes()), "{}", p.display());
        }
    }
}

#[test]
fn pdf_text_layers_mixed_pdfs_and_legacy_office_files() {
    let Some(f) = fixtures() else { return };
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let layer = add(&data, &f.text_pdf, "21/BC-UBND");
    let mixed = add(&data, &f.mixed_pdf, "22/BC-UBND");
    let doc = add(&data, &f.doc, "23/CV-UBND");
    let xls = add(&data, &f.xls, "24/BC-UBND");

    assert_eq!(
        search_notations(&data, "cai cach hanh chinh Mai Chau").len(),
        2
    );
    assert_eq!(
        search_notations(&data, "\"tập huấn nghiệp vụ lưu trữ\""),
        ["23/CV-UBND"]
    );
    assert_eq!(
        search_notations(&data, "sua chua tru so xa Van Mai"),
        ["24/BC-UBND"]
    );
    // the scanned second page of the mixed PDF is found too
    assert_eq!(search_notations(&data, "chuyển đổi số"), ["22/BC-UBND"]);

    let t = text_of(&data, &layer);
    assert_eq!(
        (t["method"].as_str(), t["ocr_pages"].as_u64()),
        (Some("pdf-text"), Some(0))
    );
    let t = text_of(&data, &mixed);
    assert_eq!(t["method"], "pdf-text+ocr", "{t}");
    assert_eq!(
        (t["pages"].as_u64(), t["ocr_pages"].as_u64()),
        (Some(2), Some(1))
    );
    for id in [&doc, &xls] {
        let t = text_of(&data, id);
        assert_eq!(
            (t["method"].as_str(), t["status"].as_str()),
            (Some("legacy"), Some("ok")),
            "{t}"
        );
    }
}

#[test]
fn hostile_or_unreadable_files_are_recorded_and_harm_nothing() {
    let Some(f) = fixtures() else { return };
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let good = add(&data, &f.text_pdf, "31/BC-UBND");
    // a PDF header over garbage, a truncated PDF, an encrypted PDF, an image that is not one
    let broken = d.path().join("hong.pdf");
    let mut bytes = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\n".to_vec();
    bytes.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    std::fs::write(&broken, &bytes).unwrap();
    let truncated = d.path().join("cut.pdf");
    let full = std::fs::read(&f.text_pdf).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 3]).unwrap();
    let fake_png = d.path().join("anh.png");
    std::fs::write(&fake_png, b"\x89PNG\r\n\x1a\nnot really an image at all").unwrap();
    let ids: Vec<String> = [
        (&broken, "32/BC-UBND"),
        (&truncated, "33/BC-UBND"),
        (&f.encrypted_pdf, "34/BC-UBND"),
        (&fake_png, "35/BC-UBND"),
    ]
    .into_iter()
    .map(|(p, n)| add(&data, p, n))
    .collect();

    // searching works and the good document is found
    assert_eq!(
        search_notations(&data, "cải cách hành chính"),
        ["31/BC-UBND"]
    );
    // each bad file is recorded on its document with a reason a clerk can read
    let enc = text_of(&data, &ids[2]);
    assert_eq!(enc["status"], "failed", "{enc}");
    assert!(enc["error"].as_str().unwrap().contains("mã hóa"), "{enc}");
    for id in [&ids[0], &ids[3]] {
        let t = text_of(&data, id);
        assert_eq!(t["status"], "failed", "{t}");
        assert!(!t["error"].as_str().unwrap().is_empty());
    }
    // the truncated one may yield its first page or fail: either way it is recorded
    let cut = text_of(&data, &ids[1]);
    assert!(
        ["ok", "failed"].contains(&cut["status"].as_str().unwrap()),
        "{cut}"
    );
    // the store is intact and every original is exported byte for byte
    ok(vanthu(&data).args(["audit", "verify"]));
    let out = d.path().join("ra.pdf");
    ok(vanthu(&data).args(["export", &ids[0]]).arg(&out));
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let t = text_of(&data, &good);
    assert_eq!(t["status"], "ok");
}

/// The worker's bounds, with faults injected into the worker (debug builds honour
/// `VANTHU_EXTRACT_FAULT`): a hang is stopped at the deadline, a runaway allocation hits the
/// memory cap, a crash is contained — and each is recorded on the document.
#[test]
fn a_hanging_exploding_or_crashing_worker_is_contained() {
    let Some(f) = fixtures() else { return };
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let cases = [
        ("hang", "41/BC-UBND", "timeout"),
        ("alloc", "42/BC-UBND", "failed"),
        ("crash", "43/BC-UBND", "failed"),
    ];
    for (fault, notation, status) in cases {
        // registration commits first and extraction follows it: the document is safe
        // whatever the worker does
        let started = std::time::Instant::now();
        let o = run(vanthu(&data)
            .args(["--json", "incoming", "add"])
            .arg(&f.text_pdf)
            .args([
                "--from",
                "Ủy ban nhân dân huyện Mai Châu",
                "--notation",
                notation,
            ])
            .args(["--date", "2026-11-20", "--subject", "Văn bản thử nghiệm"])
            .env("VANTHU_EXTRACT_FAULT", fault)
            .env("VANTHU_EXTRACT_TIMEOUT_SECS", "3")
            .env("VANTHU_EXTRACT_MEMORY_MIB", "256"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // generous: only proves the hang was cut, not how fast (no timing assertions)
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let id = v["id"].as_str().unwrap().to_string();
        let t = text_of(&data, &id);
        assert_eq!(t["status"], status, "{fault}: {t}");
        // and it is found by its metadata
        assert!(search_notations(&data, "thu nghiem").contains(&notation.to_string()));
        assert!(!t["error"].as_str().unwrap().is_empty());
    }
    // the store still works, and a later document is extracted normally
    let id = add(&data, &f.text_pdf, "44/BC-UBND");
    assert_eq!(text_of(&data, &id)["status"], "ok");
    ok(vanthu(&data).args(["audit", "verify"]));
}

#[test]
fn searchable_pdf_export_leaves_the_original_alone() {
    let Some(f) = fixtures() else { return };
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let scan = add(&data, &f.scan_png, "51/QĐ-UBND");
    let out = d.path().join("tim-kiem-duoc.pdf");
    ok(vanthu(&data)
        .args(["export", &scan, "--searchable"])
        .arg(&out));
    let pdf = std::fs::read(&out).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // an outside reader finds the invisible text layer
    let o = Command::new("pdftotext")
        .arg(&out)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("QUYẾT ĐỊNH"), "{text}");
    let o = Command::new("qpdf")
        .arg("--check")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.code() == Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // the original comes out unchanged
    let orig = d.path().join("goc.png");
    ok(vanthu(&data).args(["export", &scan]).arg(&orig));
    assert_eq!(
        std::fs::read(&orig).unwrap(),
        std::fs::read(&f.scan_png).unwrap()
    );
    // a PDF (which may be signed) is refused, and no file appears
    let pdf_doc = add(&data, &f.text_pdf, "52/BC-UBND");
    let refused = d.path().join("khong-duoc.pdf");
    let o = run(vanthu(&data)
        .args(["export", &pdf_doc, "--searchable"])
        .arg(&refused));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("ảnh quét"));
    assert!(!refused.exists());
}

/// The demo's postal letter is a scan: `vanthu demo` OCRs it, so its words are searchable.
#[test]
fn the_demo_scan_is_found_by_words_only_its_pixels_hold() {
    if !have("tesseract", "--version") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("demo");
    ok(vanthu(&data)
        .arg("demo")
        .env("VANTHU_PASSPHRASE", crate::PASS));
    let hits = json(vanthu(&data).args(["search", "san xuat nong nghiep"]));
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let id = hits[0]["id"].as_str().unwrap();
    let texts = json(vanthu(&data).args(["text", id]));
    let scan = texts
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["file"]["name"] == "thu-cam-on-ban-quet.png")
        .expect("the scan is attached");
    assert_eq!(scan["text"]["method"], "ocr");
    assert!(scan["text"]["text"]
        .as_str()
        .unwrap()
        .contains("hội viên nông dân"));
}

/// Indexing is resumable: a process killed while it indexes (here: while a scan's extraction
/// hangs) has registered the document, and the next start catches the index up.
#[test]
fn a_process_killed_while_indexing_is_caught_up_on_the_next_start() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("kho");
    init(&data);
    let scan = d.path().join("to-trinh-quet.png");
    // PNG magic, so it goes to the OCR worker (which hangs on request)
    std::fs::write(&scan, b"\x89PNG\r\n\x1a\n not really an image").unwrap();
    let mut child = vanthu(&data)
        .args(["incoming", "add"])
        .arg(&scan)
        .args([
            "--from",
            "Ủy ban nhân dân xã Vạn Mai",
            "--notation",
            "31/TTr-UBND",
            "--date",
            "2026-11-20",
            "--subject",
            "Tờ trình về việc sửa chữa trụ sở làm việc",
        ])
        .env("VANTHU_EXTRACT_FAULT", "hang")
        .env("VANTHU_EXTRACT_TIMEOUT_SECS", "600")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until the registration is committed (the indexing behind it hangs)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let rows = json(vanthu(&data).args(["list", "incoming"]));
        if rows.as_array().map(|a| a.len()) == Some(1) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never registered");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "indexing should still be hanging"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // next start: the search catches the index up (the fake scan's OCR fails and is recorded)
    let hits = search_notations(&data, "sua chua tru so lam viec");
    assert_eq!(hits, vec!["31/TTr-UBND".to_string()]);
    let rows = json(vanthu(&data).args(["list", "incoming"]));
    let id = rows[0]["id"].as_str().unwrap();
    let texts = json(vanthu(&data).args(["text", id]));
    let status = texts[0]["text"]["status"].as_str().unwrap_or_default();
    assert!(
        !status.is_empty() && status != "ok",
        "the failure is recorded: {texts}"
    );
}
