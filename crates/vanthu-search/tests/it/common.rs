//! Fixtures: backends and realistic documents.

use std::path::PathBuf;

use tempfile::TempDir;
use time::macros::date;
use vanthu_search::{Direction, IndexDoc, SearchIndex};

pub const KEY: [u8; 32] = [7u8; 32];

/// Which directory the suite runs over.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Ram,
    Plain,
    Encrypted,
}

/// An index plus the folder that must outlive it.
pub struct Fixture {
    pub index: SearchIndex,
    pub _dir: Option<TempDir>,
}

impl Backend {
    pub fn open(self) -> Fixture {
        match self {
            Backend::Ram => Fixture {
                index: SearchIndex::open_in_ram().unwrap(),
                _dir: None,
            },
            Backend::Plain => {
                let dir = TempDir::new().unwrap();
                let index = SearchIndex::open_plain(dir.path()).unwrap();
                Fixture {
                    index,
                    _dir: Some(dir),
                }
            }
            Backend::Encrypted => {
                let dir = TempDir::new().unwrap();
                let index = SearchIndex::open(dir.path(), KEY).unwrap();
                Fixture {
                    index,
                    _dir: Some(dir),
                }
            }
        }
    }
}

/// The Hòa Bình e-government architecture decision, read in place (never copied).
pub fn seed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/seed/hoa-binh-egov-architecture-2020.txt")
}

/// Sentences of the seed text (line breaks inside sentences joined).
pub fn seed_sentences() -> Vec<String> {
    let text = std::fs::read_to_string(seed_path()).expect("seed text");
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined
        .split(['.', ';'])
        .map(|s| s.trim().to_owned())
        .filter(|s| s.chars().count() > 40)
        .collect()
}

/// A document with sensible defaults.
pub fn doc(id: &str, title: &str, body: &str) -> IndexDoc {
    IndexDoc {
        id: id.into(),
        direction: Direction::Incoming,
        title: title.into(),
        body: body.into(),
        doc_type: Some("CV".into()),
        issuer_code: Some("000.00.00.H30".into()),
        issuer_name: Some("Ủy ban nhân dân tỉnh Hòa Bình".into()),
        notation: Some(format!("{id}/UBND-VX")),
        year: 2024,
        date: date!(2024 - 03 - 15),
        secrecy: "thuong".into(),
        status: "moi".into(),
    }
}

/// Documents built from the seed text: 6 sentences each.
pub fn seed_docs() -> Vec<IndexDoc> {
    seed_sentences()
        .chunks(6)
        .enumerate()
        .map(|(i, chunk)| {
            let title = chunk[0].chars().take(120).collect::<String>();
            doc(&format!("seed-{i}"), &title, &chunk[1..].join(". "))
        })
        .collect()
}
