//! The embedded demo: an agency and a handful of realistic incoming documents, so that a
//! newcomer sees a populated register on the first start.

use std::io::Read;

use vanthu_store::Agency;

use crate::error::AppError;
use crate::input::IncomingInput;
use crate::register::{App, Registered};

/// The demo agency.
pub fn demo_agency() -> Agency {
    Agency {
        name: "Sở Nội vụ tỉnh Hòa Bình (dữ liệu trình diễn)".into(),
        code: "000.00.12.H29".into(),
    }
}

/// The demo passphrase (printed by `vanthu demo`; a real store gets its own).
pub const DEMO_PASSPHRASE: &str = "vanthu-demo";

struct DemoDoc {
    from: &'static str,
    from_code: &'static str,
    notation: Option<&'static str>,
    date: &'static str,
    kind: &'static str,
    subject: &'static str,
    signer: &'static str,
    position: &'static str,
    urgency: &'static str,
    channel: &'static str,
    body: &'static str,
}

const DOCS: &[DemoDoc] = &[
    DemoDoc {
        from: "Ủy ban nhân dân tỉnh Hòa Bình",
        from_code: "000.00.00.H29",
        notation: Some("2643/QĐ-UBND"),
        date: "2026-11-16",
        kind: "QĐ",
        subject: "Quyết định ban hành Kiến trúc Chính quyền điện tử tỉnh Hòa Bình, phiên bản 2.0",
        signer: "Bùi Văn Khánh",
        position: "Chủ tịch",
        urgency: "thuong",
        channel: "truc-lien-thong",
        body: "QUYẾT ĐỊNH\nVề việc ban hành Kiến trúc Chính quyền điện tử tỉnh Hòa Bình, phiên bản 2.0.\nĐiều 1. Ban hành kèm theo Quyết định này Kiến trúc Chính quyền điện tử tỉnh.\n",
    },
    DemoDoc {
        from: "Bộ Nội vụ",
        from_code: "000.00.00.G12",
        notation: Some("05/2025/TT-BNV"),
        date: "2026-11-10",
        kind: "Thông tư",
        subject: "Thông tư quy định về lưu trữ hồ sơ, tài liệu điện tử",
        signer: "Nguyễn Văn Hùng",
        position: "Thứ trưởng",
        urgency: "thuong",
        channel: "truc-lien-thong",
        body: "THÔNG TƯ\nQuy định về lưu trữ hồ sơ, tài liệu điện tử và định dạng gói thông tin.\n",
    },
    DemoDoc {
        from: "Văn phòng Ủy ban nhân dân tỉnh Hòa Bình",
        from_code: "000.01.00.H29",
        notation: Some("1872/UBND-VP"),
        date: "2026-11-18",
        kind: "",
        subject: "V/v triển khai phần mềm quản lý văn bản và điều hành liên thông bốn cấp",
        signer: "Trần Thị Mai",
        position: "Chánh Văn phòng",
        urgency: "khan",
        channel: "truc-lien-thong",
        body: "Kính gửi: Các sở, ban, ngành tỉnh.\nĐề nghị các cơ quan triển khai phần mềm quản lý văn bản trước ngày 31/12/2026.\n",
    },
    DemoDoc {
        from: "Sở Thông tin và Truyền thông tỉnh Hòa Bình",
        from_code: "000.00.18.H29",
        notation: Some("07/KH-STTTT"),
        date: "2026-11-19",
        kind: "KH",
        subject: "Kế hoạch chuyển đổi số năm 2027",
        signer: "Lê Quang Đức",
        position: "Giám đốc",
        urgency: "thuong",
        channel: "buu-chinh",
        body: "KẾ HOẠCH\nChuyển đổi số năm 2027: hạ tầng, dữ liệu, nền tảng tích hợp LGSP.\n",
    },
    DemoDoc {
        from: "Ủy ban nhân dân huyện Lạc Sơn",
        from_code: "000.00.31.H29",
        notation: Some("09/BC-UBND"),
        date: "2026-11-20",
        kind: "BC",
        subject: "Báo cáo kết quả thực hiện cải cách hành chính quý IV",
        signer: "Đinh Công Sứ",
        position: "Phó Chủ tịch",
        urgency: "thuong",
        channel: "truc-tiep",
        body: "BÁO CÁO\nKết quả cải cách hành chính quý IV năm 2026 của huyện Lạc Sơn.\n",
    },
    DemoDoc {
        from: "Công an tỉnh Hòa Bình",
        from_code: "000.00.05.H29",
        notation: Some("15/GM-CAT"),
        date: "2026-11-21",
        kind: "GM",
        subject: "Giấy mời dự hội nghị tập huấn bảo vệ bí mật nhà nước",
        signer: "Hoàng Minh Tuấn",
        position: "Phó Giám đốc",
        urgency: "hoa-toc",
        channel: "thu-dien-tu",
        body: "GIẤY MỜI\nTrân trọng kính mời đại diện lãnh đạo Sở dự hội nghị tập huấn.\n",
    },
    DemoDoc {
        from: "Hội Nông dân tỉnh Hòa Bình",
        from_code: "",
        notation: None,
        date: "2026-11-22",
        kind: "Thư công",
        subject: "Thư cảm ơn về việc hỗ trợ tổ chức hội nghị",
        signer: "Quách Thị Hòa",
        position: "Chủ tịch Hội",
        urgency: "thuong",
        channel: "buu-chinh",
        body: "Hội Nông dân tỉnh trân trọng cảm ơn Sở Nội vụ đã hỗ trợ tổ chức hội nghị.\n",
    },
];

/// The scanned letter of the demo (A4, 300 dpi, 1-bit PNG; drawn for vanthu with the Noto Sans
/// font, SIL Open Font License): words such as "sản xuất nông nghiệp" appear only in its pixels.
pub const DEMO_SCAN: &[u8] = include_bytes!("../demo/thu-cam-on-scan.png");
/// Its file name in the store.
pub const DEMO_SCAN_NAME: &str = "thu-cam-on-ban-quet.png";

/// Registers the demo documents (each with a small text file) into `app`.
pub fn seed(app: &mut App) -> Result<Vec<Registered>, AppError> {
    let mut out = Vec::new();
    for (i, d) in DOCS.iter().enumerate() {
        let input = IncomingInput {
            so_ky_hieu: d.notation.map(str::to_string),
            khong_so: d.notation.is_none(),
            tac_gia: Some(d.from.into()),
            tac_gia_ma: (!d.from_code.is_empty()).then(|| d.from_code.to_string()),
            ngay_van_ban: Some(d.date.into()),
            loai: (!d.kind.is_empty()).then(|| d.kind.to_string()),
            trich_yeu: Some(d.subject.into()),
            do_khan: Some(d.urgency.into()),
            nguoi_ky: Some(d.signer.into()),
            chuc_vu: Some(d.position.into()),
            so_trang: Some(1 + i as u32),
            kenh: Some(d.channel.into()),
            ..Default::default()
        };
        let mut reg = app.register_incoming(&input, None)?;
        let name = match d.notation {
            Some(n) => format!("{}.txt", n.replace('/', "_")),
            None => "thu-cong.txt".to_string(),
        };
        let text = format!("{}\n{}\n\n{}", d.from.to_uppercase(), d.subject, d.body);
        let file = app.attach_reader(&reg.id, &name, &mut text.as_bytes())?;
        reg.files.push(file);
        if d.channel == "buu-chinh" && d.notation.is_none() {
            // A letter that came by post is scanned by the clerk: its words are only in the
            // pixels, so searching them shows OCR at work.
            let scan = app.attach_reader(&reg.id, DEMO_SCAN_NAME, &mut &DEMO_SCAN[..])?;
            reg.files.push(scan);
        }
        out.push(reg);
    }
    Ok(out)
}

/// Reads all of `r` (used by tests of the demo files).
pub fn read_all(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    Ok(v)
}
