//! `vanthu axis …`, `vanthu send`, `vanthu sync`, `vanthu status`: exchange over the national
//! axis. Thin: each command is a use case of `vanthu_app::axis`, or the local axis server of
//! `vanthu_axis::server`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use vanthu_app::axis::{AxisSettings, OutgoingInput, SyncReport};
use vanthu_app::AppError;
use vanthu_axis::server::{self, AgencyAccount, ServerConfig};

use crate::{open, out_json};

/// Exit code: the exchange failed this time and will be retried by the next sync.
pub const EXIT_RETRY: i32 = 10;

/// Top-level exchange commands (flattened into `vanthu`'s commands).
#[derive(Subcommand)]
pub enum Exchange {
    /// Trục liên thông văn bản quốc gia: cấu hình, máy chủ cục bộ, văn bản đi, trạng thái
    /// (national document-exchange axis).
    #[command(subcommand)]
    Axis(AxisCmd),
    /// Gửi văn bản đi qua trục liên thông (queue an outgoing document for sending).
    Send {
        /// Mã văn bản đi (outgoing document id, from `vanthu axis new`).
        id: String,
        /// Mã định danh nơi nhận, phân cách bằng dấu phẩy (recipient OrganIds).
        #[arg(long, value_delimiter = ',', required = true)]
        to: Vec<String>,
    },
    /// Đồng bộ với trục: gửi, nhận và vào sổ, báo trạng thái (sync with the axis).
    Sync {
        /// Chạy một lượt rồi thoát (one pass, then exit; exit code 10 if something will be retried).
        #[arg(long)]
        once: bool,
        /// Giây giữa hai lượt (seconds between passes, with jitter).
        #[arg(long, default_value_t = 300)]
        interval: u64,
    },
    /// Trạng thái xử lý văn bản đã gửi, theo từng nơi nhận (status history from each recipient).
    Status {
        /// Mã văn bản đi (outgoing document id).
        id: String,
    },
}

/// `vanthu axis …`.
#[derive(Subcommand)]
pub enum AxisCmd {
    /// Chạy máy chủ trục cục bộ (run a local axis server on a loopback port).
    Serve {
        /// Địa chỉ nghe (loopback only; port 0 picks one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Thư mục dữ liệu của máy chủ trục (server data folder).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Tệp JSON: danh sách đơn vị [{code, name, system_id, secret}] (agencies to register).
        #[arg(long, value_name = "FILE")]
        agencies: Option<PathBuf>,
        /// Chứng thư TLS của máy chủ, PEM (serve https with this certificate chain).
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// Khóa riêng TLS, PEM PKCS#8 (the certificate's private key).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Biến môi trường chứa mã quản trị: các lệnh /admin phải gửi kèm trong tiêu đề
        /// X-Vanthu-Admin (env var holding a token required by the /admin routes).
        #[arg(long, value_name = "VAR")]
        admin_token_env: Option<String>,
    },
    /// Cấu hình tài khoản trục (configure the axis account; the secret is stored encrypted).
    Config(Box<ConfigArgs>),
    /// Soạn văn bản đi để gửi qua trục (prepare an outgoing document).
    New(Box<NewArgs>),
    /// Báo trạng thái xử lý văn bản đến cho nơi gửi: 02 từ chối, 03 tiếp nhận, 04 phân công,
    /// 05 đang xử lý, 06 hoàn thành (report progress on a received document).
    Report {
        /// Mã văn bản đến (incoming document id).
        id: String,
        /// Mã trạng thái (02, 03, 04, 05, 06).
        #[arg(long)]
        status: String,
        /// Lý do / ghi chú (reason; required for 02).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Yêu cầu thu hồi, cập nhật, thay thế đang chờ (pending revoke/update/replace requests).
    Requests,
    /// Đồng ý (15) hoặc từ chối (16) một yêu cầu (decide a request).
    Decide {
        /// Mã yêu cầu (request id).
        id: String,
        /// Đồng ý (accept, sends 15).
        #[arg(long, conflicts_with = "refuse", required_unless_present = "refuse")]
        accept: bool,
        /// Từ chối (refuse, sends 16).
        #[arg(long)]
        refuse: bool,
        /// Lý do (reason).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Thu hồi văn bản đã gửi (revoke a sent document; recipients answer 15/16).
    Revoke {
        /// Mã văn bản đi (outgoing document id).
        id: String,
        /// Lý do thu hồi (reason).
        #[arg(long)]
        reason: String,
        /// Gửi kèm (add) hoặc chỉ gửi (only) trạng thái 13 "yêu cầu lấy lại", theo phần mềm
        /// của nơi nhận (also or only send status 13, as the recipients' software expects).
        #[arg(long, value_name = "add|only")]
        status_13: Option<String>,
    },
    /// Cập nhật văn bản đã gửi: sửa trích yếu, độ khẩn, người ký và/hoặc thêm tệp (update a sent
    /// document: new description and/or added files; the recipient's register follows on 15).
    Update {
        /// Mã văn bản đi (outgoing document id).
        id: String,
        /// Lý do cập nhật (reason).
        #[arg(long)]
        reason: String,
        /// Trích yếu mới (new subject).
        #[arg(long)]
        subject: Option<String>,
        /// Độ khẩn mới: thuong, khan, thuong-khan, hoa-toc (new urgency).
        #[arg(long)]
        urgency: Option<String>,
        /// Người ký mới (new signer).
        #[arg(long)]
        signer: Option<String>,
        /// Chức vụ người ký mới (new position).
        #[arg(long)]
        position: Option<String>,
        /// Tệp bổ sung (files to add).
        files: Vec<PathBuf>,
    },
    /// Hàng đợi gửi (the outbox).
    Outbox,
    /// Gói tin đã nhận và kết quả, kể cả gói bị cách ly (received packages, quarantined included).
    Inbox,
    /// Danh bạ đơn vị trên trục (the axis agency directory).
    Agencies,
}

/// `vanthu axis config`.
#[derive(Args)]
pub struct ConfigArgs {
    /// Địa chỉ trục (endpoint URL).
    #[arg(long)]
    endpoint: String,
    /// Mã định danh cơ quan mình (own OrganId).
    #[arg(long)]
    agency: String,
    /// systemid của đơn vị trên trục (adapter/centre id).
    #[arg(long)]
    system_id: String,
    /// Biến môi trường chứa khóa bí mật HMAC (env var holding the secret; never on the command line).
    #[arg(long, default_value = "VANTHU_AXIS_SECRET")]
    secret_env: String,
    /// hash-file dạng hex đủ 2 chữ số (padded hex hash-file).
    #[arg(long)]
    hash_padded: bool,
    /// Chứng thư CA tin cậy thêm cho https, PEM (extra trusted CA for an https endpoint).
    #[arg(long, value_name = "PEM")]
    tls_ca: Option<PathBuf>,
    /// Thời gian chờ thử lại đầu tiên, ms (first retry delay).
    #[arg(long, default_value_t = 30_000)]
    retry_base_ms: i64,
    /// Thời gian chờ thử lại tối đa, ms (longest retry delay).
    #[arg(long, default_value_t = 1_800_000)]
    retry_cap_ms: i64,
    /// Số lần gửi trước khi báo lỗi (send attempts before failing).
    #[arg(long, default_value_t = 10)]
    send_attempts: i64,
}

/// `vanthu axis new`.
#[derive(Args)]
pub struct NewArgs {
    /// Số, ký hiệu (12/UBND-VP).
    #[arg(long)]
    notation: String,
    /// Trích yếu (subject).
    #[arg(long)]
    subject: String,
    /// Ngày văn bản YYYY-MM-DD (default today).
    #[arg(long)]
    date: Option<String>,
    /// Tên loại (type name).
    #[arg(long = "type-name")]
    type_name: Option<String>,
    /// Độ mật: thuong, mat, toi-mat, tuyet-mat.
    #[arg(long)]
    secrecy: Option<String>,
    /// Độ khẩn: thuong, khan, thuong-khan, hoa-toc.
    #[arg(long)]
    urgency: Option<String>,
    /// Người ký (signer).
    #[arg(long)]
    signer: Option<String>,
    /// Chức vụ (position).
    #[arg(long)]
    position: Option<String>,
    /// Tệp đính kèm (files).
    files: Vec<PathBuf>,
}

/// Runs an exchange command.
pub fn run(cmd: Exchange, data: &Path, json: bool) -> Result<i32, AppError> {
    match cmd {
        Exchange::Axis(AxisCmd::Serve {
            listen,
            dir,
            agencies,
            tls_cert,
            tls_key,
            admin_token_env,
        }) => {
            let admin_token = match admin_token_env {
                Some(var) => Some(std::env::var(&var).ok().filter(|t| !t.is_empty()).ok_or_else(
                    || {
                        AppError::BadInput(format!(
                            "Biến môi trường {var} chưa có mã quản trị (admin token variable is empty)"
                        ))
                    },
                )?),
                None => None,
            };
            let tls = match (tls_cert, tls_key) {
                (Some(c), Some(k)) => Some(
                    server::TlsIdentity::from_files(&c, &k)
                        .map_err(|e| AppError::BadInput(e.to_string()))?,
                ),
                _ => None,
            };
            serve(listen, dir, agencies.as_deref(), tls, admin_token, json)
        }
        Exchange::Axis(AxisCmd::Config(a)) => {
            let secret = std::env::var(&a.secret_env)
                .ok()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    AppError::BadInput(format!(
                    "Đặt khóa bí mật của trục vào biến môi trường {} (put the axis secret in {})",
                    a.secret_env, a.secret_env
                ))
                })?;
            let mut app = open(data)?;
            let mut s = AxisSettings::new(&a.endpoint, &a.agency, &a.system_id, &secret);
            s.hash_padded = a.hash_padded as i64;
            s.retry_base_ms = a.retry_base_ms.max(1);
            s.retry_cap_ms = a.retry_cap_ms.max(s.retry_base_ms);
            s.send_attempts = a.send_attempts.max(1);
            if let Some(p) = &a.tls_ca {
                let pem = std::fs::read_to_string(p).map_err(|e| AppError::File {
                    path: p.clone(),
                    source: e,
                })?;
                s.tls_ca_pem = Some(pem);
            }
            app.axis_configure(&s)?;
            if json {
                out_json(
                    &serde_json::json!({"endpoint": s.endpoint, "agency": s.organ_id, "system_id": s.system_id}),
                );
            } else {
                println!(
                    "Đã lưu cấu hình trục liên thông: {} tại {} (khóa bí mật lưu trong kho mã hóa).",
                    s.organ_id, s.endpoint
                );
            }
            Ok(0)
        }
        Exchange::Axis(AxisCmd::New(a)) => {
            let mut app = open(data)?;
            let row = app.create_outgoing(&OutgoingInput {
                so_ky_hieu: a.notation,
                ngay_van_ban: a.date,
                loai: a.type_name,
                trich_yeu: a.subject,
                do_mat: a.secrecy,
                do_khan: a.urgency,
                nguoi_ky: a.signer,
                chuc_vu: a.position,
                files: a.files,
            })?;
            if json {
                out_json(&row);
            } else {
                println!(
                    "Đã soạn văn bản đi {} ({}): mã {}",
                    row.document_id, row.trich_yeu, row.id
                );
            }
            Ok(0)
        }
        Exchange::Axis(AxisCmd::Report { id, status, reason }) => {
            let mut app = open(data)?;
            let row = app.axis_report(&id, &status, reason.as_deref())?;
            if json {
                out_json(&row);
            } else {
                println!(
                    "Đã xếp hàng báo trạng thái {} cho văn bản {id}; gửi ở lần đồng bộ tới.",
                    row.status_code.unwrap_or_default()
                );
            }
            Ok(0)
        }
        Exchange::Axis(AxisCmd::Requests) => {
            let app = open(data)?;
            let reqs = app.axis_requests()?;
            if json {
                out_json(&reqs);
            } else if reqs.is_empty() {
                println!("Không có yêu cầu nào (no requests).");
            } else {
                for r in reqs {
                    println!(
                        "{}  {}  {}  từ {}  [{}]  {}",
                        r.id,
                        r.kind,
                        r.target_document_id,
                        r.sender,
                        r.state,
                        r.reason.unwrap_or_default()
                    );
                }
            }
            Ok(0)
        }
        Exchange::Axis(AxisCmd::Decide {
            id,
            accept,
            refuse: _,
            reason,
        }) => {
            let mut app = open(data)?;
            let row = app.axis_decide(&id, accept, reason.as_deref())?;
            if json {
                out_json(&row);
            } else {
                println!(
                    "Đã {} yêu cầu {id}; trạng thái {} gửi ở lần đồng bộ tới.",
                    if accept { "đồng ý" } else { "từ chối" },
                    row.status_code.unwrap_or_default()
                );
            }
            Ok(0)
        }
        Exchange::Axis(AxisCmd::Revoke {
            id,
            reason,
            status_13,
        }) => {
            use vanthu_app::axis::TakeBackVia;
            let via = match status_13.as_deref() {
                None => TakeBackVia::Revoke,
                Some("add") => TakeBackVia::RevokeAnd13,
                Some("only") => TakeBackVia::Status13,
                Some(o) => {
                    return Err(AppError::BadInput(format!(
                        "--status-13 nhận add hoặc only, không phải {o} (expected add or only)"
                    )))
                }
            };
            let mut app = open(data)?;
            let rows = app.take_back_outgoing(&id, &reason, via)?;
            if json && rows.len() > 1 {
                out_json(&rows);
                return Ok(0);
            }
            for row in rows {
                let what = if row.status_code.as_deref() == Some("13") {
                    "yêu cầu lấy lại (13)"
                } else {
                    "thu hồi"
                };
                queued(&row, json, what);
            }
            Ok(0)
        }
        Exchange::Axis(AxisCmd::Update {
            id,
            reason,
            subject,
            urgency,
            signer,
            position,
            files,
        }) => {
            let mut app = open(data)?;
            app.amend_outgoing(
                &id,
                &vanthu_app::axis::OutgoingEdit {
                    trich_yeu: subject,
                    do_khan: urgency,
                    nguoi_ky: signer,
                    chuc_vu: position,
                },
            )?;
            let row = app.update_outgoing(&id, &reason, &files)?;
            queued(&row, json, "cập nhật");
            Ok(0)
        }
        Exchange::Axis(AxisCmd::Outbox) => {
            let app = open(data)?;
            let rows = app.outbox()?;
            if json {
                out_json(&rows);
            } else {
                for r in rows {
                    println!(
                        "{}  {} {}  → {}  [{}] lần {}{}",
                        r.id,
                        r.message_type,
                        r.status_code.unwrap_or_default(),
                        r.recipients,
                        r.state,
                        r.attempts,
                        r.last_error
                            .map(|e| format!("  lỗi: {e}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(0)
        }
        Exchange::Axis(AxisCmd::Inbox) => {
            let app = open(data)?;
            let rows = app.inbox()?;
            if json {
                out_json(&rows);
            } else {
                for r in rows {
                    println!(
                        "{}  {} từ {}  [{}{}]  {}",
                        r.received_at,
                        r.message_type,
                        r.from_organ,
                        r.outcome,
                        if r.acked == 1 {
                            ", đã báo nhận"
                        } else {
                            ", chưa báo nhận"
                        },
                        r.detail.unwrap_or_default()
                    );
                }
            }
            Ok(0)
        }
        Exchange::Axis(AxisCmd::Agencies) => {
            let mut app = open(data)?;
            let c = app.axis_client()?;
            match app.refresh_directory(&c) {
                Ok(_) => {}
                Err(vanthu_app::axis::DirError::App(e)) => return Err(e),
                Err(vanthu_app::axis::DirError::Axis(e)) => {
                    eprintln!("Không cập nhật được danh bạ ({e}); dùng bản đã lưu.");
                }
            }
            let list = app.directory()?;
            if json {
                out_json(&list);
            } else {
                for a in list {
                    println!("{}  {}", a.code, a.name);
                }
            }
            Ok(0)
        }
        Exchange::Send { id, to } => {
            let mut app = open(data)?;
            let row = app.send_outgoing(&id, &to)?;
            if json {
                out_json(&row);
            } else {
                println!(
                    "Đã xếp hàng gửi văn bản {id} tới {}; gửi ở lần đồng bộ tới (`vanthu sync`).",
                    to.join(", ")
                );
            }
            Ok(0)
        }
        Exchange::Sync { once, interval } => {
            let mut app = open(data)?;
            let client = app.axis_client()?;
            loop {
                let report = app.sync_once(&client)?;
                print_report(&report, json);
                if once {
                    return Ok(if report.has_retryable_failures() {
                        EXIT_RETRY
                    } else if !report.failed.is_empty() {
                        1
                    } else {
                        0
                    });
                }
                let jitter = rand_jitter(interval);
                std::thread::sleep(Duration::from_secs(interval) + jitter);
            }
        }
        Exchange::Status { id } => {
            let app = open(data)?;
            let h = app.exchange_status(&id)?;
            if json {
                out_json(&h);
            } else {
                println!("Văn bản {} ({})", h.document_id, h.id);
                for r in &h.recipients {
                    let axis = match (&r.axis_receive_status, &r.axis_received_time) {
                        (Some(st), Some(t)) => format!(", trên trục: {st} lúc {t}"),
                        (Some(st), None) => format!(", trên trục: {st}"),
                        _ => String::new(),
                    };
                    println!("  Nơi nhận {} — gửi: {}{axis}", r.organ_id, r.delivery);
                    for s in &r.statuses {
                        println!(
                            "    {} {}  {}{}",
                            s.code,
                            s.label,
                            s.timestamp,
                            s.description
                                .as_deref()
                                .filter(|d| *d != s.label)
                                .map(|d| format!("  ({d})"))
                                .unwrap_or_default()
                        );
                    }
                }
            }
            Ok(0)
        }
    }
}

fn queued(row: &vanthu_app::axis::OutboxRow, json: bool, what: &str) {
    if json {
        out_json(row);
    } else {
        println!(
            "Đã xếp hàng gói {what} văn bản {} tới {}; gửi ở lần đồng bộ tới.",
            row.ref_id, row.recipients
        );
    }
}

fn rand_jitter(interval: u64) -> Duration {
    let max_ms = (interval * 1000 / 10).max(1);
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    Duration::from_millis(n % max_ms)
}

fn print_report(r: &SyncReport, json: bool) {
    if json {
        out_json(r);
        return;
    }
    let mut so = std::io::stdout().lock();
    for a in &r.received {
        let _ = writeln!(
            so,
            "Nhận  {} từ {}: {} — {}",
            a.axis_doc_id, a.from, a.outcome, a.detail
        );
    }
    for s in &r.sent {
        let what = match &s.status_code {
            Some(c) => format!("trạng thái {c}"),
            None => "văn bản".to_string(),
        };
        let _ = writeln!(
            so,
            "Gửi   {what} {} → {} (DocId {})",
            s.ref_id,
            s.to.join(", "),
            s.axis_doc_id
        );
    }
    for f in &r.failed {
        let _ = writeln!(
            so,
            "Lỗi   {}: {}{}",
            f.what,
            f.error,
            if f.will_retry {
                " — sẽ thử lại"
            } else {
                " — không thử lại"
            }
        );
    }
    for w in &r.warnings {
        let _ = writeln!(so, "Lưu ý {w}");
    }
    let _ = writeln!(
        so,
        "Đồng bộ xong: nhận {}, gửi {}, lỗi {}.",
        r.received.len(),
        r.sent.len(),
        r.failed.len()
    );
}

fn serve(
    listen: std::net::SocketAddr,
    dir: PathBuf,
    agencies: Option<&Path>,
    tls: Option<server::TlsIdentity>,
    admin_token: Option<String>,
    json: bool,
) -> Result<i32, AppError> {
    let mut list: Vec<AgencyAccount> = Vec::new();
    if let Some(p) = agencies {
        let bytes = std::fs::read(p).map_err(|e| AppError::File {
            path: p.to_path_buf(),
            source: e,
        })?;
        list = serde_json::from_slice(&bytes).map_err(|e| {
            AppError::BadInput(format!(
                "Tệp đơn vị {} không hợp lệ: {e} (bad agencies file)",
                p.display()
            ))
        })?;
    }
    let cfg = ServerConfig {
        listen,
        data_dir: dir,
        agencies: list,
        tls,
        admin_token,
    };
    server::run(cfg, |endpoint| {
        let mut so = std::io::stdout().lock();
        if json {
            let _ = writeln!(so, "{}", serde_json::json!({ "endpoint": endpoint }));
        } else {
            let _ = writeln!(so, "Máy chủ trục cục bộ đang nghe tại {endpoint}");
        }
        let _ = so.flush();
    })
    .map_err(|e| AppError::BadInput(e.to_string()))?;
    Ok(0)
}
