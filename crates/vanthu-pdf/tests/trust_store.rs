//! The shipped Vietnamese certificates: identical to the reference copies (read in place from
//! ../shared/reference/certs) and matching the specification's fingerprints.

use sha2::{Digest, Sha256};

#[test]
fn shipped_vietnamese_certificates_match_reference_and_fingerprints() {
    let reference =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/certs");
    assert!(
        reference.is_dir(),
        "reference certificates missing at {}",
        reference.display()
    );
    let (roots, inter) = vanthu_pdf::trust::vietnam();
    assert_eq!(
        roots.len(),
        4,
        "all four roots pass their fingerprint check"
    );
    assert_eq!(inter.len(), 2);
    for (name, pem, fp, _) in vanthu_pdf::trust::VIETNAM {
        let theirs = std::fs::read_to_string(reference.join(name)).unwrap();
        assert_eq!(
            theirs.trim(),
            pem.trim(),
            "{name} differs from the reference copy"
        );
        let der = openssl::x509::X509::from_pem(pem.as_bytes())
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(hex::encode_upper(Sha256::digest(&der)), *fp, "{name}");
    }
}
