//! Shared helpers.

use time::{Date, OffsetDateTime};
use vanthu_core::doctype::{by_abbr, cong_van, DocType};
use vanthu_core::level::DoMat;
use vanthu_core::notation::OwnNotation;
use vanthu_core::series::{outgoing_register, NumberingConfig, SeriesBook};

/// One outgoing document to number: type abbreviation (`None` = công văn),
/// agency and unit.
pub struct Outgoing<'a> {
    pub abbr: Option<&'a str>,
    pub agency: &'a str,
    pub unit: Option<&'a str>,
}

pub fn doc_type(abbr: Option<&str>) -> &'static DocType {
    match abbr {
        Some(a) => by_abbr(a).expect("known abbreviation"),
        None => cong_van(),
    }
}

/// Numbers `doc` in `book` under `cfg` at `at` and returns its notation text,
/// the way the outgoing flow does (§2.3 step 3).
pub fn number(
    book: &mut SeriesBook,
    cfg: &NumberingConfig,
    doc: &Outgoing<'_>,
    secrecy: DoMat,
    at: OffsetDateTime,
) -> String {
    let reg = outgoing_register(cfg, doc_type(doc.abbr), secrecy);
    let n = book.allocate(&reg, at).expect("allocation succeeds");
    OwnNotation {
        number: n,
        type_abbr: doc.abbr.map(Into::into),
        agency: doc.agency.into(),
        unit: doc.unit.map(Into::into),
    }
    .format()
}

/// `Date` from parts, for brevity.
pub fn ymd(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, m.try_into().unwrap(), d).unwrap()
}
