//! RFC 3161 timestamp client (HTTP POST `application/timestamp-query`).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use der::asn1::{Any, OctetString, Uint};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;

use crate::cms_build::{parse_signed_data, ID_CT_TST_INFO, ID_SHA256};
use crate::PdfError;

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    nonce: Uint,
    cert_req: bool,
}

const TIMEOUT: Duration = Duration::from_secs(30);

fn tsa_err(e: impl std::fmt::Display) -> PdfError {
    PdfError::Tsa(e.to_string())
}

/// HTTP GET (CRLs); `http://` or `https://`.
pub(crate) fn http_get(url: &str, timeout: Duration) -> Result<Vec<u8>, PdfError> {
    http(url, None, "", timeout)
}

/// Extra certificate authorities trusted for `https://` (besides the system's): an agency's
/// own CA for its internal timestamp or signing service, a test CA.
static TLS_ROOTS: std::sync::Mutex<Vec<native_tls::Certificate>> =
    std::sync::Mutex::new(Vec::new());

/// Trusts the CA certificates in `file` (a PEM bundle or one DER certificate, as
/// [`crate::trust::read_certificates`] reads them) for `https://` connections of this
/// process, besides the system's trust store.
pub fn trust_tls_roots(file: &[u8]) -> Result<usize, PdfError> {
    let certs = crate::trust::read_certificates(file).ok_or_else(|| {
        PdfError::Tsa(
            "tệp chứng thư CA cho kết nối https không đọc được (cần PEM hoặc DER) (the TLS CA file holds no certificate)"
                .into(),
        )
    })?;
    let mut roots = TLS_ROOTS.lock().unwrap_or_else(|e| e.into_inner());
    for c in &certs {
        let der = c.to_der().map_err(tsa_err)?;
        roots.push(native_tls::Certificate::from_der(&der).map_err(tsa_err)?);
    }
    Ok(certs.len())
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// HTTP POST with a content type; `http://` or `https://`.
pub(crate) fn http_post_as(
    url: &str,
    body: &[u8],
    content_type: &str,
    timeout: Duration,
) -> Result<Vec<u8>, PdfError> {
    http(url, Some(body), content_type, timeout)
}

fn http_post(url: &str, body: &[u8]) -> Result<Vec<u8>, PdfError> {
    http(url, Some(body), "application/timestamp-query", TIMEOUT)
}

/// Minimal HTTP/1.1 client for `http://` and `https://` URLs (TLS 1.2 or later, the server's
/// certificate checked against the system's trust store, the CAs given to
/// [`trust_tls_roots`], and its name); returns the response body on status 200.
fn http(
    url: &str,
    post: Option<&[u8]>,
    content_type: &str,
    timeout: Duration,
) -> Result<Vec<u8>, PdfError> {
    let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(r), _) => (false, r),
        (_, Some(r)) => (true, r),
        _ => {
            return Err(PdfError::Tsa(format!(
                "địa chỉ phải bắt đầu bằng http:// hoặc https:// (only http and https URLs): {url}"
            )))
        }
    };
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // `host[:port]`, `[v6][:port]`: the name the server's certificate must carry, and where.
    let explicit = hostport
        .rsplit_once(':')
        .filter(|(h, p)| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (!h.contains(':') || h.ends_with(']'))
        })
        .map(|(h, _)| h);
    let (host, addr_s) = match explicit {
        Some(h) => (h, hostport.to_string()),
        None => (
            hostport,
            format!("{hostport}:{}", if tls { 443 } else { 80 }),
        ),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addr = addr_s
        .to_socket_addrs()
        .map_err(tsa_err)?
        .next()
        .ok_or_else(|| tsa_err("no address"))?;
    let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(tsa_err)?;
    tcp.set_read_timeout(Some(timeout)).map_err(tsa_err)?;
    tcp.set_write_timeout(Some(timeout)).map_err(tsa_err)?;
    let mut s: Box<dyn Stream> = if tls {
        let mut b = native_tls::TlsConnector::builder();
        b.min_protocol_version(Some(native_tls::Protocol::Tlsv12));
        for c in TLS_ROOTS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            b.add_root_certificate(c.clone());
        }
        let conn = b.build().map_err(tsa_err)?;
        Box::new(conn.connect(host, tcp).map_err(|e| {
            PdfError::Tsa(format!(
                "kết nối https tới {host} không an toàn hoặc thất bại: {e} (TLS handshake failed)"
            ))
        })?)
    } else {
        Box::new(tcp)
    };
    let head = match post {
        Some(body) => format!(
            "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
        None => format!("GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"),
    };
    s.write_all(head.as_bytes()).map_err(tsa_err)?;
    if let Some(body) = post {
        s.write_all(body).map_err(tsa_err)?;
    }
    let mut resp = Vec::new();
    s.take(16 * 1024 * 1024)
        .read_to_end(&mut resp)
        .map_err(tsa_err)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| tsa_err("bad HTTP response"))?;
    let headers = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = headers.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(tsa_err(format!("HTTP {status}")));
    }
    let mut body = resp[split + 4..].to_vec();
    if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body).ok_or_else(|| tsa_err("bad chunked body"))?;
    }
    Ok(body)
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(
            std::str::from_utf8(&b[..nl])
                .ok()?
                .split(';')
                .next()?
                .trim(),
            16,
        )
        .ok()?;
        b = &b[nl + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// Asks `url` for a timestamp token over a SHA-256 `digest`; checks status, imprint and nonce;
/// returns the token (DER ContentInfo).
pub fn timestamp(url: &str, digest: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut nonce = [0u8; 8];
    rand::Rng::fill(&mut rand::thread_rng(), &mut nonce[..]);
    nonce[0] &= 0x7f;
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: ID_SHA256,
                parameters: None,
            },
            hashed_message: OctetString::new(digest.to_vec()).map_err(tsa_err)?,
        },
        nonce: Uint::new(&nonce).map_err(tsa_err)?,
        cert_req: true,
    };
    let body = http_post(url, &req.to_der().map_err(tsa_err)?)?;
    let parts = Vec::<Any>::from_der(&body).map_err(|e| tsa_err(format!("TimeStampResp: {e}")))?;
    let status = parts
        .first()
        .and_then(|s| Vec::<Any>::from_der(&s.to_der().ok()?).ok())
        .and_then(|s| s.first().and_then(|x| x.decode_as::<u8>().ok()));
    if !matches!(status, Some(0 | 1)) {
        return Err(tsa_err(format!(
            "TSA từ chối (request not granted, status {status:?})"
        )));
    }
    let token = parts
        .get(1)
        .ok_or_else(|| tsa_err("no token"))?
        .to_der()
        .map_err(tsa_err)?;
    // Imprint and nonce must be ours.
    let sd = parse_signed_data(&token).map_err(tsa_err)?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(tsa_err("not a TSTInfo"));
    }
    let tst = sd
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|e| e.decode_as::<OctetString>().ok())
        .ok_or_else(|| tsa_err("no TSTInfo"))?;
    let fields = Vec::<Any>::from_der(tst.as_bytes()).map_err(tsa_err)?;
    let imprint = fields
        .get(2)
        .and_then(|m| m.to_der().ok())
        .and_then(|d| MessageImprint::from_der(&d).ok())
        .ok_or_else(|| tsa_err("bad messageImprint"))?;
    if imprint.hashed_message.as_bytes() != digest {
        return Err(tsa_err(
            "dấu thời gian không khớp (message imprint mismatch)",
        ));
    }
    let ours = Uint::new(&nonce).map_err(tsa_err)?;
    let nonce_ok = fields
        .iter()
        .skip(5)
        .any(|f| f.decode_as::<Uint>().is_ok_and(|n| n == ours));
    if !nonce_ok {
        return Err(tsa_err("nonce không khớp (nonce mismatch)"));
    }
    Ok(token)
}
