//! `vanthu pdf sign --remote` end to end against the loopback stand-in of a remote signing
//! service (`vanthu_pdf::test_support`, with the keys of a served test PKI): approval, rejection,
//! timeout, Ctrl-C, a signature from the wrong key, resume after the process was killed.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use vanthu_pdf::test_support::start_remote_standin;

use crate::pdf::{pdf_cmd, sample_pdf, served_pki, verify_json};
use crate::*;

fn remote_sign(dir: &Path, url: &str, cred: &str, out: &Path) -> std::process::Command {
    let input = dir.join("in.pdf");
    if !input.exists() {
        std::fs::write(&input, sample_pdf()).unwrap();
    }
    let mut c = pdf_cmd(dir);
    c.arg("sign")
        .arg(&input)
        .arg(out)
        .args(["--remote", url, "--credential", cred])
        .args(["--remote-poll-ms", "50", "--reason", "Phê duyệt"]);
    c
}

/// Only the input (and the PKI folder) in `dir`: no output, no temporary file.
fn assert_no_output(dir: &Path) {
    assert_no_output_but(dir, &["in.pdf"]);
}

/// Only these files (and the PKI folder) in `dir`.
fn assert_no_output_but(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "served-pki" && n != "no-store")
        .collect();
    names.sort();
    assert_eq!(names, expected);
}

#[test]
fn pdf_sign_remote_approve_reject_timeout_wrong_key() {
    let d = tempfile::tempdir().unwrap();
    let (k, _) = served_pki(d.path());
    let svc = start_remote_standin(&k);
    // Approved on the phone after a few polls: progress with the transaction on stderr, and
    // the output verifies against the test root (CRLs served on 127.0.0.1, checked online).
    let out = d.path().join("out.pdf");
    let o = run(&mut remote_sign(d.path(), &svc.url, "leader-ok", &out));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("Đang chờ xác nhận trên điện thoại…") && err.contains("giao dịch tx"),
        "{err}"
    );
    assert!(svc.state.lock().unwrap().descriptions[0].contains("Ký tệp in.pdf: Phê duyệt"));
    let v = verify_json(d.path(), &out, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    assert_eq!(v["signatures"][0]["signer"], "Nguyễn Văn An");
    std::fs::remove_file(&out).unwrap();

    // Rejected, expired at the service, or no answer before --remote-timeout: exit 3, a clear
    // message, no output file.
    for (cred, timeout, msg) in [
        ("leader-reject", "30", "Người ký đã từ chối trên điện thoại"),
        ("leader-expire", "30", "Hết thời gian chờ xác nhận ký"),
        ("leader-slow", "1", "Hết thời gian chờ xác nhận ký"),
        ("leader-wrongkey", "30", "không khớp chứng thư"),
    ] {
        let t = Instant::now();
        let o =
            run(remote_sign(d.path(), &svc.url, cred, &out).args(["--remote-timeout", timeout]));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{cred}: {err}");
        assert!(err.contains(msg), "{cred}: {err}");
        assert!(t.elapsed() < Duration::from_secs(20), "{cred}");
        assert_no_output(d.path());
    }
    // The timed-out request was cancelled at the service.
    assert_eq!(svc.state.lock().unwrap().cancelled.len(), 1);
}

#[cfg(unix)]
#[test]
fn pdf_sign_remote_ctrl_c_cancels() {
    let d = tempfile::tempdir().unwrap();
    let (k, _) = served_pki(d.path());
    let svc = start_remote_standin(&k);
    let out = d.path().join("out.pdf");
    let mut child = remote_sign(d.path(), &svc.url, "leader-slow", &out)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("Đang chờ xác nhận trên điện thoại"), "{line}");
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(130), "{rest}");
    assert!(rest.contains("Đã hủy yêu cầu ký"), "{rest}");
    assert_no_output(d.path());
    assert_eq!(svc.state.lock().unwrap().cancelled.len(), 1);
}

/// The process is killed while waiting for the approval; `--resume` with the same resume file
/// finishes the same transaction once the signer approves (no second request to the phone),
/// at B-LTA.
#[cfg(unix)]
#[test]
fn pdf_sign_remote_resume_after_kill() {
    let d = tempfile::tempdir().unwrap();
    let (k, tsa) = served_pki(d.path());
    let svc = start_remote_standin(&k);
    let out = d.path().join("out.pdf");
    let rf = d.path().join("state").join("pending.json");
    std::fs::create_dir_all(rf.parent().unwrap()).unwrap();
    let sign = |resume: bool| {
        let mut c = remote_sign(d.path(), &svc.url, "leader-hold", &out);
        // At B-LTA: the timestamp, DSS and document timestamp come after the approval.
        c.args(["--level", "B-LTA", "--tsa", &tsa]);
        c.arg("--resume-file").arg(&rf);
        if resume {
            c.arg("--resume");
        }
        c
    };
    let mut child = sign(false)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("Đang chờ xác nhận trên điện thoại"), "{line}");
    let tx = svc.state.lock().unwrap().txs.keys().next().unwrap().clone();
    assert!(line.contains(&tx), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists());
    assert!(rf.exists());
    // Without --resume: refused, the pending request is kept.
    let o = run(&mut sign(false));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--resume"));
    assert!(rf.exists());
    // The signer approves; the second run resumes the same transaction.
    svc.approve_held();
    let o = run(&mut sign(true));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains(&format!("giao dịch {tx}")), "{err}");
    assert_eq!(svc.state.lock().unwrap().txs.len(), 1, "one request only");
    assert!(!rf.exists(), "the resume file is removed once finished");
    assert_no_output_but(d.path(), &["in.pdf", "out.pdf", "state"]);
    let v = verify_json(d.path(), &out, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
    assert_eq!(v["signatures"][0]["level"], "B-LTA", "{v}");
    // Nothing left to resume.
    let o = run(&mut sign(true));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("không có yêu cầu ký đang chờ"));
}

/// Remote signing services are reached over `https://` (as every real one is): the service's
/// TLS certificate is checked, and an agency CA can be added with `--tls-ca`.
#[test]
fn pdf_sign_remote_over_https() {
    let d = tempfile::tempdir().unwrap();
    let (k, _) = served_pki(d.path());
    let svc = start_remote_standin(&k);
    let front = crate::pdf::https_front(d.path(), &svc.url);
    let out = d.path().join("out.pdf");
    let o = run(&mut remote_sign(d.path(), &front.url, "leader-ok", &out));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("TLS"), "{err}");
    assert!(!out.exists());
    ok(remote_sign(d.path(), &front.url, "leader-ok", &out)
        .arg("--tls-ca")
        .arg(&front.ca));
    let v = verify_json(d.path(), &out, &k.join("root.pem"));
    assert_eq!(v["all_valid"], true, "{v}");
}
