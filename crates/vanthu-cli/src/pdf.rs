//! `vanthu pdf sign` and `vanthu pdf verify` (PAdES, crate `vanthu-pdf`).
//!
//! Exit codes: 0 success (verify: every signature intact, valid and trusted), 3 bad input
//! (corrupt or encrypted PDF, expired certificate, bad arguments; remote signing rejected,
//! timed out or unavailable), 5 wrong PIN or key password, 9 a signature is not valid or not
//! trusted, 130 remote signing cancelled with Ctrl-C.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use vanthu_pdf::sign::{Level, SignOptions, Visible};
use vanthu_pdf::verify::VerifyOptions;
use vanthu_pdf::PdfError;

/// Exit code when a signature is not valid or not trusted.
pub const EXIT_SIGNATURE_INVALID: i32 = 9;

#[derive(Subcommand)]
pub enum PdfCmd {
    /// Ký số tệp PDF theo PAdES, thêm phiên bản mới (sign a PDF by incremental update).
    Sign(Box<SignArgs>),
    /// Bổ sung dữ liệu kiểm tra dài hạn cho các chữ ký đã có: B-LT (DSS) hoặc B-LTA (thêm dấu
    /// thời gian tài liệu) — không ký mới (bring existing signatures to B-LT/B-LTA; also renews
    /// an archive's timestamp).
    Extend {
        /// Tệp PDF đã ký (input).
        input: PathBuf,
        /// Tệp kết quả (output; written to a temporary file, then renamed).
        output: PathBuf,
        /// Mức: B-LT hoặc B-LTA.
        #[arg(long, default_value = "B-LTA")]
        level: String,
        /// Máy chủ dấu thời gian RFC 3161 (timestamp authority URL; needed for B-LTA).
        #[arg(long)]
        tsa: Option<String>,
        /// Chứng thư gốc đưa vào DSS nếu đã cấp cho chứng thư trong tệp, PEM (roots to add
        /// to the DSS; repeatable).
        #[arg(long, value_name = "PEM")]
        trust: Vec<PathBuf>,
        /// CA tin cậy thêm cho kết nối https, PEM (an extra CA trusted for https).
        #[arg(long, value_name = "PEM")]
        tls_ca: Option<PathBuf>,
    },
    /// Kiểm tra chữ ký số trong tệp PDF (validate every signature).
    Verify {
        /// Tệp PDF.
        file: PathBuf,
        /// Chứng thư gốc tin cậy, PEM (trust anchor; repeatable).
        #[arg(long, value_name = "PEM")]
        trust: Vec<PathBuf>,
        /// Chứng thư CA trung gian, PEM hoặc DER, chỉ để dựng chuỗi, không phải điểm tin cậy
        /// (intermediate CA certificates that help build the path, never anchors; repeatable;
        /// for files that embed only the signer's certificate).
        #[arg(long, value_name = "PEM")]
        intermediate: Vec<PathBuf>,
        /// CA tin cậy thêm cho kết nối https khi hỏi CRL/OCSP, PEM (an extra CA trusted for
        /// https revocation servers).
        #[arg(long, value_name = "PEM")]
        tls_ca: Option<PathBuf>,
        /// Chấp nhận thiếu dữ liệu thu hồi (OCSP/CRL), chỉ cảnh báo; mặc định thiếu thì CHƯA
        /// XÁC ĐỊNH (soft revocation check: missing revocation data is only a warning; by
        /// default it fails closed). A revoked certificate is never accepted.
        #[arg(long)]
        soft_revocation_check: bool,
        /// Bắt buộc có dữ liệu thu hồi: nay là mặc định (kept for old scripts; fail closed is
        /// the default).
        #[arg(long, hide = true, conflicts_with = "soft_revocation_check")]
        require_revocation: bool,
        /// Biến môi trường chứa mật khẩu mở tệp PDF, nếu tệp có mật khẩu (environment variable
        /// holding the password of a password-protected PDF: the user or the owner password;
        /// without it, a terminal is asked when the file needs one).
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
    },
}

#[derive(Args)]
pub struct SignArgs {
    /// Tệp PDF cần ký (input).
    input: PathBuf,
    /// Tệp PDF đã ký (output; written to a temporary file, then renamed).
    output: PathBuf,
    #[command(flatten)]
    with: SignWith,
}

/// `vanthu sign`: a PDF of a stored document, signed in memory and stored beside it.
#[derive(Args)]
pub struct DocSignArgs {
    /// Mã văn bản (document id).
    id: String,
    /// Tệp cần ký: số thứ tự từ 1 hoặc tên tệp; mặc định tệp đầu (the file: position from 1 or
    /// name; default the first).
    #[arg(long)]
    file: Option<String>,
    #[command(flatten)]
    with: SignWith,
}

/// The key and the signature's options, shared by `vanthu pdf sign` and `vanthu sign`.
#[derive(Args)]
pub struct SignWith {
    /// Khóa và chứng thư dạng PKCS#12 (.p12/.pfx).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["pkcs11_module", "remote"])]
    p12: Option<PathBuf>,
    /// Dịch vụ ký từ xa, người ký xác nhận trên điện thoại (remote signing service URL,
    /// SmartCA-style; only the hash leaves the machine).
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "pkcs11_module",
        requires = "credential"
    )]
    remote: Option<String>,
    /// Mã tài khoản ký trên dịch vụ ký từ xa (the remote credential ID).
    #[arg(long, value_name = "ID", requires = "remote")]
    credential: Option<String>,
    /// Thời gian chờ xác nhận trên điện thoại, giây (approval timeout in seconds).
    #[arg(long, value_name = "SECS", default_value_t = 120, requires = "remote")]
    remote_timeout: u64,
    /// Lưu yêu cầu ký đang chờ vào tệp này để tiếp tục sau khi chương trình bị tắt (keep the
    /// pending remote request and the prepared revision here; removed once finished).
    #[arg(long, value_name = "PATH", requires = "remote")]
    resume_file: Option<PathBuf>,
    /// Tiếp tục yêu cầu ký đang chờ trong --resume-file (resume the pending request).
    #[arg(long, requires = "resume_file")]
    resume: bool,
    /// Chu kỳ hỏi trạng thái, mili giây (status polling interval; for tests).
    #[arg(long, value_name = "MS", default_value_t = 2000, hide = true)]
    remote_poll_ms: u64,
    /// CA tin cậy thêm cho kết nối https (dịch vụ dấu thời gian, ký từ xa, CRL/OCSP), PEM
    /// (an extra CA trusted for https connections, e.g. the agency's own; the system's store is
    /// always used).
    #[arg(long, value_name = "PEM")]
    tls_ca: Option<PathBuf>,
    /// Chứng thư CA cần kèm vào chữ ký, PEM hoặc DER (CA certificates to embed when the token
    /// or the PKCS#12 file holds only the signer's certificate; repeatable).
    #[arg(long, value_name = "PEM")]
    chain: Vec<PathBuf>,
    /// Thư viện PKCS#11 của token (token module).
    #[arg(long, value_name = "LIB", requires = "token")]
    pkcs11_module: Option<PathBuf>,
    /// Nhãn token (token label).
    #[arg(long, value_name = "LABEL")]
    token: Option<String>,
    /// Nhãn khóa trên token, hoặc CKA_ID dạng hex; bỏ trống nếu token chỉ có một khóa (key
    /// label, or its CKA_ID in hex; optional when the token holds one key).
    #[arg(long, value_name = "LABEL")]
    key: Option<String>,
    /// Biến môi trường chứa mã PIN/mật khẩu (environment variable holding the PIN).
    #[arg(long, value_name = "VAR")]
    pin_env: Option<String>,
    /// Mức PAdES: B-B, B-T, B-LT, B-LTA.
    #[arg(long, default_value = "B-B")]
    level: String,
    /// Máy chủ dấu thời gian RFC 3161 (timestamp authority URL).
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// Chữ ký hiện: trang,x,y,rộng,cao (visible: page,x,y,w,h in points).
    #[arg(long, value_name = "page,x,y,w,h")]
    visible: Option<String>,
    /// Ảnh chữ ký PNG (nền trong suốt) hoặc JPEG (the signature image: PNG with transparency,
    /// or JPEG).
    #[arg(long, value_name = "PNG|JPEG")]
    image: Option<PathBuf>,
    /// Lý do ký (reason).
    #[arg(long)]
    reason: Option<String>,
    /// Tên trường chữ ký: trường mới viết ASCII, trường có sẵn ghi tên đầy đủ (field name: a new
    /// one in ASCII, e.g. LanhDao1, ToChuc; a pre-created one by its full name, e.g.
    /// Form.Ky.LanhDao). Mặc định: ô trống LanhDao…/ToChuc… có sẵn, hoặc trường mới.
    #[arg(long)]
    field: Option<String>,
    /// Chứng nhận tài liệu, DocMDP P=2 (certify; first signature only).
    #[arg(long)]
    certify: bool,
    /// Mức DocMDP khi chứng nhận: 2 (điền biểu mẫu, ký) hoặc 3 (thêm chú thích)
    /// (DocMDP level with --certify: 2, or 3 to allow annotations too).
    #[arg(long, value_name = "P", requires = "certify", value_parser = ["2", "3"])]
    docmdp: Option<String>,
    /// Khóa mọi trường trừ trường này sau khi ký (FieldMDP /Exclude; repeatable), ví dụ
    /// SoKyHieu, NgayBanHanh, ToChuc (lock every field but these).
    #[arg(long, value_name = "FIELD")]
    lock_except: Vec<String>,
    /// Chữ ký tổ chức trên tệp đính kèm: góc trên bên phải trang 1, không ảnh, thời gian ISO 8601
    /// (organisation signature, Decree 30: top right of page 1, no image).
    #[arg(long, conflicts_with_all = ["visible", "image"])]
    org: bool,
    /// Số, ký hiệu văn bản cho dấu của tệp đính kèm: "Số: <số>; <thời gian>" (with --org:
    /// the attachment stamp's document number, e.g. 12/QĐ-UBND).
    #[arg(long, value_name = "SỐ", requires = "org", conflicts_with = "copy")]
    stamp_number: Option<String>,
    /// Bản sao điện tử: SAO Y, SAO LỤC hoặc TRÍCH SAO; dấu "<hình thức>; <cơ quan>; <thời gian>"
    /// (with --org: the e-copy stamp; the agency is --agency or the certificate's CN).
    #[arg(long, value_name = "HÌNH THỨC", requires = "org", value_parser = ["SAO Y", "SAO LỤC", "TRÍCH SAO"])]
    copy: Option<String>,
    /// Tên cơ quan trên dấu bản sao (agency name on the copy stamp).
    #[arg(long, value_name = "TÊN", requires = "copy")]
    agency: Option<String>,
    /// Dạng thời gian trên dấu: vn = 05/03/2026; 14:22:10 +07:00 (mặc định), iso =
    /// 2026-03-05T14:22:10+07:00 (the stamp's time form; both equal the signing time /M).
    #[arg(long, value_name = "DẠNG", requires = "org", default_value = "vn", value_parser = ["vn", "iso"])]
    stamp_time: String,
    /// Tệp chưa ký có bảng tham chiếu chéo bị hỏng (vẫn mở được trong trình đọc PDF): dựng
    /// lại bảng rồi ký (an unsigned file whose cross-reference table is damaged: rebuild it,
    /// then sign; never done to a signed file).
    #[arg(long)]
    repair: bool,
    /// Ảnh con dấu PNG, đóng đè 1/3 bên trái chữ ký lãnh đạo, kích thước thật (the seal image:
    /// real size, over the left third of the leader's signature, on top).
    #[arg(long, value_name = "PNG", conflicts_with_all = ["visible", "image", "org"], requires = "seal_mm")]
    seal: Option<PathBuf>,
    /// Đường kính thật của con dấu, mm (the seal's real diameter in millimetres, e.g. 36).
    #[arg(long, value_name = "MM", requires = "seal")]
    seal_mm: Option<f64>,
    /// Trường chữ ký lãnh đạo cạnh con dấu; mặc định chữ ký hiện cuối cùng (the leader's
    /// signature field; default: the last visible signature).
    #[arg(long, value_name = "FIELD", requires = "seal")]
    next_to: Option<String>,
    /// Dòng chữ hiển thị thay cho tên người ký (text line to draw; repeatable).
    #[arg(long = "text", value_name = "TEXT")]
    text: Vec<String>,
}

fn fail(e: &PdfError, json: bool) -> i32 {
    eprintln!("Lỗi: {e}");
    let code = match e {
        PdfError::WrongPin => 5,
        PdfError::Cancelled => 130,
        _ => 3,
    };
    if json {
        crate::out_json(
            &serde_json::json!({ "error": { "code": code, "message": e.to_string() } }),
        );
    }
    code
}

/// The trust anchors given (`--trust`), else the shipped Vietnamese roots with their
/// intermediates: (anchors, intermediates).
fn anchors_or_shipped(given: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    if given.is_empty() {
        vanthu_pdf::trust::vietnam()
    } else {
        (given, Vec::new())
    }
}

/// `--tls-ca FILE`: its CAs are trusted for https connections too.
fn trust_tls(file: &Option<PathBuf>) -> Result<(), PdfError> {
    match file {
        Some(p) => vanthu_pdf::tsa::trust_tls_roots(&read(p)?).map(drop),
        None => Ok(()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, PdfError> {
    std::fs::read(path).map_err(|e| PdfError::io(path, e))
}

fn parse_visible(s: &str) -> Result<(usize, [f64; 4]), PdfError> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let bad = || {
        PdfError::Request(format!(
            "--visible {s:?}: cần trang,x,y,rộng,cao (expected page,x,y,w,h)"
        ))
    };
    if parts.len() != 5 {
        return Err(bad());
    }
    let page: usize = parts[0].parse().map_err(|_| bad())?;
    let mut r = [0f64; 4];
    for (i, p) in parts[1..].iter().enumerate() {
        r[i] = p.parse().map_err(|_| bad())?;
    }
    if page == 0 || r[2] <= 0.0 || r[3] <= 0.0 {
        return Err(bad());
    }
    Ok((page, r))
}

fn pin(var: &Option<String>, prompt: &str) -> Result<String, PdfError> {
    match var {
        Some(v) => std::env::var(v).map_err(|_| {
            PdfError::Key(format!(
                "biến môi trường {v} chưa đặt (environment variable {v} not set)"
            ))
        }),
        None => rpassword::prompt_password(prompt)
            .map_err(|e| PdfError::Key(format!("không đọc được mã PIN ({e})"))),
    }
}

fn sign(a: &SignArgs) -> Result<vanthu_pdf::Signed, PdfError> {
    let (opts, signer) = signing(&a.with, &a.input, Some(&a.output))?;
    let res = vanthu_pdf::sign_file(&a.input, &a.output, signer.as_ref(), &opts);
    if let Some(rf) = &opts.resume_file {
        match &res {
            // Finished, or the request is over at the service: nothing left to resume.
            Ok(_)
            | Err(
                PdfError::Rejected | PdfError::Expired | PdfError::Cancelled | PdfError::Sign(_),
            ) => {
                let _ = std::fs::remove_file(rf);
            }
            Err(_) if rf.exists() => eprintln!(
                "Yêu cầu ký còn lưu trong {}: chạy lại lệnh với --resume để tiếp tục (run again \
                 with --resume)",
                rf.display()
            ),
            Err(_) => {}
        }
    }
    res
}

/// The signature's options and the signer that `a` asks for. `input`: the document's name (shown
/// on the phone for remote signing); `output`: where `sign_file` writes (a pending remote
/// request's leftover temporary file is removed there).
fn signing(
    a: &SignWith,
    input: &Path,
    output: Option<&Path>,
) -> Result<(SignOptions, Box<dyn vanthu_pdf::Signer>), PdfError> {
    let mut opts = SignOptions {
        field_name: a.field.clone(),
        reason: a.reason.clone(),
        certify: a.certify,
        docmdp: a
            .docmdp
            .as_deref()
            .map_or(0, |p| if p == "3" { 3 } else { 2 }),
        field_lock: (!a.lock_except.is_empty())
            .then(|| vanthu_pdf::sign::FieldMdp::Exclude(a.lock_except.clone())),
        org_stamp: a.org,
        stamp_number: a.stamp_number.clone(),
        stamp_copy: a.copy.clone().map(|kind| vanthu_pdf::sign::CopyStamp {
            kind,
            agency: a.agency.clone(),
        }),
        stamp_time_iso: a.stamp_time == "iso",
        repair: a.repair,
        tsa_url: a.tsa.clone(),
        ..Default::default()
    };
    opts.level = a.level.parse::<Level>()?;
    trust_tls(&a.tls_ca)?;
    if opts.level > Level::BB && a.tsa.is_none() {
        return Err(PdfError::Request(
            "mức B-T trở lên cần --tsa URL (B-T and above need a timestamp authority)".into(),
        ));
    }
    if let Some(seal) = &a.seal {
        let diameter_mm = a.seal_mm.unwrap_or_default();
        if !(5.0..=100.0).contains(&diameter_mm) {
            return Err(PdfError::Request(format!(
                "--seal-mm {diameter_mm}: đường kính con dấu 5–100 mm (seal diameter in mm)"
            )));
        }
        opts.seal = Some(vanthu_pdf::sign::Seal {
            png: read(seal)?,
            diameter_mm,
            next_to: a.next_to.clone(),
        });
    }
    if let Some(v) = &a.visible {
        let (page, rect) = parse_visible(v)?;
        let image_png = a.image.as_deref().map(read).transpose()?;
        opts.visible = Some(Visible {
            page,
            rect,
            image_png,
            text: a.text.clone(),
            font: None,
        });
    } else if a.org && !a.text.is_empty() {
        opts.visible = Some(Visible {
            page: 1,
            rect: [0.0; 4],
            image_png: None,
            text: a.text.clone(),
            font: None,
        });
    }
    let signer: Box<dyn vanthu_pdf::Signer> = if let Some(p) = &a.p12 {
        let der = read(p)?;
        // A file without a password (some CA tools export so) opens without asking.
        let open = match &a.pin_env {
            None => match vanthu_pdf::keys::load_p12(&der, "") {
                Err(PdfError::WrongPin) => None,
                other => Some(other?),
            },
            Some(_) => None,
        };
        match open {
            Some(key) => Box::new(key),
            None => {
                let pw =
                    zeroize::Zeroizing::new(pin(&a.pin_env, "Mật khẩu tệp khóa (key password): ")?);
                Box::new(vanthu_pdf::keys::load_p12(&der, &pw)?)
            }
        }
    } else if let Some(module) = &a.pkcs11_module {
        let pw = zeroize::Zeroizing::new(pin(&a.pin_env, "Mã PIN của token (token PIN): ")?);
        Box::new(vanthu_pdf::pkcs11::open(
            module,
            a.token.as_deref().unwrap_or_default(),
            a.key.as_deref().unwrap_or_default(),
            &pw,
        )?)
    } else if let Some(url) = &a.remote {
        opts.resume_file = a.resume_file.clone();
        Box::new(remote_signer(a, url, input, output)?)
    } else {
        return Err(PdfError::Request(
            "cần --p12 FILE, --pkcs11-module LIB --token LABEL --key LABEL hoặc --remote URL \
             --credential ID (a key source is required)"
                .into(),
        ));
    };
    let signer: Box<dyn vanthu_pdf::Signer> = if a.chain.is_empty() {
        signer
    } else {
        Box::new(vanthu_pdf::keys::WithChain::new(
            signer,
            &load_trust(&a.chain)?,
        )?)
    };
    // Only the signer's certificate (a USB token usually holds no CA certificate): the CA's
    // is fetched from the address the certificate names (AIA "CA Issuers"), as Windows does.
    let signer = match vanthu_pdf::keys::missing_issuer(signer.chain(), &signer.roots()) {
        None => signer,
        Some(issuer) => {
            let fetched = signer
                .chain()
                .first()
                .map(vanthu_pdf::keys::fetch_issuers)
                .unwrap_or_default();
            if fetched.is_empty() {
                eprintln!(
                    "Cảnh báo: khóa chỉ kèm chứng thư của người ký, thiếu chứng thư của CA \
                     \"{issuer}\": người nhận có thể không dựng được chuỗi tới gốc tin cậy; thêm \
                     --chain <tệp CA> (warning: only the signer's certificate is available; add \
                     the CA certificate with --chain)"
                );
                signer
            } else {
                for (_, url) in &fetched {
                    eprintln!(
                        "Lưu ý: đã tải chứng thư CA từ {url}, địa chỉ ghi trong chứng thư (the CA \
                         certificate was fetched from the certificate's CA Issuers address)"
                    );
                }
                let ders: Vec<Vec<u8>> = fetched.into_iter().map(|(d, _)| d).collect();
                Box::new(vanthu_pdf::keys::WithChain::new(signer, &ders)?)
            }
        }
    };
    Ok((opts, signer))
}

/// What was rebuilt before signing, for the signer.
fn repaired_note(r: &vanthu_pdf::sign::Repaired) -> String {
    match &r.inconsistent {
        Some(why) => format!(
            "{why}: đã thêm một bảng tham chiếu chéo đầy đủ ({} đối tượng) trước khi ký, nội \
             dung giữ nguyên (a complete cross-reference section was appended before signing; \
             the content is unchanged)",
            r.objects
        ),
        None => format!(
            "bảng tham chiếu chéo của tệp gốc bị hỏng nên đã được dựng lại ({} đối tượng{}) \
             trước khi ký (the damaged cross-reference table was rebuilt before signing)",
            r.objects,
            if r.dropped > 0 {
                format!(", bỏ {} byte thừa trước phần đầu %PDF", r.dropped)
            } else {
                String::new()
            }
        ),
    }
}

/// `vanthu sign ID`: signs a stored PDF in memory (`App::sign_pdf`) and stores the signed
/// file beside it. Exit codes as `vanthu pdf sign`'s (3 bad input, 5 wrong PIN), through
/// `AppError::exit_code`.
pub fn sign_stored(
    app: &mut vanthu_app::App,
    a: &DocSignArgs,
    json: bool,
) -> Result<i32, vanthu_app::AppError> {
    if a.with.resume_file.is_some() {
        return Err(PdfError::Request(
            "--resume-file chỉ dùng với vanthu pdf sign; ký văn bản trong kho không tiếp tục \
             được yêu cầu ký từ xa đang chờ (--resume-file is for vanthu pdf sign only)"
                .into(),
        )
        .into());
    }
    // The file's name is shown on the phone when a remote service signs.
    let file = app.pick_file(&a.id, a.file.as_deref())?;
    let (opts, signer) = signing(&a.with, Path::new(&file.name), None)?;
    let done = app.sign_pdf(&a.id, a.file.as_deref(), signer.as_ref(), &opts)?;
    let repaired = done.report.repaired.as_ref().map(repaired_note);
    if json {
        crate::out_json(&serde_json::json!({
            "document": a.id,
            "original": done.original,
            "signed": done.signed,
            "repaired": repaired,
            "notes": done.report.notes,
        }));
    } else {
        for r in repaired.iter().chain(&done.report.notes) {
            eprintln!("Lưu ý: {r}");
        }
        println!(
            "Đã ký {} và lưu bản đã ký vào kho: {} ({} byte, SHA-256 {})",
            done.original.name, done.signed.name, done.signed.size, done.signed.sha256
        );
    }
    Ok(0)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `--resume-file`: refuses to start over a pending request without `--resume`, and with it
/// returns the pending transaction (none when the process died before sending it).
fn pending_request(
    a: &SignWith,
    rf: &Path,
    url: &str,
    output: Option<&Path>,
) -> Result<Option<vanthu_pdf::remote::PendingTx>, PdfError> {
    let exists = rf.exists();
    if exists && !a.resume {
        return Err(PdfError::Request(format!(
            "{} đã có một yêu cầu ký đang chờ: chạy lại với --resume để tiếp tục, hoặc xóa tệp \
             để ký lại từ đầu (a request is pending: use --resume)",
            rf.display()
        )));
    }
    if !exists {
        return if a.resume {
            Err(PdfError::Request(format!(
                "không có yêu cầu ký đang chờ trong {} (nothing to resume)",
                rf.display()
            )))
        } else {
            Ok(None)
        };
    }
    let state = vanthu_pdf::sign::read_json_file(rf)?;
    let r = &state.get("remote").cloned().unwrap_or_default();
    if r.is_null() {
        return Ok(None);
    }
    if r["url"].as_str() != Some(url.trim_end_matches('/'))
        || r["credential"].as_str() != a.credential.as_deref()
    {
        return Err(PdfError::Request(format!(
            "{}: yêu cầu đang chờ thuộc dịch vụ {} với tài khoản {}, không phải tài khoản này \
             (the pending request is for another service or credential)",
            rf.display(),
            r["url"].as_str().unwrap_or("?"),
            r["credential"].as_str().unwrap_or("?")
        )));
    }
    // The process that died left its temporary output file: remove it.
    if let (Some(pid), Some(output)) = (r["pid"].as_u64(), output) {
        let name = output.file_name().unwrap_or_default();
        let dir = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let _ = std::fs::remove_file(dir.join(format!(".{}.{pid}.tmp", name.to_string_lossy())));
    }
    let damaged = || {
        PdfError::Request(format!(
            "{}: tệp tiếp tục hỏng (damaged resume file)",
            rf.display()
        ))
    };
    Ok(Some(vanthu_pdf::remote::PendingTx {
        transaction: r["transaction"].as_str().ok_or_else(damaged)?.to_string(),
        hash: unhex(r["hash"].as_str().unwrap_or_default()).ok_or_else(damaged)?,
    }))
}

/// The remote signer for `--remote`: progress on stderr, Ctrl-C cancels the request.
fn remote_signer(
    a: &SignWith,
    url: &str,
    input: &Path,
    output: Option<&Path>,
) -> Result<vanthu_pdf::remote::RemoteSigner, PdfError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use vanthu_pdf::remote::{RemoteSigner, RemoteState};
    let mut r = RemoteSigner::connect(url, a.credential.as_deref().unwrap_or_default())?;
    r.timeout = std::time::Duration::from_secs(a.remote_timeout.max(1));
    r.poll = std::time::Duration::from_millis(a.remote_poll_ms.max(10));
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    r.display = match &a.reason {
        Some(reason) => format!("Ký tệp {name}: {reason}"),
        None => format!("Ký tệp {name}"),
    };
    if let Some(rf) = &a.resume_file {
        r.resume = pending_request(a, rf, url, output)?;
        if let Some(p) = &r.resume {
            eprintln!(
                "Tiếp tục yêu cầu ký đang chờ (giao dịch {}) (resuming the pending request)",
                p.transaction
            );
        }
        let (rf, url, credential) = (
            rf.clone(),
            url.trim_end_matches('/').to_string(),
            a.credential.clone(),
        );
        r.on_submit = Some(Box::new(move |p| {
            let mut state = vanthu_pdf::sign::read_json_file(&rf)?;
            state.insert(
                "remote".into(),
                serde_json::json!({
                    "url": url,
                    "credential": credential,
                    "transaction": p.transaction,
                    "hash": hex(&p.hash),
                    "pid": std::process::id(),
                }),
            );
            vanthu_pdf::sign::write_json_file(&rf, &state)
        }));
    }
    interrupt::on_ctrl_c(r.cancel.clone());
    let shown = AtomicBool::new(false);
    r.on_state = Some(Box::new(move |s: &RemoteState| {
        match s {
        RemoteState::AwaitingApproval {
            transaction,
            remaining,
        } if !shown.swap(true, Ordering::SeqCst) => eprintln!(
            "Đang chờ xác nhận trên điện thoại… (giao dịch {transaction}, tối đa {} giây; Ctrl-C để hủy)",
            remaining.as_secs_f64().round()
        ),
        RemoteState::Approved => eprintln!("Đã xác nhận trên điện thoại, đang hoàn tất chữ ký…"),
        _ => {}
    }
    }));
    Ok(r)
}

/// Ctrl-C while waiting for a remote approval sets the signer's cancel flag: the request is
/// cancelled at the service and the temporary file removed. A second Ctrl-C ends the process.
/// Unix: SIGINT/SIGTERM; Windows: the console control handler (Ctrl-C, Ctrl-Break).
mod interrupt {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};

    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

    #[cfg(windows)]
    static SEEN: AtomicBool = AtomicBool::new(false);

    #[cfg(unix)]
    extern "C" fn handler(_: libc::c_int) {
        if let Some(f) = FLAG.get() {
            f.store(true, Ordering::SeqCst);
        }
    }

    /// Console control handler (runs on its own thread): the first Ctrl-C / Ctrl-Break sets
    /// the flag and is handled; a second one falls through to the default (ends the process).
    #[cfg(windows)]
    unsafe extern "system" fn handler(kind: u32) -> windows_sys::core::BOOL {
        use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT};
        if kind != CTRL_C_EVENT && kind != CTRL_BREAK_EVENT {
            return 0;
        }
        if SEEN.swap(true, Ordering::SeqCst) {
            return 0;
        }
        if let Some(f) = FLAG.get() {
            f.store(true, Ordering::SeqCst);
        }
        1
    }

    pub fn on_ctrl_c(flag: Arc<AtomicBool>) {
        if FLAG.set(flag).is_err() {
            return;
        }
        #[cfg(unix)]
        // SAFETY: the handler only stores to an atomic; SA_RESETHAND restores the default
        // action, so a second Ctrl-C ends the process.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
            libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
        }
        #[cfg(windows)]
        // SAFETY: the handler only touches atomics; registering it has no other effect.
        unsafe {
            windows_sys::Win32::System::Console::SetConsoleCtrlHandler(Some(handler), 1);
        }
    }
}

fn load_trust(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, PdfError> {
    let mut out = Vec::new();
    for p in paths {
        let bytes = read(p)?;
        let certs = vanthu_pdf::trust::read_certificates(&bytes).ok_or_else(|| {
            PdfError::Key(format!(
                "{}: không đọc được chứng thư (no certificate)",
                p.display()
            ))
        })?;
        for c in certs {
            out.push(c.to_der().map_err(|e| PdfError::Key(e.to_string()))?);
        }
    }
    Ok(out)
}

/// `D:20260305142210+07'00'` → `2026-03-05T14:22:10+07:00` (as written otherwise).
fn readable_pdf_date(d: &str) -> String {
    let t = d.strip_prefix("D:").unwrap_or(d);
    let b = t.as_bytes();
    if b.len() >= 14 && b[..14].iter().all(u8::is_ascii_digit) {
        let tz = match t.get(14..) {
            Some(z) if z.starts_with('Z') || z.is_empty() => "Z".to_string(),
            Some(z) if z.len() >= 3 => {
                let z = z.replace('\'', "");
                format!("{}:{}", &z[..3], z.get(3..5).unwrap_or("00"))
            }
            _ => String::new(),
        };
        let iso = format!(
            "{}-{}-{}T{}:{}:{}{tz}",
            &t[..4],
            &t[4..6],
            &t[6..8],
            &t[8..10],
            &t[10..12],
            &t[12..14]
        );
        // Written in another zone (pyHanko and many tools write UTC): also in Vietnam's time.
        let vn = time::UtcOffset::from_hms(7, 0, 0).expect("+07:00");
        return match time::OffsetDateTime::parse(
            &iso,
            &time::format_description::well_known::Rfc3339,
        ) {
            Ok(at) if at.offset() != vn => {
                let local = at.to_offset(vn);
                format!(
                    "{iso} (= {:02}/{:02}/{} {:02}:{:02}:{:02} +07:00)",
                    local.day(),
                    u8::from(local.month()),
                    local.year(),
                    local.hour(),
                    local.minute(),
                    local.second()
                )
            }
            _ => iso,
        };
    }
    d.to_string()
}

fn print_report(rep: &vanthu_pdf::Report) {
    let n = rep.signatures.len();
    for (i, s) in rep.signatures.iter().enumerate() {
        let kind = if s.kind == "document_timestamp" {
            "Dấu thời gian tài liệu"
        } else {
            "Chữ ký"
        };
        println!("{kind} {}/{n} — trường \"{}\"", i + 1, s.field);
        println!("  Người ký:     {}", s.signer);
        let claimed = s.claimed_time.as_deref().map(readable_pdf_date);
        let time = match (&s.trusted_time, &claimed) {
            (Some(t), Some(c)) => format!("{t} (dấu thời gian); người ký khai báo {c}"),
            (Some(t), None) => format!("{t} (dấu thời gian)"),
            (None, Some(c)) => format!("{c} (người ký khai báo, không có dấu thời gian)"),
            (None, None) => "—".into(),
        };
        println!("  Thời điểm ký: {time}");
        println!("  Mức chữ ký:   PAdES {}", s.level);
        println!(
            "  Toàn vẹn:     {}",
            if s.intact {
                "Nội dung được ký không bị thay đổi"
            } else if s.verdict == vanthu_pdf::verify::UNDETERMINED {
                // Legacy formats and unsupported algorithms: nothing could be checked.
                "chưa kiểm tra được (not checked)"
            } else {
                "KHÔNG toàn vẹn"
            }
        );
        println!(
            "  Tin cậy:      {}; thu hồi: {}",
            if s.trusted {
                "Chứng thư số hợp lệ, chuỗi tới gốc tin cậy"
            } else {
                "KHÔNG tin cậy"
            },
            s.revocation
        );
        use vanthu_pdf::verify::ChangeClass;
        let later = s.modifications.len();
        let worst = s.modifications.iter().map(|m| m.class).max();
        println!(
            "  Phạm vi:      Phiên bản {}/{}; {}",
            s.revision,
            s.revisions,
            if s.covers_final_revision {
                "bao toàn bộ tài liệu".to_string()
            } else if s.modifications_allowed {
                format!("{later} thay đổi sau đó được phép")
            } else if worst == Some(ChangeClass::Review) {
                format!("{later} thay đổi sau đó, có thay đổi cần xem xét")
            } else {
                format!("{later} thay đổi sau đó, có thay đổi KHÔNG được phép")
            }
        );
        for m in s
            .modifications
            .iter()
            .filter(|m| m.class != ChangeClass::Allowed)
        {
            let class = match m.class {
                ChangeClass::Forbidden => "không được phép",
                ChangeClass::Review => "cần xem xét",
                _ => "điền biểu mẫu",
            };
            println!("    - phiên bản {} [{class}]: {}", m.revision, m.what);
        }
        for e in &s.errors {
            println!("  Lỗi:          {e}");
        }
        for w in &s.warnings {
            println!("  Lưu ý:        {w}");
        }
        println!("  Kết luận:     {}", s.verdict);
    }
    for w in &rep.warnings {
        println!("Lưu ý: {w}");
    }
    println!("Kết luận chung: {}", rep.verdict);
}

pub fn run(cmd: PdfCmd, json: bool) -> i32 {
    match cmd {
        PdfCmd::Extend {
            input,
            output,
            level,
            tsa,
            trust,
            tls_ca,
        } => {
            let res = (|| {
                trust_tls(&tls_ca)?;
                let level = level.parse::<Level>()?;
                let anchors = load_trust(&trust)?;
                vanthu_pdf::sign::extend_file(&input, &output, level, tsa.as_deref(), &anchors)
                    .map(|()| (level, anchors))
            })();
            match res {
                Ok((level, anchors)) => {
                    let name = if level == Level::BLTA {
                        "B-LTA"
                    } else {
                        "B-LT"
                    };
                    // Each signature's level as it now stands. A level counts a timestamp only
                    // when its authority is trusted: the anchors given, else the shipped roots,
                    // as `verify` does (offline, revocation not asked).
                    let (trust, intermediates) = anchors_or_shipped(anchors);
                    let quiet = VerifyOptions {
                        trust,
                        intermediates,
                        online: false,
                        soft_revocation: true,
                        ..Default::default()
                    };
                    let rep = vanthu_pdf::verify::verify_file(&output, &quiet).ok();
                    let mut levels = Vec::new();
                    for s in rep
                        .iter()
                        .flat_map(|r| r.signatures.iter())
                        .filter(|s| s.kind == "signature")
                    {
                        // PAdES B-LT needs a signature timestamp: one without stays B-B (its
                        // DSS and the document timestamp still help a later validation).
                        // Said, not hidden.
                        if s.timestamp.is_none() {
                            eprintln!(
                                "Lưu ý: chữ ký \"{}\" không có dấu thời gian chữ ký nên vẫn ở mức \
                                 B-B; dữ liệu kiểm tra đã được lưu kèm (no signature timestamp: \
                                 the signature stays B-B)",
                                s.field
                            );
                        }
                        levels.push(serde_json::json!({ "field": s.field, "level": s.level }));
                    }
                    if json {
                        crate::out_json(&serde_json::json!({
                            "extended": output,
                            "level": name,
                            "signatures": levels,
                        }));
                    } else {
                        println!(
                            "Đã bổ sung dữ liệu kiểm tra dài hạn ({name}): {}",
                            output.display()
                        );
                        for l in &levels {
                            println!(
                                "  chữ ký \"{}\": {}",
                                l["field"].as_str().unwrap_or_default(),
                                l["level"].as_str().unwrap_or_default()
                            );
                        }
                    }
                    0
                }
                Err(e) => fail(&e, json),
            }
        }
        PdfCmd::Sign(a) => match sign(&a) {
            Ok(done) => {
                let repaired = done.repaired.as_ref().map(repaired_note);
                if json {
                    crate::out_json(&serde_json::json!({
                        "signed": a.output,
                        "repaired": repaired,
                        "notes": done.notes,
                    }));
                } else {
                    for r in repaired.iter().chain(&done.notes) {
                        eprintln!("Lưu ý: {r}");
                    }
                    println!("Đã ký: {}", a.output.display());
                }
                0
            }
            Err(e) => {
                if !a.with.repair && vanthu_pdf::repair::curable(&e) {
                    eprintln!(
                        "Gợi ý: nếu tệp vẫn mở được trong trình đọc PDF, chạy lại với --repair để \
                         dựng lại bảng tham chiếu chéo rồi ký (if the file opens in a PDF viewer, \
                         --repair rebuilds its cross-reference table before signing)"
                    );
                }
                fail(&e, json)
            }
        },
        PdfCmd::Verify {
            file,
            trust,
            intermediate,
            tls_ca,
            soft_revocation_check,
            require_revocation: _,
            password_env,
        } => {
            if let Err(e) = trust_tls(&tls_ca) {
                return fail(&e, json);
            }
            let extra = match load_trust(&intermediate) {
                Ok(x) => x,
                Err(e) => return fail(&e, json),
            };
            let rep = load_trust(&trust).and_then(|t| {
                // No --trust: the shipped Vietnamese roots (unverified copies, see certs/).
                if t.is_empty() && !vanthu_pdf::trust::VIETNAM_VERIFIED {
                    eprintln!("Lưu ý: dùng chứng thư gốc Việt Nam kèm theo, chưa đối chiếu dấu vân tay với CA (shipped Vietnamese roots, fingerprints not yet verified with the CAs)");
                }
                let (t, intermediates) = anchors_or_shipped(t);
                let intermediates = intermediates.into_iter().chain(extra).collect();
                let opts = VerifyOptions {
                    trust: t,
                    at: None,
                    online: true,
                    intermediates,
                    soft_revocation: soft_revocation_check,
                };
                // Streamed: the file is mapped and hashed in chunks, never read whole.
                let password = match &password_env {
                    Some(_) => zeroize::Zeroizing::new(pin(&password_env, "")?),
                    None => zeroize::Zeroizing::new(String::new()),
                };
                match vanthu_pdf::verify::verify_file_with_password(&file, &opts, &password) {
                    Err(PdfError::Protected)
                        if password_env.is_none() && std::io::stdin().is_terminal() =>
                    {
                        let pw = zeroize::Zeroizing::new(pin(
                            &None,
                            "Mật khẩu mở tệp PDF (PDF password): ",
                        )?);
                        vanthu_pdf::verify::verify_file_with_password(&file, &opts, &pw)
                    }
                    r => r,
                }
            });
            match rep {
                Ok(rep) => {
                    if json {
                        crate::out_json(&rep);
                    } else {
                        print_report(&rep);
                    }
                    if rep.all_valid {
                        0
                    } else {
                        EXIT_SIGNATURE_INVALID
                    }
                }
                Err(e) => fail(&e, json),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::readable_pdf_date;

    #[test]
    fn claimed_times_read_as_written_and_in_vietnam_time() {
        assert_eq!(
            readable_pdf_date("D:20261205093106+07'00'"),
            "2026-12-05T09:31:06+07:00"
        );
        assert_eq!(
            readable_pdf_date("D:20261205024005Z"),
            "2026-12-05T02:40:05Z (= 05/12/2026 09:40:05 +07:00)"
        );
        assert_eq!(
            readable_pdf_date("D:20261231200000-05'00'"),
            "2026-12-31T20:00:00-05:00 (= 01/01/2027 08:00:00 +07:00)"
        );
        assert_eq!(readable_pdf_date("hôm qua"), "hôm qua");
    }
}
