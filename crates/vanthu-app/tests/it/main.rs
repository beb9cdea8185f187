//! Integration tests of the use-case layer (one test binary; modules per concern).

mod axis;
mod demo_exchange;
mod exchange;
mod numbering;
mod signing;

use std::path::{Path, PathBuf};

use vanthu_app::App;
use vanthu_store::{Agency, KdfParams, Passphrase};

pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/edxml")
}

pub fn new_app(dir: &Path) -> App {
    App::init(
        dir,
        &Passphrase::new("kiểm thử"),
        &Agency {
            name: "Sở Thông tin và Truyền thông".into(),
            code: "000.00.18.H29".into(),
        },
        KdfParams {
            m_kib: 1024,
            t: 1,
            p: 1,
        },
    )
    .unwrap()
}
