//! `Độ mật` (secrecy) and `Độ khẩn` (urgency), §6.
//!
//! Both enums serialise as their stable ASCII [`code`](DoMat::code) and parse
//! ([`FromStr`]) from the code, the Vietnamese label (case-insensitive, any
//! Unicode normal form) or the label without diacritics (`toi mat`).

use crate::text::{fold_case, loose};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// An unrecognised level.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("không nhận ra {kind} \"{input}\"")]
pub struct ParseLevelError {
    /// What was being parsed (`độ mật`, `độ khẩn`, `kênh tiếp nhận`).
    pub kind: &'static str,
    /// The input as given.
    pub input: String,
}

/// Matches `input` against `(code, label)` pairs: exact code, then the label
/// case-insensitively, then accent-free.
pub(crate) fn parse_labelled<T: Copy>(
    kind: &'static str,
    input: &str,
    all: &[T],
    code: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Result<T, ParseLevelError> {
    let folded = crate::text::collapse_whitespace(&fold_case(input));
    if let Some(v) = all.iter().copied().find(|&v| code(v) == folded) {
        return Ok(v);
    }
    if let Some(v) = all.iter().copied().find(|&v| fold_case(label(v)) == folded) {
        return Ok(v);
    }
    let l = loose(input);
    if let Some(v) = all
        .iter()
        .copied()
        .find(|&v| loose(label(v)) == l || loose(code(v)) == l)
    {
        return Ok(v);
    }
    Err(ParseLevelError {
        kind,
        input: input.to_owned(),
    })
}

/// `Độ mật` — secrecy level. Ordered from least to most secret.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DoMat {
    /// Not secret (UI default).
    #[default]
    Thuong,
    /// `Mật`.
    Mat,
    /// `Tối mật`.
    ToiMat,
    /// `Tuyệt mật`.
    TuyetMat,
}

impl DoMat {
    /// All levels, least secret first.
    pub const ALL: [DoMat; 4] = [DoMat::Thuong, DoMat::Mat, DoMat::ToiMat, DoMat::TuyetMat];

    /// Exact Vietnamese UI label.
    pub fn label(self) -> &'static str {
        match self {
            DoMat::Thuong => "Thường",
            DoMat::Mat => "Mật",
            DoMat::ToiMat => "Tối mật",
            DoMat::TuyetMat => "Tuyệt mật",
        }
    }

    /// Stamp text (`MẬT`, `TỐI MẬT`, `TUYỆT MẬT`); `None` for `Thường`.
    pub fn stamp(self) -> Option<&'static str> {
        match self {
            DoMat::Thuong => None,
            DoMat::Mat => Some("MẬT"),
            DoMat::ToiMat => Some("TỐI MẬT"),
            DoMat::TuyetMat => Some("TUYỆT MẬT"),
        }
    }

    /// Stable ASCII code (`thuong`, `mat`, `toi-mat`, `tuyet-mat`).
    pub fn code(self) -> &'static str {
        match self {
            DoMat::Thuong => "thuong",
            DoMat::Mat => "mat",
            DoMat::ToiMat => "toi-mat",
            DoMat::TuyetMat => "tuyet-mat",
        }
    }

    /// Whether the document is a state secret (any level above `Thường`):
    /// own series and register, never over the axis, e-mail or network export.
    pub fn is_secret(self) -> bool {
        self != DoMat::Thuong
    }
}

impl fmt::Display for DoMat {
    /// The Vietnamese label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for DoMat {
    type Err = ParseLevelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_labelled("độ mật", s, &Self::ALL, Self::code, Self::label)
    }
}

/// `Độ khẩn` — urgency level. Ordered from least to most urgent.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DoKhan {
    /// Normal (edXML `Priority` 0).
    #[default]
    Thuong,
    /// `Khẩn` (1).
    Khan,
    /// `Thượng khẩn` (2).
    ThuongKhan,
    /// `Hỏa tốc` (3).
    HoaToc,
    /// Legacy `Hỏa tốc hẹn giờ` (4): intake only; shown as `Hỏa tốc`, kept
    /// raw.
    HoaTocHenGio,
}

impl DoKhan {
    /// All levels, least urgent first.
    pub const ALL: [DoKhan; 5] = [
        DoKhan::Thuong,
        DoKhan::Khan,
        DoKhan::ThuongKhan,
        DoKhan::HoaToc,
        DoKhan::HoaTocHenGio,
    ];

    /// The levels a drafter or signer may choose for an outgoing document
    /// (the legacy `Hỏa tốc hẹn giờ` is intake only).
    pub const SELECTABLE: [DoKhan; 4] = [
        DoKhan::Thuong,
        DoKhan::Khan,
        DoKhan::ThuongKhan,
        DoKhan::HoaToc,
    ];

    /// Exact Vietnamese label of the level itself.
    pub fn label(self) -> &'static str {
        match self {
            DoKhan::Thuong => "Thường",
            DoKhan::Khan => "Khẩn",
            DoKhan::ThuongKhan => "Thượng khẩn",
            DoKhan::HoaToc => "Hỏa tốc",
            DoKhan::HoaTocHenGio => "Hỏa tốc hẹn giờ",
        }
    }

    /// The label to display in lists and forms: as [`label`](Self::label),
    /// except that the legacy `Hỏa tốc hẹn giờ` is shown as `Hỏa tốc`.
    pub fn display_label(self) -> &'static str {
        self.effective().label()
    }

    /// The level that governs handling: `HoaTocHenGio` → `HoaToc`, others
    /// unchanged.
    pub fn effective(self) -> DoKhan {
        match self {
            DoKhan::HoaTocHenGio => DoKhan::HoaToc,
            other => other,
        }
    }

    /// Stamp text (`KHẨN`, `THƯỢNG KHẨN`, `HỎA TỐC`); `None` for `Thường`.
    /// The legacy level stamps as `HỎA TỐC`.
    pub fn stamp(self) -> Option<&'static str> {
        match self.effective() {
            DoKhan::Thuong => None,
            DoKhan::Khan => Some("KHẨN"),
            DoKhan::ThuongKhan => Some("THƯỢNG KHẨN"),
            _ => Some("HỎA TỐC"),
        }
    }

    /// Stable ASCII code (`thuong`, `khan`, `thuong-khan`, `hoa-toc`,
    /// `hoa-toc-hen-gio`).
    pub fn code(self) -> &'static str {
        match self {
            DoKhan::Thuong => "thuong",
            DoKhan::Khan => "khan",
            DoKhan::ThuongKhan => "thuong-khan",
            DoKhan::HoaToc => "hoa-toc",
            DoKhan::HoaTocHenGio => "hoa-toc-hen-gio",
        }
    }

    /// Whether handling must be immediate at every step (any level above
    /// `Thường`).
    pub fn is_urgent(self) -> bool {
        self != DoKhan::Thuong
    }

    /// edXML `Priority` digit (0–4).
    pub fn edxml_priority(self) -> u8 {
        match self {
            DoKhan::Thuong => 0,
            DoKhan::Khan => 1,
            DoKhan::ThuongKhan => 2,
            DoKhan::HoaToc => 3,
            DoKhan::HoaTocHenGio => 4,
        }
    }

    /// The level of an edXML `Priority` digit; `None` outside 0–4.
    pub fn from_edxml_priority(p: u8) -> Option<DoKhan> {
        Self::ALL.iter().copied().find(|k| k.edxml_priority() == p)
    }
}

impl fmt::Display for DoKhan {
    /// The Vietnamese label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for DoKhan {
    type Err = ParseLevelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_labelled("độ khẩn", s, &Self::ALL, Self::code, Self::label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_stamps() {
        assert_eq!(DoMat::ToiMat.label(), "Tối mật");
        assert_eq!(DoMat::ToiMat.stamp(), Some("TỐI MẬT"));
        assert_eq!(DoMat::Thuong.stamp(), None);
        assert_eq!(DoKhan::ThuongKhan.stamp(), Some("THƯỢNG KHẨN"));
        assert_eq!(DoKhan::Thuong.stamp(), None);
        assert_eq!(DoKhan::HoaTocHenGio.display_label(), "Hỏa tốc");
    }

    #[test]
    fn stamps_are_upper_case_labels() {
        for m in DoMat::ALL.into_iter().filter(|m| m.is_secret()) {
            assert_eq!(m.stamp().unwrap(), m.label().to_uppercase());
        }
        for k in DoKhan::SELECTABLE.into_iter().filter(|k| k.is_urgent()) {
            assert_eq!(k.stamp().unwrap(), k.label().to_uppercase());
        }
    }

    #[test]
    fn from_str_round_trips_code_label_and_accent_free() {
        for m in DoMat::ALL {
            assert_eq!(m.code().parse::<DoMat>(), Ok(m));
            assert_eq!(m.label().parse::<DoMat>(), Ok(m));
            assert_eq!(m.label().to_uppercase().parse::<DoMat>(), Ok(m));
            assert_eq!(
                crate::text::strip_diacritics(m.label()).parse::<DoMat>(),
                Ok(m)
            );
        }
        for k in DoKhan::ALL {
            assert_eq!(k.code().parse::<DoKhan>(), Ok(k));
            assert_eq!(k.label().parse::<DoKhan>(), Ok(k));
            assert_eq!(
                crate::text::strip_diacritics(k.label()).parse::<DoKhan>(),
                Ok(k)
            );
        }
        assert_eq!("toi mat".parse::<DoMat>(), Ok(DoMat::ToiMat));
        assert_eq!("Hoả tốc".parse::<DoKhan>(), Ok(DoKhan::HoaToc));
        assert!("bí mật".parse::<DoMat>().is_err());
    }

    #[test]
    fn priority_mapping() {
        for k in DoKhan::ALL {
            assert_eq!(DoKhan::from_edxml_priority(k.edxml_priority()), Some(k));
        }
        assert_eq!(DoKhan::from_edxml_priority(5), None);
        // Edge case 10: Priority=4 is shown and handled as Hỏa tốc.
        let k = DoKhan::from_edxml_priority(4).unwrap();
        assert_eq!(k.display_label(), "Hỏa tốc");
        assert_eq!(k.effective(), DoKhan::HoaToc);
        assert_eq!(k.edxml_priority(), 4, "kept raw");
    }

    #[test]
    fn serde_uses_codes() {
        for m in DoMat::ALL {
            let j = serde_json::to_string(&m).unwrap();
            assert_eq!(j, format!("\"{}\"", m.code()));
            assert_eq!(serde_json::from_str::<DoMat>(&j).unwrap(), m);
        }
        for k in DoKhan::ALL {
            let j = serde_json::to_string(&k).unwrap();
            assert_eq!(j, format!("\"{}\"", k.code()));
            assert_eq!(serde_json::from_str::<DoKhan>(&j).unwrap(), k);
        }
    }
}
