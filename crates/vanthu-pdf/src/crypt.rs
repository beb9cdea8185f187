//! The standard security handler (ISO 32000-2 §7.6.4), read side only.
//!
//! Many PDFs are encrypted without a password to open them: only an *owner* password that
//! restricts printing or editing, with an empty *user* password, so every viewer opens them
//! without asking. Such a file can carry signatures (pyHanko and Acrobat sign it as it is), and
//! vanthu must validate them: [`Crypt::open`] derives the file key from the empty user password
//! (or from a password given, as the user or the owner password) and [`Crypt::object`]
//! decrypts the strings and streams of an object as it is read. Without the right password a
//! file that needs one is refused ([`CryptError::Password`]), as are other handlers.
//!
//! Revisions 2–4 (RC4 40–128 bits, AES-128) and 5–6 (AES-256). Not encrypted, as the standard
//! says: the `/Encrypt` dictionary, cross-reference streams, the `/Contents` of signature
//! dictionaries (a signature is computed over the bytes of the file), metadata streams when
//! `/EncryptMetadata false`, and objects inside object streams (the stream is decrypted whole).
//!
//! Writing (signing an encrypted file) is not supported: `sign` refuses such files.

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::object::{Dict, Obj};

/// Why an encrypted file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptError {
    /// A password is needed to open the file (the user password is not empty).
    Password,
    /// A security handler, revision or method vanthu does not implement.
    Unsupported(String),
}

/// How strings or streams are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Identity,
    Rc4,
    Aes128,
    Aes256,
}

/// The file key and methods of an encrypted document.
#[derive(Clone)]
pub struct Crypt {
    key: Vec<u8>,
    strings: Method,
    streams: Method,
    encrypt_metadata: bool,
    /// Object number of the `/Encrypt` dictionary when it is indirect (its strings are plain).
    dict_num: Option<u32>,
    /// Named crypt filters (`/CF`), for streams that choose theirs with a `/Crypt` filter.
    filters: Vec<(Vec<u8>, Method)>,
}

impl std::fmt::Debug for Crypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Crypt")
            .field("strings", &self.strings)
            .field("streams", &self.streams)
            .finish_non_exhaustive()
    }
}

/// Padding of passwords for revisions 2–4 (ISO 32000-2 §7.6.4.3.2).
const PAD: [u8; 32] = [
    0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
    0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
];

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = openssl::hash::Hasher::new(openssl::hash::MessageDigest::md5()).expect("MD5");
    for p in parts {
        h.update(p).expect("MD5");
    }
    let d = h.finish().expect("MD5");
    let mut out = [0u8; 16];
    out.copy_from_slice(&d);
    out
}

/// RC4 (written here: OpenSSL 3 keeps it in its legacy provider).
pub(crate) fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s: [u8; 256] = std::array::from_fn(|i| i as u8);
    if key.is_empty() {
        return data.to_vec();
    }
    let mut j = 0u8;
    for i in 0..256 {
        j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
        s.swap(i, j as usize);
    }
    let (mut i, mut j) = (0u8, 0u8);
    data.iter()
        .map(|&b| {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[i as usize]);
            s.swap(i as usize, j as usize);
            b ^ s[s[i as usize].wrapping_add(s[j as usize]) as usize]
        })
        .collect()
}

/// AES-CBC decryption of `iv || ciphertext` with PKCS#7 padding; `None` when malformed.
fn aes_cbc_decrypt(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    use openssl::symm::{Cipher, Crypter, Mode};
    if data.len() < 16 {
        return None;
    }
    let cipher = match key.len() {
        16 => Cipher::aes_128_cbc(),
        32 => Cipher::aes_256_cbc(),
        _ => return None,
    };
    let (iv, body) = data.split_at(16);
    if body.is_empty() {
        return Some(Vec::new());
    }
    let mut c = Crypter::new(cipher, Mode::Decrypt, key, Some(iv)).ok()?;
    // Some writers leave the last block unpadded or short: decrypt whole blocks and strip
    // valid padding only.
    c.pad(false);
    let whole = body.len() - body.len() % 16;
    let mut out = vec![0u8; whole + 32];
    let mut n = c.update(&body[..whole], &mut out).ok()?;
    n += c.finalize(&mut out[n..]).ok()?;
    out.truncate(n);
    if let Some(&p) = out.last() {
        let p = p as usize;
        if (1..=16).contains(&p)
            && p <= out.len()
            && out[out.len() - p..].iter().all(|&x| x as usize == p)
        {
            out.truncate(out.len() - p);
        }
    }
    Some(out)
}

/// AES-256-CBC without padding and a zero IV (unwrapping `/UE`).
fn aes256_unwrap(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    use openssl::symm::{Cipher, Crypter, Mode};
    let mut c = Crypter::new(Cipher::aes_256_cbc(), Mode::Decrypt, key, Some(&[0u8; 16])).ok()?;
    c.pad(false);
    let mut out = vec![0u8; data.len() + 32];
    let mut n = c.update(data, &mut out).ok()?;
    n += c.finalize(&mut out[n..]).ok()?;
    out.truncate(n);
    Some(out)
}

/// The hash of revision 6 (ISO 32000-2 §7.6.4.3.4, algorithm 2.B).
fn hash_2b(password: &[u8], salt: &[u8], udata: &[u8]) -> Vec<u8> {
    use openssl::symm::{Cipher, Crypter, Mode};
    let mut k: Vec<u8> = Sha256::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(udata)
        .finalize()
        .to_vec();
    let mut round = 0usize;
    loop {
        let mut k1 = Vec::with_capacity(64 * (password.len() + k.len() + udata.len()));
        for _ in 0..64 {
            k1.extend_from_slice(password);
            k1.extend_from_slice(&k);
            k1.extend_from_slice(udata);
        }
        let mut c = Crypter::new(
            Cipher::aes_128_cbc(),
            Mode::Encrypt,
            &k[..16],
            Some(&k[16..32]),
        )
        .expect("AES-128");
        c.pad(false);
        let mut e = vec![0u8; k1.len() + 16];
        let n = c.update(&k1, &mut e).expect("AES-128");
        e.truncate(n);
        let m = e[..16].iter().map(|&b| b as u32).sum::<u32>() % 3;
        k = match m {
            0 => Sha256::digest(&e).to_vec(),
            1 => Sha384::digest(&e).to_vec(),
            _ => Sha512::digest(&e).to_vec(),
        };
        round += 1;
        if round >= 64 && (*e.last().expect("not empty") as usize) + 32 <= round {
            break;
        }
    }
    k.truncate(32);
    k
}

/// The method of the crypt filter called `name`.
fn named(filters: &[(Vec<u8>, Method)], name: &[u8]) -> Option<Method> {
    filters.iter().find(|(k, _)| k == name).map(|(_, m)| *m)
}

fn method_of(cfm: Option<&[u8]>) -> Result<Method, CryptError> {
    match cfm {
        None | Some(b"None") => Ok(Method::Identity),
        Some(b"V2") => Ok(Method::Rc4),
        Some(b"AESV2") => Ok(Method::Aes128),
        Some(b"AESV3") => Ok(Method::Aes256),
        Some(other) => Err(CryptError::Unsupported(format!(
            "crypt filter method {}",
            String::from_utf8_lossy(other)
        ))),
    }
}

/// A password for revisions 2–4: PDFDocEncoding (Latin-1 for the characters it shares),
/// padded or cut to 32 bytes. A character outside Latin-1 (most Vietnamese letters) cannot be
/// written there: such a password is used as its UTF-8 bytes, as some producers do.
fn legacy_password(password: &str) -> Vec<u8> {
    let mut b: Vec<u8> = if password.chars().all(|c| (c as u32) < 256) {
        password.chars().map(|c| c as u8).collect()
    } else {
        password.as_bytes().to_vec()
    };
    b.truncate(32);
    b.extend_from_slice(&PAD[..32 - b.len()]);
    b
}

/// A password for revisions 5–6: UTF-8 after normalisation (SASLprep is NFKC with a few
/// mappings; NFKC covers Vietnamese input typed with combining or precomposed marks), at most
/// 127 bytes.
fn modern_password(password: &str) -> Vec<u8> {
    use unicode_normalization::UnicodeNormalization;
    let mut b = password.nfkc().collect::<String>().into_bytes();
    b.truncate(127);
    b
}

/// The file key from a padded user password (revisions 2–4, algorithm 2).
fn file_key_r4(
    padded: &[u8],
    o: &[u8],
    p: &[u8],
    id0: &[u8],
    no_meta: &[u8],
    r: i64,
    n: usize,
) -> Vec<u8> {
    let mut h = md5(&[padded, o, p, id0, no_meta]);
    if r >= 3 {
        for _ in 0..50 {
            h = md5(&[&h[..n]]);
        }
    }
    h[..n].to_vec()
}

/// Whether `key` is the file key: the user password check (algorithms 4 and 5).
fn user_ok(key: &[u8], u: &[u8], id0: &[u8], r: i64) -> bool {
    if r == 2 {
        return rc4(key, &PAD) == u[..32];
    }
    let mut x = rc4(key, &md5(&[&PAD, id0]));
    for i in 1..=19u8 {
        let k: Vec<u8> = key.iter().map(|b| b ^ i).collect();
        x = rc4(&k, &x);
    }
    x[..16] == u[..16]
}

/// The padded user password that the padded owner password `pw` unlocks from `/O`
/// (algorithm 7).
fn owner_to_user(pw: &[u8], o: &[u8], r: i64, n: usize) -> Vec<u8> {
    let mut h = md5(&[pw]);
    if r >= 3 {
        for _ in 0..50 {
            h = md5(&[&h]);
        }
    }
    let key = &h[..n];
    if r == 2 {
        return rc4(key, o);
    }
    let mut x = o.to_vec();
    for i in (0..=19u8).rev() {
        let k: Vec<u8> = key.iter().map(|b| b ^ i).collect();
        x = rc4(&k, &x);
    }
    x
}

impl Crypt {
    /// The key of a file whose trailer has `/Encrypt` (`enc`, resolved; `dict_num` its object
    /// number when indirect) and `/ID` first element `id0`, opened with `password` (as the
    /// user password, else as the owner password; "" for the files every viewer opens).
    pub fn open(
        enc: &Dict,
        dict_num: Option<u32>,
        id0: &[u8],
        password: &str,
    ) -> Result<Crypt, CryptError> {
        let name = |k: &str| enc.get(k).and_then(Obj::as_name).map(<[u8]>::to_vec);
        let int = |k: &str| enc.get(k).and_then(Obj::as_int);
        let bytes = |k: &str| enc.get(k).and_then(Obj::as_str).map(<[u8]>::to_vec);
        if name("Filter").as_deref() != Some(b"Standard") {
            return Err(CryptError::Unsupported(format!(
                "security handler {}",
                String::from_utf8_lossy(&name("Filter").unwrap_or_default())
            )));
        }
        let v = int("V").unwrap_or(0);
        let r = int("R").unwrap_or(0);
        let encrypt_metadata = !matches!(enc.get("EncryptMetadata"), Some(Obj::Bool(false)));
        let (o, u) = (
            bytes("O").unwrap_or_default(),
            bytes("U").unwrap_or_default(),
        );
        // Crypt filters (V4, V5): the standard one and any others, by name.
        let mut filters = Vec::new();
        if let Some(cf) = enc.get("CF").and_then(Obj::as_dict) {
            for (k, f) in &cf.0 {
                let m = f
                    .as_dict()
                    .and_then(|d| d.get("CFM"))
                    .and_then(Obj::as_name);
                filters.push((k.clone(), method_of(m)?));
            }
        }
        let pick = |key: &str| -> Result<Method, CryptError> {
            match name(key).as_deref() {
                None | Some(b"Identity") => Ok(Method::Identity),
                Some(n) => named(&filters, n).ok_or_else(|| {
                    CryptError::Unsupported(format!("crypt filter {}", String::from_utf8_lossy(n)))
                }),
            }
        };
        let (strings, streams) = match v {
            1 | 2 => (Method::Rc4, Method::Rc4),
            4 | 5 => (pick("StrF")?, pick("StmF")?),
            _ => return Err(CryptError::Unsupported(format!("encryption V {v}"))),
        };
        let key = match r {
            2..=4 => {
                if o.len() < 32 || u.len() < 32 {
                    return Err(CryptError::Unsupported("short /O or /U".into()));
                }
                // Key bytes: /Length in bits (40 when absent; an AES-128 crypt filter needs
                // 128, which some writers leave out).
                let aes = strings == Method::Aes128 || streams == Method::Aes128;
                let n = match (r, int("Length")) {
                    (2, _) => 5,
                    (_, None) if aes => 16,
                    (_, l) => (l.unwrap_or(40) / 8).clamp(5, 16) as usize,
                };
                let p = (int("P").unwrap_or(0) as u32).to_le_bytes();
                let no_meta: &[u8] = if r >= 4 && !encrypt_metadata {
                    &[0xff; 4]
                } else {
                    &[]
                };
                let pw = legacy_password(password);
                let user_key = |padded: &[u8]| {
                    let key = file_key_r4(padded, &o[..32], &p, id0, no_meta, r, n);
                    user_ok(&key, &u, id0, r).then_some(key)
                };
                // As the user password; else as the owner password, which unlocks the user
                // password stored (encrypted) in /O.
                user_key(&pw)
                    .or_else(|| user_key(&owner_to_user(&pw, &o[..32], r, n)))
                    .ok_or(CryptError::Password)?
            }
            5 | 6 => {
                let ue = bytes("UE").unwrap_or_default();
                if u.len() < 48 || ue.len() < 32 {
                    return Err(CryptError::Unsupported("short /U or /UE".into()));
                }
                let oe = bytes("OE").unwrap_or_default();
                let pw = modern_password(password);
                let h = |salt: &[u8], udata: &[u8]| {
                    if r == 5 {
                        Sha256::new()
                            .chain_update(&pw)
                            .chain_update(salt)
                            .chain_update(udata)
                            .finalize()
                            .to_vec()
                    } else {
                        hash_2b(&pw, salt, udata)
                    }
                };
                let (wrapped, inter) = if h(&u[32..40], &[]) == u[..32] {
                    (&ue, h(&u[40..48], &[]))
                } else if o.len() >= 48 && oe.len() >= 32 && h(&o[32..40], &u[..48]) == o[..32] {
                    (&oe, h(&o[40..48], &u[..48]))
                } else {
                    return Err(CryptError::Password);
                };
                aes256_unwrap(&inter, &wrapped[..32])
                    .filter(|k| k.len() == 32)
                    .ok_or_else(|| CryptError::Unsupported("bad /UE or /OE".into()))?
            }
            _ => return Err(CryptError::Unsupported(format!("encryption R {r}"))),
        };
        Ok(Crypt {
            key,
            strings,
            streams,
            encrypt_metadata,
            dict_num,
            filters,
        })
    }

    /// The key of object `num gen` for `m` (ISO 32000-2 §7.6.3.3, algorithm 1).
    fn object_key(&self, num: u32, gen: u16, m: Method) -> Vec<u8> {
        if m == Method::Aes256 {
            return self.key.clone();
        }
        let salt: &[u8] = if m == Method::Aes128 { b"sAlT" } else { b"" };
        let h = md5(&[&self.key, &num.to_le_bytes()[..3], &gen.to_le_bytes(), salt]);
        h[..(self.key.len() + 5).min(16)].to_vec()
    }

    fn decrypt(&self, num: u32, gen: u16, m: Method, data: Vec<u8>) -> Vec<u8> {
        match m {
            Method::Identity => data,
            Method::Rc4 => rc4(&self.object_key(num, gen, m), &data),
            // A string that does not decrypt is kept as it is: the document is damaged there,
            // and the reader reports what it finds rather than failing as a whole.
            Method::Aes128 | Method::Aes256 => {
                aes_cbc_decrypt(&self.object_key(num, gen, m), &data).unwrap_or(data)
            }
        }
    }

    /// Object `num gen` as read from the file, decrypted.
    pub fn object(&self, num: u32, gen: u16, o: Obj) -> Obj {
        if Some(num) == self.dict_num {
            return o;
        }
        match o {
            Obj::Stream(d, data) => {
                let plain = d.name_is("Type", "XRef")
                    || (!self.encrypt_metadata && d.name_is("Type", "Metadata"));
                let method = self.stream_method(&d);
                let data = if plain {
                    data
                } else {
                    self.decrypt(num, gen, method, data)
                };
                Obj::Stream(self.strings_in_dict(num, gen, d), data)
            }
            o => self.strings_in(num, gen, o),
        }
    }

    /// A stream's method: its own `/Crypt` filter if it names one, else `/StmF`.
    fn stream_method(&self, d: &Dict) -> Method {
        let filters: Vec<&[u8]> = match d.get("Filter") {
            Some(Obj::Name(n)) => vec![n],
            Some(Obj::Arr(a)) => a.iter().filter_map(Obj::as_name).collect(),
            _ => vec![],
        };
        if filters.first() != Some(&&b"Crypt"[..]) {
            return self.streams;
        }
        let parms = match d.get("DecodeParms") {
            Some(Obj::Arr(a)) => a.first().and_then(Obj::as_dict),
            Some(Obj::Dict(p)) => Some(p),
            _ => None,
        };
        match parms.and_then(|p| p.get("Name")).and_then(Obj::as_name) {
            None | Some(b"Identity") => Method::Identity,
            Some(n) => named(&self.filters, n).unwrap_or(self.streams),
        }
    }

    fn strings_in_dict(&self, num: u32, gen: u16, d: Dict) -> Dict {
        // A signature's Contents is not encrypted (it is the signature of the file's bytes).
        let sig = d.get("ByteRange").is_some();
        Dict(
            d.0.into_iter()
                .map(|(k, v)| {
                    if sig && k == b"Contents" {
                        (k, v)
                    } else {
                        (k, self.strings_in(num, gen, v))
                    }
                })
                .collect(),
        )
    }

    fn strings_in(&self, num: u32, gen: u16, o: Obj) -> Obj {
        match o {
            Obj::Str(s) => Obj::Str(self.decrypt(num, gen, self.strings, s)),
            Obj::Arr(a) => Obj::Arr(
                a.into_iter()
                    .map(|x| self.strings_in(num, gen, x))
                    .collect(),
            ),
            Obj::Dict(d) => Obj::Dict(self.strings_in_dict(num, gen, d)),
            o => o,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rc4_matches_the_published_vectors() {
        // RFC 6229-style well-known vectors ("Key"/"Plaintext", "Wiki"/"pedia").
        assert_eq!(hex::encode(rc4(b"Key", b"Plaintext")), "bbf316e8d940af0ad3");
        assert_eq!(hex::encode(rc4(b"Wiki", b"pedia")), "1021bf0420");
        assert_eq!(rc4(b"Key", &rc4(b"Key", b"round trip")), b"round trip");
    }

    #[test]
    fn aes_strings_decrypt_with_or_without_padding_and_never_panic() {
        use openssl::symm::{encrypt, Cipher};
        let key = [7u8; 16];
        let iv = [9u8; 16];
        let ct = encrypt(Cipher::aes_128_cbc(), &key, Some(&iv), b"Ha Noi").unwrap();
        let mut data = iv.to_vec();
        data.extend_from_slice(&ct);
        assert_eq!(aes_cbc_decrypt(&key, &data).unwrap(), b"Ha Noi");
        for n in 0..40 {
            let _ = aes_cbc_decrypt(&key, &data[..n.min(data.len())]);
        }
    }

    proptest::proptest! {
        /// Any /Encrypt dictionary and password: a key or an error, never a panic; with a key,
        /// any string or stream decrypts to something (or stays as it is).
        #[test]
        fn hostile_encrypt_dictionaries_never_panic(
            v in 0i64..7,
            r in 0i64..8,
            length in proptest::option::of(-10i64..300),
            p in proptest::num::i64::ANY,
            o in proptest::collection::vec(proptest::num::u8::ANY, 0..130),
            u in proptest::collection::vec(proptest::num::u8::ANY, 0..130),
            ue in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            cfm in proptest::sample::select(vec!["V2", "AESV2", "AESV3", "None", "Bogus"]),
            password in ".{0,20}",
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
        ) {
            let mut d = Dict::new();
            let mut cf = Dict::new();
            cf.0.push((b"CFM".to_vec(), Obj::Name(cfm.as_bytes().to_vec())));
            let mut cfs = Dict::new();
            cfs.0.push((b"StdCF".to_vec(), Obj::Dict(cf)));
            for (k, o) in [
                ("Filter", Obj::Name(b"Standard".to_vec())),
                ("V", Obj::Int(v)),
                ("R", Obj::Int(r)),
                ("P", Obj::Int(p)),
                ("O", Obj::Str(o.clone())),
                ("U", Obj::Str(u)),
                ("UE", Obj::Str(ue.clone())),
                ("OE", Obj::Str(ue)),
                ("CF", Obj::Dict(cfs)),
                ("StmF", Obj::Name(b"StdCF".to_vec())),
                ("StrF", Obj::Name(b"StdCF".to_vec())),
            ] {
                d.0.push((k.as_bytes().to_vec(), o));
            }
            if let Some(l) = length {
                d.0.push((b"Length".to_vec(), Obj::Int(l)));
            }
            if let Ok(c) = Crypt::open(&d, Some(9), &o, &password) {
                let _ = c.object(3, 0, Obj::Str(data.clone()));
                let _ = c.object(4, 1, Obj::Stream(Dict::new(), data));
            }
        }
    }

    #[test]
    fn unknown_handlers_and_revisions_are_named() {
        let mut d = Dict::new();
        d.0.push((b"Filter".to_vec(), Obj::Name(b"Adobe.PubSec".to_vec())));
        assert!(
            matches!(Crypt::open(&d, None, b"", ""), Err(CryptError::Unsupported(s)) if s.contains("Adobe.PubSec"))
        );
        let mut d = Dict::new();
        d.0.push((b"Filter".to_vec(), Obj::Name(b"Standard".to_vec())));
        d.0.push((b"V".to_vec(), Obj::Int(2)));
        d.0.push((b"R".to_vec(), Obj::Int(9)));
        assert!(
            matches!(Crypt::open(&d, None, b"", ""), Err(CryptError::Unsupported(s)) if s.contains("R 9"))
        );
    }
}
