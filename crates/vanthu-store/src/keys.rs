//! Key hierarchy.
//!
//! A random 32-byte *data key* protects everything in a store. It never reaches disk in the
//! clear: the key file holds it wrapped (XChaCha20-Poly1305) under a *key-encryption key*
//! derived from the user's passphrase with Argon2id. Changing the passphrase re-wraps the data
//! key only; nothing else is re-encrypted. Sub-keys for SQLCipher, blobs and (later) the search
//! index are derived from the data key with HKDF-SHA256 and distinct labels.
//!
//! The [`KeyProvider`] trait is the seam for an OS keyring later: a provider turns the key file
//! into the data key.

use std::fs;
use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::StoreError;
use crate::fsutil;

/// Argon2id parameters kept in the key file, so they can be raised later without breaking
/// existing stores.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for KdfParams {
    /// OWASP's recommended Argon2id setting (19 MiB, 2 passes, 1 lane): about 40 ms on the
    /// 2-core development machines, inside the 150 ms store-open budget.
    fn default() -> Self {
        KdfParams {
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
        }
    }
}

/// The on-disk key file (`vanthu.keys`). It contains no document data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyFile {
    /// Format version.
    pub version: u32,
    /// Random store identifier (also bound into the wrapped key as associated data).
    pub store_id: String,
    /// `argon2id`.
    pub kdf: String,
    /// Argon2id parameters.
    pub kdf_params: KdfParams,
    /// Hex salt for the KDF.
    pub salt: String,
    /// `xchacha20poly1305`.
    pub wrap: String,
    /// Hex nonce for the wrap.
    pub nonce: String,
    /// Hex ciphertext of the data key (32 bytes + 16-byte tag).
    pub wrapped_key: String,
}

/// The store's master secret. Zeroed on drop.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        DataKey(k)
    }

    /// Derives a 32-byte sub-key for `label` (HKDF-SHA256).
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"vanthu/v1"), self.0.as_ref());
        let mut out = Zeroizing::new([0u8; 32]);
        hk.expand(label.as_bytes(), out.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }
}

/// Labels for derived sub-keys.
pub mod labels {
    /// SQLCipher raw key.
    pub const SQLCIPHER: &str = "sqlcipher";
    /// Blob AEAD key.
    pub const BLOB: &str = "blob";
    /// Search-index key (reserved for the encrypted tantivy directory).
    pub const INDEX: &str = "index";
}

/// Something that can turn a key file into the data key (a passphrase now; the OS keyring later).
pub trait KeyProvider {
    /// Unwraps the data key.
    fn unlock(&self, file: &KeyFile) -> Result<DataKey, StoreError>;
}

/// The passphrase route: Argon2id → XChaCha20-Poly1305 unwrap.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase (the string is zeroed on drop).
    pub fn new(s: impl Into<String>) -> Self {
        Passphrase(Zeroizing::new(s.into()))
    }

    /// The forms a Vietnamese passphrase may have been set in: precomposed (NFC, what new key
    /// files are wrapped with), as typed, with combining marks (NFD). Keyboards differ (Unikey:
    /// "Unicode dựng sẵn" or "tổ hợp"), and the same words must open the store either way.
    fn forms(&self) -> Vec<Zeroizing<String>> {
        use unicode_normalization::UnicodeNormalization;
        let mut out: Vec<Zeroizing<String>> = Vec::with_capacity(3);
        for f in [
            Zeroizing::new(self.0.nfc().collect::<String>()),
            self.0.clone(),
            Zeroizing::new(self.0.nfd().collect::<String>()),
        ] {
            if !out.iter().any(|o| **o == *f) {
                out.push(f);
            }
        }
        out
    }
}

fn kek(pass: &str, salt: &[u8], p: KdfParams) -> Result<Zeroizing<[u8; 32]>, StoreError> {
    let params = argon2::Params::new(p.m_kib, p.t, p.p, Some(32))
        .map_err(|e| StoreError::CorruptKeyFile(format!("argon2 params: {e}")))?;
    let a2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    a2.hash_password_into(pass.as_bytes(), salt, out.as_mut())
        .map_err(|e| StoreError::CorruptKeyFile(format!("argon2: {e}")))?;
    Ok(out)
}

impl KeyProvider for Passphrase {
    fn unlock(&self, file: &KeyFile) -> Result<DataKey, StoreError> {
        if file.kdf != "argon2id" || file.wrap != "xchacha20poly1305" || file.version != 1 {
            return Err(StoreError::CorruptKeyFile(format!(
                "unsupported key file (version {}, {} / {})",
                file.version, file.kdf, file.wrap
            )));
        }
        let bad = |what: &str| StoreError::CorruptKeyFile(format!("bad {what}"));
        let salt = hex::decode(&file.salt).map_err(|_| bad("salt"))?;
        let nonce = hex::decode(&file.nonce).map_err(|_| bad("nonce"))?;
        let ct = hex::decode(&file.wrapped_key).map_err(|_| bad("wrapped key"))?;
        if nonce.len() != 24 || ct.len() != 48 {
            return Err(bad("lengths"));
        }
        for form in self.forms() {
            let kek = kek(&form, &salt, file.kdf_params)?;
            let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
            let Ok(mut pt) = cipher.decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: file.store_id.as_bytes(),
                },
            ) else {
                continue;
            };
            let mut k = Zeroizing::new([0u8; 32]);
            k.copy_from_slice(&pt);
            pt.zeroize();
            return Ok(DataKey(k));
        }
        Err(StoreError::WrongPassphrase)
    }
}

impl KeyFile {
    /// File name inside the data folder.
    pub const NAME: &'static str = "vanthu.keys";

    /// Wraps `key` under `pass` with fresh salt and nonce.
    pub fn wrap(
        store_id: &str,
        key: &DataKey,
        pass: &Passphrase,
        params: KdfParams,
    ) -> Result<KeyFile, StoreError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let kek = kek(&pass.forms()[0], &salt, params)?;
        let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key.0.as_ref(),
                    aad: store_id.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Crypto("wrap".into()))?;
        Ok(KeyFile {
            version: 1,
            store_id: store_id.to_string(),
            kdf: "argon2id".into(),
            kdf_params: params,
            salt: hex::encode(salt),
            wrap: "xchacha20poly1305".into(),
            nonce: hex::encode(nonce),
            wrapped_key: hex::encode(ct),
        })
    }

    /// Reads the key file from a data folder.
    pub fn load(dir: &Path) -> Result<KeyFile, StoreError> {
        let path = dir.join(Self::NAME);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoStore(dir.to_path_buf()))
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| StoreError::CorruptKeyFile(e.to_string()))
    }

    /// Writes the key file atomically (temp file, fsync, rename, fsync folder).
    pub fn save(&self, dir: &Path) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(self).expect("key file serialises");
        let path = dir.join(Self::NAME);
        fsutil::atomic_write(&path, |f| f.write_all(&json))
    }
}
