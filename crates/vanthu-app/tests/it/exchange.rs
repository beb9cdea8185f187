//! edXML packages stream into and out of the encrypted store.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};
use vanthu_edxml::{Organization, PackRequest};

use crate::*;

fn decrypt_sha(app: &App, blob: &str) -> (u64, String) {
    let mut r = app.store().blobs().open_blob(blob).unwrap();
    let mut h = Sha256::new();
    let n = std::io::copy(&mut r, &mut h).unwrap();
    (n, hex::encode(h.finalize()))
}

#[test]
fn real_packages_register_with_their_attachments() {
    let d = tempfile::tempdir().unwrap();
    let mut app = new_app(d.path());
    let cases = [
        (
            "vpcp-sdk-samples/edoc_new.edxml",
            "74fass22/VPCP-TTĐT",
            "000.00.00.A80",
        ),
        (
            "received/api-gateway-ioffice_852e179c-8eca-4502-ac38-0b97321f29c3.edxml",
            "1223412/PRO-TEST-CASE1",
            "000.00.15.H51",
        ),
    ];
    for (i, (file, notation, from)) in cases.iter().enumerate() {
        let path = samples().join(file);
        let r = app.receive_edxml(&path).unwrap();
        assert_eq!(r.registered.so_den, i as u64 + 1);
        assert_eq!(r.registered.so_ky_hieu.as_deref(), Some(*notation));
        let row = app.store().get_incoming(&r.registered.id).unwrap();
        assert_eq!(row.tac_gia_ma.as_deref(), Some(*from), "{file}");
        assert_eq!(row.kenh, "truc-lien-thong");
        // what the store holds is exactly what the package carried
        let report =
            vanthu_edxml::inspect(std::io::BufReader::new(std::fs::File::open(&path).unwrap()))
                .unwrap();
        let files = app.store().files_of(&r.registered.id).unwrap();
        assert_eq!(files.len(), report.attachments.len());
        for (f, a) in files.iter().zip(&report.attachments) {
            assert_eq!(Some(&f.name), a.name.as_ref());
            assert_eq!(f.size, a.size);
            assert_eq!(Some(&f.sha256), a.sha256.as_ref());
            assert_eq!(decrypt_sha(&app, &f.blob_id), (f.size, f.sha256.clone()));
        }
    }
    assert!(app.verify_audit().unwrap().ok());
}

fn assert_nothing_kept(app: &App) {
    assert!(app.list_incoming(None).unwrap().is_empty());
    assert!(
        app.store().blobs().list().unwrap().is_empty(),
        "no blob left behind"
    );
}

#[test]
fn revoke_update_replace_and_status_messages_are_not_registered_as_new() {
    let d = tempfile::tempdir().unwrap();
    let mut app = new_app(d.path());
    for f in [
        "vpcp-sdk-samples/edoc_revocation.edxml",
        "vpcp-sdk-samples/edoc_update.edxml",
        "vpcp-sdk-samples/edoc_replacement.edxml",
        "vpcp-sdk-samples/status.edxml",
        "vpcp-sdk-samples/status_inbox__01.edxml",
    ] {
        let e = app
            .receive_edxml(&samples().join(f))
            .err()
            .unwrap_or_else(|| panic!("{f} registered"));
        let msg = e.to_string();
        assert!(msg.contains("không vào sổ"), "{f}: {msg}");
        assert_nothing_kept(&app);
    }
}

#[test]
fn malformed_and_hostile_packages_leave_nothing() {
    let d = tempfile::tempdir().unwrap();
    let mut app = new_app(d.path());
    // the SDK's own edoc.edxml is not well-formed
    let e = app
        .receive_edxml(&samples().join("vpcp-sdk-samples/edoc.edxml"))
        .unwrap_err();
    assert!(e.to_string().contains("MessageHeader"), "{e}");
    assert_nothing_kept(&app);

    // truncated in the middle of an attachment: the half-decoded blob is discarded
    let good = std::fs::read(samples().join("vpcp-sdk-samples/edoc_new.edxml")).unwrap();
    let cut = d.path().join("cut.edxml");
    let at = good.windows(9).position(|w| w == b"</edXML:C").unwrap() - 1000;
    std::fs::write(&cut, &good[..at]).unwrap();
    assert!(app.receive_edxml(&cut).is_err());
    assert_nothing_kept(&app);

    // an entity expansion bomb
    let bomb = d.path().join("bomb.edxml");
    std::fs::write(
        &bomb,
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]><edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">&b;</edXML>",
    )
    .unwrap();
    assert!(app.receive_edxml(&bomb).is_err());
    assert_nothing_kept(&app);
}

/// Pseudo-random bytes generated on the fly: no large buffer in the test either.
struct Noise {
    left: u64,
    state: u64,
}

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(target_os = "linux")]
fn peak_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

#[cfg(not(target_os = "linux"))]
fn peak_kib() -> u64 {
    0
}

#[cfg(not(target_os = "linux"))]
fn reset_peak() {}

#[test]
fn a_large_package_streams_into_and_out_of_the_store() {
    const SIZE: u64 = 96 << 20;
    let d = tempfile::tempdir().unwrap();
    let mut app = new_app(&d.path().join("kho"));
    let req = PackRequest {
        from: Organization::new("000.00.12.H29", "Sở Nội vụ tỉnh Hòa Bình"),
        to: vec![Organization::new(
            "000.00.18.H29",
            "Sở Thông tin và Truyền thông",
        )],
        code_number: "15".into(),
        code_notation: "SNV-VP".into(),
        subject: "V/v gửi hồ sơ quét khổ lớn".into(),
        date: "2026/11/20".into(),
        ..Default::default()
    };
    // the expected digest, computed from the generator independently of any vanthu code
    let mut h = Sha256::new();
    std::io::copy(
        &mut Noise {
            left: SIZE,
            state: 7,
        },
        &mut h,
    )
    .unwrap();
    let expected = hex::encode(h.finalize());

    let pkg = d.path().join("lon.edxml");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&pkg).unwrap());
        vanthu_edxml::pack(
            &req,
            vec![(
                "ban-ve.pdf".to_string(),
                "application/pdf".to_string(),
                Noise {
                    left: SIZE,
                    state: 7,
                },
            )],
            &mut out,
        )
        .unwrap();
        out.flush().unwrap();
    }
    assert!(std::fs::metadata(&pkg).unwrap().len() > SIZE * 4 / 3);

    reset_peak();
    let before = peak_kib();
    let r = app.receive_edxml(&pkg).unwrap();
    let grew_in = peak_kib().saturating_sub(before);
    let files = app.store().files_of(&r.registered.id).unwrap();
    assert_eq!(files[0].size, SIZE);
    assert_eq!(files[0].sha256, expected);

    // and out again, encoded straight from the encrypted blob
    reset_peak();
    let before = peak_kib();
    let out_pkg = d.path().join("gui-lai.edxml");
    let rep = app
        .write_edxml(
            &req,
            &files,
            std::io::BufWriter::new(std::fs::File::create(&out_pkg).unwrap()),
        )
        .unwrap();
    let grew_out = peak_kib().saturating_sub(before);
    assert_eq!(rep.write.attachments[0].sha256, expected);
    let back = vanthu_edxml::inspect(std::io::BufReader::new(
        std::fs::File::open(&out_pkg).unwrap(),
    ))
    .unwrap();
    assert_eq!(
        back.attachments[0].sha256.as_deref(),
        Some(expected.as_str())
    );
    assert!(
        grew_in < 32 * 1024,
        "receiving grew peak memory by {grew_in} KiB"
    );
    assert!(
        grew_out < 32 * 1024,
        "writing grew peak memory by {grew_out} KiB"
    );
}
