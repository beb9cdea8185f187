//! Search benchmark: generated Vietnamese administrative documents, encrypted vs plain index.
//!
//! ```sh
//! cargo run --release -p vanthu-search --example bench -- --docs 100000 [--queries 300] [--dir PATH]
//! ```
//!
//! Prints indexing throughput, index size, open time and query latency (p50/p99) per query
//! class, for a plain (mmap) and an encrypted index built from the same documents, and
//! PASS/MISS against the targets of the search issue.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use vanthu_search::{Direction, IndexDoc, SearchIndex, SearchQuery};

const KEY: [u8; 32] = [0x42; 32];

const TYPES: &[(&str, &str)] = &[
    ("QĐ", "Quyết định"),
    ("CV", "Công văn"),
    ("KH", "Kế hoạch"),
    ("BC", "Báo cáo"),
    ("TB", "Thông báo"),
    ("TTr", "Tờ trình"),
    ("CT", "Chỉ thị"),
    ("NQ", "Nghị quyết"),
    ("GM", "Giấy mời"),
    ("HD", "Hướng dẫn"),
];
const ACTIONS: &[&str] = &[
    "về việc phê duyệt",
    "về việc triển khai",
    "về việc tăng cường",
    "về việc ban hành quy chế",
    "về việc tổ chức thực hiện",
    "về việc kiện toàn",
    "về việc đôn đốc",
    "về việc báo cáo kết quả",
    "về việc giao chỉ tiêu",
    "về việc điều chỉnh",
];
const TOPICS: &[&str] = &[
    "công tác phòng chống thiên tai và tìm kiếm cứu nạn",
    "chương trình chuyển đổi số",
    "xây dựng nông thôn mới",
    "cải cách hành chính",
    "quản lý đất đai và giải phóng mặt bằng",
    "bảo đảm trật tự an toàn giao thông",
    "phòng cháy chữa cháy",
    "tiêm chủng vắc xin phòng bệnh",
    "kế hoạch đầu tư công trung hạn",
    "thu ngân sách nhà nước",
    "sửa chữa đường giao thông nông thôn",
    "bảo vệ và phát triển rừng",
    "chính quyền điện tử",
    "an toàn thông tin mạng",
    "công tác thi đua khen thưởng",
    "tuyển dụng viên chức giáo dục",
    "hỗ trợ hộ nghèo và hộ cận nghèo",
    "quản lý chất lượng công trình xây dựng",
    "phát triển du lịch cộng đồng",
    "thủy lợi và nước sạch nông thôn",
];
const PLACES: &[&str] = &[
    "tỉnh Hòa Bình",
    "thành phố Hòa Bình",
    "huyện Lạc Sơn",
    "huyện Mai Châu",
    "huyện Đà Bắc",
    "huyện Kim Bôi",
    "huyện Tân Lạc",
    "huyện Lương Sơn",
    "huyện Cao Phong",
    "huyện Yên Thủy",
];
const ISSUERS: &[(&str, &str)] = &[
    ("000.00.00.H30", "Ủy ban nhân dân tỉnh Hòa Bình"),
    ("000.00.01.H30", "Văn phòng Ủy ban nhân dân tỉnh"),
    ("000.00.02.H30", "Sở Thông tin và Truyền thông"),
    ("000.00.03.H30", "Sở Tài chính"),
    ("000.00.04.H30", "Sở Kế hoạch và Đầu tư"),
    ("000.00.05.H30", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("000.00.06.H30", "Sở Giao thông vận tải"),
    ("000.00.07.H30", "Sở Y tế"),
    ("000.00.08.H30", "Sở Giáo dục và Đào tạo"),
    ("000.00.09.H30", "Công an tỉnh"),
];
const TEMPLATES: &[&str] = &[
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015, {P} yêu cầu các cơ quan, đơn vị triển khai thực hiện nghiêm túc {T}.",
    "Giao {I} chủ trì, phối hợp với các sở, ban, ngành liên quan hướng dẫn, kiểm tra, đôn đốc việc thực hiện {T}; báo cáo kết quả trước ngày {D} tháng {M} năm {Y}.",
    "Ủy ban nhân dân các huyện, thành phố có trách nhiệm bố trí kinh phí {N} triệu đồng để thực hiện {T} trên địa bàn {P}.",
    "Trong năm {Y}, toàn {P} đã hoàn thành {N} chỉ tiêu, đạt {D} phần trăm kế hoạch được giao về {T}.",
    "Các cơ quan, đơn vị nghiêm túc thực hiện, trường hợp có khó khăn, vướng mắc kịp thời phản ánh về {I} để tổng hợp, báo cáo Chủ tịch Ủy ban nhân dân tỉnh xem xét, quyết định.",
    "Tiếp tục đẩy mạnh ứng dụng công nghệ thông tin, xây dựng cơ sở dữ liệu dùng chung, kết nối liên thông văn bản điện tử giữa các cấp chính quyền.",
    "Tăng cường công tác tuyên truyền, nâng cao nhận thức của cán bộ, công chức, viên chức và người dân về {T}.",
    "Kinh phí thực hiện từ nguồn ngân sách nhà nước và các nguồn vốn hợp pháp khác theo quy định của pháp luật hiện hành.",
    "Quyết định này có hiệu lực kể từ ngày ký; Chánh Văn phòng Ủy ban nhân dân tỉnh, Giám đốc các sở và Chủ tịch Ủy ban nhân dân các huyện chịu trách nhiệm thi hành.",
    "Đề nghị các đồng chí Thủ trưởng cơ quan quan tâm chỉ đạo, bố trí cán bộ tham dự đầy đủ, đúng thành phần và thời gian.",
];

struct Generator {
    rng: StdRng,
    seed_sentences: Vec<String>,
}

impl Generator {
    fn new() -> Self {
        let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/seed/hoa-binh-egov-architecture-2020.txt");
        let seed_sentences = std::fs::read_to_string(seed)
            .map(|t| {
                t.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .split(['.', ';'])
                    .map(|s| s.trim().to_owned())
                    .filter(|s| s.chars().count() > 40)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            rng: StdRng::seed_from_u64(2026),
            seed_sentences,
        }
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        xs.choose(&mut self.rng).expect("non-empty")
    }

    fn sentence(&mut self, topic: &str, place: &str, issuer: &str, year: i32) -> String {
        if !self.seed_sentences.is_empty() && self.rng.gen_bool(0.35) {
            let s = self
                .seed_sentences
                .choose(&mut self.rng)
                .expect("non-empty")
                .clone();
            return format!("{s}.");
        }
        let t = *self.pick(TEMPLATES);
        t.replace("{T}", topic)
            .replace("{P}", place)
            .replace("{I}", issuer)
            .replace("{Y}", &year.to_string())
            .replace("{D}", &self.rng.gen_range(1..=28).to_string())
            .replace("{M}", &self.rng.gen_range(1..=12).to_string())
            .replace("{N}", &self.rng.gen_range(2..=950).to_string())
    }

    fn doc(&mut self, i: usize) -> IndexDoc {
        let (abbr, type_name) = *self.pick(TYPES);
        let action = *self.pick(ACTIONS);
        let topic = *self.pick(TOPICS);
        let place = *self.pick(PLACES);
        let (code, issuer) = *self.pick(ISSUERS);
        let year = self.rng.gen_range(2018..=2026);
        let ordinal = self.rng.gen_range(1..=365u16);
        let date = time::Date::from_ordinal_date(year, ordinal).expect("valid date");
        let mut body = String::new();
        for _ in 0..self.rng.gen_range(3..=5) {
            for _ in 0..self.rng.gen_range(2..=4) {
                body.push_str(&self.sentence(topic, place, issuer, year));
                body.push(' ');
            }
            body.push('\n');
        }
        let secrecy = if self.rng.gen_bool(0.03) {
            "mat"
        } else {
            "thuong"
        };
        IndexDoc {
            id: format!("doc-{i:07}"),
            direction: if self.rng.gen_bool(0.6) {
                Direction::Incoming
            } else {
                Direction::Outgoing
            },
            title: format!("{type_name} {action} {topic} trên địa bàn {place}"),
            body,
            doc_type: Some(abbr.to_owned()),
            issuer_code: Some(code.to_owned()),
            issuer_name: Some(issuer.to_owned()),
            notation: Some(format!("{}/{abbr}-UBND", self.rng.gen_range(1..=3000))),
            year,
            date,
            secrecy: secrecy.to_owned(),
            status: (*self.pick(&["moi", "dang-xu-ly", "da-xu-ly"])).to_owned(),
        }
    }
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

const CLASSES: &[(&str, &[&str])] = &[
    (
        "one word, diacritics",
        &["đất", "thiên", "ngân", "rừng", "đường", "vắc"],
    ),
    (
        "one word, no diacritics",
        &["dat", "thien", "ngan", "rung", "duong", "vac"],
    ),
    (
        "multi-word, diacritics",
        &[
            "chuyển đổi số",
            "nông thôn mới",
            "an toàn giao thông",
            "cải cách hành chính",
            "hộ nghèo",
        ],
    ),
    (
        "multi-word, no diacritics",
        &[
            "chuyen doi so",
            "nong thon moi",
            "an toan giao thong",
            "cai cach hanh chinh",
            "ho ngheo",
        ],
    ),
    (
        "phrase, diacritics",
        &[
            "\"chính quyền điện tử\"",
            "\"phòng cháy chữa cháy\"",
            "\"giải phóng mặt bằng\"",
        ],
    ),
    (
        "phrase, no diacritics",
        &[
            "\"chinh quyen dien tu\"",
            "\"phong chay chua chay\"",
            "\"giai phong mat bang\"",
        ],
    ),
    ("filter only (year, newest first)", &[""]),
];

struct Report {
    index_secs: f64,
    size: u64,
    open_ms: f64,
    classes: Vec<(String, Duration, Duration, usize)>,
}

fn open(dir: &Path, encrypted: bool) -> SearchIndex {
    if encrypted {
        SearchIndex::open(dir, KEY)
    } else {
        SearchIndex::open_plain(dir)
    }
    .expect("open index")
}

/// Builds an index from `docs` (commit every 25k, then GC); returns (seconds, bytes on disk).
fn build(label: &str, dir: &Path, docs: &[IndexDoc], encrypted: bool) -> (f64, u64) {
    let _ = std::fs::remove_dir_all(dir);
    let mut idx = open(dir, encrypted);
    let t = Instant::now();
    for chunk in docs.chunks(25_000) {
        idx.index_documents(chunk.iter().cloned()).expect("index");
        idx.commit().expect("commit");
    }
    idx.garbage_collect().expect("gc");
    let secs = t.elapsed().as_secs_f64();
    drop(idx);
    let size = dir_size(dir);
    eprintln!(
        "[{label}] indexed {} docs in {secs:.1} s, {} MB",
        docs.len(),
        size / 1_000_000
    );
    (secs, size)
}

fn class_query(text: &str, i: usize) -> SearchQuery {
    let mut q = SearchQuery::text(text);
    if text.is_empty() {
        q.year = Some(2018 + (i % 9) as i32);
        q.sort = vanthu_search::SortBy::DateDesc;
    }
    q
}

/// Runs every query class against both indexes, interleaved (so background load hits both
/// alike); returns per-index (name, p50, p99, average hits).
fn measure(
    indexes: &[&SearchIndex; 2],
    queries: usize,
) -> [Vec<(String, Duration, Duration, usize)>; 2] {
    let mut out: [Vec<(String, Duration, Duration, usize)>; 2] = [Vec::new(), Vec::new()];
    for (name, texts) in CLASSES {
        let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
        let mut hits = [0usize; 2];
        for i in 0..queries + 20 {
            let q = class_query(texts[i % texts.len()], i);
            // Alternate which index goes first.
            let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
            for k in order {
                let t = Instant::now();
                let h = indexes[k].search(&q).expect("search");
                let el = t.elapsed();
                assert!(h.len() <= q.limit);
                if i >= 20 {
                    times[k].push(el);
                }
                if i < texts.len() {
                    hits[k] += indexes[k].count(&q).expect("count");
                }
            }
        }
        for k in 0..2 {
            times[k].sort();
            out[k].push((
                name.to_string(),
                percentile(&times[k], 0.5),
                percentile(&times[k], 0.99),
                hits[k] / texts.len(),
            ));
        }
    }
    out
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

fn main() {
    let mut n_docs = 100_000usize;
    let mut queries = 300usize;
    let mut base: Option<PathBuf> = None;
    let mut plain_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--docs" => n_docs = args.next().and_then(|v| v.parse().ok()).expect("--docs N"),
            "--queries" => {
                queries = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--queries N")
            }
            "--dir" => base = args.next().map(PathBuf::from),
            "--plain-only" => plain_only = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let base = base.unwrap_or_else(|| tmp.path().to_path_buf());

    let t = Instant::now();
    let mut g = Generator::new();
    let docs: Vec<IndexDoc> = (0..n_docs).map(|i| g.doc(i)).collect();
    let text_bytes: usize = docs.iter().map(|d| d.title.len() + d.body.len()).sum();
    println!(
        "generated {n_docs} documents, {:.0} MB of text ({:.0} B/doc), in {:.1} s",
        text_bytes as f64 / 1e6,
        text_bytes as f64 / n_docs as f64,
        t.elapsed().as_secs_f64()
    );

    println!("load average before: {}", load_average());
    let (p_secs, p_size) = build("plain", &base.join("plain"), &docs, false);
    let (e_secs, e_size) = if plain_only {
        (f64::NAN, 0)
    } else {
        build("encrypted", &base.join("encrypted"), &docs, true)
    };
    let t = Instant::now();
    let p_idx = open(&base.join("plain"), false);
    let p_open = t.elapsed().as_secs_f64() * 1e3;
    let (e_idx, e_open) = if plain_only {
        (SearchIndex::open_in_ram().expect("ram"), f64::NAN)
    } else {
        let t = Instant::now();
        let e = open(&base.join("encrypted"), true);
        (e, t.elapsed().as_secs_f64() * 1e3)
    };
    let [p_classes, e_classes] = measure(&[&p_idx, &e_idx], queries);
    println!("load average after: {}", load_average());
    let plain = Report {
        index_secs: p_secs,
        size: p_size,
        open_ms: p_open,
        classes: p_classes,
    };
    let enc = Report {
        index_secs: e_secs,
        size: e_size,
        open_ms: e_open,
        classes: e_classes,
    };
    if plain_only {
        for c in &plain.classes {
            println!(
                "{}: p50 {:.2} ms, p99 {:.2} ms, avg matches {}",
                c.0,
                ms(c.1),
                ms(c.2),
                c.3
            );
        }
        return;
    }
    println!("\n| metric | plain | encrypted | ratio |");
    println!("|---|---:|---:|---:|");
    let rate = |r: &Report| n_docs as f64 / r.index_secs;
    println!(
        "| indexing (docs/s, incl. commits) | {:.0} | {:.0} | {:.2} |",
        rate(&plain),
        rate(&enc),
        plain.index_secs / enc.index_secs
    );
    println!(
        "| index size (MB) | {:.1} | {:.1} | {:.3} |",
        plain.size as f64 / 1e6,
        enc.size as f64 / 1e6,
        enc.size as f64 / plain.size as f64
    );
    println!(
        "| reopen (ms) | {:.0} | {:.0} | {:.1} |",
        plain.open_ms,
        enc.open_ms,
        enc.open_ms / plain.open_ms
    );
    let mut worst_p50 = 0.0f64;
    let mut worst_p99 = 0.0f64;
    let mut worst_ratio = 0.0f64;
    for (p, e) in plain.classes.iter().zip(&enc.classes) {
        println!(
            "| {} p50 / p99 (ms), avg matches {} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} |",
            p.0,
            e.3,
            ms(p.1),
            ms(p.2),
            ms(e.1),
            ms(e.2),
            ms(e.1) / ms(p.1)
        );
        worst_p50 = worst_p50.max(ms(e.1));
        worst_p99 = worst_p99.max(ms(e.2));
        worst_ratio = worst_ratio.max(ms(e.1) / ms(p.1));
    }
    println!("\nTargets ({n_docs} documents):");
    println!(
        "- {} query p50 ≤ 5 ms, encrypted (worst class {worst_p50:.2} ms)",
        verdict(worst_p50 <= 5.0)
    );
    println!(
        "- {} query p99 ≤ 50 ms, encrypted (worst class {worst_p99:.2} ms)",
        verdict(worst_p99 <= 50.0)
    );
    println!(
        "- {} encrypted ≤ 1.5× plain (worst p50 ratio {worst_ratio:.2})",
        verdict(worst_ratio <= 1.5)
    );
    println!(
        "- {} indexing ≥ 2,000 docs/s, encrypted ({:.0} docs/s)",
        verdict(rate(&enc) >= 2000.0),
        rate(&enc)
    );
}
