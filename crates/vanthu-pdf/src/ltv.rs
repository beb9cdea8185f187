//! Long-term validation material: the `/DSS` revision (PAdES B-LT) with the certificates of
//! every signature and timestamp chain and the CRLs of every non-root certificate.

use std::time::Duration;

use der::{Decode, Encode};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::Certificate;

use crate::doc::Doc;
use crate::object::{Dict, Obj};
use crate::sign::Update;
use crate::PdfError;

/// `http://` and `https://` CRL distribution points of a certificate (LDAP ones are skipped).
pub fn crl_urls(cert: &Certificate) -> Vec<String> {
    let oid = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.31");
    let mut out = Vec::new();
    for e in cert.tbs_certificate.extensions.iter().flatten() {
        if e.extn_id != oid {
            continue;
        }
        let Ok(dps) = CrlDistributionPoints::from_der(e.extn_value.as_bytes()) else {
            continue;
        };
        for dp in dps.0 {
            if let Some(DistributionPointName::FullName(names)) = dp.distribution_point {
                for n in names {
                    if let GeneralName::UniformResourceIdentifier(u) = n {
                        let u = u.to_string();
                        if is_http(&u) {
                            out.push(u);
                        }
                    }
                }
            }
        }
    }
    out
}

/// `http://` and `https://` OCSP responder URLs (authority information access) of a
/// certificate.
pub fn ocsp_urls(cert: &Certificate) -> Vec<String> {
    let aia = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
    let ocsp = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
    let mut out = Vec::new();
    for e in cert.tbs_certificate.extensions.iter().flatten() {
        if e.extn_id != aia {
            continue;
        }
        let Ok(ads) =
            x509_cert::ext::pkix::AuthorityInfoAccessSyntax::from_der(e.extn_value.as_bytes())
        else {
            continue;
        };
        for ad in ads.0 {
            if ad.access_method == ocsp {
                if let GeneralName::UniformResourceIdentifier(u) = ad.access_location {
                    let u = u.to_string();
                    if is_http(&u) {
                        out.push(u);
                    }
                }
            }
        }
    }
    out
}

fn is_http(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Answers fetched during one validation (or signing) run, by URL and request body — failures
/// too, so a document with fifteen signatures from one CA asks its responder once, and a dead
/// server costs one time-out, not fifteen. Per thread and per run ([`FetchCache::start`]):
/// never stale across runs.
type Fetched = std::collections::HashMap<(String, Vec<u8>), Option<Vec<u8>>>;

thread_local! {
    static RUN_CACHE: std::cell::RefCell<Option<Fetched>> = const { std::cell::RefCell::new(None) };
}

/// While alive, network answers on this thread are remembered ([`RUN_CACHE`]); nested runs
/// share the outermost one's.
pub(crate) struct FetchCache {
    owner: bool,
}

impl FetchCache {
    pub(crate) fn start() -> FetchCache {
        let owner = RUN_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            let fresh = c.is_none();
            if fresh {
                *c = Some(Fetched::new());
            }
            fresh
        });
        FetchCache { owner }
    }
}

impl Drop for FetchCache {
    fn drop(&mut self) {
        if self.owner {
            RUN_CACHE.with(|c| *c.borrow_mut() = None);
        }
    }
}

/// GET (`body` None) or POST, through the run's cache when one is active.
pub(crate) fn fetch(url: &str, body: Option<&[u8]>, content_type: &str) -> Option<Vec<u8>> {
    let key = (
        url.to_string(),
        body.map(<[u8]>::to_vec).unwrap_or_default(),
    );
    if let Some(hit) = RUN_CACHE.with(|c| c.borrow().as_ref().and_then(|m| m.get(&key).cloned())) {
        return hit;
    }
    let got = match body {
        Some(b) => crate::tsa::http_post_as(url, b, content_type, Duration::from_secs(10)),
        None => crate::tsa::http_get(url, Duration::from_secs(10)),
    };
    let got = match got {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(url = %url, error = %e, "revocation data request failed");
            None
        }
    };
    RUN_CACHE.with(|c| {
        if let Some(m) = c.borrow_mut().as_mut() {
            m.insert(key, got.clone());
        }
    });
    got
}

/// Asks the certificate's OCSP responder; returns the DER response when it answered
/// "successful" (the status inside is checked by the validator).
pub fn fetch_ocsp(cert: &Certificate, issuer: &Certificate) -> Option<Vec<u8>> {
    use openssl::ocsp::{OcspCertId, OcspRequest, OcspResponse, OcspResponseStatus};
    let url = ocsp_urls(cert).into_iter().next()?;
    let leaf = crate::keys::openssl_cert_of(cert)?;
    let iss = crate::keys::openssl_cert_of(issuer)?;
    let id = OcspCertId::from_cert(openssl::hash::MessageDigest::sha1(), &leaf, &iss).ok()?;
    let mut req = OcspRequest::new().ok()?;
    req.add_id(id).ok()?;
    let body = req.to_der().ok()?;
    let b = fetch(&url, Some(&body), "application/ocsp-request")?;
    let r = OcspResponse::from_der(&b).ok()?;
    (r.status() == OcspResponseStatus::SUCCESSFUL).then_some(b)
}

/// Downloads the CRLs of `certs` (self-signed roots skipped); failures are logged and skipped.
pub fn fetch_crls(certs: &[Certificate]) -> Vec<Vec<u8>> {
    let mut urls: Vec<String> = Vec::new();
    for c in certs {
        if c.tbs_certificate.issuer == c.tbs_certificate.subject {
            continue;
        }
        for u in crl_urls(c) {
            if !urls.contains(&u) {
                urls.push(u);
            }
        }
    }
    let mut out = Vec::new();
    for u in urls {
        match fetch(&u, None, "") {
            Some(b) if openssl::x509::X509Crl::from_der(&b).is_ok() => out.push(b),
            // Some servers publish the CRL in PEM; the DSS and validators want DER.
            Some(b) => match openssl::x509::X509Crl::from_pem(&b).and_then(|c| c.to_der()) {
                Ok(der) => out.push(der),
                Err(_) => tracing::warn!(url = %u, "CRL is neither DER nor PEM"),
            },
            None => {}
        }
    }
    out
}

/// Appends a revision whose catalog `/DSS` holds the certificates of every signature and
/// timestamp in the file (plus the anchors that issued them) and their CRLs. Existing DSS
/// entries are kept.
pub fn add_dss(data: Vec<u8>, anchors: &[Vec<u8>]) -> Result<Vec<u8>, PdfError> {
    add_dss_if(data, anchors, |_| Ok(()))
}

/// [`add_dss`], once `accept` has seen what was fetched (and not refused it).
pub(crate) fn add_dss_if(
    data: Vec<u8>,
    anchors: &[Vec<u8>],
    accept: impl FnOnce(&DssRevision) -> Result<(), PdfError>,
) -> Result<Vec<u8>, PdfError> {
    let doc = Doc::parse(data)?;
    let dss = dss_revision(&doc, anchors)?;
    accept(&dss)?;
    let mut out = doc.into_vec();
    out.extend_from_slice(&dss.buf);
    Ok(out)
}

/// A DSS revision to append, with the revocation data fetched for it.
pub(crate) struct DssRevision {
    pub buf: Vec<u8>,
    pub crls: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
}

/// The DSS revision [`add_dss`] appends to `doc` (fetches CRLs and OCSP answers).
pub(crate) fn dss_revision(doc: &Doc, anchors: &[Vec<u8>]) -> Result<DssRevision, PdfError> {
    doc.refuse_encrypted()?;
    let _fetched = FetchCache::start();
    let mut certs = crate::verify::embedded_certs(doc);
    for a in anchors {
        if let Ok(a) = Certificate::from_der(a) {
            if certs
                .iter()
                .any(|c| c.tbs_certificate.issuer == a.tbs_certificate.subject)
                && !certs.contains(&a)
            {
                certs.push(a);
            }
        }
    }
    let crls = fetch_crls(&certs);
    let mut ocsps = Vec::new();
    for c in &certs {
        if c.tbs_certificate.issuer == c.tbs_certificate.subject {
            continue;
        }
        if let Some(issuer) = certs
            .iter()
            .find(|i| i.tbs_certificate.subject == c.tbs_certificate.issuer)
        {
            if let Some(r) = fetch_ocsp(c, issuer) {
                ocsps.push(r);
            }
        }
    }
    let cert_ders: Vec<Vec<u8>> = certs.iter().filter_map(|c| c.to_der().ok()).collect();
    let buf = write_dss(doc, cert_ders, crls.clone(), ocsps.clone())?;
    Ok(DssRevision { buf, crls, ocsps })
}

/// Appends a `/DSS` revision with the given material (DER certificates, CRLs and OCSP
/// responses obtained elsewhere), merged with the DSS already in the file.
pub fn append_dss(
    data: Vec<u8>,
    certs: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    ocsps: Vec<Vec<u8>>,
) -> Result<Vec<u8>, PdfError> {
    let doc = Doc::parse(data)?;
    let buf = write_dss(&doc, certs, crls, ocsps)?;
    let mut out = doc.into_vec();
    out.extend_from_slice(&buf);
    Ok(out)
}

fn write_dss(
    doc: &Doc,
    cert_ders: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    ocsps: Vec<Vec<u8>>,
) -> Result<Vec<u8>, PdfError> {
    doc.refuse_encrypted()?;
    let cat = doc.catalog()?;
    let old = cat
        .get("DSS")
        .map(|d| doc.resolve(d))
        .transpose()?
        .and_then(|d| d.as_dict().cloned())
        .unwrap_or_default();
    let existing = |k: &str| -> Vec<Obj> {
        old.get(k)
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_arr().map(<[Obj]>::to_vec))
            .unwrap_or_default()
    };
    let existing_bytes = |refs: &[Obj]| -> Vec<Vec<u8>> {
        refs.iter()
            .filter_map(|r| doc.resolve(r).ok())
            .filter_map(|s| doc.stream_data(&s).ok())
            .collect()
    };
    let mut up = Update::new(doc);
    let add = |up: &mut Update<'_>, key: &str, items: Vec<Vec<u8>>| -> Obj {
        let mut refs = existing(key);
        let have = existing_bytes(&refs);
        for it in items {
            if have.contains(&it) {
                continue;
            }
            let n = up.alloc();
            up.put(n, Obj::Stream(Dict::new(), it));
            refs.push(Obj::Ref(n, 0));
        }
        Obj::Arr(refs)
    };
    let mut dss = Dict::new().with("Type", Obj::name("DSS"));
    dss.set("Certs", add(&mut up, "Certs", cert_ders));
    dss.set("CRLs", add(&mut up, "CRLs", crls));
    let ocsps = add(&mut up, "OCSPs", ocsps);
    if ocsps.as_arr().is_some_and(|a| !a.is_empty()) {
        dss.set("OCSPs", ocsps);
    }
    // VRI (optional in PAdES; written, never required): per signature, keyed by the uppercase
    // hex SHA-1 of its decoded /Contents (padding included), the validation material.
    let mut vri = old
        .get("VRI")
        .and_then(|v| doc.resolve(v).ok())
        .and_then(|v| v.as_dict().cloned())
        .unwrap_or_default();
    for (_, num) in crate::verify::signature_fields(doc) {
        let Ok(o) = doc.get(num) else { continue };
        let Some(c) = o
            .as_dict()
            .and_then(|d| d.get("Contents"))
            .and_then(Obj::as_str)
        else {
            continue;
        };
        let key = hex::encode_upper(openssl::sha::sha1(c));
        if vri.get(&key).is_some() {
            continue;
        }
        let mut e = Dict::new().with("Type", Obj::name("VRI"));
        for (k, dk) in [("Cert", "Certs"), ("CRL", "CRLs"), ("OCSP", "OCSPs")] {
            if let Some(a) = dss.get(dk).cloned() {
                e.set(k, a);
            }
        }
        vri.set(&key, Obj::Dict(e));
    }
    if !vri.0.is_empty() {
        dss.set("VRI", Obj::Dict(vri));
    }
    let dn = up.alloc();
    up.put(dn, Obj::Dict(dss));
    let mut cat = cat;
    cat.set("DSS", Obj::Ref(dn, 0));
    up.put(doc.root_ref().0, Obj::Dict(cat));
    Ok(up.write(None)?.buf)
}
