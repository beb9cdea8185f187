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
/// `user:password@` in the URL is sent as HTTP Basic authentication (timestamp services that
/// sell accounts ask for it). Redirects (301, 302, 303, 307, 308: CRLs moved to a CDN, an
/// address moved to https) are followed up to 5 times, the request re-sent as it was, without
/// the credentials, and never from https back to http.
fn http(
    url: &str,
    post: Option<&[u8]>,
    content_type: &str,
    timeout: Duration,
) -> Result<Vec<u8>, PdfError> {
    let mut url = url.to_string();
    for _ in 0..=5 {
        match http_once(&url, post, content_type, timeout)? {
            Reply::Body(b) => return Ok(b),
            Reply::Redirect(to) => {
                let next = redirect_target(&url, &to);
                if url.starts_with("https://") && !next.starts_with("https://") {
                    return Err(tsa_err(format!(
                        "máy chủ chuyển hướng từ https về http, không theo (redirect from https to http refused): {next}"
                    )));
                }
                url = next;
            }
        }
    }
    Err(tsa_err(format!(
        "chuyển hướng quá nhiều lần (too many redirects), lần cuối tới {url}"
    )))
}

enum Reply {
    Body(Vec<u8>),
    Redirect(String),
}

/// An HTTP proxy: where it listens, and its `Proxy-Authorization` header line (or "").
#[derive(Clone, Debug, PartialEq)]
struct Proxy {
    hostport: String,
    auth: String,
}

/// Proxy settings given by the program (tests, a settings screen), which take precedence over
/// the environment.
static PROXY_SETTINGS: std::sync::Mutex<Option<(Option<String>, String)>> =
    std::sync::Mutex::new(None);

/// Sends the requests of this process (timestamps, CRLs, OCSP, CA certificates, remote signing)
/// through the HTTP proxy `url` (`http://[user:password@]host:port`), except to the hosts in
/// `no_proxy` (comma-separated names or domain suffixes, `*` for all). `None`: no proxy. Without
/// this call, the conventional variables `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (or their
/// lower-case forms) are used, and loopback addresses always go direct.
pub fn use_proxy(url: Option<&str>, no_proxy: &str) {
    *PROXY_SETTINGS.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((url.map(str::to_string), no_proxy.to_string()));
}

/// The proxy for a request to `host` over http or https, if any.
fn proxy_for(tls: bool, host: &str) -> Option<Proxy> {
    let env = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let set = PROXY_SETTINGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let (url, no_proxy) = match set {
        Some(s) => s,
        None => {
            let url = if tls {
                env(&["HTTPS_PROXY", "https_proxy"])
            } else {
                env(&["HTTP_PROXY", "http_proxy"])
            };
            // Loopback always goes direct (a local test or stand-in server).
            let no = std::env::var("NO_PROXY")
                .or_else(|_| std::env::var("no_proxy"))
                .unwrap_or_default();
            (url, format!("{no},localhost,127.0.0.1,::1"))
        }
    };
    let url = url?;
    if bypassed(&no_proxy, host) {
        return None;
    }
    let rest = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let (auth, hostport) = split_login(rest, "Proxy-Authorization");
    let hostport = if hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    Some(Proxy { hostport, auth })
}

/// Whether `host` is among the `NO_PROXY`-style exceptions: names, domain suffixes (`.gov.vn`,
/// `*.gov.vn` or `gov.vn` all take `dichvucong.gov.vn`), or `*`.
fn bypassed(no_proxy: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|e| {
            let e = e
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .to_ascii_lowercase();
            e == "*" || host == e || host.ends_with(&format!(".{e}"))
        })
}

/// Asks the proxy on `tcp` for a tunnel to `to` (`host:port`); Ok once it answers 2xx.
fn connect_tunnel(tcp: &mut TcpStream, to: &str, auth: &str) -> Result<(), PdfError> {
    tcp.write_all(format!("CONNECT {to} HTTP/1.1\r\nHost: {to}\r\n{auth}\r\n").as_bytes())
        .map_err(tsa_err)?;
    // Byte by byte up to the blank line: what follows belongs to the tunnel.
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut b).map_err(tsa_err)? == 0 || head.len() > 16 * 1024 {
            return Err(tsa_err("proxy closed the connection"));
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status.starts_with('2') {
        Ok(())
    } else if status == "407" {
        Err(tsa_err(
            "HTTP 407: máy chủ proxy đòi đăng nhập; ghi tài khoản trong địa chỉ proxy dạng \
             http://tên:mật-khẩu@proxy:cổng (the proxy wants credentials)",
        ))
    } else {
        Err(tsa_err(format!("proxy CONNECT {to}: HTTP {status}")))
    }
}

/// The absolute URL a `Location` header points to from `base`.
fn redirect_target(base: &str, location: &str) -> String {
    let location = location.trim();
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(r) = location.strip_prefix("//") {
        return format!("{scheme}://{r}");
    }
    let hostport = rest.split('/').next().unwrap_or("");
    let hostport = hostport.rsplit_once('@').map_or(hostport, |(_, h)| h);
    if location.starts_with('/') {
        return format!("{scheme}://{hostport}{location}");
    }
    let path = rest[rest.find('/').unwrap_or(rest.len())..]
        .split(['?', '#'])
        .next()
        .unwrap_or("");
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    format!("{scheme}://{hostport}{dir}{location}")
}

/// `user:password@host:port` split into a Basic `header` line (the user information
/// percent-decoded; "" without one) and `host:port`.
fn split_login<'a>(hostport: &'a str, header: &str) -> (String, &'a str) {
    match hostport.rsplit_once('@') {
        Some((user, h)) => {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(percent_decode(user));
            (format!("{header}: Basic {b64}\r\n"), h)
        }
        None => (String::new(), hostport),
    }
}

/// `%XX` escapes of a URL's user information decoded.
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn http_once(
    url: &str,
    post: Option<&[u8]>,
    content_type: &str,
    timeout: Duration,
) -> Result<Reply, PdfError> {
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
    let (auth, hostport) = split_login(hostport, "Authorization");
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
    let proxy = proxy_for(tls, host);
    let connect_to = proxy
        .as_ref()
        .map_or(addr_s.as_str(), |p| p.hostport.as_str());
    let addr = connect_to
        .to_socket_addrs()
        .map_err(tsa_err)?
        .next()
        .ok_or_else(|| tsa_err("no address"))?;
    let mut tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| match &proxy {
        Some(p) => tsa_err(format!(
            "không kết nối được máy chủ proxy {}: {e} (proxy unreachable)",
            p.hostport
        )),
        None => tsa_err(e),
    })?;
    tcp.set_read_timeout(Some(timeout)).map_err(tsa_err)?;
    tcp.set_write_timeout(Some(timeout)).map_err(tsa_err)?;
    // Through a proxy: https is tunnelled with CONNECT; http asks the proxy for the whole URL.
    let mut target = path.to_string();
    let mut proxy_auth = String::new();
    if let Some(p) = &proxy {
        if tls {
            connect_tunnel(&mut tcp, &addr_s, &p.auth)?;
        } else {
            target = format!("http://{hostport}{path}");
            proxy_auth = p.auth.clone();
        }
    }
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
            "POST {target} HTTP/1.1\r\nHost: {hostport}\r\n{auth}{proxy_auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
        None => format!(
            "GET {target} HTTP/1.1\r\nHost: {hostport}\r\n{auth}{proxy_auth}Connection: close\r\n\r\n"
        ),
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
    if matches!(status, "301" | "302" | "303" | "307" | "308") {
        let location = headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("location")
                .then(|| v.trim().to_string())
        });
        if let Some(to) = location.filter(|l| !l.is_empty()) {
            return Ok(Reply::Redirect(to));
        }
    }
    if status == "407" {
        return Err(tsa_err(
            "HTTP 407: máy chủ proxy đòi đăng nhập; ghi tài khoản trong địa chỉ proxy dạng \
             http://tên:mật-khẩu@proxy:cổng (the proxy wants credentials)",
        ));
    }
    if status == "401" || status == "403" {
        return Err(tsa_err(format!(
            "HTTP {status}: máy chủ đòi đăng nhập hoặc từ chối; tài khoản ghi trong địa chỉ dạng https://tên:mật-khẩu@máy-chủ/… (the server wants credentials or refused them)"
        )));
    }
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
    Ok(Reply::Body(body))
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

#[cfg(test)]
mod redirect_tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_request() {
        let base = "http://u:p@ca.example:8080/crl/sub/ca.crl?x=1";
        let t = |l: &str| redirect_target(base, l);
        assert_eq!(t("https://cdn.example/a.crl"), "https://cdn.example/a.crl");
        assert_eq!(t("//cdn.example/a.crl"), "http://cdn.example/a.crl");
        assert_eq!(t("/moi/ca.crl"), "http://ca.example:8080/moi/ca.crl");
        assert_eq!(t("ca2.crl"), "http://ca.example:8080/crl/sub/ca2.crl");
        assert_eq!(redirect_target("http://h", "x"), "http://h/x");
    }

    #[test]
    fn proxy_exceptions_match_names_and_domains() {
        for (list, host, yes) in [
            ("", "tsa.gov.vn", false),
            ("*", "tsa.gov.vn", true),
            ("gov.vn", "tsa.gov.vn", true),
            (".gov.vn", "TSA.Gov.VN", true),
            ("*.gov.vn", "tsa.gov.vn", true),
            ("localhost, 127.0.0.1", "127.0.0.1", true),
            ("gov.vn", "notgov.vn", false),
            ("example.org", "127.0.0.1", false),
        ] {
            assert_eq!(bypassed(list, host), yes, "{list:?} {host}");
        }
    }

    #[test]
    fn user_information_is_percent_decoded() {
        assert_eq!(
            percent_decode("van%20thu:m%E1%BA%ADt"),
            "van thu:mật".as_bytes()
        );
        assert_eq!(percent_decode("a%2"), b"a%2");
        assert_eq!(percent_decode("%zz%41"), b"%zzA");
    }
}
