//! The Vietnamese trust store shipped with vanthu (`certs/vn/`).
//!
//! **Unverified**: these are third-party copies (provenance in the project's reference
//! `SOURCES.md`); their SHA-256 fingerprints match the project's specification, but have not
//! yet been checked against the fingerprints the CAs publish (rootca.gov.vn, ca.gov.vn). Until
//! then reports say so, and agencies should pass their own `--trust` anchors.

use der::{DecodePem, Encode};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

/// (file, PEM, expected SHA-256 over DER, is a root).
pub const VIETNAM: &[(&str, &str, &str, bool)] = &[
    (
        "vn-national-root-ca-2014.pem",
        include_str!("../../../certs/vn/vn-national-root-ca-2014.pem"),
        "BAC8BF609AB420A8EE1780D74F4DE5C7F7184959D2A7375B0A75E4C29F0908E7",
        true,
    ),
    (
        "vn-mic-national-root-ca-2008.pem",
        include_str!("../../../certs/vn/vn-mic-national-root-ca-2008.pem"),
        "CA918D635BB130BEC97639E6AABF7EDBC4EB1310F8058B9419F467AE0230AD8C",
        true,
    ),
    (
        "vn-gov-vgca-rootca-g2-2018.pem",
        include_str!("../../../certs/vn/vn-gov-vgca-rootca-g2-2018.pem"),
        "F04BA4B459A7C9A1B971AD9B1CB833E695A80C79AEA63B174B66A70EDFE2FDB8",
        true,
    ),
    (
        "vn-gov-vgca-ca-co-quan-nha-nuoc-g2-intermediate.pem",
        include_str!("../../../certs/vn/vn-gov-vgca-ca-co-quan-nha-nuoc-g2-intermediate.pem"),
        "D8CAB7A4AEF92E6BB2509D7C61CEE7B44F3731B2D21074963530277B366FAE4B",
        false,
    ),
    (
        "vn-gov-vgca-rootca-2010.pem",
        include_str!("../../../certs/vn/vn-gov-vgca-rootca-2010.pem"),
        "F7BC89054CEC7F12730D7B8CD3EB7955B163835087E5EB873EDFB584763B3F90",
        true,
    ),
    (
        "vn-gov-vgca-co-quan-chung-thuc-so-chinh-phu-2010-intermediate.pem",
        include_str!(
            "../../../certs/vn/vn-gov-vgca-co-quan-chung-thuc-so-chinh-phu-2010-intermediate.pem"
        ),
        "75E969C07BA35C29C72BBC1BFB880F20F3891A619B00B77EB02CA6160736A1FE",
        false,
    ),
];

/// Whether the fingerprints were checked against the CAs' published ones. Flip only after
/// that check (and record it in certs/README.md).
pub const VIETNAM_VERIFIED: bool = false;

/// DER of each shipped certificate whose fingerprint matches the expected one:
/// (anchors, intermediates).
pub fn vietnam() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut roots, mut inter) = (Vec::new(), Vec::new());
    for (name, pem, fp, is_root) in VIETNAM {
        let Ok(c) = Certificate::from_pem(pem.as_bytes()) else {
            tracing::warn!(file = name, "unreadable certificate");
            continue;
        };
        let der_bytes = c.to_der().unwrap_or_default();
        if hex::encode_upper(Sha256::digest(&der_bytes)) != *fp {
            tracing::warn!(file = name, "fingerprint mismatch: certificate ignored");
            continue;
        }
        if *is_root {
            roots.push(der_bytes);
        } else {
            inter.push(der_bytes);
        }
    }
    (roots, inter)
}

/// The certificates in a file the user gives as a trust anchor or intermediate: a PEM bundle
/// (one or more certificates) or a single DER certificate. None if it holds neither.
pub fn read_certificates(bytes: &[u8]) -> Option<Vec<openssl::x509::X509>> {
    openssl::x509::X509::stack_from_pem(bytes)
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| openssl::x509::X509::from_der(bytes).ok().map(|c| vec![c]))
}
