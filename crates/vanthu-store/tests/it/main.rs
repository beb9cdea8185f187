//! Integration tests of the encrypted store (one test binary; modules per concern).

mod audit;
mod blobs;
mod plaintext;
mod store;

use std::path::Path;

use vanthu_store::{Agency, IncomingRow, KdfParams, Passphrase, Store};

/// Cheap KDF parameters so tests stay fast; the product uses the defaults.
pub fn fast_kdf() -> KdfParams {
    KdfParams {
        m_kib: 1024,
        t: 1,
        p: 1,
    }
}

pub fn agency() -> Agency {
    Agency {
        name: "Ủy ban nhân dân tỉnh Hòa Bình".into(),
        code: "000.00.00.H29".into(),
    }
}

pub fn new_store(dir: &Path) -> Store {
    Store::init(
        dir,
        &Passphrase::new("mật khẩu đúng"),
        &agency(),
        fast_kdf(),
    )
    .unwrap()
}

pub fn open_store(dir: &Path) -> Store {
    Store::open(dir, &Passphrase::new("mật khẩu đúng")).unwrap()
}

pub fn row(id: &str, so_den: u64, subject: &str) -> IncomingRow {
    IncomingRow {
        id: id.into(),
        register: "den".into(),
        year: 2026,
        so_den,
        ngay_den: "2026-11-20T09:15:00+07:00".into(),
        tac_gia: "Bộ Nội vụ".into(),
        tac_gia_ma: Some("000.00.00.G12".into()),
        so_ky_hieu: Some(format!("{so_den}/QĐ-BNV")),
        khong_so: false,
        ngay_van_ban: "2026-11-18".into(),
        loai: Some("QĐ".into()),
        trich_yeu: subject.into(),
        do_mat: "thuong".into(),
        do_khan: "thuong".into(),
        nguoi_ky: None,
        chuc_vu: None,
        so_trang: Some(3),
        han_giai_quyet: None,
        ghi_chu: None,
        kenh: "truc-lien-thong".into(),
        dup_key: None,
        created_at: "2026-11-20T09:15:00+07:00".into(),
        created_by: "test".into(),
    }
}

/// Every file under `dir`, recursively, with its bytes.
pub fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let b = std::fs::read(&p).unwrap();
                out.push((p, b));
            }
        }
    }
    out
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
