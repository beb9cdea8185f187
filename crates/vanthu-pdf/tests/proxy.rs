//! Requests through an HTTP proxy (agency networks reach the Internet through one). Its own
//! test binary: the proxy setting is process-wide.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::*;
use vanthu_pdf::sign::{sign_pades, Level, SignOptions};
use vanthu_pdf::verify::verify_bytes;

/// Reads an HTTP head (up to the blank line) byte by byte, so nothing after it is consumed.
fn read_head(c: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if c.read(&mut b).unwrap() == 0 {
            break;
        }
        head.push(b[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Copies bytes both ways between two connections until both sides are done.
fn pump(a: TcpStream, b: TcpStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let (mut a, mut b) = (a, b);
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut a2, &mut b2);
        let _ = b2.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut b, &mut a);
    let _ = a.shutdown(std::net::Shutdown::Write);
    let _ = t.join();
}

/// A forward proxy on loopback: CONNECT tunnels, and absolute-form requests passed on in
/// origin form. Records each request's head; `deny` answers 407 to everything.
fn start_proxy(deny: bool) -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let head = read_head(&mut c);
                log.lock().unwrap().push(head.clone());
                if deny {
                    // The body too, as a proxy does before it answers.
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    let mut body = vec![0u8; len];
                    let _ = c.read_exact(&mut body);
                    let _ = c.write_all(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
                    );
                    return;
                }
                let line = head.lines().next().unwrap_or("").to_string();
                let mut parts = line.split(' ');
                let (method, target) = (parts.next().unwrap(), parts.next().unwrap());
                if method == "CONNECT" {
                    let up = TcpStream::connect(target).unwrap();
                    c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .unwrap();
                    pump(c, up);
                } else {
                    let rest = target.strip_prefix("http://").unwrap();
                    let (hostport, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                    let mut up = TcpStream::connect(hostport).unwrap();
                    let origin = head.replacen(target, if path.is_empty() { "/" } else { path }, 1);
                    up.write_all(origin.as_bytes()).unwrap();
                    pump(c, up);
                }
            });
        }
    });
    (url, seen)
}

/// Timestamps through the proxy: an http TSA asked in absolute form, an https one through a
/// CONNECT tunnel (TLS end to end, the server's certificate still checked), both with the
/// proxy's login sent as `Proxy-Authorization`; a host listed in the exceptions goes direct; a
/// dead proxy and one that wants a login are named as such.
#[test]
fn requests_go_through_the_configured_proxy() {
    let (proxy, seen) = start_proxy(false);
    let login = proxy.replace("http://", "http://can%20bo:b%C3%AD@");
    vanthu_pdf::tsa::use_proxy(Some(&login), "");
    let tsa = start_tsa();
    let bt = |url: String| SignOptions {
        level: Level::BT,
        tsa_url: Some(url),
        ..Default::default()
    };
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("can bo:bí");
    // Signs at B-T with the TSA at `url`; the signature must carry the timestamp.
    let signs_bt = |url: String| {
        let out = sign_pades(sample_pdf(1, "proxy"), &p12("leader"), &bt(url)).unwrap();
        assert_eq!(
            verify_bytes(out, &opts()).unwrap().signatures[0].level,
            "B-T"
        );
    };
    // The request head the proxy saw that starts with `start`.
    let head = |start: String| {
        let heads = seen.lock().unwrap().clone();
        heads
            .iter()
            .find(|h| h.starts_with(&start))
            .cloned()
            .unwrap_or_else(|| panic!("{heads:?}"))
    };
    // http, absolute form.
    signs_bt(tsa.clone());
    let post = head(format!("POST {tsa} HTTP/1.1\r\n"));
    assert!(
        post.contains(&format!("Proxy-Authorization: Basic {basic}\r\n")),
        "{post}"
    );
    // https, through a tunnel.
    let (port, ca, _front) = https_front();
    vanthu_pdf::tsa::trust_tls_roots(&ca).unwrap();
    signs_bt(format!("https://127.0.0.1:{port}/tsa"));
    let connect = head(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n"));
    assert!(connect.contains(&format!("Proxy-Authorization: Basic {basic}\r\n")));
    // An exception: straight to the TSA, the proxy sees nothing more.
    let before = seen.lock().unwrap().len();
    vanthu_pdf::tsa::use_proxy(Some(&login), "example.org, 127.0.0.1");
    sign_pades(sample_pdf(1, "direct"), &p12("leader"), &bt(tsa.clone())).unwrap();
    assert_eq!(seen.lock().unwrap().len(), before);
    // A proxy that is not there, and one that wants a login.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    vanthu_pdf::tsa::use_proxy(Some(&format!("http://{dead}")), "");
    let e = sign_pades(sample_pdf(1, "x"), &p12("leader"), &bt(tsa.clone())).unwrap_err();
    assert!(e.to_string().contains("proxy unreachable"), "{e}");
    let (deny, _) = start_proxy(true);
    vanthu_pdf::tsa::use_proxy(Some(&deny), "");
    for url in [tsa, format!("https://127.0.0.1:{port}/tsa")] {
        let e = sign_pades(sample_pdf(1, "x"), &p12("leader"), &bt(url)).unwrap_err();
        assert!(e.to_string().contains("proxy wants credentials"), "{e}");
    }
}
