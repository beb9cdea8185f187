//! Key sources behind one interface: PKCS#12 files (software keys) and, elsewhere, tokens.

use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::PdfError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaSha256,
    /// ECDSA P-256 with SHA-256 (DER-encoded signature).
    EcdsaP256Sha256,
    /// ECDSA P-384 over a SHA-256 digest (declared ecdsa-with-SHA256, like the content digest).
    EcdsaP384Sha256,
}

/// A signing key with its certificate chain. `sign` receives the DER of the signed attributes
/// and returns the raw signature value (DER `Ecdsa-Sig-Value` for ECDSA).
pub trait Signer {
    /// Signer certificate first, then intermediates.
    fn chain(&self) -> &[Certificate];
    fn algorithm(&self) -> KeyAlg;
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, PdfError>;
    /// Self-signed roots that came with the key (written into the DSS for B-LT).
    fn roots(&self) -> Vec<Certificate> {
        Vec::new()
    }
    /// The least space reserved for the CMS (DER bytes). Remote signers reserve more: a CMS
    /// that does not fit means building the revision again and another approval on the phone.
    fn min_signature_space(&self) -> usize {
        16 * 1024
    }
}

/// A key held in memory (from a PKCS#12 file). The private key lives in an OpenSSL `EVP_PKEY`
/// (constant-time RSA with blinding, several times faster than the pure-Rust `rsa` crate and
/// free of its Marvin timing advisory); OpenSSL clears the key material when it is freed.
pub struct SoftKey {
    key: openssl::pkey::PKey<openssl::pkey::Private>,
    alg: KeyAlg,
    chain: Vec<Certificate>,
    roots: Vec<Certificate>,
}

impl SoftKey {
    /// From a PKCS#8 DER private key and DER certificates (signer first).
    pub fn from_pkcs8(pkcs8: &[u8], chain: Vec<Certificate>) -> Result<SoftKey, PdfError> {
        let unsupported = || {
            PdfError::Key(
                "chỉ hỗ trợ RSA và ECDSA P-256/P-384 (only RSA and ECDSA P-256/P-384 keys)".into(),
            )
        };
        let key = openssl::pkey::PKey::private_key_from_pkcs8(pkcs8).map_err(|_| unsupported())?;
        let alg = key_alg(&key).ok_or_else(unsupported)?;
        if chain.is_empty() {
            return Err(PdfError::Key("thiếu chứng thư số (no certificate)".into()));
        }
        Ok(SoftKey {
            key,
            alg,
            chain,
            roots: Vec::new(),
        })
    }
}

fn key_alg<T: openssl::pkey::HasPublic>(key: &openssl::pkey::PKeyRef<T>) -> Option<KeyAlg> {
    use openssl::nid::Nid;
    use openssl::pkey::Id;
    match key.id() {
        Id::RSA if key.bits() >= 1024 => Some(KeyAlg::RsaSha256),
        Id::EC => match key.ec_key().ok()?.group().curve_name()? {
            Nid::X9_62_PRIME256V1 => Some(KeyAlg::EcdsaP256Sha256),
            Nid::SECP384R1 => Some(KeyAlg::EcdsaP384Sha256),
            _ => None,
        },
        _ => None,
    }
}

impl Signer for SoftKey {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }
    fn roots(&self) -> Vec<Certificate> {
        self.roots.clone()
    }
    fn algorithm(&self) -> KeyAlg {
        self.alg
    }
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, PdfError> {
        // RSA: PKCS#1 v1.5 (the signer's default padding); ECDSA: DER Ecdsa-Sig-Value over
        // SHA-256 for both curves (P-384 keys sign a SHA-256 digest, as declared).
        let err = |e: openssl::error::ErrorStack| PdfError::Sign(e.to_string());
        let mut s = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &self.key)
            .map_err(err)?;
        s.update(tbs).map_err(err)?;
        s.sign_to_vec().map_err(err)
    }
}

fn self_signed(c: &Certificate) -> bool {
    c.tbs_certificate.issuer == c.tbs_certificate.subject
}

/// Whether `issuer`'s key made `cert`'s signature (OpenSSL; false when either is unreadable).
fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let (Some(c), Some(i)) = (openssl_cert_of(cert), openssl_cert_of(issuer)) else {
        return false;
    };
    i.public_key().and_then(|k| c.verify(&k)).unwrap_or(false)
}

/// The certification path above `leaf` from the certificates at hand (`pool`: any order,
/// unrelated certificates allowed, as on a token that holds several people's certificates):
/// each certificate's issuer next — by name, preferring the one whose key verifies it — until
/// a self-signed root or an issuer that is not there. Returns (the signer's certificate, then
/// its CAs; every self-signed root in `pool`).
pub fn build_path(
    leaf: Certificate,
    pool: Vec<Certificate>,
) -> (Vec<Certificate>, Vec<Certificate>) {
    let mut roots: Vec<Certificate> = Vec::new();
    for c in pool.iter().filter(|c| self_signed(c)) {
        if !roots.contains(c) {
            roots.push(c.clone());
        }
    }
    let mut chain = vec![leaf];
    loop {
        let top = chain.last().expect("the leaf");
        if self_signed(top) {
            break;
        }
        let named: Vec<&Certificate> = pool
            .iter()
            .filter(|c| {
                !self_signed(c)
                    && c.tbs_certificate.subject == top.tbs_certificate.issuer
                    && !chain.contains(c)
            })
            .collect();
        let next = named
            .iter()
            .find(|c| issued_by(top, c))
            .or(named.first())
            .map(|c| (*c).clone());
        match next {
            Some(c) => chain.push(c),
            None => break,
        }
    }
    (chain, roots)
}

/// When the path holds only the signer's certificate and its issuer is not among `roots`:
/// the issuer's name. Recipients then cannot build the chain from the file (a token or a
/// PKCS#12 file that holds no CA certificate); a path that reaches a CA certificate is taken
/// as complete (its root is the recipient's trust anchor).
pub fn missing_issuer(chain: &[Certificate], roots: &[Certificate]) -> Option<String> {
    let [leaf] = chain else { return None };
    if self_signed(leaf)
        || roots
            .iter()
            .any(|r| r.tbs_certificate.subject == leaf.tbs_certificate.issuer)
    {
        return None;
    }
    Some(crate::verify::cn(&leaf.tbs_certificate.issuer))
}

/// The CA certificates above `leaf` fetched from the "CA Issuers" addresses of its Authority
/// Information Access extension (http or https; a DER or PEM certificate, or a PKCS#7
/// certificate bundle, as CAs publish them), then above each fetched certificate, up to four
/// levels or a self-signed one: what Windows and Acrobat do when a USB token holds only the
/// signer's certificate. Returns (DER certificate, address) pairs; an address that fails or
/// answers something else is skipped (logged). Inside a validation run, each address is asked
/// once (the run's fetch cache).
pub fn fetch_issuers(leaf: &Certificate) -> Vec<(Vec<u8>, String)> {
    let mut out: Vec<(Vec<u8>, String)> = Vec::new();
    let mut cur = leaf.clone();
    for _ in 0..4 {
        if self_signed(&cur) {
            break;
        }
        let mut found = None;
        'urls: for url in ca_issuers_urls(&cur) {
            // Through the validation run's cache: one download for many signatures.
            let Some(body) = crate::ltv::fetch(&url, None, "") else {
                continue;
            };
            for c in certificates_in(&body) {
                if c.tbs_certificate.subject == cur.tbs_certificate.issuer {
                    found = Some((c, url.clone()));
                    break 'urls;
                }
            }
            tracing::warn!(url = %url, "CA Issuers address holds no issuer certificate");
        }
        let Some((issuer, url)) = found else { break };
        let Ok(der) = issuer.to_der() else { break };
        if out.iter().any(|(d, _)| *d == der) {
            break;
        }
        out.push((der, url));
        cur = issuer;
    }
    out
}

/// The http(s) "CA Issuers" addresses of a certificate's Authority Information Access.
fn ca_issuers_urls(c: &Certificate) -> Vec<String> {
    use x509_cert::ext::pkix::name::GeneralName;
    let aia = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
    let ca_issuers = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
    let Some(ext) = c
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == aia)
    else {
        return Vec::new();
    };
    let Ok(info) =
        x509_cert::ext::pkix::AuthorityInfoAccessSyntax::from_der(ext.extn_value.as_bytes())
    else {
        return Vec::new();
    };
    info.0
        .iter()
        .filter(|a| a.access_method == ca_issuers)
        .filter_map(|a| match &a.access_location {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            _ => None,
        })
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .collect()
}

/// Certificates in a DER or PEM certificate file or a PKCS#7 (`.p7c`) bundle.
fn certificates_in(body: &[u8]) -> Vec<Certificate> {
    if let Ok(c) = Certificate::from_der(body) {
        return vec![c];
    }
    if let Some(certs) = crate::trust::read_certificates(body) {
        return certs
            .iter()
            .filter_map(|c| c.to_der().ok())
            .filter_map(|d| Certificate::from_der(&d).ok())
            .collect();
    }
    match crate::cms_build::parse_signed_data(body) {
        Ok(sd) => sd
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .filter_map(|c| match c {
                cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                _ => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A signer with CA certificates added from elsewhere (`vanthu pdf sign --chain`: the CAs a
/// token or a PKCS#12 file does not hold), its path rebuilt with [`build_path`].
pub struct WithChain<'a> {
    inner: Box<dyn Signer + 'a>,
    chain: Vec<Certificate>,
    roots: Vec<Certificate>,
}

impl<'a> WithChain<'a> {
    /// `extra`: DER certificates.
    pub fn new(inner: Box<dyn Signer + 'a>, extra: &[Vec<u8>]) -> Result<WithChain<'a>, PdfError> {
        let mut pool: Vec<Certificate> = inner.chain().iter().skip(1).cloned().collect();
        pool.extend(inner.roots());
        for d in extra {
            pool.push(Certificate::from_der(d).map_err(|e| {
                PdfError::Key(format!(
                    "chứng thư CA không đọc được ({e}) (bad CA certificate)"
                ))
            })?);
        }
        let (chain, roots) = build_path(inner.chain()[0].clone(), pool);
        Ok(WithChain {
            inner,
            chain,
            roots,
        })
    }
}

impl Signer for WithChain<'_> {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }
    fn roots(&self) -> Vec<Certificate> {
        self.roots.clone()
    }
    fn algorithm(&self) -> KeyAlg {
        self.inner.algorithm()
    }
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, PdfError> {
        self.inner.sign(tbs)
    }
    fn min_signature_space(&self) -> usize {
        self.inner.min_signature_space()
    }
}

/// Loads a PKCS#12 file. The signer certificate is the one matching the private key; the other
/// certificates (self-signed roots excluded) follow it.
pub fn load_p12(der: &[u8], password: &str) -> Result<SoftKey, PdfError> {
    let p12 = openssl::pkcs12::Pkcs12::from_der(der)
        .map_err(|e| PdfError::Key(format!("tệp PKCS#12 hỏng ({e})")))?;
    let parse = |pw: &str| match p12.parse2(pw) {
        Ok(p) => Ok(p),
        // Older files (RC2-40, 3DES): OpenSSL 3 needs its legacy provider, loaded on demand
        // and kept loaded for the process.
        Err(e) if e.to_string().contains("unsupported") => {
            legacy_provider();
            p12.parse2(pw)
        }
        Err(e) => Err(e),
    };
    // A Vietnamese password is typed precomposed or with combining marks depending on the
    // keyboard's setting (Unikey: "Unicode dựng sẵn" or "tổ hợp"), and the file was made with
    // one of them: as typed first, then the other forms.
    use unicode_normalization::UnicodeNormalization;
    let mut parsed = parse(password);
    for alt in [password.nfc().collect::<String>(), password.nfd().collect()] {
        if parsed.is_ok() {
            break;
        }
        if alt != password {
            if let Ok(p) = parse(&alt) {
                parsed = Ok(p);
            }
        }
    }
    let parsed = parsed.map_err(|e| {
        let s = e.to_string();
        if s.contains("mac verify") || s.contains("MAC") || s.contains("decrypt") {
            PdfError::WrongPin
        } else {
            PdfError::Key(format!("không mở được PKCS#12 ({s})"))
        }
    })?;
    let pkey = parsed
        .pkey
        .ok_or_else(|| PdfError::Key("PKCS#12 không có khóa riêng (no private key)".into()))?;
    let cert = parsed
        .cert
        .ok_or_else(|| PdfError::Key("PKCS#12 không có chứng thư (no certificate)".into()))?;
    let pk8 = zeroize::Zeroizing::new(
        pkey.private_key_to_pkcs8()
            .map_err(|e| PdfError::Key(e.to_string()))?,
    );
    let to_cert = |c: &openssl::x509::X509Ref| -> Result<Certificate, PdfError> {
        let d = c.to_der().map_err(|e| PdfError::Key(e.to_string()))?;
        Certificate::from_der(&d).map_err(|e| PdfError::Key(e.to_string()))
    };
    let mut pool = Vec::new();
    if let Some(ca) = parsed.ca {
        for c in ca.iter() {
            pool.push(to_cert(c)?);
        }
    }
    let (chain, roots) = build_path(to_cert(&cert)?, pool);
    let mut k = SoftKey::from_pkcs8(&pk8, chain)?;
    k.roots = roots;
    Ok(k)
}

/// Digest algorithms accepted in incoming signatures: SHA-2, and SHA-1, which older signing
/// tools (and older Vietnamese signatures) used: checked for integrity, but weak
/// ([`Hash::is_weak`]), so a signature that relies on it is never reported valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    S256,
    S384,
    S512,
}

impl Hash {
    pub fn from_oid(oid: &der::asn1::ObjectIdentifier) -> Option<Hash> {
        match oid.to_string().as_str() {
            "1.3.14.3.2.26" => Some(Hash::Sha1),
            "2.16.840.1.101.3.4.2.1" => Some(Hash::S256),
            "2.16.840.1.101.3.4.2.2" => Some(Hash::S384),
            "2.16.840.1.101.3.4.2.3" => Some(Hash::S512),
            _ => None,
        }
    }
    /// No longer collision resistant (ETSI TS 119 312): SHA-1.
    pub fn is_weak(self) -> bool {
        self == Hash::Sha1
    }
    pub fn name(self) -> &'static str {
        match self {
            Hash::Sha1 => "SHA-1",
            Hash::S256 => "SHA-256",
            Hash::S384 => "SHA-384",
            Hash::S512 => "SHA-512",
        }
    }
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            Hash::Sha1 => {
                let mut h = openssl::sha::Sha1::new();
                for p in parts {
                    h.update(p);
                }
                h.finish().to_vec()
            }
            Hash::S256 => run::<Sha256>(parts),
            Hash::S384 => run::<sha2::Sha384>(parts),
            Hash::S512 => run::<sha2::Sha512>(parts),
        }
    }
}

fn ossl_md(hash: Hash) -> openssl::hash::MessageDigest {
    match hash {
        Hash::Sha1 => openssl::hash::MessageDigest::sha1(),
        Hash::S256 => openssl::hash::MessageDigest::sha256(),
        Hash::S384 => openssl::hash::MessageDigest::sha384(),
        Hash::S512 => openssl::hash::MessageDigest::sha512(),
    }
}

/// A small process-wide cache of parsed OpenSSL objects keyed by their DER. OpenSSL 3 decodes
/// every key through its provider decoders (locks, name lookups): parsing one certificate costs
/// more than hashing 100 KB, and a validation meets the same few certificates many times (path,
/// revocation of each link, OCSP responders, timestamps). Parsed objects are immutable and
/// reference-counted, so sharing them is safe; only successful parses are kept.
type DerCache<T> = std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<Vec<u8>, T>>>;

fn cached<T: Clone>(
    cache: &'static DerCache<T>,
    der: &[u8],
    parse: impl FnOnce(&[u8]) -> Option<T>,
) -> Option<T> {
    const MAX: usize = 512;
    let m = cache.get_or_init(Default::default);
    if let Some(v) = m.lock().ok()?.get(der) {
        return Some(v.clone());
    }
    let v = parse(der)?;
    if let Ok(mut map) = m.lock() {
        if map.len() >= MAX {
            map.clear();
        }
        map.insert(der.to_vec(), v.clone());
    }
    Some(v)
}

/// An OpenSSL certificate from DER (cached).
pub(crate) fn openssl_cert(der: &[u8]) -> Option<openssl::x509::X509> {
    static CACHE: DerCache<openssl::x509::X509> = std::sync::OnceLock::new();
    cached(&CACHE, der, |d| openssl::x509::X509::from_der(d).ok())
}

/// An OpenSSL certificate from a parsed one (cached).
pub(crate) fn openssl_cert_of(cert: &Certificate) -> Option<openssl::x509::X509> {
    openssl_cert(&cert.to_der().ok()?)
}

/// The public key of `cert` as an OpenSSL key, when it is one vanthu accepts (RSA ≥ 1024 bits,
/// ECDSA P-256 or P-384).
fn public_key(cert: &Certificate) -> Option<(openssl::pkey::PKey<openssl::pkey::Public>, KeyAlg)> {
    static CACHE: DerCache<openssl::pkey::PKey<openssl::pkey::Public>> = std::sync::OnceLock::new();
    let der = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    let key = cached(&CACHE, &der, |d| {
        openssl::pkey::PKey::public_key_from_der(d).ok()
    })?;
    let alg = key_alg(&key)?;
    Some((key, alg))
}

/// Verifies one signature with OpenSSL. `pss`: RSASSA-PSS with MGF1 over the same hash and the
/// salt length read from the signature (any length: the digest size, 20, the maximum...).
fn ossl_verify(cert: &Certificate, data: &[u8], sig: &[u8], hash: Hash, pss: bool) -> bool {
    use openssl::rsa::Padding;
    use openssl::sign::RsaPssSaltlen;
    let Some((key, alg)) = public_key(cert) else {
        return false;
    };
    if pss && alg != KeyAlg::RsaSha256 {
        return false;
    }
    let run = || -> Result<bool, openssl::error::ErrorStack> {
        let md = ossl_md(hash);
        let mut v = openssl::sign::Verifier::new(md, &key)?;
        if alg == KeyAlg::RsaSha256 {
            if pss {
                v.set_rsa_padding(Padding::PKCS1_PSS)?;
                v.set_rsa_mgf1_md(md)?;
                // For verification OpenSSL reads -2 (MAXIMUM_LENGTH) as "detect the salt".
                v.set_rsa_pss_saltlen(RsaPssSaltlen::MAXIMUM_LENGTH)?;
            } else {
                v.set_rsa_padding(Padding::PKCS1)?;
            }
        }
        v.update(data)?;
        v.verify(sig)
    };
    // A malformed signature is an error in OpenSSL and simply "not valid" here.
    let ok = run().unwrap_or(false);
    // Leave no queued OpenSSL errors behind for an unrelated later call to report.
    let _ = openssl::error::ErrorStack::get();
    ok
}

/// RSASSA-PSS (as pyHanko `--prefer-pss` signs), salt length detected.
pub fn verify_pss_with_cert(cert: &Certificate, data: &[u8], sig: &[u8], hash: Hash) -> bool {
    ossl_verify(cert, data, sig, hash, true)
}

/// Verifies `sig` over a `digest` already computed with `hash`, with the public key of `cert`
/// (RSA PKCS#1 v1.5 or ECDSA): a CMS without signed attributes signs the content's digest
/// itself.
pub fn verify_digest_with_cert(cert: &Certificate, digest: &[u8], sig: &[u8], hash: Hash) -> bool {
    let Some((key, alg)) = public_key(cert) else {
        return false;
    };
    let run = || -> Result<bool, openssl::error::ErrorStack> {
        let mut ctx = openssl::pkey_ctx::PkeyCtx::new(&key)?;
        ctx.verify_init()?;
        if alg == KeyAlg::RsaSha256 {
            ctx.set_rsa_padding(openssl::rsa::Padding::PKCS1)?;
            ctx.set_signature_md(match hash {
                Hash::Sha1 => openssl::md::Md::sha1(),
                Hash::S256 => openssl::md::Md::sha256(),
                Hash::S384 => openssl::md::Md::sha384(),
                Hash::S512 => openssl::md::Md::sha512(),
            })?;
        }
        ctx.verify(digest, sig)
    };
    let ok = run().unwrap_or(false);
    let _ = openssl::error::ErrorStack::get();
    ok
}

/// Verifies an Ed25519 signature (pure EdDSA, RFC 8419) over `data` with the public key of
/// `cert`; false for any other key.
pub fn verify_ed25519_with_cert(cert: &Certificate, data: &[u8], sig: &[u8]) -> bool {
    let run = || -> Result<bool, openssl::error::ErrorStack> {
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap_or_default();
        let key = openssl::pkey::PKey::public_key_from_der(&spki)?;
        if key.id() != openssl::pkey::Id::ED25519 {
            return Ok(false);
        }
        let mut v = openssl::sign::Verifier::new_without_digest(&key)?;
        let ok = v.verify_oneshot(sig, data)?;
        Ok(ok)
    };
    let ok = run().unwrap_or(false);
    let _ = openssl::error::ErrorStack::get();
    ok
}

/// Verifies `sig` over `data` with the public key of `cert` (RSA PKCS#1 v1.5 or ECDSA
/// P-256/P-384), hashing with `hash`.
pub fn verify_with_cert_hash(cert: &Certificate, data: &[u8], sig: &[u8], hash: Hash) -> bool {
    ossl_verify(cert, data, sig, hash, false)
}

fn legacy_provider() {
    use std::sync::OnceLock;
    static LEGACY: OnceLock<Option<(openssl::provider::Provider, openssl::provider::Provider)>> =
        OnceLock::new();
    LEGACY.get_or_init(|| {
        let legacy = openssl::provider::Provider::try_load(None, "legacy", true).ok()?;
        let default = openssl::provider::Provider::try_load(None, "default", true).ok()?;
        Some((legacy, default))
    });
}

/// Verifies `sig` over `data` with the public key of `cert` (RSA PKCS#1 v1.5 or ECDSA
/// P-256/P-384, SHA-256).
pub fn verify_with_cert(cert: &Certificate, data: &[u8], sig: &[u8]) -> bool {
    ossl_verify(cert, data, sig, Hash::S256, false)
}

/// SHA-256 of a certificate's DER.
pub fn cert_sha256(cert: &Certificate) -> [u8; 32] {
    Sha256::digest(cert.to_der().unwrap_or_default()).into()
}
