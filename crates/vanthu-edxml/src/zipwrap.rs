//! The single-entry ZIP quirk (§2): unwrap attachments that producers zipped.

use std::io::{self, Read, Seek, Write};

use sha2::{Digest, Sha256};

use crate::reader::{sniff, Limits};

/// An unwrapped entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unwrapped {
    /// Entry name inside the ZIP (display only; never use it as a path).
    pub entry_name: String,
    /// Uncompressed size.
    pub size: u64,
    /// Lowercase hex SHA-256 of the uncompressed bytes.
    pub sha256: String,
    /// Type sniffed from the first bytes.
    pub sniffed_type: Option<String>,
    /// True when the entry's extension differs from the attachment name's
    /// (`ATTACHMENT_TYPE_MISMATCH`).
    pub type_mismatch: bool,
}

/// Result of [`unwrap_single_entry_zip`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UnwrapOutcome {
    /// Not a ZIP (no `PK\x03\x04`) or named `*.zip`: nothing to do.
    NotWrapped,
    /// A ZIP that stays wrapped (several entries, a real office file, encrypted, …).
    KeptWrapped {
        /// Why.
        reason: String,
    },
    /// Exactly one entry, unwrapped.
    Unwrapped(Unwrapped),
}

fn ext(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((_, e)) => e.to_ascii_lowercase(),
        None => String::new(),
    }
}

struct Limited<'a> {
    out: Option<&'a mut dyn Write>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

/// Unwraps an attachment if it is a single-entry ZIP (§2): the bytes start with
/// `PK\x03\x04`, `attachment_name` does not end in `.zip`, and the central directory
/// lists exactly one entry that is not `mimetype` or `[Content_Types].xml`.
///
/// The entry is decompressed into `out` (if given) while hashing, stopping with an error
/// once it exceeds `limits.max_attachment_bytes`, the declared size, or
/// `limits.max_unzip_ratio` times its compressed size. No nested unwrapping; encrypted
/// entries stay wrapped. An inner `.edxml` is never parsed.
pub fn unwrap_single_entry_zip<R: Read + Seek>(
    mut data: R,
    attachment_name: &str,
    limits: &Limits,
    out: Option<&mut dyn Write>,
) -> io::Result<UnwrapOutcome> {
    let mut magic = [0u8; 4];
    let start = data.stream_position()?;
    let n = read_full(&mut data, &mut magic)?;
    data.seek(io::SeekFrom::Start(start))?;
    if n < 4
        || &magic != b"PK\x03\x04"
        || attachment_name
            .trim()
            .to_ascii_lowercase()
            .ends_with(".zip")
    {
        return Ok(UnwrapOutcome::NotWrapped);
    }
    let mut zip = match zip::ZipArchive::new(data) {
        Ok(z) => z,
        Err(e) => {
            return Ok(UnwrapOutcome::KeptWrapped {
                reason: format!("unreadable ZIP: {e}"),
            })
        }
    };
    if zip.len() != 1 {
        return Ok(UnwrapOutcome::KeptWrapped {
            reason: format!("{} entries", zip.len()),
        });
    }
    let (name, encrypted, is_dir) = {
        let f = zip.by_index_raw(0).map_err(io::Error::other)?;
        (f.name().to_string(), f.encrypted(), f.is_dir())
    };
    if name == "mimetype" || name == "[Content_Types].xml" || is_dir {
        return Ok(UnwrapOutcome::KeptWrapped {
            reason: format!("entry '{name}'"),
        });
    }
    if encrypted {
        return Ok(UnwrapOutcome::KeptWrapped {
            reason: "encrypted entry".into(),
        });
    }
    let mut f = match zip.by_index(0) {
        Ok(f) => f,
        Err(e) => {
            return Ok(UnwrapOutcome::KeptWrapped {
                reason: format!("{e}"),
            })
        }
    };
    let declared = f.size();
    let compressed = f.compressed_size().max(1);
    let max = limits.max_attachment_bytes.min(
        compressed
            .saturating_mul(limits.max_unzip_ratio)
            .max(64 * 1024),
    );
    if declared > max {
        return Err(io::Error::other(format!(
            "ZIP entry declares {declared} bytes > limit {max}"
        )));
    }
    let mut st = Limited {
        out,
        hasher: Sha256::new(),
        size: 0,
        head: Vec::new(),
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let k = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        st.size += k as u64;
        if st.size > declared || st.size > max {
            return Err(io::Error::other(format!(
                "ZIP entry larger than declared ({declared}) or limit ({max})"
            )));
        }
        st.hasher.update(&buf[..k]);
        if st.head.len() < 16 {
            let t = (16 - st.head.len()).min(k);
            st.head.extend_from_slice(&buf[..t]);
        }
        if let Some(o) = st.out.as_mut() {
            o.write_all(&buf[..k])?;
        }
    }
    Ok(UnwrapOutcome::Unwrapped(Unwrapped {
        type_mismatch: ext(&name) != ext(attachment_name),
        entry_name: name,
        size: st.size,
        sha256: hex::encode(st.hasher.finalize()),
        sniffed_type: sniff(&st.head).map(str::to_string),
    }))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
