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
        let mut out = BufWriter::with_capacity(self.chunk + TAG, file);
        out.write_all(&header)
            .map_err(|e| StoreError::io(&tmp, e))?;
        let mut aad = header.clone();
        aad.extend_from_slice(id.as_bytes());
        Ok(BlobWriter {
            store: self.clone(),
            cipher: XChaCha20Poly1305::new(self.key.as_ref().into()),
            id,
            tmp,
            out: Some(out),
            prefix,
            aad,
            buf: Vec::with_capacity(self.chunk + TAG),
            counter: 0,
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
        Ok(BlobReader {
            id: id.to_string(),
            cipher: XChaCha20Poly1305::new(self.key.as_ref().into()),
            file,
            prefix,
            aad,
            chunk,
            buf: Vec::with_capacity(chunk + TAG),
            pos: 0,
            counter: 0,
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
pub struct BlobWriter {
    store: BlobStore,
    cipher: XChaCha20Poly1305,
    id: String,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    prefix: [u8; 16],
    aad: Vec<u8>,
    buf: Vec<u8>,
    counter: u32,
    size: u64,
    hash: Sha256,
}

impl BlobWriter {
    /// The id the blob will have.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn seal(&mut self, last: bool) -> io::Result<()> {
        let n = nonce(&self.prefix, self.counter, last);
        self.cipher
            .encrypt_in_place(&n, &self.aad, &mut self.buf)
            .map_err(|_| io::Error::other("encryption failed"))?;
        self.out
            .as_mut()
            .expect("writer is open")
            .write_all(&self.buf)?;
        self.buf.clear();
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or_else(|| io::Error::other("blob too large"))?;
        Ok(())
    }

    /// Seals the last chunk, syncs the file and moves it into place.
    pub fn finish(mut self) -> Result<BlobInfo, StoreError> {
        let tmp = self.tmp.clone();
        self.seal(true).map_err(|e| StoreError::io(&tmp, e))?;
        let out = self.out.take().expect("writer is open");
        let file = out
            .into_inner()
            .map_err(|e| StoreError::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        drop(file);
        let dest = self.store.path_of(&self.id)?;
        let dir = dest.parent().expect("blob path has a parent").to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        fs::rename(&tmp, &dest).map_err(|e| StoreError::io(&dest, e))?;
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
                self.seal(false)?;
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
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Streaming reader of a blob's plaintext; every chunk is authenticated before it is returned.
pub struct BlobReader {
    id: String,
    cipher: XChaCha20Poly1305,
    file: File,
    prefix: [u8; 16],
    aad: Vec<u8>,
    chunk: usize,
    buf: Vec<u8>,
    pos: usize,
    counter: u32,
    done: bool,
}

impl BlobReader {
    fn corrupt(&self, why: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "tệp mã hóa {} bị hỏng hoặc bị sửa đổi: {why} (encrypted blob damaged or tampered)",
                self.id
            ),
        )
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let want = self.chunk + TAG;
        self.buf.resize(want, 0);
        let mut got = 0;
        while got < want {
            let n = self.file.read(&mut self.buf[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        self.buf.truncate(got);
        let last = got < want;
        if got < TAG {
            return Err(self.corrupt("truncated"));
        }
        let n = nonce(&self.prefix, self.counter, last);
        if self
            .cipher
            .decrypt_in_place(&n, &self.aad, &mut self.buf)
            .is_err()
        {
            return Err(self.corrupt("authentication failed"));
        }
        if last {
            let mut extra = [0u8; 1];
            if self.file.read(&mut extra)? != 0 {
                return Err(self.corrupt("trailing data"));
            }
            self.done = true;
        }
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or_else(|| self.corrupt("too many chunks"))?;
        self.pos = 0;
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.buf.len() {
                let n = (self.buf.len() - self.pos).min(out.len());
                out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.done || out.is_empty() {
                return Ok(0);
            }
            self.next_chunk()?;
        }
    }
}
