//! Deterministic test data for the benchmark: realistic Vietnamese incoming records and a
//! non-compressible byte stream generated on the fly.

use std::io::{self, Read};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Date, Duration, OffsetDateTime};
use vanthu_app::IncomingInput;

/// An issuing agency: name (`Tác giả`), `OrganId`, and the suffix of its notations.
struct Issuer {
    name: &'static str,
    code: &'static str,
    suffix: &'static str,
}

const fn iss(name: &'static str, code: &'static str, suffix: &'static str) -> Issuer {
    Issuer { name, code, suffix }
}

const ISSUERS: &[Issuer] = &[
    iss("Ủy ban nhân dân tỉnh Hòa Bình", "000.00.00.H29", "UBND"),
    iss(
        "Văn phòng Ủy ban nhân dân tỉnh Hòa Bình",
        "000.01.00.H29",
        "VPUBND",
    ),
    iss("Sở Nội vụ tỉnh Hòa Bình", "000.05.00.H29", "SNV"),
    iss("Sở Tài chính tỉnh Hòa Bình", "000.12.00.H29", "STC"),
    iss(
        "Sở Kế hoạch và Đầu tư tỉnh Hòa Bình",
        "000.08.00.H29",
        "SKHĐT",
    ),
    iss(
        "Sở Giáo dục và Đào tạo tỉnh Hòa Bình",
        "000.06.00.H29",
        "SGDĐT",
    ),
    iss("Sở Y tế tỉnh Hòa Bình", "000.20.00.H29", "SYT"),
    iss(
        "Sở Tài nguyên và Môi trường tỉnh Hòa Bình",
        "000.17.00.H29",
        "STNMT",
    ),
    iss(
        "Sở Nông nghiệp và Phát triển nông thôn tỉnh Hòa Bình",
        "000.10.00.H29",
        "SNN",
    ),
    iss(
        "Sở Lao động - Thương binh và Xã hội tỉnh Hòa Bình",
        "000.09.00.H29",
        "SLĐTBXH",
    ),
    iss(
        "Sở Thông tin và Truyền thông tỉnh Hòa Bình",
        "000.16.00.H29",
        "STTTT",
    ),
    iss("Kho bạc Nhà nước tỉnh Hòa Bình", "000.00.40.H29", "KBHB"),
    iss("Bảo hiểm xã hội tỉnh Hòa Bình", "000.00.41.H29", "BHXH"),
    iss("Công an tỉnh Hòa Bình", "000.00.42.H29", "CAT"),
    iss(
        "Ủy ban nhân dân thành phố Hòa Bình",
        "000.00.22.H29",
        "UBND",
    ),
    iss("Ủy ban nhân dân huyện Lạc Sơn", "000.00.27.H29", "UBND"),
    iss("Ủy ban nhân dân huyện Mai Châu", "000.00.28.H29", "UBND"),
    iss("Ủy ban nhân dân huyện Kim Bôi", "000.00.25.H29", "UBND"),
    iss("Văn phòng Chính phủ", "000.00.00.G13", "VPCP"),
    iss("Bộ Nội vụ", "000.00.00.G09", "BNV"),
    iss("Bộ Tài chính", "000.00.00.G12", "BTC"),
    iss("Bộ Giáo dục và Đào tạo", "000.00.00.G06", "BGDĐT"),
    iss("Bộ Tài nguyên và Môi trường", "000.00.00.G17", "BTNMT"),
];

/// `loai` abbreviation (None = Công văn) with its share (per mille) and subject lead.
const TYPES: &[(Option<&str>, u32, &str)] = &[
    (None, 450, "V/v"),
    (Some("QĐ"), 150, "Về việc phê duyệt"),
    (Some("TB"), 100, "Thông báo kết luận về"),
    (Some("KH"), 80, "Kế hoạch triển khai"),
    (Some("BC"), 80, "Báo cáo kết quả thực hiện"),
    (Some("TTr"), 50, "Đề nghị phê duyệt"),
    (Some("HD"), 40, "Hướng dẫn thực hiện"),
    (Some("CT"), 20, "Về việc tăng cường"),
    (Some("NQ"), 15, "Về việc thông qua"),
    (Some("GM"), 15, "Mời dự hội nghị về"),
];

const ACTIONS: &[&str] = &[
    "triển khai thực hiện",
    "góp ý dự thảo",
    "đôn đốc thực hiện",
    "rà soát, tổng hợp",
    "báo cáo tình hình thực hiện",
    "tăng cường công tác",
    "hướng dẫn thực hiện",
    "đề nghị cung cấp thông tin về",
];

const OBJECTS: &[&str] = &[
    "dự toán ngân sách nhà nước",
    "Đề án chuyển đổi số trong cơ quan hành chính nhà nước",
    "phương án bồi thường, hỗ trợ và tái định cư dự án đường giao thông liên xã",
    "kế hoạch cải cách hành chính",
    "danh mục thủ tục hành chính được chuẩn hóa thuộc phạm vi chức năng quản lý",
    "công tác phòng, chống thiên tai và tìm kiếm cứu nạn mùa mưa bão",
    "Chương trình mục tiêu quốc gia xây dựng nông thôn mới",
    "công tác văn thư, lưu trữ và quản lý văn bản điện tử",
    "chế độ, chính sách đối với cán bộ, công chức cấp xã",
    "quy hoạch sử dụng đất và kế hoạch sử dụng đất hằng năm cấp huyện",
    "công tác phòng, chống dịch bệnh truyền nhiễm",
    "tuyển sinh vào lớp 10 trung học phổ thông",
    "thu, chi ngân sách và quyết toán vốn đầu tư công",
    "giải quyết đơn thư khiếu nại, tố cáo của công dân",
    "bảo đảm an toàn, an ninh thông tin mạng",
    "thực hành tiết kiệm, chống lãng phí",
    "kiện toàn tổ chức bộ máy và tinh giản biên chế",
    "cấp giấy chứng nhận quyền sử dụng đất lần đầu",
    "hỗ trợ hộ nghèo, hộ cận nghèo và đối tượng bảo trợ xã hội",
    "đánh giá, xếp loại chất lượng cán bộ, công chức, viên chức",
];

const SCOPES: &[&str] = &[
    "trên địa bàn tỉnh Hòa Bình",
    "tại các cơ quan, đơn vị thuộc Ủy ban nhân dân tỉnh",
    "tại các xã, phường, thị trấn",
    "trong các cơ sở giáo dục công lập",
    "đối với các sở, ban, ngành và Ủy ban nhân dân các huyện, thành phố",
    "trong lĩnh vực quản lý nhà nước được giao",
];

const PERIODS: &[&str] = &[
    "năm 2026",
    "6 tháng đầu năm 2026",
    "quý III năm 2026",
    "giai đoạn 2026 - 2030",
    "giai đoạn 2021 - 2025 và định hướng đến năm 2030",
    "tháng 10 năm 2026",
];

const TAILS: &[&str] = &[
    "theo chỉ đạo của Thủ tướng Chính phủ",
    "bảo đảm đúng tiến độ, chất lượng và hiệu quả",
    "gửi về Văn phòng Ủy ban nhân dân tỉnh trước ngày 30 tháng 11",
    "theo quy định tại Nghị định số 30/2020/NĐ-CP",
    "để tổng hợp, báo cáo cấp có thẩm quyền",
];

const SIGNERS: &[(&str, &str)] = &[
    ("Nguyễn Văn Thành", "Chủ tịch"),
    ("Bùi Đức Hinh", "Phó Chủ tịch"),
    ("Đinh Công Sứ", "Phó Chủ tịch"),
    ("Quách Thị Hương", "Giám đốc"),
    ("Trần Quốc Khánh", "Phó Giám đốc"),
    ("Lê Thị Thu Hà", "Chánh Văn phòng"),
    ("Phạm Minh Đức", "Phó Chánh Văn phòng"),
    ("Hoàng Văn Tứ", "Thứ trưởng"),
];

const CHANNELS: &[(&str, u32)] = &[
    ("truc-lien-thong", 700),
    ("thu-dien-tu", 100),
    ("buu-chinh", 120),
    ("truc-tiep", 70),
    ("fax", 10),
];

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

fn pick_str(rng: &mut StdRng, xs: &[&'static str]) -> &'static str {
    xs[rng.gen_range(0..xs.len())]
}

fn weighted<'a, T>(rng: &mut StdRng, xs: &'a [T], w: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = xs.iter().map(&w).sum();
    let mut x = rng.gen_range(0..total);
    for it in xs {
        let wi = w(it);
        if x < wi {
            return it;
        }
        x -= wi;
    }
    xs.last().expect("non-empty")
}

fn subject(rng: &mut StdRng, lead: &str) -> String {
    let mut s = String::with_capacity(256);
    s.push_str(lead);
    if lead == "V/v" {
        s.push(' ');
        s.push_str(pick_str(rng, ACTIONS));
    }
    s.push(' ');
    s.push_str(pick_str(rng, OBJECTS));
    s.push(' ');
    s.push_str(pick_str(rng, SCOPES));
    s.push(' ');
    s.push_str(pick_str(rng, PERIODS));
    // Aim for 100-200 characters, as real subjects run.
    while s.chars().count() < 100 {
        s.push_str(", ");
        s.push_str(pick_str(rng, TAILS));
    }
    if s.chars().count() > 200 {
        s = s
            .chars()
            .take(200)
            .collect::<String>()
            .trim_end()
            .to_string();
    }
    s
}

/// `n` incoming records, deterministic for a given `seed` (dates are relative to `today`
/// so that they stay valid: documents dated in the 60 days before, deadlines after).
pub fn records(n: usize, seed: u64, today: Date) -> Vec<(usize, IncomingInput)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let issuer = pick(&mut rng, ISSUERS);
            let (loai, _, lead) = *weighted(&mut rng, TYPES, |t| t.1);
            // Globally unique number => never a duplicate, whatever the issuer.
            let number = 100 + i;
            let so_ky_hieu = match loai {
                Some(l) => format!("{number}/{l}-{}", issuer.suffix),
                None => format!("{number}/{}-VP", issuer.suffix),
            };
            let ngay_van_ban = today - Duration::days(rng.gen_range(1..60));
            let do_khan = match rng.gen_range(0..100) {
                0..=79 => "thuong",
                80..=91 => "khan",
                92..=97 => "thuong-khan",
                _ => "hoa-toc",
            };
            let secret = rng.gen_range(0..100) < 2;
            let kenh = if secret {
                "buu-chinh"
            } else {
                weighted(&mut rng, CHANNELS, |c| c.1).0
            };
            let (nguoi_ky, chuc_vu) = *pick(&mut rng, SIGNERS);
            let han = (rng.gen_range(0..100) < 30)
                .then(|| (today + Duration::days(rng.gen_range(7..45))).to_string());
            let ghi_chu = (rng.gen_range(0..100) < 10)
                .then(|| "Chuyển phòng chuyên môn nghiên cứu, tham mưu".to_string());
            let input = IncomingInput {
                so_ky_hieu: Some(so_ky_hieu),
                tac_gia: Some(issuer.name.to_string()),
                tac_gia_ma: Some(issuer.code.to_string()),
                ngay_van_ban: Some(ngay_van_ban.to_string()),
                loai: Some(loai.unwrap_or("Công văn").to_string()),
                trich_yeu: Some(subject(&mut rng, lead)),
                do_mat: Some(if secret { "mat" } else { "thuong" }.to_string()),
                do_khan: Some(do_khan.to_string()),
                nguoi_ky: Some(nguoi_ky.to_string()),
                chuc_vu: Some(chuc_vu.to_string()),
                so_trang: Some(rng.gen_range(1..30)),
                han_giai_quyet: han,
                ghi_chu,
                kenh: Some(kenh.to_string()),
                ..IncomingInput::default()
            };
            (i + 1, input)
        })
        .collect()
}

/// Today's date in Vietnam.
pub fn today_vn() -> Date {
    OffsetDateTime::now_utc().to_offset(vanthu_app::VN).date()
}

#[inline]
fn word(seed: u64, k: u64) -> u64 {
    // splitmix64 of (seed, k): fast, position-addressable, incompressible enough.
    let mut z = seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A reader of `len` pseudo-random bytes generated on the fly (no buffer of the whole size).
pub struct NoiseReader {
    seed: u64,
    pos: u64,
    len: u64,
}

impl NoiseReader {
    /// `len` bytes of the stream `seed`.
    pub fn new(seed: u64, len: u64) -> Self {
        NoiseReader { seed, pos: 0, len }
    }

    /// The checksum a [`Checksum`] fed with the whole stream must end with.
    pub fn expected(seed: u64, len: u64) -> Checksum {
        let mut c = Checksum::default();
        let mut r = NoiseReader::new(seed, len);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = read_full(&mut r, &mut buf).expect("noise never fails");
            if n == 0 {
                break;
            }
            c.update(&buf[..n]);
        }
        c
    }
}

impl Read for NoiseReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = ((self.len - self.pos) as usize).min(out.len());
        let out = &mut out[..n];
        let mut i = 0;
        // unaligned head
        while i < n && !(self.pos + i as u64).is_multiple_of(8) {
            let p = self.pos + i as u64;
            out[i] = word(self.seed, p / 8).to_le_bytes()[(p % 8) as usize];
            i += 1;
        }
        let mut k = (self.pos + i as u64) / 8;
        let mut chunks = out[i..].chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&word(self.seed, k).to_le_bytes());
            k += 1;
        }
        let rest = chunks.into_remainder();
        let w = word(self.seed, k).to_le_bytes();
        let r = rest.len();
        rest.copy_from_slice(&w[..r]);
        self.pos += n as u64;
        Ok(n)
    }
}

/// Fills `buf` as far as the reader allows (so that every call but the last is a full buffer).
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A cheap order-sensitive checksum (bytes and a rolling sum of 8-byte words) used to prove a
/// round trip without storing the data. Feed it with full 64 KiB buffers but the last.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    /// Bytes seen.
    pub bytes: u64,
    sum: u64,
}

impl Checksum {
    /// Adds a buffer (a multiple of 8 bytes unless it is the last).
    pub fn update(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.sum = self.sum.rotate_left(1).wrapping_add(w);
        }
        for &x in chunks.remainder() {
            self.sum = self.sum.rotate_left(1).wrapping_add(x as u64);
        }
        self.bytes += b.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_independent_of_read_sizes() {
        let mut a = vec![0u8; 1000];
        NoiseReader::new(7, 1000).read_exact(&mut a).unwrap();
        let mut b = Vec::new();
        let mut r = NoiseReader::new(7, 1000);
        let mut buf = [0u8; 13];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            b.extend_from_slice(&buf[..n]);
        }
        assert_eq!(a, b);
    }

    #[test]
    fn records_are_valid_and_deterministic() {
        let today = today_vn();
        let a = records(300, 1, today);
        let b = records(300, 1, today);
        assert_eq!(
            serde_json::to_string(&a.iter().map(|x| &x.1).collect::<Vec<_>>()).unwrap(),
            serde_json::to_string(&b.iter().map(|x| &x.1).collect::<Vec<_>>()).unwrap()
        );
        for (_, r) in &a {
            let n = r.trich_yeu.as_ref().unwrap().chars().count();
            assert!((100..=200).contains(&n), "{n}");
        }
    }
}
