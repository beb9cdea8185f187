//! Registering, listing, showing and exporting incoming documents.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use vanthu_core::duplicate::duplicate_key;
use vanthu_core::notation::format_number;
use vanthu_core::series::{incoming_register, numbering_year};
use vanthu_core::Warning;
use vanthu_store::audit::AuditReport;
use vanthu_store::store::rfc3339;
use vanthu_store::{
    Agency, BlobInfo, DuplicateHit, FileRow, IncomingRow, KdfParams, KeyProvider, Passphrase,
    Store, StoreError, Tx,
};

use crate::error::AppError;
use crate::input::IncomingInput;

/// The result of registering one incoming document.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    /// Document id.
    pub id: String,
    /// Số đến.
    pub so_den: u64,
    /// Số đến as printed (zero-padded below 10).
    pub so_den_text: String,
    /// Register key (`den`, `den-mat`).
    pub register: String,
    /// Register year.
    pub year: i32,
    /// Ngày đến.
    pub ngay_den: String,
    /// Số, ký hiệu of the document.
    pub so_ky_hieu: Option<String>,
    /// Trích yếu.
    pub trich_yeu: String,
    /// Non-blocking notices.
    pub warnings: Vec<Warning>,
    /// Attached files.
    pub files: Vec<FileRow>,
    /// Earlier registrations this one was knowingly registered beside.
    pub duplicate_of: Vec<DuplicateHit>,
}

/// One line of a bulk registration.
#[derive(Debug)]
pub struct BatchOutcome {
    /// Line number (1-based) in the input.
    pub line: usize,
    /// What happened.
    pub result: Result<Registered, AppError>,
}

/// A document with its files, for `show`.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    /// The register row.
    #[serde(flatten)]
    pub row: IncomingRow,
    /// Số đến as printed.
    pub so_den_text: String,
    /// Files.
    pub files: Vec<FileRow>,
    /// Signature validation of its PDFs, when checked.
    #[serde(default)]
    pub signatures: Vec<crate::signatures::SignatureCheck>,
}

/// An open agency store with the acting user.
pub struct App {
    store: Store,
    actor: String,
    /// The isolated worker that reads PDFs, scans and legacy Office files (none: those files
    /// are left for a later run that has one).
    pub(crate) extract_worker: Option<crate::extraction::WorkerConfig>,
}

/// Guesses a MIME type from a file name.
pub fn content_type_of(name: &str) -> Option<&'static str> {
    let ext = name.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "doc" => "application/msword",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xls" => "application/vnd.ms-excel",
        "odt" => "application/vnd.oasis.opendocument.text",
        "txt" => "text/plain",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "tif" | "tiff" => "image/tiff",
        "xml" | "edxml" => "application/xml",
        "zip" => "application/zip",
        _ => return None,
    })
}

impl App {
    /// Creates a store and opens it.
    pub fn init(
        dir: &Path,
        pass: &Passphrase,
        agency: &Agency,
        params: KdfParams,
    ) -> Result<App, AppError> {
        Ok(App::from_store(Store::init(dir, pass, agency, params)?))
    }

    /// Opens an existing store.
    pub fn open(dir: &Path, keys: &dyn KeyProvider) -> Result<App, AppError> {
        Ok(App::from_store(Store::open(dir, keys)?))
    }

    /// Wraps an open store.
    pub fn from_store(store: Store) -> App {
        let actor = std::env::var("VANTHU_USER")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "van-thu".to_string());
        App {
            store,
            actor,
            extract_worker: None,
        }
    }

    /// Sets the worker that extracts text from PDFs, scans (OCR) and legacy Office files in
    /// an isolated process (`WorkerConfig::current_exe()` in the CLI and the desktop shell).
    pub fn set_extract_worker(&mut self, worker: Option<crate::extraction::WorkerConfig>) {
        self.extract_worker = worker;
    }

    /// The extraction worker, if one is set.
    pub fn extract_worker(&self) -> Option<&crate::extraction::WorkerConfig> {
        self.extract_worker.as_ref()
    }

    /// Sets who is acting (recorded in the audit trail).
    pub fn set_actor(&mut self, actor: &str) {
        self.actor = actor.to_string();
    }

    /// Who is acting.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store underneath, mutably (clock injection in tests).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Registers one incoming document with its files (`base` resolves relative file paths).
    pub fn register_incoming(
        &mut self,
        input: &IncomingInput,
        base: Option<&Path>,
    ) -> Result<Registered, AppError> {
        let mut out = self.register_batch(&[(1, input.clone())], base)?;
        out.pop().expect("one outcome per input").result
    }

    /// Registers many documents in one transaction. Each record is checked and inserted in its
    /// own savepoint: a bad record is reported and skipped, the rest commit together. Nothing
    /// is acknowledged before the commit returns; if the commit fails, nothing is kept.
    pub fn register_batch(
        &mut self,
        items: &[(usize, IncomingInput)],
        base: Option<&Path>,
    ) -> Result<Vec<BatchOutcome>, AppError> {
        let actor = self.actor.clone();
        let blobs = self.store.blobs().clone();
        let mut written: Vec<String> = Vec::new();
        let res = self.store.write(&actor, |tx| {
            let mut outcomes = Vec::with_capacity(items.len());
            for (line, input) in items {
                let mut mine = Vec::new();
                let result = tx.scoped(|tx| register_one(tx, &blobs, input, base, &mut mine, &[]));
                if result.is_err() {
                    for id in &mine {
                        let _ = blobs.remove(id);
                    }
                } else {
                    written.extend(mine);
                }
                outcomes.push(BatchOutcome {
                    line: *line,
                    result,
                });
            }
            Ok::<_, AppError>(outcomes)
        });
        if res.is_err() {
            for id in &written {
                let _ = blobs.remove(id);
            }
        }
        res
    }

    /// Registers one document whose files are already encrypted blobs (a received package).
    /// On failure the caller still owns (and should remove) the blobs.
    pub(crate) fn register_prepared(
        &mut self,
        input: &IncomingInput,
        prepared: Vec<Prepared>,
    ) -> Result<Registered, AppError> {
        let actor = self.actor.clone();
        let blobs = self.store.blobs().clone();
        let mut written = Vec::new();
        self.store.write(&actor, |tx| {
            register_one(tx, &blobs, input, None, &mut written, &prepared)
        })
    }

    /// Streams a file into the encrypted store and attaches it to a registered document
    /// (a scanner or a received package feeds this without any plaintext temporary file).
    pub fn attach_reader(
        &mut self,
        id: &str,
        name: &str,
        src: &mut dyn Read,
    ) -> Result<FileRow, AppError> {
        self.store.get_incoming(id)?;
        let info = self.store.blobs().put(src)?;
        let actor = self.actor.clone();
        let res = self.store.write(&actor, |tx| {
            tx.attach_file(id, name, content_type_of(name), &info)
        });
        if res.is_err() {
            let _ = self.store.blobs().remove(&info.id);
        }
        Ok(res?)
    }

    /// The incoming register, optionally for one year.
    pub fn list_incoming(&self, year: Option<i32>) -> Result<Vec<IncomingRow>, AppError> {
        Ok(self.store.list_incoming(year)?)
    }

    /// One document with its files.
    pub fn show(&self, id: &str) -> Result<DocumentView, AppError> {
        let row = self.store.get_incoming(id)?;
        let files = self.store.files_of(id)?;
        Ok(DocumentView {
            so_den_text: format_number(row.so_den),
            row,
            files,
            signatures: self.signature_checks(id)?,
        })
    }

    /// Decrypts one file of a document to `out` (a file path, or an existing folder where the
    /// original name is used). The file is written beside its destination and renamed into
    /// place only once its SHA-256 matches the recorded one. `which` picks a file by position
    /// (1-based) or name; default the first.
    pub fn export(
        &mut self,
        id: &str,
        which: Option<&str>,
        out: &Path,
    ) -> Result<(FileRow, PathBuf), AppError> {
        let file = self.pick_file(id, which)?;
        let dest = export_dest(out, &file.name);
        write_atomically(&dest, |f, tmp| {
            let mut r = self.store.blobs().open_blob(&file.blob_id)?;
            let mut w = std::io::BufWriter::new(f);
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = r
                    .read(&mut buf)
                    .map_err(|e| StoreError::BlobCorrupt(format!("{}: {e}", file.blob_id)))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
                w.write_all(&buf[..n]).map_err(|e| StoreError::io(tmp, e))?;
            }
            w.flush().map_err(|e| StoreError::io(tmp, e))?;
            if hex::encode(h.finalize()) != file.sha256 {
                return Err(AppError::HashMismatch(file.name.clone()));
            }
            Ok(())
        })?;
        let actor = self.actor.clone();
        let fid = file.id.clone();
        self.store.write(&actor, |tx| {
            tx.audit("file.export", id, serde_json::json!({ "file_id": fid }))
        })?;
        Ok((file, dest))
    }

    /// One file of a document: by position (1-based) or name; default the first.
    pub fn pick_file(&self, id: &str, which: Option<&str>) -> Result<FileRow, AppError> {
        let files = self.store.files_of(id)?;
        if files.is_empty() {
            // make sure the document exists, for the right message
            self.store.get_incoming(id)?;
            return Err(AppError::BadInput(format!(
                "Văn bản {id} không có tệp đính kèm (document has no file)"
            )));
        }
        Ok(match which {
            None => files[0].clone(),
            Some(w) => match w.parse::<usize>() {
                Ok(n) if n >= 1 && n <= files.len() => files[n - 1].clone(),
                _ => files.iter().find(|f| f.name == w).cloned().ok_or_else(|| {
                    AppError::BadInput(format!(
                        "Không có tệp {w:?} trong văn bản {id} (no such file)"
                    ))
                })?,
            },
        })
    }

    /// Checks the audit chain and the register rows against it.
    pub fn verify_audit(&self) -> Result<AuditReport, AppError> {
        Ok(self.store.verify_audit()?)
    }

    /// The agency owning the store.
    pub fn agency(&self) -> Result<Agency, AppError> {
        Ok(self.store.agency()?)
    }
}

pub(crate) fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let s = s
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_string();
    if s.is_empty() {
        "tep".into()
    } else {
        s
    }
}

fn put_file(blobs: &vanthu_store::BlobStore, path: &Path) -> Result<BlobInfo, AppError> {
    let f = File::open(path).map_err(|e| AppError::File {
        path: path.to_path_buf(),
        source: e,
    })?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(AppError::File {
            path: path.to_path_buf(),
            source: std::io::Error::other("là thư mục, không phải tệp (is a folder)"),
        });
    }
    let mut w = blobs.create()?;
    let mut r = BufReader::with_capacity(256 * 1024, f);
    std::io::copy(&mut r, &mut w).map_err(|e| {
        // a read error is the source file's; a write error is the store's disk
        if e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
            AppError::Store(StoreError::io(path, e))
        } else {
            AppError::File {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })?;
    Ok(w.finish()?)
}

/// A file already streamed into an encrypted blob: (name, content type, blob).
pub(crate) type Prepared = (String, Option<String>, BlobInfo);

/// The duplicate key of a draft: year of the document, normalised number and issuer.
pub(crate) fn dup_key_of(draft: &vanthu_core::incoming::IncomingDraft) -> Option<String> {
    draft.so_ky_hieu.as_ref().map(|n| {
        let issuer = draft.tac_gia_ma.as_deref().unwrap_or(&draft.tac_gia);
        format!("{}|{}", draft.ngay_van_ban.year(), duplicate_key(n, issuer))
    })
}

pub(crate) fn register_one(
    tx: &mut Tx<'_>,
    blobs: &vanthu_store::BlobStore,
    input: &IncomingInput,
    base: Option<&Path>,
    written: &mut Vec<String>,
    prepared: &[Prepared],
) -> Result<Registered, AppError> {
    let now = tx.now;
    let draft = input.to_draft(now)?;
    let warnings = draft.validate(now).map_err(AppError::Invalid)?;
    let register = incoming_register(draft.do_mat).key();
    let year = numbering_year(now);

    let dup_key = dup_key_of(&draft);
    let mut duplicate_of = Vec::new();
    if let Some(k) = &dup_key {
        duplicate_of = tx.find_duplicates(k)?;
        if !duplicate_of.is_empty() && input.duplicate_reason.is_none() {
            return Err(AppError::Duplicate(duplicate_of));
        }
    }

    let mut infos = Vec::new();
    for f in &input.files {
        let path = match base {
            Some(b) if f.is_relative() => b.join(f),
            _ => f.clone(),
        };
        let info = put_file(blobs, &path)?;
        written.push(info.id.clone());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "tep".into());
        infos.push((name, info));
    }

    let so_den = tx.allocate(&register, year)?;
    let mut prepared_rows = Vec::new();
    let row = IncomingRow {
        id: vanthu_store::fsutil::random_id(),
        register,
        year,
        so_den,
        ngay_den: rfc3339(draft.ngay_den),
        tac_gia: draft.tac_gia.clone(),
        tac_gia_ma: draft.tac_gia_ma.clone(),
        so_ky_hieu: draft.so_ky_hieu.clone(),
        khong_so: draft.khong_so,
        ngay_van_ban: draft.ngay_van_ban.to_string(),
        loai: draft.loai.clone(),
        trich_yeu: draft.trich_yeu.clone(),
        do_mat: draft.do_mat.code().to_string(),
        do_khan: draft.do_khan.code().to_string(),
        nguoi_ky: draft.nguoi_ky.clone(),
        chuc_vu: draft.chuc_vu.clone(),
        so_trang: draft.so_trang,
        han_giai_quyet: draft.han_giai_quyet.map(|d| d.to_string()),
        ghi_chu: draft.ghi_chu.clone(),
        kenh: draft.kenh.code().to_string(),
        dup_key,
        created_at: rfc3339(now),
        created_by: tx.actor().to_string(),
    };
    tx.insert_incoming(&row)?;
    let mut files = Vec::new();
    for (name, info) in &infos {
        files.push(tx.attach_file(&row.id, name, content_type_of(name), info)?);
    }
    for (name, ct, info) in prepared {
        let ct = ct.as_deref().or_else(|| content_type_of(name));
        prepared_rows.push(tx.attach_file(&row.id, name, ct, info)?);
    }
    files.extend(prepared_rows);
    if !duplicate_of.is_empty() {
        tx.audit(
            "incoming.duplicate_override",
            &row.id,
            serde_json::json!({
                "reason": input.duplicate_reason,
                "existing": duplicate_of.iter().map(|d| &d.id).collect::<Vec<_>>(),
            }),
        )?;
    }
    Ok(Registered {
        so_den_text: format_number(so_den),
        id: row.id,
        so_den,
        register: row.register,
        year,
        ngay_den: row.ngay_den,
        so_ky_hieu: row.so_ky_hieu,
        trich_yeu: row.trich_yeu,
        warnings,
        files,
        duplicate_of,
    })
}

/// Where an export named `name` goes: into `out` when it is a folder, else `out` itself.
pub(crate) fn export_dest(out: &Path, name: &str) -> PathBuf {
    if out.is_dir() {
        out.join(safe_name(name))
    } else {
        out.to_path_buf()
    }
}

/// Writes `dest` whole or not at all: `fill` writes a temporary file beside it (given with its
/// path, for messages), which is then synced and renamed into place; on any error the
/// temporary file is removed and `dest` is untouched.
pub(crate) fn write_atomically(
    dest: &Path,
    fill: impl FnOnce(&mut File, &Path) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".vanthu-export-{}.part",
        vanthu_store::fsutil::random_id()
    ));
    let result = (|| {
        let mut f = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        fill(&mut f, &tmp)?;
        f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        std::fs::rename(&tmp, dest).map_err(|e| StoreError::io(dest, e))?;
        Ok::<_, AppError>(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
