//! `vanthu edxml inspect` and `vanthu edxml pack`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use vanthu_app::input::parse_date;
use vanthu_app::register::content_type_of;
use vanthu_app::AppError;
use vanthu_edxml::Organization;

use crate::PackArgs;

fn edxml_err(e: impl std::fmt::Display) -> AppError {
    AppError::BadInput(format!("Gói edXML không hợp lệ: {e}"))
}

pub fn inspect(file: &Path, json: bool) -> Result<i32, AppError> {
    let f = File::open(file).map_err(|e| AppError::File {
        path: file.to_path_buf(),
        source: e,
    })?;
    let report =
        vanthu_edxml::inspect(BufReader::with_capacity(256 * 1024, f)).map_err(edxml_err)?;
    if json {
        crate::out_json(&report);
        return Ok(0);
    }
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "—".into());
    println!("Loại gói:          {:?}", report.kind);
    println!("Nơi gửi:           {} ({})", report.from_name, report.from);
    if !report.to.is_empty() {
        println!("Nơi nhận:          {}", report.to.join(", "));
    }
    println!("Mã văn bản:        {}", opt(&report.document_id));
    if report.code_number.is_some() || report.code_notation.is_some() {
        println!(
            "Số, ký hiệu:       {}/{}",
            opt(&report.code_number),
            opt(&report.code_notation)
        );
    }
    if let Some(s) = &report.subject {
        println!("Trích yếu:         {s}");
    }
    if let Some(d) = &report.promulgation_date {
        println!("Ngày ban hành:     {d}");
    }
    if let Some(b) = &report.business_type {
        println!("Nghiệp vụ:         {b}");
    }
    if let Some(c) = &report.status_code {
        println!(
            "Trạng thái:        {c} {}",
            report.status_label.clone().unwrap_or_default()
        );
    }
    for a in &report.attachments {
        println!(
            "Tệp {}:            {} — {} — {} byte — SHA-256 {}",
            a.index + 1,
            a.name.clone().unwrap_or_else(|| a.content_id.clone()),
            a.content_type.clone().unwrap_or_default(),
            a.size,
            a.sha256.clone().unwrap_or_else(|| "—".into())
        );
    }
    for w in &report.warnings {
        println!("Lưu ý: {w}");
    }
    Ok(0)
}

pub fn pack(a: &PackArgs, app: Option<&vanthu_app::App>, json: bool) -> Result<i32, AppError> {
    let date = parse_date("--date", &a.date)?;
    let (number, notation) = a.notation.trim().split_once('/').ok_or_else(|| {
        AppError::BadInput(format!(
            "--notation {:?}: cần dạng số/ký hiệu, ví dụ 12/UBND-VP (expected number/notation)",
            a.notation
        ))
    })?;
    let req = vanthu_edxml::PackRequest {
        from: Organization::new(
            a.from.trim(),
            a.from_name
                .clone()
                .unwrap_or_else(|| a.from.trim().to_string()),
        ),
        to: a
            .to
            .iter()
            .map(|t| Organization::new(t.trim(), t.trim()))
            .collect(),
        code_number: number.to_string(),
        code_notation: notation.to_string(),
        subject: a.subject.clone(),
        date: format!(
            "{:04}/{:02}/{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ),
        place: a.place.clone(),
        type_name: a.type_name.clone(),
        ..Default::default()
    };
    let mut atts = Vec::new();
    for p in a.files.iter().filter(|_| a.document.is_none()) {
        let f = File::open(p).map_err(|e| AppError::File {
            path: p.clone(),
            source: e,
        })?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "tep".into());
        let ct = content_type_of(&name)
            .unwrap_or("application/octet-stream")
            .to_string();
        atts.push((name, ct, BufReader::with_capacity(256 * 1024, f)));
    }
    // Written beside the target and renamed into place: never a half-written package.
    let dir = a
        .out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".vanthu-pack-{}.part",
        vanthu_store::fsutil::random_id()
    ));
    let result = (|| {
        let f = File::create(&tmp).map_err(|e| AppError::File {
            path: tmp.clone(),
            source: e,
        })?;
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, f);
        let report = match (app, &a.document) {
            (Some(app), Some(id)) => {
                let files = app.store().files_of(id)?;
                if files.is_empty() {
                    app.store().get_incoming(id)?;
                    return Err(AppError::BadInput(format!(
                        "Văn bản {id} không có tệp để đóng gói (document has no file)"
                    )));
                }
                app.write_edxml(&req, &files, &mut w)?
            }
            _ => vanthu_edxml::pack(&req, atts, &mut w).map_err(edxml_err)?,
        };
        let f = w.into_inner().map_err(|e| AppError::File {
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(|e| AppError::File {
            path: tmp.clone(),
            source: e,
        })?;
        std::fs::rename(&tmp, &a.out).map_err(|e| AppError::File {
            path: a.out.clone(),
            source: e,
        })?;
        Ok::<_, AppError>(report)
    })();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if json {
        crate::out_json(&serde_json::json!({
            "out": a.out,
            "document_id": report.document_id,
            "bytes": report.write.bytes,
            "sha256": report.write.sha256,
            "attachments": report.write.attachments.iter().map(|d| serde_json::json!({"size": d.size, "sha256": d.sha256})).collect::<Vec<_>>(),
        }));
    } else {
        println!(
            "Đã đóng gói {} ({} byte, SHA-256 {}), mã văn bản {}",
            a.out.display(),
            report.write.bytes,
            report.write.sha256,
            report.document_id
        );
    }
    Ok(0)
}
