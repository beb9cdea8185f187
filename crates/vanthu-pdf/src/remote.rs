//! Remote signing (VNPT SmartCA, Viettel MySign, …) behind the same [`Signer`] interface: only
//! the SHA-256 of the signed attributes and a display text leave the machine; the signer
//! approves on the phone. The adapter polls until approval, rejection, the deadline or a
//! cancel request ("Đang chờ xác nhận trên điện thoại").
//!
//! The wire protocol is modelled on the Cloud Signature Consortium API (vendor APIs are still
//! open questions), over JSON:
//! - `GET  {base}/credentials/{id}` → `{"certificates": [base64 DER, signer first], "key_algo": "RSA"|"EC"}`
//! - `POST {base}/signHash` `{"credentialID", "hash": base64, "hashAlgo": OID, "description"}` → `{"transactionID"}`
//! - `GET  {base}/status/{tx}` → `{"status": "pending"|"approved"|"rejected"|"expired", "signature": base64}`
//! - `POST {base}/cancel/{tx}`
//!
//! The returned signature is checked against the certificate before it is used (as for every
//! key source).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use der::Decode;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::keys::{KeyAlg, Signer};
use crate::PdfError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Progress reported while waiting (for the UI countdown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteState {
    Prepared,
    AwaitingApproval {
        transaction: String,
        remaining: Duration,
    },
    Approved,
}

/// A request sent to the service: its transaction and the hash it signs (kept to resume after
/// a restart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTx {
    pub transaction: String,
    pub hash: Vec<u8>,
}

pub struct RemoteSigner {
    base: String,
    credential: String,
    chain: Vec<Certificate>,
    alg: KeyAlg,
    /// Text shown on the phone.
    pub display: String,
    /// How long to wait for approval.
    pub timeout: Duration,
    pub poll: Duration,
    /// Set from another thread to cancel.
    pub cancel: Arc<AtomicBool>,
    #[allow(clippy::type_complexity)]
    pub on_state: Option<Box<dyn Fn(&RemoteState) + Send + Sync>>,
    /// Called once the service accepted the request, before waiting (to persist it); an error
    /// cancels the request.
    #[allow(clippy::type_complexity)]
    pub on_submit: Option<Box<dyn Fn(&PendingTx) -> Result<(), PdfError> + Send + Sync>>,
    /// Resume this earlier request instead of sending a new one; the hash to sign must be the
    /// same (same prepared revision), else signing fails.
    pub resume: Option<PendingTx>,
}

fn unavailable(e: impl std::fmt::Display) -> PdfError {
    PdfError::Unavailable(e.to_string())
}

fn json_get(url: &str) -> Result<serde_json::Value, PdfError> {
    let b = crate::tsa::http_get(url, Duration::from_secs(15)).map_err(unavailable)?;
    serde_json::from_slice(&b).map_err(unavailable)
}

fn json_post(url: &str, v: &serde_json::Value) -> Result<serde_json::Value, PdfError> {
    let body = serde_json::to_vec(v).map_err(unavailable)?;
    let b = crate::tsa::http_post_as(url, &body, "application/json", Duration::from_secs(15))
        .map_err(unavailable)?;
    if b.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&b).map_err(unavailable)
}

impl RemoteSigner {
    /// Fetches the credential's certificate chain.
    pub fn connect(base: &str, credential: &str) -> Result<RemoteSigner, PdfError> {
        let base = base.trim_end_matches('/').to_string();
        let info = json_get(&format!("{base}/credentials/{credential}"))?;
        let mut chain = Vec::new();
        for c in info["certificates"].as_array().into_iter().flatten() {
            let der_bytes = B64
                .decode(c.as_str().unwrap_or_default())
                .map_err(unavailable)?;
            chain.push(Certificate::from_der(&der_bytes).map_err(unavailable)?);
        }
        if chain.is_empty() {
            return Err(unavailable("no certificate for the credential"));
        }
        let alg = match info["key_algo"].as_str() {
            Some("EC") => KeyAlg::EcdsaP256Sha256,
            _ => KeyAlg::RsaSha256,
        };
        Ok(RemoteSigner {
            base,
            credential: credential.to_string(),
            chain,
            alg,
            display: String::new(),
            timeout: Duration::from_secs(120),
            poll: Duration::from_secs(2),
            cancel: Arc::new(AtomicBool::new(false)),
            on_state: None,
            on_submit: None,
            resume: None,
        })
    }

    fn state(&self, s: RemoteState) {
        if let Some(f) = &self.on_state {
            f(&s);
        }
    }

    fn cancel_remote(&self, tx: &str) {
        let _ = json_post(
            &format!("{}/cancel/{tx}", self.base),
            &serde_json::json!({}),
        );
    }
}

impl Signer for RemoteSigner {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }
    fn min_signature_space(&self) -> usize {
        32 * 1024
    }
    fn algorithm(&self) -> KeyAlg {
        self.alg
    }
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, PdfError> {
        self.state(RemoteState::Prepared);
        let hash = Sha256::digest(tbs);
        let tx = if let Some(p) = &self.resume {
            if p.hash[..] != hash[..] {
                return Err(PdfError::Sign(format!(
                    "yêu cầu ký đang chờ (giao dịch {}) không khớp tài liệu đã chuẩn bị; \
                     không tiếp tục được (the pending request signs another hash)",
                    p.transaction
                )));
            }
            p.transaction.clone()
        } else {
            let r = json_post(
                &format!("{}/signHash", self.base),
                &serde_json::json!({
                    "credentialID": self.credential,
                    "hash": B64.encode(hash),
                    "hashAlgo": "2.16.840.1.101.3.4.2.1",
                    "description": self.display,
                }),
            )?;
            let tx = r["transactionID"]
                .as_str()
                .ok_or_else(|| unavailable("no transactionID"))?
                .to_string();
            if let Some(f) = &self.on_submit {
                if let Err(e) = f(&PendingTx {
                    transaction: tx.clone(),
                    hash: hash.to_vec(),
                }) {
                    self.cancel_remote(&tx);
                    return Err(e);
                }
            }
            tx
        };
        let deadline = Instant::now() + self.timeout;
        loop {
            if self.cancel.load(Ordering::SeqCst) {
                self.cancel_remote(&tx);
                return Err(PdfError::Cancelled);
            }
            let now = Instant::now();
            if now >= deadline {
                self.cancel_remote(&tx);
                return Err(PdfError::Expired);
            }
            self.state(RemoteState::AwaitingApproval {
                transaction: tx.clone(),
                remaining: deadline - now,
            });
            let s = json_get(&format!("{}/status/{tx}", self.base))?;
            match s["status"].as_str() {
                Some("approved") => {
                    self.state(RemoteState::Approved);
                    let sig = B64
                        .decode(s["signature"].as_str().unwrap_or_default())
                        .map_err(unavailable)?;
                    let sig = match self.alg {
                        KeyAlg::RsaSha256 => sig,
                        // Services return r‖s or DER; normalise to DER.
                        KeyAlg::EcdsaP256Sha256 | KeyAlg::EcdsaP384Sha256 => {
                            if sig.first() == Some(&0x30) && sig.len() != 64 && sig.len() != 96 {
                                sig
                            } else {
                                // Malformed: refused below as not matching.
                                crate::pkcs11::ecdsa_rs_to_der(&sig).unwrap_or_default()
                            }
                        }
                    };
                    // Never trust the service: the signature must verify with the key of the
                    // credential's certificate (a wrong key, a wrong hash or garbage is refused).
                    if !crate::keys::verify_with_cert(&self.chain[0], tbs, &sig) {
                        return Err(PdfError::Sign(format!(
                            "dịch vụ ký từ xa trả về chữ ký không khớp chứng thư của tài khoản ký {} \
                             (giao dịch {tx}); không ghi tệp (the remote service returned a signature \
                             that does not verify with the credential's certificate)",
                            self.credential
                        )));
                    }
                    return Ok(sig);
                }
                Some("rejected") => return Err(PdfError::Rejected),
                Some("expired") => return Err(PdfError::Expired),
                Some("pending") => {}
                other => return Err(unavailable(format!("status {other:?}"))),
            }
            // Sleep in small steps so a cancel is seen quickly.
            let until = Instant::now() + self.poll;
            while Instant::now() < until.min(deadline) {
                if self.cancel.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
