//! The behaviour suite, run over every backend.

use std::collections::BTreeSet;

use time::macros::date;
use vanthu_search::{Clearance, Direction, Hit, SearchIndex, SearchQuery, SortBy, Viewer};

use crate::common::{doc, seed_docs, Backend};

fn ids(hits: &[Hit]) -> Vec<String> {
    hits.iter().map(|h| h.id.clone()).collect()
}

fn set(hits: &[Hit]) -> BTreeSet<String> {
    hits.iter().map(|h| h.id.clone()).collect()
}

fn all(text: &str) -> SearchQuery {
    SearchQuery {
        limit: 1000,
        ..SearchQuery::text(text)
    }
}

fn search(idx: &SearchIndex, q: &SearchQuery) -> Vec<Hit> {
    idx.search(q).expect("search")
}

pub fn diacritic_recall(b: Backend) {
    let mut f = b.open();
    let docs = seed_docs();
    assert!(docs.len() > 20, "seed text gives enough documents");
    f.index.index_documents(docs).unwrap();
    f.index.commit().unwrap();
    for (accented, plain) in [
        ("chính quyền điện tử", "chinh quyen dien tu"),
        ("chuyển đổi số", "chuyen doi so"),
        ("Hòa Bình", "hoa binh"),
        ("cơ sở dữ liệu", "co so du lieu"),
        ("an toàn thông tin", "an toan thong tin"),
        ("quyết định", "quyet dinh"),
    ] {
        let a = search(&f.index, &all(accented));
        let p = search(&f.index, &all(plain));
        assert!(!a.is_empty(), "{accented} finds documents");
        assert_eq!(set(&a), set(&p), "{accented} / {plain}: same recall");
        // Upper case and the other tone convention find the same documents.
        assert_eq!(
            set(&search(&f.index, &all(&accented.to_uppercase()))),
            set(&a)
        );
    }
    let hoa_old = search(&f.index, &all("hòa bình"));
    let hoa_new = search(&f.index, &all("hoà bình"));
    assert_eq!(set(&hoa_old), set(&hoa_new));
}

pub fn exact_ranks_first(b: Backend) {
    let mut f = b.open();
    f.index
        .index_documents([
            doc(
                "duong-1",
                "Kế hoạch nâng cấp đường liên xã năm 2024",
                "Nâng cấp đường liên xã.",
            ),
            doc(
                "duong-2",
                "Kế hoạch trồng cây dương liễu năm 2024",
                "Trồng cây dương liễu.",
            ),
            doc(
                "duong-3",
                "Kế hoạch đánh giá cán bộ đương nhiệm năm 2024",
                "Cán bộ đương nhiệm.",
            ),
        ])
        .unwrap();
    f.index.commit().unwrap();
    for (q, first) in [
        ("đường", "duong-1"),
        ("dương", "duong-2"),
        ("đương", "duong-3"),
    ] {
        let hits = search(&f.index, &all(q));
        assert_eq!(hits.len(), 3, "{q}: folded field still matches all three");
        assert_eq!(
            hits[0].id,
            first,
            "{q}: exact diacritics rank first: {:?}",
            ids(&hits)
        );
        assert!(hits[0].score > hits[1].score);
    }
    assert_eq!(search(&f.index, &all("duong")).len(), 3);
}

pub fn phrases(b: Backend) {
    let mut f = b.open();
    f.index
        .index_documents([
            doc(
                "p1",
                "Về xây dựng chính quyền điện tử",
                "Xây dựng chính quyền điện tử tỉnh.",
            ),
            doc(
                "p2",
                "Về điện tử hóa quy trình",
                "Điện tử hóa quy trình; chính sách bảo hộ quyền tác giả.",
            ),
        ])
        .unwrap();
    f.index.commit().unwrap();
    let loose = search(&f.index, &all("chính quyền điện tử"));
    assert_eq!(ids(&loose), ["p1", "p2"], "adjacent words rank first");
    assert_eq!(
        ids(&search(&f.index, &all("\"chính quyền điện tử\""))),
        ["p1"]
    );
    assert_eq!(
        ids(&search(&f.index, &all("\"chinh quyen dien tu\""))),
        ["p1"]
    );
    assert!(search(&f.index, &all("\"điện tử chính quyền\"")).is_empty());
}

pub fn filters(b: Backend) {
    let mut f = b.open();
    let mut a = doc(
        "f1",
        "Công văn về phòng chống thiên tai",
        "Phòng chống thiên tai mùa mưa lũ.",
    );
    a.direction = Direction::Incoming;
    a.doc_type = Some("CV".into());
    a.issuer_code = Some("H30.01".into());
    a.year = 2023;
    a.date = date!(2023 - 06 - 01);
    a.status = "moi".into();
    let mut c = doc(
        "f2",
        "Quyết định về phòng chống thiên tai",
        "Phòng chống thiên tai năm 2024.",
    );
    c.direction = Direction::Outgoing;
    c.doc_type = Some("QĐ".into());
    c.issuer_code = Some("H30.02".into());
    c.year = 2024;
    c.date = date!(2024 - 02 - 10);
    c.status = "da-xu-ly".into();
    f.index.index_documents([a, c]).unwrap();
    f.index.commit().unwrap();
    let base = all("thiên tai");
    assert_eq!(search(&f.index, &base).len(), 2);
    let one = |q: SearchQuery| ids(&search(&f.index, &q));
    assert_eq!(
        one(SearchQuery {
            direction: Some(Direction::Incoming),
            ..base.clone()
        }),
        ["f1"]
    );
    assert_eq!(
        one(SearchQuery {
            direction: Some(Direction::Outgoing),
            ..base.clone()
        }),
        ["f2"]
    );
    assert_eq!(
        one(SearchQuery {
            doc_type: Some("QĐ".into()),
            ..base.clone()
        }),
        ["f2"]
    );
    assert_eq!(
        one(SearchQuery {
            issuer_code: Some("H30.01".into()),
            ..base.clone()
        }),
        ["f1"]
    );
    assert_eq!(
        one(SearchQuery {
            year: Some(2024),
            ..base.clone()
        }),
        ["f2"]
    );
    assert_eq!(
        one(SearchQuery {
            status: Some("moi".into()),
            ..base.clone()
        }),
        ["f1"]
    );
    assert_eq!(
        one(SearchQuery {
            date_from: Some(date!(2024 - 01 - 01)),
            ..base.clone()
        }),
        ["f2"]
    );
    assert_eq!(
        one(SearchQuery {
            date_to: Some(date!(2023 - 12 - 31)),
            ..base.clone()
        }),
        ["f1"]
    );
    assert_eq!(
        one(SearchQuery {
            secrecy: Some("thuong".into()),
            ..base.clone()
        })
        .len(),
        2
    );
    assert!(one(SearchQuery {
        year: Some(2020),
        ..base.clone()
    })
    .is_empty());
    // Sorting by date; empty text lists everything visible.
    let list = SearchQuery {
        sort: SortBy::DateDesc,
        ..all("")
    };
    assert_eq!(one(list.clone()), ["f2", "f1"]);
    assert_eq!(
        one(SearchQuery {
            sort: SortBy::DateAsc,
            ..list
        }),
        ["f1", "f2"]
    );
    // Paging.
    assert_eq!(
        one(SearchQuery {
            limit: 1,
            offset: 1,
            sort: SortBy::DateAsc,
            ..all("")
        }),
        ["f2"]
    );
    // Issuer name and notation are searchable.
    assert_eq!(one(all("uy ban nhan dan tinh hoa binh")).len(), 2);
    assert_eq!(one(all("f1 UBND")), ["f1"]);
}

pub fn secrecy_visibility(b: Backend) {
    let mut f = b.open();
    let mut m = doc("s-mat", "Báo cáo mật về quốc phòng", "Nội dung quốc phòng.");
    m.secrecy = "mat".into();
    let mut t = doc(
        "s-tuyet",
        "Báo cáo tuyệt mật về quốc phòng",
        "Nội dung quốc phòng.",
    );
    t.secrecy = "tuyet-mat".into();
    let o = doc(
        "s-thuong",
        "Báo cáo thường về quốc phòng",
        "Nội dung quốc phòng.",
    );
    f.index.index_documents([m, t, o]).unwrap();
    f.index.commit().unwrap();
    let q = all("quốc phòng");
    let with = |c: Clearance, q: &SearchQuery| {
        set(&search(
            &f.index,
            &SearchQuery {
                viewer: Viewer { clearance: c },
                ..q.clone()
            },
        ))
    };
    assert_eq!(
        ids(&search(&f.index, &q)),
        ["s-thuong"],
        "default viewer sees ordinary only"
    );
    assert_eq!(with(Clearance::Mat, &q).len(), 2);
    assert!(!with(Clearance::ToiMat, &q).contains("s-tuyet"));
    assert_eq!(with(Clearance::TuyetMat, &q).len(), 3);
    // Filters and listings cannot be used to reach secret documents.
    let asks_secret = SearchQuery {
        secrecy: Some("mat".into()),
        ..q.clone()
    };
    assert!(search(&f.index, &asks_secret).is_empty());
    assert_eq!(ids(&search(&f.index, &all(""))), ["s-thuong"]);
    assert_eq!(
        ids(&search(&f.index, &all("tuyệt mật"))),
        Vec::<String>::new()
    );
    // Unknown secrecy codes are refused at index time (fail closed).
    let mut bad = doc("s-bad", "x", "y");
    bad.secrecy = "MAT".into();
    assert!(f.index.index_documents([bad]).is_err());
}

pub fn snippets_and_dto(b: Backend) {
    let mut f = b.open();
    let mut d = doc(
        "sn",
        "Quyết định phê duyệt kiến trúc",
        "Chủ tịch Ủy ban nhân dân tỉnh ban hành quyết định phê duyệt <kiến trúc> chính quyền điện tử.",
    );
    d.notation = Some("2643/QĐ-UBND".into());
    f.index.index_documents([d]).unwrap();
    f.index.commit().unwrap();
    let hit = &search(&f.index, &all("quyết định"))[0];
    assert!(
        hit.snippet.contains("<b>quyết</b> <b>định</b>"),
        "{}",
        hit.snippet
    );
    assert!(
        hit.snippet.contains("&lt;kiến"),
        "HTML is escaped: {}",
        hit.snippet
    );
    let folded = &search(&f.index, &all("quyet dinh"))[0];
    assert!(
        folded.snippet.contains("<b>quyết</b>"),
        "{}",
        folded.snippet
    );
    assert_eq!(hit.title, "Quyết định phê duyệt kiến trúc");
    assert_eq!(hit.notation.as_deref(), Some("2643/QĐ-UBND"));
    let json = serde_json::to_value(hit).unwrap();
    assert_eq!(json["date"], "2024-03-15");
    assert_eq!(json["direction"], "incoming");
    // Unparsable user input does not fail.
    assert!(f.index.search(&all("quyết định AND ( \" :")).is_ok());
}

pub fn update_and_delete(b: Backend) {
    let mut f = b.open();
    f.index
        .index_documents([doc("u1", "Tờ trình về ngân sách", "Dự toán ngân sách.")])
        .unwrap();
    f.index.commit().unwrap();
    // A reader handle (for UI threads) sees later commits; it is Send + Sync.
    fn send_sync<T: Send + Sync + Clone>(_: &T) {}
    let reader = f.index.reader();
    send_sync(&reader);
    f.index
        .index_documents([doc("u1", "Tờ trình về biên chế", "Biên chế.")])
        .unwrap();
    assert_eq!(
        reader.search(&all("ngân sách")).unwrap().len(),
        1,
        "not before commit"
    );
    f.index.commit().unwrap();
    let t = std::thread::spawn(move || ids(&reader.search(&all("bien che")).unwrap()));
    assert_eq!(t.join().unwrap(), ["u1"]);
    assert!(search(&f.index, &all("ngân sách")).is_empty());
    assert_eq!(ids(&search(&f.index, &all("biên chế"))), ["u1"]);
    assert_eq!(f.index.num_docs(), 1);
    f.index.delete("u1");
    f.index.commit().unwrap();
    assert!(search(&f.index, &all("biên chế")).is_empty());
}

macro_rules! run_suite {
    ($($backend:ident),*) => {$(
        #[allow(non_snake_case)]
        mod $backend {
            use super::*;
            #[test] fn diacritic_recall() { super::diacritic_recall(Backend::$backend) }
            #[test] fn exact_ranks_first() { super::exact_ranks_first(Backend::$backend) }
            #[test] fn phrases() { super::phrases(Backend::$backend) }
            #[test] fn filters() { super::filters(Backend::$backend) }
            #[test] fn secrecy_visibility() { super::secrecy_visibility(Backend::$backend) }
            #[test] fn snippets_and_dto() { super::snippets_and_dto(Backend::$backend) }
            #[test] fn update_and_delete() { super::update_and_delete(Backend::$backend) }
        }
    )*};
}

run_suite!(Ram, Plain, Encrypted);
