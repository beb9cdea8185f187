//! Authenticated-encrypted, chunked blob files.
//!
//! Layout of a blob file:
//!
//! ```text
//! header  = "VTBLOB01" (8) ‖ nonce prefix (16, random) ‖ chunk size (u32 LE)
//! chunk_i = XChaCha20-Poly1305(key, nonce = prefix ‖ i (u32 BE) ‖ last (u8) ‖ 0 0 0,
//!                              aad = header ‖ blob id, plaintext_i)
//! ```
//!
//! Every chunk but the last carries exactly `chunk size` bytes of plaintext; the last one
//! carries fewer (possibly zero) and has the `last` flag in its nonce, so truncation, chunk
//! reordering, swapping chunks between blobs and appending are all detected. Files are written
//! to `blobs/tmp/`, synced and renamed into place, so a crash never leaves a half blob under a
//! real name. Memory use is one chunk, whatever the file size.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::fsutil::{random_id, sync_dir};

const MAGIC: &[u8; 8] = b"VTBLOB01";
const HEADER_LEN: usize = 8 + 16 + 4;
const TAG: usize = 16;
/// Default plaintext chunk size (64 KiB).
pub const DEFAULT_CHUNK: usize = 64 * 1024;

/// What a finished blob write reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Blob identifier (file name stem).
    pub id: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext, lowercase hex.
    pub sha256: String,
}

/// The blob folder of a store.
#[derive(Clone)]
pub struct BlobStore {
    root: PathBuf,
    key: Zeroizing<[u8; 32]>,
    chunk: usize,
}

impl BlobStore {
    /// Opens (and creates if needed) the blob folder `root` with the blob key.
    pub fn open(root: &Path, key: Zeroizing<[u8; 32]>) -> Result<Self, StoreError> {
        fs::create_dir_all(root.join("tmp")).map_err(|e| StoreError::io(root, e))?;
        Ok(BlobStore {
            root: root.to_path_buf(),
            key,
            chunk: DEFAULT_CHUNK,
        })
    }

    fn path_of(&self, id: &str) -> Result<PathBuf, StoreError> {
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::BlobCorrupt(format!("invalid blob id {id:?}")));
        }
        Ok(self.root.join(&id[..2]).join(format!("{id}.vtb")))
    }

    /// Starts a new blob. Write the plaintext into it, then call [`BlobWriter::finish`].
    pub fn create(&self) -> Result<BlobWriter, StoreError> {
        let id = random_id();
        let tmp = self.root.join("tmp").join(format!("{}.part", random_id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| StoreError::io(&tmp, e))?;
        let mut prefix = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut prefix);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&prefix);
        header.extend_from_slice(&(self.chunk as u32).to_le_bytes());
        let mut aad = header.clone();
        aad.extend_from_slice(id.as_bytes());
        let (to_worker, rx) = sync_channel::<(Vec<u8>, bool)>(2);
        let (recycle_tx, recycled) = sync_channel::<Vec<u8>>(3);
        let cipher = XChaCha20Poly1305::new(self.key.as_ref().into());
        let chunk = self.chunk;
        let worker = std::thread::Builder::new()
            .name("vanthu-blob-seal".into())
            .spawn(move || seal_worker(cipher, file, header, prefix, aad, chunk, rx, recycle_tx))
            .map_err(|e| StoreError::io(&tmp, e))?;
        Ok(BlobWriter {
            store: self.clone(),
            id,
            tmp,
            to_worker: Some(to_worker),
            recycled,
            worker: Some(worker),
            buf: Vec::with_capacity(self.chunk + TAG),
            size: 0,
            hash: Sha256::new(),
        })
    }

    /// Copies everything from `src` into a new blob.
    pub fn put(&self, src: &mut dyn Read) -> Result<BlobInfo, StoreError> {
        let mut w = self.create()?;
        io::copy(src, &mut w).map_err(|e| StoreError::io(&w.tmp, e))?;
        w.finish()
    }

    /// Opens a blob for streaming, authenticated decryption.
    pub fn open_blob(&self, id: &str) -> Result<BlobReader, StoreError> {
        let path = self.path_of(id)?;
        let mut file = File::open(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                StoreError::BlobMissing(id.to_string())
            } else {
                StoreError::io(&path, e)
            }
        })?;
        let mut header = [0u8; HEADER_LEN];
        file.read_exact(&mut header)
            .map_err(|_| StoreError::BlobCorrupt(format!("{id}: header truncated")))?;
        if &header[..8] != MAGIC {
            return Err(StoreError::BlobCorrupt(format!("{id}: bad magic")));
        }
        let mut prefix = [0u8; 16];
        prefix.copy_from_slice(&header[8..24]);
        let chunk = u32::from_le_bytes(header[24..28].try_into().expect("4 bytes")) as usize;
        if chunk == 0 || chunk > 16 * 1024 * 1024 {
            return Err(StoreError::BlobCorrupt(format!("{id}: bad chunk size")));
        }
        let mut aad = header.to_vec();
        aad.extend_from_slice(id.as_bytes());
        let w = OpenWorker {
            id: id.to_string(),
            cipher: XChaCha20Poly1305::new(self.key.as_ref().into()),
            file,
            prefix,
            aad,
            chunk,
        };
        let (tx, rx) = sync_channel(2);
        let (recycle, recycle_rx) = sync_channel(3);
        let worker = std::thread::Builder::new()
            .name("vanthu-blob-open".into())
            .spawn(move || w.run(tx, recycle_rx))
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(BlobReader {
            rx: Some(rx),
            recycle,
            worker: Some(worker),
            cur: Vec::new(),
            pos: 0,
            done: false,
        })
    }

    /// Deletes a blob file (used to roll back a blob whose metadata never committed).
    pub fn remove(&self, id: &str) -> Result<(), StoreError> {
        let path = self.path_of(id)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// Ids of every blob file present (for garbage collection of orphans after a crash).
    pub fn list(&self) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        let rd = fs::read_dir(&self.root).map_err(|e| StoreError::io(&self.root, e))?;
        for ent in rd.flatten() {
            let name = ent.file_name().to_string_lossy().to_string();
            if name.len() != 2 || !ent.path().is_dir() {
                continue;
            }
            for f in fs::read_dir(ent.path()).into_iter().flatten().flatten() {
                let n = f.file_name().to_string_lossy().to_string();
                if let Some(stem) = n.strip_suffix(".vtb") {
                    ids.push(stem.to_string());
                }
            }
        }
        Ok(ids)
    }

    /// Time since a blob file was last modified.
    pub fn age(&self, id: &str) -> Result<std::time::Duration, StoreError> {
        let p = self.path_of(id)?;
        let m = fs::metadata(&p).map_err(|e| StoreError::io(&p, e))?;
        Ok(file_age(&m))
    }

    /// Removes leftover temporary files of interrupted writes (ciphertext only, never
    /// readable) that are older than `min_age`.
    pub fn clean_tmp(&self, min_age: std::time::Duration) -> usize {
        let mut n = 0;
        for f in fs::read_dir(self.root.join("tmp"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let old = f
                .metadata()
                .map(|m| file_age(&m) >= min_age)
                .unwrap_or(false);
            if old && fs::remove_file(f.path()).is_ok() {
                n += 1;
            }
        }
        n
    }
}

fn file_age(m: &fs::Metadata) -> std::time::Duration {
    m.modified()
        .ok()
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_default()
}

fn nonce(prefix: &[u8; 16], counter: u32, last: bool) -> XNonce {
    let mut n = [0u8; 24];
    n[..16].copy_from_slice(prefix);
    n[16..20].copy_from_slice(&counter.to_be_bytes());
    n[20] = last as u8;
    *XNonce::from_slice(&n)
}

/// A blob being written. Dropping it without [`finish`](Self::finish) discards it.
///
/// The caller's thread hashes the plaintext while a worker thread seals and writes the
/// previous chunk, so the two costs overlap (at most three chunks in flight).
pub struct BlobWriter {
    store: BlobStore,
    id: String,
    tmp: PathBuf,
    to_worker: Option<SyncSender<(Vec<u8>, bool)>>,
    recycled: Receiver<Vec<u8>>,
    worker: Option<JoinHandle<io::Result<File>>>,
    buf: Vec<u8>,
    size: u64,
    hash: Sha256,
}

#[allow(clippy::too_many_arguments)]
fn seal_worker(
    cipher: XChaCha20Poly1305,
    file: File,
    header: Vec<u8>,
    prefix: [u8; 16],
    aad: Vec<u8>,
    chunk: usize,
    rx: Receiver<(Vec<u8>, bool)>,
    recycle: SyncSender<Vec<u8>>,
) -> io::Result<File> {
    let mut out = BufWriter::with_capacity(chunk + TAG, file);
    out.write_all(&header)?;
    let mut counter: u32 = 0;
    for (mut buf, last) in rx {
        let n = nonce(&prefix, counter, last);
        cipher
            .encrypt_in_place(&n, &aad, &mut buf)
            .map_err(|_| io::Error::other("encryption failed"))?;
        out.write_all(&buf)?;
        counter = counter
            .checked_add(1)
            .ok_or_else(|| io::Error::other("blob too large"))?;
        buf.clear();
        let _ = recycle.try_send(buf);
        if last {
            break;
        }
    }
    out.into_inner().map_err(|e| e.into_error())
}

impl BlobWriter {
    /// The id the blob will have.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The worker's error, once it has stopped.
    fn worker_error(&mut self) -> io::Error {
        self.to_worker = None;
        match self.worker.take().map(|h| h.join()) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => io::Error::other("blob writer thread panicked"),
            _ => io::Error::other("blob writer stopped"),
        }
    }

    fn send(&mut self, last: bool) -> io::Result<()> {
        let next = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(self.store.chunk + TAG));
        let full = std::mem::replace(&mut self.buf, next);
        let sent = match &self.to_worker {
            Some(tx) => tx.send((full, last)).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            Err(self.worker_error())
        }
    }

    /// Seals the last chunk, syncs the file and moves it into place.
    pub fn finish(mut self) -> Result<BlobInfo, StoreError> {
        let tmp = self.tmp.clone();
        self.send(true).map_err(|e| StoreError::io(&tmp, e))?;
        self.to_worker = None;
        let file = match self.worker.take().map(|h| h.join()) {
            Some(Ok(Ok(f))) => f,
            Some(Ok(Err(e))) => return Err(StoreError::io(&tmp, e)),
            _ => return Err(StoreError::Crypto("blob writer thread failed".into())),
        };
        file.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        drop(file);
        let dest = self.store.path_of(&self.id)?;
        let dir = dest.parent().expect("blob path has a parent").to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        fs::rename(&tmp, &dest).map_err(|e| StoreError::io(&dest, e))?;
        // From here on the blob is in place: Drop must not delete anything.
        self.tmp = PathBuf::new();
        sync_dir(&dir)?;
        let hash = std::mem::take(&mut self.hash);
        Ok(BlobInfo {
            id: std::mem::take(&mut self.id),
            size: self.size,
            sha256: hex::encode(hash.finalize()),
        })
    }
}

impl Write for BlobWriter {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let total = data.len();
        self.hash.update(data);
        self.size += total as u64;
        let chunk = self.store.chunk;
        while !data.is_empty() {
            let take = (chunk - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == chunk {
                self.send(false)?;
            }
        }
        Ok(total)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // Stop the worker (a closed channel without a last chunk ends it) and wait for it, so
        // the file is closed before it is removed (Windows cannot delete an open file).
        self.to_worker = None;
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Streaming reader of a blob's plaintext; every chunk is authenticated before it is returned.
///
/// A worker thread reads and decrypts ahead (at most three chunks) while the caller consumes,
/// so disk reads, decryption and the caller's own work (hashing, writing) overlap.
pub struct BlobReader {
    rx: Option<Receiver<io::Result<Vec<u8>>>>,
    recycle: SyncSender<Vec<u8>>,
    worker: Option<JoinHandle<()>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

struct OpenWorker {
    id: String,
    cipher: XChaCha20Poly1305,
    file: File,
    prefix: [u8; 16],
    aad: Vec<u8>,
    chunk: usize,
}

impl OpenWorker {
    fn corrupt(&self, why: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "tệp mã hóa {} bị hỏng hoặc bị sửa đổi: {why} (encrypted blob damaged or tampered)",
                self.id
            ),
        )
    }

    /// Opens chunk `counter` in place; `last` says whether the file ended after it.
    fn open_chunk(&self, counter: u32, buf: &mut Vec<u8>, last: bool) -> io::Result<()> {
        if buf.len() < TAG {
            return Err(self.corrupt("truncated"));
        }
        let n = nonce(&self.prefix, counter, last);
        self.cipher
            .decrypt_in_place(&n, &self.aad, buf)
            .map_err(|_| self.corrupt("authentication failed"))
    }

    /// Third stage of the pipeline, on its own thread: reads ciphertext chunks ahead so that
    /// the disk works while the previous chunk is being decrypted.
    fn read_ahead(mut file: File, chunk: usize, tx: SyncSender<io::Result<(Vec<u8>, bool)>>) {
        let want = chunk + TAG;
        loop {
            let mut buf = vec![0u8; want];
            let mut got = 0;
            let res = loop {
                if got == want {
                    break Ok(());
                }
                match file.read(&mut buf[got..]) {
                    Ok(0) => break Ok(()),
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            if let Err(e) = res {
                let _ = tx.send(Err(e));
                return;
            }
            buf.truncate(got);
            // A full chunk is never the last one; a short one must be followed by EOF, which
            // the decrypting stage checks by seeing no further chunk.
            let last = got < want;
            if tx.send(Ok((buf, last))).is_err() || last {
                return;
            }
        }
    }

    fn run(mut self, tx: SyncSender<io::Result<Vec<u8>>>, _recycle: Receiver<Vec<u8>>) {
        let file = match self.file.try_clone() {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let chunk = self.chunk;
        let (raw_tx, raw_rx) = sync_channel(4);
        let reader = std::thread::Builder::new()
            .name("vanthu-blob-read".into())
            .spawn(move || Self::read_ahead(file, chunk, raw_tx));
        let reader = match reader {
            Ok(h) => h,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let mut counter: u32 = 0;
        for item in raw_rx.iter() {
            let (mut buf, last) = match item {
                Ok(x) => x,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            };
            if let Err(e) = self.open_chunk(counter, &mut buf, last) {
                let _ = tx.send(Err(e));
                break;
            }
            if tx.send(Ok(buf)).is_err() {
                break;
            }
            if last {
                // the reader stops after a short chunk; nothing may follow it
                let mut extra = [0u8; 1];
                match self.file.read(&mut extra) {
                    Ok(0) => {}
                    Ok(_) => {
                        let _ = tx.send(Err(self.corrupt("trailing data")));
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
                break;
            }
            counter = match counter.checked_add(1) {
                Some(c) => c,
                None => {
                    let _ = tx.send(Err(self.corrupt("too many chunks")));
                    break;
                }
            };
        }
        drop(raw_rx);
        let _ = reader.join();
    }
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.cur.len() {
                let n = (self.cur.len() - self.pos).min(out.len());
                out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.done || out.is_empty() {
                return Ok(0);
            }
            let rx = self.rx.as_ref().expect("reader is open");
            match rx.recv() {
                Ok(Ok(next)) => {
                    let old = std::mem::replace(&mut self.cur, next);
                    let _ = self.recycle.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    self.cur.clear();
                    return Err(e);
                }
                // The worker stops after the last chunk: the stream is complete.
                Err(_) => self.done = true,
            }
        }
    }
}

impl Drop for BlobReader {
    fn drop(&mut self) {
        self.rx = None; // unblocks a worker waiting to send
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
    }
}
