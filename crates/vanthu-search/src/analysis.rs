//! Vietnamese text analysis.
//!
//! Text is normalised **before** tokenising, at index time and at query time alike
//! ([`normalize`]): Unicode NFC (NFD would make `SimpleTokenizer` split "Nguyễn" into `nguye` +
//! `n`, because combining marks are not alphanumeric) and one tone-placement convention, the
//! traditional one ("hoà" → "hòa", "khoẻ" → "khỏe", "thuỷ" → "thủy").
//!
//! Two analyzers are registered on every index:
//! - [`VI_EXACT`]: `SimpleTokenizer → RemoveLongFilter(40) → LowerCaser`, keeps diacritics;
//! - [`VI_FOLD`]: the same plus `AsciiFoldingFilter` (all Vietnamese vowels, `đ → d`).

use std::borrow::Cow;

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
    TokenizerManager,
};
use unicode_normalization::char::{compose, decompose_canonical};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Name of the diacritic-preserving analyzer.
pub const VI_EXACT: &str = "vi_exact";
/// Name of the diacritic-folding analyzer.
pub const VI_FOLD: &str = "vi_fold";

/// Tokens longer than this many bytes are dropped (base64 blobs, hashes).
const MAX_TOKEN_BYTES: usize = 40;

/// Builds the `vi_exact` analyzer.
pub fn exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .build()
}

/// Builds the `vi_fold` analyzer.
pub fn fold_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Registers both analyzers on a tokenizer manager (needed after every `Index::open`).
pub fn register(manager: &TokenizerManager) {
    manager.register(VI_EXACT, exact_analyzer());
    manager.register(VI_FOLD, fold_analyzer());
}

/// Returns the tokens `analyzer` produces for `text` (after [`normalize`]).
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let text = normalize(text);
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(&text);
    while let Some(t) = stream.next() {
        out.push(t.text.clone());
    }
    out
}

const GRAVE: char = '\u{300}';
const ACUTE: char = '\u{301}';
const TILDE: char = '\u{303}';
const HOOK: char = '\u{309}';
const DOT_BELOW: char = '\u{323}';

fn is_tone(c: char) -> bool {
    matches!(c, GRAVE | ACUTE | TILDE | HOOK | DOT_BELOW)
}

/// NFC plus the traditional tone placement for the open syllables `oa`, `oe`, `uy`
/// ("hoà" → "hòa"). Returns the input unchanged (borrowed) when nothing changes.
pub fn normalize(text: &str) -> Cow<'_, str> {
    let nfc: Cow<'_, str> = if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfc().collect())
    };
    if nfc.is_ascii() || !needs_tone_fix(&nfc) {
        return nfc;
    }
    let mut out = String::with_capacity(nfc.len());
    let mut word = String::new();
    for c in nfc.chars() {
        if c.is_alphabetic() {
            word.push(c);
        } else {
            fix_word(&word, &mut out);
            word.clear();
            out.push(c);
        }
    }
    fix_word(&word, &mut out);
    Cow::Owned(out)
}

/// Cheap pre-check: some letter of o/u followed by a toned a/e/y.
fn needs_tone_fix(s: &str) -> bool {
    let mut prev_ou = false;
    for c in s.chars() {
        if prev_ou {
            let mut base = None;
            let mut toned = false;
            decompose_canonical(c, |d| {
                if base.is_none() {
                    base = Some(d);
                } else if is_tone(d) {
                    toned = true;
                }
            });
            if toned && matches!(base, Some('a' | 'A' | 'e' | 'E' | 'y' | 'Y')) {
                return true;
            }
        }
        prev_ou = matches!(c, 'o' | 'O' | 'u' | 'U');
    }
    false
}

/// Moves the tone of a word ending in toned `oa`/`oe`/`uy` onto the `o`/`u`.
fn fix_word(word: &str, out: &mut String) {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    if n < 2 {
        out.push_str(word);
        return;
    }
    let first = chars[n - 2];
    let mut parts: Vec<char> = Vec::with_capacity(3);
    decompose_canonical(chars[n - 1], |d| parts.push(d));
    let base = parts[0];
    let pair_ok = matches!(
        (first.to_ascii_lowercase(), base.to_ascii_lowercase()),
        ('o', 'a') | ('o', 'e') | ('u', 'y')
    );
    // "quý", "quỳ": the u belongs to the consonant "qu".
    let after_q = n >= 3 && matches!(chars[n - 3], 'q' | 'Q');
    let tone = parts.iter().copied().find(|c| is_tone(*c));
    match (pair_ok && !after_q && parts.len() == 2, tone) {
        (true, Some(t)) => {
            for c in &chars[..n - 2] {
                out.push(*c);
            }
            out.push(compose(first, t).unwrap_or(first));
            out.push(base);
        }
        _ => out.push_str(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_placement() {
        assert_eq!(normalize("hoà bình"), "hòa bình");
        assert_eq!(normalize("Hoà Bình"), "Hòa Bình");
        assert_eq!(normalize("sức khoẻ"), "sức khỏe");
        assert_eq!(normalize("thuỷ lợi"), "thủy lợi");
        assert_eq!(normalize("hoàn thành"), "hoàn thành");
        assert_eq!(normalize("quý"), "quý");
        assert_eq!(normalize("hòa"), "hòa");
        assert_eq!(normalize("plain ascii"), "plain ascii");
    }

    #[test]
    fn nfd_is_composed() {
        let nfd: String = "Nguyễn quyết định".nfd().collect();
        assert_eq!(normalize(&nfd), "Nguyễn quyết định");
        let mut a = exact_analyzer();
        assert_eq!(tokens(&mut a, &nfd), ["nguyễn", "quyết", "định"]);
    }

    #[test]
    fn folding() {
        let mut f = fold_analyzer();
        assert_eq!(
            tokens(&mut f, "Đường QUYẾT ĐỊNH ưu đãi"),
            ["duong", "quyet", "dinh", "uu", "dai"]
        );
    }
}
