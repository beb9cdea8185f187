//! §4.3 worked examples.

use crate::support::{number, Outgoing};
use time::macros::datetime;
use vanthu_core::doctype::by_abbr;
use vanthu_core::level::DoMat;
use vanthu_core::notation::OwnNotation;
use vanthu_core::series::{outgoing_register, NumberingConfig, Series, SeriesBook};

const DECISION: Outgoing<'static> = Outgoing {
    abbr: Some("QĐ"),
    agency: "UBND",
    unit: None,
};
const CONG_VAN: Outgoing<'static> = Outgoing {
    abbr: None,
    agency: "UBND",
    unit: Some("VP"),
};
const PLAN: Outgoing<'static> = Outgoing {
    abbr: Some("KH"),
    agency: "UBND",
    unit: None,
};

fn three_documents(cfg: &NumberingConfig) -> Vec<String> {
    let mut book = SeriesBook::new();
    [
        (DECISION, datetime!(2026-01-01 08:00 +7)),
        (CONG_VAN, datetime!(2026-01-02 09:00 +7)),
        (PLAN, datetime!(2026-01-02 10:00 +7)),
    ]
    .iter()
    .map(|(doc, at)| number(&mut book, cfg, doc, DoMat::Thuong, *at))
    .collect()
}

#[test]
fn shared_series() {
    assert_eq!(
        three_documents(&NumberingConfig::shared()),
        ["01/QĐ-UBND", "02/UBND-VP", "03/KH-UBND"]
    );
}

#[test]
fn per_type_series() {
    assert_eq!(
        three_documents(&NumberingConfig::per_type()),
        ["01/QĐ-UBND", "01/UBND-VP", "01/KH-UBND"]
    );
}

#[test]
fn mixed_case_abbreviations() {
    for text in ["07/TTr-UBND", "03/QyĐ-UBND"] {
        let n = OwnNotation::parse(text).unwrap();
        let abbr = n.type_abbr.as_deref().unwrap();
        assert!(by_abbr(abbr).is_some(), "{abbr} is a known type");
        assert_eq!(n.format(), text, "case kept on the way back");
    }
    let n = OwnNotation::parse("07/TTr-UBND").unwrap();
    assert_eq!(n.type_abbr.as_deref(), Some("TTr"));
    assert_ne!(n.format(), "07/TTR-UBND");
    assert!(by_abbr("TTR").is_none());
}

#[test]
fn cong_van() {
    let text = number(
        &mut SeriesBook::new(),
        &NumberingConfig::shared(),
        &Outgoing {
            abbr: None,
            agency: "UBND",
            unit: Some("KT"),
        },
        DoMat::Thuong,
        datetime!(2026-02-01 08:00 +7),
    );
    assert_eq!(text, "01/UBND-KT");
    let parsed = OwnNotation::parse("45/UBND-KT").unwrap();
    assert_eq!(parsed.type_abbr, None);
    assert_eq!(parsed.agency, "UBND");
    assert_eq!(parsed.unit.as_deref(), Some("KT"));
}

#[test]
fn steering_board_has_its_own_series() {
    // The agency and the steering board issue in their own names, each with
    // its own book.
    let cfg = NumberingConfig::shared();
    let mut agency = SeriesBook::new();
    let mut board = SeriesBook::new();
    let at = datetime!(2026-04-01 08:00 +7);
    for _ in 0..9 {
        number(&mut agency, &cfg, &DECISION, DoMat::Thuong, at);
    }
    let board_decision = Outgoing {
        abbr: Some("QĐ"),
        agency: "BCĐ",
        unit: None,
    };
    let texts: Vec<_> = (0..5)
        .map(|_| number(&mut board, &cfg, &board_decision, DoMat::Thuong, at))
        .collect();
    assert_eq!(texts.last().unwrap(), "05/QĐ-BCĐ");
    assert!(OwnNotation::parse_checked("05/QĐ-BCĐ")
        .unwrap()
        .1
        .is_empty());
}

#[test]
fn year_end() {
    let cfg = NumberingConfig::shared();
    let reg = outgoing_register(&cfg, crate::support::doc_type(None), DoMat::Thuong);
    let mut series = Series::resume(2025, 1871);
    let fmt = |n| {
        OwnNotation {
            number: n,
            type_abbr: None,
            agency: "UBND".into(),
            unit: Some("VP".into()),
        }
        .format()
    };
    let last = series.allocate(datetime!(2025-12-31 16:00 +7)).unwrap();
    assert_eq!(fmt(last), "1872/UBND-VP");
    let first = series.allocate(datetime!(2026-01-02 08:00 +7)).unwrap();
    assert_eq!(fmt(first), "01/UBND-VP");
    assert_eq!(reg.key(), "di:chung");
}
