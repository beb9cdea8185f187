//! Test support (cargo feature `test-support`, never in a release build): a loopback stand-in
//! for a remote signing service speaking the CSC-like JSON protocol of [`crate::remote`], with
//! the keys of a test PKI folder (`certs/test-pki.sh`: `KEY.pem`, `KEY.key.pem`, `inter.pem`).
//!
//! Credentials are `<key>-<mode>`:
//! - `ok`: approved on the `approve_after`-th status poll (default 3);
//! - `reject`: rejected on the phone;
//! - `expire`: the service reports the transaction expired;
//! - `slow`: pending for ever;
//! - `hold`: pending until [`Standin::approve_held`];
//! - `wrongkey`: approved, but signed with another key (`evil.key.pem`) than the certificate's.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use signature::hazmat::PrehashSigner;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One signing request seen by the stand-in.
#[derive(Debug, Clone, Default)]
pub struct Tx {
    pub credential: String,
    pub hash: Vec<u8>,
    pub polls: usize,
}

/// What the stand-in has seen.
#[derive(Debug, Default)]
pub struct StandinState {
    pub txs: HashMap<String, Tx>,
    pub cancelled: Vec<String>,
    pub descriptions: Vec<String>,
    /// `ok` credentials are approved on this status poll.
    pub approve_after: usize,
    /// `hold` credentials are approved once this is set.
    pub release_held: bool,
}

/// A running stand-in (its thread lives as long as the process).
pub struct Standin {
    pub url: String,
    pub state: Arc<Mutex<StandinState>>,
}

impl Standin {
    /// Approves every `hold` transaction, past and future.
    pub fn approve_held(&self) {
        self.state.lock().unwrap().release_held = true;
    }
}

fn cert_b64(pki: &Path, name: &str) -> String {
    let pem = std::fs::read(pki.join(format!("{name}.pem"))).unwrap_or_default();
    openssl::x509::X509::from_pem(&pem)
        .and_then(|c| c.to_der())
        .map(|d| B64.encode(d))
        .unwrap_or_default()
}

fn sign_prehash(pki: &Path, key: &str, hash: &[u8]) -> Vec<u8> {
    use pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(pki.join(format!("{key}.key.pem"))).unwrap_or_default();
    if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem) {
        let s: p256::ecdsa::Signature = k.sign_prehash(hash).unwrap();
        s.to_bytes().to_vec() // r‖s, as many services return it
    } else {
        // RSA PKCS#1 v1.5 over the SHA-256 digest the client sent.
        let k = openssl::pkey::PKey::private_key_from_pem(pem.as_bytes()).unwrap();
        let mut ctx = openssl::pkey_ctx::PkeyCtx::new(&k).unwrap();
        ctx.sign_init().unwrap();
        ctx.set_rsa_padding(openssl::rsa::Padding::PKCS1).unwrap();
        ctx.set_signature_md(openssl::md::Md::sha256()).unwrap();
        let mut out = Vec::new();
        ctx.sign_to_vec(hash, &mut out).unwrap();
        out
    }
}

fn split(credential: &str) -> (&str, &str) {
    credential.rsplit_once('-').unwrap_or((credential, "ok"))
}

fn answer(
    pki: &Path,
    st: &mut StandinState,
    n: usize,
    path: &str,
    body: &[u8],
) -> serde_json::Value {
    if let Some(c) = path.strip_prefix("/credentials/") {
        let (who, _) = split(c);
        serde_json::json!({
            "certificates": [cert_b64(pki, who), cert_b64(pki, "inter")],
            "key_algo": if who.starts_with("clerk") { "EC" } else { "RSA" },
        })
    } else if path == "/signHash" {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let tx = format!("tx{n}");
        st.descriptions
            .push(v["description"].as_str().unwrap_or_default().to_string());
        st.txs.insert(
            tx.clone(),
            Tx {
                credential: v["credentialID"].as_str().unwrap_or_default().into(),
                hash: B64
                    .decode(v["hash"].as_str().unwrap_or_default())
                    .unwrap_or_default(),
                polls: 0,
            },
        );
        serde_json::json!({ "transactionID": tx })
    } else if let Some(tx) = path.strip_prefix("/status/") {
        let (approve_after, released) = (st.approve_after, st.release_held);
        let Some(t) = st.txs.get_mut(tx) else {
            return serde_json::json!({ "status": "unknown" });
        };
        t.polls += 1;
        let (who, mode) = split(&t.credential);
        let approved = |key: &str| {
            serde_json::json!({
                "status": "approved",
                "signature": B64.encode(sign_prehash(pki, key, &t.hash)),
            })
        };
        match mode {
            "ok" if t.polls >= approve_after => approved(who),
            "hold" if released => approved(who),
            "wrongkey" => approved("evil"),
            "reject" => serde_json::json!({ "status": "rejected" }),
            "expire" => serde_json::json!({ "status": "expired" }),
            _ => serde_json::json!({ "status": "pending" }),
        }
    } else if let Some(tx) = path.strip_prefix("/cancel/") {
        st.cancelled.push(tx.to_string());
        serde_json::json!({})
    } else {
        serde_json::json!({ "error": "not found" })
    }
}

fn serve(pki: &Path, state: &Mutex<StandinState>, n: usize, s: std::net::TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(rs) = s.try_clone() else { return };
    let mut r = BufReader::new(rs);
    let mut first = String::new();
    if r.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    let mut len = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    let Some(path) = first.split_whitespace().nth(1) else {
        return;
    };
    let resp = answer(pki, &mut state.lock().unwrap(), n, path, &body);
    let b = serde_json::to_vec(&resp).unwrap_or_default();
    let mut s = s;
    let _ = write!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        b.len()
    );
    let _ = s.write_all(&b);
}

/// Starts the stand-in on 127.0.0.1 (a free port) for the keys in `pki`.
pub fn start_remote_standin(pki: &Path) -> Standin {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}", l.local_addr().expect("local address"));
    let state = Arc::new(Mutex::new(StandinState {
        approve_after: 3,
        ..Default::default()
    }));
    let st = state.clone();
    let pki: PathBuf = pki.to_path_buf();
    std::thread::spawn(move || {
        for (n, s) in l.incoming().enumerate() {
            if let Ok(s) = s {
                serve(&pki, &st, n, s);
            }
        }
    });
    Standin { url, state }
}
