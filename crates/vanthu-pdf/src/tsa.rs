//! RFC 3161 timestamp client.

use crate::PdfError;

/// Asks `url` for a timestamp token over a SHA-256 `digest`; returns the token (DER ContentInfo).
pub fn timestamp(url: &str, digest: &[u8]) -> Result<Vec<u8>, PdfError> {
    let _ = (url, digest);
    Err(PdfError::Tsa("not implemented".into()))
}
