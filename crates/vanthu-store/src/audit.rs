//! Tamper-evident audit trail: a SHA-256 hash chain over every change, written in the same
//! transaction as the change it records.
//!
//! `hash_n = SHA-256("vanthu-audit-v1" ‖ seq ‖ at ‖ actor ‖ action ‖ entity ‖ data ‖ hash_{n-1})`
//! with each field length-prefixed. Register rows also carry the hash of their own content, and
//! the audit entry that created them records it, so editing a row (even with the key, through a
//! SQL shell) is caught by [`verify`] as well as editing the chain itself.

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::store::IncomingRow;

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry (without its own hash).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Sequence number, from 1, without gaps.
    pub seq: i64,
    /// RFC 3339 time.
    pub at: String,
    /// Actor.
    pub actor: String,
    /// Action name, e.g. `incoming.register`.
    pub action: String,
    /// Entity id.
    pub entity: String,
    /// JSON details.
    pub data: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
}

fn put(h: &mut Sha256, s: &[u8]) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s);
}

impl Entry {
    /// The entry's chained hash.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        put(&mut h, b"vanthu-audit-v1");
        put(&mut h, &self.seq.to_be_bytes());
        put(&mut h, self.at.as_bytes());
        put(&mut h, self.actor.as_bytes());
        put(&mut h, self.action.as_bytes());
        put(&mut h, self.entity.as_bytes());
        put(&mut h, self.data.as_bytes());
        put(&mut h, self.prev_hash.as_bytes());
        hex::encode(h.finalize())
    }
}

/// Hash of a register row's content.
pub fn row_hash(row: &IncomingRow) -> String {
    let json = serde_json::to_vec(row).expect("row serialises");
    let mut h = Sha256::new();
    put(&mut h, b"vanthu-row-v1");
    put(&mut h, &json);
    hex::encode(h.finalize())
}

/// A failed check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Broken {
    /// Audit sequence number (0 when the problem is a row, not an entry).
    pub seq: i64,
    /// Entity concerned.
    pub entity: String,
    /// What is wrong, Vietnamese then English.
    pub reason: String,
}

/// Result of [`verify`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: i64,
    /// Hash of the last entry.
    pub head: String,
    /// The first broken link of the chain, if any.
    pub first_broken: Option<Broken>,
    /// Register rows or files whose content no longer matches the audited hash.
    pub row_problems: Vec<Broken>,
}

impl AuditReport {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.first_broken.is_none() && self.row_problems.is_empty()
    }
}

/// Walks the chain, then checks every register row and file against what the chain recorded.
pub fn verify(conn: &Connection) -> Result<AuditReport, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, entity, data, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS.to_string();
    let mut expect_seq = 1i64;
    let mut first_broken = None;
    let mut entries = 0;
    // entity -> audited row hash (last one wins); blob id -> audited sha256
    let mut row_hashes = std::collections::HashMap::new();
    let mut file_hashes = std::collections::HashMap::new();
    while let Some(r) = rows.next()? {
        entries += 1;
        let e = Entry {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            entity: r.get(4)?,
            data: r.get(5)?,
            prev_hash: r.get(6)?,
        };
        let stored: String = r.get(7)?;
        if first_broken.is_none() {
            let reason = if e.seq != expect_seq {
                Some(format!(
                    "thiếu hoặc thừa mục nhật ký: mong đợi số {expect_seq}, gặp {} (entry missing or inserted)",
                    e.seq
                ))
            } else if e.prev_hash != prev {
                Some("liên kết với mục trước bị đứt (link to the previous entry broken)".into())
            } else if e.hash() != stored {
                Some("nội dung mục nhật ký đã bị sửa (entry content altered)".into())
            } else {
                None
            };
            if let Some(reason) = reason {
                first_broken = Some(Broken {
                    seq: e.seq,
                    entity: e.entity.clone(),
                    reason,
                });
            }
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.data) {
            if let Some(h) = v.get("row_hash").and_then(|h| h.as_str()) {
                row_hashes.insert(e.entity.clone(), h.to_string());
            }
            if e.action == "file.attach" {
                if let (Some(b), Some(s)) = (
                    v.get("blob_id").and_then(|x| x.as_str()),
                    v.get("sha256").and_then(|x| x.as_str()),
                ) {
                    file_hashes.insert(b.to_string(), s.to_string());
                }
            }
        }
        prev = stored;
        expect_seq = e.seq + 1;
    }
    drop(rows);

    let mut row_problems = Vec::new();
    let mut st = conn.prepare("SELECT id, row_hash FROM incoming")?;
    let ids: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, stored_hash) in ids {
        let row = crate::store::get_incoming_conn(conn, &id)?;
        let actual = row_hash(&row);
        let audited = row_hashes.get(&id);
        let reason = match audited {
            None => Some("văn bản không có mục nhật ký tương ứng (row has no audit entry)"),
            Some(a) if *a != actual || stored_hash != actual => {
                Some("nội dung sổ đăng ký khác với bản đã ghi nhật ký (row altered after audit)")
            }
            _ => None,
        };
        if let Some(reason) = reason {
            row_problems.push(Broken {
                seq: 0,
                entity: id,
                reason: reason.into(),
            });
        }
    }
    let mut st = conn.prepare("SELECT document_id, blob_id, sha256 FROM files")?;
    let files: Vec<(String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (doc, blob, sha) in files {
        if file_hashes.get(&blob) != Some(&sha) {
            row_problems.push(Broken {
                seq: 0,
                entity: doc,
                reason: format!(
                    "tệp {blob} khác với bản đã ghi nhật ký (file record altered after audit)"
                ),
            });
        }
    }
    Ok(AuditReport {
        entries,
        head: prev,
        first_broken,
        row_problems,
    })
}
