//! Two agencies exchange documents through the local axis server over loopback.

use std::path::Path;

use vanthu_app::axis::{AxisSettings, OutgoingInput};
use vanthu_app::App;
use vanthu_axis::server::{self, AgencyAccount, RunningServer, ServerConfig};
use vanthu_store::{Agency, KdfParams, Passphrase};

const A: &str = "000.00.00.H29";
const B: &str = "000.00.00.G22";

fn agency_app(dir: &Path, code: &str, name: &str) -> App {
    App::init(
        dir,
        &Passphrase::new("kiểm thử"),
        &Agency {
            name: name.into(),
            code: code.into(),
        },
        KdfParams {
            m_kib: 1024,
            t: 1,
            p: 1,
        },
    )
    .unwrap()
}

struct World {
    _dirs: Vec<tempfile::TempDir>,
    srv: RunningServer,
    a: App,
    b: App,
    pdf: std::path::PathBuf,
}

fn world() -> World {
    let sd = tempfile::tempdir().unwrap();
    let srv = server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: sd.path().to_path_buf(),
        agencies: vec![
            AgencyAccount {
                code: A.into(),
                name: "UBND tỉnh Hòa Bình".into(),
                system_id: "00.01.W00".into(),
                secret: "sa".into(),
                mail: String::new(),
            },
            AgencyAccount {
                code: B.into(),
                name: "Văn phòng Chính phủ".into(),
                system_id: "00.02.W00".into(),
                secret: "sb".into(),
                mail: String::new(),
            },
        ],
        tls: None,
        admin_token: None,
    })
    .unwrap();
    let da = tempfile::tempdir().unwrap();
    let db = tempfile::tempdir().unwrap();
    let mut a = agency_app(da.path(), A, "UBND tỉnh Hòa Bình");
    let mut b = agency_app(db.path(), B, "Văn phòng Chính phủ");
    for (app, code, sys, sec) in [
        (&mut a, A, "00.01.W00", "sa"),
        (&mut b, B, "00.02.W00", "sb"),
    ] {
        let mut s = AxisSettings::new(&srv.endpoint(), code, sys, sec);
        s.retry_base_ms = 1;
        s.retry_cap_ms = 5;
        app.axis_configure(&s).unwrap();
    }
    let pdf = da.path().join("cong-van.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n% c\xc3\xb4ng v\xc4\x83n\n%%EOF\n").unwrap();
    World {
        _dirs: vec![sd, da, db],
        srv,
        a,
        b,
        pdf,
    }
}

fn sync(app: &mut App) -> vanthu_app::axis::SyncReport {
    let c = app.axis_client().unwrap();
    app.sync_once(&c).unwrap()
}

fn admin(srv: &RunningServer, body: &str) {
    let c = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let r = c
        .post(format!("{}/admin/faults", srv.endpoint()))
        .body(body.to_string())
        .send()
        .unwrap();
    assert!(r.status().is_success());
}

fn outgoing(w: &mut World, number: &str) -> String {
    w.a.create_outgoing(&OutgoingInput {
        so_ky_hieu: format!("{number}/UBND-VP"),
        trich_yeu: "Về việc triển khai liên thông văn bản điện tử".into(),
        ngay_van_ban: Some("2026-12-01".into()),
        nguoi_ky: Some("Nguyễn Văn Minh".into()),
        files: vec![w.pdf.clone()],
        ..Default::default()
    })
    .unwrap()
    .id
}

#[test]
fn two_agencies_document_and_statuses() {
    let mut w = world();
    let id = outgoing(&mut w, "12");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    let r = sync(&mut w.a);
    assert_eq!(r.sent.len(), 1, "{r:?}");

    let r = sync(&mut w.b);
    assert_eq!(r.received.len(), 1, "{r:?}");
    let got = &r.received[0];
    assert_eq!(got.outcome, "registered");
    assert_eq!(got.so_den, Some(1));
    assert_eq!(r.sent.len(), 1, "01 leaves in the same pass");
    assert_eq!(r.sent[0].status_code.as_deref(), Some("01"));
    let inc = got.incoming_id.clone().unwrap();
    let doc = w.b.show(&inc).unwrap();
    assert_eq!(doc.row.kenh, "truc-lien-thong");
    assert_eq!(doc.files.len(), 1);
    assert_eq!(doc.files[0].name, "cong-van.pdf");

    let e = w.b.axis_report(&inc, "04", None).unwrap_err();
    assert!(e.to_string().contains("03"), "assign before accept: {e}");
    for code in ["03", "04", "06"] {
        w.b.axis_report(&inc, code, None).unwrap();
    }
    assert!(
        w.b.axis_report(&inc, "02", Some("Gửi nhầm")).is_err(),
        "returned after completion"
    );
    let r = sync(&mut w.b);
    assert_eq!(r.sent.len(), 3);
    let r = sync(&mut w.a);
    assert_eq!(r.received.len(), 4, "{r:?}");
    let h = w.a.exchange_status(&id).unwrap();
    assert_eq!(h.recipients.len(), 1);
    assert_eq!(h.recipients[0].organ_id, B);
    assert_eq!(h.recipients[0].delivery, "sent");
    assert_eq!(h.recipients[0].axis_receive_status.as_deref(), Some("done"));
    assert!(h.recipients[0].axis_received_time.is_some());
    let codes: Vec<_> = h.recipients[0]
        .statuses
        .iter()
        .map(|s| s.code.as_str())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, ["01", "03", "04", "06"]);
    assert_eq!(h.recipients[0].statuses[0].code, "01");
    assert!(w.b.verify_audit().unwrap().ok());
    // the directory was cached by sync: an unknown recipient is refused before anything is queued
    assert_eq!(w.a.directory().unwrap().len(), 2);
    let e =
        w.a.send_outgoing(&id, &["000.00.00.H99".to_string()])
            .unwrap_err();
    assert!(e.to_string().contains("danh bạ"), "{e}");
}

#[test]
fn secret_documents_are_refused() {
    let mut w = world();
    let id =
        w.a.create_outgoing(&OutgoingInput {
            so_ky_hieu: "7/UBND-VP".into(),
            trich_yeu: "Kế hoạch bảo vệ".into(),
            do_mat: Some("mat".into()),
            ..Default::default()
        })
        .unwrap()
        .id;
    let e = w.a.send_outgoing(&id, &[B.to_string()]).unwrap_err();
    assert!(e.to_string().contains("văn bản mật không được gửi"), "{e}");
    assert!(w.a.outbox().unwrap().is_empty());
}

#[test]
fn faults_never_lose_or_duplicate() {
    let mut w = world();
    // every send of A is delivered twice; B's first ack and first download are lost;
    // A's first send is applied but its answer is lost (retried with identical bytes)
    admin(
        &w.srv,
        r#"[{"op":"sendEdoc","kind":"drop_after","agency":"000.00.00.H29"},
            {"op":"sendEdoc","kind":"duplicate","times":0,"agency":"000.00.00.H29"},
            {"op":"updateStatus","kind":"drop_after"},
            {"op":"getEdoc","kind":"truncate"},
            {"op":"getReceivedEdocList","kind":"error5xx","agency":"000.00.00.G22"}]"#,
    );
    let id = outgoing(&mut w, "13");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    let mut registered = 0;
    for _ in 0..10 {
        std::thread::sleep(std::time::Duration::from_millis(10));
        let ra = sync(&mut w.a);
        let rb = sync(&mut w.b);
        registered += rb
            .received
            .iter()
            .filter(|a| a.outcome == "registered")
            .count();
        if ra.failed.is_empty()
            && rb.failed.is_empty()
            && !w.a.exchange_status(&id).unwrap().recipients[0]
                .statuses
                .is_empty()
        {
            break;
        }
    }
    assert_eq!(registered, 1);
    assert_eq!(
        w.b.list_incoming(None).unwrap().len(),
        1,
        "registered exactly once"
    );
    let h = w.a.exchange_status(&id).unwrap();
    let codes: Vec<_> = h.recipients[0]
        .statuses
        .iter()
        .map(|s| s.code.as_str())
        .collect();
    assert_eq!(codes, ["01"], "one 01 however many copies arrived");
    // announced exactly once too, however many copies and lost acks
    let n = w.b.notifications(true, 100).unwrap();
    assert_eq!(n.iter().filter(|n| n.kind == "arrival").count(), 1, "{n:?}");
    let n = w.a.notifications(true, 100).unwrap();
    assert_eq!(n.iter().filter(|n| n.kind == "status").count(), 1, "{n:?}");
}

#[test]
fn arrivals_statuses_and_requests_are_announced_until_seen() {
    let mut w = world();
    assert!(w.b.notifications(false, 10).unwrap().is_empty());
    let id = outgoing(&mut w, "41");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    sync(&mut w.a);
    let r = sync(&mut w.b);
    let inc = r.received[0].incoming_id.clone().unwrap();
    let n = w.b.notifications(false, 10).unwrap();
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0].kind, "arrival");
    assert_eq!(n[0].document_id.as_deref(), Some(inc.as_str()));
    // the sender is named as the directory knows it
    assert!(n[0].title.contains("UBND tỉnh Hòa Bình"), "{}", n[0].title);
    assert!(
        n[0].body.contains("41/UBND-VP") || n[0].body.contains("liên thông"),
        "{}",
        n[0].body
    );
    assert_eq!(w.b.unread_notifications().unwrap(), 1);

    // the sender hears 01 and 03
    w.b.axis_report(&inc, "03", None).unwrap();
    sync(&mut w.b);
    sync(&mut w.a);
    let n = w.a.notifications(false, 10).unwrap();
    let codes: Vec<_> = n.iter().map(|n| n.title.clone()).collect();
    assert_eq!(n.len(), 2, "{codes:?}");
    assert!(n
        .iter()
        .all(|n| n.kind == "status" && n.document_id.as_deref() == Some(id.as_str())));
    assert!(codes.iter().any(|t| t.contains(": 03 ")), "{codes:?}");

    // a revoke is a request the clerk must decide
    w.a.revoke_outgoing(&id, "Sai sót trích yếu").unwrap();
    sync(&mut w.a);
    sync(&mut w.b);
    let n = w.b.notifications(false, 10).unwrap();
    assert_eq!(n.len(), 2);
    assert_eq!(n[0].kind, "request");
    assert!(n[0].title.contains("thu hồi"), "{}", n[0].title);
    assert!(n[0].body.contains("Sai sót trích yếu"), "{}", n[0].body);

    // seen: one by id, then the rest
    assert_eq!(
        w.b.mark_notifications_read(Some(&[n[1].id.clone()]))
            .unwrap(),
        1
    );
    assert_eq!(w.b.unread_notifications().unwrap(), 1);
    assert_eq!(w.b.mark_notifications_read(None).unwrap(), 1);
    assert!(w.b.notifications(false, 10).unwrap().is_empty());
    let all = w.b.notifications(true, 10).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|n| n.read_at.is_some()));
}

#[test]
fn revoke_is_a_pending_request_answered_with_15() {
    let mut w = world();
    let id = outgoing(&mut w, "14");
    assert!(w.a.revoke_outgoing(&id, "Sai sót").is_err(), "not sent yet");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    sync(&mut w.a);
    sync(&mut w.b);
    w.a.revoke_outgoing(&id, "Thu hồi do sai sót").unwrap();
    sync(&mut w.a);
    let r = sync(&mut w.b);
    assert_eq!(r.received[0].outcome, "request", "{r:?}");
    assert_eq!(
        w.b.list_incoming(None).unwrap().len(),
        1,
        "nothing applied before decision"
    );
    let reqs = w.b.axis_requests().unwrap();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].kind, "revoke");
    assert_eq!(reqs[0].reason.as_deref(), Some("Thu hồi do sai sót"));
    assert!(reqs[0].incoming_id.is_some());
    w.b.axis_decide(&reqs[0].id, true, None).unwrap();
    assert!(w.b.axis_decide(&reqs[0].id, false, Some("x")).is_err());
    sync(&mut w.b);
    sync(&mut w.a);
    let h = w.a.exchange_status(&id).unwrap();
    assert!(
        h.recipients[0].statuses.iter().any(|s| s.code == "15"),
        "{h:?}"
    );
    assert_eq!(h.recipients[0].delivery, "sent");
}

#[test]
fn update_refused_then_accepted_attaches_the_new_files() {
    let mut w = world();
    let id = outgoing(&mut w, "15");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    sync(&mut w.a);
    let inc = sync(&mut w.b).received[0].incoming_id.clone().unwrap();
    let extra = w.pdf.with_file_name("phu-luc.pdf");
    std::fs::write(&extra, b"%PDF-1.4\nph\xe1\xbb\xa5 l\xe1\xbb\xa5c\n").unwrap();
    w.a.update_outgoing(&id, "Bổ sung phụ lục", &[extra])
        .unwrap();
    w.a.update_outgoing(&id, "Bổ sung phụ lục lần 2", &[])
        .unwrap();
    sync(&mut w.a);
    sync(&mut w.b);
    let reqs = w.b.axis_requests().unwrap();
    assert_eq!(
        reqs.len(),
        2,
        "two updates with one DocumentId are two requests"
    );
    assert!(reqs
        .iter()
        .all(|r| r.kind == "update" && r.incoming_id.as_deref() == Some(inc.as_str())));
    w.b.axis_decide(&reqs[1].id, false, Some("Không cần"))
        .unwrap();
    assert_eq!(w.b.show(&inc).unwrap().files.len(), 1);
    w.b.axis_decide(&reqs[0].id, true, None).unwrap();
    let files = w.b.show(&inc).unwrap().files;
    assert_eq!(
        files.len(),
        2,
        "the new file is attached, the unchanged one not twice: {files:?}"
    );
    assert!(files.iter().any(|f| f.name == "phu-luc.pdf"));
    sync(&mut w.b);
    sync(&mut w.a);
    let h = w.a.exchange_status(&id).unwrap();
    let codes: Vec<_> = h.recipients[0]
        .statuses
        .iter()
        .map(|s| s.code.as_str())
        .collect();
    assert!(codes.contains(&"15") && codes.contains(&"16"), "{codes:?}");
    assert!(w.b.verify_audit().unwrap().ok());
}

#[test]
fn unreadable_packages_are_quarantined_and_acked_fail() {
    let mut w = world();
    let c = w.a.axis_client().unwrap();
    vanthu_axis::Transport::send(
        &c,
        vanthu_axis::Outgoing::from_bytes(
            vanthu_axis::MessageType::Edoc,
            &[B.to_string()],
            b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>".to_vec(),
        ),
    )
    .unwrap();
    let r = sync(&mut w.b);
    assert_eq!(r.received.len(), 1);
    assert_eq!(r.received[0].outcome, "quarantined");
    assert!(r.failed.is_empty(), "{r:?}");
    assert!(w.b.list_incoming(None).unwrap().is_empty());
    // acknowledged (as fail): not delivered again
    let r = sync(&mut w.b);
    assert!(r.received.is_empty());
    let inbox = w.b.inbox().unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].outcome, "quarantined");
    assert_eq!(inbox[0].acked, 1);
    assert!(
        inbox[0].detail.as_deref().unwrap_or("").contains("edXML"),
        "{inbox:?}"
    );
}

fn vm_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Spec conformance 13: a large attachment crosses the axis (sender store → server → receiver
/// store) without the package or the attachment ever being held whole in memory.
#[cfg(target_os = "linux")]
#[test]
fn large_attachment_round_trips_with_bounded_memory() {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    const MIB: usize = 80;
    let mut w = world();
    let big = w.pdf.with_file_name("ban-do-quy-hoach.pdf");
    let mut h = Sha256::new();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        let mut chunk = vec![0u8; 1024 * 1024];
        for i in 0..MIB {
            for (j, b) in chunk.iter_mut().enumerate() {
                *b = ((i * 131 + j * 7 + j / 251) % 256) as u8;
            }
            h.update(&chunk);
            f.write_all(&chunk).unwrap();
        }
    }
    let want = hex::encode(h.finalize());
    // reset the peak-RSS counter, then measure the whole exchange
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = vm_kib("VmRSS:");
    let id =
        w.a.create_outgoing(&OutgoingInput {
            so_ky_hieu: "99/UBND-VP".into(),
            trich_yeu: "Bản đồ quy hoạch".into(),
            files: vec![big],
            ..Default::default()
        })
        .unwrap()
        .id;
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    assert_eq!(sync(&mut w.a).sent.len(), 1);
    let r = sync(&mut w.b);
    assert_eq!(r.received[0].outcome, "registered", "{r:?}");
    let inc = r.received[0].incoming_id.clone().unwrap();
    let peak = vm_kib("VmHWM:");
    let shown = w.b.show(&inc).unwrap();
    let files = shown.files;
    assert_eq!(files[0].sha256, want);
    // too large to validate in memory: recorded as such, not silently skipped
    assert_eq!(shown.signatures.len(), 1);
    assert_eq!(shown.signatures[0].verdict, "LỖI");
    assert!(shown.signatures[0].summary.contains("quá lớn"));
    assert_eq!(files[0].size, (MIB * 1024 * 1024) as u64);
    let grew_mib = peak.saturating_sub(before) / 1024;
    eprintln!("peak memory above the start of the exchange: {grew_mib} MiB for a {MIB} MiB file");
    assert!(
        grew_mib < 64,
        "the exchange of a {MIB} MiB file grew memory by {grew_mib} MiB"
    );
}

#[test]
fn replacement_is_registered_and_supersedes_the_original_on_15() {
    let mut w = world();
    let id = outgoing(&mut w, "16");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    sync(&mut w.a);
    let orig = sync(&mut w.b).received[0].incoming_id.clone().unwrap();
    let old = w.a.get_outgoing(&id).unwrap();
    // A sends 17/UBND-VP replacing 16/UBND-VP (type 3), straight over the axis
    let req = vanthu_edxml::PackRequest {
        from: vanthu_edxml::Organization {
            organ_add: Some("Hòa Bình".into()),
            ..vanthu_edxml::Organization::new(A, "UBND tỉnh Hòa Bình")
        },
        to: vec![vanthu_edxml::Organization::new(B, B)],
        code_number: "17".into(),
        code_notation: "UBND-VP".into(),
        subject: "Về việc liên thông (thay thế văn bản 16/UBND-VP)".into(),
        date: "2026/12/02".into(),
        business: Some(vanthu_edxml::Business {
            doc_type: vanthu_edxml::BusinessDocType::Replace,
            reason: Some("Thay thế do sai sót".into()),
            replacements: vec![vanthu_edxml::ReplacementInfo {
                document_id: old.document_id.clone(),
                organ_ids: vec![B.into()],
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut bytes = Vec::new();
    vanthu_edxml::pack::<&[u8], _>(&req, vec![], &mut bytes).unwrap();
    let c = w.a.axis_client().unwrap();
    vanthu_axis::Transport::send(
        &c,
        vanthu_axis::Outgoing::from_bytes(vanthu_axis::MessageType::Edoc, &[B.to_string()], bytes),
    )
    .unwrap();
    let r = sync(&mut w.b);
    assert_eq!(r.received[0].outcome, "registered", "{r:?}");
    assert_eq!(
        r.received[0].so_den,
        Some(2),
        "the replacement gets its own số đến"
    );
    let newer = r.received[0].incoming_id.clone().unwrap();
    let reqs = w.b.axis_requests().unwrap();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].kind, "replace");
    assert_eq!(reqs[0].incoming_id.as_deref(), Some(orig.as_str()));
    assert_eq!(reqs[0].new_incoming_id.as_deref(), Some(newer.as_str()));
    w.b.axis_decide(&reqs[0].id, true, None).unwrap();
    // the superseded original takes no more statuses; the replacement does
    assert!(w.b.axis_report(&orig, "03", None).is_err());
    w.b.axis_report(&newer, "03", None).unwrap();
    sync(&mut w.b);
    sync(&mut w.a);
    let h = w.a.exchange_status(&id).unwrap();
    assert!(
        h.recipients[0].statuses.iter().any(|s| s.code == "15"),
        "{h:?}"
    );
}

/// An outbox row queued before migration 0005 recorded sizes (size 0) is still sent whole.
#[test]
fn rows_queued_before_sizes_were_recorded_are_still_sent_whole() {
    let mut w = world();
    let id = outgoing(&mut w, "18");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    w.a.store()
        .raw_connection()
        .execute_batch("UPDATE axis_outbox SET size = 0")
        .unwrap();
    assert_eq!(sync(&mut w.a).sent.len(), 1);
    let r = sync(&mut w.b);
    assert_eq!(r.received[0].outcome, "registered", "{r:?}");
    let inc = r.received[0].incoming_id.clone().unwrap();
    assert_eq!(w.b.show(&inc).unwrap().files.len(), 1);
}

fn audit_count(app: &App, action: &str) -> i64 {
    let v: Vec<serde_json::Value> = app
        .store()
        .query_rows(
            "SELECT count(*) AS n FROM audit WHERE action = ?1",
            &[serde_json::json!(action)],
        )
        .unwrap();
    v[0]["n"].as_i64().unwrap()
}

#[test]
fn a_clock_far_from_the_axis_is_a_warning_audited_once_a_day() {
    let mut w = world();
    // within five minutes: nothing to say
    admin(
        &w.srv,
        r#"[{"op":"*","kind":"clock_skew","skew_secs":240,"times":0}]"#,
    );
    let r = sync(&mut w.a);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(audit_count(&w.a, "axis.clock_skew"), 0);

    // the axis is 15 minutes ahead: our clock is behind
    let c = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    c.post(format!("{}/admin/faults/clear", w.srv.endpoint()))
        .send()
        .unwrap();
    admin(
        &w.srv,
        r#"[{"op":"*","kind":"clock_skew","skew_secs":900,"times":0}]"#,
    );
    let r = sync(&mut w.a);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].contains("chậm hơn") && r.warnings[0].contains("15 phút"),
        "{}",
        r.warnings[0]
    );
    // shown on every sync, audited once a day; the exchange itself still works
    let id = outgoing(&mut w, "31");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    let r = sync(&mut w.a);
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.sent.len(), 1);
    assert_eq!(audit_count(&w.a, "axis.clock_skew"), 1);
    assert!(w.a.verify_audit().unwrap().ok());

    // 20 minutes behind: our clock is ahead
    c.post(format!("{}/admin/faults/clear", w.srv.endpoint()))
        .send()
        .unwrap();
    admin(
        &w.srv,
        r#"[{"op":"*","kind":"clock_skew","skew_secs":-1200,"times":0}]"#,
    );
    let r = sync(&mut w.b);
    assert_eq!(r.received.len(), 1);
    assert!(r.warnings[0].contains("nhanh hơn"), "{}", r.warnings[0]);
}

#[test]
fn an_accepted_update_amends_the_register_entry_and_keeps_the_old_version_audited() {
    use vanthu_app::axis::OutgoingEdit;
    let mut w = world();
    let id = outgoing(&mut w, "17");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    sync(&mut w.a);
    let inc = sync(&mut w.b).received[0].incoming_id.clone().unwrap();
    let before = w.b.show(&inc).unwrap().row;
    assert_eq!(
        before.trich_yeu,
        "Về việc triển khai liên thông văn bản điện tử"
    );

    // the sender corrects the subject and raises the urgency, then sends the update
    let edited =
        w.a.amend_outgoing(
            &id,
            &OutgoingEdit {
                trich_yeu: Some(
                    "Về việc triển khai liên thông văn bản điện tử bốn cấp chính quyền".into(),
                ),
                do_khan: Some("hoa-toc".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(edited.do_khan, "hoa-toc");
    assert!(w
        .a
        .amend_outgoing(
            &id,
            &OutgoingEdit {
                do_khan: Some("rất gấp".into()),
                ..Default::default()
            }
        )
        .is_err());
    w.a.update_outgoing(&id, "Sửa trích yếu", &[]).unwrap();
    sync(&mut w.a);
    sync(&mut w.b);
    let req = w.b.axis_requests().unwrap().pop().unwrap();
    // nothing applied before the decision
    assert_eq!(w.b.show(&inc).unwrap().row, before);
    w.b.axis_decide(&req.id, true, None).unwrap();
    let after = w.b.show(&inc).unwrap().row;
    assert_eq!(
        after.trich_yeu,
        "Về việc triển khai liên thông văn bản điện tử bốn cấp chính quyền"
    );
    assert_eq!(after.do_khan, "hoa-toc");
    // the register entry itself does not move
    assert_eq!(
        (
            after.so_den,
            &after.register,
            &after.ngay_den,
            &after.so_ky_hieu
        ),
        (
            before.so_den,
            &before.register,
            &before.ngay_den,
            &before.so_ky_hieu
        )
    );
    // the old version stays in the audit trail, which still verifies
    assert!(w.b.verify_audit().unwrap().ok());
    let v: Vec<serde_json::Value> =
        w.b.store()
            .query_rows(
                "SELECT data FROM audit WHERE action = 'incoming.amend' AND entity = ?1",
                &[serde_json::json!(inc)],
            )
            .unwrap();
    assert_eq!(v.len(), 1);
    let data: serde_json::Value = serde_json::from_str(v[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        data["changes"]["trich_yeu"]["old"],
        "Về việc triển khai liên thông văn bản điện tử"
    );
    // search sees the new words
    let hits =
        w.b.search(&vanthu_search::SearchQuery::text("bon cap chinh quyen"))
            .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id, inc);
}

#[test]
fn a_status_13_take_back_is_a_request_like_a_revoke() {
    use vanthu_app::axis::TakeBackVia;
    let mut w = world();
    let id = outgoing(&mut w, "18");
    w.a.send_outgoing(&id, &[B.to_string()]).unwrap();
    sync(&mut w.a);
    let inc = sync(&mut w.b).received[0].incoming_id.clone().unwrap();

    // both forms, as some agencies' software expects
    let rows =
        w.a.take_back_outgoing(&id, "Ban hành nhầm", TakeBackVia::RevokeAnd13)
            .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].business, "revoke");
    assert_eq!(rows[1].status_code.as_deref(), Some("13"));
    assert_eq!(rows[1].recipients, format!("[\"{B}\"]"));
    sync(&mut w.a);
    let r = sync(&mut w.b);
    assert_eq!(
        r.received.iter().filter(|a| a.outcome == "request").count(),
        2,
        "{r:?}"
    );
    let reqs = w.b.axis_requests().unwrap();
    let kinds: Vec<_> = reqs.iter().map(|r| r.kind.as_str()).collect();
    assert!(
        kinds.contains(&"revoke") && kinds.contains(&"take_back"),
        "{kinds:?}"
    );
    assert!(reqs
        .iter()
        .all(|r| r.incoming_id.as_deref() == Some(inc.as_str())));
    let tb = reqs.iter().find(|r| r.kind == "take_back").unwrap();
    assert_eq!(tb.reason.as_deref(), Some("Ban hành nhầm"));
    // accepting the 13 takes the document back like a revoke
    w.b.axis_decide(&tb.id, true, None).unwrap();
    assert!(
        w.b.axis_report(&inc, "03", None).is_err(),
        "nothing after a take-back"
    );
    let rv = reqs.iter().find(|r| r.kind == "revoke").unwrap();
    w.b.axis_decide(&rv.id, true, None).unwrap();
    sync(&mut w.b);
    sync(&mut w.a);
    let h = w.a.exchange_status(&id).unwrap();
    assert!(
        h.recipients[0].statuses.iter().any(|s| s.code == "15"),
        "{h:?}"
    );
    assert!(w.b.verify_audit().unwrap().ok());
}
