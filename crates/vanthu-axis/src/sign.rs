//! Request signing (spec §6.1): `XroadVnpt-*` headers, the signed-header JSON, its key list
//! and the HMAC-SHA256 hash header; and the SDK's `hash-file` quirk.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Prefix of every protocol header.
pub const PREFIX: &str = "XroadVnpt-";
/// Header holding the signed JSON.
pub const SIGN_HEADER: &str = "XroadVnpt-sign-header";
/// Header holding the `;`-joined signed names.
pub const SIGN_HEADER_KEY: &str = "XroadVnpt-sign-header-key";
/// Header holding the lowercase hex HMAC.
pub const HASH_HEADER: &str = "XroadVnpt-hash-header";
/// Unsigned protocol version header.
pub const VERSION_HEADER: &str = "XroadVnpt-version";
/// The SDK's protocol version.
pub const VERSION: &str = "3.0.201608";
/// The SDK's user agent.
pub const USER_AGENT: &str = "JAVASDKAgent/1.0.0 XRoad/VPCP";

/// The signed headers of one request, in sending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `(XroadVnpt-<name>, value)` for every logical header, in order.
    pub headers: Vec<(String, String)>,
    /// Compact JSON of exactly those headers (`XroadVnpt-sign-header`).
    pub sign_header: String,
    /// Names joined by `;` (`XroadVnpt-sign-header-key`).
    pub sign_header_key: String,
    /// Lowercase hex HMAC-SHA256 of `sign_header` (`XroadVnpt-hash-header`).
    pub hash_header: String,
}

/// Lowercase hex HMAC-SHA256 of `data` under `secret`.
pub fn hmac_hex(secret: &[u8], data: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a hex HMAC.
pub fn hmac_verify(secret: &[u8], data: &[u8], hex_mac: &str) -> bool {
    let Ok(tag) = hex::decode(hex_mac.trim()) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(data);
    mac.verify_slice(&tag).is_ok()
}

/// Signs the logical headers `(name, value)` (names without the prefix), in the given order.
/// Values must be ASCII (they travel as HTTP header values).
pub fn sign(secret: &[u8], logical: &[(&str, &str)]) -> SignedHeaders {
    let mut json = String::from("{");
    let mut headers = Vec::with_capacity(logical.len());
    for (i, (name, value)) in logical.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        let full = format!("{PREFIX}{name}");
        json.push_str(&serde_json::to_string(&full).expect("strings serialise"));
        json.push(':');
        json.push_str(&serde_json::to_string(value).expect("strings serialise"));
        headers.push((full, value.to_string()));
    }
    json.push('}');
    let key = logical
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(";");
    let hash = hmac_hex(secret, json.as_bytes());
    SignedHeaders {
        headers,
        sign_header: json,
        sign_header_key: key,
        hash_header: hash,
    }
}

/// The SDK's `hash-file`: SHA-256 of the package, each byte as lowercase hex **without**
/// zero padding (`0x0e` → `e`); `padded` gives ordinary hex instead.
pub fn hash_file(bytes: &[u8], padded: bool) -> String {
    let d = Sha256::digest(bytes);
    hash_file_of_digest(&d, padded)
}

/// [`hash_file`] of an already computed digest.
pub fn hash_file_of_digest(d: &[u8], padded: bool) -> String {
    if padded {
        return hex::encode(d);
    }
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:x}"));
    }
    s
}

/// The protocol timestamp `ddMMyyyy'T'HHmmss'+'SSSS` in UTC+7; the four digits after `+` are
/// milliseconds, not a zone.
pub fn protocol_timestamp(unix_millis: i64) -> String {
    let ms = unix_millis.rem_euclid(1000);
    let secs = unix_millis.div_euclid(1000) + 7 * 3600;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{d:02}{m:02}{y:04}T{:02}{:02}{:02}+{ms:04}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// `yyyy/MM/dd HH:mm:ss` in UTC+7 (edXML and list timestamps).
pub fn vn_datetime(unix_millis: i64) -> String {
    let secs = unix_millis.div_euclid(1000) + 7 * 3600;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}/{m:02}/{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Whether `s` has the shape of a protocol timestamp.
pub fn is_protocol_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[8] == b'T'
        && b[15] == b'+'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || i == 15 || c.is_ascii_digit())
}

/// Milliseconds since the Unix epoch now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// Howard Hinnant's days → civil date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_hmac_vector() {
        let s = sign(
            b"example-secret",
            &[
                ("timestamp", "05012026T093007+0042"),
                ("systemid", "00.99.W00"),
                ("Content-Type", "application/json"),
                ("docId", "5bebcfeff858e3e0cc154762"),
                ("status", "done"),
            ],
        );
        assert_eq!(
            s.sign_header,
            r#"{"XroadVnpt-timestamp":"05012026T093007+0042","XroadVnpt-systemid":"00.99.W00","XroadVnpt-Content-Type":"application/json","XroadVnpt-docId":"5bebcfeff858e3e0cc154762","XroadVnpt-status":"done"}"#
        );
        assert_eq!(
            s.sign_header_key,
            "timestamp;systemid;Content-Type;docId;status"
        );
        assert_eq!(
            s.hash_header,
            "6ae903247275186188e8572103cc67deef2ed641991af89182f4e94212999fff"
        );
        assert!(hmac_verify(
            b"example-secret",
            s.sign_header.as_bytes(),
            &s.hash_header
        ));
        assert!(!hmac_verify(
            b"other",
            s.sign_header.as_bytes(),
            &s.hash_header
        ));
    }

    #[test]
    fn hash_file_of_status_sample() {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/edxml/vpcp-sdk-samples/status.edxml"
        );
        let Ok(bytes) = std::fs::read(p) else {
            eprintln!("reference samples not found; skipping");
            return;
        };
        assert_eq!(
            hash_file(&bytes, false),
            "cc7bdd662415e725c750bf6ce64c36a87ad21bf38d0a593f9f10203572747f"
        );
        assert_eq!(hash_file(&bytes, true).len(), 64);
    }

    #[test]
    fn timestamp_format() {
        // 2026-01-05 02:30:07.042 UTC = 09:30:07 in Vietnam
        let ms = 1_767_580_207_042;
        assert_eq!(protocol_timestamp(ms), "05012026T093007+0042");
        assert!(is_protocol_timestamp(&protocol_timestamp(ms)));
        assert!(!is_protocol_timestamp("2026-01-05T09:30:07Z"));
    }
}
