//! Human-readable output (Vietnamese labels).

use vanthu_app::register::{DocumentView, Registered};
use vanthu_core::level::{DoKhan, DoMat};
use vanthu_core::notation::format_number;
use vanthu_store::audit::AuditReport;
use vanthu_store::{Agency, IncomingRow};

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn pad(s: &str, n: usize) -> String {
    let c = s.chars().count();
    if c >= n {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(n - c))
    }
}

fn secrecy_label(code: &str) -> String {
    code.parse::<DoMat>()
        .map(|m| m.label().to_string())
        .unwrap_or_else(|_| code.to_string())
}

fn urgency_label(code: &str) -> String {
    code.parse::<DoKhan>()
        .map(|m| m.label().to_string())
        .unwrap_or_else(|_| code.to_string())
}

pub fn registered(r: &Registered) {
    println!(
        "Đã vào sổ văn bản đến số {} (sổ {}, năm {}).",
        r.so_den_text, r.register, r.year
    );
    println!("  Mã văn bản: {}", r.id);
    if let Some(n) = &r.so_ky_hieu {
        println!("  Số, ký hiệu: {n}");
    }
    println!("  Trích yếu: {}", r.trich_yeu);
    for f in &r.files {
        println!("  Tệp: {} ({} byte)", f.name, f.size);
    }
    for w in &r.warnings {
        println!("  Lưu ý: {}", w.message_vi);
    }
}

pub fn register(agency: &Agency, rows: &[IncomingRow], year: Option<i32>) {
    println!("{}", agency.name.to_uppercase());
    match year {
        Some(y) => println!("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN — Năm {y}"),
        None => println!("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"),
    }
    if rows.is_empty() {
        println!();
        println!("Sổ chưa có văn bản nào. Vào sổ văn bản đầu tiên bằng `vanthu incoming add`.");
        return;
    }
    println!(
        "{} | {} | {} | {} | Trích yếu",
        pad("Số đến", 7),
        pad("Ngày đến", 10),
        pad("Số, ký hiệu", 16),
        pad("Tác giả", 28),
    );
    println!("{}", "-".repeat(110));
    for r in rows {
        let mut num = format_number(r.so_den);
        if r.register != "den" {
            num.push('*');
        }
        let notation = if r.khong_so {
            "Không số".to_string()
        } else {
            r.so_ky_hieu.clone().unwrap_or_default()
        };
        println!(
            "{} | {} | {} | {} | {}",
            pad(&num, 7),
            pad(r.ngay_den.get(..10).unwrap_or(&r.ngay_den), 10),
            pad(&cut(&notation, 16), 16),
            pad(&cut(&r.tac_gia, 28), 28),
            cut(&r.trich_yeu, 60)
        );
    }
    println!("{}", "-".repeat(110));
    println!("Tổng số: {} văn bản.", rows.len());
    if rows.iter().any(|r| r.register != "den") {
        println!("* sổ văn bản mật (secret register)");
    }
}

pub fn document(v: &DocumentView) {
    let r = &v.row;
    let line = |k: &str, val: &str| println!("{}: {val}", pad(k, 24));
    line("Mã văn bản", &r.id);
    line(
        "Số đến",
        &format!("{} (sổ {}, năm {})", v.so_den_text, r.register, r.year),
    );
    line("Ngày đến", &r.ngay_den);
    line("Tác giả", &r.tac_gia);
    if let Some(c) = &r.tac_gia_ma {
        line("Mã định danh", c);
    }
    line(
        "Số, ký hiệu",
        &if r.khong_so {
            "Không số".to_string()
        } else {
            r.so_ky_hieu.clone().unwrap_or_default()
        },
    );
    line("Ngày tháng văn bản", &r.ngay_van_ban);
    if let Some(l) = &r.loai {
        line("Tên loại", l);
    }
    line("Trích yếu nội dung", &r.trich_yeu);
    line("Độ mật", &secrecy_label(&r.do_mat));
    line("Độ khẩn", &urgency_label(&r.do_khan));
    if let Some(s) = &r.nguoi_ky {
        line(
            "Người ký",
            format!("{} {}", r.chuc_vu.clone().unwrap_or_default(), s).trim(),
        );
    }
    if let Some(n) = r.so_trang {
        line("Số trang", &n.to_string());
    }
    if let Some(h) = &r.han_giai_quyet {
        line("Hạn giải quyết", h);
    }
    if let Some(g) = &r.ghi_chu {
        line("Ghi chú", g);
    }
    line(
        "Vào sổ bởi",
        &format!("{} lúc {}", r.created_by, r.created_at),
    );
    if v.files.is_empty() {
        line("Tệp", "(chưa có tệp)");
    }
    for (i, f) in v.files.iter().enumerate() {
        line(
            &format!("Tệp {}", i + 1),
            &format!("{} — {} byte — SHA-256 {}", f.name, f.size, f.sha256),
        );
        if let Some(c) = v.signatures.iter().find(|c| c.file_id == f.id) {
            line(
                "  Chữ ký số",
                &format!(
                    "{} — {} (kiểm tra lúc {})",
                    c.verdict, c.summary, c.checked_at
                ),
            );
        }
    }
}

pub fn signature_checks(checks: &[vanthu_app::signatures::SignatureCheck]) {
    if checks.is_empty() {
        println!("Văn bản không có tệp PDF để kiểm tra chữ ký số (no PDF to check).");
    }
    for c in checks {
        println!("{}: {}", c.name, c.verdict);
        println!("  {}", c.summary);
        println!("  kiểm tra lúc {}, SHA-256 {}", c.checked_at, c.file_sha256);
    }
}

pub fn audit(r: &AuditReport) {
    if r.ok() {
        println!(
            "Nhật ký toàn vẹn: {} mục, chuỗi băm hợp lệ (audit chain verified). Đầu chuỗi: {}",
            r.entries, r.head
        );
        return;
    }
    println!("NHẬT KÝ BỊ SỬA ĐỔI (audit trail tampered):");
    if let Some(b) = &r.first_broken {
        println!(
            "  Liên kết hỏng đầu tiên: mục số {} ({}) — {}",
            b.seq, b.entity, b.reason
        );
    }
    for p in &r.row_problems {
        println!("  Văn bản {}: {}", p.entity, p.reason);
    }
}

pub fn hits(query: &str, hits: &[vanthu_search::Hit]) {
    if hits.is_empty() {
        println!("Không tìm thấy văn bản nào cho “{query}”. Thử bỏ bớt từ, hoặc gõ không dấu.");
        return;
    }
    println!("{} kết quả cho “{query}”:", hits.len());
    for h in hits {
        let (on, off) = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            ("\x1b[1m", "\x1b[0m")
        } else {
            ("", "")
        };
        let snippet = h
            .snippet
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("<b>", on)
            .replace("</b>", off);
        println!();
        println!(
            "{} · {} · {}",
            h.notation.clone().unwrap_or_else(|| "Không số".into()),
            h.date,
            h.issuer_name.clone().unwrap_or_default()
        );
        println!("  {}", h.title);
        if !snippet.trim().is_empty() {
            println!("  … {} …", snippet.trim());
        }
        println!("  Mã văn bản: {}", h.id);
    }
}

/// The text extracted from each file of a document (OCR'd text beside the scan).
pub fn file_texts(texts: &[vanthu_app::search::FileTextView]) {
    if texts.is_empty() {
        println!("Văn bản này không có tệp đính kèm (no files).");
        return;
    }
    for (i, t) in texts.iter().enumerate() {
        println!("── Tệp {}: {} ({} byte)", i + 1, t.file.name, t.file.size);
        let Some(x) = &t.text else {
            println!("   Chưa trích xuất văn bản (not extracted yet).");
            continue;
        };
        let how = match x.method.as_str() {
            "ocr" => "nhận dạng chữ từ ảnh quét (OCR)",
            "pdf-text" => "lớp chữ của PDF (PDF text layer)",
            "pdf-text+ocr" => "lớp chữ PDF và OCR các trang quét (text layer + OCR)",
            "legacy" => "Word/Excel 97-2003",
            "office" => "tài liệu văn phòng (office document)",
            _ => "không (none)",
        };
        let mut meta = format!("   Cách lấy: {how}");
        if let Some(p) = x.pages {
            meta.push_str(&format!("; {p} trang"));
        }
        if let Some(o) = x.ocr_pages.filter(|o| *o > 0) {
            meta.push_str(&format!(", {o} trang OCR"));
        }
        meta.push_str(&format!("; {} ms", x.elapsed_ms));
        println!("{meta}");
        if x.status != "ok" {
            println!(
                "   Không trích xuất được ({}): {}",
                x.status,
                x.error.as_deref().unwrap_or("")
            );
            continue;
        }
        if x.text.trim().is_empty() {
            println!("   (không có chữ — no text)");
        } else {
            println!();
            for line in x.text.lines() {
                println!("   {line}");
            }
        }
        println!();
    }
}
