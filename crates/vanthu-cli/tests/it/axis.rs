//! Two agencies on one machine: two stores, one local axis server (`vanthu axis serve`), the
//! real binary for every step. Then the same exchange with faults injected into the server and
//! the sync client killed with SIGKILL at random points.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::*;

const A: &str = "000.00.00.H29";
const B: &str = "000.00.00.G22";

struct Server {
    child: Child,
    endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Server {
    serve_with(dir, &[])
}

fn serve_with(dir: &Path, extra: &[&std::ffi::OsStr]) -> Server {
    let agencies = dir.join("agencies.json");
    std::fs::write(
        &agencies,
        serde_json::json!([
            {"code": A, "name": "UBND tỉnh Hòa Bình", "system_id": "00.01.W00", "secret": "khóa-a"},
            {"code": B, "name": "Văn phòng Chính phủ", "system_id": "00.02.W00", "secret": "khóa-b"},
        ])
        .to_string(),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vanthu"))
        .args(["axis", "serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir.join("axis"))
        .arg("--agencies")
        .arg(&agencies)
        .args(extra)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).expect("server prints its endpoint");
    Server {
        child,
        endpoint: v["endpoint"].as_str().unwrap().to_string(),
    }
}

/// The local axis server and two configured agency stores, A and B, under `dir`.
fn two_agencies(dir: &Path) -> (Server, std::path::PathBuf, std::path::PathBuf) {
    let srv = serve(dir);
    let (a, b) = (dir.join("a"), dir.join("b"));
    agency(
        &a,
        A,
        "UBND tỉnh Hòa Bình",
        "00.01.W00",
        "khóa-a",
        &srv.endpoint,
    );
    agency(
        &b,
        B,
        "Văn phòng Chính phủ",
        "00.02.W00",
        "khóa-b",
        &srv.endpoint,
    );
    (srv, a, b)
}

fn agency(data: &Path, code: &str, name: &str, sys: &str, secret: &str, endpoint: &str) {
    ok(vanthu(data).args(["init", "--agency-name", name, "--agency-code", code]));
    configure(data, code, sys, secret, endpoint, None);
}

fn configure(data: &Path, code: &str, sys: &str, secret: &str, endpoint: &str, ca: Option<&Path>) {
    let mut c = vanthu(data);
    if let Some(ca) = ca {
        c.arg("axis").arg("config").arg("--tls-ca").arg(ca);
    } else {
        c.args(["axis", "config"]);
    }
    ok(
        c.args(["--endpoint", endpoint, "--agency", code, "--system-id", sys])
            .args([
                "--retry-base-ms",
                "20",
                "--retry-cap-ms",
                "200",
                "--send-attempts",
                "1000",
            ])
            .env("VANTHU_AXIS_SECRET", secret),
    );
}

fn new_doc(data: &Path, n: usize, pdf: &Path) -> String {
    let v = json(
        vanthu(data)
            .args([
                "axis",
                "new",
                "--notation",
                &format!("{n}/UBND-VP"),
                "--date",
                "2026-12-01",
            ])
            .args([
                "--subject",
                &format!("Về việc liên thông văn bản điện tử, đợt {n}"),
            ])
            .args(["--signer", "Nguyễn Văn Minh"])
            .arg(pdf),
    );
    v["id"].as_str().unwrap().to_string()
}

fn sync(data: &Path) -> (i32, serde_json::Value) {
    let o = run(vanthu(data).args(["--json", "sync", "--once"]));
    let code = o.status.code().unwrap_or(-1);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (code, v)
}

fn statuses(data: &Path, id: &str) -> Vec<String> {
    let v = json(vanthu(data).args(["status", id]));
    v["recipients"][0]["statuses"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["code"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn admin(endpoint: &str, path: &str, body: &str) {
    // a minimal HTTP/1.1 POST over loopback (the test needs no HTTP client)
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /admin/{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}

#[test]
fn two_agencies_exchange_over_https_and_an_untrusted_server_is_refused_plainly() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("tls");
    let st = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs/test-tls.sh"))
        .arg(&certs)
        .status()
        .unwrap();
    assert!(st.success());
    let srv = serve_with(
        tmp.path(),
        &[
            "--tls-cert".as_ref(),
            certs.join("server.pem").as_os_str(),
            "--tls-key".as_ref(),
            certs.join("server.key.pem").as_os_str(),
        ],
    );
    assert!(srv.endpoint.starts_with("https://"), "{}", srv.endpoint);
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let ca = certs.join("ca.pem");
    ok(vanthu(&a).args([
        "init",
        "--agency-name",
        "UBND tỉnh Hòa Bình",
        "--agency-code",
        A,
    ]));
    configure(&a, A, "00.01.W00", "khóa-a", &srv.endpoint, Some(&ca));
    // B forgets the agency's CA: its sync says why, in Vietnamese, and loses nothing
    ok(vanthu(&b).args([
        "init",
        "--agency-name",
        "Văn phòng Chính phủ",
        "--agency-code",
        B,
    ]));
    configure(&b, B, "00.02.W00", "khóa-b", &srv.endpoint, None);

    let pdf = tmp.path().join("cong-van-7.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n%%EOF\n").unwrap();
    let id = new_doc(&a, 7, &pdf);
    ok(vanthu(&a).args(["send", &id, "--to", B]));
    let (code, r) = sync(&a);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["sent"].as_array().unwrap().len(), 1, "{r}");

    let o = run(vanthu(&b).args(["sync", "--once"]));
    assert_ne!(o.status.code(), Some(0));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("chứng thư TLS không tin cậy"), "{text}");
    assert!(json(vanthu(&b).args(["list", "incoming"]))
        .as_array()
        .unwrap()
        .is_empty());

    // with the CA configured the document arrives once and A sees 01
    configure(&b, B, "00.02.W00", "khóa-b", &srv.endpoint, Some(&ca));
    let (code, r) = sync(&b);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["received"][0]["outcome"], "registered", "{r}");
    assert_eq!(
        json(vanthu(&b).args(["list", "incoming"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(sync(&a).0, 0);
    assert_eq!(statuses(&a, &id), ["01"]);
}

#[test]
fn two_agencies_exchange_a_document_and_its_statuses() {
    let tmp = tempfile::tempdir().unwrap();
    let (_srv, a, b) = two_agencies(tmp.path());
    let pdf = tmp.path().join("cong-van-12.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n%%EOF\n").unwrap();

    let id = new_doc(&a, 12, &pdf);
    // a secret document is refused with a clear reason
    let secret = json(vanthu(&a).args([
        "axis",
        "new",
        "--notation",
        "13/UBND-VP",
        "--subject",
        "Kế hoạch",
        "--secrecy",
        "mat",
    ]))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let o = run(vanthu(&a).args(["send", &secret, "--to", B]));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("văn bản mật không được gửi"));

    ok(vanthu(&a).args(["send", &id, "--to", B]));
    let (code, r) = sync(&a);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["sent"].as_array().unwrap().len(), 1);

    // B: human output says what arrived
    let out = ok(vanthu(&b).args(["sync", "--once"]));
    assert!(
        out.contains("registered") && out.contains("Số đến 01"),
        "{out}"
    );
    // the clerk is told, once
    let human = ok(vanthu(&b).args(["notifications", "--mark-read"]));
    assert!(
        human.contains("Văn bản mới đến từ UBND tỉnh Hòa Bình (000.00.00.H29)"),
        "{human}"
    );
    assert!(json(vanthu(&b).arg("notifications"))
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        json(vanthu(&b).args(["notifications", "--all"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let inbox = json(vanthu(&b).args(["axis", "inbox"]));
    assert_eq!(inbox[0]["outcome"], "registered");
    assert_eq!(inbox[0]["acked"], 1);
    let list = json(vanthu(&b).args(["list", "incoming"]));
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let inc = rows[0]["id"].as_str().unwrap().to_string();
    assert_eq!(rows[0]["so_den"], 1);
    assert_eq!(rows[0]["tac_gia_ma"], A);
    let shown = json(vanthu(&b).args(["show", &inc]));
    assert_eq!(shown["files"][0]["name"], "cong-van-12.pdf");
    let back = tmp.path().join("back.pdf");
    ok(vanthu(&b).args(["export", &inc]).arg(&back));
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&pdf).unwrap());

    ok(vanthu(&b).args(["axis", "report", &inc, "--status", "03"]));
    ok(vanthu(&b).args([
        "axis",
        "report",
        &inc,
        "--status",
        "04",
        "--reason",
        "Giao Vụ Tổng hợp",
    ]));
    assert_eq!(sync(&b).0, 0);
    assert_eq!(sync(&a).0, 0);
    assert_eq!(statuses(&a, &id), ["01", "03", "04"]);
    ok(vanthu(&b).args(["axis", "report", &inc, "--status", "06"]));
    assert_eq!(sync(&b).0, 0);
    assert_eq!(sync(&a).0, 0);
    assert_eq!(statuses(&a, &id), ["01", "03", "04", "06"]);
    let human = ok(vanthu(&a).args(["status", &id]));
    assert!(
        human.contains("Hoàn thành") && human.contains("Phân công xử lý"),
        "{human}"
    );

    // A revokes; B sees a pending request, accepts it, A gets 15
    ok(vanthu(&a).args(["axis", "revoke", &id, "--reason", "Văn bản có sai sót"]));
    assert_eq!(sync(&a).0, 0);
    let (_, r) = sync(&b);
    assert_eq!(r["received"][0]["outcome"], "request", "{r}");
    let reqs = json(vanthu(&b).args(["axis", "requests"]));
    assert_eq!(reqs[0]["kind"], "revoke");
    assert_eq!(reqs[0]["incoming_id"], inc.as_str());
    ok(vanthu(&b).args([
        "axis",
        "decide",
        reqs[0]["id"].as_str().unwrap(),
        "--accept",
    ]));
    assert_eq!(sync(&b).0, 0);
    assert_eq!(sync(&a).0, 0);
    assert_eq!(statuses(&a, &id), ["01", "03", "04", "06", "15"]);

    // nothing in clear on disk: the subject never appears in either data folder
    for d in [&a, &b] {
        for (p, bytes) in all_files(d) {
            assert!(
                !contains(&bytes, "liên thông văn bản điện tử, đợt".as_bytes()),
                "{}",
                p.display()
            );
        }
    }
    ok(vanthu(&b).args(["audit", "verify"]));
}

/// Runs `vanthu sync --once` on `data`, killing it with SIGKILL after `kill` if given.
fn sync_maybe_killed(data: &Path, kill: Option<Duration>) -> Option<i32> {
    let mut child = vanthu(data)
        .args(["sync", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    if let Some(after) = kill {
        let deadline = Instant::now() + after;
        while Instant::now() < deadline {
            if let Some(st) = child.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let _ = child.wait();
        return None;
    }
    child.wait().unwrap().code()
}

const FAULTS: &str = r#"[{"kind":"drop","probability":0.1,"times":0},
    {"kind":"drop_after","probability":0.1,"times":0},
    {"kind":"error5xx","probability":0.05,"times":0},
    {"kind":"truncate","probability":0.05,"times":0},
    {"op":"sendEdoc","kind":"duplicate","probability":0.3,"times":0},
    {"kind":"delay","delay_ms":30,"probability":0.2,"times":0}]"#;

/// Clean passes on both sides until `done` holds (at most 30 rounds).
fn converge(a: &Path, b: &Path, done: &dyn Fn() -> bool) -> bool {
    for _ in 0..30 {
        let ca = sync_maybe_killed(a, None);
        let cb = sync_maybe_killed(b, None);
        if ca == Some(0) && cb == Some(0) && done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn faults_and_sigkill_never_lose_or_duplicate_a_document() {
    const DOCS: usize = 6;
    let tmp = tempfile::tempdir().unwrap();
    let (srv, a, b) = two_agencies(tmp.path());
    let pdf = tmp.path().join("cv.pdf");
    std::fs::write(&pdf, vec![b'%'; 40_000]).unwrap();
    let ids: Vec<String> = (1..=DOCS).map(|n| new_doc(&a, 100 + n, &pdf)).collect();
    for id in &ids {
        ok(vanthu(&a).args(["send", id, "--to", B]));
    }
    // every kind of fault, at random, for both agencies
    admin(&srv.endpoint, "faults", FAULTS);
    let seed = std::env::var("VANTHU_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("VANTHU_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut killed, mut retry_exits) = (0, 0);
    for _ in 0..30 {
        for d in [&a, &b] {
            // a pass takes ~50–150 ms here: kill anywhere inside it
            let kill = Duration::from_millis(rng.gen_range(5..150));
            match sync_maybe_killed(d, Some(kill)) {
                None => killed += 1,
                Some(10) => retry_exits += 1,
                Some(_) => {}
            }
        }
    }
    eprintln!("killed {killed} syncs, {retry_exits} ended with exit 10");
    assert!(killed >= 4, "the kills must land inside passes ({killed})");
    // faults off: the next clean passes must converge
    admin(&srv.endpoint, "faults/clear", "{}");
    let done = converge(&a, &b, &|| ids.iter().all(|id| statuses(&a, id) == ["01"]));
    assert!(
        done,
        "exchange did not converge; outbox A: {}",
        ok(vanthu(&a).args(["axis", "outbox"]))
    );
    let list = json(vanthu(&b).args(["list", "incoming"]));
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), DOCS, "each document registered exactly once");
    let mut notations: Vec<_> = rows
        .iter()
        .map(|r| r["so_ky_hieu"].as_str().unwrap().to_string())
        .collect();
    notations.sort();
    notations.dedup();
    assert_eq!(notations.len(), DOCS);
    let mut nums: Vec<u64> = rows.iter().map(|r| r["so_den"].as_u64().unwrap()).collect();
    nums.sort();
    assert_eq!(
        nums,
        (1..=DOCS as u64).collect::<Vec<_>>(),
        "số đến without gaps"
    );

    // every later status arrives too, through the same faults and kills
    for r in rows {
        ok(vanthu(&b).args([
            "axis",
            "report",
            r["id"].as_str().unwrap(),
            "--status",
            "03",
        ]));
    }
    admin(&srv.endpoint, "faults", FAULTS);
    for _ in 0..10 {
        for d in [&a, &b] {
            let _ = sync_maybe_killed(d, Some(Duration::from_millis(rng.gen_range(5..150))));
        }
    }
    admin(&srv.endpoint, "faults/clear", "{}");
    let done = converge(&a, &b, &|| {
        ids.iter().all(|id| statuses(&a, id) == ["01", "03"])
    });
    assert!(done, "statuses did not all arrive exactly once");
    assert_eq!(
        json(vanthu(&b).args(["list", "incoming"]))
            .as_array()
            .unwrap()
            .len(),
        DOCS
    );
    ok(vanthu(&b).args(["audit", "verify"]));
    ok(vanthu(&a).args(["audit", "verify"]));
}

fn report_of(check: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(check["report"].as_str().unwrap()).unwrap()
}

#[test]
fn a_signed_pdf_is_validated_on_arrival_and_a_tampered_one_is_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let (_srv, a, b) = two_agencies(tmp.path());
    let k = crate::pdf::pki(tmp.path());
    let plain = tmp.path().join("quyet-dinh.pdf");
    std::fs::write(&plain, crate::pdf::sample_pdf()).unwrap();
    let signed = tmp.path().join("signed").join("quyet-dinh.pdf");
    std::fs::create_dir_all(signed.parent().unwrap()).unwrap();
    ok(vanthu(&a)
        .env("PIN", "1234")
        .args(["pdf", "sign"])
        .arg(&plain)
        .arg(&signed)
        .arg("--p12")
        .arg(k.join("leader.p12"))
        .args(["--pin-env", "PIN", "--reason", "Ban hành"]));
    // the same signed file with one signed byte changed
    let bytes = std::fs::read(&signed).unwrap();
    let at = bytes
        .windows(12)
        .position(|w| w == b"0 0 595 842]")
        .expect("media box");
    let mut bad = bytes.clone();
    bad[at + 10] = b'3';
    let tampered = tmp.path().join("tampered").join("quyet-dinh.pdf");
    std::fs::create_dir_all(tampered.parent().unwrap()).unwrap();
    std::fs::write(&tampered, &bad).unwrap();

    let good_id = new_doc(&a, 21, &signed);
    let bad_id = new_doc(&a, 22, &tampered);
    ok(vanthu(&a).args(["send", &good_id, "--to", B]));
    ok(vanthu(&a).args(["send", &bad_id, "--to", B]));
    assert_eq!(sync(&a).0, 0);

    // B has not trusted the signer's root yet: intact but not trusted; tampered: invalid
    let (code, r) = sync(&b);
    assert_eq!(code, 0, "{r}");
    let got = r["received"].as_array().unwrap();
    assert_eq!(got.len(), 2, "{r}");
    let by_number = |n: &str| {
        got.iter()
            .find(|x| {
                let inc = x["incoming_id"].as_str().unwrap();
                let v = json(vanthu(&b).args(["show", inc]));
                v["so_ky_hieu"].as_str().unwrap().starts_with(n)
            })
            .unwrap()
            .clone()
    };
    let good = by_number("21/");
    let badr = by_number("22/");
    let g = report_of(&good["signatures"][0]);
    assert_eq!(g["signatures"][0]["signer"], "Nguyễn Văn An", "{g}");
    assert_eq!(g["signatures"][0]["intact"], true, "{g}");
    assert_eq!(g["signatures"][0]["trusted"], false, "{g}");
    assert_ne!(good["signatures"][0]["verdict"], "HỢP LỆ");
    assert_eq!(badr["signatures"][0]["verdict"], "KHÔNG HỢP LỆ", "{badr}");
    assert_eq!(
        report_of(&badr["signatures"][0])["signatures"][0]["intact"],
        false
    );
    assert!(
        badr["detail"]
            .as_str()
            .unwrap()
            .contains("chữ ký số quyet-dinh.pdf: KHÔNG HỢP LỆ"),
        "{badr}"
    );
    let bad_inc = badr["incoming_id"].as_str().unwrap();
    let good_inc = good["incoming_id"].as_str().unwrap();
    // the verdict is kept with the document and shown with it
    let shown = ok(vanthu(&b).args(["show", bad_inc]));
    assert!(
        shown.contains("Chữ ký số") && shown.contains("KHÔNG HỢP LỆ"),
        "{shown}"
    );
    assert_eq!(
        run(vanthu(&b).args(["signatures", bad_inc])).status.code(),
        Some(9)
    );

    // the clerk adds the agency's CA and checks again: now the chain is trusted
    let added = json(vanthu(&b).args(["trust", "add"]).arg(k.join("root.pem")));
    assert_eq!(added.as_array().unwrap().len(), 1);
    assert!(
        json(vanthu(&b).args(["trust", "add"]).arg(k.join("root.pem")))
            .as_array()
            .unwrap()
            .is_empty()
    );
    let o = run(vanthu(&b).args(["--json", "signatures", good_inc, "--recheck"]));
    let checks: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let g = report_of(&checks[0]);
    // exit 0 exactly when the verdict is HỢP LỆ (revocation data decides the rest)
    assert_eq!(
        o.status.code() == Some(0),
        checks[0]["verdict"] == "HỢP LỆ",
        "{checks}"
    );
    assert_eq!(g["signatures"][0]["trusted"], true, "{g}");
    assert_eq!(g["signatures"][0]["intact"], true, "{g}");
    let o = run(vanthu(&b).args(["--json", "signatures", bad_inc, "--recheck"]));
    assert_eq!(o.status.code(), Some(9));
    let checks: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(checks[0]["verdict"], "KHÔNG HỢP LỆ");
    // every check is in the audit trail, which still verifies
    ok(vanthu(&b).args(["audit", "verify"]));
}
