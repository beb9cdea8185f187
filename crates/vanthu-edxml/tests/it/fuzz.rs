//! Robustness: mutated and truncated samples and random bytes never panic.

use proptest::prelude::*;

use crate::common::*;
use vanthu_edxml::*;

fn seeds() -> Vec<Vec<u8>> {
    vec![
        sample_bytes(&sdk("status.edxml")),
        sample_bytes(&sdk("status_cancellation_13.edxml")),
        sample_bytes(TRUC),
        sample_bytes(API_GW),
        sample_bytes(TEMPLATE),
        sample_bytes(&sdk("edoc.edxml")),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        b"<".to_vec(),
        b">".to_vec(),
        b"&".to_vec(),
        b"&#0;".to_vec(),
        b"&amp;".to_vec(),
        b"<!DOCTYPE x>".to_vec(),
        b"<![CDATA[x]]>".to_vec(),
        b"</edXML:From>".to_vec(),
        b"<a:b>".to_vec(),
        b"=".to_vec(),
        b"\xff\xfe".to_vec(),
        b"<edXML:ContentTransferEncoded>QUJD".to_vec(),
        b"xmlns=\"urn:x\"".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), tokens).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut v: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if v.is_empty() {
            break;
        }
        match m {
            Mutation::Flip(i, b) => {
                let i = i % v.len();
                v[i] = *b;
            }
            Mutation::Insert(i, t) => {
                let i = i % (v.len() + 1);
                v.splice(i..i, t.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = i % v.len();
                let e = (i + n).min(v.len());
                v.drain(i..e);
            }
            Mutation::Truncate(i) => {
                let i = i % v.len();
                v.truncate(i);
            }
        }
    }
    v
}

fn check(bytes: &[u8]) {
    let mut sink = VecSink::new();
    let limits = Limits {
        max_elements: 5_000,
        ..Limits::default()
    };
    match read_message(bytes, &mut sink, &ReadOptions { limits }) {
        Ok(m) => {
            let _ = serde_json::to_string(&m).unwrap();
            for d in &m.diagnostics {
                assert!(d.detail.chars().count() <= 81);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = inspect(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_samples_never_panic(seed in 0usize..6, muts in prop::collection::vec(mutation(), 1..6)) {
        let v = apply(seeds()[seed].clone(), &muts);
        check(&v);
    }

    #[test]
    fn random_bytes_never_panic(v in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&v);
    }

    #[test]
    fn random_text_after_a_valid_prefix_never_panics(cut in 0usize..4000, tail in "[<>&;=\"a-zA-Z0-9:/ #x]{0,200}") {
        let mut v = seeds()[0].clone();
        v.truncate(cut.min(v.len()));
        v.extend_from_slice(tail.as_bytes());
        check(&v);
    }
}

fn decode_chunked(
    text: &[u8],
    cuts: &[usize],
) -> Result<Vec<u8>, vanthu_edxml::b64::Base64Problem> {
    let mut d = vanthu_edxml::b64::Base64Decoder::new();
    let mut out = Vec::new();
    let mut pos = 0;
    for &c in cuts {
        let end = (pos + c).min(text.len());
        d.feed(&text[pos..end], &mut |b| {
            out.extend_from_slice(b);
            Ok(())
        })?
        .unwrap();
        pos = end;
    }
    d.feed(&text[pos..], &mut |b| {
        out.extend_from_slice(b);
        Ok(())
    })?
    .unwrap();
    d.finish(&mut |b| {
        out.extend_from_slice(b);
        Ok(())
    })?
    .unwrap();
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// The incremental decoder agrees with the base64 crate (a different route), whatever
    /// the chunking and whitespace, with or without padding.
    #[test]
    fn incremental_base64_matches_one_shot(
        data in prop::collection::vec(any::<u8>(), 0..100_000usize),
        cuts in prop::collection::vec(0usize..30_000, 0..8),
        wrap in prop::sample::select(vec![0usize, 1, 3, 64, 76]),
        strip_pad in any::<bool>(),
    ) {
        use base64::Engine;
        let mut text = base64::engine::general_purpose::STANDARD.encode(&data);
        if strip_pad {
            text = text.trim_end_matches('=').to_string();
        }
        let text: Vec<u8> = if wrap == 0 {
            text.into_bytes()
        } else {
            text.as_bytes().chunks(wrap).flat_map(|c| c.iter().copied().chain(*b" \r\n\t")).collect()
        };
        prop_assert_eq!(decode_chunked(&text, &cuts).unwrap(), data);
    }

    #[test]
    fn garbage_base64_is_an_error_not_a_panic(text in prop::collection::vec(any::<u8>(), 0..400), cuts in prop::collection::vec(0usize..100, 0..4)) {
        let _ = decode_chunked(&text, &cuts);
    }
}
