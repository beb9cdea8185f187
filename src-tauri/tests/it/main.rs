//! Command contract of the desktop shell: `list_incoming` driven through Tauri's IPC with the
//! mock runtime (no display needed), against a temporary demo store.

use serde_json::Value;
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;
use vanthu_desktop::{app_builder, Desktop, StoreLocation};

/// Demo documents (crates/vanthu-app/src/demo.rs), in register order.
const DEMO_SUBJECTS: &[&str] = &[
    "Quyết định ban hành Kiến trúc Chính quyền điện tử tỉnh Hòa Bình, phiên bản 2.0",
    "Thông tư quy định về lưu trữ hồ sơ, tài liệu điện tử",
    "V/v triển khai phần mềm quản lý văn bản và điều hành liên thông bốn cấp",
    "Kế hoạch chuyển đổi số năm 2027",
    "Báo cáo kết quả thực hiện cải cách hành chính quý IV",
    "Giấy mời dự hội nghị tập huấn bảo vệ bí mật nhà nước",
    "Thư cảm ơn về việc hỗ trợ tổ chức hội nghị",
];

fn invoke(cmd: &str) -> InvokeRequest {
    invoke_with(cmd, Value::Null)
}

fn invoke_with(cmd: &str, args: Value) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: if cfg!(any(windows, target_os = "android")) {
            "http://tauri.localhost"
        } else {
            "tauri://localhost"
        }
        .parse()
        .unwrap(),
        body: if args.is_null() {
            tauri::ipc::InvokeBody::default()
        } else {
            tauri::ipc::InvokeBody::Json(args)
        },
        headers: Default::default(),
        invoke_key: tauri::test::INVOKE_KEY.to_string(),
    }
}

fn call(
    ctx: tauri::Context<MockRuntime>,
    location: StoreLocation,
    window: &str,
    cmd: &str,
) -> Result<Value, Value> {
    let app = app_builder(mock_builder().manage(Desktop::new(location)))
        .build(ctx)
        .expect("app builds");
    let webview = WebviewWindowBuilder::new(&app, window, Default::default())
        .build()
        .expect("window builds");
    get_ipc_response(&webview, invoke(cmd)).map(|b| b.deserialize::<Value>().unwrap())
}

fn assert_demo_register(v: &Value) {
    assert_eq!(
        v["agency"],
        vanthu_app::demo::demo_agency().name.as_str(),
        "{v:#}"
    );
    assert_eq!(v["demo"], true);
    let rows = v["rows"].as_array().expect("rows");
    let subjects: Vec<&str> = rows
        .iter()
        .map(|r| r["trich_yeu"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, DEMO_SUBJECTS);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["so_den"], i as u64 + 1);
        assert_eq!(r["so_den_text"], format!("{:02}", i + 1));
        let d = r["ngay_den_text"].as_str().unwrap();
        assert_eq!(d.len(), 10, "dd/mm/yyyy: {d}");
        assert!(!r["tac_gia"].as_str().unwrap().is_empty());
    }
    assert_eq!(rows[0]["so_ky_hieu"], "2643/QĐ-UBND");
    assert_eq!(rows[0]["tac_gia"], "Ủy ban nhân dân tỉnh Hòa Bình");
}

#[test]
fn list_incoming_creates_seeds_and_lists_the_demo_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let v = call(
        mock_context(noop_assets()),
        StoreLocation::demo_in(dir.clone()),
        "main",
        "list_incoming",
    )
    .expect("list_incoming succeeds");
    assert_demo_register(&v);
    assert!(dir.join(vanthu_store::KeyFile::NAME).exists());

    // Second start: the existing store is opened, not seeded again.
    let again = call(
        mock_context(noop_assets()),
        StoreLocation::demo_in(dir),
        "main",
        "list_incoming",
    )
    .expect("list_incoming succeeds on reopen");
    assert_demo_register(&again);
}

/// With the app's real ACL (build.rs manifest + capabilities/default.json), the main window may
/// call `list_incoming` and any other window may not.
#[test]
fn capability_grants_list_incoming_to_the_main_window_only() {
    let tmp = tempfile::tempdir().unwrap();
    let real = || {
        let mut ctx: tauri::Context<MockRuntime> = tauri::generate_context!();
        ctx.set_assets(Box::new(noop_assets()));
        ctx
    };
    let v = call(
        real(),
        StoreLocation::demo_in(tmp.path().join("demo")),
        "main",
        "list_incoming",
    )
    .expect("allowed for main");
    assert_demo_register(&v);

    let err = call(
        real(),
        StoreLocation::demo_in(tmp.path().join("demo")),
        "other",
        "list_incoming",
    )
    .expect_err("denied for another window");
    assert!(
        err.to_string().contains("not allowed"),
        "unexpected error: {err}"
    );
}

#[test]
fn a_missing_store_is_reported_in_vietnamese() {
    let tmp = tempfile::tempdir().unwrap();
    let location = StoreLocation {
        dir: tmp.path().join("khong-co"),
        passphrase: Some(vanthu_store::Passphrase::new("x")),
        demo: false,
        extract_worker: None,
    };
    let err = call(
        mock_context(noop_assets()),
        location,
        "main",
        "list_incoming",
    )
    .expect_err("no store");
    assert_eq!(err["code"], "no_store", "{err:#}");
    let msg = err["message"].as_str().unwrap();
    assert!(!msg.is_empty());
    // Vietnamese first: the message starts before the English parenthesis.
    assert!(!msg.starts_with('('), "{msg}");
    assert!(!msg.is_ascii(), "not Vietnamese: {msg}");
}

#[test]
fn a_missing_passphrase_is_reported_in_vietnamese() {
    let tmp = tempfile::tempdir().unwrap();
    let location = StoreLocation {
        dir: tmp.path().to_path_buf(),
        passphrase: None,
        demo: false,
        extract_worker: None,
    };
    let err = call(
        mock_context(noop_assets()),
        location,
        "main",
        "list_incoming",
    )
    .expect_err("no passphrase");
    assert_eq!(err["code"], "bad_input");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .starts_with("Cần mật khẩu kho"));
}

#[test]
fn search_incoming_finds_demo_documents_with_or_without_diacritics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let app = app_builder(mock_builder().manage(Desktop::new(StoreLocation::demo_in(dir))))
        .build(tauri::generate_context!())
        .expect("app builds");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window builds");
    let search = |q: &str| -> Value {
        get_ipc_response(
            &webview,
            invoke_with("search_incoming", serde_json::json!({ "query": q })),
        )
        .map(|b| b.deserialize::<Value>().unwrap())
        .expect("search_incoming succeeds")
    };
    // the first command opens (and seeds) the demo store and starts the background indexing
    // job, whose progress the window polls
    let _ = get_ipc_response(&webview, invoke("list_incoming")).expect("list");
    let mut polls = 0;
    let status = loop {
        let st = get_ipc_response(&webview, invoke("index_status"))
            .map(|b| b.deserialize::<Value>().unwrap())
            .expect("index_status succeeds");
        if st["running"] == false {
            break st;
        }
        assert!(st["done"].as_u64() <= st["total"].as_u64(), "{st}");
        polls += 1;
        assert!(polls < 6000, "indexing never finished: {st}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status["error"], Value::Null, "{status}");
    assert_eq!(status["done"], status["total"], "{status}");
    assert_eq!(
        status["total"], 7,
        "the demo's documents are indexed: {status}"
    );
    for q in [
        "kiến trúc chính quyền điện tử",
        "kien truc chinh quyen dien tu",
    ] {
        let hits = search(q);
        let first = &hits.as_array().unwrap()[0];
        assert_eq!(
            first["trich_yeu"],
            "Quyết định ban hành Kiến trúc Chính quyền điện tử tỉnh Hòa Bình, phiên bản 2.0"
        );
        assert_eq!(first["so_den_text"], "01");
        assert!(first["snippet"].as_str().unwrap().contains("<b>"));
    }
    assert!(search("không có văn bản nào như thế này xyz")
        .as_array()
        .unwrap()
        .is_empty());
}

/// The window's background exchange: a partner sends a document through a local axis server;
/// the desktop's own sync registers it, the window is told (notification), and the clerk marks
/// it seen.
#[test]
fn the_background_exchange_receives_and_notifies() {
    use vanthu_app::axis::{AxisSettings, OutgoingInput};
    use vanthu_axis::server::{self, AgencyAccount, ServerConfig};
    use vanthu_store::{Agency, KdfParams, Passphrase};
    const A: &str = "000.00.00.H29";
    const B: &str = "000.00.00.G22";
    let tmp = tempfile::tempdir().unwrap();
    let acct = |code: &str, name: &str, sys: &str| AgencyAccount {
        code: code.into(),
        name: name.into(),
        system_id: sys.into(),
        secret: format!("khóa-{sys}"),
        mail: String::new(),
    };
    let srv = server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: tmp.path().join("truc"),
        agencies: vec![
            acct(A, "UBND tỉnh Hòa Bình", "00.01.W00"),
            acct(B, "Sở Nội vụ", "00.02.W00"),
        ],
        tls: None,
        admin_token: None,
    })
    .unwrap();
    let kdf = KdfParams {
        m_kib: 1024,
        t: 1,
        p: 1,
    };
    let store = |dir: &std::path::Path, code: &str, name: &str, sys: &str| {
        let mut app = vanthu_app::App::init(
            dir,
            &Passphrase::new("kiểm thử"),
            &Agency {
                name: name.into(),
                code: code.into(),
            },
            kdf,
        )
        .unwrap();
        let mut s = AxisSettings::new(&srv.endpoint(), code, sys, &format!("khóa-{sys}"));
        s.retry_base_ms = 1;
        s.retry_cap_ms = 5;
        app.axis_configure(&s).unwrap();
        app
    };
    let mut a = store(&tmp.path().join("a"), A, "UBND tỉnh Hòa Bình", "00.01.W00");
    drop(store(&tmp.path().join("b"), B, "Sở Nội vụ", "00.02.W00"));
    let pdf = tmp.path().join("cong-van.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%%EOF\n").unwrap();
    let id = a
        .create_outgoing(&OutgoingInput {
            so_ky_hieu: "77/UBND-VP".into(),
            trich_yeu: "Về việc kiểm tra công tác văn thư lưu trữ".into(),
            files: vec![pdf],
            ..Default::default()
        })
        .unwrap()
        .id;
    a.send_outgoing(&id, &[B.to_string()]).unwrap();
    let c = a.axis_client().unwrap();
    assert_eq!(a.sync_once(&c).unwrap().sent.len(), 1);

    let location = StoreLocation {
        dir: tmp.path().join("b"),
        passphrase: Some(Passphrase::new("kiểm thử")),
        demo: false,
        extract_worker: None,
    };
    let desktop = Desktop::new(location).with_sync_interval(std::time::Duration::from_millis(200));
    let app = app_builder(mock_builder().manage(desktop))
        .build(tauri::generate_context!())
        .expect("app builds");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window builds");
    let ask = |cmd: &str, args: Value| -> Value {
        get_ipc_response(&webview, invoke_with(cmd, args))
            .map(|b| b.deserialize::<Value>().unwrap())
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    };
    // opening the register starts the exchange
    let reg = ask("list_incoming", Value::Null);
    assert!(reg["rows"].as_array().unwrap().is_empty());
    let mut polls = 0;
    let st = loop {
        let st = ask("exchange_status", Value::Null);
        if st["unread"].as_u64() == Some(1) {
            break st;
        }
        polls += 1;
        assert!(polls < 1500, "nothing arrived: {st}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(st["configured"], true, "{st}");
    let n = &st["notifications"][0];
    assert_eq!(n["kind"], "arrival");
    assert!(
        n["title"].as_str().unwrap().contains("UBND tỉnh Hòa Bình"),
        "{n}"
    );
    let reg = ask("list_incoming", Value::Null);
    let rows = reg["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], n["document_id"]);
    assert_eq!(rows[0]["so_ky_hieu"], "77/UBND-VP");

    let marked = ask(
        "mark_notifications_read",
        serde_json::json!({ "ids": null }),
    );
    assert_eq!(marked, 1);
    let st = ask("exchange_status", Value::Null);
    assert_eq!(st["unread"], 0, "{st}");
    assert!(st["notifications"].as_array().unwrap().is_empty());
    assert_eq!(st["last_error"], Value::Null, "{st}");
}

#[test]
fn without_an_axis_account_the_exchange_is_idle_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app_builder(mock_builder().manage(Desktop::new(StoreLocation::demo_in(
        tmp.path().join("demo"),
    ))))
    .build(tauri::generate_context!())
    .expect("app builds");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window builds");
    let st = get_ipc_response(&webview, invoke("exchange_status"))
        .map(|b| b.deserialize::<Value>().unwrap())
        .expect("exchange_status");
    assert_eq!(st["configured"], false, "{st}");
    assert_eq!(st["unread"], 0);
    assert_eq!(st["running"], false);
}
