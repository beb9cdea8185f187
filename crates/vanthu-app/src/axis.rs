//! Document exchange over the national axis: outgoing documents, a durable outbox and inbox,
//! and the sync engine that moves them through any [`Transport`].
//!
//! Guarantees (ARCHITECTURE.md, invariant 9):
//! * a received package is stored, parsed and registered (or linked, or recorded as a status
//!   or a request) in **one** transaction together with its inbox row, and acknowledged only
//!   after that commit; a crash before the ack only means the next sync acks it again;
//! * a new document is identified by (sender, DocumentId): delivered twice, under one or two
//!   axis ids, it is registered once (a UNIQUE index enforces it);
//! * a package to send is written once into an encrypted blob; every retry sends those exact
//!   bytes, with exponential back-off and full jitter;
//! * secret documents (*văn bản mật*) are never sent.

use std::io::BufReader;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use vanthu_axis::{AxisError, MessageType, Outgoing, Transport};
use vanthu_core::level::{DoKhan, DoMat};
use vanthu_edxml::{
    BusinessDocType, Header, Message, Organization, PackRequest, ReadOptions, ResponseFor,
    SignatureKind, SignerInfo, StaffInfo, StatusCode, StatusHeader, WriteOptions,
};
use vanthu_store::store::rfc3339;
use vanthu_store::{FileRow, StoreError, Tx};

use crate::error::AppError;
use crate::exchange::{input_from_message, BlobSink};
use crate::register::{content_type_of, register_one, App, Prepared};

/// Axis account settings (kept inside the encrypted database).
#[derive(Clone, Serialize, Deserialize)]
pub struct AxisSettings {
    /// Axis endpoint (`http://127.0.0.1:PORT`, `http://host:8080/XrdAdapter/adapter`).
    pub endpoint: String,
    /// Our organ id.
    pub organ_id: String,
    /// Our adapter's `systemid`.
    pub system_id: String,
    /// HMAC secret.
    pub secret: String,
    /// Padded hex `hash-file` instead of the SDK's.
    pub hash_padded: i64,
    /// First retry delay.
    pub retry_base_ms: i64,
    /// Longest retry delay.
    pub retry_cap_ms: i64,
    /// Send attempts before a package is marked failed.
    pub send_attempts: i64,
    /// Extra trusted CA certificates (PEM) for an `https://` endpoint.
    #[serde(default)]
    pub tls_ca_pem: Option<String>,
}

impl std::fmt::Debug for AxisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AxisSettings")
            .field("endpoint", &self.endpoint)
            .field("organ_id", &self.organ_id)
            .field("system_id", &self.system_id)
            .field("secret", &"***")
            .finish_non_exhaustive()
    }
}

impl AxisSettings {
    /// Settings with the default retry policy (30 s ×2 up to 30 min, 10 sends).
    pub fn new(endpoint: &str, organ_id: &str, system_id: &str, secret: &str) -> AxisSettings {
        AxisSettings {
            endpoint: endpoint.into(),
            organ_id: organ_id.into(),
            system_id: system_id.into(),
            secret: secret.into(),
            hash_padded: 0,
            retry_base_ms: 30_000,
            retry_cap_ms: 1_800_000,
            send_attempts: 10,
            tls_ca_pem: None,
        }
    }
}

/// An outgoing document to prepare (văn bản đi).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutgoingInput {
    /// Số, ký hiệu: `12/UBND-VP`.
    pub so_ky_hieu: String,
    /// Ngày văn bản `YYYY-MM-DD` (default today).
    pub ngay_van_ban: Option<String>,
    /// Tên loại (default Công văn).
    pub loai: Option<String>,
    /// Trích yếu.
    pub trich_yeu: String,
    /// Độ mật code (default thuong).
    pub do_mat: Option<String>,
    /// Độ khẩn code (default thuong).
    pub do_khan: Option<String>,
    /// Người ký.
    pub nguoi_ky: Option<String>,
    /// Chức vụ.
    pub chuc_vu: Option<String>,
    /// Files to attach.
    pub files: Vec<std::path::PathBuf>,
}

/// How a sent document is taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TakeBackVia {
    /// A type-1 (revoke) package.
    Revoke,
    /// A type-1 package and a status 13.
    RevokeAnd13,
    /// Only a status 13.
    Status13,
}

/// Changes to a sent document's description, sent with the next update (None: unchanged).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutgoingEdit {
    /// Trích yếu.
    pub trich_yeu: Option<String>,
    /// Độ khẩn code.
    pub do_khan: Option<String>,
    /// Người ký.
    pub nguoi_ky: Option<String>,
    /// Chức vụ.
    pub chuc_vu: Option<String>,
}

/// A stored outgoing document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingRow {
    /// Id.
    pub id: String,
    /// edXML DocumentId.
    pub document_id: String,
    /// Số.
    pub code_number: String,
    /// Ký hiệu.
    pub code_notation: String,
    /// Ngày văn bản.
    pub ngay_van_ban: String,
    /// Tên loại.
    pub loai: Option<String>,
    /// Trích yếu.
    pub trich_yeu: String,
    /// Độ mật.
    pub do_mat: String,
    /// Độ khẩn.
    pub do_khan: String,
    /// Người ký.
    pub nguoi_ky: Option<String>,
    /// Chức vụ.
    pub chuc_vu: Option<String>,
    /// Created.
    pub created_at: String,
    /// By.
    pub created_by: String,
}

/// An outbox row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxRow {
    /// Id.
    pub id: String,
    /// `edoc` / `status`.
    pub message_type: String,
    /// `new`, `revoke`, `update` (documents) or `status`.
    pub business: String,
    /// Outgoing id (edoc) or incoming id (status).
    pub ref_id: String,
    /// Status code of a status message.
    pub status_code: Option<String>,
    /// JSON array of recipients.
    pub recipients: String,
    /// Package blob.
    pub blob_id: String,
    /// Package SHA-256.
    pub sha256: String,
    /// Package size in bytes.
    pub size: i64,
    /// `ready`, `sent`, `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Next attempt (unix ms).
    pub next_at: i64,
    /// Last error.
    pub last_error: Option<String>,
    /// Axis DocId once sent.
    pub axis_doc_id: Option<String>,
    /// Every recipient's copy is final on the axis.
    #[serde(default)]
    pub delivered: i64,
    /// Queued at.
    pub created_at: String,
    /// Sent at.
    pub sent_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct AxisIncoming {
    #[serde(default)]
    last_status: Option<String>,
    #[serde(default)]
    revoked_at: Option<String>,
    sender: String,
    document_id: String,
    code: Option<String>,
    promulgation_date: Option<String>,
}

/// A package that arrived.
#[derive(Debug, Clone, Serialize)]
pub struct Arrived {
    /// Axis id of the copy.
    pub axis_doc_id: String,
    /// Sender.
    pub from: String,
    /// `registered`, `duplicate`, `status`, `request`, `quarantined`, `orphan`.
    pub outcome: String,
    /// The register entry (new or the earlier copy).
    pub incoming_id: Option<String>,
    /// Số đến, when registered now.
    pub so_den: Option<u64>,
    /// Human summary.
    pub detail: String,
    /// Validation of the PDFs it carried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<crate::signatures::SignatureCheck>,
}

/// A package that left.
#[derive(Debug, Clone, Serialize)]
pub struct Departed {
    /// Outbox id.
    pub outbox_id: String,
    /// `edoc` / `status`.
    pub message_type: String,
    /// Status code (status messages).
    pub status_code: Option<String>,
    /// Outgoing or incoming id.
    pub ref_id: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Axis DocId.
    pub axis_doc_id: String,
}

/// Something that did not work this time.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// What was being done (`send <id>`, `list edoc`, `download <docId>`, `ack <docId>`).
    pub what: String,
    /// Why.
    pub error: String,
    /// Whether a later sync retries it.
    pub will_retry: bool,
}

/// What one sync pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Arrivals.
    pub received: Vec<Arrived>,
    /// Departures.
    pub sent: Vec<Departed>,
    /// Failures.
    pub failed: Vec<Failure>,
    /// Things the user should know that are not failures (a clock far from the axis's).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Clock difference from the axis above which the user is warned (spec §6.5: 5 minutes).
pub const CLOCK_SKEW_WARN_MS: i64 = 5 * 60 * 1000;

impl SyncReport {
    /// Whether something failed and will be retried.
    pub fn has_retryable_failures(&self) -> bool {
        self.failed.iter().any(|f| f.will_retry)
    }
}

/// One status received from a recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusEntry {
    /// Recipient that reported it.
    pub from_organ: String,
    /// `01`…`16`.
    pub code: String,
    /// Free text.
    pub description: Option<String>,
    /// edXML timestamp of the status.
    pub timestamp: String,
    /// When we received it.
    pub received_at: String,
}

/// Per-recipient progress of an outgoing document.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientStatus {
    /// Recipient organ id.
    pub organ_id: String,
    /// Outbox state of the last package sent to it (`ready`, `sent`, `failed`).
    pub delivery: String,
    /// What the axis says of its copy: `pending` (not yet taken), `done`, `fail`.
    pub axis_receive_status: Option<String>,
    /// When the recipient took it from the axis.
    pub axis_received_time: Option<String>,
    /// Statuses in order of their timestamp.
    pub statuses: Vec<StatusView>,
}

/// A status with its Vietnamese label.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    /// Code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Free text.
    pub description: Option<String>,
    /// edXML timestamp.
    pub timestamp: String,
    /// When received.
    pub received_at: String,
}

/// Status history of an outgoing document.
#[derive(Debug, Clone, Serialize)]
pub struct StatusHistory {
    /// Outgoing id.
    pub id: String,
    /// DocumentId.
    pub document_id: String,
    /// Per recipient.
    pub recipients: Vec<RecipientStatus>,
}

/// An inbox row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboxRow {
    /// Axis id of the copy.
    pub axis_doc_id: String,
    /// `edoc` / `status`.
    pub message_type: String,
    /// Sender.
    pub from_organ: String,
    /// SHA-256 of the package as received.
    pub sha256: String,
    /// `registered`, `duplicate`, `status`, `request`, `quarantined`, `orphan`.
    pub outcome: String,
    /// The register entry, if any.
    pub incoming_id: Option<String>,
    /// Human summary (the reason, for a quarantined package).
    pub detail: Option<String>,
    /// Acknowledged on the axis.
    pub acked: i64,
    /// Received at.
    pub received_at: String,
    /// Acknowledged at.
    pub acked_at: Option<String>,
}

/// A pending revoke/update/replace request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRow {
    /// Id.
    pub id: String,
    /// Axis id of the package.
    pub axis_doc_id: String,
    /// `revoke`, `update`, `replace`, `take_back`.
    pub kind: String,
    /// Sender.
    pub sender: String,
    /// Target DocumentId.
    pub target_document_id: String,
    /// The original, when found.
    pub incoming_id: Option<String>,
    /// The replacing document (type 3), registered on arrival.
    #[serde(default)]
    pub new_incoming_id: Option<String>,
    /// Reason given.
    pub reason: Option<String>,
    /// `pending`, `accepted`, `refused`.
    pub state: String,
    /// Created.
    pub created_at: String,
}

/// The cached directory is refreshed once a day.
pub const DIRECTORY_MAX_AGE_MS: i64 = 24 * 3600 * 1000;

/// A directory refresh failed on the axis or in the store.
#[derive(Debug)]
pub enum DirError {
    /// The axis.
    Axis(AxisError),
    /// The store.
    App(AppError),
}

impl From<AppError> for DirError {
    fn from(e: AppError) -> Self {
        DirError::App(e)
    }
}

/// One agency of the cached directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// Organ id.
    pub code: String,
    /// Name.
    pub name: String,
    /// Old code.
    pub old_code: Option<String>,
}

fn now_ms() -> i64 {
    vanthu_axis::sign::now_millis()
}

fn config_missing() -> AppError {
    AppError::BadInput(
        "Chưa cấu hình trục liên thông: chạy `vanthu axis config --endpoint URL --agency MÃ --system-id ID --secret-env BIEN` (axis not configured)"
            .into(),
    )
}

/// Full-jitter exponential back-off: a random delay in `[0, min(cap, base·2^(n-1))]`.
pub fn backoff_ms(attempt: i64, base: i64, cap: i64) -> i64 {
    let exp = (attempt.max(1) - 1).min(30) as u32;
    let ceiling = base.saturating_mul(1i64 << exp).min(cap).max(1);
    rand::Rng::gen_range(&mut rand::thread_rng(), 0..=ceiling)
}

fn vn_date(iso: &str) -> String {
    iso.replace('-', "/")
}

impl App {
    /// Saves the axis account (the secret stays inside the encrypted database).
    pub fn axis_configure(&mut self, s: &AxisSettings) -> Result<(), AppError> {
        if !vanthu_edxml::is_canonical_organ_id(&s.organ_id) {
            return Err(AppError::BadInput(format!(
                "Mã định danh {} không đúng dạng 000.00.00.A00 (organ id not canonical)",
                s.organ_id
            )));
        }
        vanthu_axis::VxpClient::new(client_config(s))
            .map_err(|e| AppError::BadInput(e.to_string()))?;
        let actor = self.actor_name();
        let s = s.clone();
        self.store_mut().write(&actor, |tx| {
            let now = rfc3339(tx.now);
            tx.execute_json(
                "INSERT INTO axis_config (id, endpoint, organ_id, system_id, secret, hash_padded,
                 retry_base_ms, retry_cap_ms, send_attempts, updated_at, tls_ca_pem)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (id) DO UPDATE SET endpoint = ?1, organ_id = ?2, system_id = ?3,
                 secret = ?4, hash_padded = ?5, retry_base_ms = ?6, retry_cap_ms = ?7,
                 send_attempts = ?8, updated_at = ?9, tls_ca_pem = ?10",
                &[
                    json!(s.endpoint),
                    json!(s.organ_id),
                    json!(s.system_id),
                    json!(s.secret),
                    json!(s.hash_padded),
                    json!(s.retry_base_ms),
                    json!(s.retry_cap_ms),
                    json!(s.send_attempts),
                    json!(now),
                    json!(s.tls_ca_pem),
                ],
            )?;
            tx.audit(
                "axis.config",
                "axis",
                json!({"endpoint": s.endpoint, "organ_id": s.organ_id, "system_id": s.system_id,
                       "tls_ca": s.tls_ca_pem.is_some()}),
            )?;
            Ok::<_, AppError>(())
        })
    }

    /// The axis account, if configured.
    pub fn axis_settings(&self) -> Result<Option<AxisSettings>, AppError> {
        Ok(self
            .store()
            .query_rows::<AxisSettings>(
                "SELECT endpoint, organ_id, system_id, secret, hash_padded, retry_base_ms,
                 retry_cap_ms, send_attempts, tls_ca_pem FROM axis_config WHERE id = 1",
                &[],
            )?
            .pop())
    }

    /// A VXP client for the configured account.
    pub fn axis_client(&self) -> Result<vanthu_axis::VxpClient, AppError> {
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        vanthu_axis::VxpClient::new(client_config(&s))
            .map_err(|e| AppError::BadInput(e.to_string()))
    }

    fn actor_name(&self) -> String {
        self.actor().to_string()
    }

    /// Fetches the axis directory and replaces the cached copy (one transaction).
    pub fn refresh_directory(&mut self, t: &dyn Transport) -> Result<usize, DirError> {
        let list = t.directory().map_err(DirError::Axis)?;
        let actor = self.actor_name();
        let n = list.len();
        self.store_mut().write(&actor, |tx| {
            tx.execute_json("DELETE FROM axis_directory", &[])?;
            let now = now_ms();
            for a in &list {
                tx.execute_json(
                    "INSERT OR REPLACE INTO axis_directory (code, name, old_code, refreshed_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    &[
                        json!(a.code.trim()),
                        json!(a.name),
                        json!(Some(a.old_code.trim()).filter(|s| !s.is_empty())),
                        json!(now),
                    ],
                )?;
            }
            Ok::<_, AppError>(())
        })?;
        Ok(n)
    }

    /// The cached directory.
    pub fn directory(&self) -> Result<Vec<DirectoryEntry>, AppError> {
        Ok(self.store().query_rows(
            "SELECT code, name, old_code FROM axis_directory ORDER BY code",
            &[],
        )?)
    }

    fn directory_refreshed_ms(&self) -> Result<i64, AppError> {
        let v: Vec<Value> = self.store().query_rows(
            "SELECT coalesce(max(refreshed_ms), 0) AS t FROM axis_directory",
            &[],
        )?;
        Ok(v.first().and_then(|v| v["t"].as_i64()).unwrap_or(0))
    }

    /// Prepares an outgoing document with its files (streamed into encrypted blobs).
    pub fn create_outgoing(&mut self, input: &OutgoingInput) -> Result<OutgoingRow, AppError> {
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        let (number, notation) = match input.so_ky_hieu.split_once('/') {
            Some((n, k)) if !n.trim().is_empty() && !k.trim().is_empty() => {
                (n.trim().to_string(), k.trim().to_string())
            }
            _ => {
                return Err(AppError::BadInput(format!(
                    "Số, ký hiệu {:?} phải có dạng SỐ/KÝ-HIỆU, ví dụ 12/UBND-VP (expected NUMBER/NOTATION)",
                    input.so_ky_hieu
                )))
            }
        };
        if input.trich_yeu.trim().is_empty() {
            return Err(AppError::BadInput(
                "Thiếu trích yếu (subject is required)".into(),
            ));
        }
        let do_mat: DoMat = input
            .do_mat
            .as_deref()
            .unwrap_or("thuong")
            .parse()
            .map_err(|e| AppError::BadInput(format!("{e}")))?;
        let do_khan: DoKhan = input
            .do_khan
            .as_deref()
            .unwrap_or("thuong")
            .parse()
            .map_err(|e| AppError::BadInput(format!("{e}")))?;
        let today = self.store().now().date().to_string();
        let date = input.ngay_van_ban.clone().unwrap_or(today);
        if time::Date::parse(
            &date,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_err()
        {
            return Err(AppError::BadInput(format!(
                "Ngày văn bản {date} phải có dạng YYYY-MM-DD (date must be YYYY-MM-DD)"
            )));
        }
        let document_id = format!("{},{},{number}/{notation}", s.organ_id, vn_date(&date));
        let mut infos = Vec::new();
        let blobs = self.store().blobs().clone();
        for p in &input.files {
            let mut f = std::fs::File::open(p).map_err(|e| AppError::File {
                path: p.clone(),
                source: e,
            })?;
            let info = match blobs.put(&mut f) {
                Ok(i) => i,
                Err(e) => {
                    for (_, i) in &infos {
                        let i: &vanthu_store::BlobInfo = i;
                        let _ = blobs.remove(&i.id);
                    }
                    return Err(e.into());
                }
            };
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "tep".into());
            infos.push((name, info));
        }
        let actor = self.actor_name();
        let row = OutgoingRow {
            id: vanthu_store::fsutil::random_id(),
            document_id,
            code_number: number,
            code_notation: notation,
            ngay_van_ban: date,
            loai: input.loai.clone(),
            trich_yeu: input.trich_yeu.trim().to_string(),
            do_mat: do_mat.code().into(),
            do_khan: do_khan.code().into(),
            nguoi_ky: input.nguoi_ky.clone(),
            chuc_vu: input.chuc_vu.clone(),
            created_at: String::new(),
            created_by: actor.clone(),
        };
        let res = self.store_mut().write(&actor, |tx| {
            let mut row = row.clone();
            row.created_at = rfc3339(tx.now);
            let n = tx.execute_json(
                "INSERT OR IGNORE INTO outgoing (id, document_id, code_number, code_notation,
                 ngay_van_ban, loai, trich_yeu, do_mat, do_khan, nguoi_ky, chuc_vu, created_at,
                 created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                &[
                    json!(row.id),
                    json!(row.document_id),
                    json!(row.code_number),
                    json!(row.code_notation),
                    json!(row.ngay_van_ban),
                    json!(row.loai),
                    json!(row.trich_yeu),
                    json!(row.do_mat),
                    json!(row.do_khan),
                    json!(row.nguoi_ky),
                    json!(row.chuc_vu),
                    json!(row.created_at),
                    json!(row.created_by),
                ],
            )?;
            if n == 0 {
                return Err(AppError::BadInput(format!(
                    "Văn bản đi {} đã có (an outgoing document with this DocumentId exists)",
                    row.document_id
                )));
            }
            for (name, info) in &infos {
                tx.execute_json(
                    "INSERT INTO outgoing_files (id, document_id, name, content_type, blob_id,
                     size, sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    &[
                        json!(vanthu_store::fsutil::random_id()),
                        json!(row.id),
                        json!(name),
                        json!(content_type_of(name)),
                        json!(info.id),
                        json!(info.size),
                        json!(info.sha256),
                        json!(row.created_at),
                    ],
                )?;
            }
            tx.audit(
                "outgoing.create",
                &row.id,
                json!({"document_id": row.document_id, "files": infos.len()}),
            )?;
            Ok::<_, AppError>(row)
        });
        if res.is_err() {
            for (_, i) in &infos {
                let _ = blobs.remove(&i.id);
            }
        }
        res
    }

    /// One outgoing document.
    pub fn get_outgoing(&self, id: &str) -> Result<OutgoingRow, AppError> {
        self.store()
            .query_rows::<OutgoingRow>("SELECT * FROM outgoing WHERE id = ?1", &[json!(id)])?
            .pop()
            .ok_or_else(|| AppError::Store(StoreError::NotFound(id.to_string())))
    }

    /// Every outgoing document, oldest first.
    pub fn list_outgoing(&self) -> Result<Vec<OutgoingRow>, AppError> {
        Ok(self
            .store()
            .query_rows::<OutgoingRow>("SELECT * FROM outgoing ORDER BY created_at, id", &[])?)
    }

    /// Files of an outgoing document.
    pub fn outgoing_files(&self, id: &str) -> Result<Vec<FileRow>, AppError> {
        Ok(self.store().query_rows(
            "SELECT * FROM outgoing_files WHERE document_id = ?1 ORDER BY created_at, rowid",
            &[json!(id)],
        )?)
    }

    /// Queues an outgoing document for `to`: the package is written once into an encrypted
    /// blob and an outbox row is made `ready`. Secret documents are refused.
    pub fn send_outgoing(&mut self, id: &str, to: &[String]) -> Result<OutboxRow, AppError> {
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        let row = self.get_outgoing(id)?;
        let mat: DoMat = row.do_mat.parse().unwrap_or(DoMat::Mat);
        if mat.is_secret() {
            return Err(AppError::BadInput(format!(
                "Văn bản {} có độ mật \"{}\": văn bản mật không được gửi qua trục liên thông văn bản quốc gia, phải chuyển theo quy định bảo vệ bí mật nhà nước (secret documents are never sent over the axis)",
                row.document_id,
                mat.label()
            )));
        }
        let mut recipients: Vec<String> = Vec::new();
        for t in to.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            if t == s.organ_id {
                return Err(AppError::BadInput(format!(
                    "Không gửi cho chính mình ({t}) (cannot send to own agency)"
                )));
            }
            if !recipients.iter().any(|r| r == t) {
                recipients.push(t.to_string());
            }
        }
        if recipients.is_empty() {
            return Err(AppError::BadInput(
                "Thiếu nơi nhận --to (no recipient)".into(),
            ));
        }
        // recipients come from the axis directory, when it has been fetched
        let dir = self.directory()?;
        if !dir.is_empty() {
            for r in recipients.iter_mut() {
                match dir
                    .iter()
                    .find(|d| &d.code == r || d.old_code.as_deref() == Some(r.as_str()))
                {
                    Some(d) => *r = d.code.clone(),
                    None => {
                        return Err(AppError::BadInput(format!(
                            "Mã định danh {r} không có trong danh bạ trục liên thông; kiểm tra lại hoặc cập nhật danh bạ bằng `vanthu axis agencies` (recipient not in the axis directory)"
                        )))
                    }
                }
            }
        }
        let files = self.outgoing_files(id)?;
        let req = self.pack_request(&s, &row, &recipients)?;
        let mut w = self.store().blobs().create()?;
        self.write_edxml(&req, &files, &mut w)?;
        let info = w.finish()?;
        self.queue(info, "edoc", "new", id, None, &recipients, "outgoing.send")
    }

    fn pack_request(
        &self,
        s: &AxisSettings,
        row: &OutgoingRow,
        recipients: &[String],
    ) -> Result<PackRequest, AppError> {
        let agency = self.agency()?;
        let khan: DoKhan = row.do_khan.parse().unwrap_or(DoKhan::Thuong);
        Ok(PackRequest {
            from: Organization {
                organ_add: Some(agency.name.clone()),
                ..Organization::new(&s.organ_id, &agency.name)
            },
            to: {
                let dir = self.directory()?;
                recipients
                    .iter()
                    .map(|r| {
                        let name = dir
                            .iter()
                            .find(|d| &d.code == r)
                            .map(|d| d.name.clone())
                            .unwrap_or_else(|| r.clone());
                        Organization::new(r.as_str(), name)
                    })
                    .collect()
            },
            code_number: row.code_number.clone(),
            code_notation: row.code_notation.clone(),
            subject: row.trich_yeu.clone(),
            date: vn_date(&row.ngay_van_ban),
            type_name: row.loai.clone(),
            signer_info: row.nguoi_ky.as_ref().map(|n| SignerInfo {
                full_name: Some(n.clone()),
                position: row.chuc_vu.clone(),
                ..SignerInfo::default()
            }),
            priority: Some(khan.edxml_priority().min(3).to_string()),
            document_id: Some(row.document_id.clone()),
            staff_info: Some(StaffInfo {
                staff: Some(self.actor_name()),
                ..StaffInfo::default()
            }),
            ..PackRequest::default()
        })
    }

    /// Recipients an outgoing document was queued for (in order).
    fn sent_recipients(&self, id: &str) -> Result<Vec<String>, AppError> {
        let rows: Vec<OutboxRow> = self.store().query_rows(
            "SELECT * FROM axis_outbox WHERE ref_id = ?1 AND message_type = 'edoc'
             AND business = 'new' AND state != 'failed' ORDER BY rowid",
            &[json!(id)],
        )?;
        let mut out: Vec<String> = Vec::new();
        for r in rows {
            for t in serde_json::from_str::<Vec<String>>(&r.recipients).unwrap_or_default() {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        Ok(out)
    }

    /// Revokes (thu hồi) a sent document: a type-1 package repeating its DocumentId, with the
    /// reason, to every recipient it was sent to. Recipients answer 15 (accepted) or 16.
    pub fn revoke_outgoing(&mut self, id: &str, reason: &str) -> Result<OutboxRow, AppError> {
        self.change_outgoing(id, reason, BusinessDocType::Revoke, &[])
    }

    /// Takes a sent document back the way the recipients' software expects (spec §5: the
    /// samples show a type-1 package, a status 13 "yêu cầu lấy lại", or both). Status 13 goes
    /// to each recipient separately, `From` us and `ResponseFor/OrganId` the recipient.
    pub fn take_back_outgoing(
        &mut self,
        id: &str,
        reason: &str,
        via: TakeBackVia,
    ) -> Result<Vec<OutboxRow>, AppError> {
        let mut rows = Vec::new();
        if via != TakeBackVia::Status13 {
            rows.push(self.revoke_outgoing(id, reason)?);
        }
        if via == TakeBackVia::Revoke {
            return Ok(rows);
        }
        if reason.trim().is_empty() {
            return Err(AppError::BadInput(
                "Yêu cầu lấy lại phải ghi lý do (a reason is required)".into(),
            ));
        }
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        let agency = self.agency()?;
        let row = self.get_outgoing(id)?;
        let recipients = self.sent_recipients(id)?;
        if recipients.is_empty() {
            return Err(AppError::BadInput(format!(
                "Văn bản {} chưa gửi cho nơi nào (not sent yet)",
                row.document_id
            )));
        }
        let actor = self.actor_name();
        for r in recipients {
            let target = AxisIncoming {
                last_status: None,
                revoked_at: None,
                sender: r.clone(),
                document_id: row.document_id.clone(),
                code: Some(format!("{}/{}", row.code_number, row.code_notation)),
                promulgation_date: Some(vn_date(&row.ngay_van_ban)),
            };
            let info = write_status(
                self.store().blobs(),
                &s,
                &agency.name,
                &target,
                &StatusCode::TakeBackRequested,
                reason.trim(),
                &actor,
            )?;
            rows.push(self.queue(
                info,
                "status",
                "status",
                id,
                Some("13"),
                std::slice::from_ref(&r),
                "outgoing.take_back",
            )?);
        }
        Ok(rows)
    }

    /// Updates (cập nhật) a sent document: adds `files` to it and sends a type-2 package with
    /// all its files to every recipient. Recipients answer 15 (and attach the new files) or 16.
    pub fn update_outgoing(
        &mut self,
        id: &str,
        reason: &str,
        files: &[std::path::PathBuf],
    ) -> Result<OutboxRow, AppError> {
        self.change_outgoing(id, reason, BusinessDocType::Update, files)
    }

    /// Amends a sent document's description (trích yếu, độ khẩn, người ký, chức vụ) before an
    /// update is sent: the next `update_outgoing` carries the new header, and recipients who
    /// accept it (15) see their register entry amended. Audited with the old values.
    pub fn amend_outgoing(
        &mut self,
        id: &str,
        edit: &OutgoingEdit,
    ) -> Result<OutgoingRow, AppError> {
        let old = self.get_outgoing(id)?;
        let mut new = old.clone();
        if let Some(t) = edit
            .trich_yeu
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            new.trich_yeu = t.to_string();
        }
        if let Some(k) = &edit.do_khan {
            new.do_khan = k
                .parse::<DoKhan>()
                .map_err(|_| {
                    AppError::BadInput(format!(
                        "Độ khẩn {k} không hợp lệ: thuong, khan, thuong-khan hoặc hoa-toc (bad urgency)"
                    ))
                })?
                .code()
                .to_string();
        }
        if let Some(n) = edit
            .nguoi_ky
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            new.nguoi_ky = Some(n.to_string());
        }
        if let Some(c) = edit
            .chuc_vu
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            new.chuc_vu = Some(c.to_string());
        }
        if new.trich_yeu.chars().count() > 500 {
            return Err(AppError::BadInput(
                "Trích yếu quá 500 ký tự (subject over 500 characters)".into(),
            ));
        }
        if new == old {
            return Ok(old);
        }
        let actor = self.actor_name();
        let n = new.clone();
        self.store_mut().write(&actor, |tx| {
            tx.execute_json(
                "UPDATE outgoing SET trich_yeu = ?2, do_khan = ?3, nguoi_ky = ?4, chuc_vu = ?5
                 WHERE id = ?1",
                &[
                    json!(n.id),
                    json!(n.trich_yeu),
                    json!(n.do_khan),
                    json!(n.nguoi_ky),
                    json!(n.chuc_vu),
                ],
            )?;
            tx.audit(
                "outgoing.amend",
                &n.id,
                json!({
                    "old": {"trich_yeu": old.trich_yeu, "do_khan": old.do_khan,
                            "nguoi_ky": old.nguoi_ky, "chuc_vu": old.chuc_vu},
                    "new": {"trich_yeu": n.trich_yeu, "do_khan": n.do_khan,
                            "nguoi_ky": n.nguoi_ky, "chuc_vu": n.chuc_vu},
                }),
            )?;
            Ok::<_, AppError>(())
        })?;
        Ok(new)
    }

    fn change_outgoing(
        &mut self,
        id: &str,
        reason: &str,
        kind: BusinessDocType,
        new_files: &[std::path::PathBuf],
    ) -> Result<OutboxRow, AppError> {
        if reason.trim().is_empty() {
            return Err(AppError::BadInput(
                "Thu hồi hoặc cập nhật phải ghi lý do (a reason is required)".into(),
            ));
        }
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        let row = self.get_outgoing(id)?;
        let recipients = self.sent_recipients(id)?;
        if recipients.is_empty() {
            return Err(AppError::BadInput(format!(
                "Văn bản {} chưa gửi cho nơi nào (not sent yet)",
                row.document_id
            )));
        }
        for p in new_files {
            let mut f = std::fs::File::open(p).map_err(|e| AppError::File {
                path: p.clone(),
                source: e,
            })?;
            let info = self.store().blobs().put(&mut f)?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "tep".into());
            let actor = self.actor_name();
            let blobs = self.store().blobs().clone();
            let res = self.store_mut().write(&actor, |tx| {
                tx.execute_json(
                    "INSERT INTO outgoing_files (id, document_id, name, content_type, blob_id,
                     size, sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    &[
                        json!(vanthu_store::fsutil::random_id()),
                        json!(id),
                        json!(name),
                        json!(content_type_of(&name)),
                        json!(info.id),
                        json!(info.size),
                        json!(info.sha256),
                        json!(rfc3339(tx.now)),
                    ],
                )?;
                tx.audit(
                    "outgoing.file",
                    id,
                    json!({"name": name, "sha256": info.sha256}),
                )
            });
            if res.is_err() {
                let _ = blobs.remove(&info.id);
            }
            res?;
        }
        let files = if kind == BusinessDocType::Revoke {
            Vec::new()
        } else {
            self.outgoing_files(id)?
        };
        let mut req = self.pack_request(&s, &row, &recipients)?;
        req.business = Some(vanthu_edxml::Business {
            doc_type: kind.clone(),
            document_id: Some(row.document_id.clone()),
            reason: Some(reason.trim().to_string()),
            paper: Some("0".into()),
            staff_info: req.staff_info.clone(),
            document_info: (kind == BusinessDocType::Update).then(|| {
                vanthu_edxml::BusinessDocumentInfo {
                    document_info: Some("1".into()),
                    document_receiver: Some("0".into()),
                    receivers: Vec::new(),
                }
            }),
            ..Default::default()
        });
        let mut w = self.store().blobs().create()?;
        self.write_edxml(&req, &files, &mut w)?;
        let info = w.finish()?;
        let (business, action) = if kind == BusinessDocType::Revoke {
            ("revoke", "outgoing.revoke")
        } else {
            ("update", "outgoing.update")
        };
        self.queue(info, "edoc", business, id, None, &recipients, action)
    }

    #[allow(clippy::too_many_arguments)]
    fn queue(
        &mut self,
        info: vanthu_store::BlobInfo,
        message_type: &str,
        business: &str,
        ref_id: &str,
        status_code: Option<&str>,
        to: &[String],
        action: &str,
    ) -> Result<OutboxRow, AppError> {
        let actor = self.actor_name();
        let blobs = self.store().blobs().clone();
        let blob_id = info.id.clone();
        let res = self.store_mut().write(&actor, |tx| {
            let row = insert_outbox(tx, &info, message_type, business, ref_id, status_code, to)?;
            tx.audit(
                action,
                ref_id,
                json!({"outbox": row.id, "to": to, "status": status_code}),
            )?;
            Ok::<_, AppError>(row)
        });
        if res.is_err() {
            let _ = blobs.remove(&blob_id);
        }
        res
    }

    /// The outbox, newest first.
    pub fn outbox(&self) -> Result<Vec<OutboxRow>, AppError> {
        Ok(self
            .store()
            .query_rows("SELECT * FROM axis_outbox ORDER BY rowid DESC", &[])?)
    }

    /// The inbox, newest first: every package received, with what became of it (quarantined
    /// packages are kept, raw and encrypted, for the clerk to see).
    pub fn inbox(&self) -> Result<Vec<InboxRow>, AppError> {
        Ok(self.store().query_rows(
            "SELECT axis_doc_id, message_type, from_organ, sha256, outcome, incoming_id, detail,
             acked, received_at, acked_at FROM axis_inbox ORDER BY rowid DESC",
            &[],
        )?)
    }

    /// Pending revoke/update/replace requests.
    pub fn axis_requests(&self) -> Result<Vec<RequestRow>, AppError> {
        Ok(self.store().query_rows(
            "SELECT id, axis_doc_id, kind, sender, target_document_id, incoming_id,
             new_incoming_id, reason, state, created_at FROM axis_request ORDER BY created_at, id",
            &[],
        )?)
    }

    /// Reports progress on a document received over the axis: 02 (refused, with a reason),
    /// 03 (accepted), 04 (assigned), 05 (being handled), 06 (completed). Queued in the outbox.
    pub fn axis_report(
        &mut self,
        incoming_id: &str,
        code: &str,
        description: Option<&str>,
    ) -> Result<OutboxRow, AppError> {
        let code = StatusCode::parse(code);
        if !matches!(
            code,
            StatusCode::Refused
                | StatusCode::Accepted
                | StatusCode::Assigned
                | StatusCode::Processing
                | StatusCode::Completed
        ) {
            return Err(AppError::BadInput(format!(
                "Mã trạng thái {} không gửi tay được; dùng 02, 03, 04, 05 hoặc 06 (status code not allowed here)",
                code.as_str()
            )));
        }
        if code == StatusCode::Refused && description.is_none_or(|d| d.trim().is_empty()) {
            return Err(AppError::BadInput(
                "Từ chối tiếp nhận (02) phải ghi lý do (02 needs a reason)".into(),
            ));
        }
        let desc = description
            .map(str::to_string)
            .unwrap_or_else(|| code.label_vi().to_string());
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        let agency = self.agency()?;
        let origin = self.origin_of(incoming_id)?;
        check_transition(&origin, &code)?;
        let actor = self.actor_name();
        let blobs = self.store().blobs().clone();
        let info = write_status(&blobs, &s, &agency.name, &origin, &code, &desc, &actor)?;
        let blob_id = info.id.clone();
        let res = self.store_mut().write(&actor, |tx| {
            let row = insert_outbox(
                tx,
                &info,
                "status",
                "status",
                incoming_id,
                Some(code.as_str()),
                std::slice::from_ref(&origin.sender),
            )?;
            tx.execute_json(
                "UPDATE axis_incoming SET last_status = ?2 WHERE incoming_id = ?1",
                &[json!(incoming_id), json!(code.as_str())],
            )?;
            tx.audit(
                "axis.status",
                incoming_id,
                json!({"code": code.as_str(), "to": origin.sender, "outbox": row.id}),
            )?;
            Ok::<_, AppError>(row)
        });
        if res.is_err() {
            let _ = blobs.remove(&blob_id);
        }
        res
    }

    fn origin_of(&self, incoming_id: &str) -> Result<AxisIncoming, AppError> {
        self.store()
            .query_rows::<AxisIncoming>(
                "SELECT incoming_id, sender, document_id, code, promulgation_date, last_status,
                 revoked_at FROM axis_incoming WHERE incoming_id = ?1",
                &[json!(incoming_id)],
            )?
            .pop()
            .ok_or_else(|| {
                AppError::BadInput(format!(
                    "Văn bản {incoming_id} không nhận qua trục liên thông (not received over the axis)"
                ))
            })
    }

    /// Decides a pending revoke/update/replace request: accept ⇒ 15 (and, for a revoke, the
    /// document is marked revoked in the audit trail), refuse ⇒ 16 with a reason.
    pub fn axis_decide(
        &mut self,
        request_id: &str,
        accept: bool,
        reason: Option<&str>,
    ) -> Result<OutboxRow, AppError> {
        let req = self
            .axis_requests()?
            .into_iter()
            .find(|r| r.id == request_id)
            .ok_or_else(|| AppError::Store(StoreError::NotFound(request_id.to_string())))?;
        if req.state != "pending" {
            return Err(AppError::BadInput(format!(
                "Yêu cầu {request_id} đã được xử lý ({}) (already decided)",
                req.state
            )));
        }
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        let agency = self.agency()?;
        let origin = match &req.incoming_id {
            Some(i) => self.origin_of(i)?,
            None => AxisIncoming {
                last_status: None,
                revoked_at: None,
                sender: req.sender.clone(),
                document_id: req.target_document_id.clone(),
                code: None,
                promulgation_date: None,
            },
        };
        let code = if accept {
            StatusCode::ChangeAccepted
        } else {
            StatusCode::ChangeRefused
        };
        let desc = reason
            .map(str::to_string)
            .unwrap_or_else(|| code.label_vi().to_string());
        let actor = self.actor_name();
        let blobs = self.store().blobs().clone();
        // An accepted update brings the package's files: decode them into blobs first.
        let mut new_files: Vec<Prepared> = Vec::new();
        let mut sink_blobs: Vec<String> = Vec::new();
        // …and its header: the new version of the register's descriptive fields
        let mut amended: Option<vanthu_core::incoming::IncomingDraft> = None;
        if accept && req.kind == "update" && req.incoming_id.is_some() {
            let raw: Vec<Value> = self.store().query_rows(
                "SELECT raw_blob_id FROM axis_inbox WHERE axis_doc_id = ?1",
                &[json!(req.axis_doc_id)],
            )?;
            if let Some(raw_id) = raw.first().and_then(|v| v["raw_blob_id"].as_str()) {
                let r = blobs.open_blob(raw_id)?;
                let mut sink = BlobSink::new(&blobs);
                let msg = vanthu_edxml::read_message(
                    BufReader::new(r),
                    &mut sink,
                    &ReadOptions::default(),
                );
                match msg {
                    Ok(msg) => {
                        let now = self.store().now();
                        let draft =
                            crate::exchange::input_from_header(&msg).and_then(|i| i.to_draft(now));
                        match draft {
                            Ok(d) if d.validate(now).is_ok() => amended = Some(d),
                            // an update whose header does not validate still brings its
                            // files; the register keeps the earlier description
                            Ok(_) | Err(_) => {
                                tracing::warn!(request = req.id, "gói cập nhật có tiêu đề không hợp lệ; giữ mô tả cũ (update header invalid)")
                            }
                        }
                        let inc = req.incoming_id.as_deref().unwrap_or_default();
                        let have: Vec<String> = self
                            .store()
                            .files_of(inc)?
                            .into_iter()
                            .map(|f| f.sha256)
                            .collect();
                        for (index, info) in &sink.stored {
                            if have.contains(&info.sha256) {
                                // the same bytes are already attached: keep one copy
                                let _ = blobs.remove(&info.id);
                                continue;
                            }
                            let a = msg.attachments.iter().find(|a| a.index == *index);
                            let name = a
                                .and_then(|a| a.attachment_name.clone())
                                .filter(|n| !n.trim().is_empty())
                                .unwrap_or_else(|| format!("dinh-kem-{}", index + 1));
                            sink_blobs.push(info.id.clone());
                            new_files.push((
                                name,
                                a.and_then(|a| a.content_type.clone()),
                                info.clone(),
                            ));
                        }
                    }
                    Err(e) => {
                        sink.discard();
                        return Err(AppError::BadInput(format!(
                            "Gói cập nhật không đọc được: {e} (update package unreadable)"
                        )));
                    }
                }
            }
        }
        let info = write_status(&blobs, &s, &agency.name, &origin, &code, &desc, &actor)?;
        let blob_id = info.id.clone();
        let res = self.store_mut().write(&actor, |tx| {
            let ref_id = req.incoming_id.clone().unwrap_or_else(|| req.id.clone());
            if accept {
                if let Some(inc) = &req.incoming_id {
                    match req.kind.as_str() {
                        "replace" => {
                            tx.execute_json(
                                "UPDATE axis_incoming SET revoked_at = ?2, last_status = '15'
                                 WHERE incoming_id = ?1",
                                &[json!(inc), json!(rfc3339(tx.now))],
                            )?;
                            tx.audit(
                                "incoming.replaced",
                                inc,
                                json!({"request": req.id, "by": req.new_incoming_id}),
                            )?;
                        }
                        "revoke" | "take_back" => {
                            tx.execute_json(
                                "UPDATE axis_incoming SET revoked_at = ?2, last_status = '15'
                                 WHERE incoming_id = ?1",
                                &[json!(inc), json!(rfc3339(tx.now))],
                            )?;
                            tx.audit(
                                "incoming.revoked",
                                inc,
                                json!({"request": req.id, "reason": req.reason}),
                            )?;
                        }
                        "update" => {
                            for (name, ct, info) in &new_files {
                                let ct = ct.as_deref().or_else(|| content_type_of(name));
                                tx.attach_file(inc, name, ct, info)?;
                            }
                            let mut changed = Vec::new();
                            if let Some(d) = &amended {
                                let why = format!(
                                    "Cập nhật theo yêu cầu của nơi gửi {} ({})",
                                    req.sender,
                                    req.reason.as_deref().unwrap_or("")
                                );
                                changed = tx
                                    .amend_incoming(inc, &why, |row| apply_draft(row, d))?
                                    .into_iter()
                                    .map(|(k, _, _)| k)
                                    .collect();
                            }
                            tx.execute_json(
                                "UPDATE axis_incoming SET updated_at = ?2, last_status = '15'
                                 WHERE incoming_id = ?1",
                                &[json!(inc), json!(rfc3339(tx.now))],
                            )?;
                            tx.audit(
                                "incoming.updated",
                                inc,
                                json!({"request": req.id, "files": new_files.len(), "fields": changed}),
                            )?;
                        }
                        _ => {}
                    }
                }
            }
            let row = insert_outbox(
                tx,
                &info,
                "status",
                "status",
                &ref_id,
                Some(code.as_str()),
                std::slice::from_ref(&req.sender),
            )?;
            tx.execute_json(
                "UPDATE axis_request SET state = ?2, decided_at = ?3 WHERE id = ?1",
                &[
                    json!(req.id),
                    json!(if accept { "accepted" } else { "refused" }),
                    json!(rfc3339(tx.now)),
                ],
            )?;
            tx.audit(
                if accept {
                    "axis.request.accept"
                } else {
                    "axis.request.refuse"
                },
                &ref_id,
                json!({"request": req.id, "kind": req.kind, "reason": desc}),
            )?;
            Ok::<_, AppError>(row)
        });
        if res.is_err() {
            let _ = blobs.remove(&blob_id);
            for b in &sink_blobs {
                let _ = blobs.remove(b);
            }
        }
        res
    }

    /// Status history of an outgoing document, per recipient.
    pub fn exchange_status(&self, outgoing_id: &str) -> Result<StatusHistory, AppError> {
        let row = self.get_outgoing(outgoing_id)?;
        let outbox: Vec<OutboxRow> = self.store().query_rows(
            "SELECT * FROM axis_outbox WHERE ref_id = ?1 AND message_type = 'edoc'
             AND business = 'new' ORDER BY rowid",
            &[json!(outgoing_id)],
        )?;
        let statuses: Vec<StatusEntry> = self.store().query_rows(
            "SELECT from_organ, code, description, timestamp, received_at FROM axis_status
             WHERE outgoing_id = ?1 ORDER BY timestamp, code",
            &[json!(outgoing_id)],
        )?;
        let mut recipients: Vec<RecipientStatus> = Vec::new();
        for o in &outbox {
            let to: Vec<String> = serde_json::from_str(&o.recipients).unwrap_or_default();
            for t in to {
                match recipients.iter_mut().find(|r| r.organ_id == t) {
                    Some(r) => r.delivery = o.state.clone(),
                    None => recipients.push(RecipientStatus {
                        organ_id: t,
                        delivery: o.state.clone(),
                        axis_receive_status: None,
                        axis_received_time: None,
                        statuses: Vec::new(),
                    }),
                }
            }
        }
        for s in statuses {
            let view = StatusView {
                label: StatusCode::parse(&s.code).label_vi().to_string(),
                code: s.code,
                description: s.description,
                timestamp: s.timestamp,
                received_at: s.received_at,
            };
            match recipients.iter_mut().find(|r| r.organ_id == s.from_organ) {
                Some(r) => r.statuses.push(view),
                None => recipients.push(RecipientStatus {
                    organ_id: s.from_organ,
                    delivery: "unknown".into(),
                    axis_receive_status: None,
                    axis_received_time: None,
                    statuses: vec![view],
                }),
            }
        }
        let deliveries: Vec<Value> = self.store().query_rows(
            "SELECT d.organ_id, d.receive_status, d.received_time FROM axis_delivery d
             JOIN axis_outbox o ON o.id = d.outbox_id
             WHERE o.ref_id = ?1 AND o.business = 'new' ORDER BY o.rowid, d.checked_at",
            &[json!(outgoing_id)],
        )?;
        for d in deliveries {
            let organ = d["organ_id"].as_str().unwrap_or_default();
            if let Some(r) = recipients.iter_mut().find(|r| r.organ_id == organ) {
                let st = d["receive_status"].as_str().map(str::to_string);
                // one copy taken is enough (a duplicate delivery may leave another pending)
                if r.axis_receive_status.as_deref() != Some("done") {
                    r.axis_receive_status = st;
                    r.axis_received_time = d["received_time"]
                        .as_str()
                        .filter(|t| !t.is_empty())
                        .map(str::to_string);
                }
            }
        }
        Ok(StatusHistory {
            id: row.id,
            document_id: row.document_id,
            recipients,
        })
    }

    /// One sync pass: send what is due, receive (documents, then statuses), send again (the
    /// 01 statuses of what just arrived). Network failures are reported, never raised.
    pub fn sync_once(&mut self, t: &dyn Transport) -> Result<SyncReport, AppError> {
        let mut report = SyncReport::default();
        let age = now_ms() - self.directory_refreshed_ms()?;
        if age > DIRECTORY_MAX_AGE_MS {
            if let Err(e) = self.refresh_directory(t) {
                match e {
                    DirError::Axis(e) => report.failed.push(failure("directory".into(), &e, true)),
                    DirError::App(e) => return Err(e),
                }
            }
        }
        self.send_due(t, &mut report)?;
        for kind in [MessageType::Edoc, MessageType::Status] {
            self.receive(t, kind, &mut report)?;
        }
        self.check_arrived_signatures(&mut report)?;
        self.send_due(t, &mut report)?;
        self.track_deliveries(t, &mut report)?;
        self.check_clock(t, &mut report)?;
        Ok(report)
    }

    /// Validates the signed PDFs that arrived (and any left unchecked by an interrupted run)
    /// and adds the verdicts to the arrivals. A failure here never fails the sync: the
    /// document is registered and acknowledged already, and the check is retried next time.
    fn check_arrived_signatures(&mut self, report: &mut SyncReport) -> Result<(), AppError> {
        for doc in self.unchecked_signature_documents(50)? {
            match self.check_signatures(&doc) {
                Ok(checks) => {
                    for a in report
                        .received
                        .iter_mut()
                        .filter(|a| a.incoming_id.as_deref() == Some(doc.as_str()))
                    {
                        for c in &checks {
                            a.signatures.push(c.clone());
                            a.detail
                                .push_str(&format!("; chữ ký số {}: {}", c.name, c.verdict));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        document = doc,
                        "kiểm tra chữ ký số lỗi (signature check failed): {e}"
                    );
                    report.warnings.push(format!(
                        "Chưa kiểm tra được chữ ký số của văn bản {doc}: {e} (signature check failed; retried next sync)"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Warns when our clock is more than five minutes from the axis's (its HTTP `Date`):
    /// edXML times and signed request timestamps would be wrong. Recorded in the audit
    /// trail once a day while it lasts, shown on every sync.
    fn check_clock(&mut self, t: &dyn Transport, report: &mut SyncReport) -> Result<(), AppError> {
        let Some(skew) = t.clock_skew_ms() else {
            return Ok(());
        };
        if skew.abs() <= CLOCK_SKEW_WARN_MS {
            return Ok(());
        }
        let mins = (skew.abs() + 30_000) / 60_000;
        let (vi, en) = if skew > 0 {
            ("chậm hơn", "behind")
        } else {
            ("nhanh hơn", "ahead of")
        };
        report.warnings.push(format!(
            "Đồng hồ máy tính {vi} trục liên thông khoảng {mins} phút: hãy chỉnh ngày giờ của máy, vì thời gian trên văn bản và trạng thái gửi đi lấy theo đồng hồ này (the local clock is about {mins} min {en} the axis)"
        ));
        let last: Vec<Value> = self.store().query_rows(
            "SELECT data FROM audit WHERE action = 'axis.clock_skew' ORDER BY seq DESC LIMIT 1",
            &[],
        )?;
        let last_ms = last
            .first()
            .and_then(|v| v["data"].as_str())
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .and_then(|d| d["at_ms"].as_i64())
            .unwrap_or(0);
        let now = now_ms();
        if now - last_ms >= 24 * 3600 * 1000 {
            let actor = self.actor_name();
            self.store_mut().write(&actor, |tx| {
                tx.audit(
                    "axis.clock_skew",
                    "axis",
                    json!({"skew_ms": skew, "at_ms": now}),
                )?;
                Ok::<_, AppError>(())
            })?;
        }
        Ok(())
    }

    /// Asks the axis how each recipient's copy of our sent documents fares
    /// (`getSentEdocList`) until every copy is final.
    fn track_deliveries(
        &mut self,
        t: &dyn Transport,
        report: &mut SyncReport,
    ) -> Result<(), AppError> {
        let rows: Vec<OutboxRow> = self.store().query_rows(
            "SELECT * FROM axis_outbox WHERE message_type = 'edoc' AND state = 'sent'
             AND delivered = 0 AND axis_doc_id IS NOT NULL ORDER BY rowid LIMIT 500",
            &[],
        )?;
        for row in rows {
            let doc_id = row.axis_doc_id.clone().unwrap_or_default();
            let list = match t.delivery_report(MessageType::Edoc, &doc_id) {
                Ok(l) => l,
                Err(e) => {
                    report
                        .failed
                        .push(failure(format!("delivery {doc_id}"), &e, true));
                    return Ok(()); // the axis is unwell: try the others next time
                }
            };
            let all_final = !list.is_empty()
                && list
                    .iter()
                    .all(|d| d.receive_status == "done" || d.receive_status == "fail");
            let actor = self.actor_name();
            self.store_mut().write(&actor, |tx| {
                let now = rfc3339(tx.now);
                for d in &list {
                    tx.execute_json(
                        "INSERT INTO axis_delivery (outbox_id, receiver_doc_id, organ_id,
                         receive_status, received_time, checked_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (outbox_id, receiver_doc_id) DO UPDATE SET
                         receive_status = ?4, received_time = ?5, checked_at = ?6",
                        &[
                            json!(row.id),
                            json!(d.receiver_doc_id),
                            json!(d.to_code),
                            json!(d.receive_status),
                            json!(d.received_time),
                            json!(now),
                        ],
                    )?;
                }
                if all_final {
                    tx.execute_json(
                        "UPDATE axis_outbox SET delivered = 1 WHERE id = ?1",
                        &[json!(row.id)],
                    )?;
                }
                Ok::<_, AppError>(())
            })?;
        }
        Ok(())
    }

    fn send_due(&mut self, t: &dyn Transport, report: &mut SyncReport) -> Result<(), AppError> {
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        let due: Vec<OutboxRow> = self.store().query_rows(
            "SELECT * FROM axis_outbox WHERE state = 'ready' AND next_at <= ?1 ORDER BY rowid",
            &[json!(now_ms())],
        )?;
        for row in due {
            let to: Vec<String> = serde_json::from_str(&row.recipients).unwrap_or_default();
            let mt = if row.message_type == "status" {
                MessageType::Status
            } else {
                MessageType::Edoc
            };
            // streamed from the encrypted blob: the same bytes on every attempt
            let size = if row.size > 0 {
                row.size as u64
            } else {
                // queued before sizes were recorded: measure the blob
                let mut r = self.store().blobs().open_blob(&row.blob_id)?;
                std::io::copy(&mut r, &mut std::io::sink())
                    .map_err(|e| StoreError::BlobCorrupt(format!("{}: {e}", row.blob_id)))?
            };
            let body = self.store().blobs().open_blob(&row.blob_id)?;
            let mut sha256 = [0u8; 32];
            hex::decode_to_slice(&row.sha256, &mut sha256)
                .map_err(|_| StoreError::BlobCorrupt(format!("{}: sha256", row.blob_id)))?;
            let res = t.send(Outgoing {
                message_type: mt,
                to: &to,
                body: Box::new(body),
                size,
                sha256,
            });
            let actor = self.actor_name();
            match res {
                Ok(doc_id) => {
                    self.store_mut().write(&actor, |tx| {
                        tx.execute_json(
                            "UPDATE axis_outbox SET state = 'sent', axis_doc_id = ?2, sent_at = ?3,
                             attempts = attempts + 1, last_error = NULL WHERE id = ?1",
                            &[json!(row.id), json!(doc_id), json!(rfc3339(tx.now))],
                        )?;
                        tx.audit(
                            "axis.sent",
                            &row.ref_id,
                            json!({"outbox": row.id, "doc_id": doc_id}),
                        )
                    })?;
                    tracing::info!(outbox = row.id, doc_id, "đã gửi (sent)");
                    report.sent.push(Departed {
                        outbox_id: row.id.clone(),
                        message_type: row.message_type.clone(),
                        status_code: row.status_code.clone(),
                        ref_id: row.ref_id.clone(),
                        to,
                        axis_doc_id: doc_id,
                    });
                }
                Err(e) => {
                    let attempts = row.attempts + 1;
                    let retry = e.is_retryable() && attempts < s.send_attempts.max(1);
                    let next = now_ms() + backoff_ms(attempts, s.retry_base_ms, s.retry_cap_ms);
                    let msg = e.to_string();
                    self.store_mut().write(&actor, |tx| {
                        tx.execute_json(
                            "UPDATE axis_outbox SET state = ?2, attempts = ?3, next_at = ?4,
                             last_error = ?5 WHERE id = ?1",
                            &[
                                json!(row.id),
                                json!(if retry { "ready" } else { "failed" }),
                                json!(attempts),
                                json!(next),
                                json!(msg),
                            ],
                        )?;
                        if !retry {
                            tx.audit(
                                "axis.send_failed",
                                &row.ref_id,
                                json!({"outbox": row.id, "error": msg}),
                            )?;
                        }
                        Ok::<_, AppError>(())
                    })?;
                    tracing::warn!(outbox = row.id, "gửi không thành công (send failed): {msg}");
                    report.failed.push(Failure {
                        what: format!("send {} {}", row.message_type, row.id),
                        error: msg,
                        will_retry: retry,
                    });
                }
            }
        }
        Ok(())
    }

    fn receive(
        &mut self,
        t: &dyn Transport,
        kind: MessageType,
        report: &mut SyncReport,
    ) -> Result<(), AppError> {
        let items = match t.list_pending(kind) {
            Ok(i) => i,
            Err(e) => {
                report
                    .failed
                    .push(failure(format!("list {}", kind.as_str()), &e, true));
                return Ok(());
            }
        };
        for item in items {
            let known: Vec<(String, i64)> = self
                .store()
                .query_rows::<Value>(
                    "SELECT outcome, acked FROM axis_inbox WHERE axis_doc_id = ?1",
                    &[json!(item.doc_id)],
                )?
                .into_iter()
                .map(|v| {
                    (
                        v["outcome"].as_str().unwrap_or("").to_string(),
                        v["acked"].as_i64().unwrap_or(0),
                    )
                })
                .collect();
            let ok = if let Some((outcome, _)) = known.first() {
                // stored before, the ack was lost: acknowledge again
                outcome != "quarantined"
            } else {
                // streamed into an encrypted blob: never the whole package in memory
                let blobs = self.store().blobs().clone();
                let mut w = blobs.create()?;
                let raw = match t.download(&item.doc_id, &mut w).map(|_| w.finish()) {
                    Ok(Ok(info)) => info,
                    Ok(Err(e)) => return Err(e.into()),
                    Err(e) => {
                        report
                            .failed
                            .push(failure(format!("download {}", item.doc_id), &e, true));
                        continue;
                    }
                };
                let arrived = self.apply(&item.doc_id, &item.from, kind, raw)?;
                let ok = arrived.outcome != "quarantined";
                report.received.push(arrived);
                ok
            };
            match t.ack(&item.doc_id, ok) {
                Ok(()) => {
                    let actor = self.actor_name();
                    self.store_mut().write(&actor, |tx| {
                        tx.execute_json(
                            "UPDATE axis_inbox SET acked = 1, acked_at = ?2 WHERE axis_doc_id = ?1",
                            &[json!(item.doc_id), json!(rfc3339(tx.now))],
                        )
                    })?;
                }
                Err(e) => {
                    report
                        .failed
                        .push(failure(format!("ack {}", item.doc_id), &e, true));
                }
            }
        }
        Ok(())
    }

    /// Stores and applies one downloaded package in one transaction with its inbox row.
    fn apply(
        &mut self,
        axis_doc_id: &str,
        from: &str,
        kind: MessageType,
        raw: vanthu_store::BlobInfo,
    ) -> Result<Arrived, AppError> {
        let blobs = self.store().blobs().clone();
        let mut sink = BlobSink::new(&blobs);
        let parsed = match blobs.open_blob(&raw.id) {
            Ok(r) => vanthu_edxml::read_message(
                BufReader::with_capacity(256 * 1024, r),
                &mut sink,
                &ReadOptions::default(),
            ),
            Err(e) => {
                let _ = blobs.remove(&raw.id);
                return Err(e.into());
            }
        };
        let s = self.axis_settings()?.ok_or_else(config_missing)?;
        let agency = self.agency()?;
        let actor = self.actor_name();
        let mut status_blob: Option<vanthu_store::BlobInfo> = None;
        let plan = match &parsed {
            Err(e) => Plan::Quarantine(format!("Gói edXML không hợp lệ: {e}")),
            Ok(msg) => plan_for(msg, kind, &raw.sha256),
        };
        // A new document: prepare its 01 status now (a blob, outside the transaction).
        if let Plan::Register { .. } = &plan {
            if let Ok(msg) = &parsed {
                let h = msg.edoc().expect("planned from an edoc");
                let origin = AxisIncoming {
                    last_status: None,
                    revoked_at: None,
                    sender: h.from.organ_id.clone(),
                    document_id: h.document_id.clone(),
                    code: Some(format!("{}/{}", h.code.code_number, h.code.code_notation)),
                    promulgation_date: Some(h.promulgation_info.promulgation_date.clone()),
                };
                status_blob = Some(write_status(
                    &blobs,
                    &s,
                    &agency.name,
                    &origin,
                    &StatusCode::Arrived,
                    StatusCode::Arrived.label_vi(),
                    &actor,
                )?);
            }
        }
        let prepared: Vec<Prepared> = match &parsed {
            Ok(msg) => sink
                .stored
                .iter()
                .map(|(index, info)| {
                    let a = msg.attachments.iter().find(|a| a.index == *index);
                    let name = a
                        .and_then(|a| a.attachment_name.clone())
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| format!("dinh-kem-{}", index + 1));
                    (name, a.and_then(|a| a.content_type.clone()), info.clone())
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let sha = raw.sha256.clone();
        let from_owned = from.to_string();
        let res = self.store_mut().write(&actor, |tx| {
            // a concurrent sync may have applied it meanwhile
            let seen: Vec<Value> = tx.query_rows(
                "SELECT outcome, incoming_id FROM axis_inbox WHERE axis_doc_id = ?1",
                &[json!(axis_doc_id)],
            )?;
            if let Some(v) = seen.first() {
                return Ok::<_, AppError>((
                    Arrived {
                        axis_doc_id: axis_doc_id.to_string(),
                        from: from_owned.clone(),
                        outcome: v["outcome"].as_str().unwrap_or("").to_string(),
                        incoming_id: v["incoming_id"].as_str().map(str::to_string),
                        so_den: None,
                        detail: "đã nhận trước đó (already stored)".into(),
                        signatures: Vec::new(),
                    },
                    false,
                ));
            }
            let (arrived, keep_files) =
                apply_in_tx(
                tx,
                &blobs,
                &plan,
                &prepared,
                status_blob.as_ref(),
                axis_doc_id,
                &from_owned,
            )?;
            tx.execute_json(
                "INSERT INTO axis_inbox (axis_doc_id, message_type, from_organ, raw_blob_id,
                 sha256, identity, outcome, incoming_id, detail, acked, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10)",
                &[
                    json!(axis_doc_id),
                    json!(kind.as_str()),
                    json!(from_owned),
                    json!(raw.id),
                    json!(sha),
                    json!(plan.identity()),
                    json!(arrived.outcome),
                    json!(arrived.incoming_id),
                    json!(arrived.detail),
                    json!(rfc3339(tx.now)),
                ],
            )?;
            tx.audit(
                "axis.received",
                axis_doc_id,
                json!({"from": from_owned, "outcome": arrived.outcome, "incoming_id": arrived.incoming_id, "sha256": sha}),
            )?;
            announce(tx, &arrived, &plan)?;
            Ok((arrived, keep_files))
        });
        match res {
            Ok((arrived, keep_files)) => {
                if !keep_files {
                    sink.discard();
                }
                if arrived.outcome != "registered" {
                    if let Some(b) = &status_blob {
                        let _ = blobs.remove(&b.id);
                    }
                }
                if arrived.detail.starts_with("đã nhận trước đó") {
                    let _ = blobs.remove(&raw.id);
                }
                tracing::info!(axis_doc_id, outcome = arrived.outcome, "đã nhận (received)");
                Ok(arrived)
            }
            Err(e) => {
                sink.discard();
                let _ = blobs.remove(&raw.id);
                if let Some(b) = &status_blob {
                    let _ = blobs.remove(&b.id);
                }
                Err(e)
            }
        }
    }
}

/// The sender's new version of a registered document's description (an accepted type-2
/// update). Fields the update leaves out (page count, deadline) keep the clerk's values.
fn apply_draft(row: &mut vanthu_store::IncomingRow, d: &vanthu_core::incoming::IncomingDraft) {
    row.tac_gia = d.tac_gia.clone();
    row.tac_gia_ma = d.tac_gia_ma.clone();
    row.so_ky_hieu = d.so_ky_hieu.clone();
    row.khong_so = d.khong_so;
    row.ngay_van_ban = d.ngay_van_ban.to_string();
    row.loai = d.loai.clone();
    row.trich_yeu = d.trich_yeu.clone();
    row.do_khan = d.do_khan.code().to_string();
    row.nguoi_ky = d.nguoi_ky.clone();
    row.chuc_vu = d.chuc_vu.clone();
    if d.so_trang.is_some() {
        row.so_trang = d.so_trang;
    }
    if let Some(h) = d.han_giai_quyet {
        row.han_giai_quyet = Some(h.to_string());
    }
    row.dup_key = crate::register::dup_key_of(d);
}

/// The clerk's notification for what just arrived (same transaction: exactly once).
fn announce(tx: &mut Tx<'_>, arrived: &Arrived, plan: &Plan) -> Result<(), AppError> {
    let sender = |code: &str| -> Result<String, AppError> {
        let v: Vec<Value> = tx.query_rows(
            "SELECT name FROM axis_directory WHERE code = ?1",
            &[json!(code)],
        )?;
        Ok(v.first()
            .and_then(|v| v["name"].as_str())
            .map(|n| format!("{n} ({code})"))
            .unwrap_or_else(|| code.to_string()))
    };
    match (arrived.outcome.as_str(), plan) {
        ("registered", _) => {
            let from = sender(&arrived.from)?;
            crate::notify::record(
                tx,
                "arrival",
                arrived.incoming_id.as_deref(),
                &format!("Văn bản mới đến từ {from}"),
                &arrived.detail,
            )
        }
        ("request", Plan::Request { kind, reason, .. }) => {
            let from = sender(&arrived.from)?;
            let what = match *kind {
                "revoke" => "thu hồi",
                "update" => "cập nhật",
                "take_back" => "lấy lại",
                _ => "thay đổi",
            };
            crate::notify::record(
                tx,
                "request",
                arrived.incoming_id.as_deref(),
                &format!("{from} yêu cầu {what} văn bản đã gửi"),
                &format!(
                    "{} — cần văn thư đồng ý hoặc từ chối",
                    reason.as_deref().unwrap_or("")
                ),
            )
        }
        (
            "status",
            Plan::Status {
                from,
                document_id,
                code,
                ..
            },
        ) => {
            let out: Vec<Value> = tx.query_rows(
                "SELECT id FROM outgoing WHERE document_id = ?1",
                &[json!(document_id)],
            )?;
            let oid = out
                .first()
                .and_then(|v| v["id"].as_str())
                .map(str::to_string);
            let who = sender(from)?;
            crate::notify::record(
                tx,
                "status",
                oid.as_deref(),
                &format!("{who}: {code} {}", StatusCode::parse(code).label_vi()),
                &arrived.detail,
            )
        }
        _ => Ok(()),
    }
}

/// The incoming workflow (clerical rules §2.2): 01 arrived → 03 registered/accepted (or 02
/// returned) → 04 assigned → 05 being handled → 06 completed. An unaccepted document cannot be
/// assigned; a returned, completed or revoked one takes no further status.
fn check_transition(origin: &AxisIncoming, code: &StatusCode) -> Result<(), AppError> {
    if origin.revoked_at.is_some() {
        return Err(AppError::BadInput(
            "Văn bản đã bị thu hồi; không báo trạng thái nữa (document revoked)".into(),
        ));
    }
    let last = origin.last_status.as_deref().unwrap_or("01");
    let allowed: &[&str] = match code {
        StatusCode::Refused | StatusCode::Accepted => &["01"],
        StatusCode::Assigned => &["03", "04"],
        StatusCode::Processing => &["03", "04", "05"],
        StatusCode::Completed => &["03", "04", "05"],
        _ => &[],
    };
    if allowed.contains(&last) {
        return Ok(());
    }
    let hint = match code {
        StatusCode::Assigned | StatusCode::Processing | StatusCode::Completed => {
            " — cần tiếp nhận, vào sổ (03) trước (accept with 03 first)"
        }
        _ => "",
    };
    Err(AppError::BadInput(format!(
        "Không chuyển được từ trạng thái {last} ({}) sang {} ({}){hint} (status transition not allowed)",
        StatusCode::parse(last).label_vi(),
        code.as_str(),
        code.label_vi()
    )))
}

fn failure(what: String, e: &AxisError, default_retry: bool) -> Failure {
    Failure {
        what,
        error: e.to_string(),
        will_retry: default_retry,
    }
}

fn client_config(s: &AxisSettings) -> vanthu_axis::ClientConfig {
    vanthu_axis::ClientConfig {
        endpoint: s.endpoint.clone(),
        system_id: s.system_id.clone(),
        secret: vanthu_axis::Secret::new(s.secret.clone()),
        organ_id: s.organ_id.clone(),
        hash_padded: s.hash_padded != 0,
        timeout: std::time::Duration::from_secs(120),
        tls_ca_pem: s.tls_ca_pem.as_ref().map(|p| p.as_bytes().to_vec()),
        // The environment's proxy, if any (a settings field comes with the settings screen).
        proxy: None,
    }
}

fn insert_outbox(
    tx: &mut Tx<'_>,
    info: &vanthu_store::BlobInfo,
    message_type: &str,
    business: &str,
    ref_id: &str,
    status_code: Option<&str>,
    to: &[String],
) -> Result<OutboxRow, AppError> {
    let row = OutboxRow {
        id: vanthu_store::fsutil::random_id(),
        message_type: message_type.into(),
        business: business.into(),
        ref_id: ref_id.into(),
        status_code: status_code.map(str::to_string),
        recipients: serde_json::to_string(to).expect("strings serialise"),
        blob_id: info.id.clone(),
        sha256: info.sha256.clone(),
        size: info.size as i64,
        state: "ready".into(),
        attempts: 0,
        next_at: 0,
        last_error: None,
        axis_doc_id: None,
        delivered: 0,
        created_at: rfc3339(tx.now),
        sent_at: None,
    };
    tx.execute_json(
        "INSERT INTO axis_outbox (id, message_type, ref_id, status_code, recipients, blob_id,
         sha256, state, attempts, next_at, created_at, business, size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ready', 0, 0, ?8, ?9, ?10)",
        &[
            json!(row.id),
            json!(row.message_type),
            json!(row.ref_id),
            json!(row.status_code),
            json!(row.recipients),
            json!(row.blob_id),
            json!(row.sha256),
            json!(row.created_at),
            json!(row.business),
            json!(row.size),
        ],
    )?;
    Ok(row)
}

/// Writes a status message answering `origin` into a new encrypted blob.
fn write_status(
    blobs: &vanthu_store::BlobStore,
    s: &AxisSettings,
    agency_name: &str,
    origin: &AxisIncoming,
    code: &StatusCode,
    description: &str,
    staff: &str,
) -> Result<vanthu_store::BlobInfo, AppError> {
    let msg = Message {
        header: Header::Status(Box::new(StatusHeader {
            from: Organization {
                organ_add: Some(agency_name.to_string()),
                ..Organization::new(&s.organ_id, agency_name)
            },
            response_for: ResponseFor {
                organ_id: Some(origin.sender.clone()),
                code: origin.code.clone(),
                document_id: Some(origin.document_id.clone()),
                promulgation_date: origin.promulgation_date.clone(),
            },
            staff_info: Some(StaffInfo {
                staff: Some(staff.to_string()),
                ..StaffInfo::default()
            }),
            status_code: code.clone(),
            description: Some(description.to_string()),
            timestamp: vanthu_edxml::now_vn_timestamp(),
        })),
        trace: None,
        signature: SignatureKind::Absent,
        manifest: Vec::new(),
        attachments: Vec::new(),
        diagnostics: Vec::new(),
    };
    let mut w = blobs.create()?;
    vanthu_edxml::write_message(&msg, Vec::new(), &mut w, &WriteOptions::default())
        .map_err(|e| AppError::BadInput(format!("Không tạo được thông báo trạng thái: {e}")))?;
    Ok(w.finish()?)
}

/// What to do with a parsed package.
enum Plan {
    Register {
        input: Box<crate::input::IncomingInput>,
        sender: String,
        document_id: String,
        code: String,
        promulgation_date: String,
        /// DocumentIds this document replaces (type 3): each becomes a pending request.
        replaces: Vec<String>,
    },
    Status {
        from: String,
        document_id: String,
        code: String,
        description: Option<String>,
        timestamp: String,
    },
    Request {
        kind: &'static str,
        sender: String,
        target: String,
        reason: Option<String>,
        identity: String,
    },
    Quarantine(String),
}

impl Plan {
    fn identity(&self) -> Option<String> {
        match self {
            Plan::Register {
                sender,
                document_id,
                ..
            } => Some(format!("edoc|{sender}|{document_id}")),
            Plan::Status {
                from,
                document_id,
                code,
                timestamp,
                ..
            } => Some(format!("status|{from}|{document_id}|{code}|{timestamp}")),
            Plan::Request { identity, .. } => Some(identity.clone()),
            Plan::Quarantine(_) => None,
        }
    }
}

fn plan_for(msg: &Message, listed_as: MessageType, sha256: &str) -> Plan {
    if let Some(st) = msg.status() {
        let Some(doc) = st.response_for.document_id.clone() else {
            return Plan::Quarantine("Thông báo trạng thái thiếu ResponseFor/DocumentId".into());
        };
        if st.status_code == StatusCode::TakeBackRequested {
            return Plan::Request {
                kind: "take_back",
                sender: st.from.organ_id.clone(),
                target: doc.clone(),
                reason: st.description.clone(),
                identity: format!("status|{}|{doc}|13|{}", st.from.organ_id, st.timestamp),
            };
        }
        return Plan::Status {
            from: st.from.organ_id.clone(),
            document_id: doc,
            code: st.status_code.as_str().to_string(),
            description: st.description.clone(),
            timestamp: st.timestamp.clone(),
        };
    }
    let Some(h) = msg.edoc() else {
        return Plan::Quarantine("Gói tin không rõ loại".into());
    };
    if listed_as == MessageType::Status {
        tracing::warn!("gói văn bản nằm trong danh sách trạng thái (edoc listed as status)");
    }
    match msg.business_doc_type() {
        Some(BusinessDocType::New) | None => match input_from_message(msg) {
            Ok(input) => Plan::Register {
                input: Box::new(input),
                sender: h.from.organ_id.clone(),
                document_id: h.document_id.clone(),
                code: format!("{}/{}", h.code.code_number, h.code.code_notation),
                promulgation_date: h.promulgation_info.promulgation_date.clone(),
                replaces: Vec::new(),
            },
            Err(e) => Plan::Quarantine(e.to_string()),
        },
        // A replacement is a new document (registered with its own số đến) that also asks
        // for the replaced ones to be superseded.
        Some(BusinessDocType::Replace) => {
            let mut as_new = msg.clone();
            if let Some(b) = as_new.trace.as_mut().and_then(|t| t.business.as_mut()) {
                b.doc_type = BusinessDocType::New;
            }
            let mut replaces: Vec<String> = Vec::new();
            for r in msg
                .business()
                .map(|b| b.replacements.as_slice())
                .unwrap_or(&[])
            {
                if !r.document_id.trim().is_empty() && !replaces.contains(&r.document_id) {
                    replaces.push(r.document_id.clone());
                }
            }
            match input_from_message(&as_new) {
                Ok(input) => Plan::Register {
                    input: Box::new(input),
                    sender: h.from.organ_id.clone(),
                    document_id: h.document_id.clone(),
                    code: format!("{}/{}", h.code.code_number, h.code.code_notation),
                    promulgation_date: h.promulgation_info.promulgation_date.clone(),
                    replaces,
                },
                Err(e) => Plan::Quarantine(e.to_string()),
            }
        }
        Some(t) => {
            let b = msg.business();
            let target = match t {
                BusinessDocType::Update => b
                    .and_then(|b| b.document_id.clone())
                    .unwrap_or_else(|| h.document_id.clone()),
                BusinessDocType::Replace => b
                    .and_then(|b| b.replacements.first())
                    .map(|r| r.document_id.clone())
                    .unwrap_or_else(|| h.document_id.clone()),
                _ => h.document_id.clone(),
            };
            let kind = match t {
                BusinessDocType::Revoke => "revoke",
                BusinessDocType::Update => "update",
                BusinessDocType::Replace => "replace",
                _ => "unknown",
            };
            Plan::Request {
                kind,
                sender: h.from.organ_id.clone(),
                target,
                reason: b.and_then(|b| b.reason.clone()),
                identity: format!(
                    "edoc|{}|{}|{}|{sha256}",
                    h.from.organ_id,
                    h.document_id,
                    t.as_str()
                ),
            }
        }
    }
}

/// Applies a plan inside the transaction; returns the arrival and whether the attachment
/// blobs are now referenced (kept).
fn apply_in_tx(
    tx: &mut Tx<'_>,
    blobs: &vanthu_store::BlobStore,
    plan: &Plan,
    prepared: &[Prepared],
    status_blob: Option<&vanthu_store::BlobInfo>,
    axis_doc_id: &str,
    from: &str,
) -> Result<(Arrived, bool), AppError> {
    let mk =
        |outcome: &str, incoming_id: Option<String>, so_den: Option<u64>, detail: String| Arrived {
            axis_doc_id: axis_doc_id.to_string(),
            from: from.to_string(),
            outcome: outcome.to_string(),
            incoming_id,
            so_den,
            detail,
            signatures: Vec::new(),
        };
    match plan {
        Plan::Quarantine(why) => Ok((mk("quarantined", None, None, why.clone()), false)),
        Plan::Register {
            input,
            sender,
            document_id,
            code,
            promulgation_date,
            replaces,
        } => {
            let existing: Vec<Value> = tx.query_rows(
                "SELECT incoming_id FROM axis_incoming WHERE sender = ?1 AND document_id = ?2",
                &[json!(sender), json!(document_id)],
            )?;
            if let Some(v) = existing.first() {
                let id = v["incoming_id"].as_str().map(str::to_string);
                return Ok((
                    mk(
                        "duplicate",
                        id,
                        None,
                        format!(
                            "Bản trùng của văn bản {document_id} đã vào sổ (duplicate delivery)"
                        ),
                    ),
                    false,
                ));
            }
            let mut written = Vec::new();
            let reg = tx.scoped(|tx| register_one(tx, blobs, input, None, &mut written, prepared));
            let reg = match reg {
                Ok(r) => r,
                Err(AppError::Duplicate(hits)) => {
                    let id = hits.first().map(|h| h.id.clone());
                    return Ok((
                        mk(
                            "duplicate",
                            id,
                            None,
                            format!("Trùng số, ký hiệu với văn bản đã vào sổ; không vào sổ lại ({document_id})"),
                        ),
                        false,
                    ));
                }
                Err(AppError::Store(e)) => return Err(AppError::Store(e)),
                Err(e) => return Ok((mk("quarantined", None, None, e.to_string()), false)),
            };
            tx.execute_json(
                "INSERT INTO axis_incoming (incoming_id, sender, document_id, code,
                 promulgation_date, last_status) VALUES (?1, ?2, ?3, ?4, ?5, '01')",
                &[
                    json!(reg.id),
                    json!(sender),
                    json!(document_id),
                    json!(code),
                    json!(promulgation_date),
                ],
            )?;
            if let Some(b) = status_blob {
                insert_outbox(
                    tx,
                    b,
                    "status",
                    "status",
                    &reg.id,
                    Some("01"),
                    std::slice::from_ref(sender),
                )?;
            }
            for old in replaces {
                let orig: Vec<Value> = tx.query_rows(
                    "SELECT incoming_id FROM axis_incoming WHERE sender = ?1 AND document_id = ?2",
                    &[json!(sender), json!(old)],
                )?;
                tx.execute_json(
                    "INSERT INTO axis_request (id, axis_doc_id, kind, sender, target_document_id,
                     incoming_id, new_incoming_id, reason, state, created_at)
                     VALUES (?1, ?2, 'replace', ?3, ?4, ?5, ?6, ?7, 'pending', ?8)",
                    &[
                        json!(vanthu_store::fsutil::random_id()),
                        json!(axis_doc_id),
                        json!(sender),
                        json!(old),
                        json!(orig.first().and_then(|v| v["incoming_id"].as_str())),
                        json!(reg.id),
                        json!(format!("Thay thế bởi văn bản {document_id}")),
                        json!(rfc3339(tx.now)),
                    ],
                )?;
            }
            Ok((
                mk(
                    "registered",
                    Some(reg.id.clone()),
                    Some(reg.so_den),
                    format!("Số đến {}: {}", reg.so_den_text, reg.trich_yeu),
                ),
                true,
            ))
        }
        Plan::Status {
            from: reporter,
            document_id,
            code,
            description,
            timestamp,
        } => {
            let out: Vec<Value> = tx.query_rows(
                "SELECT id FROM outgoing WHERE document_id = ?1",
                &[json!(document_id)],
            )?;
            let Some(oid) = out
                .first()
                .and_then(|v| v["id"].as_str())
                .map(str::to_string)
            else {
                return Ok((
                    mk(
                        "orphan",
                        None,
                        None,
                        format!("Trạng thái {code} cho văn bản không rõ {document_id} (status for unknown document)"),
                    ),
                    false,
                ));
            };
            let n = tx.execute_json(
                "INSERT OR IGNORE INTO axis_status (outgoing_id, from_organ, code, description,
                 timestamp, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[
                    json!(oid),
                    json!(reporter),
                    json!(code),
                    json!(description),
                    json!(timestamp),
                    json!(rfc3339(tx.now)),
                ],
            )?;
            let label = StatusCode::parse(code).label_vi();
            Ok((
                mk(
                    if n == 0 { "duplicate" } else { "status" },
                    None,
                    None,
                    format!("{reporter}: {code} {label} ({document_id})"),
                ),
                false,
            ))
        }
        Plan::Request {
            kind,
            sender,
            target,
            reason,
            identity,
        } => {
            let dup: Vec<Value> = tx.query_rows(
                "SELECT axis_doc_id FROM axis_inbox WHERE identity = ?1",
                &[json!(identity)],
            )?;
            if !dup.is_empty() {
                return Ok((
                    mk(
                        "duplicate",
                        None,
                        None,
                        format!("Yêu cầu {kind} trùng ({target})"),
                    ),
                    false,
                ));
            }
            let orig: Vec<Value> = tx.query_rows(
                "SELECT incoming_id FROM axis_incoming WHERE sender = ?1 AND document_id = ?2",
                &[json!(sender), json!(target)],
            )?;
            let incoming_id = orig
                .first()
                .and_then(|v| v["incoming_id"].as_str())
                .map(str::to_string);
            tx.execute_json(
                "INSERT INTO axis_request (id, axis_doc_id, kind, sender, target_document_id,
                 incoming_id, reason, state, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)",
                &[
                    json!(vanthu_store::fsutil::random_id()),
                    json!(axis_doc_id),
                    json!(kind),
                    json!(sender),
                    json!(target),
                    json!(incoming_id),
                    json!(reason),
                    json!(rfc3339(tx.now)),
                ],
            )?;
            Ok((
                mk(
                    "request",
                    incoming_id,
                    None,
                    format!("Yêu cầu {kind} văn bản {target}: chờ văn thư quyết định (pending decision)"),
                ),
                false,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_cap() {
        for attempt in 1..40 {
            let ceiling = (30_000i64 << (attempt - 1).min(30)).min(1_800_000);
            for _ in 0..50 {
                let d = backoff_ms(attempt, 30_000, 1_800_000);
                assert!((0..=ceiling).contains(&d), "attempt {attempt}: {d}");
            }
        }
        let spread: std::collections::BTreeSet<i64> =
            (0..100).map(|_| backoff_ms(5, 30_000, 1_800_000)).collect();
        assert!(spread.len() > 50, "jittered");
    }
}
