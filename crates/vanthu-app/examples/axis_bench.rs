//! Exchange benchmark (issue #7, item 6): N documents end to end between two agencies through
//! the local axis server on loopback, against raw HTTP posts of the same bytes in the same run.
//!
//! ```sh
//! cargo run --release -p vanthu-app --example axis_bench -- [N] [PDF_KIB]
//! ```
//!
//! * **engine**: A's `sync_once` sends N queued packages; B's `sync_once` lists, downloads,
//!   stores, registers (số đến) and acknowledges each one and sends its 01; A's `sync_once`
//!   receives the N statuses. Every step is a durable transaction in an encrypted store.
//! * **raw**: the very same N package bytes, posted by a bare `VxpClient` (`sendEdoc`), then
//!   listed, downloaded and acknowledged by another bare client: no store, no parsing.
//!
//! Peak memory is the process's `VmHWM` (server threads included).

use std::time::Instant;

use vanthu_app::axis::{AxisSettings, OutgoingInput};
use vanthu_app::App;
use vanthu_axis::server::{self, AgencyAccount, ServerConfig};
use vanthu_axis::{ClientConfig, MessageType, Outgoing, Secret, Transport, VxpClient};
use vanthu_store::{Agency, KdfParams, Passphrase};

fn account(code: &str, sys: &str) -> AgencyAccount {
    AgencyAccount {
        code: code.into(),
        name: format!("Cơ quan {code}"),
        system_id: sys.into(),
        secret: format!("secret-{sys}"),
        mail: String::new(),
    }
}

fn kib_status(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn app(dir: &std::path::Path, code: &str) -> App {
    App::init(
        dir,
        &Passphrase::new("benchmark"),
        &Agency {
            name: format!("Cơ quan {code}"),
            code: code.into(),
        },
        KdfParams::default(),
    )
    .expect("store")
}

fn raw_client(endpoint: &str, code: &str, sys: &str) -> VxpClient {
    VxpClient::new(ClientConfig {
        endpoint: endpoint.into(),
        system_id: sys.into(),
        secret: Secret::new(format!("secret-{sys}")),
        organ_id: code.into(),
        hash_padded: false,
        timeout: std::time::Duration::from_secs(60),
        tls_ca_pem: None,
        proxy: None,
    })
    .expect("client")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let kib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(32);
    let (a_code, b_code, c_code, d_code) = (
        "000.00.00.H29",
        "000.00.00.G22",
        "000.00.00.H41",
        "000.00.00.H14",
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let srv = server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: tmp.path().join("axis"),
        agencies: vec![
            account(a_code, "00.01.W00"),
            account(b_code, "00.02.W00"),
            account(c_code, "00.03.W00"),
            account(d_code, "00.04.W00"),
        ],
        tls: None,
        admin_token: None,
    })
    .expect("server");
    let mut a = app(&tmp.path().join("a"), a_code);
    let mut b = app(&tmp.path().join("b"), b_code);
    for (x, code, sys) in [(&mut a, a_code, "00.01.W00"), (&mut b, b_code, "00.02.W00")] {
        x.axis_configure(&AxisSettings::new(
            &srv.endpoint(),
            code,
            sys,
            &format!("secret-{sys}"),
        ))
        .unwrap();
    }
    let pdf = tmp.path().join("cong-van.pdf");
    let body: Vec<u8> = (0..kib * 1024).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&pdf, [b"%PDF-1.4\n".as_slice(), &body].concat()).unwrap();
    let rss0 = kib_status("VmRSS:").unwrap_or(0);

    eprintln!("preparing {n} outgoing documents of {kib} KiB…");
    let t = Instant::now();
    for i in 1..=n {
        let row = a
            .create_outgoing(&OutgoingInput {
                so_ky_hieu: format!("{i}/UBND-VP"),
                trich_yeu: format!("Về việc triển khai liên thông văn bản điện tử, văn bản số {i}"),
                ngay_van_ban: Some("2026-12-01".into()),
                files: vec![pdf.clone()],
                ..Default::default()
            })
            .unwrap();
        a.send_outgoing(&row.id, &[b_code.to_string()]).unwrap();
    }
    let prepare = t.elapsed().as_secs_f64();

    eprintln!("engine: send, receive + register + ack + 01, receive statuses…");
    let ca = a.axis_client().unwrap();
    let cb = b.axis_client().unwrap();
    let t = Instant::now();
    let r1 = a.sync_once(&ca).unwrap();
    let t_send = t.elapsed().as_secs_f64();
    let r2 = b.sync_once(&cb).unwrap();
    let t_recv = t.elapsed().as_secs_f64() - t_send;
    let r3 = a.sync_once(&ca).unwrap();
    let engine = t.elapsed().as_secs_f64();
    assert_eq!(r1.sent.len(), n, "{:?}", r1.failed.first());
    assert_eq!(
        r2.received
            .iter()
            .filter(|x| x.outcome == "registered")
            .count(),
        n
    );
    assert_eq!(r2.sent.len(), n);
    assert_eq!(r3.received.len(), n);
    assert_eq!(b.list_incoming(None).unwrap().len(), n);

    let hwm_engine = kib_status("VmHWM:").unwrap_or(0);
    // the same bytes, raw: each streamed from A's outbox blob as the engine does (the
    // decryption counts in the raw time too)
    let rows: Vec<_> = a
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|o| o.message_type == "edoc")
        .collect();
    let pkg_bytes: i64 = rows.iter().map(|o| o.size).sum();
    let rc = raw_client(&srv.endpoint(), c_code, "00.03.W00");
    let rd = raw_client(&srv.endpoint(), d_code, "00.04.W00");
    eprintln!("raw: sendEdoc, list, getEdoc, updateStatus of the same bytes…");
    let to = vec![d_code.to_string()];
    let t = Instant::now();
    for o in &rows {
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(&o.sha256, &mut sha256).unwrap();
        rc.send(Outgoing {
            message_type: MessageType::Edoc,
            to: &to,
            body: Box::new(a.store().blobs().open_blob(&o.blob_id).unwrap()),
            size: o.size as u64,
            sha256,
        })
        .unwrap();
    }
    let raw_send = t.elapsed().as_secs_f64();
    let items = rd.list_pending(MessageType::Edoc).unwrap();
    assert_eq!(items.len(), n);
    for it in &items {
        let got = rd.download(&it.doc_id, &mut std::io::sink()).unwrap();
        assert!(got > 0);
        rd.ack(&it.doc_id, true).unwrap();
    }
    let raw = t.elapsed().as_secs_f64();

    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| documents | {n} (PDF {kib} KiB, package {:.1} KiB on average) |",
        pkg_bytes as f64 / n as f64 / 1024.0
    );
    println!("| prepare (create outgoing + queue, not in the exchange time) | {prepare:.2} s |");
    println!("| engine end to end (send → register + ack + 01 → statuses back) | {engine:.2} s = **{:.0} docs/s** |", n as f64 / engine);
    println!("| of which A sends | {t_send:.2} s |");
    println!("| of which B receives, registers, acks, sends 01 | {t_recv:.2} s |");
    println!(
        "| of which A receives the 01s | {:.2} s |",
        engine - t_send - t_recv
    );
    println!("| raw HTTP, same bytes (send, list, get, ack) | {raw:.2} s = {:.0} docs/s (send alone {raw_send:.2} s) |", n as f64 / raw);
    println!(
        "| engine / raw | **{:.1}×** (the engine also carries N status messages back) |",
        engine / raw
    );
    println!(
        "| peak memory after the engine phase (VmHWM, whole process incl. server and both stores) | {:.1} MiB (RSS before the exchange {:.1} MiB) |",
        hwm_engine as f64 / 1024.0,
        rss0 as f64 / 1024.0
    );
    srv.stop();
}
