//! Durable storage of the local axis server: one folder per agency queue, one file per
//! delivered copy, packages stored once. Every file is written beside its place, synced and
//! renamed, so a killed server loses nothing it has answered `OK` for.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::AxisError;

/// An agency account on the axis: organ id, its adapter's `systemid` and HMAC secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgencyAccount {
    /// Organ id (`000.00.00.H29`).
    pub code: String,
    /// Name.
    pub name: String,
    /// `systemid` its requests carry.
    pub system_id: String,
    /// HMAC secret (the local server is a test stand-in: kept in its data folder).
    pub secret: String,
    /// Mail.
    #[serde(default)]
    pub mail: String,
}

/// One delivered copy in a recipient's queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    /// Copy id (`receiverDocId`, the recipient's `docId`).
    pub doc_id: String,
    /// The sent package's id.
    pub sender_doc_id: String,
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// `edoc` / `status`.
    pub message_type: String,
    /// Accepted at.
    pub created_time: String,
    /// `pending`, `done`, `fail`.
    pub status: String,
    /// Acknowledged at.
    #[serde(default)]
    pub received_time: String,
    /// Arrival order.
    pub seq: u64,
}

/// A sent package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sent {
    /// `DocId` given to the sender.
    pub doc_id: String,
    /// Sender.
    pub from: String,
    /// `edoc` / `status`.
    pub message_type: String,
    /// Copies, one per recipient (two with the duplicate-delivery fault).
    pub receivers: Vec<String>,
    /// Accepted at.
    pub sent_time: String,
}

/// The whole server state, loaded at start and kept in step with the files.
pub struct Storage {
    dir: PathBuf,
    /// Agencies by organ id.
    pub agencies: BTreeMap<String, AgencyAccount>,
    /// Copies by id.
    pub items: HashMap<String, Item>,
    /// Sent packages by id.
    pub sent: HashMap<String, Sent>,
    /// Last arrival number.
    pub seq: u64,
}

fn io(p: &Path, e: std::io::Error) -> AxisError {
    AxisError::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", p.display()),
    ))
}

/// Writes `bytes` to `path` atomically and durably.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AxisError> {
    let dir = path.parent().expect("files live in folders");
    fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    {
        let mut f = fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn read_json_dir<T: serde::de::DeserializeOwned>(dir: &Path) -> Result<Vec<T>, AxisError> {
    let mut out = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(dir, e)),
    };
    for e in rd {
        let p = e.map_err(|e| io(dir, e))?.path();
        if p.extension().is_some_and(|x| x == "json") {
            let bytes = fs::read(&p).map_err(|e| io(&p, e))?;
            match serde_json::from_slice(&bytes) {
                Ok(v) => out.push(v),
                Err(e) => {
                    tracing::warn!(file = %p.display(), "bỏ qua tệp hỏng (skipping damaged file): {e}")
                }
            }
        }
    }
    Ok(out)
}

/// A safe file name for an id (ids are ours, but never trust).
fn fname(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Storage {
    /// Opens (or creates) the server data folder.
    pub fn open(dir: &Path) -> Result<Storage, AxisError> {
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut st = Storage {
            dir: dir.to_path_buf(),
            agencies: BTreeMap::new(),
            items: HashMap::new(),
            sent: HashMap::new(),
            seq: 0,
        };
        for a in read_json_dir::<AgencyAccount>(&dir.join("agencies"))? {
            st.agencies.insert(a.code.clone(), a);
        }
        let qdir = dir.join("queues");
        if let Ok(rd) = fs::read_dir(&qdir) {
            for e in rd.flatten() {
                for it in read_json_dir::<Item>(&e.path())? {
                    st.seq = st.seq.max(it.seq);
                    st.items.insert(it.doc_id.clone(), it);
                }
            }
        }
        for s in read_json_dir::<Sent>(&dir.join("sent"))? {
            st.sent.insert(s.doc_id.clone(), s);
        }
        Ok(st)
    }

    /// Adds or replaces an agency account.
    pub fn put_agency(&mut self, a: AgencyAccount) -> Result<(), AxisError> {
        let p = self
            .dir
            .join("agencies")
            .join(format!("{}.json", fname(&a.code)));
        write_atomic(&p, &serde_json::to_vec_pretty(&a).expect("serialises"))?;
        self.agencies.insert(a.code.clone(), a);
        Ok(())
    }

    /// The agency whose adapter has this `systemid`.
    pub fn agency_by_system(&self, system_id: &str) -> Option<&AgencyAccount> {
        self.agencies.values().find(|a| a.system_id == system_id)
    }

    fn package_path(&self, sender_doc_id: &str) -> PathBuf {
        self.dir
            .join("packages")
            .join(format!("{}.edxml", fname(sender_doc_id)))
    }

    /// A fresh path for a request body being received.
    pub fn tmp_path(&self) -> Result<PathBuf, AxisError> {
        let d = self.dir.join("tmp");
        fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
        Ok(d.join(format!("{}.part", new_id())))
    }

    /// Stores a package and enqueues one copy per recipient (`copies` per recipient).
    pub fn accept(
        &mut self,
        from: &str,
        message_type: &str,
        to: &[String],
        package: &[u8],
        copies: usize,
        now: &str,
    ) -> Result<Sent, AxisError> {
        let tmp = self.tmp_path()?;
        write_atomic(&tmp, package)?;
        self.accept_file(
            from,
            message_type,
            to,
            &tmp,
            package.len() as u64,
            copies,
            now,
        )
    }

    /// Like [`Storage::accept`] for a body already received into `tmp` (cut to `len` bytes,
    /// synced and renamed into place).
    #[allow(clippy::too_many_arguments)]
    pub fn accept_file(
        &mut self,
        from: &str,
        message_type: &str,
        to: &[String],
        tmp: &Path,
        len: u64,
        copies: usize,
        now: &str,
    ) -> Result<Sent, AxisError> {
        let doc_id = new_id();
        {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(tmp)
                .map_err(|e| io(tmp, e))?;
            f.set_len(len).map_err(|e| io(tmp, e))?;
            f.sync_all().map_err(|e| io(tmp, e))?;
        }
        let dest = self.package_path(&doc_id);
        let dir = dest.parent().expect("in a folder").to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        fs::rename(tmp, &dest).map_err(|e| io(&dest, e))?;
        #[cfg(unix)]
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        let mut receivers = Vec::new();
        for r in to {
            for _ in 0..copies.max(1) {
                self.seq += 1;
                let it = Item {
                    doc_id: new_id(),
                    sender_doc_id: doc_id.clone(),
                    from: from.to_string(),
                    to: r.clone(),
                    message_type: message_type.to_string(),
                    created_time: now.to_string(),
                    status: "pending".into(),
                    received_time: String::new(),
                    seq: self.seq,
                };
                self.save_item(&it)?;
                receivers.push(it.doc_id.clone());
                self.items.insert(it.doc_id.clone(), it);
            }
        }
        let sent = Sent {
            doc_id: doc_id.clone(),
            from: from.to_string(),
            message_type: message_type.to_string(),
            receivers,
            sent_time: now.to_string(),
        };
        let p = self
            .dir
            .join("sent")
            .join(format!("{}.json", fname(&doc_id)));
        write_atomic(&p, &serde_json::to_vec_pretty(&sent).expect("serialises"))?;
        self.sent.insert(doc_id, sent.clone());
        Ok(sent)
    }

    /// Persists one copy's record.
    pub fn save_item(&self, it: &Item) -> Result<(), AxisError> {
        let p = self
            .dir
            .join("queues")
            .join(fname(&it.to))
            .join(format!("{}.json", fname(&it.doc_id)));
        write_atomic(&p, &serde_json::to_vec_pretty(it).expect("serialises"))
    }

    /// The package file of a copy and its length.
    pub fn package_file(&self, it: &Item) -> Result<(PathBuf, u64), AxisError> {
        let p = self.package_path(&it.sender_doc_id);
        let len = fs::metadata(&p).map_err(|e| io(&p, e))?.len();
        Ok((p, len))
    }
}

/// A new 24-hex axis id.
pub fn new_id() -> String {
    let b: [u8; 12] = rand::random();
    hex::encode(b)
}
