//! Property tests.

use proptest::prelude::*;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use unicode_normalization::UnicodeNormalization;
use vanthu_core::doctype::{all, by_abbr};
use vanthu_core::duplicate::duplicate_key;
use vanthu_core::notation::{format_number, matches_pattern, OwnNotation};
use vanthu_core::series::{Register, Series, SeriesBook};

// ---------------------------------------------------------------- notation

fn abbr() -> impl Strategy<Value = Option<String>> {
    let abbrs: Vec<String> = all().filter_map(|d| d.abbr).map(Into::into).collect();
    prop_oneof![Just(None), proptest::sample::select(abbrs).prop_map(Some)]
}

/// An agency or unit code: letters (Vietnamese capitals included) and digits.
fn code() -> impl Strategy<Value = String> {
    "[A-ZĐƯƠ][A-Za-zĐđƯư0-9]{0,7}"
}

fn own_notation() -> impl Strategy<Value = OwnNotation> {
    (
        prop_oneof![1u64..=20, 1u64..=100_000, 1u64..=u64::MAX],
        abbr(),
        code(),
        proptest::option::of(prop_oneof![
            code(),
            (code(), code()).prop_map(|(a, b)| format!("{a}-{b}"))
        ]),
    )
        // A công văn whose agency code happens to be a type abbreviation is
        // inherently read as typed (`45/KH-VP` is a Kế hoạch).
        .prop_filter(
            "untyped agency must not be a type abbreviation",
            |(_, t, a, _)| t.is_some() || by_abbr(a).is_none(),
        )
        .prop_map(|(number, type_abbr, agency, unit)| OwnNotation {
            number,
            type_abbr,
            agency,
            unit,
        })
}

proptest! {
    #[test]
    fn format_number_pads_below_ten(n in any::<u64>()) {
        let s = format_number(n);
        prop_assert_eq!(s.parse::<u64>().unwrap(), n);
        prop_assert!(s.len() >= 2);
        prop_assert_eq!(s.starts_with('0'), n < 10);
    }

    #[test]
    fn own_notation_format_parse_round_trip(n in own_notation()) {
        let text = n.format();
        prop_assert!(!text.contains(' '));
        prop_assert_eq!(OwnNotation::parse(&text), Ok(n.clone()));
        // Also from decomposed input.
        let nfd: String = text.nfd().collect();
        prop_assert_eq!(OwnNotation::parse(&nfd), Ok(n));
    }

    #[test]
    fn standard_typed_notation_has_no_warning(
        number in 10u64..100_000,
        t in proptest::sample::select(all().filter_map(|d| d.abbr).collect::<Vec<_>>()),
        agency in "[A-ZĐ][A-Za-zĐđ0-9]{0,7}",
    ) {
        prop_assume!(t.chars().all(|c| c.is_ascii_alphabetic() || c == 'Đ'));
        let text = format!("{number}/{t}-{agency}");
        let (n, w) = OwnNotation::parse_checked(&text).unwrap();
        prop_assert!(w.is_empty(), "{}: {:?}", text, w);
        prop_assert_eq!(n.type_abbr.as_deref(), Some(t));
    }

    #[test]
    fn typed_notation_with_sub_unit_warns(n in own_notation()) {
        let text = n.format();
        let (_, w) = OwnNotation::parse_checked(&text).unwrap();
        let sub_unit = w.iter().any(|w| w.code == "notation_sub_unit");
        // Standard forms have exactly two segments after the slash.
        let expected = text.split_once('/').unwrap().1.split('-').count() > 2;
        prop_assert_eq!(sub_unit, expected);
        prop_assert_eq!(
            w.iter().any(|w| w.code == "notation_pattern"),
            !matches_pattern(&n.format())
        );
    }
}

// ---------------------------------------------------------------- series

/// 2024-01-01T00:00+07:00 .. 2030-01-01T00:00+07:00 as Unix seconds.
const START: i64 = 1_704_042_000;
const END: i64 = 1_893_430_800;

/// Instants uniformly spread, plus instants within three hours of a
/// Vietnamese new year (where bugs live).
fn instant() -> impl Strategy<Value = i64> {
    let new_years: Vec<i64> = (2025..=2029)
        .map(|y| {
            time::Date::from_calendar_date(y, time::Month::January, 1)
                .unwrap()
                .midnight()
                .assume_offset(time::macros::offset!(+7))
                .unix_timestamp()
        })
        .collect();
    prop_oneof![
        START..END,
        (proptest::sample::select(new_years), -10_800i64..10_800).prop_map(|(ny, d)| ny + d),
    ]
}

fn at(ts: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ts).unwrap()
}

/// Reference year computation, independent of the crate: shift the Unix time
/// by seven hours and read the UTC calendar year.
fn vn_year(ts: i64) -> i32 {
    OffsetDateTime::from_unix_timestamp(ts + 7 * 3600)
        .unwrap()
        .year()
}

proptest! {
    #[test]
    fn series_restarts_each_vietnamese_new_year(mut ts in proptest::collection::vec(instant(), 1..300)) {
        ts.sort_unstable();
        let mut s = Series::new(vn_year(ts[0]));
        let mut seen = std::collections::HashSet::new();
        let mut prev: Option<(i32, u64)> = None;
        for &t in &ts {
            let n = s.allocate(at(t)).unwrap();
            let y = vn_year(t);
            prop_assert!(seen.insert((y, n)), "duplicate {}/{}", n, y);
            match prev {
                Some((py, pn)) if py == y => prop_assert_eq!(n, pn + 1),
                _ => prop_assert_eq!(n, 1),
            }
            prop_assert_eq!(s.year(), y);
            prev = Some((y, n));
        }
    }

    #[test]
    fn series_refuses_going_back_a_year(mut ts in proptest::collection::vec(instant(), 2..50)) {
        ts.sort_unstable();
        let (first, last) = (ts[0], *ts.last().unwrap());
        prop_assume!(vn_year(first) < vn_year(last));
        let mut s = Series::new(vn_year(first));
        s.allocate(at(last)).unwrap();
        let before = s;
        prop_assert!(s.allocate(at(first)).is_err());
        prop_assert_eq!(s, before);
    }

    #[test]
    fn interleaved_registers_number_consecutively(
        picks in proptest::collection::vec((0usize..5, instant()), 1..400),
    ) {
        let registers = [
            Register::Incoming,
            Register::IncomingSecret,
            Register::Outgoing("chung".into()),
            Register::OutgoingSecret,
            Register::Copies,
        ];
        // Allocation happens in time order, but the registers interleave at random.
        let mut picks = picks;
        picks.sort_by_key(|&(_, t)| t);
        let mut book = SeriesBook::new();
        let mut got: BTreeMap<(usize, i32), Vec<u64>> = BTreeMap::new();
        for &(r, t) in &picks {
            let n = book.allocate(&registers[r], at(t)).unwrap();
            got.entry((r, vn_year(t))).or_default().push(n);
        }
        for ((r, y), numbers) in got {
            let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
            prop_assert_eq!(numbers, expected, "register {:?} year {}", registers[r], y);
        }
    }
}

// ---------------------------------------------------------------- duplicates

const BASE_VOWELS: &str = "aăâeêioôơuưy";
const TONES: [&str; 6] = ["", "\u{300}", "\u{309}", "\u{303}", "\u{301}", "\u{323}"];

/// Every Vietnamese letter (lower case, NFC), tones included.
fn vietnamese_letters() -> Vec<char> {
    let mut out: Vec<char> = "bcdđghklmnpqrstvx".chars().collect();
    for v in BASE_VOWELS.chars() {
        for tone in TONES {
            let s: String = format!("{v}{tone}").nfc().collect();
            out.push(s.chars().next().unwrap());
        }
    }
    out
}

fn word() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::sample::select(vietnamese_letters()),
            1 => proptest::char::range('0', '9'),
        ],
        1..8,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

/// A canonical raw notation: unpadded number and dash-separated words.
fn canonical_notation() -> impl Strategy<Value = (u64, Vec<String>)> {
    (1u64..100_000, proptest::collection::vec(word(), 1..4))
}

fn issuer() -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 1..5).prop_map(|w| w.join(" "))
}

const SPACES: [&str; 6] = [" ", "\t", "\u{A0}", "\u{2009}", "\u{3000}", "\u{200B}"];
const DASHES: [char; 8] = [
    '-', '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2212}',
];

/// Noise applied to a text: per character, maybe a space before it, a case
/// change, a dash variant; overall, maybe NFD and `Ð` for `Đ`.
#[derive(Debug, Clone)]
struct Noise {
    per_char: Vec<(u8, u8, u8)>,
    nfd: bool,
    eth: bool,
}

fn noise() -> impl Strategy<Value = Noise> {
    (
        proptest::collection::vec(any::<(u8, u8, u8)>(), 64),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(per_char, nfd, eth)| Noise { per_char, nfd, eth })
}

fn apply(noise: &Noise, text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        let (sp, case, dash) = noise.per_char[i % noise.per_char.len()];
        if sp.is_multiple_of(4) {
            out.push_str(SPACES[usize::from(sp / 4) % SPACES.len()]);
        }
        let c = if c == '-' {
            DASHES[usize::from(dash) % DASHES.len()]
        } else {
            c
        };
        if case.is_multiple_of(2) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    if noise.per_char[0].0.is_multiple_of(3) {
        out.push_str(SPACES[0]);
    }
    if noise.eth {
        out = out.replace('Đ', "\u{00D0}");
    }
    if noise.nfd {
        out = out.nfd().collect();
    }
    out
}

proptest! {
    #[test]
    fn duplicate_key_ignores_presentation_noise(
        (number, words) in canonical_notation(),
        zeros in 0usize..4,
        issuer in issuer(),
        n1 in noise(),
        n2 in noise(),
    ) {
        let canonical = format!("{number}/{}", words.join("-"));
        let padded = format!("{}{number}/{}", "0".repeat(zeros), words.join("-"));
        let reference = duplicate_key(&canonical, &issuer);
        prop_assert_eq!(&duplicate_key(&apply(&n1, &padded), &apply(&n2, &issuer)), &reference);
        prop_assert_eq!(&duplicate_key(&format_number(number), &issuer)
            .split_once(' ').map(|(n, _)| n.to_owned()),
            &Some(number.to_string()));
    }

    #[test]
    fn duplicate_key_separates_different_numbers(
        (a, words) in canonical_notation(),
        b in 1u64..100_000,
        issuer in issuer(),
    ) {
        prop_assume!(a != b);
        let tail = words.join("-");
        prop_assert_ne!(
            duplicate_key(&format!("{a}/{tail}"), &issuer),
            duplicate_key(&format!("{b}/{tail}"), &issuer)
        );
    }

    #[test]
    fn duplicate_key_keeps_diacritics(w in word(), issuer in issuer()) {
        let stripped = vanthu_core::text::strip_diacritics(&w);
        prop_assume!(stripped != w);
        prop_assert_ne!(
            duplicate_key(&format!("1/{w}"), &issuer),
            duplicate_key(&format!("1/{stripped}"), &issuer)
        );
    }
}
