//! Remote signing against a loopback stand-in service (CSC-like JSON API): approval after a
//! few polls, rejection, expiry (local deadline and reported by the service), cancel, a
//! signature made with the wrong key; the result is checked by pyHanko.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use vanthu_pdf::remote::{RemoteSigner, RemoteState};
use vanthu_pdf::sign::{sign_bytes, SignOptions};
use vanthu_pdf::test_support::{start_remote_standin, StandinState};
use vanthu_pdf::verify::verify_bytes;
use vanthu_pdf::PdfError;

/// The loopback stand-in (feature `test-support`) for this process's test PKI.
fn start_service() -> (String, Arc<Mutex<StandinState>>) {
    let s = start_remote_standin(pki());
    (s.url, s.state)
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
        // a remote signer reserves at least 32 KiB for the CMS (a retry costs an approval)
        let at = out.windows(11).rposition(|w| w == b"/Contents <").unwrap() + 11;
        let hex = out[at..].iter().position(|&b| b == b'>').unwrap();
        assert!(hex >= 2 * 32 * 1024, "{cred}: {hex} hex digits reserved");
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
    // Expired as reported by the service.
    let e = sign_bytes(
        sample_pdf(1, "x"),
        &remote(&url, "leader-expire"),
        &SignOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, PdfError::Expired), "{e}");
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

/// The service answers "approved" with a signature made by another key than the credential's
/// certificate: refused with a clear Vietnamese error, and no output file is written.
#[test]
fn remote_signer_refuses_signature_from_wrong_key() {
    let (url, _svc) = start_service();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, sample_pdf(1, "Remote")).unwrap();
    for cred in ["leader-wrongkey", "clerk-wrongkey"] {
        let out = dir.path().join(format!("{cred}.pdf"));
        let e = vanthu_pdf::sign_file(&input, &out, &remote(&url, cred), &SignOptions::default())
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, PdfError::Sign(_)), "{cred}: {e:?}");
        assert!(
            msg.contains("không khớp chứng thư") && msg.contains(cred),
            "{cred}: {msg}"
        );
        assert!(!out.exists(), "{cred}: no output file");
        // Nor a leftover temporary file.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("in.pdf")], "{cred}");
    }
}

/// The process dies while waiting for the approval; a second run with the same resume file
/// reuses the prepared revision byte for byte and the pending transaction (no second request),
/// and completes once the signer approves.
#[test]
fn remote_signer_resumes_after_restart() {
    use vanthu_pdf::remote::PendingTx;
    let svc = start_remote_standin(pki());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, sample_pdf(1, "Remote")).unwrap();
    let out = dir.path().join("out.pdf");
    let rf = dir.path().join("pending.json");
    let sopts = SignOptions {
        resume_file: Some(rf.clone()),
        ..Default::default()
    };
    // First run: the request is sent and persisted, then the process "dies" while waiting
    // (a panic unwinds through the signing without any cleanup, like a kill).
    let (url, rf1, input1, out1, opts1) = (
        svc.url.clone(),
        rf.clone(),
        input.clone(),
        out.clone(),
        sopts.clone(),
    );
    let crashed = std::thread::spawn(move || {
        let mut r = remote(&url, "leader-hold");
        let rf2 = rf1.clone();
        r.on_submit = Some(Box::new(move |p: &PendingTx| {
            let mut m = vanthu_pdf::sign::read_json_file(&rf2)?;
            m.insert("transaction".into(), p.transaction.clone().into());
            m.insert("hash".into(), hex::encode(&p.hash).into());
            vanthu_pdf::sign::write_json_file(&rf2, &m)
        }));
        r.on_state = Some(Box::new(|s: &RemoteState| {
            if matches!(s, RemoteState::AwaitingApproval { .. }) {
                panic!("killed while waiting");
            }
        }));
        let _ = vanthu_pdf::sign_file(&input1, &out1, &r, &opts1);
    })
    .join();
    assert!(crashed.is_err());
    assert!(!out.exists());
    let saved = vanthu_pdf::sign::read_json_file(&rf).unwrap();
    let revision = saved["revision"]["buf"].as_str().unwrap().to_string();
    let pending = PendingTx {
        transaction: saved["transaction"].as_str().unwrap().into(),
        hash: hex::decode(saved["hash"].as_str().unwrap()).unwrap(),
    };
    // A resume on another input is refused.
    let other = dir.path().join("other.pdf");
    std::fs::write(&other, sample_pdf(1, "Other")).unwrap();
    let mut r = remote(&svc.url, "leader-hold");
    r.resume = Some(pending.clone());
    let e = vanthu_pdf::sign_file(&other, &out, &r, &sopts).unwrap_err();
    assert!(e.to_string().contains("tệp tiếp tục"), "{e}");
    // The signer approves on the phone; the second run completes the same transaction.
    svc.approve_held();
    let mut r = remote(&svc.url, "leader-hold");
    r.resume = Some(pending.clone());
    vanthu_pdf::sign_file(&input, &out, &r, &sopts).unwrap();
    let st = svc.state.lock().unwrap();
    assert_eq!(st.txs.len(), 1, "one request only");
    assert_eq!(st.txs[&pending.transaction].hash, pending.hash);
    drop(st);
    let signed = std::fs::read(&out).unwrap();
    let base = std::fs::read(&input).unwrap();
    assert_eq!(&signed[..base.len()], &base[..]);
    // The revision is the persisted one (same /M, same bytes but the Contents).
    use base64::Engine as _;
    let rev = base64::engine::general_purpose::STANDARD
        .decode(revision)
        .unwrap();
    assert_eq!(signed.len(), base.len() + rev.len());
    let diff = signed[base.len()..]
        .iter()
        .zip(&rev)
        .filter(|(a, b)| a != b)
        .count();
    assert!(diff > 0 && diff < 2 * 32 * 1024, "{diff}");
    assert!(verify_bytes(signed, &opts()).unwrap().all_valid);
    let (ok, txt) = pyhanko_validate(&out, &[]);
    assert!(ok && txt.contains(":VALID"), "pyHanko: {txt}");
    // A pending request for another hash is refused.
    let mut r = remote(&svc.url, "leader-hold");
    r.resume = Some(PendingTx {
        transaction: pending.transaction,
        hash: vec![0; 32],
    });
    let out2 = dir.path().join("out2.pdf");
    let e = vanthu_pdf::sign_file(&input, &out2, &r, &sopts).unwrap_err();
    assert!(e.to_string().contains("không khớp tài liệu"), "{e}");
    assert!(!out2.exists());
}
