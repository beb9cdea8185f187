//! BER to DER, for the CMS that some signers write.
//!
//! CMS (RFC 5652) allows BER, and NSS — the cryptography of poppler's `pdfsig`, LibreOffice
//! and Firefox-based signers — writes the SignedData of a PDF signature with indefinite
//! lengths (`30 80 … 00 00`). The `der` crate reads DER only, so such a signature was reported
//! as "no DER in /Contents". [`to_der`] rewrites indefinite lengths as definite ones and
//! constructed (chunked) strings as primitive ones, and leaves everything else byte for byte:
//! the signed attributes, which the signature covers as DER, stay as they were written.
//!
//! Bounded on hostile input: nesting depth, no reads past the input, no panics.

/// Nesting limit (a CMS with certificates nests about 15 deep).
const MAX_DEPTH: usize = 64;

/// The DER form of the BER element at the start of `input`, and how many input bytes it took
/// (the rest, in a PDF's `/Contents`, is zero padding). `None` when `input` does not start
/// with a well-formed element.
pub fn to_der(input: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(input.len());
    let used = element(input, 0, &mut out)?;
    Some((out, used))
}

/// The tag at the start of `b`: (tag bytes length, constructed).
fn tag(b: &[u8]) -> Option<(usize, bool)> {
    let first = *b.first()?;
    let constructed = first & 0x20 != 0;
    if first & 0x1f != 0x1f {
        return Some((1, constructed));
    }
    // High tag number: base-128 continuation bytes.
    let mut i = 1;
    loop {
        let x = *b.get(i)?;
        i += 1;
        if x & 0x80 == 0 {
            return Some((i, constructed));
        }
        if i > 5 {
            return None;
        }
    }
}

/// The length at the start of `b`: (length bytes, `Some(len)` or `None` when indefinite).
fn length(b: &[u8]) -> Option<(usize, Option<usize>)> {
    let first = *b.first()?;
    if first < 0x80 {
        return Some((1, Some(first as usize)));
    }
    if first == 0x80 {
        return Some((1, None));
    }
    let n = (first & 0x7f) as usize;
    if n > 4 || b.len() < 1 + n {
        return None;
    }
    let len = b[1..=n].iter().fold(0usize, |a, &x| a << 8 | x as usize);
    Some((1 + n, Some(len)))
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&x| x == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Converts one element of `b` into `out`; returns the input bytes it took.
fn element(b: &[u8], depth: usize, out: &mut Vec<u8>) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (tl, constructed) = tag(b)?;
    let (ll, len) = length(b.get(tl..)?)?;
    let head = tl + ll;
    let t = &b[..tl];
    if !constructed {
        let len = len?; // a primitive element has a definite length
        let end = head.checked_add(len)?;
        out.extend_from_slice(b.get(..end)?);
        return Some(end);
    }
    // Constructed: the children, converted, then the element with a definite length.
    let mut body = Vec::new();
    let mut pos = head;
    let end = match len {
        Some(len) => {
            let end = head.checked_add(len)?;
            let inner = b.get(..end)?;
            while pos < end {
                pos += element(&inner[pos..], depth + 1, &mut body)?;
            }
            end
        }
        None => loop {
            let rest = b.get(pos..)?;
            if rest.starts_with(&[0, 0]) {
                break pos + 2;
            }
            pos += element(rest, depth + 1, &mut body)?;
        },
    };
    // A constructed OCTET STRING or BIT STRING (chunks) becomes primitive in DER.
    if tl == 1 && (t[0] == 0x24 || t[0] == 0x23) {
        let mut content = Vec::new();
        let mut p = 0;
        while p < body.len() {
            let (ctl, c) = tag(&body[p..])?;
            let (cll, clen) = length(body.get(p + ctl..)?)?;
            let s = p + ctl + cll;
            let e = s.checked_add(clen?)?;
            let chunk = body.get(s..e)?;
            // BIT STRING chunks each start with their unused-bits count: keep the last one's.
            if t[0] == 0x23 && !c {
                if content.is_empty() {
                    content.push(0);
                }
                let (&unused, bits) = chunk.split_first()?;
                content.extend_from_slice(bits);
                content[0] = unused;
            } else if !c {
                content.extend_from_slice(chunk);
            } else {
                return None;
            }
            p = e;
        }
        out.push(t[0] & !0x20);
        push_len(out, content.len());
        out.extend_from_slice(&content);
        return Some(end);
    }
    out.extend_from_slice(t);
    push_len(out, body.len());
    out.extend_from_slice(&body);
    Some(end)
}

/// The elements of a DER `content`, each with its header; `None` when they do not tile it.
fn children(content: &[u8]) -> Option<Vec<&[u8]>> {
    let mut v = Vec::new();
    let mut p = 0;
    while p < content.len() {
        let (tl, _) = tag(&content[p..])?;
        let (ll, len) = length(content.get(p + tl..)?)?;
        let end = (p + tl + ll).checked_add(len?)?;
        v.push(content.get(p..end)?);
        p = end;
    }
    Some(v)
}

/// (tag bytes, content) of a DER element.
fn split(el: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tl, _) = tag(el)?;
    let (ll, len) = length(el.get(tl..)?)?;
    let s = tl + ll;
    Some((&el[..tl], el.get(s..s.checked_add(len?)?)?))
}

fn encode(t: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let len = parts.iter().map(|p| p.len()).sum();
    let mut out = t.to_vec();
    push_len(&mut out, len);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// A ContentInfo holding SignedData (DER) with the SETs of the SignedData itself
/// (digestAlgorithms, certificates, crls, signerInfos) in DER order and without repeats, as a
/// DER reader requires: a BER writer may list them in any order, and NSS repeats the signer's
/// certificate. Nothing inside an element changes (signed attributes stay as written); a
/// repeated certificate is the same bytes. `None` when `der` is not that shape.
pub fn canonical_signed_data(der: &[u8]) -> Option<Vec<u8>> {
    let (t0, ci) = split(der)?;
    let ci = children(ci)?;
    let [oid, wrapped] = ci.as_slice() else {
        return None;
    };
    let (t1, inner) = split(wrapped)?;
    let [sd] = children(inner)?[..] else {
        return None;
    };
    let (t2, fields) = split(sd)?;
    let fields: Vec<Vec<u8>> = children(fields)?
        .into_iter()
        .map(|f| {
            let (t, c) = split(f)?;
            if t != [0x31] && t != [0xa0] && t != [0xa1] {
                return Some(f.to_vec());
            }
            let mut items = children(c)?;
            items.sort();
            items.dedup();
            Some(encode(t, &items))
        })
        .collect::<Option<_>>()?;
    let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    let sd = encode(t2, &fields);
    let wrapped = encode(t1, &[&sd]);
    Some(encode(t0, &[oid, &wrapped]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn indefinite_lengths_become_definite_and_der_stays_as_it_is() {
        // SEQUENCE (indefinite) { INTEGER 5, SEQUENCE (indefinite) { NULL } } + padding
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x05, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 0,
        ];
        let (der, used) = to_der(&ber).unwrap();
        assert_eq!(der, [0x30, 0x07, 0x02, 0x01, 0x05, 0x30, 0x02, 0x05, 0x00]);
        assert_eq!(used, 13);
        let (again, used) = to_der(&der).unwrap();
        assert_eq!((again, used), (der.to_vec(), der.len()));
    }

    #[test]
    fn chunked_octet_strings_are_joined() {
        // OCTET STRING (constructed, indefinite) { "ab", "c" }
        let ber = [
            0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00,
        ];
        assert_eq!(to_der(&ber).unwrap().0, [0x04, 0x03, b'a', b'b', b'c']);
    }

    #[test]
    fn long_lengths_are_minimal() {
        let mut ber = vec![0x30, 0x80, 0x04, 0x82, 0x01, 0x00];
        ber.extend(std::iter::repeat_n(7u8, 256));
        ber.extend([0, 0]);
        let (der, _) = to_der(&ber).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x04]);
    }

    #[test]
    fn truncated_and_unterminated_input_is_refused() {
        assert!(to_der(&[0x30, 0x80, 0x02, 0x01, 0x05]).is_none());
        assert!(to_der(&[0x30, 0x05, 0x02, 0x01]).is_none());
        assert!(to_der(&[0x04, 0x80, 0x00, 0x00]).is_none());
        assert!(to_der(&[]).is_none());
        let deep: Vec<u8> = std::iter::repeat_n([0x30, 0x80], 200).flatten().collect();
        assert!(to_der(&deep).is_none());
    }

    #[test]
    fn signed_data_sets_are_sorted_and_deduplicated_nothing_else() {
        // ContentInfo { OID, [0] { SignedData { INTEGER 1, SET {}, SEQ {}, [0] { c2, c1, c2 },
        // SET { si } } } } with certificates out of order and repeated.
        let c1 = [0x30, 0x01, 0x01];
        let c2 = [0x30, 0x01, 0x02];
        let si = [0x30, 0x03, 0x31, 0x01, 0x09]; // its inner SET is left alone
        let certs: Vec<u8> = [&c2[..], &c1, &c2].concat();
        let sd = encode(
            &[0x30],
            &[
                &[0x02, 0x01, 0x01],
                &[0x31, 0x00],
                &[0x30, 0x00],
                &encode(&[0xa0], &[&certs]),
                &encode(&[0x31], &[&si]),
            ],
        );
        let ci = encode(&[0x30], &[&[0x06, 0x01, 0x2a], &encode(&[0xa0], &[&sd])]);
        let out = canonical_signed_data(&ci).unwrap();
        let want_sd = encode(
            &[0x30],
            &[
                &[0x02, 0x01, 0x01],
                &[0x31, 0x00],
                &[0x30, 0x00],
                &encode(&[0xa0], &[&c1, &c2]),
                &encode(&[0x31], &[&si]),
            ],
        );
        let want = encode(
            &[0x30],
            &[&[0x06, 0x01, 0x2a], &encode(&[0xa0], &[&want_sd])],
        );
        assert_eq!(out, want);
        assert_eq!(canonical_signed_data(&want).unwrap(), want);
        assert!(canonical_signed_data(&[0x30, 0x00]).is_none());
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_definite(b in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Some((der, used)) = to_der(&b) {
                prop_assert!(used <= b.len());
                // The output reads back as one element that converts to itself.
                prop_assert_eq!(to_der(&der), Some((der.clone(), der.len())));
                let _ = canonical_signed_data(&der);
            }
            let _ = canonical_signed_data(&b);
        }
    }
}
