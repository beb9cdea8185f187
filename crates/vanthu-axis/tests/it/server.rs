//! The client against the local axis server over real HTTP on loopback.

use std::time::Duration;

use vanthu_axis::server::{self, AgencyAccount, RunningServer, ServerConfig};
use vanthu_axis::{AxisError, ClientConfig, MessageType, Outgoing, Secret, Transport, VxpClient};

pub(crate) const A: &str = "000.00.00.H29";
pub(crate) const B: &str = "000.00.00.G22";

pub(crate) fn account(code: &str, sys: &str, secret: &str) -> AgencyAccount {
    AgencyAccount {
        code: code.into(),
        name: format!("Cơ quan {code}"),
        system_id: sys.into(),
        secret: secret.into(),
        mail: String::new(),
    }
}

fn start(dir: &std::path::Path) -> RunningServer {
    server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        agencies: vec![
            account(A, "00.01.W00", "bí-mật-a"),
            account(B, "00.02.W00", "secret-b"),
        ],
        tls: None,
        admin_token: None,
    })
    .unwrap()
}

fn client(srv: &RunningServer, organ: &str, sys: &str, secret: &str) -> VxpClient {
    VxpClient::new(ClientConfig {
        endpoint: srv.endpoint(),
        system_id: sys.into(),
        secret: Secret::new(secret),
        organ_id: organ.into(),
        hash_padded: false,
        timeout: Duration::from_secs(10),
        tls_ca_pem: None,
        proxy: None,
    })
    .unwrap()
}

fn admin(srv: &RunningServer, path: &str, body: &str) -> serde_json::Value {
    let c = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let r = if body.is_empty() {
        c.get(format!("{}/admin/{path}", srv.endpoint())).send()
    } else {
        c.post(format!("{}/admin/{path}", srv.endpoint()))
            .body(body.to_string())
            .send()
    }
    .unwrap();
    serde_json::from_slice(&r.bytes().unwrap()).unwrap()
}

pub(crate) fn dl(c: &VxpClient, id: &str) -> Result<Vec<u8>, AxisError> {
    let mut v = Vec::new();
    c.download(id, &mut v)?;
    Ok(v)
}

pub(crate) const PKG: &[u8] =
    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<edXML>v\xc4\x83n b\xe1\xba\xa3n</edXML>";

#[test]
fn send_list_get_ack_and_delivery_report() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(dir.path());
    let a = client(&srv, A, "00.01.W00", "bí-mật-a");
    let b = client(&srv, B, "00.02.W00", "secret-b");

    let dir_list = a.directory().unwrap();
    assert_eq!(dir_list.len(), 2);
    assert!(dir_list.iter().any(|e| e.code == B));

    let to = vec![B.to_string()];
    let doc = a
        .send(Outgoing::from_bytes(MessageType::Edoc, &to, PKG.to_vec()))
        .unwrap();
    assert_eq!(doc.len(), 24);
    assert_eq!(b.count_pending(MessageType::Edoc).unwrap(), 1);
    assert!(b.list_pending(MessageType::Status).unwrap().is_empty());
    let items = b.list_pending(MessageType::Edoc).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].from, A);
    assert_eq!(dl(&b, &items[0].doc_id).unwrap(), PKG);
    // the sender cannot read the recipient's copy
    assert!(matches!(
        dl(&a, &items[0].doc_id),
        Err(AxisError::Fail { .. })
    ));

    let rep = a.delivery_report(MessageType::Edoc, &doc).unwrap();
    assert_eq!(rep.len(), 1);
    assert_eq!(rep[0].to_code, B);
    assert_eq!(rep[0].receive_status, "pending");

    b.ack(&items[0].doc_id, true).unwrap();
    b.ack(&items[0].doc_id, true).unwrap(); // acks are idempotent
    assert!(b.list_pending(MessageType::Edoc).unwrap().is_empty());
    let rep = a.delivery_report(MessageType::Edoc, &doc).unwrap();
    assert_eq!(rep[0].receive_status, "done");
    assert!(!rep[0].received_time.is_empty());
}

#[test]
fn bad_signatures_are_rejected_with_the_protocol_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(dir.path());
    // wrong secret
    let bad = client(&srv, A, "00.01.W00", "wrong");
    match bad.directory() {
        Err(AxisError::Fail { code, desc }) => {
            assert_eq!(code, "1002");
            assert!(desc.contains("HMAC"), "{desc}");
        }
        other => panic!("expected FAIL, got {other:?}"),
    }
    // unknown system
    let unknown = client(&srv, A, "00.09.W00", "x");
    assert!(matches!(unknown.directory(), Err(AxisError::Fail { code, .. }) if code == "1003"));

    // a plain header changed after signing, an unsigned extra parameter, no signature at all
    let good = client(&srv, B, "00.02.W00", "secret-b");
    let signed = good.sign_call("application/json", &[("docId", "abc"), ("status", "done")]);
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let send = |tamper: &dyn Fn(
        reqwest::blocking::RequestBuilder,
    ) -> reqwest::blocking::RequestBuilder,
                skip: &str| {
        let mut r = http
            .post(format!("{}/updateStatus", srv.endpoint()))
            .header("Content-Type", "application/json");
        for (k, v) in &signed.headers {
            if k != skip {
                r = r.header(k.as_str(), v.as_str());
            }
        }
        r = r
            .header("XroadVnpt-sign-header", signed.sign_header.as_str())
            .header("XroadVnpt-sign-header-key", signed.sign_header_key.as_str())
            .header("XroadVnpt-hash-header", signed.hash_header.as_str());
        let resp = tamper(r).body("{}").send().unwrap();
        let status = resp.status().as_u16();
        let v: serde_json::Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
        (status, v)
    };
    let (st, v) = send(&|r| r, "XroadVnpt-docId");
    assert_eq!(
        (st, v["status"].as_str(), v["ErrorCode"].as_str()),
        (401, Some("FAIL"), Some("1004"))
    );
    let (st, v) = send(&|r| r.header("XroadVnpt-to", "[\"x\"]"), "");
    assert_eq!((st, v["ErrorCode"].as_str()), (401, Some("1004")));
    // the untampered request passes signing and fails only on the unknown docId
    let (st, v) = send(&|r| r, "");
    assert_eq!((st, v["ErrorCode"].as_str()), (200, Some("2005")));
    let resp = http
        .post(format!("{}/getAgenciesList", srv.endpoint()))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let v: serde_json::Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
    assert_eq!(v["ErrorCode"], "1001");
    assert!(v["ErrorDesc"].as_str().unwrap().contains("Thiếu"));
}

#[test]
fn send_checks_sender_recipients_and_hash_file() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(dir.path());
    let a = client(&srv, A, "00.01.W00", "bí-mật-a");
    let to = vec!["000.00.00.H99".to_string()];
    let r = a.send(Outgoing::from_bytes(MessageType::Edoc, &to, PKG.to_vec()));
    assert!(matches!(r, Err(AxisError::Fail { code, .. }) if code == "2002"));
    // `from` that is not the caller's agency
    let liar = client(&srv, B, "00.01.W00", "bí-mật-a");
    let to = vec![A.to_string()];
    let r = liar.send(Outgoing::from_bytes(MessageType::Edoc, &to, PKG.to_vec()));
    assert!(matches!(r, Err(AxisError::Fail { code, .. }) if code == "2004"));
    // a body that does not match hash-file
    let signed_hash = vanthu_axis::sign::hash_file(b"other", false);
    let r = a.call(
        "sendEdoc",
        &[
            ("from", A),
            ("servicetype", "eDoc"),
            ("messagetype", "edoc"),
            ("to", "[\"000.00.00.G22\"]"),
            ("hash-file", &signed_hash),
        ],
        "application/octet-stream",
        PKG.to_vec(),
    );
    assert!(matches!(r, Err(AxisError::Fail { code, .. }) if code == "2003"));
}

#[test]
fn queues_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let to = vec![B.to_string()];
    let doc = {
        let srv = start(dir.path());
        let a = client(&srv, A, "00.01.W00", "bí-mật-a");
        let d = a
            .send(Outgoing::from_bytes(MessageType::Status, &to, PKG.to_vec()))
            .unwrap();
        srv.stop();
        d
    };
    let srv = start(dir.path());
    let b = client(&srv, B, "00.02.W00", "secret-b");
    let items = b.list_pending(MessageType::Status).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(dl(&b, &items[0].doc_id).unwrap(), PKG);
    let a = client(&srv, A, "00.01.W00", "bí-mật-a");
    assert_eq!(
        a.delivery_report(MessageType::Status, &doc).unwrap().len(),
        1
    );
}

#[test]
fn injected_faults() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(dir.path());
    let a = client(&srv, A, "00.01.W00", "bí-mật-a");
    let b = client(&srv, B, "00.02.W00", "secret-b");
    let to = vec![B.to_string()];
    let out = || Outgoing::from_bytes(MessageType::Edoc, &to, PKG.to_vec());

    admin(&srv, "faults", r#"{"op":"getAgenciesList","kind":"drop"}"#);
    let e = a.directory().unwrap_err();
    assert!(
        matches!(e, AxisError::Transport(_)) && e.is_retryable(),
        "{e:?}"
    );
    assert!(a.directory().is_ok(), "a fault fires `times` times only");

    admin(
        &srv,
        "faults",
        r#"{"op":"getAgenciesList","kind":"error5xx","status":502}"#,
    );
    let e = a.directory().unwrap_err();
    assert!(
        matches!(e, AxisError::BadAnswer(ref m) if m.contains("502")),
        "{e:?}"
    );

    admin(
        &srv,
        "faults",
        r#"{"op":"getAgenciesList","kind":"truncate"}"#,
    );
    assert!(matches!(a.directory(), Err(AxisError::BadAnswer(_))));

    // the send is applied but its answer is lost: the caller cannot tell
    admin(&srv, "faults", r#"{"op":"sendEdoc","kind":"drop_after"}"#);
    assert!(matches!(a.send(out()), Err(AxisError::Transport(_))));
    assert_eq!(b.list_pending(MessageType::Edoc).unwrap().len(), 1);

    admin(&srv, "faults", r#"{"op":"sendEdoc","kind":"duplicate"}"#);
    a.send(out()).unwrap();
    assert_eq!(b.list_pending(MessageType::Edoc).unwrap().len(), 3);

    admin(
        &srv,
        "faults",
        r#"{"op":"getEdoc","kind":"delay","delay_ms":300}"#,
    );
    let t = std::time::Instant::now();
    let first = &b.list_pending(MessageType::Edoc).unwrap()[0];
    assert_eq!(dl(&b, &first.doc_id).unwrap(), PKG);
    assert!(t.elapsed() >= Duration::from_millis(300));

    let stats = admin(&srv, "stats", "");
    assert_eq!(stats["faults_fired"], 6);
    assert_eq!(stats["pending"][B], 3);
}

#[test]
fn endpoints_must_be_http_or_https() {
    let mk = |e: &str, ca: Option<Vec<u8>>| {
        VxpClient::new(ClientConfig {
            endpoint: e.into(),
            system_id: "00.01.W00".into(),
            secret: Secret::new("x"),
            organ_id: A.into(),
            hash_padded: false,
            timeout: Duration::from_secs(1),
            tls_ca_pem: ca,
            proxy: None,
        })
    };
    assert!(mk("http://127.0.0.1:8080/XrdAdapter/adapter", None).is_ok());
    assert!(mk("https://truc.example/adapter", None).is_ok());
    assert!(mk("ftp://x", None).is_err());
    // a CA file that is not PEM is refused when configured, not at the first sync
    let e = mk(
        "https://truc.example/adapter",
        Some(b"not a certificate".to_vec()),
    )
    .unwrap_err();
    assert!(
        matches!(e, AxisError::Config(ref m) if m.contains("PEM")),
        "{e}"
    );
    // the secret never shows in Debug output
    let c = mk("http://127.0.0.1:1", None).unwrap();
    assert!(!format!("{c:?}").contains("\"x\""));
}

#[test]
fn admin_routes_need_the_token_when_one_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let srv = server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        agencies: vec![account(A, "00.01.W00", "bí-mật-a")],
        tls: None,
        admin_token: Some("mã-quản-trị-thử".into()),
    })
    .unwrap();
    let c = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let fault = r#"[{"op":"*","kind":"drop","times":0}]"#;
    for token in [None, Some("sai"), Some("mã-quản-trị-thử-")] {
        let mut r = c
            .post(format!("{}/admin/faults", srv.endpoint()))
            .body(fault);
        if let Some(t) = token {
            r = r.header(server::ADMIN_HEADER, t);
        }
        let r = r.send().unwrap();
        assert_eq!(r.status().as_u16(), 401, "{token:?}");
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().unwrap()).unwrap();
        assert_eq!(v["status"], "FAIL");
        assert!(v["ErrorDesc"].as_str().unwrap().contains("X-Vanthu-Admin"));
    }
    // no fault was installed: the protocol still answers
    let a = client(&srv, A, "00.01.W00", "bí-mật-a");
    assert_eq!(a.directory().unwrap().len(), 1);
    let r = c
        .get(format!("{}/admin/stats", srv.endpoint()))
        .header(server::ADMIN_HEADER, "mã-quản-trị-thử")
        .send()
        .unwrap();
    assert!(r.status().is_success());
}

/// A forward proxy on loopback that passes absolute-form requests on in origin form (and
/// CONNECT tunnels), recording each request line and its `Proxy-Authorization`.
fn start_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if c.read(&mut b).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                log.lock().unwrap().push(head.clone());
                let line = head.lines().next().unwrap_or("").to_string();
                let target = line.split(' ').nth(1).unwrap_or("").to_string();
                let rest = target.strip_prefix("http://").unwrap_or(&target);
                let (hostport, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                let mut up = TcpStream::connect(hostport).unwrap();
                up.write_all(head.replacen(&target, path, 1).as_bytes())
                    .unwrap();
                let (mut c2, mut up2) = (c.try_clone().unwrap(), up.try_clone().unwrap());
                let t = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut up2);
                });
                let _ = std::io::copy(&mut up, &mut c);
                let _ = c.shutdown(std::net::Shutdown::Both);
                let _ = t.join();
            });
        }
    });
    (url, seen)
}

/// An agency behind a proxy: with `ClientConfig::proxy` every call goes through it (in
/// absolute form, with the proxy's login from the URL), and the exchange works as direct.
#[test]
fn the_axis_is_reached_through_a_configured_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(dir.path());
    let (proxy, seen) = start_proxy();
    let a = VxpClient::new(ClientConfig {
        proxy: Some(proxy.replace("http://", "http://van%20thu:b%C3%AD@")),
        ..client(&srv, A, "00.01.W00", "bí-mật-a").config().clone()
    })
    .unwrap();
    let entries = a.directory().unwrap();
    assert_eq!(entries.len(), 2);
    let heads = seen.lock().unwrap().clone();
    assert!(!heads.is_empty());
    let basic = "dmFuIHRodTpiw60="; // base64("van thu:bí")
    for h in &heads {
        assert!(
            h.contains(&format!(" {}", srv.endpoint())),
            "absolute form: {h}"
        );
        assert!(
            h.contains(&format!("proxy-authorization: Basic {basic}"))
                || h.contains(&format!("Proxy-Authorization: Basic {basic}")),
            "{h}"
        );
    }
}
