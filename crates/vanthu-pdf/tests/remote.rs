//! Remote signing against a loopback stand-in service (CSC-like JSON API): approval after a
//! few polls, rejection, timeout, cancel; the result is checked by pyHanko.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::*;
use signature::hazmat::PrehashSigner;
use signature::SignatureEncoding;
use vanthu_pdf::remote::{RemoteSigner, RemoteState};
use vanthu_pdf::sign::{sign_bytes, SignOptions};
use vanthu_pdf::verify::verify_bytes;
use vanthu_pdf::PdfError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Default)]
struct Tx {
    credential: String,
    hash: Vec<u8>,
    polls: usize,
}

#[derive(Default)]
struct Service {
    txs: HashMap<String, Tx>,
    cancelled: Vec<String>,
    descriptions: Vec<String>,
}

fn pem_b64(name: &str) -> String {
    let pem = std::fs::read(pki().join(format!("{name}.pem"))).unwrap();
    let der = openssl::x509::X509::from_pem(&pem)
        .unwrap()
        .to_der()
        .unwrap();
    B64.encode(der)
}

fn sign_prehash(credential: &str, hash: &[u8]) -> Vec<u8> {
    use pkcs8::DecodePrivateKey;
    let who = credential.split('-').next().unwrap();
    let pem = std::fs::read_to_string(pki().join(format!("{who}.key.pem"))).unwrap();
    if who == "clerk" {
        let k = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
        let s: p256::ecdsa::Signature = k.sign_prehash(hash).unwrap();
        s.to_bytes().to_vec() // r‖s, as many services return it
    } else {
        let k = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
        let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k);
        sk.sign_prehash(hash).unwrap().to_vec()
    }
}

/// Credentials: `<key>-ok` approves on the third poll, `-reject` rejects, `-slow` never answers.
fn start_service() -> (String, Arc<Mutex<Service>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let svc = Arc::new(Mutex::new(Service::default()));
    let state = svc.clone();
    std::thread::spawn(move || {
        for (n, s) in l.incoming().enumerate() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            let mut len = 0;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let path = first.split_whitespace().nth(1).unwrap().to_string();
            let mut st = state.lock().unwrap();
            let resp: serde_json::Value = if let Some(c) = path.strip_prefix("/credentials/") {
                let who = c.split('-').next().unwrap();
                serde_json::json!({
                    "certificates": [pem_b64(who), pem_b64("inter")],
                    "key_algo": if who == "clerk" { "EC" } else { "RSA" },
                })
            } else if path == "/signHash" {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let tx = format!("tx{n}");
                st.descriptions
                    .push(v["description"].as_str().unwrap().to_string());
                st.txs.insert(
                    tx.clone(),
                    Tx {
                        credential: v["credentialID"].as_str().unwrap().into(),
                        hash: B64.decode(v["hash"].as_str().unwrap()).unwrap(),
                        polls: 0,
                    },
                );
                serde_json::json!({ "transactionID": tx })
            } else if let Some(tx) = path.strip_prefix("/status/") {
                let t = st.txs.get_mut(tx).unwrap();
                t.polls += 1;
                let mode = t.credential.rsplit('-').next().unwrap().to_string();
                match mode.as_str() {
                    "ok" if t.polls >= 3 => serde_json::json!({
                        "status": "approved",
                        "signature": B64.encode(sign_prehash(&t.credential, &t.hash)),
                    }),
                    "reject" => serde_json::json!({ "status": "rejected" }),
                    _ => serde_json::json!({ "status": "pending" }),
                }
            } else if let Some(tx) = path.strip_prefix("/cancel/") {
                st.cancelled.push(tx.to_string());
                serde_json::json!({})
            } else {
                serde_json::json!({ "error": "not found" })
            };
            drop(st);
            let b = serde_json::to_vec(&resp).unwrap();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                b.len()
            );
            let _ = s.write_all(&b);
        }
    });
    (url, svc)
}

fn remote(url: &str, cred: &str) -> RemoteSigner {
    let mut r = RemoteSigner::connect(url, cred).unwrap();
    r.poll = Duration::from_millis(50);
    r.timeout = Duration::from_secs(5);
    r.display = "Ký Quyết định số 12/QĐ-UBND".into();
    r
}

#[test]
fn remote_signer_approval_reject_timeout_cancel() {
    let (url, svc) = start_service();
    let dir = tempfile::tempdir().unwrap();
    // Approved after polling: RSA and ECDSA (r‖s normalised to DER).
    for cred in ["leader-ok", "clerk-ok"] {
        let mut r = remote(&url, cred);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        r.on_state = Some(Box::new(move |s: &RemoteState| {
            s2.lock().unwrap().push(s.clone())
        }));
        let out = sign_bytes(sample_pdf(1, "Remote"), &r, &SignOptions::default()).unwrap();
        let states = seen.lock().unwrap().clone();
        assert!(states
            .iter()
            .any(|s| matches!(s, RemoteState::AwaitingApproval { .. })));
        assert_eq!(states.last(), Some(&RemoteState::Approved));
        let f = dir.path().join(format!("{cred}.pdf"));
        std::fs::write(&f, &out).unwrap();
        assert!(verify_bytes(out, &opts()).unwrap().all_valid);
        let (ok, txt) = pyhanko_validate(&f, &[]);
        assert!(ok && txt.contains(":VALID"), "{cred}: pyHanko: {txt}");
    }
    assert!(svc
        .lock()
        .unwrap()
        .descriptions
        .iter()
        .all(|d| d.contains("Quyết định")));
    // Rejected on the phone.
    let e = sign_bytes(
        sample_pdf(1, "x"),
        &remote(&url, "leader-reject"),
        &SignOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, PdfError::Rejected), "{e}");
    // No answer before the deadline: expired, and the transaction is cancelled remotely.
    let mut slow = remote(&url, "leader-slow");
    slow.timeout = Duration::from_millis(300);
    let e = sign_bytes(sample_pdf(1, "x"), &slow, &SignOptions::default()).unwrap_err();
    assert!(matches!(e, PdfError::Expired), "{e}");
    // Cancelled by the user while waiting.
    let slow = remote(&url, "leader-slow");
    let flag = slow.cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.store(true, Ordering::SeqCst);
    });
    let e = sign_bytes(sample_pdf(1, "x"), &slow, &SignOptions::default()).unwrap_err();
    assert!(matches!(e, PdfError::Cancelled), "{e}");
    assert_eq!(
        svc.lock().unwrap().cancelled.len(),
        2,
        "expired and cancelled transactions"
    );
}
