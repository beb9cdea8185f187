//! `vanthu`: the command-line interface. Thin: it parses arguments, reads the passphrase and
//! prints; every action is a use case of `vanthu-app`.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use vanthu_app::demo;
use vanthu_app::{App, AppError, IncomingInput};
use vanthu_store::{Agency, KdfParams, Passphrase, StoreError};

mod axis;
mod edxml;
mod pdf;
mod print;

#[derive(Parser)]
#[command(
    name = "vanthu",
    version,
    about = "vanthu — văn thư điện tử: sổ văn bản đến/đi, kho mã hóa (electronic office for Vietnamese agencies)",
    long_about = None
)]
struct Cli {
    /// Thư mục dữ liệu (data folder); also VANTHU_DATA.
    #[arg(long, global = true, env = "VANTHU_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
    /// In kết quả dạng JSON (machine-readable output).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Tạo kho dữ liệu mới (create a new encrypted store).
    Init {
        /// Tên cơ quan (agency name).
        #[arg(long, default_value = "Sở Nội vụ tỉnh Hòa Bình (dữ liệu trình diễn)")]
        agency_name: String,
        /// Mã định danh cơ quan (agency code, OrganId).
        #[arg(long, default_value = "000.00.12.H29")]
        agency_code: String,
    },
    /// Tạo kho trình diễn với văn bản mẫu và in sổ (demo store with sample documents).
    Demo {
        /// Xóa kho trình diễn cũ và tạo lại (recreate the demo store).
        #[arg(long)]
        reset: bool,
    },
    /// Văn bản đến (incoming documents).
    #[command(subcommand)]
    Incoming(IncomingCmd),
    /// Liệt kê sổ (list a register).
    #[command(subcommand)]
    List(ListCmd),
    /// Xem một văn bản (show one document).
    Show {
        /// Mã văn bản (document id).
        id: String,
    },
    /// Giải mã một tệp của văn bản ra ngoài (decrypt one file out).
    Export {
        /// Mã văn bản (document id).
        id: String,
        /// Tệp hoặc thư mục đích (destination file or folder).
        out: PathBuf,
        /// Số thứ tự (từ 1) hoặc tên tệp (file position from 1, or name).
        #[arg(long)]
        file: Option<String>,
        /// Xuất ảnh quét thành PDF tìm kiếm được: ảnh + lớp chữ OCR ẩn; bản gốc không đổi
        /// (searchable PDF of a scanned image; the original is never changed).
        #[arg(long)]
        searchable: bool,
    },
    /// Nhật ký kiểm tra (audit trail).
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Đổi mật khẩu kho (change the store passphrase; VANTHU_NEW_PASSPHRASE for scripts).
    Passwd,
    /// Dọn tệp mã hóa mồ côi sau sự cố (remove orphan encrypted files left by a crash).
    Gc,
    /// Tìm kiếm toàn văn, có hoặc không dấu (full-text search, with or without diacritics).
    Search(SearchArgs),
    /// Dựng lại chỉ mục tìm kiếm từ kho (rebuild the encrypted search index from the store).
    Reindex {
        /// Trích xuất lại văn bản của mọi tệp, kể cả OCR (extract every file's text again).
        #[arg(long)]
        extract: bool,
    },
    /// Văn bản trích từ các tệp, kể cả chữ nhận dạng (OCR) từ bản quét (text of each file).
    Text {
        /// Mã văn bản (document id).
        id: String,
        /// Chỉ tệp này: số thứ tự từ 1 hoặc tên tệp (only this file: position or name).
        #[arg(long)]
        file: Option<String>,
    },
    /// Gói tin edXML (QCVN 102:2016) — xem và đóng gói (inspect and pack edXML messages).
    #[command(subcommand)]
    Edxml(EdxmlCmd),
    /// Chữ ký số PDF (PAdES): ký và kiểm tra (sign and verify PDF signatures).
    Pdf {
        #[command(subcommand)]
        cmd: pdf::PdfCmd,
    },
    /// Chữ ký số trên các tệp PDF của văn bản đến: kết quả kiểm tra đã lưu, hoặc kiểm tra lại
    /// (signature reports of a document's PDFs; exit 0 only when every PDF is signed and valid).
    Signatures {
        /// Mã văn bản (document id).
        id: String,
        /// Kiểm tra lại ngay (validate again now, e.g. after adding a trust anchor).
        #[arg(long)]
        recheck: bool,
    },
    /// Ký số một tệp PDF của văn bản trong kho: ký trong bộ nhớ, bản đã ký lưu mã hóa cạnh bản
    /// gốc (sign a stored PDF in memory; the signed file is stored encrypted beside the
    /// original, which is kept). Key and options as for `vanthu pdf sign`.
    Sign(Box<pdf::DocSignArgs>),
    /// Chứng thư gốc tin cậy của cơ quan, bên cạnh chứng thư gốc Việt Nam kèm theo
    /// (the agency's own trust anchors for signature checks).
    #[command(subcommand)]
    Trust(TrustCmd),
    /// Thông báo chưa xem: văn bản mới đến, trạng thái từ nơi nhận, yêu cầu thu hồi/cập nhật
    /// (unread notifications; --all for every one).
    Notifications {
        /// Cả thông báo đã xem (include those already seen).
        #[arg(long)]
        all: bool,
        /// Đánh dấu đã xem những thông báo vừa liệt kê (mark the listed ones as seen).
        #[arg(long)]
        mark_read: bool,
        /// Số thông báo tối đa (maximum).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    #[command(flatten)]
    Exchange(axis::Exchange),
}

#[derive(Subcommand)]
enum TrustCmd {
    /// Thêm chứng thư gốc từ tệp PEM hoặc DER (add anchors from PEM or DER files).
    Add {
        /// Tệp chứng thư (certificate files).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Liệt kê (list).
    List,
}

#[derive(Args)]
struct SearchArgs {
    /// Từ khóa; đặt cụm từ trong dấu nháy kép để tìm đúng cụm (words; "quoted phrase").
    query: String,
    /// Số kết quả tối đa (maximum hits).
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Tên loại (type abbreviation, e.g. QĐ).
    #[arg(long = "type")]
    kind: Option<String>,
    /// Năm (year).
    #[arg(long)]
    year: Option<i32>,
    /// Chiều văn bản: incoming (đến) hoặc outgoing (đi).
    #[arg(long)]
    direction: Option<String>,
    /// Mã định danh cơ quan ban hành (issuer's OrganId).
    #[arg(long)]
    from_code: Option<String>,
    /// Sắp xếp: relevance (mức phù hợp) hoặc date (mới nhất trước).
    #[arg(long, default_value = "relevance")]
    sort: String,
}

#[derive(Subcommand)]
enum EdxmlCmd {
    /// Xem nội dung một gói edXML (header, business type, status, attachments, warnings).
    Inspect {
        /// Tệp .edxml.
        file: PathBuf,
    },
    /// Đóng gói văn bản thành edXML (pack PDF files into an edXML envelope).
    Pack(Box<PackArgs>),
}

#[derive(Args)]
struct PackArgs {
    /// Mã định danh cơ quan gửi (sender OrganId).
    #[arg(long)]
    from: String,
    /// Tên cơ quan gửi (sender name; default: the OrganId).
    #[arg(long)]
    from_name: Option<String>,
    /// Mã định danh cơ quan nhận, phân cách bằng dấu phẩy (recipients).
    #[arg(long, value_delimiter = ',', required = true)]
    to: Vec<String>,
    /// Số, ký hiệu (e.g. 12/UBND-VP).
    #[arg(long)]
    notation: String,
    /// Trích yếu (subject).
    #[arg(long)]
    subject: String,
    /// Ngày ban hành (YYYY-MM-DD).
    #[arg(long)]
    date: String,
    /// Tên loại (type name, default Công văn).
    #[arg(long = "type-name")]
    type_name: Option<String>,
    /// Địa danh (place).
    #[arg(long)]
    place: Option<String>,
    /// Tệp đính kèm (files to attach).
    #[arg(required_unless_present = "document")]
    files: Vec<PathBuf>,
    /// Lấy tệp của văn bản này trong kho, mã hóa thẳng từ kho (attach a stored document's files,
    /// streamed from the encrypted store; needs --data and the passphrase).
    #[arg(long, conflicts_with = "files")]
    document: Option<String>,
    /// Tệp edXML đầu ra (output file).
    #[arg(short = 'o', long = "out")]
    out: PathBuf,
}

#[derive(Subcommand)]
enum IncomingCmd {
    /// Vào sổ một văn bản đến (register one incoming document).
    Add(Box<AddArgs>),
    /// Nhận một gói edXML và vào sổ văn bản nó mang (receive an edXML package and register it).
    Receive {
        /// Tệp .edxml.
        file: PathBuf,
    },
    /// Vào sổ hàng loạt từ JSON Lines (bulk registration).
    Import {
        /// Tệp JSON Lines, mỗi dòng một văn bản (one JSON object a line).
        #[arg(long, value_name = "FILE")]
        jsonl: PathBuf,
        /// Số văn bản mỗi giao dịch (records per transaction).
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

#[derive(Args)]
struct AddArgs {
    /// Tệp văn bản (scan, PDF…) — có thể nhiều tệp (files to attach).
    files: Vec<PathBuf>,
    /// Cơ quan ban hành (issuing agency).
    #[arg(long)]
    from: Option<String>,
    /// Mã định danh cơ quan ban hành (issuer's OrganId).
    #[arg(long)]
    from_code: Option<String>,
    /// Số, ký hiệu (e.g. 12/QĐ-UBND).
    #[arg(long)]
    notation: Option<String>,
    /// Văn bản không số (the document has no number).
    #[arg(long)]
    no_number: bool,
    /// Ngày tháng văn bản (YYYY-MM-DD).
    #[arg(long)]
    date: Option<String>,
    /// Ngày đến (arrival; default now).
    #[arg(long)]
    received: Option<String>,
    /// Trích yếu nội dung (subject).
    #[arg(long)]
    subject: Option<String>,
    /// Tên loại: viết tắt (QĐ, TTr…) hoặc tên (type).
    #[arg(long = "type")]
    kind: Option<String>,
    /// Độ mật: thuong, mat, toi-mat, tuyet-mat.
    #[arg(long)]
    secrecy: Option<String>,
    /// Độ khẩn: thuong, khan, thuong-khan, hoa-toc.
    #[arg(long)]
    urgency: Option<String>,
    /// Người ký (signer).
    #[arg(long)]
    signer: Option<String>,
    /// Chức vụ người ký (signer's position).
    #[arg(long)]
    position: Option<String>,
    /// Số trang (pages).
    #[arg(long)]
    pages: Option<u32>,
    /// Hạn giải quyết (deadline, YYYY-MM-DD).
    #[arg(long)]
    deadline: Option<String>,
    /// Ghi chú (note).
    #[arg(long)]
    note: Option<String>,
    /// Kênh tiếp nhận: truc-lien-thong, buu-chinh, truc-tiep, thu-dien-tu, fax.
    #[arg(long)]
    channel: Option<String>,
    /// Vẫn vào sổ dù trùng, với lý do (register a suspected duplicate, with a reason).
    #[arg(long)]
    duplicate_reason: Option<String>,
}

#[derive(Subcommand)]
enum ListCmd {
    /// Sổ đăng ký văn bản đến (incoming register).
    Incoming {
        /// Năm (year).
        #[arg(long)]
        year: Option<i32>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Kiểm tra chuỗi băm nhật ký (verify the hash chain).
    Verify,
}

fn default_data_dir() -> PathBuf {
    dirs::data_local_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("vanthu")
        .join("data")
}

/// Reads the passphrase from VANTHU_PASSPHRASE or a prompt.
fn passphrase(prompt: &str, env: &str) -> Result<Passphrase, AppError> {
    if let Ok(p) = std::env::var(env) {
        return Ok(Passphrase::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(AppError::BadInput(format!(
            "Cần mật khẩu kho: đặt biến {env} hoặc chạy trong cửa sổ lệnh (passphrase needed: set {env} or run interactively)"
        )));
    }
    rpassword::prompt_password(prompt)
        .map(Passphrase::new)
        .map_err(|e| AppError::BadInput(format!("Không đọc được mật khẩu: {e}")))
}

fn new_passphrase(env: &str) -> Result<Passphrase, AppError> {
    if let Ok(p) = std::env::var(env) {
        if p.is_empty() {
            return Err(AppError::BadInput(
                "Mật khẩu không được để trống (empty passphrase)".into(),
            ));
        }
        return Ok(Passphrase::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(AppError::BadInput(format!(
            "Cần mật khẩu mới: đặt biến {env} hoặc chạy trong cửa sổ lệnh (passphrase needed)"
        )));
    }
    let a = rpassword::prompt_password("Mật khẩu mới (new passphrase): ")
        .map_err(|e| AppError::BadInput(e.to_string()))?;
    let b = rpassword::prompt_password("Nhập lại (repeat): ")
        .map_err(|e| AppError::BadInput(e.to_string()))?;
    if a != b {
        return Err(AppError::BadInput(
            "Hai lần nhập không khớp (passphrases differ)".into(),
        ));
    }
    if a.chars().count() < 8 {
        return Err(AppError::BadInput(
            "Mật khẩu cần ít nhất 8 ký tự (at least 8 characters)".into(),
        ));
    }
    Ok(Passphrase::new(a))
}

pub(crate) fn open(dir: &Path) -> Result<App, AppError> {
    // Check for the store before asking for a passphrase.
    if !dir.join(vanthu_store::KeyFile::NAME).exists() {
        return Err(StoreError::NoStore(dir.to_path_buf()).into());
    }
    let pass = passphrase("Mật khẩu kho (passphrase): ", "VANTHU_PASSPHRASE")?;
    let mut app = App::open(dir, &pass)?;
    // PDFs, scans and legacy Office files are read by this same binary's hidden `__extract`
    // subcommand in a separate, bounded process.
    app.set_extract_worker(
        vanthu_app::extraction::WorkerConfig::current_exe().map(|w| w.with_env_overrides()),
    );
    Ok(app)
}

fn search_direction(s: Option<&str>) -> Result<Option<vanthu_search::Direction>, AppError> {
    Ok(match s {
        None => None,
        Some("incoming" | "den" | "đến") => Some(vanthu_search::Direction::Incoming),
        Some("outgoing" | "di" | "đi") => Some(vanthu_search::Direction::Outgoing),
        Some(o) => {
            let msg = format!(
                "--direction {o:?}: cần incoming hoặc outgoing (expected incoming or outgoing)"
            );
            return Err(AppError::BadInput(msg));
        }
    })
}

fn search_sort(s: &str) -> Result<vanthu_search::SortBy, AppError> {
    match s {
        "relevance" => Ok(vanthu_search::SortBy::Relevance),
        "date" => Ok(vanthu_search::SortBy::DateDesc),
        o => {
            let msg = format!("--sort {o:?}: cần relevance hoặc date (expected relevance or date)");
            Err(AppError::BadInput(msg))
        }
    }
}

/// Brings the search index up to date after a registration. Best effort: the documents are
/// registered whatever happens here, and the next search or `vanthu reindex` catches up.
/// Text extraction (OCR above all) can take a while: a progress bar shows it on a terminal.
fn update_index(app: &mut App) {
    let bar = progress_bar(false);
    let r = app.index_pending(&mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    if let Err(e) = r {
        eprintln!(
            "Lưu ý: chưa cập nhật được chỉ mục tìm kiếm ({e}); lần tìm kiếm sau sẽ cập nhật."
        );
    }
}

fn progress_bar(hidden: bool) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if hidden || !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "Đang lập chỉ mục [{bar:30}] {pos}/{len} · {elapsed}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

fn out_json(v: &impl serde::Serialize) {
    let mut so = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut so, v);
    let _ = writeln!(so);
}

fn run(cli: Cli) -> Result<i32, AppError> {
    let data = cli.data.clone().unwrap_or_else(default_data_dir);
    match cli.cmd {
        Cmd::Init {
            agency_name,
            agency_code,
        } => {
            let pass = new_passphrase("VANTHU_PASSPHRASE")?;
            let agency = Agency {
                name: agency_name.trim().to_string(),
                code: agency_code.trim().to_string(),
            };
            if agency.name.is_empty() || agency.code.is_empty() {
                return Err(AppError::BadInput(
                    "Tên và mã cơ quan không được để trống (agency name and code required)".into(),
                ));
            }
            let app = App::init(&data, &pass, &agency, KdfParams::default())?;
            if cli.json {
                out_json(&serde_json::json!({ "data": data, "agency": app.agency()? }));
            } else {
                println!(
                    "Đã tạo kho dữ liệu mã hóa cho {} ({}) tại {}",
                    agency.name,
                    agency.code,
                    data.display()
                );
            }
            Ok(0)
        }
        Cmd::Pdf { cmd } => Ok(pdf::run(cmd, cli.json)),
        Cmd::Demo { reset } => cmd_demo(&data, cli.data.is_some(), reset, cli.json),
        Cmd::Incoming(IncomingCmd::Add(a)) => {
            let a = *a;
            let mut app = open(&data)?;
            let input = IncomingInput {
                so_ky_hieu: a.notation,
                khong_so: a.no_number,
                tac_gia: a.from,
                tac_gia_ma: a.from_code,
                ngay_van_ban: a.date,
                ngay_den: a.received,
                loai: a.kind,
                trich_yeu: a.subject,
                do_mat: a.secrecy,
                do_khan: a.urgency,
                nguoi_ky: a.signer,
                chuc_vu: a.position,
                so_trang: a.pages,
                han_giai_quyet: a.deadline,
                ghi_chu: a.note,
                kenh: a.channel,
                files: a.files,
                duplicate_reason: a.duplicate_reason,
            };
            let reg = app.register_incoming(&input, None)?;
            update_index(&mut app);
            if cli.json {
                out_json(&reg);
            } else {
                print::registered(&reg);
            }
            Ok(0)
        }
        Cmd::Incoming(IncomingCmd::Receive { file }) => {
            let mut app = open(&data)?;
            let r = app.receive_edxml(&file)?;
            update_index(&mut app);
            if cli.json {
                out_json(&r);
            } else {
                print::registered(&r.registered);
                for w in &r.warnings {
                    println!("  Lưu ý gói tin: {w}");
                }
            }
            Ok(0)
        }
        Cmd::Incoming(IncomingCmd::Import { jsonl, batch }) => {
            cmd_import(&data, &jsonl, batch.max(1), cli.json)
        }
        Cmd::List(ListCmd::Incoming { year }) => {
            let app = open(&data)?;
            let rows = app.list_incoming(year)?;
            if cli.json {
                out_json(&rows);
            } else {
                print::register(&app.agency()?, &rows, year);
            }
            Ok(0)
        }
        Cmd::Show { id } => {
            let app = open(&data)?;
            let v = app.show(&id)?;
            if cli.json {
                out_json(&v);
            } else {
                print::document(&v);
            }
            Ok(0)
        }
        Cmd::Export {
            id,
            out,
            file,
            searchable: true,
        } => {
            let mut app = open(&data)?;
            let (f, dest) = app.export_searchable(&id, file.as_deref(), &out)?;
            if cli.json {
                out_json(&serde_json::json!({ "file": f, "out": dest, "searchable": true }));
            } else {
                println!(
                    "Đã xuất {} thành PDF tìm kiếm được (searchable PDF) ra {}",
                    f.name,
                    dest.display()
                );
            }
            Ok(0)
        }
        Cmd::Export { id, out, file, .. } => {
            let mut app = open(&data)?;
            let (f, dest) = app.export(&id, file.as_deref(), &out)?;
            if cli.json {
                out_json(&serde_json::json!({ "file": f, "out": dest }));
            } else {
                println!(
                    "Đã xuất {} ({} byte, SHA-256 {}) ra {}",
                    f.name,
                    f.size,
                    f.sha256,
                    dest.display()
                );
            }
            Ok(0)
        }
        Cmd::Sign(a) => {
            let mut app = open(&data)?;
            pdf::sign_stored(&mut app, &a, cli.json)
        }
        Cmd::Signatures { id, recheck } => {
            let mut app = open(&data)?;
            app.show(&id)?;
            let checks = if recheck || app.signature_checks(&id)?.is_empty() {
                app.check_signatures(&id)?
            } else {
                app.signature_checks(&id)?
            };
            if cli.json {
                out_json(&checks);
            } else {
                print::signature_checks(&checks);
            }
            let all = !checks.is_empty() && checks.iter().all(|c| c.all_valid != 0);
            Ok(if all { 0 } else { pdf::EXIT_SIGNATURE_INVALID })
        }
        Cmd::Trust(TrustCmd::Add { files }) => {
            let mut app = open(&data)?;
            let mut added = Vec::new();
            for f in &files {
                let bytes = std::fs::read(f).map_err(|e| AppError::File {
                    path: f.clone(),
                    source: e,
                })?;
                added.extend(app.trust_add(&bytes)?);
            }
            if cli.json {
                out_json(&added);
            } else if added.is_empty() {
                println!("Các chứng thư này đã có trong danh sách tin cậy (already trusted).");
            } else {
                for a in &added {
                    println!(
                        "Đã thêm chứng thư tin cậy: {} (SHA-256 {})",
                        a.subject, a.sha256
                    );
                }
            }
            Ok(0)
        }
        Cmd::Notifications {
            all,
            mark_read,
            limit,
        } => {
            let mut app = open(&data)?;
            let list = app.notifications(all, limit)?;
            if mark_read && !list.is_empty() {
                let ids: Vec<String> = list.iter().map(|n| n.id.clone()).collect();
                app.mark_notifications_read(Some(&ids))?;
            }
            if cli.json {
                out_json(&list);
            } else if list.is_empty() {
                println!("Không có thông báo mới (no new notifications).");
            } else {
                for n in &list {
                    let seen = if n.read_at.is_some() {
                        "  (đã xem)"
                    } else {
                        ""
                    };
                    println!(
                        "{}  {}{seen}",
                        n.created_at
                            .get(..16)
                            .unwrap_or(&n.created_at)
                            .replace('T', " "),
                        n.title
                    );
                    println!("      {}", n.body);
                    if let Some(d) = &n.document_id {
                        println!("      mã văn bản: {d}");
                    }
                }
            }
            Ok(0)
        }
        Cmd::Trust(TrustCmd::List) => {
            let app = open(&data)?;
            let list = app.trust_list()?;
            if cli.json {
                out_json(&list);
            } else if list.is_empty() {
                println!("Chưa thêm chứng thư gốc riêng; chỉ dùng chứng thư gốc Việt Nam kèm theo (no agency anchors yet).");
            } else {
                for a in &list {
                    println!(
                        "{}  {}  (thêm bởi {} lúc {})",
                        a.sha256, a.subject, a.added_by, a.added_at
                    );
                }
            }
            Ok(0)
        }
        Cmd::Audit(AuditCmd::Verify) => {
            let app = open(&data)?;
            let r = app.verify_audit()?;
            if cli.json {
                out_json(&serde_json::json!({ "ok": r.ok(), "report": r }));
            } else {
                print::audit(&r);
            }
            Ok(if r.ok() { 0 } else { 8 })
        }
        Cmd::Passwd => {
            if !data.join(vanthu_store::KeyFile::NAME).exists() {
                return Err(StoreError::NoStore(data).into());
            }
            let old = passphrase(
                "Mật khẩu hiện tại (current passphrase): ",
                "VANTHU_PASSPHRASE",
            )?;
            let new = new_passphrase("VANTHU_NEW_PASSPHRASE")?;
            vanthu_store::Store::change_passphrase(&data, &old, &new, KdfParams::default())?;
            let mut app = App::open(&data, &new)?;
            app.store_mut().write("van-thu", |tx| {
                tx.audit("store.passphrase_change", "store", serde_json::json!({}))
            })?;
            println!(
                "Đã đổi mật khẩu kho (passphrase changed); tệp dữ liệu không phải mã hóa lại."
            );
            Ok(0)
        }
        Cmd::Search(a) => {
            let mut app = open(&data)?;
            let mut q = vanthu_search::SearchQuery::text(a.query.clone());
            q.limit = a.limit.clamp(1, 1000);
            q.doc_type = a.kind;
            q.year = a.year;
            q.issuer_code = a.from_code;
            q.direction = search_direction(a.direction.as_deref())?;
            q.sort = search_sort(&a.sort)?;
            let hits = app.search(&q)?;
            if cli.json {
                out_json(&hits);
            } else {
                print::hits(&a.query, &hits);
            }
            Ok(0)
        }
        Cmd::Text { id, file } => {
            let mut app = open(&data)?;
            let mut texts = app.file_texts(&id)?;
            if let Some(w) = file.as_deref() {
                let pick = app.pick_file(&id, Some(w))?;
                texts.retain(|t| t.file.id == pick.id);
            }
            if cli.json {
                out_json(&texts);
            } else {
                print::file_texts(&texts);
            }
            Ok(0)
        }
        Cmd::Reindex { extract } => {
            let mut app = open(&data)?;
            let bar = progress_bar(cli.json);
            let n = app.reindex(extract, &mut |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })?;
            bar.finish_and_clear();
            if cli.json {
                out_json(&serde_json::json!({ "indexed": n }));
            } else {
                println!("Đã dựng lại chỉ mục tìm kiếm: {n} văn bản (search index rebuilt).");
            }
            Ok(0)
        }
        Cmd::Exchange(c) => axis::run(c, &data, cli.json),
        Cmd::Edxml(EdxmlCmd::Inspect { file }) => edxml::inspect(&file, cli.json),
        Cmd::Edxml(EdxmlCmd::Pack(a)) => {
            let app = match &a.document {
                Some(_) => Some(open(&data)?),
                None => None,
            };
            edxml::pack(&a, app.as_ref(), cli.json)
        }
        Cmd::Gc => {
            let app = open(&data)?;
            let n = app
                .store()
                .collect_garbage(std::time::Duration::from_secs(600))?;
            println!("Đã dọn {n} tệp mồ côi (orphan files removed).");
            Ok(0)
        }
    }
}

fn cmd_demo(data: &Path, explicit: bool, reset: bool, json: bool) -> Result<i32, AppError> {
    // Without --data the demo lives in its own folder, never in the real store's.
    let dir = if explicit {
        data.to_path_buf()
    } else {
        data.parent().unwrap_or(data).join("demo")
    };
    let pass = Passphrase::new(
        std::env::var("VANTHU_PASSPHRASE").unwrap_or_else(|_| demo::DEMO_PASSPHRASE.to_string()),
    );
    if reset && dir.join(vanthu_store::KeyFile::NAME).exists() {
        // Only ever removes a folder that holds a vanthu store.
        std::fs::remove_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        vanthu_app::demo_exchange::reset(&dir)?;
    }
    let mut story = None;
    let (app, fresh) = if dir.join(vanthu_store::KeyFile::NAME).exists() {
        (App::open(&dir, &pass)?, false)
    } else {
        let mut app = App::init(&dir, &pass, &demo::demo_agency(), KdfParams::default())?;
        app.set_extract_worker(
            vanthu_app::extraction::WorkerConfig::current_exe().map(|w| w.with_env_overrides()),
        );
        demo::seed(&mut app)?;
        // a partner agency exchanges documents with the demo agency over a local axis server
        match vanthu_app::demo_exchange::run(&mut app, &dir, &pass) {
            Ok(s) => story = s,
            Err(e) => {
                tracing::warn!("demo exchange over the local axis failed: {e}");
                eprintln!(
                    "Không chạy được phần trình diễn liên thông (demo exchange skipped): {e}"
                );
            }
        }
        // extracts the text of every file, OCR of the scanned letter included
        update_index(&mut app);
        (app, true)
    };
    let rows = app.list_incoming(None)?;
    if json {
        out_json(&serde_json::json!({
            "data": dir,
            "fresh": fresh,
            "incoming": rows,
            "exchange": story.as_ref().map(|s| serde_json::json!({
                "dir": s.dir,
                "endpoint": s.endpoint,
                "lines": s.lines,
            })),
        }));
        return Ok(0);
    }
    print::register(&app.agency()?, &rows, None);
    println!();
    if let Some(s) = &story {
        println!("Liên thông qua trục (exchange over the axis):");
        for l in &s.lines {
            println!("{l}");
        }
        println!("  Chạy lại máy chủ trục để tiếp tục (run the local axis server again to go on):");
        println!(
            "    vanthu axis serve --listen {} --dir {} &",
            s.endpoint.trim_start_matches("http://"),
            s.dir.join("truc").display()
        );
        println!("    vanthu sync --once && vanthu axis outbox && vanthu status <ID>");
        println!();
    }
    println!("Kho trình diễn (demo store): {}", dir.display());
    println!("Mật khẩu (passphrase): {}", demo::DEMO_PASSPHRASE);
    println!("Thử (try):");
    let d = dir.display();
    println!(
        "  export VANTHU_DATA={d} VANTHU_PASSPHRASE={}",
        demo::DEMO_PASSPHRASE
    );
    println!("  vanthu incoming add scan.pdf --from \"Bộ Nội vụ\" --notation 12/QĐ-BNV --date 2026-11-20 --subject \"Về việc …\" --type QĐ");
    println!("  vanthu list incoming --json");
    println!("  vanthu search \"san xuat nong nghiep\"   # chữ chỉ có trong thư quét (words only in the scanned letter)");
    println!(
        "  vanthu text <ID>                      # chữ nhận dạng từ bản quét (the OCR'd text)"
    );
    println!("  vanthu show <ID>");
    println!("  vanthu export <ID> ./ra-ngoai.txt");
    println!("  vanthu notifications                 # văn bản mới đến, trạng thái, yêu cầu (what arrived)");
    println!("  vanthu signatures <ID>               # kiểm tra chữ ký số các tệp PDF (signature report)");
    println!("  vanthu audit verify");
    Ok(0)
}

fn cmd_import(data: &Path, jsonl: &Path, batch: usize, json: bool) -> Result<i32, AppError> {
    let f = std::fs::File::open(jsonl).map_err(|e| AppError::File {
        path: jsonl.to_path_buf(),
        source: e,
    })?;
    let total_bytes = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut app = open(data)?;
    let base = jsonl
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let bar = indicatif::ProgressBar::new(total_bytes);
    if json || !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} Đang vào sổ [{bar:30}] {percent}% · {msg} · {elapsed}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let mut reader = BufReader::new(f);
    let mut line_no = 0usize;
    let mut read_bytes = 0u64;
    let (mut ok, mut failed) = (0usize, 0usize);
    let mut pending: Vec<(usize, IncomingInput)> = Vec::with_capacity(batch);
    let mut stdout = std::io::stdout().lock();
    let report_fail = |line: usize, e: &AppError, stdout: &mut std::io::StdoutLock<'_>| {
        if json {
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::json!({ "line": line, "ok": false, "code": e.code(), "error": e.to_string() })
            );
        }
        bar.suspend(|| eprintln!("Dòng {line}: {e}"));
    };
    let mut buf = String::new();
    loop {
        buf.clear();
        let n = reader.read_line(&mut buf).map_err(|e| AppError::File {
            path: jsonl.to_path_buf(),
            source: e,
        })?;
        let eof = n == 0;
        if !eof {
            line_no += 1;
            read_bytes += n as u64;
            let text = buf.trim();
            if !text.is_empty() {
                match serde_json::from_str::<IncomingInput>(text) {
                    Ok(input) => pending.push((line_no, input)),
                    Err(e) => {
                        failed += 1;
                        let err =
                            AppError::BadInput(format!("JSON không hợp lệ: {e} (invalid JSON)"));
                        report_fail(line_no, &err, &mut stdout);
                    }
                }
            }
        }
        if pending.len() >= batch || (eof && !pending.is_empty()) {
            let items = std::mem::take(&mut pending);
            // Acknowledged only after the batch's transaction has committed.
            let outcomes = app.register_batch(&items, Some(&base))?;
            for o in outcomes {
                match o.result {
                    Ok(r) => {
                        ok += 1;
                        if json {
                            let _ = writeln!(
                                stdout,
                                "{}",
                                serde_json::json!({ "line": o.line, "ok": true, "id": r.id, "so_den": r.so_den, "year": r.year, "register": r.register })
                            );
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        report_fail(o.line, &e, &mut stdout);
                    }
                }
            }
            let _ = stdout.flush();
            bar.set_position(read_bytes);
            bar.set_message(format!("{ok} đã vào sổ, {failed} lỗi"));
        }
        if eof {
            break;
        }
    }
    bar.finish_and_clear();
    update_index(&mut app);
    if json {
        let _ = writeln!(
            stdout,
            "{}",
            serde_json::json!({ "summary": { "registered": ok, "failed": failed, "lines": line_no } })
        );
    } else {
        println!("Đã vào sổ {ok} văn bản; {failed} dòng lỗi bị bỏ qua (registered {ok}, skipped {failed}).");
    }
    Ok(if failed == 0 { 0 } else { 3 })
}

fn main() -> ExitCode {
    // The isolated text-extraction worker (see `vanthu_app::extraction`): no CLI, no store.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__extract") {
        let code = vanthu_app::extraction::worker_main(&args[2..]);
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VANTHU_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("Lỗi: {e}");
            if let AppError::Invalid(v) = &e {
                for fe in &v.0 {
                    eprintln!("  - {}: {} ({})", fe.field, fe.message_vi, fe.message_en);
                }
            }
            if json {
                out_json(
                    &serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } }),
                );
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
