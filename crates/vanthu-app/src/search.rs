//! Full-text search over the register: the encrypted index lives in the data folder
//! (`index/`), keyed from the store's data key. Indexing is a catch-up job: every registered
//! document not yet in the index is added, then recorded as indexed, so a crash or restart at
//! any point only means the next run picks up where this one stopped (re-adding a document
//! replaces it). `reindex` rebuilds the index from the store.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use vanthu_search::{Direction, Hit, IndexDoc, SearchIndex, SearchQuery};
use vanthu_store::keys::labels;
use vanthu_store::{FileRow, FileText, IncomingRow};

use crate::error::AppError;
use crate::extraction::{extract_with_worker, WorkKind};
use crate::register::{export_dest, write_atomically, App};

/// Index folder inside the data folder.
pub const INDEX_DIR: &str = "index";
/// How much text of one file is indexed (characters).
const TEXT_LIMIT: usize = 4 << 20;
/// Largest file whose text is extracted in process (it is decrypted into memory for that).
const EXTRACT_LIMIT: u64 = 64 << 20;
/// Largest file handed to the extraction worker (a long scanned PDF).
const WORKER_LIMIT: u64 = 160 << 20;
/// Documents per index commit.
const BATCH: usize = 500;

fn search_err(e: vanthu_search::Error) -> AppError {
    AppError::BadInput(format!("Lỗi chỉ mục tìm kiếm: {e}"))
}

impl App {
    fn open_index(&self) -> Result<SearchIndex, AppError> {
        let dir = self.store().dir().join(INDEX_DIR);
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::Store(vanthu_store::StoreError::io(&dir, e)))?;
        let key = self.store().derive_key(labels::INDEX);
        SearchIndex::open(&dir, *key).map_err(search_err)
    }

    /// The text of a document's files, for the index. Each file's text is extracted once and
    /// kept (encrypted) in the database with how it was obtained and, if it failed, why — so a
    /// hostile file is recorded on its document instead of being retried on every run. Formats
    /// that need outside tools (PDF, scans, .doc/.xls) go through the isolated worker; when the
    /// app has none, those files wait for a run that has one.
    fn file_text(&mut self, row: &IncomingRow) -> Result<String, AppError> {
        let mut out = String::new();
        for f in self.store().files_of(&row.id)? {
            let Some(ft) = self.cached_file_text(&f)? else {
                continue;
            };
            if ft.status == "ok" && !ft.text.is_empty() {
                out.push('\n');
                out.extend(ft.text.chars().take(TEXT_LIMIT));
            }
        }
        Ok(out)
    }

    /// A file's text as kept in the database, extracting (and keeping) it first if that has
    /// not been done yet. `None` when it needs the worker and there is none.
    fn cached_file_text(&mut self, f: &FileRow) -> Result<Option<FileText>, AppError> {
        if let Some(ft) = self.store().file_text(&f.id)? {
            return Ok(Some(ft));
        }
        let ft = self.extract_file(f)?;
        if let Some(ft) = &ft {
            self.store_mut().put_file_text(ft)?;
        }
        Ok(ft)
    }

    /// A file decrypted into memory (never to disk), at most `limit` bytes of it.
    pub(crate) fn read_file_bounded(&self, f: &FileRow, limit: u64) -> Result<Vec<u8>, AppError> {
        self.read_file_with_room(f, limit, 0)
    }

    /// [`Self::read_file_bounded`] into a buffer sized for the file plus `room` spare bytes
    /// (signing appends its revision there without copying the document).
    pub(crate) fn read_file_with_room(
        &self,
        f: &FileRow,
        limit: u64,
        room: usize,
    ) -> Result<Vec<u8>, AppError> {
        let mut buf = Vec::with_capacity((f.size.min(limit) as usize).saturating_add(room));
        self.store()
            .blobs()
            .open_blob(&f.blob_id)?
            .take(limit)
            .read_to_end(&mut buf)
            .map_err(|e| vanthu_store::StoreError::BlobCorrupt(format!("{}: {e}", f.blob_id)))?;
        Ok(buf)
    }

    /// Extracts one file's text: in process for the bounded pure-Rust formats, in the worker
    /// for the rest. `None` when the file needs the worker and there is none.
    pub fn extract_file(&self, f: &FileRow) -> Result<Option<FileText>, AppError> {
        let started = std::time::Instant::now();
        let record = |method: &str, status: &str, error: Option<String>, text: String| FileText {
            file_id: f.id.clone(),
            method: method.into(),
            status: status.into(),
            error,
            text,
            pages: None,
            ocr_pages: None,
            elapsed_ms: started.elapsed().as_millis() as u64,
            created_at: vanthu_store::store::rfc3339(self.store().now()),
        };
        let ct = f.content_type.as_deref();
        if f.size > WORKER_LIMIT {
            let msg = format!(
                "Tệp quá lớn để trích xuất văn bản ({} MB, tối đa {} MB) (file too large)",
                f.size >> 20,
                WORKER_LIMIT >> 20
            );
            return Ok(Some(record("none", "too-large", Some(msg), String::new())));
        }
        let buf = self.read_file_bounded(f, WORKER_LIMIT)?;
        let head = &buf[..buf.len().min(16)];
        if let Some(kind) = WorkKind::detect(&f.name, ct, head) {
            let Some(worker) = self.extract_worker.as_ref() else {
                tracing::debug!(file = %f.id, "no extraction worker: {} left for later", f.name);
                return Ok(None);
            };
            let res = extract_with_worker(worker, kind, buf);
            return Ok(Some(match res {
                Ok(t) => {
                    let mut ft = record(&t.method, "ok", None, t.text);
                    ft.pages = t.pages;
                    ft.ocr_pages = t.ocr_pages;
                    ft
                }
                Err(e) => {
                    tracing::warn!(file = %f.id, "text not extracted from {}: {e}", f.name);
                    let method = match kind {
                        WorkKind::Image => "ocr",
                        WorkKind::Doc | WorkKind::Xls => "legacy",
                        _ => "pdf-text",
                    };
                    record(method, e.status(), Some(e.to_string()), String::new())
                }
            }));
        }
        if !vanthu_extract::supports(&f.name, ct) || buf.len() as u64 > EXTRACT_LIMIT {
            let msg = "Định dạng tệp chưa trích xuất được văn bản (format not extracted)";
            return Ok(Some(record(
                "none",
                "unsupported",
                Some(msg.into()),
                String::new(),
            )));
        }
        let limits = vanthu_extract::Limits {
            max_text_chars: TEXT_LIMIT,
            ..Default::default()
        };
        let mut cur = std::io::Cursor::new(buf);
        Ok(Some(
            match vanthu_extract::extract_text(&f.name, ct, &mut cur, &limits) {
                Ok(x) => record("office", "ok", None, x.text),
                Err(e) => {
                    tracing::warn!(file = %f.id, "text not extracted from {}: {e}", f.name);
                    record("office", "failed", Some(e.to_string()), String::new())
                }
            },
        ))
    }

    fn index_doc(&mut self, row: &IncomingRow) -> Result<IndexDoc, AppError> {
        let date = row
            .ngay_den
            .get(..10)
            .and_then(|d| crate::input::parse_date("ngay_den", d).ok())
            .unwrap_or(time::Date::MIN);
        let mut body = String::new();
        for part in [
            Some(&row.tac_gia),
            row.so_ky_hieu.as_ref(),
            row.nguoi_ky.as_ref(),
            row.chuc_vu.as_ref(),
            row.ghi_chu.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            body.push_str(part);
            body.push('\n');
        }
        body.push_str(&self.file_text(row)?);
        Ok(IndexDoc {
            id: row.id.clone(),
            direction: Direction::Incoming,
            title: row.trich_yeu.clone(),
            body,
            doc_type: row.loai.clone(),
            issuer_code: row.tac_gia_ma.clone(),
            issuer_name: Some(row.tac_gia.clone()),
            notation: row.so_ky_hieu.clone(),
            year: row.year,
            date,
            secrecy: row.do_mat.clone(),
            status: "da-vao-so".into(),
        })
    }

    /// Adds every registered document that is not yet in the index. `progress(done, total)`
    /// is called after each document. Returns how many were indexed.
    pub fn index_pending(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, AppError> {
        self.index_some(u64::MAX, progress)
    }

    /// Adds at most `max` of the documents not yet in the index (a background job calls this
    /// in slices, so the store is free in between). Returns how many were indexed.
    pub fn index_some(
        &mut self,
        max: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, AppError> {
        let total = self.store().unindexed_count()?.min(max);
        if total == 0 {
            return Ok(0);
        }
        let mut index = self.open_index()?;
        let mut done = 0;
        while done < total {
            let want = (total - done).min(BATCH as u64) as usize;
            let rows = self.store().unindexed(want)?;
            if rows.is_empty() {
                break;
            }
            let mut docs = Vec::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                docs.push(self.index_doc(r)?);
                // Extraction (OCR above all) can be slow: report every document.
                if i + 1 < rows.len() {
                    progress(done + i as u64 + 1, total);
                }
            }
            index.index_documents(docs).map_err(search_err)?;
            index.commit().map_err(search_err)?;
            let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
            self.store_mut().mark_indexed(&ids)?;
            done += ids.len() as u64;
            progress(done, total);
        }
        index.garbage_collect().map_err(search_err)?;
        Ok(done)
    }

    /// How many registered documents are not yet in the index.
    pub fn unindexed_count(&self) -> Result<u64, AppError> {
        Ok(self.store().unindexed_count()?)
    }

    /// Searches what is already indexed, without catching up first (while a background job
    /// is indexing).
    pub fn search_indexed(&self, q: &SearchQuery) -> Result<Vec<Hit>, AppError> {
        let index = self.open_index()?;
        index.search(q).map_err(search_err)
    }

    /// Searches the register, first bringing the index up to date.
    pub fn search(&mut self, q: &SearchQuery) -> Result<Vec<Hit>, AppError> {
        self.index_pending(&mut |_, _| {})?;
        let index = self.open_index()?;
        index.search(q).map_err(search_err)
    }

    /// Rebuilds the index from the store. Text already extracted is reused (OCR is slow);
    /// `extract_again` extracts every file anew (after installing a better OCR model, say).
    pub fn reindex(
        &mut self,
        extract_again: bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, AppError> {
        if extract_again {
            self.store_mut().clear_file_texts()?;
        }
        let dir = self.store().dir().join(INDEX_DIR);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| AppError::Store(vanthu_store::StoreError::io(&dir, e)))?;
        }
        self.store_mut().clear_indexed()?;
        self.index_pending(progress)
    }
}

/// A file of a document with the text extracted from it (or why there is none).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileTextView {
    /// The file.
    pub file: FileRow,
    /// Its text, `None` when extraction has not run yet.
    pub text: Option<FileText>,
}

impl App {
    /// The text of each file of a document — OCR'd text to show beside a scan — extracting
    /// any file that has not been yet.
    pub fn file_texts(&mut self, id: &str) -> Result<Vec<FileTextView>, AppError> {
        self.store().get_incoming(id)?;
        let mut out = Vec::new();
        for f in self.store().files_of(id)? {
            let text = self.cached_file_text(&f)?;
            out.push(FileTextView { file: f, text });
        }
        Ok(out)
    }

    /// Writes a searchable PDF (the scanned image with an invisible OCR text layer) of one
    /// scanned file to `out` (a file, or a folder where `<name>.pdf` is used). The stored
    /// original is never touched; a PDF (which may carry signatures) is refused: its own bytes
    /// are what `export` gives.
    pub fn export_searchable(
        &mut self,
        id: &str,
        which: Option<&str>,
        out: &Path,
    ) -> Result<(FileRow, PathBuf), AppError> {
        let file = self.pick_file(id, which)?;
        let Some(worker) = self.extract_worker.clone() else {
            return Err(AppError::BadInput(
                "Không có trình nhận dạng chữ (OCR) trong phiên này (no OCR worker)".into(),
            ));
        };
        if file.size > WORKER_LIMIT {
            return Err(AppError::BadInput(format!(
                "Tệp {} quá lớn để nhận dạng chữ (file too large for OCR)",
                file.name
            )));
        }
        let buf = self.read_file_bounded(&file, WORKER_LIMIT)?;
        if !crate::extraction::is_image(&buf) {
            let msg = format!(
                "{} không phải ảnh quét: chỉ ảnh (JPEG, PNG, TIFF) mới tạo được PDF tìm kiếm được; \
                 bản gốc PDF xuất bằng `vanthu export` (searchable PDF needs a scanned image)",
                file.name
            );
            return Err(AppError::BadInput(msg));
        }
        let pdf = crate::extraction::run_worker(&worker, WorkKind::SearchablePdf, buf)
            .map_err(|e| AppError::BadInput(e.to_string()))?;
        let stem = Path::new(&file.name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scan");
        let dest = export_dest(out, &format!("{stem}.pdf"));
        write_atomically(&dest, |f, tmp| {
            f.write_all(&pdf)
                .map_err(|e| vanthu_store::StoreError::io(tmp, e).into())
        })?;
        let fid = file.id.clone();
        let actor = self.actor().to_string();
        self.store_mut().write(&actor, |tx| {
            tx.audit(
                "file.export_searchable",
                id,
                serde_json::json!({ "file_id": fid }),
            )
        })?;
        Ok((file, dest))
    }
}
