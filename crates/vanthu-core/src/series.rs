//! Numbering series (§4.2).
//!
//! * Every series restarts at `01` on **1 January**; the year is that of the
//!   numbering date in **UTC+07:00** ([`numbering_year`]).
//! * Administrative outgoing documents share one series by default
//!   ([`NumberingConfig`]); secret documents, copies (`SY`, `SL`, `TrS`
//!   together) and incoming documents (`Số đến`, secret ones apart) have
//!   their own ([`Register`]).
//! * Numbers are never reused and never go backwards ([`Series`]). Durable,
//!   serialisable allocation is the store's job; this module holds the rules.
//! * Configuration changes apply from the next 1 January
//!   ([`NumberingPlan`]).

use crate::doctype::{lookup, DocType};
use crate::level::DoMat;
use crate::text::loose;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use time::{OffsetDateTime, UtcOffset};

/// Vietnam's time zone, UTC+07:00 (no daylight saving).
pub const VN_OFFSET: UtcOffset = time::macros::offset!(+7);

/// The numbering year of a numbering instant: its calendar year in
/// UTC+07:00.
///
/// ```
/// use time::macros::datetime;
/// use vanthu_core::series::numbering_year;
/// assert_eq!(numbering_year(datetime!(2026-12-31 17:30 UTC)), 2027);
/// ```
pub fn numbering_year(at: OffsetDateTime) -> i32 {
    at.to_offset(VN_OFFSET).year()
}

/// How administrative outgoing documents are grouped into series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// One series for all types (default; group [`SHARED_GROUP`]).
    #[default]
    Shared,
    /// One series per type (group = the abbreviation, or `cong-van` /
    /// `thu-cong` for the types without one).
    PerType,
}

/// Group name of the shared outgoing series.
pub const SHARED_GROUP: &str = "chung";

/// The head's numbering choices for administrative outgoing documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NumberingConfig {
    /// The base grouping.
    pub outgoing: Grouping,
    /// Per-type overrides, applied before the base grouping: `(type, group)`
    /// where `type` is an abbreviation (case-sensitive) or a type name
    /// (see [`lookup`]) and `group` any group name. Types mapped to the same
    /// group share a series.
    pub overrides: Vec<(String, String)>,
}

impl NumberingConfig {
    /// One shared series (the default).
    pub fn shared() -> Self {
        Self::default()
    }

    /// One series per type.
    pub fn per_type() -> Self {
        NumberingConfig {
            outgoing: Grouping::PerType,
            overrides: Vec::new(),
        }
    }

    /// The outgoing group of a non-secret, non-copy document type.
    pub fn group_of(&self, doc_type: &DocType) -> String {
        if let Some((_, group)) = self
            .overrides
            .iter()
            .find(|(key, _)| lookup(key) == Some(doc_type))
        {
            return group.clone();
        }
        match self.outgoing {
            Grouping::Shared => SHARED_GROUP.to_owned(),
            Grouping::PerType => match doc_type.abbr {
                Some(a) => a.to_owned(),
                None => loose(doc_type.name).replace(' ', "-"),
            },
        }
    }
}

/// A numbering register: each has its own yearly series.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Register {
    /// `Sổ đăng ký văn bản đến` — `Số đến` of non-secret documents, paper
    /// and electronic alike.
    Incoming,
    /// The separate register of secret incoming documents.
    IncomingSecret,
    /// Administrative outgoing documents of one series group.
    Outgoing(String),
    /// Secret outgoing documents (Art. 15.2).
    OutgoingSecret,
    /// Copies (`SY`, `SL`, `TrS` share one series).
    Copies,
}

impl Register {
    /// Stable string used as a database key: `den`, `den-mat`,
    /// `di:<group>` (e.g. `di:chung`, `di:QĐ`), `di-mat`, `sao`.
    pub fn key(&self) -> String {
        match self {
            Register::Incoming => "den".to_owned(),
            Register::IncomingSecret => "den-mat".to_owned(),
            Register::Outgoing(group) => format!("di:{group}"),
            Register::OutgoingSecret => "di-mat".to_owned(),
            Register::Copies => "sao".to_owned(),
        }
    }

    /// The inverse of [`key`](Self::key).
    pub fn from_key(key: &str) -> Option<Register> {
        match key {
            "den" => Some(Register::Incoming),
            "den-mat" => Some(Register::IncomingSecret),
            "di-mat" => Some(Register::OutgoingSecret),
            "sao" => Some(Register::Copies),
            other => other
                .strip_prefix("di:")
                .map(|g| Register::Outgoing(g.to_owned())),
        }
    }

    /// Whether this register holds secret documents.
    pub fn is_secret(&self) -> bool {
        matches!(self, Register::IncomingSecret | Register::OutgoingSecret)
    }
}

/// The register of an incoming document: secret documents go to their own.
pub fn incoming_register(secrecy: DoMat) -> Register {
    if secrecy.is_secret() {
        Register::IncomingSecret
    } else {
        Register::Incoming
    }
}

/// The register of an outgoing document. Secrecy comes first (a secret copy
/// is numbered in the secret series), then copies, then the configured group.
pub fn outgoing_register(cfg: &NumberingConfig, doc_type: &DocType, secrecy: DoMat) -> Register {
    if secrecy.is_secret() {
        Register::OutgoingSecret
    } else if doc_type.copy {
        Register::Copies
    } else {
        Register::Outgoing(cfg.group_of(doc_type))
    }
}

/// Numbering refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeriesError {
    /// The numbering date falls in a year before the series' current year.
    #[error("không thể cấp số vào năm {requested} đã khóa sổ (sổ đang ở năm {current})")]
    ClosedYear {
        /// Numbering year of the request.
        requested: i32,
        /// The series' current year.
        current: i32,
    },
    /// The series reached `u64::MAX`.
    #[error("sổ đã hết số")]
    Exhausted,
    /// A configuration change taking effect in the current (or a past) year.
    #[error(
        "thay đổi cách đánh số chỉ áp dụng từ ngày 01/01 năm sau \
         (yêu cầu áp dụng từ năm {requested}, năm hiện tại {current})"
    )]
    MidYearChange {
        /// Year from which the change was asked to apply.
        requested: i32,
        /// Current numbering year.
        current: i32,
    },
}

/// An in-memory yearly series: the last number given in its current year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Series {
    year: i32,
    last: u64,
}

impl Series {
    /// A fresh series for `year` (no number given yet).
    pub fn new(year: i32) -> Self {
        Series { year, last: 0 }
    }

    /// Resumes a series from stored state.
    pub fn resume(year: i32, last: u64) -> Self {
        Series { year, last }
    }

    /// The series' current numbering year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The last number given in [`year`](Self::year) (0 if none).
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The number [`allocate`](Self::allocate) would give at `at`, without
    /// giving it.
    pub fn peek(&self, at: OffsetDateTime) -> Result<u64, SeriesError> {
        self.clone_allocate(at).map(|(n, _)| n)
    }

    /// Gives the next number at numbering instant `at`: `last + 1` in the
    /// same numbering year, `1` in a later year (the series moves to it).
    /// A number is never reused: voided numbers are simply not given again.
    ///
    /// # Errors
    /// [`SeriesError::ClosedYear`] when `at` falls in an earlier year than
    /// the series' current year.
    pub fn allocate(&mut self, at: OffsetDateTime) -> Result<u64, SeriesError> {
        let (n, next) = self.clone_allocate(at)?;
        *self = next;
        Ok(n)
    }

    fn clone_allocate(&self, at: OffsetDateTime) -> Result<(u64, Series), SeriesError> {
        let year = numbering_year(at);
        match year.cmp(&self.year) {
            std::cmp::Ordering::Less => Err(SeriesError::ClosedYear {
                requested: year,
                current: self.year,
            }),
            std::cmp::Ordering::Greater => Ok((1, Series { year, last: 1 })),
            std::cmp::Ordering::Equal => {
                let n = self.last.checked_add(1).ok_or(SeriesError::Exhausted)?;
                Ok((n, Series { year, last: n }))
            }
        }
    }
}

/// Several registers' series together, keyed by [`Register::key`]; a
/// register's series starts in the numbering year of its first allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesBook {
    series: BTreeMap<String, Series>,
}

impl SeriesBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allocates the next number of `register` at `at` (see
    /// [`Series::allocate`]).
    pub fn allocate(
        &mut self,
        register: &Register,
        at: OffsetDateTime,
    ) -> Result<u64, SeriesError> {
        self.series
            .entry(register.key())
            .or_insert_with(|| Series::new(numbering_year(at)))
            .allocate(at)
    }

    /// The series of `register`, if it has given a number.
    pub fn get(&self, register: &Register) -> Option<&Series> {
        self.series.get(&register.key())
    }
}

/// The numbering configuration over time. A change applies from a future
/// 1 January only (§4.2; edge case 3: a mid-year series change is refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberingPlan {
    /// `(first year, configuration)`, sorted by year, years unique.
    entries: Vec<(i32, NumberingConfig)>,
}

impl NumberingPlan {
    /// The initial configuration, in force from `from_year` (the first
    /// configuration of a new installation may take effect at once).
    pub fn new(initial: NumberingConfig, from_year: i32) -> Self {
        NumberingPlan {
            entries: vec![(from_year, initial)],
        }
    }

    /// The configuration in force in `year` (the earliest one for years
    /// before the plan starts).
    pub fn config_for(&self, year: i32) -> &NumberingConfig {
        self.entries
            .iter()
            .rev()
            .find(|(from, _)| *from <= year)
            .or(self.entries.first())
            .map(|(_, c)| c)
            .expect("a plan always has an entry")
    }

    /// Schedules `cfg` from 1 January of `from_year`, replacing any change
    /// already scheduled for that year or later.
    ///
    /// # Errors
    /// [`SeriesError::MidYearChange`] unless `from_year` is after the
    /// numbering year of `now`.
    pub fn schedule(
        &mut self,
        cfg: NumberingConfig,
        from_year: i32,
        now: OffsetDateTime,
    ) -> Result<(), SeriesError> {
        let current = numbering_year(now);
        if from_year <= current {
            return Err(SeriesError::MidYearChange {
                requested: from_year,
                current,
            });
        }
        self.entries.retain(|(y, _)| *y < from_year);
        self.entries.push((from_year, cfg));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctype::by_abbr;
    use time::macros::datetime;

    #[test]
    fn numbering_year_uses_vietnam_time() {
        assert_eq!(numbering_year(datetime!(2026-12-31 16:59:59 UTC)), 2026);
        assert_eq!(numbering_year(datetime!(2026-12-31 17:00 UTC)), 2027);
        assert_eq!(numbering_year(datetime!(2026-12-31 17:30 UTC)), 2027);
        assert_eq!(numbering_year(datetime!(2027-01-01 00:30 +7)), 2027);
        assert_eq!(numbering_year(datetime!(2027-01-01 01:00 +9)), 2026);
    }

    #[test]
    fn register_keys() {
        let cfg = NumberingConfig::per_type();
        let qd = by_abbr("QĐ").unwrap();
        assert_eq!(incoming_register(DoMat::Thuong).key(), "den");
        assert_eq!(incoming_register(DoMat::Mat).key(), "den-mat");
        assert_eq!(
            outgoing_register(&NumberingConfig::default(), qd, DoMat::Thuong).key(),
            "di:chung"
        );
        assert_eq!(outgoing_register(&cfg, qd, DoMat::Thuong).key(), "di:QĐ");
        assert_eq!(outgoing_register(&cfg, qd, DoMat::TuyetMat).key(), "di-mat");
        assert_eq!(
            outgoing_register(&cfg, by_abbr("TrS").unwrap(), DoMat::Thuong).key(),
            "sao"
        );
        for r in [
            Register::Incoming,
            Register::IncomingSecret,
            Register::Outgoing("QĐ".into()),
            Register::OutgoingSecret,
            Register::Copies,
        ] {
            assert_eq!(Register::from_key(&r.key()), Some(r));
        }
    }

    #[test]
    fn per_type_groups_of_untyped_are_distinct() {
        let cfg = NumberingConfig::per_type();
        let cv = crate::doctype::lookup("Công văn").unwrap();
        let tc = crate::doctype::lookup("Thư công").unwrap();
        assert_eq!(cfg.group_of(cv), "cong-van");
        assert_eq!(cfg.group_of(tc), "thu-cong");
    }

    #[test]
    fn overrides_group_types() {
        let cfg = NumberingConfig {
            outgoing: Grouping::PerType,
            overrides: vec![
                ("QĐ".into(), "qd-nq".into()),
                ("Nghị quyết".into(), "qd-nq".into()),
            ],
        };
        assert_eq!(cfg.group_of(by_abbr("QĐ").unwrap()), "qd-nq");
        assert_eq!(cfg.group_of(by_abbr("NQ").unwrap()), "qd-nq");
        assert_eq!(cfg.group_of(by_abbr("QyĐ").unwrap()), "QyĐ");
    }

    #[test]
    fn allocate_rules() {
        let mut s = Series::new(2026);
        assert_eq!(s.allocate(datetime!(2026-03-01 09:00 +7)), Ok(1));
        assert_eq!(s.peek(datetime!(2026-03-01 09:00 +7)), Ok(2));
        assert_eq!(s.allocate(datetime!(2026-03-01 09:00 +7)), Ok(2));
        assert_eq!(
            s.allocate(datetime!(2025-12-31 23:00 +7)),
            Err(SeriesError::ClosedYear {
                requested: 2025,
                current: 2026
            })
        );
        assert_eq!(s.last(), 2);
        assert_eq!(s.allocate(datetime!(2027-01-01 00:00 +7)), Ok(1));
        assert_eq!(s.year(), 2027);
        let mut full = Series::resume(2027, u64::MAX);
        assert_eq!(
            full.allocate(datetime!(2027-05-01 00:00 +7)),
            Err(SeriesError::Exhausted)
        );
    }

    #[test]
    fn mid_year_change_refused() {
        let mut plan = NumberingPlan::new(NumberingConfig::shared(), 2026);
        let now = datetime!(2026-06-15 10:00 +7);
        assert!(matches!(
            plan.schedule(NumberingConfig::per_type(), 2026, now),
            Err(SeriesError::MidYearChange {
                requested: 2026,
                current: 2026
            })
        ));
        // 31/12 18:00 UTC is already 1/1/2027 in Vietnam: 2027 is current.
        assert!(plan
            .schedule(
                NumberingConfig::per_type(),
                2027,
                datetime!(2026-12-31 18:00 UTC)
            )
            .is_err());
        plan.schedule(NumberingConfig::per_type(), 2027, now)
            .unwrap();
        assert_eq!(plan.config_for(2026), &NumberingConfig::shared());
        assert_eq!(plan.config_for(2027), &NumberingConfig::per_type());
        assert_eq!(plan.config_for(2030), &NumberingConfig::per_type());
        assert_eq!(plan.config_for(2020), &NumberingConfig::shared());
    }
}
