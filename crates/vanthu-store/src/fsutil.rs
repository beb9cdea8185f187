//! Small portable file-system helpers: atomic replace, directory sync, random ids.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use rand::RngCore;

use crate::error::StoreError;

/// A random 128-bit identifier as 32 lowercase hex digits.
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Flushes a directory entry to disk so that a rename inside it survives a power cut.
/// On Windows directories cannot be opened for syncing; NTFS journals the rename itself.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| StoreError::io(dir, e))?;
        d.sync_all().map_err(|e| StoreError::io(dir, e))?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

/// Writes `path` atomically: the content goes to a temporary sibling, is synced, and is then
/// renamed over the target; a crash leaves either the old or the new file, never a mix.
pub fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".tmp-{}", random_id()));
    let res = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        fill(&mut f)?;
        f.flush()?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(StoreError::io(path, e));
    }
    sync_dir(dir)
}
