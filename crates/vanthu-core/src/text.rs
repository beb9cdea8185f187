//! Text normalisation helpers.
//!
//! Vietnamese text reaches vanthu in several Unicode shapes: precomposed (NFC)
//! from most keyboards, decomposed (NFD) from macOS file names and some PDF
//! extractors, and with look-alike characters such as `Ð` (U+00D0, Icelandic
//! *eth*) typed instead of `Đ` (U+0110). Everything stored or compared goes
//! through the helpers here first.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Returns `s` in Unicode Normalization Form C (precomposed).
///
/// ```
/// assert_eq!(vanthu_core::text::nfc("Quye\u{302}\u{301}t"), "Quyết");
/// ```
pub fn nfc(s: &str) -> String {
    // Most text is already NFC (it was normalised on the way in): skip the rewrite then.
    if unicode_normalization::is_nfc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        return s.to_string();
    }
    s.nfc().collect()
}

/// Replaces the look-alike `Ð` (U+00D0) by `Đ` (U+0110) and `ð` (U+00F0) by
/// `đ` (U+0111). Never folds `Đ` to `D`.
pub fn fix_d_bar(s: &str) -> String {
    s.chars().map(fix_d_bar_char).collect()
}

fn fix_d_bar_char(c: char) -> char {
    match c {
        '\u{00D0}' => 'Đ',
        '\u{00F0}' => 'đ',
        other => other,
    }
}

/// NFC followed by [`fix_d_bar`]: the normalisation applied to every code,
/// abbreviation and notation before use.
pub fn nfc_fixed(s: &str) -> String {
    s.nfc().map(fix_d_bar_char).collect()
}

/// Whether `c` is a dash variant that [`fold_key`] maps to `-`: U+2010..=U+2015
/// (hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar),
/// U+2212 (minus sign), and the small/full-width hyphen-minus U+FE58, U+FE63,
/// U+FF0D.
pub fn is_dash_variant(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// Whether `c` is whitespace or an invisible format character that
/// [`fold_key`] strips (Unicode `White_Space`, zero-width space, zero-width
/// (non-)joiner, word joiner, byte-order mark).
pub fn is_strippable_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Lower-cases `s` keeping every diacritic (`Đ` → `đ`, `Ấ` → `ấ`), after NFC
/// and [`fix_d_bar`]. The result is NFC.
pub fn fold_case(s: &str) -> String {
    let lower: String = nfc_fixed(s).chars().flat_map(char::to_lowercase).collect();
    nfc(&lower)
}

/// The matching key of §4.4 step 1, applied to one piece of text: NFC; all
/// whitespace removed; dash variants → `-`; `Ð` → `Đ`; lower-cased keeping
/// diacritics.
///
/// ```
/// use vanthu_core::text::fold_key;
/// assert_eq!(fold_key(" 05 / UBND\u{2013}VP "), fold_key("05/ubnd-vp"));
/// assert_ne!(fold_key("ĐA"), fold_key("DA"));
/// ```
pub fn fold_key(s: &str) -> String {
    let cleaned: String = nfc_fixed(s)
        .chars()
        .filter(|&c| !is_strippable_space(c))
        .map(|c| if is_dash_variant(c) { '-' } else { c })
        .collect();
    fold_case(&cleaned)
}

/// Collapses every run of whitespace to one ASCII space and trims the ends.
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes Vietnamese diacritics (`Tối mật` → `Toi mat`, `Đ` → `D`), for
/// accent-free *input* matching only. Never use it for keys or storage:
/// `ĐA` and `DA` are distinct document types.
pub fn strip_diacritics(s: &str) -> String {
    fix_d_bar(s)
        .nfd()
        .filter(|&c| !is_combining_mark(c))
        .map(|c| match c {
            'Đ' => 'D',
            'đ' => 'd',
            other => other,
        })
        .collect()
}

/// Lenient matching form for labels typed by users: case-folded, whitespace
/// collapsed, `-` and `_` read as spaces, diacritics removed.
pub(crate) fn loose(s: &str) -> String {
    let spaced: String = fold_case(s)
        .chars()
        .map(|c| {
            if c == '-' || c == '_' || is_dash_variant(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    collapse_whitespace(&strip_diacritics(&spaced))
}

/// Number of Unicode scalar values of `s` (the unit of every length limit).
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_composes_decomposed_vietnamese() {
        let nfd: String = "Tối mật".nfd().collect();
        assert_ne!(nfd, "Tối mật");
        assert_eq!(nfc(&nfd), "Tối mật");
    }

    #[test]
    fn eth_becomes_d_bar_but_d_bar_never_becomes_d() {
        assert_eq!(fix_d_bar("Q\u{00D0}"), "QĐ");
        assert_eq!(fold_case("\u{00D0}A"), "đa");
        assert_ne!(fold_case("ĐA"), fold_case("DA"));
    }

    #[test]
    fn fold_key_strips_spaces_and_unifies_dashes() {
        for dash in [
            '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2212}',
        ] {
            assert_eq!(fold_key(&format!("UBND{dash}VP")), "ubnd-vp");
        }
        assert_eq!(fold_key("U B\u{00A0}N\tD"), "ubnd");
    }

    #[test]
    fn fold_case_keeps_diacritics() {
        assert_eq!(fold_case("TỐI MẬT"), "tối mật");
    }

    #[test]
    fn loose_matching_form() {
        assert_eq!(loose("Tối-Mật"), "toi mat");
        assert_eq!(loose("  HỎA   TỐC "), "hoa toc");
        assert_eq!(loose("Hoả tốc"), loose("Hỏa tốc"));
    }

    #[test]
    fn char_len_counts_scalars_not_bytes() {
        assert_eq!(char_len("Đề án"), 5);
        assert!("Đề án".len() > 5);
    }
}
