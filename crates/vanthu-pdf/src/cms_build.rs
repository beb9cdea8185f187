//! CAdES-detached CMS SignedData as PAdES wants it (ETSI EN 319 122 / 319 142): content-type,
//! message-digest and signing-certificate-v2 signed attributes; no signing-time.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

use crate::keys::{cert_sha256, verify_with_cert, KeyAlg, Signer};
use crate::PdfError;

pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub const ID_SIGNING_CERT_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub const ID_SIGNING_CERT_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
pub const ID_TIMESTAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
pub const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const ID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub const ID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub const ID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// RFC 5035 `IssuerSerial`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial: SerialNumber,
}

/// RFC 5035 `ESSCertIDv2` with the default hash algorithm (SHA-256) left out.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    pub cert_hash: OctetString,
    pub issuer_serial: Option<IssuerSerial>,
}

/// RFC 5035 `SigningCertificateV2` (policies omitted).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

fn der_err(e: der::Error) -> PdfError {
    PdfError::Sign(format!("DER: {e}"))
}

fn attr(oid: ObjectIdentifier, value: Any) -> Result<Attribute, PdfError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(der_err)?,
    })
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    }
}

/// The PAdES signed attributes for a document digest.
pub fn signed_attributes(
    digest: &[u8],
    cert: &Certificate,
) -> Result<SetOfVec<Attribute>, PdfError> {
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(cert_sha256(cert).to_vec()).map_err(der_err)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    cert.tbs_certificate.issuer.clone(),
                )],
                serial: cert.tbs_certificate.serial_number.clone(),
            }),
        }],
    };
    let attrs = vec![
        attr(
            ID_CONTENT_TYPE,
            Any::encode_from(&ID_DATA).map_err(der_err)?,
        )?,
        attr(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec()).map_err(der_err)?)
                .map_err(der_err)?,
        )?,
        attr(ID_SIGNING_CERT_V2, Any::encode_from(&ess).map_err(der_err)?)?,
    ];
    SetOfVec::try_from(attrs).map_err(der_err)
}

/// Signs `digest` (SHA-256 of the ByteRange) and returns a SignerInfo, the signature checked
/// against the certificate's public key.
pub fn signer_info(signer: &dyn Signer, digest: &[u8]) -> Result<SignerInfo, PdfError> {
    let cert = signer
        .chain()
        .first()
        .ok_or_else(|| PdfError::Key("no certificate".into()))?;
    let attrs = signed_attributes(digest, cert)?;
    // The signature covers the attributes encoded as a SET OF (tag 0x31).
    let tbs = attrs.to_der().map_err(der_err)?;
    let sig = signer.sign(&tbs)?;
    if !verify_with_cert(cert, &tbs, &sig) {
        return Err(PdfError::Sign(
            "chữ ký không khớp khóa công khai của chứng thư (signature does not match the certificate key)"
                .into(),
        ));
    }
    let signature_algorithm = match signer.algorithm() {
        KeyAlg::RsaSha256 => AlgorithmIdentifierOwned {
            oid: ID_SHA256_RSA,
            parameters: Some(Any::null()),
        },
        KeyAlg::EcdsaP256Sha256 | KeyAlg::EcdsaP384Sha256 => AlgorithmIdentifierOwned {
            oid: ID_ECDSA_SHA256,
            parameters: None,
        },
    };
    Ok(SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_alg(),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(sig).map_err(der_err)?,
        unsigned_attrs: None,
    })
}

/// Adds an RFC 3161 timestamp token (DER ContentInfo) as the signature-time-stamp attribute.
pub fn add_timestamp(si: &mut SignerInfo, token_der: &[u8]) -> Result<(), PdfError> {
    let tok = Any::from_der(token_der).map_err(der_err)?;
    si.unsigned_attrs =
        Some(SetOfVec::try_from(vec![attr(ID_TIMESTAMP_TOKEN, tok)?]).map_err(der_err)?);
    Ok(())
}

/// Wraps a SignerInfo into a detached SignedData ContentInfo (DER).
pub fn content_info(si: SignerInfo, chain: &[Certificate]) -> Result<Vec<u8>, PdfError> {
    let certs: Vec<CertificateChoices> = chain
        .iter()
        .cloned()
        .map(CertificateChoices::Certificate)
        .collect();
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_alg()]).map_err(der_err)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs).map_err(der_err)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![si]).map_err(der_err)?),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(der_err)?,
    }
    .to_der()
    .map_err(der_err)
}

/// Parses a ContentInfo holding SignedData: DER, or BER as NSS writes it (converted first,
/// its SETs put in DER order, [`crate::ber`]).
pub fn parse_signed_data(der_bytes: &[u8]) -> Result<SignedData, String> {
    let strict = ContentInfo::from_der(der_bytes)
        .and_then(|ci| ci.content.decode_as::<SignedData>().map(|sd| (ci, sd)));
    let (ci, sd) = match strict {
        Ok(x) => x,
        Err(e) => {
            let der = match crate::ber::to_der(der_bytes) {
                Some((der, used)) if used == der_bytes.len() => der,
                _ => der_bytes.to_vec(),
            };
            crate::ber::canonical_signed_data(&der)
                .and_then(|der| {
                    let ci = ContentInfo::from_der(&der).ok()?;
                    let sd = ci.content.decode_as::<SignedData>().ok()?;
                    Some((ci, sd))
                })
                .ok_or_else(|| format!("SignedData: {e}"))?
        }
    };
    if ci.content_type != ID_SIGNED_DATA {
        return Err("not SignedData".into());
    }
    Ok(sd)
}
