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

enum SoftKeyInner {
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
    Ec(p256::ecdsa::SigningKey),
    Ec384(p384::ecdsa::SigningKey),
}

/// A key held in memory (from a PKCS#12 file). The key material is zeroised on drop by the
/// RustCrypto types.
pub struct SoftKey {
    key: SoftKeyInner,
    chain: Vec<Certificate>,
    roots: Vec<Certificate>,
}

impl SoftKey {
    /// From a PKCS#8 DER private key and DER certificates (signer first).
    pub fn from_pkcs8(pkcs8: &[u8], chain: Vec<Certificate>) -> Result<SoftKey, PdfError> {
        use pkcs8::DecodePrivateKey;
        let key = if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8) {
            SoftKeyInner::Rsa(Box::new(rsa::pkcs1v15::SigningKey::<Sha256>::new(k)))
        } else if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8) {
            SoftKeyInner::Ec(k)
        } else if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(pkcs8) {
            SoftKeyInner::Ec384(k)
        } else {
            return Err(PdfError::Key(
                "chỉ hỗ trợ RSA và ECDSA P-256/P-384 (only RSA and ECDSA P-256/P-384 keys)".into(),
            ));
        };
        if chain.is_empty() {
            return Err(PdfError::Key("thiếu chứng thư số (no certificate)".into()));
        }
        Ok(SoftKey {
            key,
            chain,
            roots: Vec::new(),
        })
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
        match self.key {
            SoftKeyInner::Rsa(_) => KeyAlg::RsaSha256,
            SoftKeyInner::Ec(_) => KeyAlg::EcdsaP256Sha256,
            SoftKeyInner::Ec384(_) => KeyAlg::EcdsaP384Sha256,
        }
    }
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, PdfError> {
        use signature::{SignatureEncoding, Signer as _};
        Ok(match &self.key {
            SoftKeyInner::Rsa(k) => k
                .try_sign(tbs)
                .map_err(|e| PdfError::Sign(e.to_string()))?
                .to_vec(),
            SoftKeyInner::Ec(k) => {
                let s: p256::ecdsa::Signature =
                    k.try_sign(tbs).map_err(|e| PdfError::Sign(e.to_string()))?;
                s.to_der().as_bytes().to_vec()
            }
            SoftKeyInner::Ec384(k) => {
                use signature::hazmat::PrehashSigner;
                let s: p384::ecdsa::Signature = k
                    .sign_prehash(&Sha256::digest(tbs))
                    .map_err(|e| PdfError::Sign(e.to_string()))?;
                s.to_der().as_bytes().to_vec()
            }
        })
    }
}

/// Loads a PKCS#12 file. The signer certificate is the one matching the private key; the other
/// certificates (self-signed roots excluded) follow it.
pub fn load_p12(der: &[u8], password: &str) -> Result<SoftKey, PdfError> {
    let p12 = openssl::pkcs12::Pkcs12::from_der(der)
        .map_err(|e| PdfError::Key(format!("tệp PKCS#12 hỏng ({e})")))?;
    let parsed = match p12.parse2(password) {
        Ok(p) => Ok(p),
        // Older files (RC2-40, 3DES): OpenSSL 3 needs its legacy provider, loaded on demand
        // and kept loaded for the process.
        Err(e) if e.to_string().contains("unsupported") => {
            legacy_provider();
            p12.parse2(password)
        }
        Err(e) => Err(e),
    };
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
    let mut chain = vec![to_cert(&cert)?];
    let mut roots = Vec::new();
    if let Some(ca) = parsed.ca {
        for c in ca.iter() {
            let c = to_cert(c)?;
            if c.tbs_certificate.issuer == c.tbs_certificate.subject {
                roots.push(c);
            } else if !chain.contains(&c) {
                chain.push(c);
            }
        }
    }
    let mut k = SoftKey::from_pkcs8(&pk8, chain)?;
    k.roots = roots;
    Ok(k)
}

/// SHA-2 variants accepted in incoming signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sha2 {
    S256,
    S384,
    S512,
}

impl Sha2 {
    pub fn from_oid(oid: &der::asn1::ObjectIdentifier) -> Option<Sha2> {
        match oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Some(Sha2::S256),
            "2.16.840.1.101.3.4.2.2" => Some(Sha2::S384),
            "2.16.840.1.101.3.4.2.3" => Some(Sha2::S512),
            _ => None,
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
            Sha2::S256 => run::<Sha256>(parts),
            Sha2::S384 => run::<sha2::Sha384>(parts),
            Sha2::S512 => run::<sha2::Sha512>(parts),
        }
    }
}

/// RSASSA-PSS (as pyHanko `--prefer-pss` signs), salt length detected.
pub fn verify_pss_with_cert(cert: &Certificate, data: &[u8], sig: &[u8], hash: Sha2) -> bool {
    use signature::Verifier;
    use spki::DecodePublicKey;
    let Ok(spki_der) = cert.tbs_certificate.subject_public_key_info.to_der() else {
        return false;
    };
    let Ok(k) = rsa::RsaPublicKey::from_public_key_der(&spki_der) else {
        return false;
    };
    let Ok(s) = rsa::pss::Signature::try_from(sig) else {
        return false;
    };
    use rsa::traits::PublicKeyParts;
    let em = k.size();
    // Salt lengths in use: the digest size (RFC 8017 default practice), 20 (ASN.1 default) and
    // the maximum (OpenSSL/cryptography's MAX_LENGTH).
    fn try_all<D>(k: &rsa::RsaPublicKey, data: &[u8], s: &rsa::pss::Signature, em: usize) -> bool
    where
        D: Digest + sha2::digest::FixedOutputReset,
    {
        let h = <D as Digest>::output_size();
        [h, 20, em.saturating_sub(h + 2), 0]
            .into_iter()
            .any(|salt| {
                rsa::pss::VerifyingKey::<D>::new_with_salt_len(k.clone(), salt)
                    .verify(data, s)
                    .is_ok()
            })
    }
    match hash {
        Sha2::S256 => try_all::<Sha256>(&k, data, &s, em),
        Sha2::S384 => try_all::<sha2::Sha384>(&k, data, &s, em),
        Sha2::S512 => try_all::<sha2::Sha512>(&k, data, &s, em),
    }
}

/// Verifies `sig` over `data` with the public key of `cert` (RSA PKCS#1 v1.5 or ECDSA P-256),
/// hashing with `hash`.
pub fn verify_with_cert_hash(cert: &Certificate, data: &[u8], sig: &[u8], hash: Sha2) -> bool {
    use signature::hazmat::PrehashVerifier;
    use signature::Verifier;
    use spki::DecodePublicKey;
    let Ok(spki_der) = cert.tbs_certificate.subject_public_key_info.to_der() else {
        return false;
    };
    if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(&spki_der) {
        let Ok(s) = rsa::pkcs1v15::Signature::try_from(sig) else {
            return false;
        };
        return match hash {
            Sha2::S256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k)
                .verify(data, &s)
                .is_ok(),
            Sha2::S384 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(k)
                .verify(data, &s)
                .is_ok(),
            Sha2::S512 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(k)
                .verify(data, &s)
                .is_ok(),
        };
    }
    if let Ok(vk) = p256::ecdsa::VerifyingKey::from_public_key_der(&spki_der) {
        let d = hash.digest(&[data]);
        return p256::ecdsa::Signature::from_der(sig)
            .is_ok_and(|s| vk.verify_prehash(&d, &s).is_ok());
    }
    if let Ok(vk) = p384::ecdsa::VerifyingKey::from_public_key_der(&spki_der) {
        let d = hash.digest(&[data]);
        return p384::ecdsa::Signature::from_der(sig)
            .is_ok_and(|s| vk.verify_prehash(&d, &s).is_ok());
    }
    false
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

/// Verifies `sig` over `data` with the public key of `cert` (RSA PKCS#1 v1.5 or ECDSA P-256,
/// SHA-256).
pub fn verify_with_cert(cert: &Certificate, data: &[u8], sig: &[u8]) -> bool {
    use signature::Verifier;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let Ok(spki_der) = spki.to_der() else {
        return false;
    };
    use spki::DecodePublicKey;
    if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(&spki_der) {
        let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k);
        return rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(data, &s).is_ok());
    }
    if let Ok(vk) = p256::ecdsa::VerifyingKey::from_public_key_der(&spki_der) {
        return p256::ecdsa::Signature::from_der(sig).is_ok_and(|s| vk.verify(data, &s).is_ok());
    }
    if let Ok(vk) = p384::ecdsa::VerifyingKey::from_public_key_der(&spki_der) {
        use signature::hazmat::PrehashVerifier;
        let d = Sha256::digest(data);
        return p384::ecdsa::Signature::from_der(sig)
            .is_ok_and(|s| vk.verify_prehash(&d, &s).is_ok());
    }
    false
}

/// SHA-256 of a certificate's DER.
pub fn cert_sha256(cert: &Certificate) -> [u8; 32] {
    Sha256::digest(cert.to_der().unwrap_or_default()).into()
}
