//! Text from formats that need outside tools — PDF text layers, OCR of scans (images and PDF
//! pages without a text layer) with Tesseract's Vietnamese model, legacy Word/Excel 97 — run in
//! an **isolated worker process** with a time limit and a memory limit.
//!
//! A malformed or hostile file can make a parser loop, allocate without end or crash. None of
//! that may reach the app: the parent (`run_worker`) starts the worker (the `vanthu` binary's
//! hidden `__extract` subcommand, see `worker_main`), streams the decrypted bytes to its stdin
//! (never to disk), reads a JSON answer from its stdout and kills the worker's whole process
//! group when the deadline passes. The worker caps its own address space (`RLIMIT_AS`, which
//! the tools it starts inherit) before reading anything. Whatever happens is reported as an
//! [`ExtractFailure`] that the caller records on the document; nothing panics upward.
//!
//! The tools (poppler's `pdfinfo`/`pdftotext`/`pdftoppm`, `tesseract` with `vie`, `catdoc`;
//! Excel 97 is read in the worker with calamine) read stdin and write stdout, so plaintext
//! never touches the disk here either. They are looked up in `VANTHU_TOOLS_DIR` first (the Windows installer ships them
//! beside the app), then on `PATH`.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Formats that go through the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkKind {
    /// PDF: text layer, then OCR of the pages that have none.
    Pdf,
    /// A scanned image (JPEG, PNG, TIFF incl. multi-page, BMP): OCR.
    Image,
    /// Word 97–2003 (`.doc`).
    Doc,
    /// Excel 97–2003 (`.xls`).
    Xls,
    /// OCR of an image into a searchable PDF (image + invisible text layer), for export.
    SearchablePdf,
}

impl WorkKind {
    /// The worker's argument for this kind.
    pub fn arg(self) -> &'static str {
        match self {
            WorkKind::Pdf => "pdf",
            WorkKind::Image => "image",
            WorkKind::Doc => "doc",
            WorkKind::Xls => "xls",
            WorkKind::SearchablePdf => "searchable-pdf",
        }
    }

    fn parse(s: &str) -> Option<WorkKind> {
        Some(match s {
            "pdf" => WorkKind::Pdf,
            "image" => WorkKind::Image,
            "doc" => WorkKind::Doc,
            "xls" => WorkKind::Xls,
            "searchable-pdf" => WorkKind::SearchablePdf,
            _ => return None,
        })
    }

    /// Which worker kind reads a file, from its first bytes (authoritative) and its name.
    pub fn detect(name: &str, content_type: Option<&str>, head: &[u8]) -> Option<WorkKind> {
        let ext = Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if head.starts_with(b"%PDF-") {
            return Some(WorkKind::Pdf);
        }
        if is_image(head) {
            return Some(WorkKind::Image);
        }
        if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            // An OLE2 compound file: Word or Excel (or something else) — the name decides.
            let ct = content_type.unwrap_or("");
            return match ext.as_str() {
                "doc" | "dot" => Some(WorkKind::Doc),
                "xls" | "xlt" => Some(WorkKind::Xls),
                _ if ct == "application/msword" => Some(WorkKind::Doc),
                _ if ct == "application/vnd.ms-excel" => Some(WorkKind::Xls),
                _ => None,
            };
        }
        // A short or damaged file that claims to be a PDF still goes to the worker, which
        // records why it could not be read.
        if ext == "pdf" || content_type == Some("application/pdf") {
            return Some(WorkKind::Pdf);
        }
        None
    }
}

/// JPEG, PNG, TIFF (both byte orders), BMP, by magic bytes.
pub fn is_image(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xD8, 0xFF])
        || head.starts_with(b"\x89PNG\r\n\x1a\n")
        || head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"BM")
}

/// How to start the worker and the bounds it runs under.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The program (normally the running `vanthu` binary).
    pub program: PathBuf,
    /// Arguments before the kind (normally `["__extract"]`).
    pub args: Vec<OsString>,
    /// Time allowed for any file.
    pub base_timeout: Duration,
    /// Extra time per MiB of input (OCR of a scan is slow).
    pub timeout_per_mib: Duration,
    /// Never more than this.
    pub max_timeout: Duration,
    /// Address-space cap of the worker and the tools it starts, in MiB.
    pub memory_mib: u64,
    /// Most PDF pages sent to OCR in one file.
    pub max_ocr_pages: u32,
}

impl WorkerConfig {
    /// The running executable's hidden `__extract` subcommand, with default bounds.
    pub fn current_exe() -> Option<WorkerConfig> {
        let program = std::env::current_exe().ok()?;
        Some(WorkerConfig::new(program, vec!["__extract".into()]))
    }

    /// A worker started as `program args.. KIND`, with default bounds.
    pub fn new(program: PathBuf, args: Vec<OsString>) -> WorkerConfig {
        WorkerConfig {
            program,
            args,
            base_timeout: Duration::from_secs(60),
            timeout_per_mib: Duration::from_secs(20),
            max_timeout: Duration::from_secs(30 * 60),
            memory_mib: 1536,
            max_ocr_pages: 200,
        }
    }

    /// Applies `VANTHU_EXTRACT_TIMEOUT_SECS` (a fixed deadline for any file) and
    /// `VANTHU_EXTRACT_MEMORY_MIB` (the address-space cap) when they are set.
    pub fn with_env_overrides(mut self) -> WorkerConfig {
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let Some(s) = num("VANTHU_EXTRACT_TIMEOUT_SECS") {
            self.base_timeout = Duration::from_secs(s);
            self.timeout_per_mib = Duration::ZERO;
        }
        if let Some(m) = num("VANTHU_EXTRACT_MEMORY_MIB") {
            self.memory_mib = m.max(64);
        }
        self
    }

    fn timeout_for(&self, len: usize) -> Duration {
        let mib = u32::try_from((len as u64).div_ceil(1 << 20)).unwrap_or(u32::MAX);
        self.base_timeout
            .saturating_add(self.timeout_per_mib.saturating_mul(mib))
            .min(self.max_timeout)
    }
}

/// What the worker found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerText {
    /// `pdf-text`, `ocr`, `pdf-text+ocr` or `legacy`.
    pub method: String,
    /// NFC text.
    pub text: String,
    /// Pages seen (PDF, multi-page TIFF).
    pub pages: Option<u32>,
    /// Pages that went through OCR.
    pub ocr_pages: Option<u32>,
}

impl WorkerText {
    /// Text of a Word/Excel 97 file (no pages).
    fn legacy(text: &str) -> WorkerText {
        WorkerText {
            method: "legacy".into(),
            text: nfc(text),
            pages: None,
            ocr_pages: None,
        }
    }
}

/// Why a file gave no text. Messages are Vietnamese, then English in parentheses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractFailure {
    /// The worker did not finish in time and was stopped.
    #[error("Trích xuất quá thời gian cho phép ({0} giây) và đã bị dừng (extraction timed out)")]
    Timeout(u64),
    /// The worker died (a crash, or the memory limit).
    #[error("Trình trích xuất bị dừng bất thường: {0} (extraction worker crashed or hit its memory limit)")]
    Crashed(String),
    /// The file could not be read (malformed, encrypted, unsupported), or a tool is missing.
    #[error("{0}")]
    Failed(String),
    /// The worker could not be started at all.
    #[error("Không chạy được trình trích xuất: {0} (cannot start the extraction worker)")]
    Spawn(String),
}

impl ExtractFailure {
    /// The `status` recorded on the file.
    pub fn status(&self) -> &'static str {
        match self {
            ExtractFailure::Timeout(_) => "timeout",
            _ => "failed",
        }
    }
}

/// The worker's exit code for a file it could not read (the message is on stderr).
const EXIT_UNREADABLE: i32 = 3;
/// The most text the parent accepts from a worker (bytes of JSON).
const MAX_ANSWER: u64 = 64 << 20;

/// Runs the worker on `input` and returns its answer, or why there is none. Never panics and
/// never waits longer than the configured deadline (plus the time to kill the worker).
pub fn run_worker(
    cfg: &WorkerConfig,
    kind: WorkKind,
    input: Vec<u8>,
) -> Result<Vec<u8>, ExtractFailure> {
    let timeout = cfg.timeout_for(input.len());
    let mut cmd = Command::new(&cfg.program);
    cmd.args(&cfg.args)
        .arg(kind.arg())
        .arg("--memory-mib")
        .arg(cfg.memory_mib.to_string())
        .arg("--max-ocr-pages")
        .arg(cfg.max_ocr_pages.to_string())
        // A backstop for when this process dies (e.g. is killed) and cannot enforce the
        // deadline: the worker and its tools stop on their own after that much CPU time.
        .arg("--cpu-secs")
        .arg((timeout.as_secs() + 5).to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so a timeout kills the tools it started too.
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| ExtractFailure::Spawn(format!("{}: {e}", cfg.program.display())))?;
    let stdin = child.stdin.take();
    let feeder = std::thread::spawn(move || {
        if let Some(mut w) = stdin {
            // A worker that stops reading (it failed early) closes the pipe: not our error.
            let _ = w.write_all(&input);
        }
    });
    let out = child.stdout.take().map(|r| read_bounded(r, MAX_ANSWER));
    let err = child.stderr.take().map(|r| read_bounded(r, 64 << 10));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if started.elapsed() >= timeout => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                kill_group(&mut child);
                return Err(ExtractFailure::Crashed(e.to_string()));
            }
        }
    };
    let Some(status) = status else {
        tracing::warn!(kind = kind.arg(), "extraction worker timed out; killing it");
        kill_group(&mut child);
        let _ = feeder.join();
        return Err(ExtractFailure::Timeout(timeout.as_secs()));
    };
    let _ = feeder.join();
    let stdout = out
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    let stderr = err
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr).trim().to_string();
    if status.success() {
        return Ok(stdout);
    }
    if status.code() == Some(EXIT_UNREADABLE) && !stderr.is_empty() {
        return Err(ExtractFailure::Failed(last_line(&stderr)));
    }
    Err(ExtractFailure::Crashed(describe_exit(status, &stderr)))
}

/// Runs the worker for text and parses its JSON answer.
pub fn extract_with_worker(
    cfg: &WorkerConfig,
    kind: WorkKind,
    input: Vec<u8>,
) -> Result<WorkerText, ExtractFailure> {
    let out = run_worker(cfg, kind, input)?;
    serde_json::from_slice(&out)
        .map_err(|e| ExtractFailure::Crashed(format!("invalid answer from the worker: {e}")))
}

fn last_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .to_string()
}

fn describe_exit(status: ExitStatus, stderr: &str) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("signal {sig}");
        }
    }
    let tail = last_line(stderr);
    match status.code() {
        Some(c) if tail.is_empty() => format!("exit code {c}"),
        Some(c) => format!("exit code {c}: {tail}"),
        None => "no exit code".to_string(),
    }
}

fn read_bounded<R: Read + Send + 'static>(r: R, max: u64) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut r = r.take(max);
        let _ = r.read_to_end(&mut buf);
        // Drain the rest so the writer never blocks on a full pipe; it is discarded.
        let mut rest = r.into_inner();
        let _ = std::io::copy(&mut rest, &mut std::io::sink());
        buf
    })
}

fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        // SAFETY: kill(2) with a negative pid signals the process group we created for the
        // worker (`process_group(0)` made its pid the group id); no memory is touched.
        unsafe {
            libc::kill(-(child.id() as i32), libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------------
// The worker side: runs inside `vanthu __extract KIND`.

/// Entry point of the worker process: `args` are the arguments after `__extract`. Reads the
/// file from stdin and writes a JSON [`WorkerText`] (or, for `searchable-pdf`, the PDF) to
/// stdout. Returns the process exit code.
pub fn worker_main(args: &[String]) -> i32 {
    let Some(kind) = args.first().and_then(|a| WorkKind::parse(a)) else {
        eprintln!("usage: __extract pdf|image|doc|xls|searchable-pdf [--memory-mib N] [--cpu-secs N] [--max-ocr-pages N]");
        return 2;
    };
    let mut memory_mib = 1536u64;
    let mut cpu_secs = 0u64;
    let mut max_ocr_pages = 200u32;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let v = it.next().and_then(|v| v.parse::<u64>().ok());
        match (a.as_str(), v) {
            ("--memory-mib", Some(v)) => memory_mib = v,
            ("--cpu-secs", Some(v)) => cpu_secs = v,
            ("--max-ocr-pages", Some(v)) => max_ocr_pages = v.min(u32::MAX as u64) as u32,
            _ => {
                eprintln!("bad argument: {a}");
                return 2;
            }
        }
    }
    limit_resources(memory_mib, cpu_secs);
    test_faults();
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut input) {
        eprintln!("Không đọc được dữ liệu vào: {e} (cannot read input)");
        return EXIT_UNREADABLE;
    }
    let result = match kind {
        WorkKind::Pdf => pdf_text(&input, max_ocr_pages).map(Answer::Text),
        WorkKind::Image => ocr_image(&input).map(Answer::Text),
        WorkKind::Doc => doc_text(&input).map(Answer::Text),
        WorkKind::Xls => xls_text(&input).map(Answer::Text),
        WorkKind::SearchablePdf => searchable_pdf(&input).map(Answer::Bytes),
    };
    let mut out = std::io::stdout().lock();
    let written = match result {
        Ok(Answer::Text(t)) => serde_json::to_writer(&mut out, &t).map_err(std::io::Error::other),
        Ok(Answer::Bytes(b)) => out.write_all(&b),
        Err(msg) => {
            eprintln!("{msg}");
            return EXIT_UNREADABLE;
        }
    };
    match written.and_then(|_| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cannot write the answer: {e}");
            1
        }
    }
}

enum Answer {
    Text(WorkerText),
    Bytes(Vec<u8>),
}

#[cfg(unix)]
fn limit_resources(mib: u64, cpu_secs: u64) {
    let bytes = mib.saturating_mul(1 << 20);
    let lim = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let cpu = libc::rlimit {
        rlim_cur: cpu_secs as libc::rlim_t,
        rlim_max: cpu_secs.saturating_add(5) as libc::rlim_t,
    };
    // SAFETY: setrlimit(2) only reads the struct we pass; it limits this process and the
    // tools it starts (limits are inherited across fork/exec).
    unsafe {
        libc::setrlimit(libc::RLIMIT_AS, &lim);
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        if cpu_secs > 0 {
            libc::setrlimit(libc::RLIMIT_CPU, &cpu);
        }
    }
}

#[cfg(not(unix))]
fn limit_resources(_mib: u64, _cpu_secs: u64) {
    // Windows: the parent's deadline still holds; a Job Object with a memory limit is the
    // equivalent of RLIMIT_AS there (to be added with the Windows installer job).
}

/// Fault injection for the tests of the parent's bounds (debug builds only):
/// `VANTHU_EXTRACT_FAULT=hang|crash|alloc`.
fn test_faults() {
    if !cfg!(debug_assertions) {
        return;
    }
    match std::env::var("VANTHU_EXTRACT_FAULT").as_deref() {
        Ok("hang") => {
            // Hangs like a stuck parser, but leaves once its parent is gone (tests kill it).
            #[cfg(unix)]
            let parent = std::os::unix::process::parent_id();
            loop {
                std::thread::sleep(Duration::from_millis(200));
                #[cfg(unix)]
                if std::os::unix::process::parent_id() != parent {
                    std::process::exit(1);
                }
            }
        }
        Ok("crash") => std::process::abort(),
        Ok("alloc") => {
            let mut hog: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut v = Vec::new();
                if v.try_reserve_exact(64 << 20).is_err() {
                    // The limit held: behave like a parser that dies of it.
                    std::process::abort();
                }
                v.resize(64 << 20, 1u8);
                hog.push(v);
            }
        }
        _ => {}
    }
}

/// Finds a tool: `VANTHU_TOOLS_DIR` first, then `PATH` (the OS adds `.exe` on Windows).
fn tool_path(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("VANTHU_TOOLS_DIR") {
        let p = Path::new(&dir).join(name);
        let exe = p.with_extension(std::env::consts::EXE_EXTENSION);
        if exe.is_file() {
            return exe;
        }
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from(name)
}

struct ToolOutput {
    ok: bool,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs a tool with `input` on stdin and collects stdout.
fn tool(name: &str, args: &[&str], input: &[u8]) -> Result<ToolOutput, String> {
    let mut child = Command::new(tool_path(name))
        .args(args)
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "Thiếu công cụ {name} trên máy này — chạy scripts/setup.sh (missing tool {name})"
                )
            } else {
                format!("Không chạy được {name}: {e} (cannot run {name})")
            }
        })?;
    let out = std::thread::scope(|s| {
        let mut stdin = child.stdin.take();
        s.spawn(move || {
            if let Some(w) = stdin.as_mut() {
                let _ = w.write_all(input);
            }
            drop(stdin);
        });
        child.wait_with_output()
    })
    .map_err(|e| format!("{name}: {e}"))?;
    Ok(ToolOutput {
        ok: out.status.success(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn nfc(s: &str) -> String {
    vanthu_core::text::nfc(s)
}

/// Letters and digits on a page: below this, the page is treated as having no text layer.
const MIN_PAGE_CHARS: usize = 16;

fn meaningful(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphanumeric()).count()
}

fn pdf_text(input: &[u8], max_ocr_pages: u32) -> Result<WorkerText, String> {
    let info = tool("pdfinfo", &["-"], input)?;
    let info_text = String::from_utf8_lossy(&info.stdout).into_owned();
    if !info.ok {
        return Err(pdf_error(&info.stderr));
    }
    let pages = info_text
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let t = tool("pdftotext", &["-enc", "UTF-8", "-", "-"], input)?;
    if !t.ok {
        return Err(pdf_error(&t.stderr));
    }
    let text = String::from_utf8_lossy(&t.stdout).into_owned();
    // pdftotext ends every page with a form feed.
    let mut page_texts: Vec<String> = text.split('\x0c').map(str::to_string).collect();
    page_texts.truncate(pages.max(1) as usize);
    while page_texts.len() < pages as usize {
        page_texts.push(String::new());
    }
    let mut ocr_pages = 0u32;
    let mut with_layer = 0u32;
    for (i, page) in page_texts.iter_mut().enumerate() {
        if meaningful(page) >= MIN_PAGE_CHARS {
            with_layer += 1;
            continue;
        }
        if ocr_pages >= max_ocr_pages {
            continue;
        }
        let n = (i + 1).to_string();
        // Raw PGM, not PNG: compressing a 300 dpi A4 page to PNG costs ~4 s, more than the OCR.
        let pgm = tool(
            "pdftoppm",
            &["-r", "300", "-gray", "-f", &n, "-l", &n, "-"],
            input,
        )?;
        if !pgm.ok || !pgm.stdout.starts_with(b"P5") {
            tracing::debug!("page {n} not rendered: {}", pgm.stderr.trim());
            continue;
        }
        let ocr = tesseract(&pgm.stdout, &["--dpi", "300"])?;
        *page = ocr.text;
        ocr_pages += 1;
    }
    let method = match (with_layer, ocr_pages) {
        (_, 0) => "pdf-text",
        (0, _) => "ocr",
        _ => "pdf-text+ocr",
    };
    Ok(WorkerText {
        method: method.into(),
        text: nfc(&page_texts.join("\n")),
        pages: Some(pages),
        ocr_pages: Some(ocr_pages),
    })
}

fn pdf_error(stderr: &str) -> String {
    let s = stderr.to_ascii_lowercase();
    if s.contains("incorrect password") || s.contains("encrypt") {
        "Tệp PDF được mã hóa bằng mật khẩu nên không đọc được nội dung (encrypted PDF)".into()
    } else {
        let detail = last_line(stderr.trim());
        format!("Tệp PDF bị hỏng hoặc không đúng định dạng (malformed PDF): {detail}")
    }
}

fn ocr_image(input: &[u8]) -> Result<WorkerText, String> {
    if !is_image(input) {
        return Err("Tệp không phải ảnh JPEG, PNG, TIFF hay BMP (not a supported image)".into());
    }
    tesseract(input, &[])
}

/// Tesseract with the Vietnamese model on one image (any format Leptonica reads) from stdin.
fn tesseract(input: &[u8], extra: &[&str]) -> Result<WorkerText, String> {
    let mut args = vec!["stdin", "stdout", "-l", "vie"];
    args.extend_from_slice(extra);
    let out = tool("tesseract", &args, input)?;
    if !out.ok {
        let detail = last_line(out.stderr.trim());
        return Err(format!(
            "Không nhận dạng được chữ trong ảnh (OCR failed): {detail}"
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // Tesseract ends every page with a form feed.
    let pages = text.matches('\x0c').count().max(1) as u32;
    Ok(WorkerText {
        method: "ocr".into(),
        text: nfc(&text.replace('\x0c', "\n")),
        pages: Some(pages),
        ocr_pages: Some(pages),
    })
}

/// Word 97 documents, through `catdoc` (which reads a pipe).
fn doc_text(input: &[u8]) -> Result<WorkerText, String> {
    let out = tool("catdoc", &["-d", "utf-8", "-w"], input)?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.ok && meaningful(&text) == 0 {
        let detail = last_line(out.stderr.trim());
        return Err(format!(
            "Tệp Word 97 bị hỏng hoặc không đọc được (malformed .doc): {detail}"
        ));
    }
    Ok(WorkerText::legacy(&text))
}

/// Excel 97 workbooks are read here, in the worker, with calamine: `xls2csv` cannot read a
/// pipe (it seeks) and a temporary file would put the plaintext on disk.
fn xls_text(input: &[u8]) -> Result<WorkerText, String> {
    use calamine::{Data, Reader};
    let mut wb = calamine::Xls::new(std::io::Cursor::new(input))
        .map_err(|e| format!("Tệp Excel 97 bị hỏng hoặc không đọc được (malformed .xls): {e}"))?;
    let mut text = String::new();
    for name in wb.sheet_names().to_owned() {
        let Ok(range) = wb.worksheet_range(&name) else {
            continue;
        };
        text.push_str(&name);
        text.push('\n');
        for row in range.rows() {
            let cells: Vec<String> = row
                .iter()
                .filter(|c| !matches!(c, Data::Empty))
                .map(|c| c.to_string())
                .collect();
            if !cells.is_empty() {
                text.push_str(&cells.join("\t"));
                text.push('\n');
            }
        }
    }
    Ok(WorkerText::legacy(&text))
}

fn searchable_pdf(input: &[u8]) -> Result<Vec<u8>, String> {
    if !is_image(input) {
        return Err(
            "Chỉ tạo được PDF tìm kiếm được từ ảnh quét (searchable PDF needs a scanned image)"
                .into(),
        );
    }
    let out = tool("tesseract", &["stdin", "stdout", "-l", "vie", "pdf"], input)?;
    if !out.ok || !out.stdout.starts_with(b"%PDF-") {
        let detail = last_line(out.stderr.trim());
        return Err(format!("Không tạo được PDF (OCR failed): {detail}"));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic_before_name() {
        assert_eq!(
            WorkKind::detect("a.bin", None, b"%PDF-1.7\n"),
            Some(WorkKind::Pdf)
        );
        assert_eq!(
            WorkKind::detect("scan.pdf", None, b"\x89PNG\r\n\x1a\n...."),
            Some(WorkKind::Image)
        );
        assert_eq!(
            WorkKind::detect(
                "bao-cao.xls",
                None,
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
            ),
            Some(WorkKind::Xls)
        );
        assert_eq!(
            WorkKind::detect(
                "cv.doc",
                None,
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
            ),
            Some(WorkKind::Doc)
        );
        assert_eq!(
            WorkKind::detect(
                "x.msg",
                None,
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
            ),
            None
        );
        assert_eq!(
            WorkKind::detect("broken.pdf", None, b"garbage"),
            Some(WorkKind::Pdf)
        );
        assert_eq!(WorkKind::detect("notes.txt", None, b"hello"), None);
    }

    #[test]
    fn timeout_grows_with_size_and_is_capped() {
        let c = WorkerConfig::new("x".into(), vec![]);
        assert_eq!(c.timeout_for(0), Duration::from_secs(60));
        assert_eq!(c.timeout_for(3 << 20), Duration::from_secs(120));
        assert_eq!(c.timeout_for(usize::MAX / 2), c.max_timeout);
    }
}
