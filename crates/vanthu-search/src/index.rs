//! The search index: schema, writing and querying.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, QueryParser,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};

use crate::analysis::{self, VI_EXACT, VI_FOLD};
use crate::crypto_dir::EncryptedDirectory;
use crate::error::{Error, Result};

/// Boost of the diacritic-preserving fields relative to the folded ones.
pub const EXACT_BOOST: f32 = 2.5;
/// Extra weight of the title (trích yếu) over the body.
pub const TITLE_BOOST: f32 = 2.0;
/// Boost of the adjacency (phrase) clause added to unquoted multi-word queries.
pub const PHRASE_BOOST: f32 = 2.0;
/// Characters in a snippet.
const SNIPPET_CHARS: usize = 200;
/// Heap of the index writer.
const WRITER_HEAP: usize = 128 * 1024 * 1024;

/// Incoming (*văn bản đến*) or outgoing (*văn bản đi*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Văn bản đến.
    Incoming,
    /// Văn bản đi.
    Outgoing,
}

impl Direction {
    /// Code stored in the index.
    pub fn code(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }
    fn from_code(s: &str) -> Option<Self> {
        match s {
            "incoming" => Some(Direction::Incoming),
            "outgoing" => Some(Direction::Outgoing),
            _ => None,
        }
    }
}

/// Secrecy clearance of the person searching (same scale as `vanthu_core::DoMat`).
///
/// A document is visible when its secrecy is at most the viewer's clearance.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Clearance {
    /// Only ordinary (*thường*) documents.
    #[default]
    Thuong,
    /// Up to *mật*.
    Mat,
    /// Up to *tối mật*.
    ToiMat,
    /// Everything, including *tuyệt mật*.
    TuyetMat,
}

impl Clearance {
    /// Secrecy codes, in increasing order (the codes of `vanthu_core::DoMat`).
    pub const CODES: [&'static str; 4] = ["thuong", "mat", "toi-mat", "tuyet-mat"];

    fn level_of(code: &str) -> Option<usize> {
        Self::CODES.iter().position(|c| *c == code)
    }

    fn visible_codes(self) -> &'static [&'static str] {
        &Self::CODES[..=self as usize]
    }
}

/// Who is searching. The visibility rule is applied inside [`SearchIndex::search`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// Highest secrecy level this viewer may see. Default: ordinary documents only.
    pub clearance: Clearance,
}

/// One document to index (a register row plus its extracted text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexDoc {
    /// Stable identifier (the store's record id). Indexing the same id again replaces it.
    pub id: String,
    /// Incoming or outgoing.
    pub direction: Direction,
    /// Trích yếu (subject).
    pub title: String,
    /// Full text (extracted or OCR'd).
    pub body: String,
    /// Document type abbreviation (loại), e.g. `QĐ`, `CV`.
    pub doc_type: Option<String>,
    /// Issuing agency code (mã định danh).
    pub issuer_code: Option<String>,
    /// Issuing agency name; searchable with the title.
    pub issuer_name: Option<String>,
    /// Số, ký hiệu, e.g. `2643/QĐ-UBND`; searchable with the title.
    pub notation: Option<String>,
    /// Year (numbering year).
    pub year: i32,
    /// Document date.
    pub date: time::Date,
    /// Secrecy code: `thuong`, `mat`, `toi-mat`, `tuyet-mat`.
    pub secrecy: String,
    /// Processing status code (free form, e.g. `moi`, `dang-xu-ly`).
    pub status: String,
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SortBy {
    /// Best match first (BM25, exact diacritics and title boosted).
    #[default]
    Relevance,
    /// Newest first.
    DateDesc,
    /// Oldest first.
    DateAsc,
}

/// A search request: free text plus filters, viewer and paging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// User text. Words are AND-ed; `"…"` is a phrase; empty = all documents (filters apply).
    pub text: String,
    /// Only incoming or only outgoing.
    pub direction: Option<Direction>,
    /// Only this document type (exact code).
    pub doc_type: Option<String>,
    /// Only this issuing agency code.
    pub issuer_code: Option<String>,
    /// Only this year.
    pub year: Option<i32>,
    /// Only documents dated on or after.
    pub date_from: Option<time::Date>,
    /// Only documents dated on or before.
    pub date_to: Option<time::Date>,
    /// Only this secrecy code (still limited by the viewer's clearance).
    pub secrecy: Option<String>,
    /// Only this status code.
    pub status: Option<String>,
    /// Who searches; decides which secrecy levels are visible.
    pub viewer: Viewer,
    /// Order of results.
    pub sort: SortBy,
    /// Page size (default 20).
    pub limit: usize,
    /// Results to skip.
    pub offset: usize,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            text: String::new(),
            direction: None,
            doc_type: None,
            issuer_code: None,
            year: None,
            date_from: None,
            date_to: None,
            secrecy: None,
            status: None,
            viewer: Viewer::default(),
            sort: SortBy::Relevance,
            limit: 20,
            offset: 0,
        }
    }
}

impl SearchQuery {
    /// A relevance query for `text` with default options.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// One search result: a lean DTO for list views.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Document id.
    pub id: String,
    /// Relevance score (0 when sorted by date).
    pub score: f32,
    /// Trích yếu (normalised text).
    pub title: String,
    /// Body fragment, HTML-escaped, matched words in `<b>…</b>`.
    pub snippet: String,
    /// Document date, `YYYY-MM-DD`.
    #[serde(serialize_with = "ser_date")]
    pub date: time::Date,
    /// Year.
    pub year: i32,
    /// Incoming or outgoing.
    pub direction: Option<Direction>,
    /// Document type.
    pub doc_type: Option<String>,
    /// Issuing agency code.
    pub issuer_code: Option<String>,
    /// Issuing agency name.
    pub issuer_name: Option<String>,
    /// Số, ký hiệu.
    pub notation: Option<String>,
    /// Secrecy code.
    pub secrecy: String,
    /// Status code.
    pub status: String,
}

fn ser_date<S: serde::Serializer>(d: &time::Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!(
        "{:04}-{:02}-{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    ))
}

type Snippets = (Option<SnippetGenerator>, Option<SnippetGenerator>);

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title_vi: Field,
    title_ascii: Field,
    body_vi: Field,
    body_ascii: Field,
    direction: Field,
    doc_type: Field,
    issuer_code: Field,
    issuer_name: Field,
    notation: Field,
    year: Field,
    date: Field,
    secrecy: Field,
    status: Field,
}

fn text_opts(tokenizer: &str, stored: bool) -> TextOptions {
    let o = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored {
        o.set_stored()
    } else {
        o
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let keyword = STRING | STORED | FAST;
    let f = Fields {
        id: b.add_text_field("id", STRING | STORED),
        title_vi: b.add_text_field("title_vi", text_opts(VI_EXACT, true)),
        title_ascii: b.add_text_field("title_ascii", text_opts(VI_FOLD, false)),
        body_vi: b.add_text_field("body_vi", text_opts(VI_EXACT, true)),
        body_ascii: b.add_text_field("body_ascii", text_opts(VI_FOLD, false)),
        direction: b.add_text_field("direction", keyword.clone()),
        doc_type: b.add_text_field("doc_type", keyword.clone()),
        issuer_code: b.add_text_field("issuer_code", keyword.clone()),
        issuer_name: b.add_text_field("issuer_name", STORED),
        notation: b.add_text_field("notation", STORED),
        year: b.add_i64_field("year", INDEXED | FAST | STORED),
        date: b.add_i64_field("date", INDEXED | FAST | STORED),
        secrecy: b.add_text_field("secrecy", keyword.clone()),
        status: b.add_text_field("status", keyword),
    };
    (b.build(), f)
}

/// A Vietnamese full-text index over the register, optionally encrypted at rest.
pub struct SearchIndex {
    index: Index,
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    reader: SearchReader,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl SearchIndex {
    /// Opens or creates an encrypted index in `dir` with the 32-byte index key
    /// (`store.derive_key(vanthu_store::keys::labels::INDEX)`).
    ///
    /// A wrong key or a damaged file gives [`Error::Decrypt`].
    pub fn open(dir: &Path, key: [u8; 32]) -> Result<Self> {
        let d = EncryptedDirectory::open(dir, key).map_err(io_err(dir))?;
        Self::from_directory(d)
    }

    /// Opens or creates a **plaintext** index in `dir` (benchmark baseline and tests only).
    pub fn open_plain(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let d = MmapDirectory::open(dir).map_err(|e| Error::Engine(e.into()))?;
        Self::from_directory(d)
    }

    /// Creates an empty index in memory.
    pub fn open_in_ram() -> Result<Self> {
        Self::from_directory(tantivy::directory::RamDirectory::create())
    }

    /// Opens or creates an index over any tantivy directory.
    pub fn from_directory(dir: impl tantivy::Directory) -> Result<Self> {
        let (schema, fields) = schema();
        let mut index = Index::open_or_create(dir, schema).map_err(Error::from_engine)?;
        // Segments are searched in parallel (one thread per core).
        index
            .set_default_multithread_executor()
            .map_err(Error::from_engine)?;
        analysis::register(index.tokenizers());
        let writer: IndexWriter<TantivyDocument> =
            index.writer(WRITER_HEAP).map_err(Error::from_engine)?;
        // A writer killed mid-commit leaves files that no commit references; a new writer
        // would reuse their names (same segment and opstamp) and fail. Collect them first.
        writer
            .garbage_collect_files()
            .wait()
            .map_err(Error::from_engine)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(Error::from_engine)?;
        let mut parser = QueryParser::for_index(
            &index,
            vec![
                fields.title_vi,
                fields.title_ascii,
                fields.body_vi,
                fields.body_ascii,
            ],
        );
        parser.set_conjunction_by_default();
        parser.set_field_boost(fields.title_vi, EXACT_BOOST * TITLE_BOOST);
        parser.set_field_boost(fields.title_ascii, TITLE_BOOST);
        parser.set_field_boost(fields.body_vi, EXACT_BOOST);
        parser.set_field_boost(fields.body_ascii, 1.0);
        let mut ascii_parser =
            QueryParser::for_index(&index, vec![fields.title_ascii, fields.body_ascii]);
        ascii_parser.set_conjunction_by_default();
        ascii_parser.set_field_boost(fields.title_ascii, TITLE_BOOST);
        ascii_parser.set_field_boost(fields.body_ascii, 1.0);
        Ok(Self {
            index,
            writer,
            fields,
            reader: SearchReader {
                reader,
                fields,
                parser,
                ascii_parser,
            },
        })
    }

    /// Adds (or replaces, by id) documents. Visible to searches after [`Self::commit`].
    /// Returns how many were queued. Invalid documents (empty id, unknown secrecy) stop the
    /// batch with an error; documents queued before stay queued until commit or rollback.
    pub fn index_documents(&mut self, docs: impl IntoIterator<Item = IndexDoc>) -> Result<usize> {
        let f = self.fields;
        let mut n = 0;
        for d in docs {
            if d.id.is_empty() {
                return Err(Error::EmptyId);
            }
            if Clearance::level_of(&d.secrecy).is_none() {
                return Err(Error::InvalidSecrecy(d.secrecy));
            }
            let title = analysis::normalize(&d.title).into_owned();
            let body = analysis::normalize(&d.body).into_owned();
            let mut doc = TantivyDocument::default();
            doc.add_text(f.id, &d.id);
            doc.add_text(f.title_vi, &title);
            doc.add_text(f.title_ascii, &title);
            doc.add_text(f.body_vi, &body);
            doc.add_text(f.body_ascii, &body);
            // Extra title values: agency name and notation are searchable, not displayed.
            for extra in [&d.issuer_name, &d.notation].into_iter().flatten() {
                let extra = analysis::normalize(extra);
                doc.add_text(f.title_vi, &extra);
                doc.add_text(f.title_ascii, &extra);
            }
            doc.add_text(f.direction, d.direction.code());
            if let Some(t) = &d.doc_type {
                doc.add_text(f.doc_type, t);
            }
            if let Some(c) = &d.issuer_code {
                doc.add_text(f.issuer_code, c);
            }
            if let Some(x) = &d.issuer_name {
                doc.add_text(f.issuer_name, x);
            }
            if let Some(x) = &d.notation {
                doc.add_text(f.notation, x);
            }
            doc.add_i64(f.year, i64::from(d.year));
            doc.add_i64(f.date, i64::from(d.date.to_julian_day()));
            doc.add_text(f.secrecy, &d.secrecy);
            doc.add_text(f.status, &d.status);
            self.writer.delete_term(Term::from_field_text(f.id, &d.id));
            self.writer.add_document(doc).map_err(Error::from_engine)?;
            n += 1;
        }
        Ok(n)
    }

    /// Removes a document by id (effective after [`Self::commit`]).
    pub fn delete(&mut self, id: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.id, id));
    }

    /// Makes queued changes durable and visible to searches.
    pub fn commit(&mut self) -> Result<()> {
        self.writer.commit().map_err(Error::from_engine)?;
        self.reader.reader.reload().map_err(Error::from_engine)?;
        Ok(())
    }

    /// Drops queued changes since the last commit.
    pub fn rollback(&mut self) -> Result<()> {
        self.writer.rollback().map_err(Error::from_engine)?;
        Ok(())
    }

    /// Number of committed, visible documents (all secrecy levels).
    pub fn num_docs(&self) -> u64 {
        self.reader.num_docs()
    }

    /// Removes files no longer referenced by the index (keeps the folder bounded; tantivy also
    /// does this after its own merges).
    pub fn garbage_collect(&mut self) -> Result<()> {
        self.writer
            .garbage_collect_files()
            .wait()
            .map_err(Error::from_engine)?;
        Ok(())
    }

    /// Searches. Documents above the viewer's clearance are never returned.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>> {
        self.reader.search(q)
    }

    /// Number of documents matching `q` (same rules as [`Self::search`], paging ignored).
    pub fn count(&self, q: &SearchQuery) -> Result<usize> {
        self.reader.count(q)
    }

    /// A cheap, cloneable, `Send + Sync` search handle sharing this index's reader: give it
    /// to the UI threads while the writer indexes in the background. It sees each commit.
    pub fn reader(&self) -> SearchReader {
        self.reader.clone()
    }

    /// The underlying tantivy index (for diagnostics and benchmarks).
    pub fn tantivy_index(&self) -> &Index {
        &self.index
    }
}

/// Read side of a [`SearchIndex`]; see [`SearchIndex::reader`].
#[derive(Clone)]
pub struct SearchReader {
    reader: IndexReader,
    fields: Fields,
    /// Over the four text fields (input with diacritics).
    parser: QueryParser,
    /// Over the folded fields only: for all-ASCII input the exact fields add no information
    /// (only literal unaccented spellings) and would double the postings to merge.
    ascii_parser: QueryParser,
}

impl std::fmt::Debug for SearchReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchReader").finish_non_exhaustive()
    }
}

impl SearchReader {
    /// Number of committed, visible documents (all secrecy levels).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn term(field: Field, text: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::Basic,
        ))
    }

    /// Builds the full query: text, filters and the visibility rule.
    fn build_query(&self, q: &SearchQuery) -> (Box<dyn Query>, Option<Box<dyn Query>>) {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // Filters are MUST clauses that add nothing to the score.
        let filter = |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
        };
        let text = analysis::normalize(q.text.trim());
        let mut text_query = None;
        if !text.is_empty() {
            let parser = if text.is_ascii() {
                &self.ascii_parser
            } else {
                &self.parser
            };
            let (parsed, _errors) = parser.parse_query_lenient(&text);
            let mut must: Box<dyn Query> = parsed;
            if !text.contains('"') {
                let phrase = self.adjacency_boost(&text);
                if let Some(p) = phrase {
                    must = Box::new(BooleanQuery::new(vec![
                        (Occur::Must, must),
                        (Occur::Should, p),
                    ]));
                }
            }
            text_query = Some(must.box_clone());
            clauses.push((Occur::Must, must));
        }
        // Visibility rule: never relax this from outside.
        let visible = q.viewer.clearance.visible_codes();
        let vis: Vec<(Occur, Box<dyn Query>)> = visible
            .iter()
            .map(|c| (Occur::Should, Self::term(f.secrecy, c)))
            .collect();
        clauses.push(filter(Box::new(BooleanQuery::new(vis))));
        if let Some(d) = q.direction {
            clauses.push(filter(Self::term(f.direction, d.code())));
        }
        for (field, value) in [
            (f.doc_type, &q.doc_type),
            (f.issuer_code, &q.issuer_code),
            (f.secrecy, &q.secrecy),
            (f.status, &q.status),
        ] {
            if let Some(v) = value {
                clauses.push(filter(Self::term(field, v)));
            }
        }
        if let Some(y) = q.year {
            let t = Term::from_field_i64(f.year, i64::from(y));
            clauses.push(filter(Box::new(TermQuery::new(
                t,
                IndexRecordOption::Basic,
            ))));
        }
        if q.date_from.is_some() || q.date_to.is_some() {
            let bound = |d: Option<time::Date>| match d {
                Some(d) => {
                    Bound::Included(Term::from_field_i64(f.date, i64::from(d.to_julian_day())))
                }
                None => Bound::Unbounded,
            };
            clauses.push(filter(Box::new(RangeQuery::new(
                bound(q.date_from),
                bound(q.date_to),
            ))));
        }
        if text_query.is_none() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        (Box::new(BooleanQuery::new(clauses)), text_query)
    }

    /// For unquoted multi-word input: a SHOULD clause rewarding adjacent words.
    fn adjacency_boost(&self, text: &str) -> Option<Box<dyn Query>> {
        let f = self.fields;
        let mut fold = analysis::fold_analyzer();
        let fo = analysis::tokens(&mut fold, text);
        if fo.len() < 2 || fo.len() > 8 {
            return None;
        }
        let phrase = |field: Field, words: &[String], boost: f32| -> (Occur, Box<dyn Query>) {
            let terms = words
                .iter()
                .map(|w| Term::from_field_text(field, w))
                .collect();
            (
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(PhraseQuery::new(terms)), boost)),
            )
        };
        // Folded fields only: a folded phrase also covers the accented one, and each extra
        // phrase clause costs a positional intersection (≈ 1–2 ms at 10⁵ documents).
        let subs = vec![
            phrase(f.title_ascii, &fo, TITLE_BOOST),
            phrase(f.body_ascii, &fo, 1.0),
        ];
        Some(Box::new(BoostQuery::new(
            Box::new(BooleanQuery::new(subs)),
            PHRASE_BOOST,
        )))
    }

    /// Number of documents matching `q` (same rules as [`Self::search`], paging ignored).
    pub fn count(&self, q: &SearchQuery) -> Result<usize> {
        let (query, _) = self.build_query(q);
        self.reader
            .searcher()
            .search(&query, &tantivy::collector::Count)
            .map_err(Error::from_engine)
    }

    /// Searches. Documents above the viewer's clearance are never returned.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let (query, text_query) = self.build_query(q);
        let limit = q.limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(q.offset);
        let found: Vec<(f32, DocAddress)> = match q.sort {
            SortBy::Relevance => searcher.search(&query, &top.order_by_score()),
            SortBy::DateDesc | SortBy::DateAsc => {
                let order = if q.sort == SortBy::DateDesc {
                    Order::Desc
                } else {
                    Order::Asc
                };
                searcher
                    .search(&query, &top.order_by_fast_field::<i64>("date", order))
                    .map(|v| v.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        }
        .map_err(Error::from_engine)?;
        let snippets = match &text_query {
            Some(tq) => Some(self.snippet_generators(&searcher, tq.as_ref())?),
            None => None,
        };
        found
            .into_iter()
            .map(|(score, addr)| self.hit(&searcher, score, addr, snippets.as_ref()))
            .collect()
    }

    /// Snippet generators for the exact and the folded body field; `None` when the query has
    /// no term of that field present in the index.
    fn snippet_generators(&self, searcher: &Searcher, q: &dyn Query) -> Result<Snippets> {
        let mk = |field: Field, analyzer| -> Result<Option<SnippetGenerator>> {
            let mut terms: BTreeSet<Term> = BTreeSet::new();
            q.query_terms(&mut |t, _| {
                if t.field() == field {
                    terms.insert(t.clone());
                }
            });
            let mut weights: BTreeMap<String, f32> = BTreeMap::new();
            for t in terms {
                let Some(text) = t.value().as_str().map(str::to_owned) else {
                    continue;
                };
                let df = searcher.doc_freq(&t).map_err(Error::from_engine)?;
                if df > 0 {
                    weights.insert(text, 1.0 / (1.0 + df as f32));
                }
            }
            Ok((!weights.is_empty())
                .then(|| SnippetGenerator::new(weights, analyzer, field, SNIPPET_CHARS)))
        };
        Ok((
            mk(self.fields.body_vi, analysis::exact_analyzer())?,
            mk(self.fields.body_ascii, analysis::fold_analyzer())?,
        ))
    }

    fn hit(
        &self,
        searcher: &Searcher,
        score: f32,
        addr: DocAddress,
        snippets: Option<&Snippets>,
    ) -> Result<Hit> {
        let f = self.fields;
        let doc: TantivyDocument = searcher.doc(addr).map_err(Error::from_engine)?;
        let s = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        let i = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_i64())
                .unwrap_or_default()
        };
        let body = s(f.body_vi).unwrap_or_default();
        let snippet = snippets
            .and_then(|(exact, fold)| {
                [exact, fold].into_iter().flatten().find_map(|g| {
                    let sn = g.snippet(&body);
                    (!sn.highlighted().is_empty()).then(|| sn.to_html())
                })
            })
            .unwrap_or_else(|| html_escape(&leading_chars(&body, SNIPPET_CHARS)));
        let jd = i(f.date);
        let date = i32::try_from(jd)
            .ok()
            .and_then(|jd| time::Date::from_julian_day(jd).ok())
            .unwrap_or(time::Date::MIN);
        Ok(Hit {
            id: s(f.id).unwrap_or_default(),
            score,
            title: s(f.title_vi).unwrap_or_default(),
            snippet,
            date,
            year: i32::try_from(i(f.year)).unwrap_or_default(),
            direction: s(f.direction).as_deref().and_then(Direction::from_code),
            doc_type: s(f.doc_type),
            issuer_code: s(f.issuer_code),
            issuer_name: s(f.issuer_name),
            notation: s(f.notation),
            secrecy: s(f.secrecy).unwrap_or_default(),
            status: s(f.status).unwrap_or_default(),
        })
    }
}

fn leading_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
