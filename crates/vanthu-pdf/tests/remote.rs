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
