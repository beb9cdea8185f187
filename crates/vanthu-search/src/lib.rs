//! Full-text search for vanthu: Vietnamese analysis on tantivy over an encrypted directory.
//!
//! - [`analysis`]: NFC + tone-placement normalisation, `vi_exact` and `vi_fold` analyzers.
//! - [`EncryptedDirectory`]: a `tantivy::Directory` sealing every file with
//!   XChaCha20-Poly1305 (random nonce per file, file name as AAD). Files are decrypted whole
//!   into memory on first open: resident memory ≈ index size.
//! - [`SearchIndex`]: schema (exact + folded field per text, filter fields), writing,
//!   [`SearchIndex::search`] with filters, sort, snippets and the secrecy visibility rule.
//!
//! The crate does not depend on `vanthu-store`: the caller passes the 32-byte index key,
//! `store.derive_key(vanthu_store::keys::labels::INDEX)`.
//!
//! ```
//! use vanthu_search::{Direction, IndexDoc, SearchIndex, SearchQuery};
//! let mut idx = SearchIndex::open_in_ram()?;
//! idx.index_documents([IndexDoc {
//!     id: "1".into(),
//!     direction: Direction::Incoming,
//!     title: "Quyết định phê duyệt kiến trúc chính quyền điện tử".into(),
//!     body: "Phê duyệt Kiến trúc Chính quyền điện tử tỉnh Hòa Bình, phiên bản 2.0.".into(),
//!     doc_type: Some("QĐ".into()),
//!     issuer_code: Some("000.00.00.H30".into()),
//!     issuer_name: Some("UBND tỉnh Hòa Bình".into()),
//!     notation: Some("2643/QĐ-UBND".into()),
//!     year: 2020,
//!     date: time::macros::date!(2020 - 10 - 30),
//!     secrecy: "thuong".into(),
//!     status: "moi".into(),
//! }])?;
//! idx.commit()?;
//! let hits = idx.search(&SearchQuery::text("quyet dinh"))?;
//! assert_eq!(hits[0].id, "1");
//! # Ok::<(), vanthu_search::Error>(())
//! ```

#![warn(missing_docs)]

pub mod analysis;
mod crypto_dir;
mod error;
mod index;

pub use crypto_dir::EncryptedDirectory;
pub use error::{Error, Result};
pub use index::{
    Clearance, Direction, Hit, IndexDoc, SearchIndex, SearchQuery, SearchReader, SortBy, Viewer,
    EXACT_BOOST, PHRASE_BOOST, TITLE_BOOST,
};
