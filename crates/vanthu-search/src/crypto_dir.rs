//! [`EncryptedDirectory`]: a `tantivy::Directory` whose files are sealed on disk.
//!
//! Every index file is encrypted whole with XChaCha20-Poly1305:
//!
//! ```text
//! file = MAGIC "VTSX1" (5 bytes) ‖ nonce (24 random bytes) ‖ ciphertext ‖ tag (16 bytes)
//! AAD  = MAGIC ‖ file name (UTF-8, relative to the index folder)
//! ```
//!
//! The AAD binds each ciphertext to its name, so swapping two files is detected. Segment files
//! are write-once: a writer buffers the file in memory and, on `terminate`, encrypts it, writes a
//! temporary file, fsyncs it and renames it into place. `atomic_write` (used for `meta.json` and
//! `.managed.json`) works the same way and also fsyncs the folder. Lock files
//! (`*.lock`) are empty and stay plain.
//!
//! **Memory:** files are decrypted whole into memory the first time they are opened and kept in
//! a cache until tantivy deletes them, so resident memory ≈ size of the live index. Acceptable
//! for a desktop register (10⁵ documents ≈ a few hundred MB at most); a later version can move
//! to 64 KiB chunks decrypted on demand.
//!
//! A wrong key or a modified byte makes decryption fail; the failure surfaces as an
//! `io::ErrorKind::InvalidData` error through tantivy and as [`crate::Error::Decrypt`] through
//! [`crate::SearchIndex`], never as a panic.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use tantivy::directory::error::{DeleteError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, FileHandle, FileSlice, OwnedBytes, TerminatingWrite, WatchCallback,
    WatchCallbackList, WatchHandle, WritePtr,
};
use tantivy::Directory;
use zeroize::Zeroizing;

const MAGIC: &[u8; 5] = b"VTSX1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + NONCE_LEN;
const TMP_SUFFIX: &str = ".vtmp";

/// Text placed in decryption errors; [`crate::Error`] recognises it.
pub(crate) const DECRYPT_MARK: &str = "vanthu-search: authentication failed for";

/// A tantivy directory over a folder whose files are XChaCha20-Poly1305 encrypted.
///
/// Cloning is cheap and shares the key, the decrypted-file cache and the watchers.
#[derive(Clone)]
pub struct EncryptedDirectory {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    key: Zeroizing<[u8; 32]>,
    cache: RwLock<HashMap<PathBuf, FileSlice>>,
    watchers: WatchCallbackList,
}

impl std::fmt::Debug for EncryptedDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedDirectory")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl EncryptedDirectory {
    /// Opens (creating if needed) the folder `root` with the 32-byte index key.
    ///
    /// Leftover temporary files of an interrupted write are removed.
    pub fn open(root: &Path, key: [u8; 32]) -> io::Result<Self> {
        let key = Zeroizing::new(key);
        fs::create_dir_all(root)?;
        for entry in fs::read_dir(root)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().ends_with(TMP_SUFFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                key,
                cache: RwLock::new(HashMap::new()),
                watchers: WatchCallbackList::default(),
            }),
        })
    }

    /// The folder this directory lives in.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Bytes of decrypted files currently held in memory.
    pub fn cached_bytes(&self) -> u64 {
        self.cache_read()
            .values()
            .map(|f| f.num_bytes().get_bytes())
            .sum()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.inner.key).into())
    }

    fn cache_read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<PathBuf, FileSlice>> {
        self.inner.cache.read().unwrap_or_else(|p| p.into_inner())
    }

    fn cache_write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<PathBuf, FileSlice>> {
        self.inner.cache.write().unwrap_or_else(|p| p.into_inner())
    }

    fn aad(path: &Path) -> Vec<u8> {
        let mut aad = MAGIC.to_vec();
        aad.extend_from_slice(path.to_string_lossy().as_bytes());
        aad
    }

    /// Encrypts `plain` (consumed) for `path`.
    fn seal(&self, path: &Path, mut plain: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let tag = self
            .cipher()
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &Self::aad(path), &mut plain)
            .map_err(|_| io::Error::other("vanthu-search: encryption failed"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + plain.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&plain);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Decrypts the on-disk bytes of `path`.
    fn open_sealed(&self, path: &Path, mut data: Vec<u8>) -> io::Result<OwnedBytes> {
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{DECRYPT_MARK} {}", path.display()),
            )
        };
        if data.len() < HEADER_LEN + TAG_LEN || &data[..MAGIC.len()] != MAGIC {
            return Err(bad());
        }
        let end = data.len() - TAG_LEN;
        let tag = Tag::clone_from_slice(&data[end..]);
        let nonce = XNonce::clone_from_slice(&data[MAGIC.len()..HEADER_LEN]);
        self.cipher()
            .decrypt_in_place_detached(&nonce, &Self::aad(path), &mut data[HEADER_LEN..end], &tag)
            .map_err(|_| bad())?;
        Ok(OwnedBytes::new(data).slice(HEADER_LEN..end))
    }

    fn read_plain(&self, path: &Path) -> Result<OwnedBytes, OpenReadError> {
        let full = self.inner.root.join(path);
        let data = fs::read(&full).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                OpenReadError::FileDoesNotExist(path.to_path_buf())
            } else {
                OpenReadError::wrap_io_error(e, path.to_path_buf())
            }
        })?;
        self.open_sealed(path, data)
            .map_err(|e| OpenReadError::wrap_io_error(e, path.to_path_buf()))
    }

    /// Writes `bytes` to `path` through a synced temporary file and a rename.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let full = self.inner.root.join(path);
        let mut rnd = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut rnd);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self.inner.root.join(format!(
            ".{name}.{:016x}{TMP_SUFFIX}",
            u64::from_le_bytes(rnd)
        ));
        let result = (|| {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &full)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn is_lock(path: &Path) -> bool {
        path.to_string_lossy().ends_with(".lock")
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

/// Buffers one index file and seals it on `terminate`.
struct SealingWriter {
    dir: EncryptedDirectory,
    path: PathBuf,
    buf: Vec<u8>,
}

impl Write for SealingWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TerminatingWrite for SealingWriter {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        if EncryptedDirectory::is_lock(&self.path) && self.buf.is_empty() {
            return Ok(()); // lock files stay plain and empty
        }
        let plain = std::mem::take(&mut self.buf);
        let sealed = self.dir.seal(&self.path, plain)?;
        self.dir.write_atomically(&self.path, &sealed)
    }
}

/// An OS advisory lock on a plain, empty lock file. The operating system releases it when the
/// holder exits, even when it is killed, so a crash never leaves the index locked for good
/// (tantivy's default lock is the file's existence, which a killed process would leave behind).
struct OsLock {
    _file: File,
}

impl Directory for EncryptedDirectory {
    fn acquire_lock(
        &self,
        lock: &tantivy::directory::Lock,
    ) -> Result<tantivy::directory::DirectoryLock, tantivy::directory::error::LockError> {
        use tantivy::directory::error::LockError;
        let path = self.inner.root.join(&lock.filepath);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| LockError::IoError(Arc::new(e)))?;
        if lock.is_blocking {
            file.lock().map_err(|e| LockError::IoError(Arc::new(e)))?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Err(LockError::LockBusy),
                Err(fs::TryLockError::Error(e)) => return Err(LockError::IoError(Arc::new(e))),
            }
        }
        Ok(tantivy::directory::DirectoryLock::from(Box::new(OsLock {
            _file: file,
        })))
    }

    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if let Some(f) = self.cache_read().get(path) {
            return Ok(Arc::new(f.clone()));
        }
        let bytes = self.read_plain(path)?;
        let slice = FileSlice::new(Arc::new(bytes));
        self.cache_write().insert(path.to_path_buf(), slice.clone());
        Ok(Arc::new(slice))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.cache_write().remove(path);
        fs::remove_file(self.inner.root.join(path)).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                DeleteError::FileDoesNotExist(path.to_path_buf())
            } else {
                DeleteError::IoError {
                    io_error: Arc::new(e),
                    filepath: path.to_path_buf(),
                }
            }
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        Ok(self.inner.root.join(path).exists())
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let full = self.inner.root.join(path);
        // Reserve the name (an empty file holds no data); the content replaces it on terminate.
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&full)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    OpenWriteError::FileAlreadyExists(path.to_path_buf())
                } else {
                    OpenWriteError::wrap_io_error(e, path.to_path_buf())
                }
            })?;
        self.cache_write().remove(path);
        let writer = SealingWriter {
            dir: self.clone(),
            path: path.to_path_buf(),
            buf: Vec::new(),
        };
        Ok(io::BufWriter::with_capacity(64 * 1024, Box::new(writer)))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        Ok(self.read_plain(path)?.as_slice().to_vec())
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let sealed = self.seal(path, data.to_vec())?;
        self.write_atomically(path, &sealed)?;
        sync_dir(&self.inner.root)?;
        if path == Path::new("meta.json") {
            drop(self.inner.watchers.broadcast());
        }
        Ok(())
    }

    fn sync_directory(&self) -> io::Result<()> {
        sync_dir(&self.inner.root)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        Ok(self.inner.watchers.subscribe(watch_callback))
    }
}
