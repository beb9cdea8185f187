//! The demo's exchange over the axis: when `vanthu demo` creates its store, a local axis server
//! (the real protocol: signed headers, HMAC, durable queues) is started on loopback and a
//! partner agency with its own encrypted store exchanges documents with the demo agency both
//! ways, so a newcomer sees an envelope arrive, get a *số đến* and its statuses travel back.
//! The server and the partner live beside the demo store (`…/demo-lien-thong`); the printed
//! commands start the server again to go on by hand, and the desktop window starts it again
//! by itself ([`resume`]) and has the partner send an invitation, so the newcomer watches a
//! document arrive and be announced.

use std::path::{Path, PathBuf};

use crate::axis::{AxisSettings, OutgoingInput, SyncReport};
use crate::{App, AppError};
use vanthu_axis::server::{self, AgencyAccount, RunningServer, ServerConfig};
use vanthu_store::{Agency, KdfParams, Passphrase, StoreError};

/// The partner agency of the demo.
pub const PARTNER_CODE: &str = "000.00.31.H29";
const PARTNER_NAME: &str = "Ủy ban nhân dân huyện Lạc Sơn";
const DEMO_SYSTEM: &str = "00.01.W00";
const PARTNER_SYSTEM: &str = "00.31.W00";
/// Secrets of the demo's test accounts on the local server (not real axis credentials).
const DEMO_SECRET: &str = "bi-mat-trinh-dien-so-noi-vu";
const PARTNER_SECRET: &str = "bi-mat-trinh-dien-lac-son";
/// Marks a folder created by this module, the only kind it ever removes.
const MARKER: &str = "vanthu-demo-lien-thong.txt";
/// Preferred loopback port (any free one when taken).
const DEMO_PORT: u16 = 8700;

/// What happened, for the demo's printout.
pub struct Story {
    /// Folder of the server and the partner store.
    pub dir: PathBuf,
    /// The server's address while the demo ran.
    pub endpoint: String,
    /// One line per step.
    pub lines: Vec<String>,
}

/// The folder beside the demo store.
pub fn folder(demo_dir: &Path) -> PathBuf {
    let name = demo_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "demo".into());
    demo_dir.with_file_name(format!("{name}-lien-thong"))
}

/// Removes the exchange folder of an earlier demo (only if this module created it).
pub fn reset(demo_dir: &Path) -> Result<(), AppError> {
    let dir = folder(demo_dir);
    if dir.join(MARKER).exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    }
    Ok(())
}

fn sync(app: &mut App) -> Result<SyncReport, AppError> {
    let client = app.axis_client()?;
    app.sync_once(&client)
}

/// Runs the exchange between the freshly seeded demo store `demo` and a new partner store.
/// `None` when an exchange folder that this module did not create is in the way.
pub fn run(demo: &mut App, demo_dir: &Path, pass: &Passphrase) -> Result<Option<Story>, AppError> {
    let dir = folder(demo_dir);
    if dir.exists() {
        if !dir.join(MARKER).exists() {
            return Ok(None);
        }
        std::fs::remove_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    std::fs::write(
        dir.join(MARKER),
        "Thư mục trình diễn liên thông của vanthu: máy chủ trục thử nghiệm (truc/) và kho của đơn vị đối tác (doi-tac/).\n",
    )
    .map_err(|e| StoreError::io(&dir, e))?;
    let here = demo.agency()?;
    let accounts = vec![
        AgencyAccount {
            code: here.code.clone(),
            name: here.name.clone(),
            system_id: DEMO_SYSTEM.into(),
            secret: DEMO_SECRET.into(),
            mail: String::new(),
        },
        AgencyAccount {
            code: PARTNER_CODE.into(),
            name: PARTNER_NAME.into(),
            system_id: PARTNER_SYSTEM.into(),
            secret: PARTNER_SECRET.into(),
            mail: String::new(),
        },
    ];
    let start = |port: u16| {
        server::start(ServerConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            data_dir: dir.join("truc"),
            agencies: accounts.clone(),
            tls: None,
            admin_token: None,
        })
    };
    let srv = start(DEMO_PORT).or_else(|_| start(0)).map_err(|e| {
        AppError::BadInput(format!(
            "Không khởi động được máy chủ trục thử nghiệm: {e} (local axis server did not start)"
        ))
    })?;
    let endpoint = srv.endpoint();
    let mut partner = App::init(
        &dir.join("doi-tac"),
        pass,
        &Agency {
            name: PARTNER_NAME.into(),
            code: PARTNER_CODE.into(),
        },
        KdfParams::default(),
    )?;
    demo.axis_configure(&AxisSettings::new(
        &endpoint,
        &here.code,
        DEMO_SYSTEM,
        DEMO_SECRET,
    ))?;
    partner.axis_configure(&AxisSettings::new(
        &endpoint,
        PARTNER_CODE,
        PARTNER_SYSTEM,
        PARTNER_SECRET,
    ))?;
    let mut lines = vec![format!(
        "Máy chủ trục thử nghiệm (local axis server) tại {endpoint}: {} ↔ {PARTNER_NAME}",
        here.name
    )];

    // 1. The partner sends a report; the demo agency receives and registers it.
    let file = dir.join("bao-cao-lien-thong.pdf");
    std::fs::write(
        &file,
        b"%PDF-1.4\n% B\xc3\xa1o c\xc3\xa1o tri\xe1\xbb\x83n khai li\xc3\xaan th\xc3\xb4ng\n%%EOF\n",
    )
    .map_err(|e| StoreError::io(&file, e))?;
    let report = partner.create_outgoing(&OutgoingInput {
        so_ky_hieu: "45/BC-UBND".into(),
        loai: Some("Báo cáo".into()),
        trich_yeu: "Báo cáo kết quả triển khai liên thông văn bản điện tử năm 2026".into(),
        nguoi_ky: Some("Đinh Công Sứ".into()),
        chuc_vu: Some("Phó Chủ tịch".into()),
        files: vec![file.clone()],
        ..Default::default()
    })?;
    let _ = std::fs::remove_file(&file);
    partner.send_outgoing(&report.id, std::slice::from_ref(&here.code))?;
    let sent = sync(&mut partner)?;
    lines.push(format!(
        "  {PARTNER_NAME} gửi 45/BC-UBND qua trục ({} gói)",
        sent.sent.len()
    ));
    let got = sync(demo)?;
    for a in &got.received {
        if let (Some(id), Some(n)) = (&a.incoming_id, a.so_den) {
            lines.push(format!(
                "  Nhận và vào sổ đến số {n} (registered incoming no. {n}), id {id}; trạng thái 01 đã gửi lại"
            ));
            demo.axis_report(id, "03", None)?;
        }
    }
    sync(demo)?;

    // 2. The demo agency sends a guidance letter; the partner receives, accepts, assigns and
    //    completes it; the statuses come back.
    let letter = demo.create_outgoing(&OutgoingInput {
        so_ky_hieu: "1205/SNV-VP".into(),
        trich_yeu: "Về việc hướng dẫn lập hồ sơ và nộp lưu hồ sơ điện tử".into(),
        nguoi_ky: Some("Phạm Thị Lan".into()),
        chuc_vu: Some("Giám đốc".into()),
        ..Default::default()
    })?;
    demo.send_outgoing(&letter.id, &[PARTNER_CODE.to_string()])?;
    sync(demo)?;
    let arrived = sync(&mut partner)?;
    for a in &arrived.received {
        if let Some(id) = &a.incoming_id {
            for code in ["03", "04", "06"] {
                partner.axis_report(id, code, None)?;
            }
        }
    }
    sync(&mut partner)?;
    let back = sync(demo)?;
    let history = demo.exchange_status(&letter.id)?;
    let codes: Vec<String> = history
        .recipients
        .iter()
        .flat_map(|r| r.statuses.iter().map(|s| s.code.clone()))
        .collect();
    lines.push(format!(
        "  Gửi 1205/SNV-VP (id {}) cho {PARTNER_NAME}; nhận lại {} trạng thái: {}",
        letter.id,
        back.received.len(),
        codes.join(", ")
    ));
    srv.stop();
    Ok(Some(Story {
        dir,
        endpoint,
        lines,
    }))
}

/// The invitation the partner sends when the desktop window first resumes the demo exchange.
const INVITATION: &str = "52/GM-UBND";

/// Starts the demo's local axis server again on the demo store's configured loopback endpoint
/// (its queues and accounts are durable in `truc/`), and the first time, has the partner send
/// an invitation for the window's own exchange to receive. `None` when this is not a demo store
/// with an exchange folder, or the port is taken (another window already serves it).
pub fn resume(
    demo_dir: &Path,
    demo: &App,
    pass: &Passphrase,
) -> Result<Option<RunningServer>, AppError> {
    let dir = folder(demo_dir);
    if !dir.join(MARKER).exists() {
        return Ok(None);
    }
    let Some(settings) = demo.axis_settings()? else {
        return Ok(None);
    };
    let Some(addr) = settings
        .endpoint
        .strip_prefix("http://")
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
        .filter(|a| a.ip().is_loopback())
    else {
        return Ok(None);
    };
    let Ok(srv) = server::start(ServerConfig {
        listen: addr,
        data_dir: dir.join("truc"),
        agencies: Vec::new(),
        tls: None,
        admin_token: None,
    }) else {
        return Ok(None);
    };
    let mut partner = App::open(&dir.join("doi-tac"), pass)?;
    let already = partner
        .list_outgoing()?
        .iter()
        .any(|o| format!("{}/{}", o.code_number, o.code_notation) == INVITATION);
    if !already {
        let here = demo.agency()?;
        let inv =
            partner.create_outgoing(&OutgoingInput {
                so_ky_hieu: INVITATION.into(),
                loai: Some("Giấy mời".into()),
                trich_yeu:
                    "Giấy mời dự hội nghị sơ kết liên thông văn bản điện tử 6 tháng đầu năm 2027"
                        .into(),
                nguoi_ky: Some("Đinh Công Sứ".into()),
                chuc_vu: Some("Phó Chủ tịch".into()),
                ..Default::default()
            })?;
        partner.send_outgoing(&inv.id, std::slice::from_ref(&here.code))?;
        sync(&mut partner)?;
    }
    Ok(Some(srv))
}
