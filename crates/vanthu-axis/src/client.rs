//! The VPCP/VXP client: every call is a `POST {endpoint}/{path}` with signed `XroadVnpt-*`
//! headers; answers are the protocol's JSON envelope.

use std::time::Duration;

use std::io::{Read, Write};

use serde_json::Value;

use crate::error::AxisError;
use crate::proto::{self, AgencyEntry, Delivery, MessageType, PendingItem};
use crate::sign::{self, SignedHeaders};
use crate::stream;
use crate::transport::{Outgoing, Transport};

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Client settings (§6): endpoint, centre id, HMAC secret, own organ id.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL, e.g. `http://127.0.0.1:8080/XrdAdapter/adapter`.
    pub endpoint: String,
    /// `systemid` of our adapter/centre.
    pub system_id: String,
    /// HMAC key.
    pub secret: Secret,
    /// Our own organ id (`from` of sends).
    pub organ_id: String,
    /// Ordinary padded hex for `hash-file` instead of the SDK's unpadded form.
    pub hash_padded: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM bundle) for an `https://` endpoint, beside the
    /// operating system's store: an agency adapter with a private CA, the local test server.
    pub tls_ca_pem: Option<Vec<u8>>,
    /// The HTTP proxy to reach the axis through (`http://[user:password@]host:port`, https
    /// tunnelled with CONNECT). `None`: `HTTPS_PROXY`/`HTTP_PROXY` and `NO_PROXY` from the
    /// environment, if set, with loopback addresses always direct.
    pub proxy: Option<String>,
}

/// The proxy for a request to `url`: the configured one, else the environment's unless the
/// host is loopback or listed in `NO_PROXY` (names or domain suffixes, `*` for all).
fn proxy_for(url: &reqwest::Url, configured: Option<&str>) -> Option<reqwest::Url> {
    let parse = |p: &str| {
        let p = p.trim();
        let p = if p.contains("://") {
            p.to_string()
        } else {
            format!("http://{p}")
        };
        reqwest::Url::parse(&p).ok()
    };
    if let Some(p) = configured {
        return parse(p);
    }
    let host = url
        .host_str()?
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let no_proxy = var(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let listed = no_proxy.split(',').map(str::trim).any(|e| {
        let e = e
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .to_ascii_lowercase();
        !e.is_empty() && (e == "*" || host == e || host.ends_with(&format!(".{e}")))
    });
    if loopback || listed {
        return None;
    }
    let p = if url.scheme() == "https" {
        var(&["HTTPS_PROXY", "https_proxy"])
    } else {
        var(&["HTTP_PROXY", "http_proxy"])
    }?;
    parse(&p)
}

/// A blocking client of the VXP protocol.
pub struct VxpClient {
    cfg: ClientConfig,
    http: reqwest::blocking::Client,
    /// Server clock minus ours, from the last answer's `Date` (`i64::MIN`: not seen yet).
    skew_ms: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for VxpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VxpClient").field("cfg", &self.cfg).finish()
    }
}

impl VxpClient {
    /// A client for `cfg`.
    pub fn new(cfg: ClientConfig) -> Result<VxpClient, AxisError> {
        let https = cfg.endpoint.starts_with("https://");
        if !https && !cfg.endpoint.starts_with("http://") {
            return Err(AxisError::Config(format!(
                "địa chỉ trục phải bắt đầu bằng http:// hoặc https:// ({}) (endpoint must be an http(s):// URL)",
                cfg.endpoint
            )));
        }
        let mut b = reqwest::blocking::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(Duration::from_secs(10))
            .proxy({
                let configured = cfg.proxy.clone();
                reqwest::Proxy::custom(move |url| proxy_for(url, configured.as_deref()))
            })
            .tcp_nodelay(true)
            .user_agent(sign::USER_AGENT)
            // the OS's TLS: SChannel and the Windows certificate store, OpenSSL here
            .tls_backend_native()
            .tls_version_min(reqwest::tls::Version::TLS_1_2);
        if let Some(pem) = &cfg.tls_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    AxisError::Config(
                        "tệp chứng thư CA cho kết nối https không đọc được (cần PEM) (the TLS CA file is not a PEM certificate)"
                            .into(),
                    )
                })?;
            b = b.tls_certs_merge(certs);
        }
        let http = b.build().map_err(|e| AxisError::Config(error_chain(&e)))?;
        Ok(VxpClient {
            cfg,
            http,
            skew_ms: std::sync::atomic::AtomicI64::new(i64::MIN),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Signs the logical headers of one call: timestamp, systemid, Content-Type, then the
    /// call's own parameters.
    pub fn sign_call(&self, content_type: &str, params: &[(&str, &str)]) -> SignedHeaders {
        let ts = sign::protocol_timestamp(sign::now_millis());
        let mut logical: Vec<(&str, &str)> = vec![
            ("timestamp", ts.as_str()),
            ("systemid", self.cfg.system_id.as_str()),
            ("Content-Type", content_type),
        ];
        logical.extend_from_slice(params);
        sign::sign(self.cfg.secret.expose(), &logical)
    }

    /// One protocol call; returns the parsed JSON of a successful (`OK`) answer.
    pub fn call(
        &self,
        path: &str,
        params: &[(&str, &str)],
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Value, AxisError> {
        let resp = self.post(path, params, content_type, body.into())?;
        let status = resp.status();
        let bytes = resp.bytes().map_err(|e| self.transport_error(path, &e))?;
        let v: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                return Err(AxisError::BadAnswer(format!(
                    "{path}: HTTP {}, không phải JSON (not JSON: {e})",
                    status.as_u16()
                )))
            }
        };
        check(path, status.as_u16(), &v)?;
        Ok(v)
    }

    fn post(
        &self,
        path: &str,
        params: &[(&str, &str)],
        content_type: &str,
        body: reqwest::blocking::Body,
    ) -> Result<reqwest::blocking::Response, AxisError> {
        let signed = self.sign_call(content_type, params);
        let url = format!("{}/{}", self.cfg.endpoint.trim_end_matches('/'), path);
        let mut req = self
            .http
            .post(&url)
            .header("Content-Type", content_type)
            .header(sign::VERSION_HEADER, sign::VERSION);
        for (k, v) in &signed.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req = req
            .header(sign::SIGN_HEADER, signed.sign_header.as_str())
            .header(sign::SIGN_HEADER_KEY, signed.sign_header_key.as_str())
            .header(sign::HASH_HEADER, signed.hash_header.as_str());
        let resp = req
            .body(body)
            .send()
            .map_err(|e| self.transport_error(path, &e))?;
        self.note_date(resp.headers());
        Ok(resp)
    }

    /// Remembers how far the server's clock (its `Date` header) is from ours.
    fn note_date(&self, headers: &reqwest::header::HeaderMap) {
        let Some(server) = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| httpdate::parse_http_date(s).ok())
        else {
            return;
        };
        let ms = |t: std::time::SystemTime| match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64),
        };
        let skew = ms(server) - ms(std::time::SystemTime::now());
        self.skew_ms
            .store(skew, std::sync::atomic::Ordering::Relaxed);
    }

    /// A transport failure, with the real reason when a TLS handshake failed: a streamed
    /// body hides a refused certificate behind "receiver is gone", so an `https` endpoint is
    /// asked once more without a body.
    fn transport_error(&self, path: &str, e: &dyn std::error::Error) -> AxisError {
        if self.cfg.endpoint.starts_with("https://") && !is_tls_failure(&error_chain(e)) {
            if let Err(p) = self.http.head(&self.cfg.endpoint).send() {
                if is_tls_failure(&error_chain(&p)) {
                    return transport_error(path, &p);
                }
            }
        }
        transport_error(path, e)
    }

    /// `countReceiveEdoc` / `countReceiveStatus`.
    pub fn count_pending(&self, kind: MessageType) -> Result<u64, AxisError> {
        let path = match kind {
            MessageType::Edoc => proto::COUNT_EDOC,
            MessageType::Status => proto::COUNT_STATUS,
        };
        let v = self.call(
            path,
            &[("servicetype", "eDoc"), ("messagetype", kind.as_str())],
            "application/json",
            Vec::new(),
        )?;
        v.get("count")
            .and_then(|c| {
                c.as_u64()
                    .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
            })
            .ok_or_else(|| AxisError::BadAnswer(format!("{path}: thiếu count (no count)")))
    }
}

/// Judges a parsed answer: `OK` with `ErrorCode` `"0"`, a final `FAIL`, or a retryable error.
fn check(path: &str, http: u16, v: &Value) -> Result<(), AxisError> {
    let st = v.get("status").and_then(Value::as_str);
    let code = match v.get("ErrorCode") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    match st {
        Some(s) if s.eq_ignore_ascii_case("OK") && code == proto::codes::OK => Ok(()),
        Some(_) if !code.is_empty() && code != proto::codes::OK => Err(AxisError::Fail {
            code,
            desc: v
                .get("ErrorDesc")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        }),
        _ if http >= 500 || http == 429 => {
            Err(AxisError::BadAnswer(format!("{path}: HTTP {http}")))
        }
        _ => Err(AxisError::BadAnswer(format!(
            "{path}: HTTP {http}, thiếu trường status (no status field)"
        ))),
    }
}

/// A transport failure, with a plain explanation when the TLS certificate was refused.
fn transport_error(path: &str, e: &dyn std::error::Error) -> AxisError {
    let chain = error_chain(e);
    if is_tls_failure(&chain) {
        AxisError::Transport(format!(
            "{path}: không xác thực được kết nối bảo mật với máy chủ trục: chứng thư TLS không tin cậy, sai tên máy hoặc máy chủ không dùng https; kiểm tra địa chỉ trục và chứng thư CA (--tls-ca) (TLS failed: {chain})"
        ))
    } else {
        AxisError::Transport(format!("{path}: {chain}"))
    }
}

/// Whether an error chain is a refused TLS handshake. URLs are left out first: a host name
/// such as `ssl-gw.example` must not make a refused connection look like a TLS failure.
fn is_tls_failure(chain: &str) -> bool {
    let mut text = String::with_capacity(chain.len());
    for word in chain.split_whitespace() {
        if !word.trim_start_matches('(').contains("://") {
            text.push_str(word);
            text.push(' ');
        }
    }
    let low = text.to_lowercase();
    [
        "certificate",
        "handshake",
        "ssl routines",
        "self signed",
        "self-signed",
        "unknown ca",
        "wrong version number",
    ]
    .iter()
    .any(|k| low.contains(k))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn data_array<T: serde::de::DeserializeOwned>(v: &Value, path: &str) -> Result<Vec<T>, AxisError> {
    match v.get("data") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(d) => serde_json::from_value(d.clone())
            .map_err(|e| AxisError::BadAnswer(format!("{path}: data: {e}"))),
    }
}

impl Transport for VxpClient {
    fn name(&self) -> &'static str {
        "vxp"
    }

    fn clock_skew_ms(&self) -> Option<i64> {
        match self.skew_ms.load(std::sync::atomic::Ordering::Relaxed) {
            i64::MIN => None,
            s => Some(s),
        }
    }

    fn list_pending(&self, kind: MessageType) -> Result<Vec<PendingItem>, AxisError> {
        let v = self.call(
            proto::GET_RECEIVED,
            &[("servicetype", "eDoc"), ("messagetype", kind.as_str())],
            "application/json",
            Vec::new(),
        )?;
        data_array(&v, proto::GET_RECEIVED)
    }

    fn download(&self, doc_id: &str, out: &mut dyn Write) -> Result<u64, AxisError> {
        let path = proto::GET_EDOC;
        let resp = self.post(
            path,
            &[("docId", doc_id)],
            "application/json",
            b"{}".to_vec().into(),
        )?;
        let http = resp.status().as_u16();
        let mut r = std::io::BufReader::with_capacity(64 * 1024, resp);
        let ans = match stream::read_answer(&mut r, out) {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData && http >= 400 => {
                return Err(AxisError::BadAnswer(format!("{path}: HTTP {http}")))
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(AxisError::BadAnswer(format!("{path}: {e}")))
            }
            Err(e) => return Err(AxisError::Transport(format!("{path}: {e}"))),
        };
        check(path, http, &Value::Object(ans.members))?;
        if !ans.had_data {
            return Err(AxisError::BadAnswer("getEdoc: thiếu data (no data)".into()));
        }
        Ok(ans.written)
    }

    fn ack(&self, doc_id: &str, ok: bool) -> Result<(), AxisError> {
        self.call(
            proto::UPDATE_STATUS,
            &[
                ("docId", doc_id),
                ("status", if ok { "done" } else { "fail" }),
            ],
            "application/json",
            b"{}".to_vec(),
        )?;
        Ok(())
    }

    fn send(&self, msg: Outgoing<'_>) -> Result<String, AxisError> {
        let to = serde_json::to_string(msg.to).expect("strings serialise");
        let hash = sign::hash_file_of_digest(&msg.sha256, self.cfg.hash_padded);
        let body = reqwest::blocking::Body::sized(
            msg.body.chain(std::io::Cursor::new(b"\r\n")),
            msg.size + 2,
        );
        let path = proto::SEND_EDOC;
        let resp = self.post(
            path,
            &[
                ("from", self.cfg.organ_id.as_str()),
                ("servicetype", "eDoc"),
                ("messagetype", msg.message_type.as_str()),
                ("to", to.as_str()),
                ("hash-file", hash.as_str()),
            ],
            "application/octet-stream",
            body,
        )?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().map_err(|e| self.transport_error(path, &e))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            AxisError::BadAnswer(format!(
                "{path}: HTTP {status}, không phải JSON (not JSON: {e})"
            ))
        })?;
        check(path, status, &v)?;
        v.get("DocId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| AxisError::BadAnswer("sendEdoc: thiếu DocId (no DocId)".into()))
    }

    fn delivery_report(&self, kind: MessageType, doc_id: &str) -> Result<Vec<Delivery>, AxisError> {
        let v = self.call(
            proto::GET_SENT,
            &[
                ("servicetype", "eDoc"),
                ("messagetype", kind.as_str()),
                ("docId", doc_id),
            ],
            "application/json",
            Vec::new(),
        )?;
        data_array(&v, proto::GET_SENT)
    }

    fn directory(&self) -> Result<Vec<AgencyEntry>, AxisError> {
        let v = self.call(proto::GET_AGENCIES, &[], "application/json", Vec::new())?;
        data_array(&v, proto::GET_AGENCIES)
    }
}

#[cfg(test)]
mod tests {
    use super::is_tls_failure;

    #[test]
    fn tls_failures_are_told_apart_from_other_transport_errors() {
        assert!(is_tls_failure(
            "error sending request for url (https://127.0.0.1:1/x): client error (Connect): error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed"
        ));
        assert!(is_tls_failure(
            "The certificate chain was issued by an authority that is not trusted"
        ));
        // a host name that merely contains the letters is not a TLS failure
        assert!(!is_tls_failure(
            "error sending request for url (https://ssl-handshake-certificate.example/adapter): tcp connect error: Connection refused (os error 111)"
        ));
        assert!(!is_tls_failure("operation timed out"));
    }
}
