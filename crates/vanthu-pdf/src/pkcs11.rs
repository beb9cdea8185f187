//! PKCS#11 tokens (USB tokens of VNPT-CA, Viettel-CA, …; SoftHSM2 in tests) via `cryptoki`.
//! The key is selected by token label and key label; its certificate is paired by `CKA_ID`
//! (else by label, else by a probe signature it verifies).
//! One session, used from one thread; the PIN is never logged.

use std::path::Path;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use der::Decode;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::keys::{KeyAlg, Signer};
use crate::PdfError;

pub struct TokenKey {
    // Field order: the session closes before the library is finalised.
    session: Session,
    _ctx: Pkcs11,
    key: ObjectHandle,
    alg: KeyAlg,
    chain: Vec<Certificate>,
    roots: Vec<Certificate>,
}

fn ck(e: CkError) -> PdfError {
    match e {
        CkError::Pkcs11(RvError::PinIncorrect, _) => PdfError::WrongPin,
        CkError::Pkcs11(RvError::PinLocked, _) => {
            PdfError::Key("token đã bị khóa mã PIN (PIN locked)".into())
        }
        CkError::Pkcs11(RvError::TokenNotPresent | RvError::DeviceRemoved, _) => {
            PdfError::Key("token đã bị rút ra (token removed)".into())
        }
        e => PdfError::Key(format!("PKCS#11: {e}")),
    }
}

fn attr_bytes(s: &Session, h: ObjectHandle, t: AttributeType) -> Option<Vec<u8>> {
    s.get_attributes(h, &[t])
        .ok()?
        .into_iter()
        .find_map(|a| match a {
            Attribute::Id(v) | Attribute::Value(v) | Attribute::Label(v) => Some(v),
            _ => None,
        })
}

/// Opens `token_label` in `module`, logs in with `pin` and selects the private key `key_label`.
pub fn open(
    module: &Path,
    token_label: &str,
    key_label: &str,
    pin: &str,
) -> Result<TokenKey, PdfError> {
    let ctx = Pkcs11::new(module).map_err(|e| {
        PdfError::Key(format!(
            "không nạp được thư viện PKCS#11 {} ({e})",
            module.display()
        ))
    })?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(ck)?;
    let slot = ctx
        .get_slots_with_token()
        .map_err(ck)?
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .map(|i| i.label().trim() == token_label)
                .unwrap_or(false)
        })
        .ok_or_else(|| {
            PdfError::Key(format!(
                "không thấy token {token_label:?} (token not found)"
            ))
        })?;
    let session = ctx.open_ro_session(slot).map_err(ck)?;
    session
        .login(UserType::User, Some(&AuthPin::new(pin.into())))
        .map_err(ck)?;
    // The key: by label; else by CKA_ID written in hex (`--key 01`); with no label given,
    // the token's only private key.
    let find = |a: Attribute| {
        session
            .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), a])
            .map_err(ck)
    };
    let mut keys = if key_label.is_empty() {
        session
            .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
            .map_err(ck)?
    } else {
        find(Attribute::Label(key_label.as_bytes().to_vec()))?
    };
    if keys.is_empty() {
        if let Some(id) = hex::decode(key_label).ok().filter(|i| !i.is_empty()) {
            keys = find(Attribute::Id(id))?;
        }
    }
    let key = match (key_label.is_empty(), keys.len()) {
        (_, 0) => {
            return Err(PdfError::Key(format!(
                "không thấy khóa {key_label:?} trên token (key not found)"
            )))
        }
        (true, n) if n > 1 => {
            return Err(PdfError::Key(format!(
                "token có {n} khóa: chọn một bằng --key <nhãn> (several keys: name one with --key)"
            )))
        }
        _ => keys[0],
    };
    let kt = session
        .get_attributes(key, &[AttributeType::KeyType])
        .map_err(ck)?
        .into_iter()
        .find_map(|a| match a {
            Attribute::KeyType(k) => Some(k),
            _ => None,
        });
    let alg = match kt {
        Some(KeyType::RSA) => KeyAlg::RsaSha256,
        Some(KeyType::EC) => KeyAlg::EcdsaP256Sha256,
        _ => {
            return Err(PdfError::Key(
                "chỉ hỗ trợ khóa RSA và EC (RSA or EC keys only)".into(),
            ))
        }
    };
    let id = attr_bytes(&session, key, AttributeType::Id).filter(|i| !i.is_empty());
    // Every certificate on the token, with its CKA_ID and CKA_LABEL.
    let mut certs = Vec::new();
    for h in session
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])
        .map_err(ck)?
    {
        let Some(der_bytes) = attr_bytes(&session, h, AttributeType::Value) else {
            continue;
        };
        let Ok(c) = Certificate::from_der(&der_bytes) else {
            continue;
        };
        let cid = attr_bytes(&session, h, AttributeType::Id);
        let label = attr_bytes(&session, h, AttributeType::Label);
        certs.push((c, cid, label));
    }
    // The key's certificate: the one with its CKA_ID (the PKCS#11 convention); else the one
    // with its label; else (tokens written by tools that set neither alike) the end-entity
    // certificate whose public key verifies a signature the key makes now.
    let by_id = certs
        .iter()
        .position(|(_, cid, _)| id.is_some() && cid.as_ref() == id.as_ref());
    let by_label = || {
        certs
            .iter()
            .position(|(_, _, l)| l.as_deref() == Some(key_label.as_bytes()))
    };
    let by_key = || {
        let probe = b"vanthu: which certificate belongs to this key";
        let sig = sign_with(&session, key, alg, probe).ok()?;
        certs
            .iter()
            .position(|(c, _, _)| !is_ca(c) && crate::keys::verify_with_cert(c, probe, &sig))
    };
    let ix = by_id.or_else(by_label).or_else(by_key).ok_or_else(|| {
        PdfError::Key(
            "token không có chứng thư của khóa này (no certificate on the token matches the key)"
                .into(),
        )
    })?;
    let signer_cert = certs.remove(ix).0;
    let others = certs.into_iter().map(|(c, _, _)| c).collect();
    // Tokens often hold other certificates too (an earlier certificate, a colleague's, the
    // CA's): only the path above the signer's goes into the signature.
    let (chain, roots) = crate::keys::build_path(signer_cert, others);
    Ok(TokenKey {
        session,
        _ctx: ctx,
        key,
        alg,
        chain,
        roots,
    })
}

impl Signer for TokenKey {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }
    fn algorithm(&self) -> KeyAlg {
        self.alg
    }
    fn roots(&self) -> Vec<Certificate> {
        self.roots.clone()
    }
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, PdfError> {
        sign_with(&self.session, self.key, self.alg, tbs)
    }
}

/// One signature with the token key: RSA PKCS#1 v1.5 over SHA-256, or ECDSA over a SHA-256
/// digest (returned as DER).
fn sign_with(
    session: &Session,
    key: ObjectHandle,
    alg: KeyAlg,
    tbs: &[u8],
) -> Result<Vec<u8>, PdfError> {
    match alg {
        KeyAlg::RsaSha256 => session
            .sign(&Mechanism::Sha256RsaPkcs, key, tbs)
            .map_err(ck),
        KeyAlg::EcdsaP256Sha256 | KeyAlg::EcdsaP384Sha256 => {
            let digest = Sha256::digest(tbs);
            let rs = session.sign(&Mechanism::Ecdsa, key, &digest).map_err(ck)?;
            ecdsa_rs_to_der(&rs)
        }
    }
}

/// Whether the certificate is a CA's (basicConstraints cA), not a signer's.
fn is_ca(c: &Certificate) -> bool {
    use der::Decode;
    c.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS)
        .any(|e| {
            x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes())
                .is_ok_and(|b| b.ca)
        })
}

/// `r‖s` (P-256: 64 bytes, P-384: 96 bytes) → DER `Ecdsa-Sig-Value`.
pub(crate) fn ecdsa_rs_to_der(rs: &[u8]) -> Result<Vec<u8>, PdfError> {
    let bad = |e: &dyn std::fmt::Display| PdfError::Sign(format!("ECDSA r||s: {e}"));
    match rs.len() {
        64 => p256::ecdsa::Signature::from_slice(rs)
            .map(|s| s.to_der().as_bytes().to_vec())
            .map_err(|e| bad(&e)),
        96 => p384::ecdsa::Signature::from_slice(rs)
            .map(|s| s.to_der().as_bytes().to_vec())
            .map_err(|e| bad(&e)),
        n => Err(bad(&format!("{n} bytes"))),
    }
}
