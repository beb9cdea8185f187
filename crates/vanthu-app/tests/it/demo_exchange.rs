//! The demo's exchange: `vanthu demo` runs it once; the desktop window resumes its local axis
//! server and the partner's invitation arrives, announced, exactly once.

use vanthu_app::{demo, demo_exchange, App};
use vanthu_store::{KdfParams, Passphrase};

fn sync(app: &mut App) -> vanthu_app::axis::SyncReport {
    let c = app.axis_client().unwrap();
    app.sync_once(&c).unwrap()
}

#[test]
fn a_resumed_demo_exchange_delivers_the_partners_invitation_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let pass = Passphrase::new(demo::DEMO_PASSPHRASE);
    let mut app = App::init(&dir, &pass, &demo::demo_agency(), KdfParams::default()).unwrap();
    demo::seed(&mut app).unwrap();
    let story = demo_exchange::run(&mut app, &dir, &pass)
        .unwrap()
        .expect("exchange folder created");
    let before = app.list_incoming(None).unwrap().len();
    // the demo's server stopped with `run`: nothing to reach until it is resumed
    assert!(app
        .axis_client()
        .unwrap()
        .count_pending(vanthu_axis::MessageType::Edoc)
        .is_err());

    let srv = demo_exchange::resume(&dir, &app, &pass)
        .unwrap()
        .expect("server resumed");
    assert_eq!(srv.endpoint(), story.endpoint);
    let r = sync(&mut app);
    assert_eq!(r.received.len(), 1, "{r:?}");
    assert_eq!(r.received[0].outcome, "registered");
    assert_eq!(app.list_incoming(None).unwrap().len(), before + 1);
    let n = app.notifications(false, 10).unwrap();
    assert!(
        n.iter()
            .any(|n| n.kind == "arrival" && n.body.contains("sơ kết liên thông")),
        "{n:?}"
    );
    drop(srv);

    // a second window start serves again but sends nothing new
    let srv = demo_exchange::resume(&dir, &app, &pass).unwrap().unwrap();
    let r = sync(&mut app);
    assert!(r.received.is_empty(), "{r:?}");
    assert!(r.failed.is_empty(), "{r:?}");
    assert_eq!(app.list_incoming(None).unwrap().len(), before + 1);
    drop(srv);

    // not a demo store with an exchange folder: nothing is started
    let other = tmp.path().join("other");
    let plain = App::init(&other, &pass, &demo::demo_agency(), KdfParams::default()).unwrap();
    assert!(demo_exchange::resume(&other, &plain, &pass)
        .unwrap()
        .is_none());
}
