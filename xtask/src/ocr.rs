//! OCR benchmark: seconds per A4 page at 300 dpi with Tesseract's Vietnamese model, through the
//! app's isolated worker (`__extract image`, the path every scan takes), against Tesseract run
//! directly on the same page in the same process (the baseline: what the isolation costs).
//! The character error rate against the text that was drawn is printed beside the timing.
//!
//! Pages are drawn by Pillow (from the project's venv: `VANTHU_PYTHON`) with generated
//! Vietnamese administrative text, 38 lines of ~75 characters, like a dense typed page.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vanthu_app::extraction::{extract_with_worker, WorkKind, WorkerConfig};

use crate::gen;

pub struct Opts {
    pub pages: usize,
}

fn python() -> String {
    if let Ok(p) = std::env::var("VANTHU_PYTHON") {
        return p;
    }
    let home = std::env::var("HOME").unwrap_or_default();
    format!("{home}/.cache/vanthu/venv/bin/python")
}

/// Lines of one page of generated text.
fn page_lines(page: usize) -> Vec<String> {
    let recs = gen::records(60, 0x004f_4352 + page as u64, gen::today_vn());
    let mut words: Vec<String> = Vec::new();
    for (_, r) in recs {
        words.extend(
            r.trich_yeu
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_string),
        );
        words.extend(
            r.tac_gia
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_string),
        );
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in words {
        if cur.chars().count() + w.chars().count() + 1 > 75 {
            lines.push(std::mem::take(&mut cur));
            if lines.len() == 38 {
                break;
            }
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&w);
    }
    lines
}

/// Draws the page; returns it as a PNG and as a one-page image-only PDF (a scanner's output).
fn render(lines: &[String], dir: &std::path::Path, n: usize) -> Result<(Vec<u8>, Vec<u8>), String> {
    let path = dir.join(format!("page-{n}.png"));
    let pdf = dir.join(format!("page-{n}.pdf"));
    let script = r#"
import sys, json
from PIL import Image, ImageDraw, ImageFont
lines = json.loads(sys.stdin.read())
img = Image.new("L", (2480, 3508), 255)
d = ImageDraw.Draw(img)
font = ImageFont.truetype("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", 42)
y = 250
for l in lines:
    d.text((200, y), l, font=font, fill=0)
    y += 80
img.save(sys.argv[1], dpi=(300, 300))
img.save(sys.argv[2], resolution=300)
"#;
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(&path)
        .arg(&pdf)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python with Pillow ({}): {e}", python()))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(serde_json::to_string(lines).expect("json").as_bytes())
        .map_err(|e| e.to_string())?;
    let st = child.wait().map_err(|e| e.to_string())?;
    if !st.success() {
        return Err("Pillow could not draw the page (run scripts/setup.sh)".into());
    }
    let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| e.to_string());
    Ok((read(&path)?, read(&pdf)?))
}

fn tesseract_direct(png: &[u8]) -> Result<String, String> {
    let mut child = Command::new("tesseract")
        .args(["stdin", "stdout", "-l", "vie"])
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("tesseract: {e}"))?;
    let mut w = child.stdin.take().expect("piped");
    let data = png.to_vec();
    let t = std::thread::spawn(move || {
        let _ = w.write_all(&data);
    });
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = t.join();
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cer(want: &str, got: &str) -> f64 {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let a: Vec<char> = norm(want).chars().collect();
    let b: Vec<char> = norm(got).chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] as f64 / a.len().max(1) as f64
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn run(o: &Opts) -> Result<(), String> {
    let worker = WorkerConfig::current_exe().ok_or("cannot locate the xtask binary")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    println!(
        "OCR benchmark: {} A4 page(s) at 300 dpi (2480×3508, 8-bit grey), Tesseract `vie`, OMP_THREAD_LIMIT=1",
        o.pages
    );
    let mut direct = Vec::new();
    let mut isolated = Vec::new();
    let mut scanned_pdf = Vec::new();
    let mut rates = Vec::new();
    let mut chars = 0usize;
    for p in 0..o.pages {
        let lines = page_lines(p);
        let want = lines.join("\n");
        chars += want.chars().count();
        let (png, pdf) = render(&lines, dir.path(), p)?;
        // baseline first, then the app's path, alternating page by page
        let t = Instant::now();
        let base_text = tesseract_direct(&png)?;
        direct.push(t.elapsed());
        let t = Instant::now();
        let got = extract_with_worker(&worker, WorkKind::Image, png).map_err(|e| e.to_string())?;
        isolated.push(t.elapsed());
        rates.push(cer(&want, &got.text));
        // the same page as a scanned PDF: rendered by pdftoppm, then the same OCR
        let t = Instant::now();
        let from_pdf =
            extract_with_worker(&worker, WorkKind::Pdf, pdf).map_err(|e| e.to_string())?;
        scanned_pdf.push(t.elapsed());
        if from_pdf.ocr_pages != Some(1) {
            return Err(format!("page {p}: the scanned PDF was not OCR'd"));
        }
        if base_text.trim() != got.text.trim() {
            println!("  note: page {p}: worker text differs from direct Tesseract (normalisation)");
        }
        println!(
            "  page {:>2}: direct {:>6.2} s, via worker {:>6.2} s, scanned PDF via worker {:>6.2} s, CER {:.2} %",
            p + 1,
            direct[p].as_secs_f64(),
            isolated[p].as_secs_f64(),
            scanned_pdf[p].as_secs_f64(),
            rates[p] * 100.0
        );
    }
    let d = median(&mut direct.clone());
    let w = median(&mut isolated.clone());
    let sp = median(&mut scanned_pdf.clone());
    let mean_cer = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    println!(
        "median per page: direct Tesseract {:.2} s · through the isolated worker {:.2} s (ratio {:.2}×) · target ≤ 4 s: {}",
        d.as_secs_f64(),
        w.as_secs_f64(),
        w.as_secs_f64() / d.as_secs_f64().max(1e-9),
        if w <= Duration::from_secs(4) { "met" } else { "MISSED" }
    );
    println!(
        "median per scanned PDF page (pdftoppm 300 dpi + OCR, via worker): {:.2} s (ratio {:.2}× direct Tesseract on the image) · target ≤ 4 s: {}",
        sp.as_secs_f64(),
        sp.as_secs_f64() / d.as_secs_f64().max(1e-9),
        if sp <= Duration::from_secs(4) { "met" } else { "MISSED" }
    );
    println!(
        "character error rate (mean over {} pages, {} characters): {:.2} %",
        o.pages,
        chars,
        mean_cer * 100.0
    );
    Ok(())
}
