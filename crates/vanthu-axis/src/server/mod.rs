//! The local axis server: the VXP protocol over HTTP/1.1 (hyper + tokio) on a loopback port.
//!
//! It checks the same signed headers and HMAC as the real axis and answers with the same JSON
//! envelope; agencies have durable per-agency queues ([`storage`]); faults are injected on
//! request through `POST /admin/faults` ([`faults`]). Admin routes (`/admin/...`) take plain
//! JSON and no signature: bind to loopback only.

// Handlers short-circuit with the finished failure answer; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

pub mod faults;
pub mod storage;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::header::{HeaderMap, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};

use crate::error::AxisError;
use crate::proto::{self, codes, MessageType};
use crate::sign;
pub use faults::{Fault, FaultKind};
pub use storage::AgencyAccount;
use storage::Storage;

/// Largest request body accepted (a package plus framing).
pub const MAX_BODY: usize = 300 * 1024 * 1024;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks one).
    pub listen: SocketAddr,
    /// Durable data folder.
    pub data_dir: PathBuf,
    /// Agencies to add at start (kept with those already stored).
    pub agencies: Vec<AgencyAccount>,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsIdentity>,
    /// When set, `/admin/...` requests must carry it in the `X-Vanthu-Admin` header (other
    /// local users of the machine cannot then inject faults or add agencies).
    pub admin_token: Option<String>,
}

/// The server's TLS certificate chain and private key, both PEM (PKCS#8 key).
#[derive(Clone)]
pub struct TlsIdentity {
    /// Certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// PKCS#8 private key.
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity(***)")
    }
}

impl TlsIdentity {
    /// Reads the certificate and key files.
    pub fn from_files(cert: &std::path::Path, key: &std::path::Path) -> Result<Self, AxisError> {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| {
                AxisError::Config(format!(
                    "không đọc được tệp {}: {e} (cannot read the TLS file)",
                    p.display()
                ))
            })
        };
        Ok(TlsIdentity {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
        })
    }

    fn acceptor(&self) -> Result<tokio_native_tls::TlsAcceptor, AxisError> {
        // native-tls takes a key that does not belong to the certificate and fails every
        // handshake later: check the pair now
        let bad = |what: &str| {
            AxisError::Config(format!(
                "chứng thư hoặc khóa TLS của máy chủ không hợp lệ: {what} (bad TLS certificate or key)"
            ))
        };
        let cert = openssl::x509::X509::from_pem(&self.cert_pem)
            .map_err(|_| bad("chứng thư không phải PEM (certificate is not PEM)"))?;
        let key = openssl::pkey::PKey::private_key_from_pem(&self.key_pem)
            .map_err(|_| bad("khóa không phải PEM (key is not PEM)"))?;
        let matches = cert
            .public_key()
            .map(|p| p.public_eq(&key))
            .unwrap_or(false);
        if !matches {
            return Err(bad(
                "khóa không khớp với chứng thư (the key does not belong to the certificate)",
            ));
        }
        let id = native_tls::Identity::from_pkcs8(&self.cert_pem, &self.key_pem).map_err(|e| {
            AxisError::Config(format!(
                "chứng thư hoặc khóa TLS của máy chủ không hợp lệ (cần PEM, khóa PKCS#8): {e} (bad TLS certificate or key)"
            ))
        })?;
        let acc = native_tls::TlsAcceptor::builder(id)
            .min_protocol_version(Some(native_tls::Protocol::Tlsv12))
            .build()
            .map_err(|e| AxisError::Config(format!("TLS: {e}")))?;
        Ok(tokio_native_tls::TlsAcceptor::from(acc))
    }
}

struct Shared {
    admin_token: Option<String>,
    storage: Mutex<Storage>,
    faults: Mutex<faults::Faults>,
    requests: Mutex<BTreeMap<String, u64>>,
}

/// A running server (its own thread and runtime); stopped on drop.
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` or `https://ADDR` — the client endpoint.
    pub fn endpoint(&self) -> String {
        endpoint_of(self.addr, self.tls)
    }

    /// Stops accepting and joins the server thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// The client endpoint of a server bound to `addr`.
pub fn endpoint_of(addr: SocketAddr, tls: bool) -> String {
    format!("{}://{addr}", if tls { "https" } else { "http" })
}

fn prepare(
    cfg: &ServerConfig,
) -> Result<(Arc<Shared>, Option<tokio_native_tls::TlsAcceptor>), AxisError> {
    if !cfg.listen.ip().is_loopback() {
        return Err(AxisError::Config(format!(
            "máy chủ trục cục bộ chỉ nghe trên địa chỉ loopback, không phải {} (local axis server listens on loopback only)",
            cfg.listen
        )));
    }
    let mut st = Storage::open(&cfg.data_dir)?;
    for a in &cfg.agencies {
        st.put_agency(a.clone())?;
    }
    let tls = cfg.tls.as_ref().map(TlsIdentity::acceptor).transpose()?;
    Ok((
        Arc::new(Shared {
            admin_token: cfg.admin_token.clone().filter(|t| !t.is_empty()),
            storage: Mutex::new(st),
            faults: Mutex::new(faults::Faults::default()),
            requests: Mutex::new(BTreeMap::new()),
        }),
        tls,
    ))
}

/// Starts a server on its own thread; returns once it listens.
pub fn start(cfg: ServerConfig) -> Result<RunningServer, AxisError> {
    let (shared, tls) = prepare(&cfg)?;
    let is_tls = tls.is_some();
    let std_listener = std::net::TcpListener::bind(cfg.listen)?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("vanthu-axis-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(std_listener).expect("listener to tokio");
                accept_loop(listener, shared, tls, rx).await;
            });
        })?;
    Ok(RunningServer {
        addr,
        tls: is_tls,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

/// Runs a server in the calling thread until the process ends; `ready` is told the client
/// endpoint (`http://ADDR` or `https://ADDR`) once it listens.
pub fn run(cfg: ServerConfig, ready: impl FnOnce(String)) -> Result<(), AxisError> {
    let (shared, tls) = prepare(&cfg)?;
    let std_listener = std::net::TcpListener::bind(cfg.listen)?;
    std_listener.set_nonblocking(true)?;
    ready(endpoint_of(std_listener.local_addr()?, tls.is_some()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (_tx, rx) = tokio::sync::oneshot::channel();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        accept_loop(listener, shared, tls, rx).await;
        Ok::<_, std::io::Error>(())
    })?;
    Ok(())
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_native_tls::TlsAcceptor>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let tls = tls.map(Arc::new);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => {
                let Ok((stream, _)) = r else { continue };
                // small frames (the JSON envelope around a streamed package) must not wait
                // for delayed ACKs
                let _ = stream.set_nodelay(true);
                let sh = shared.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(sh.clone(), req));
                    let served = match tls {
                        None => {
                            http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), svc)
                                .await
                        }
                        Some(acc) => {
                            // a failed handshake (untrusted certificate on the client side,
                            // plain HTTP to an HTTPS port) closes only this connection
                            let stream = match tokio::time::timeout(
                                Duration::from_secs(30),
                                acc.accept(stream),
                            )
                            .await
                            {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => {
                                    tracing::debug!("bắt tay TLS thất bại (TLS handshake failed): {e}");
                                    return;
                                }
                                Err(_) => return,
                            };
                            http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), svc)
                                .await
                        }
                    };
                    if let Err(e) = served {
                        tracing::debug!("kết nối đóng (connection closed): {e}");
                    }
                });
            }
        }
    }
}

type Resp = Response<BoxBody<Bytes, std::io::Error>>;

fn full(b: Bytes) -> BoxBody<Bytes, std::io::Error> {
    Full::new(b).map_err(|never| match never {}).boxed()
}

/// A response body fed chunk by chunk from a reader thread, with an exact length.
struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    remaining: u64,
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.rx.poll_recv(cx) {
            std::task::Poll::Ready(Some(Ok(b))) => {
                self.remaining = self.remaining.saturating_sub(b.len() as u64);
                std::task::Poll::Ready(Some(Ok(Frame::data(b))))
            }
            std::task::Poll::Ready(Some(Err(e))) => std::task::Poll::Ready(Some(Err(e))),
            std::task::Poll::Ready(None) => std::task::Poll::Ready(None),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// `getEdoc`'s answer, streamed: the JSON envelope around the package, base64-encoded in
/// chunks from its file (never the whole package in memory).
fn stream_package(path: PathBuf, len: u64) -> Resp {
    let prefix = Bytes::from_static(
        "{\"status\":\"OK\",\"ErrorCode\":\"0\",\"ErrorDesc\":\"Thành công\",\"data\":\""
            .as_bytes(),
    );
    let suffix = Bytes::from_static(b"\"}");
    let total = prefix.len() as u64 + len.div_ceil(3) * 4 + suffix.len() as u64;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        use std::io::Read;
        let _ = tx.blocking_send(Ok(prefix));
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let mut buf = vec![0u8; 48 * 1024];
        loop {
            // fill the buffer completely (a multiple of 3) unless the file ends
            let mut n = 0;
            while n < buf.len() {
                match f.read(&mut buf[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
            if n == 0 {
                break;
            }
            let enc = base64::engine::general_purpose::STANDARD.encode(&buf[..n]);
            if tx.blocking_send(Ok(Bytes::from(enc))).is_err() {
                return; // the client went away
            }
            if n < buf.len() {
                break;
            }
        }
        let _ = tx.blocking_send(Ok(suffix));
    });
    let mut r = Response::new(
        ChannelBody {
            rx,
            remaining: total,
        }
        .boxed(),
    );
    r.headers_mut().insert(
        CONTENT_TYPE,
        "application/json; charset=utf-8"
            .parse()
            .expect("valid header"),
    );
    r
}

/// A request body: small ones in memory, `sendEdoc` packages received into a file.
enum ReqBody {
    Bytes(#[allow(dead_code)] Bytes),
    File {
        tmp: PathBuf,
        /// Length without the trailing CRLF framing.
        pkg_len: u64,
        sha_pkg: [u8; 32],
        sha_full: [u8; 32],
    },
}

/// The connection is dropped without an answer (fault injection).
#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropped by fault injection")
    }
}
impl std::error::Error for Dropped {}

fn json_resp(status: StatusCode, v: &Value) -> Resp {
    let mut r = Response::new(full(Bytes::from(
        serde_json::to_vec(v).expect("json serialises"),
    )));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        "application/json; charset=utf-8"
            .parse()
            .expect("valid header"),
    );
    r
}

/// The protocol's failure envelope.
fn fail(http: u16, code: &str, desc: impl Into<String>) -> Resp {
    json_resp(
        StatusCode::from_u16(http).unwrap_or(StatusCode::OK),
        &json!({"status": "FAIL", "ErrorCode": code, "ErrorDesc": desc.into()}),
    )
}

/// The protocol's success envelope with extra fields.
fn ok(extra: Value) -> Resp {
    let mut m = Map::new();
    m.insert("status".into(), json!("OK"));
    m.insert("ErrorCode".into(), json!(codes::OK));
    m.insert("ErrorDesc".into(), json!("Thành công"));
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    json_resp(StatusCode::OK, &Value::Object(m))
}

struct Caller {
    code: String,
    params: BTreeMap<String, String>,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the signed headers exactly as the axis does; returns the caller and the verified
/// parameters, or the failure answer.
fn verify(st: &Storage, h: &HeaderMap) -> Result<Caller, Resp> {
    let (Some(sh), Some(keys), Some(mac)) = (
        header(h, sign::SIGN_HEADER),
        header(h, sign::SIGN_HEADER_KEY),
        header(h, sign::HASH_HEADER),
    ) else {
        return Err(fail(
            401,
            codes::SIGN_MISSING,
            "Thiếu tiêu đề ký XroadVnpt-sign-header, -sign-header-key hoặc -hash-header (missing signing headers)",
        ));
    };
    let obj: Map<String, Value> = serde_json::from_str(sh).map_err(|_| {
        fail(
            401,
            codes::SIGN_INVALID,
            "XroadVnpt-sign-header không phải JSON (sign header is not JSON)",
        )
    })?;
    let Some(system_id) = obj.get("XroadVnpt-systemid").and_then(Value::as_str) else {
        return Err(fail(
            401,
            codes::SIGN_MISSING,
            "Thiếu systemid (missing systemid)",
        ));
    };
    let Some(acct) = st.agency_by_system(system_id) else {
        return Err(fail(
            401,
            codes::UNKNOWN_SYSTEM,
            format!("systemid {system_id} chưa đăng ký trên trục (unknown systemid)"),
        ));
    };
    if !sign::hmac_verify(acct.secret.as_bytes(), sh.as_bytes(), mac) {
        return Err(fail(
            401,
            codes::SIGN_INVALID,
            "Chữ ký HMAC của tiêu đề không đúng (header HMAC does not verify)",
        ));
    }
    let mut params = BTreeMap::new();
    let names: Vec<&str> = keys.split(';').filter(|s| !s.is_empty()).collect();
    if names.len() != obj.len() {
        return Err(fail(
            401,
            codes::HEADER_MISMATCH,
            "Danh sách khóa ký không khớp tiêu đề đã ký (sign-header-key does not match)",
        ));
    }
    for n in names {
        let full = format!("{}{n}", sign::PREFIX);
        let Some(v) = obj.get(&full).and_then(Value::as_str) else {
            return Err(fail(
                401,
                codes::HEADER_MISMATCH,
                format!("Khóa {n} không có trong tiêu đề đã ký (key not signed)"),
            ));
        };
        if header(h, &full) != Some(v) {
            return Err(fail(
                401,
                codes::HEADER_MISMATCH,
                format!("Tiêu đề {full} khác giá trị đã ký (header differs from signed value)"),
            ));
        }
        params.insert(n.to_string(), v.to_string());
    }
    // every XroadVnpt-* parameter that travels must be signed
    for (k, _) in h.iter() {
        let k = k.as_str();
        if let Some(rest) = k
            .get(..sign::PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(sign::PREFIX))
            .map(|_| &k[sign::PREFIX.len()..])
        {
            let known = ["sign-header", "sign-header-key", "hash-header", "version"];
            if !known.iter().any(|x| x.eq_ignore_ascii_case(rest))
                && !params.keys().any(|p| p.eq_ignore_ascii_case(rest))
            {
                return Err(fail(
                    401,
                    codes::HEADER_MISMATCH,
                    format!("Tiêu đề {k} không được ký (unsigned parameter)"),
                ));
            }
        }
    }
    match params.get("timestamp") {
        Some(t) if sign::is_protocol_timestamp(t) => {}
        _ => {
            return Err(fail(
                401,
                codes::BAD_TIMESTAMP,
                "timestamp thiếu hoặc sai định dạng ddMMyyyyTHHmmss+SSSS (bad timestamp)",
            ))
        }
    }
    Ok(Caller {
        code: acct.code.clone(),
        params,
    })
}

async fn handle(sh: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, Dropped> {
    let path = req.uri().path().to_string();
    if let Some(rest) = path.strip_prefix("/admin/") {
        return Ok(admin(&sh, rest.to_string(), req).await);
    }
    let op = path.rsplit('/').next().unwrap_or("").to_string();
    *sh.requests
        .lock()
        .expect("lock")
        .entry(op.clone())
        .or_default() += 1;
    if req.method() != Method::POST {
        return Ok(fail(
            405,
            codes::UNKNOWN_OPERATION,
            "Chỉ nhận POST (POST only)",
        ));
    }
    let caller = {
        let st = sh.storage.lock().expect("storage lock");
        match verify(&st, req.headers()) {
            Ok(c) => c,
            Err(r) => {
                tracing::warn!(op, "từ chối yêu cầu ký sai (rejected badly signed request)");
                return Ok(r);
            }
        }
    };
    let fault = sh.faults.lock().expect("lock").take(&op, &caller.code);
    if let Some(f) = &fault {
        tracing::info!(op, kind = ?f.kind, "gây lỗi theo yêu cầu (injecting fault)");
        match f.kind {
            FaultKind::Drop => return Err(Dropped),
            FaultKind::Delay => tokio::time::sleep(Duration::from_millis(f.delay_ms)).await,
            FaultKind::Error5xx => {
                let mut r = Response::new(full(Bytes::from_static(b"Service Unavailable")));
                *r.status_mut() = StatusCode::from_u16(f.status.unwrap_or(503))
                    .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                return Ok(r);
            }
            _ => {}
        }
    }
    let body = if op == proto::SEND_EDOC {
        let tmp = sh.storage.lock().expect("storage lock").tmp_path();
        let tmp = match tmp {
            Ok(t) => t,
            Err(e) => return Ok(storage_fail(e)),
        };
        match receive_to_file(req.into_body(), &tmp).await {
            Ok(Some(b)) => b,
            Ok(None) => {
                let _ = std::fs::remove_file(&tmp);
                return Ok(fail(
                    413,
                    codes::BAD_PARAM,
                    "Gói tin vượt giới hạn kích thước (package too large)",
                ));
            }
            Err(_) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(Dropped);
            }
        }
    } else {
        match Limited::new(req.into_body(), 1024 * 1024).collect().await {
            Ok(b) => ReqBody::Bytes(b.to_bytes()),
            Err(_) => return Err(Dropped),
        }
    };
    let duplicate = fault
        .as_ref()
        .is_some_and(|f| f.kind == FaultKind::Duplicate);
    let sh2 = sh.clone();
    let resp = tokio::task::spawn_blocking(move || {
        let mut st = sh2.storage.lock().expect("storage lock");
        let r = operation(&mut st, &op, &caller, &body, duplicate);
        if let ReqBody::File { tmp, .. } = &body {
            let _ = std::fs::remove_file(tmp); // still there only if the send was refused
        }
        r
    })
    .await
    .unwrap_or_else(|_| fail(500, codes::STORAGE, "Lỗi máy chủ (server error)"));
    match fault.as_ref().map(|f| f.kind) {
        Some(FaultKind::DropAfter) => Err(Dropped),
        Some(FaultKind::ClockSkew) => {
            let skew = fault.as_ref().map_or(0, |f| f.skew_secs);
            let now = std::time::SystemTime::now();
            let at = if skew >= 0 {
                now + Duration::from_secs(skew as u64)
            } else {
                now - Duration::from_secs(skew.unsigned_abs())
            };
            let mut resp = resp;
            if let Ok(v) = hyper::header::HeaderValue::from_str(&httpdate::fmt_http_date(at)) {
                resp.headers_mut().insert(hyper::header::DATE, v);
            }
            Ok(resp)
        }
        Some(FaultKind::Truncate) => {
            let (parts, body) = resp.into_parts();
            let all = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let half = all.slice(..all.len() / 2);
            let mut parts = parts;
            parts.headers.remove(hyper::header::CONTENT_LENGTH);
            Ok(Response::from_parts(parts, full(half)))
        }
        _ => Ok(resp),
    }
}

/// Receives a `sendEdoc` body into `tmp` while hashing it (with and without the trailing CRLF
/// framing). `None` when it exceeds [`MAX_BODY`].
async fn receive_to_file(
    mut body: Incoming,
    tmp: &std::path::Path,
) -> std::io::Result<Option<ReqBody>> {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    let mut f = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(tmp)?);
    let (mut hf, mut hp) = (Sha256::new(), Sha256::new());
    let mut hold: Vec<u8> = Vec::with_capacity(4);
    let mut len: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(std::io::Error::other)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        len += data.len() as u64;
        if len > MAX_BODY as u64 {
            return Ok(None);
        }
        hf.update(&data);
        f.write_all(&data)?;
        // the package hash holds the last two bytes back: they may be the CRLF framing
        if data.len() >= 2 {
            hp.update(&hold);
            hp.update(&data[..data.len() - 2]);
            hold.clear();
            hold.extend_from_slice(&data[data.len() - 2..]);
        } else {
            hold.extend_from_slice(&data);
            if hold.len() > 2 {
                let extra = hold.len() - 2;
                hp.update(&hold[..extra]);
                hold.drain(..extra);
            }
        }
    }
    f.flush()?;
    let (pkg_len, sha_pkg) = if hold == b"\r\n" {
        (len - 2, hp.finalize())
    } else {
        hp.update(&hold);
        (len, hp.finalize())
    };
    Ok(Some(ReqBody::File {
        tmp: tmp.to_path_buf(),
        pkg_len,
        sha_pkg: sha_pkg.into(),
        sha_full: hf.finalize().into(),
    }))
}

fn param<'a>(c: &'a Caller, name: &str) -> Result<&'a str, Resp> {
    c.params
        .get(name)
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            fail(
                200,
                codes::BAD_PARAM,
                format!("Thiếu tham số {name} (missing parameter)"),
            )
        })
}

fn message_type(c: &Caller) -> Result<MessageType, Resp> {
    let t = param(c, "messagetype")?;
    MessageType::parse(t).ok_or_else(|| {
        fail(
            200,
            codes::BAD_PARAM,
            format!("messagetype {t} không hợp lệ (invalid messagetype)"),
        )
    })
}

fn now_text() -> String {
    sign::vn_datetime(sign::now_millis())
}

fn operation(st: &mut Storage, op: &str, c: &Caller, body: &ReqBody, dup: bool) -> Resp {
    match run_op(st, op, c, body, dup) {
        Ok(r) | Err(r) => r,
    }
}

fn storage_fail(e: AxisError) -> Resp {
    tracing::error!("lỗi lưu trữ máy chủ trục (axis storage error): {e}");
    fail(
        500,
        codes::STORAGE,
        format!("Lỗi lưu trữ (storage error): {e}"),
    )
}

fn run_op(st: &mut Storage, op: &str, c: &Caller, body: &ReqBody, dup: bool) -> Result<Resp, Resp> {
    match op {
        proto::SEND_EDOC => {
            let from = param(c, "from")?;
            if from != c.code {
                return Err(fail(
                    200,
                    codes::WRONG_SENDER,
                    format!(
                        "from {from} không phải đơn vị của systemid này (from is not the caller)"
                    ),
                ));
            }
            let mt = message_type(c)?;
            let to: Vec<String> = serde_json::from_str(param(c, "to")?).map_err(|_| {
                fail(
                    200,
                    codes::BAD_PARAM,
                    "to phải là mảng JSON (to must be a JSON array)",
                )
            })?;
            if to.is_empty() {
                return Err(fail(200, codes::BAD_PARAM, "to rỗng (no recipient)"));
            }
            let mut seen = std::collections::BTreeSet::new();
            for t in &to {
                if !st.agencies.contains_key(t) {
                    return Err(fail(
                        200,
                        codes::UNKNOWN_RECIPIENT,
                        format!("Không tìm thấy đơn vị nhận {t} trên trục (unknown recipient)"),
                    ));
                }
                if !seen.insert(t) {
                    return Err(fail(
                        200,
                        codes::BAD_PARAM,
                        format!("Đơn vị nhận {t} lặp lại (duplicate recipient)"),
                    ));
                }
            }
            let ReqBody::File {
                tmp,
                pkg_len,
                sha_pkg,
                sha_full,
            } = body
            else {
                return Err(fail(200, codes::BAD_PARAM, "Gói tin rỗng (empty package)"));
            };
            if *pkg_len == 0 {
                return Err(fail(200, codes::BAD_PARAM, "Gói tin rỗng (empty package)"));
            }
            let hf = param(c, "hash-file")?;
            let ok_hash = [sha_pkg, sha_full].iter().any(|d| {
                sign::hash_file_of_digest(&d[..], false) == hf
                    || sign::hash_file_of_digest(&d[..], true) == hf
            });
            if !ok_hash {
                return Err(fail(
                    200,
                    codes::BAD_HASH_FILE,
                    "hash-file không khớp nội dung gói tin (hash-file does not match)",
                ));
            }
            let sent = st
                .accept_file(
                    from,
                    mt.as_str(),
                    &to,
                    tmp,
                    *pkg_len,
                    if dup { 2 } else { 1 },
                    &now_text(),
                )
                .map_err(storage_fail)?;
            tracing::info!(
                from,
                doc_id = sent.doc_id,
                copies = sent.receivers.len(),
                "nhận gói gửi (accepted package)"
            );
            Ok(ok(json!({ "DocId": sent.doc_id })))
        }
        proto::GET_RECEIVED => {
            let mt = message_type(c)?;
            let mut items: Vec<_> = st
                .items
                .values()
                .filter(|i| {
                    i.to == c.code && i.status == "pending" && i.message_type == mt.as_str()
                })
                .collect();
            items.sort_by_key(|i| i.seq);
            let data: Vec<Value> = items
                .iter()
                .map(|i| {
                    json!({
                        "docId": i.doc_id, "from": i.from, "to": i.to,
                        "messageType": i.message_type, "created_time": i.created_time,
                        "status": "initial", "status_desc": "Chưa nhận",
                    })
                })
                .collect();
            Ok(ok(json!({ "data": data })))
        }
        proto::COUNT_EDOC | proto::COUNT_STATUS => {
            let mt = if op == proto::COUNT_EDOC {
                "edoc"
            } else {
                "status"
            };
            let n = st
                .items
                .values()
                .filter(|i| i.to == c.code && i.status == "pending" && i.message_type == mt)
                .count();
            Ok(ok(json!({ "count": n })))
        }
        proto::GET_EDOC => {
            let id = param(c, "docId")?;
            let it = st
                .items
                .get(id)
                .filter(|i| i.to == c.code)
                .ok_or_else(|| not_found(id))?;
            let (path, len) = st.package_file(it).map_err(storage_fail)?;
            Ok(stream_package(path, len))
        }
        proto::UPDATE_STATUS => {
            let id = param(c, "docId")?;
            let status = param(c, "status")?;
            if status != "done" && status != "fail" {
                return Err(fail(
                    200,
                    codes::BAD_PARAM,
                    format!("status {status} không hợp lệ: done hoặc fail (invalid status)"),
                ));
            }
            let mut it = st
                .items
                .get(id)
                .filter(|i| i.to == c.code)
                .cloned()
                .ok_or_else(|| not_found(id))?;
            if it.status != status {
                it.status = status.to_string();
                it.received_time = now_text();
                st.save_item(&it).map_err(storage_fail)?;
                st.items.insert(it.doc_id.clone(), it);
            }
            Ok(ok(json!({})))
        }
        proto::GET_SENT => {
            let id = param(c, "docId")?;
            let s = st
                .sent
                .get(id)
                .filter(|s| s.from == c.code)
                .ok_or_else(|| not_found(id))?;
            let data: Vec<Value> = s
                .receivers
                .iter()
                .filter_map(|r| st.items.get(r))
                .map(|i| {
                    json!({
                        "receiverDocId": i.doc_id, "toCode": i.to, "sentTime": s.sent_time,
                        "receivedTime": i.received_time, "sendStatus": "done",
                        "sendStatusDesc": "Đã gửi", "receiveStatus": i.status,
                        "receiveStatusDesc": match i.status.as_str() {
                            "done" => "Đã nhận", "fail" => "Nhận lỗi", _ => "Chưa nhận" },
                    })
                })
                .collect();
            Ok(ok(json!({ "data": data })))
        }
        proto::GET_AGENCIES | "getAgenciesListQD20" => {
            let data: Vec<Value> = st
                .agencies
                .values()
                .enumerate()
                .map(|(i, a)| {
                    json!({"id": (i + 1).to_string(), "code": a.code, "name": a.name,
                           "mail": a.mail, "pid": "", "oldCode": "", "code102": a.code})
                })
                .collect();
            Ok(ok(json!({ "data": data })))
        }
        _ => Err(fail(
            404,
            codes::UNKNOWN_OPERATION,
            format!("Không có thao tác {op} (unknown operation)"),
        )),
    }
}

fn not_found(id: &str) -> Resp {
    fail(
        200,
        codes::NOT_FOUND,
        format!("Không tìm thấy gói tin {id} cho đơn vị này (no such document for caller)"),
    )
}

/// The admin token header.
pub const ADMIN_HEADER: &str = "X-Vanthu-Admin";

async fn admin(sh: &Arc<Shared>, rest: String, req: Request<Incoming>) -> Resp {
    if let Some(want) = &sh.admin_token {
        let given = req
            .headers()
            .get(ADMIN_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        // compare in constant time: the token guards fault injection and agency accounts
        let same = given.len() == want.len()
            && given
                .iter()
                .zip(want.as_bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return fail(
                401,
                codes::BAD_PARAM,
                "Thiếu hoặc sai mã quản trị X-Vanthu-Admin (admin token missing or wrong)",
            );
        }
    }
    let method = req.method().clone();
    let body = match Limited::new(req.into_body(), 1024 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return fail(400, codes::BAD_PARAM, "body too large"),
    };
    match (method, rest.as_str()) {
        (Method::POST, "agencies") => {
            let a: AgencyAccount = match serde_json::from_slice(&body) {
                Ok(a) => a,
                Err(e) => return fail(400, codes::BAD_PARAM, e.to_string()),
            };
            let mut st = sh.storage.lock().expect("lock");
            match st.put_agency(a) {
                Ok(()) => ok(json!({})),
                Err(e) => storage_fail(e),
            }
        }
        (Method::POST, "faults") => {
            let v: Value = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => return fail(400, codes::BAD_PARAM, e.to_string()),
            };
            let list: Result<Vec<Fault>, _> = match v {
                Value::Array(_) => serde_json::from_value(v),
                other => serde_json::from_value(other).map(|f| vec![f]),
            };
            match list {
                Ok(l) => {
                    sh.faults.lock().expect("lock").rules.extend(l);
                    ok(json!({}))
                }
                Err(e) => fail(400, codes::BAD_PARAM, e.to_string()),
            }
        }
        (Method::POST, "faults/clear") => {
            sh.faults.lock().expect("lock").rules.clear();
            ok(json!({}))
        }
        (Method::GET, "stats") => {
            let st = sh.storage.lock().expect("lock");
            let mut pending: BTreeMap<String, u64> = BTreeMap::new();
            for i in st.items.values().filter(|i| i.status == "pending") {
                *pending.entry(i.to.clone()).or_default() += 1;
            }
            let fired = sh.faults.lock().expect("lock").fired;
            let requests = sh.requests.lock().expect("lock").clone();
            ok(json!({
                "agencies": st.agencies.len(), "sent": st.sent.len(), "copies": st.items.len(),
                "pending": pending, "faults_fired": fired, "requests": requests,
            }))
        }
        _ => fail(404, codes::UNKNOWN_OPERATION, "unknown admin route"),
    }
}
