//! PAdES signing and validation of PDF files.
//!
//! Invariant: a signed PDF is never rewritten, only appended to. Every signature is written as
//! an incremental update after the last `%%EOF`; the bytes before it stay identical (checked
//! after writing, before the temporary file is renamed into place).

mod appearance;
pub mod ber;
pub mod cms_build;
pub mod crypt;
pub mod doc;
mod error;
pub mod keys;
pub mod ltv;
pub mod object;
pub mod pkcs11;
pub mod remote;
pub mod repair;
pub mod sign;
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod test_support;
pub mod trust;
pub mod tsa;
pub mod verify;

pub use error::PdfError;
pub use keys::{KeyAlg, Signer};
pub use sign::{sign_bytes, sign_document, sign_file, SignOptions, Signed};
pub use verify::{verify_bytes, Report, SigReport};
/// The certificate type of the [`Signer`] trait, for implementations outside this crate.
pub use x509_cert;
