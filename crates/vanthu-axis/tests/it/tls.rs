//! HTTPS: the client against the local axis server behind TLS, with certificates from the
//! project's test generator (`certs/test-tls.sh`): trusted through an extra CA, refused when
//! the certificate is unknown, self-signed or for another host.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vanthu_axis::server::{self, RunningServer, ServerConfig, TlsIdentity};
use vanthu_axis::{AxisError, ClientConfig, MessageType, Outgoing, Secret, Transport, VxpClient};

use crate::server::{account, dl, A, B, PKG};

/// Runs the generator once per test into its own folder.
fn certs(dir: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs/test-tls.sh");
    let out = dir.join("tls");
    let st = std::process::Command::new("bash")
        .arg(&script)
        .arg(&out)
        .status()
        .expect("bash");
    assert!(st.success(), "certs/test-tls.sh failed");
    out
}

fn start_tls(dir: &Path, certs: &Path, name: &str) -> RunningServer {
    let tls = TlsIdentity::from_files(
        &certs.join(format!("{name}.pem")),
        &certs.join(format!("{name}.key.pem")),
    )
    .unwrap();
    server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("axis"),
        agencies: vec![
            account(A, "00.01.W00", "bí-mật-a"),
            account(B, "00.02.W00", "secret-b"),
        ],
        tls: Some(tls),
        admin_token: None,
    })
    .unwrap()
}

fn client(endpoint: &str, organ: &str, sys: &str, secret: &str, ca: Option<&Path>) -> VxpClient {
    VxpClient::new(ClientConfig {
        endpoint: endpoint.into(),
        system_id: sys.into(),
        secret: Secret::new(secret),
        organ_id: organ.into(),
        hash_padded: false,
        timeout: Duration::from_secs(10),
        tls_ca_pem: ca.map(|p| std::fs::read(p).unwrap()),
        proxy: None,
    })
    .unwrap()
}

#[test]
fn a_package_travels_over_https_with_a_private_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let c = certs(tmp.path());
    let srv = start_tls(tmp.path(), &c, "server");
    let ep = srv.endpoint();
    assert!(ep.starts_with("https://127.0.0.1:"), "{ep}");
    let ca = c.join("ca.pem");
    let a = client(&ep, A, "00.01.W00", "bí-mật-a", Some(&ca));
    let b = client(&ep, B, "00.02.W00", "secret-b", Some(&ca));
    let to = vec![B.to_string()];
    let doc = a
        .send(Outgoing::from_bytes(MessageType::Edoc, &to, PKG.to_vec()))
        .unwrap();
    let items = b.list_pending(MessageType::Edoc).unwrap();
    assert_eq!(items.len(), 1);
    // the streamed download survives TLS framing byte for byte
    assert_eq!(dl(&b, &items[0].doc_id).unwrap(), PKG);
    b.ack(&items[0].doc_id, true).unwrap();
    let rep = a.delivery_report(MessageType::Edoc, &doc).unwrap();
    assert_eq!(rep[0].receive_status, "done");

    // the HMAC is still checked behind TLS
    let bad = client(&ep, A, "00.01.W00", "wrong", Some(&ca));
    assert!(matches!(bad.directory(), Err(AxisError::Fail { code, .. }) if code == "1002"));

    // plain HTTP to the HTTPS port fails cleanly and the server keeps serving
    let plain = client(
        &ep.replace("https://", "http://"),
        A,
        "00.01.W00",
        "bí-mật-a",
        None,
    );
    assert!(plain.directory().is_err());
    assert_eq!(a.directory().unwrap().len(), 2);
}

fn refused(e: AxisError) -> String {
    let m = e.to_string();
    assert!(matches!(e, AxisError::Transport(_)), "{m}");
    assert!(e.is_retryable(), "{m}");
    assert!(m.contains("chứng thư TLS không tin cậy"), "{m}");
    m
}

#[test]
fn untrusted_self_signed_and_misnamed_certificates_are_refused_with_a_plain_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let c = certs(tmp.path());
    let to = vec![B.to_string()];

    // a CA the client was not told about: nothing is sent
    let srv = start_tls(tmp.path(), &c, "server");
    let a = client(&srv.endpoint(), A, "00.01.W00", "bí-mật-a", None);
    refused(
        a.send(Outgoing::from_bytes(MessageType::Edoc, &to, PKG.to_vec()))
            .unwrap_err(),
    );
    let b = client(
        &srv.endpoint(),
        B,
        "00.02.W00",
        "secret-b",
        Some(&c.join("ca.pem")),
    );
    assert!(b.list_pending(MessageType::Edoc).unwrap().is_empty());
    drop(srv);

    // self-signed although its name is right; under the trusted CA but issued for another host
    for name in ["self", "wrongname"] {
        let tmp = tempfile::tempdir().unwrap();
        let srv = start_tls(tmp.path(), &c, name);
        let a = client(
            &srv.endpoint(),
            A,
            "00.01.W00",
            "bí-mật-a",
            Some(&c.join("ca.pem")),
        );
        refused(a.directory().unwrap_err());
    }
}

#[test]
fn a_bad_server_key_is_a_clear_configuration_error() {
    let tmp = tempfile::tempdir().unwrap();
    let c = certs(tmp.path());
    // certificate and key that do not belong together
    let tls = TlsIdentity::from_files(&c.join("server.pem"), &c.join("ca.key.pem")).unwrap();
    let e = server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: tmp.path().join("axis"),
        agencies: vec![],
        tls: Some(tls),
        admin_token: None,
    })
    .err()
    .expect("mismatched key refused");
    assert!(
        matches!(e, AxisError::Config(ref m) if m.contains("TLS")),
        "{e}"
    );
    // a missing file names the file
    let e = TlsIdentity::from_files(&c.join("nope.pem"), &c.join("server.key.pem")).unwrap_err();
    assert!(e.to_string().contains("nope.pem"), "{e}");
}
