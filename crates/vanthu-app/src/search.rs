//! Full-text search over the register: the encrypted index lives in the data folder
//! (`index/`), keyed from the store's data key. Indexing is a catch-up job: every registered
//! document not yet in the index is added, then recorded as indexed, so a crash or restart at
//! any point only means the next run picks up where this one stopped (re-adding a document
//! replaces it). `reindex` rebuilds the index from the store.

use std::io::Read;

use vanthu_search::{Direction, Hit, IndexDoc, SearchIndex, SearchQuery};
use vanthu_store::keys::labels;
use vanthu_store::IncomingRow;

use crate::error::AppError;
use crate::register::App;

/// Index folder inside the data folder.
pub const INDEX_DIR: &str = "index";
/// How much text of one file is indexed (characters).
const TEXT_LIMIT: usize = 4 << 20;
/// Largest file whose text is extracted (it is decrypted into memory for that).
const EXTRACT_LIMIT: u64 = 64 << 20;
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

    /// The text of a document's files that `vanthu-extract` reads (plain text, e-mail, DOCX,
    /// ODT, XLSX, ODS). A file is decrypted into memory only (never to disk) and only up to
    /// `EXTRACT_LIMIT`; a file that cannot be read is skipped with a log line, never failing
    /// the indexing of the rest. PDF text and OCR come with the rest of the search issue.
    fn file_text(&self, row: &IncomingRow) -> Result<String, AppError> {
        let mut out = String::new();
        for f in self.store().files_of(&row.id)? {
            let ct = f.content_type.as_deref();
            if !vanthu_extract::supports(&f.name, ct) || f.size > EXTRACT_LIMIT {
                continue;
            }
            let r = self.store().blobs().open_blob(&f.blob_id)?;
            let mut buf = Vec::new();
            r.take(EXTRACT_LIMIT).read_to_end(&mut buf).map_err(|e| {
                vanthu_store::StoreError::BlobCorrupt(format!("{}: {e}", f.blob_id))
            })?;
            let limits = vanthu_extract::Limits {
                max_text_chars: TEXT_LIMIT,
                ..Default::default()
            };
            let mut cur = std::io::Cursor::new(buf);
            match vanthu_extract::extract_text(&f.name, ct, &mut cur, &limits) {
                Ok(x) => {
                    out.push('\n');
                    out.push_str(&x.text);
                }
                Err(e) => tracing::warn!(file = %f.id, "text not extracted: {e}"),
            }
        }
        Ok(out)
    }

    fn index_doc(&self, row: &IncomingRow) -> Result<IndexDoc, AppError> {
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
    /// is called after each committed batch. Returns how many were indexed.
    pub fn index_pending(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, AppError> {
        let total = self.store().unindexed_count()?;
        if total == 0 {
            return Ok(0);
        }
        let mut index = self.open_index()?;
        let mut done = 0;
        loop {
            let rows = self.store().unindexed(BATCH)?;
            if rows.is_empty() {
                break;
            }
            let docs = rows
                .iter()
                .map(|r| self.index_doc(r))
                .collect::<Result<Vec<_>, _>>()?;
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

    /// Searches the register, first bringing the index up to date.
    pub fn search(&mut self, q: &SearchQuery) -> Result<Vec<Hit>, AppError> {
        self.index_pending(&mut |_, _| {})?;
        let index = self.open_index()?;
        index.search(q).map_err(search_err)
    }

    /// Rebuilds the index from the store.
    pub fn reindex(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, AppError> {
        let dir = self.store().dir().join(INDEX_DIR);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| AppError::Store(vanthu_store::StoreError::io(&dir, e)))?;
        }
        self.store_mut().clear_indexed()?;
        self.index_pending(progress)
    }
}
