//! Typed model of edXML messages (QCVN 102:2016).
//!
//! Values are kept as the raw (trimmed) strings found in the file; format checks are
//! reported as diagnostics, never by rejecting the package.

use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;

/// The edXML namespace URI.
pub const NS: &str = "http://www.mic.gov.vn/TBT/QCVN_102_2016";
/// The XML-DSig namespace URI.
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// An organisation (`From`, `To`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// `OrganId` (mã định danh).
    pub organ_id: String,
    /// `OrganizationInCharge` (cơ quan chủ quản).
    pub organization_in_charge: Option<String>,
    /// `OrganName`.
    pub organ_name: String,
    /// `OrganAdd`.
    pub organ_add: Option<String>,
    /// `Email`.
    pub email: Option<String>,
    /// `Telephone`.
    pub telephone: Option<String>,
    /// `Fax`.
    pub fax: Option<String>,
    /// `Website`.
    pub website: Option<String>,
}

impl Organization {
    /// An organisation with only an id and a name.
    pub fn new(organ_id: impl Into<String>, organ_name: impl Into<String>) -> Self {
        Organization {
            organ_id: organ_id.into(),
            organ_name: organ_name.into(),
            ..Default::default()
        }
    }
}

/// `Code`: số and ký hiệu.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    /// `CodeNumber` (số; a string).
    pub code_number: String,
    /// `CodeNotation` (ký hiệu).
    pub code_notation: String,
}

/// `PromulgationInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromulgationInfo {
    /// `Place` (địa danh).
    pub place: Option<String>,
    /// `PromulgationDate` (`yyyy/MM/dd`, raw).
    pub promulgation_date: String,
}

/// `DocumentType`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentType {
    /// `Type` (1 QPPL, 2 hành chính; raw).
    pub doc_type: Option<String>,
    /// `TypeDetail` (unknown meaning; the writer omits it).
    pub type_detail: Option<String>,
    /// `TypeName`.
    pub type_name: Option<String>,
}

/// `SignerInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInfo {
    /// `Competence` (TL., KT., TM., Q.).
    pub competence: Option<String>,
    /// `Position`.
    pub position: Option<String>,
    /// `FullName`.
    pub full_name: Option<String>,
}

/// `OtherInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherInfo {
    /// `Priority` (0–4 raw; 4 is deprecated).
    pub priority: Option<String>,
    /// `SphereOfPromulgation`.
    pub sphere_of_promulgation: Option<String>,
    /// `TyperNotation`.
    pub typer_notation: Option<String>,
    /// `PromulgationAmount`.
    pub promulgation_amount: Option<String>,
    /// `PageAmount`.
    pub page_amount: Option<String>,
    /// `Direction` (always `false` in practice).
    pub direction: Option<String>,
    /// `Appendixes/Appendix`.
    pub appendixes: Vec<String>,
}

/// `ResponseFor`: the document answered (edoc) or reported on (status).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseFor {
    /// `OrganId` of the other party.
    pub organ_id: Option<String>,
    /// `Code` such as `7816/VPCP-TTĐT`.
    pub code: Option<String>,
    /// `DocumentId`.
    pub document_id: Option<String>,
    /// `PromulgationDate`.
    pub promulgation_date: Option<String>,
}

impl ResponseFor {
    /// True when every field is absent (an empty `ResponseFor` counts as absent).
    pub fn is_empty(&self) -> bool {
        self.organ_id.is_none()
            && self.code.is_none()
            && self.document_id.is_none()
            && self.promulgation_date.is_none()
    }
}

/// `StaffInfo` (the sending văn thư).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffInfo {
    /// `Department`.
    pub department: Option<String>,
    /// `Staff`.
    pub staff: Option<String>,
    /// `Email`.
    pub email: Option<String>,
    /// `Mobile`.
    pub mobile: Option<String>,
}

/// `MessageHeader` of a document message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdocHeader {
    /// `From`.
    pub from: Organization,
    /// `To` (1..n), in file order.
    pub to: Vec<Organization>,
    /// `DocumentId` (opaque).
    pub document_id: String,
    /// `Code`.
    pub code: Code,
    /// `PromulgationInfo`.
    pub promulgation_info: PromulgationInfo,
    /// `DocumentType`.
    pub document_type: Option<DocumentType>,
    /// `Subject` (trích yếu).
    pub subject: String,
    /// `Content`.
    pub content: Option<String>,
    /// `SignerInfo`.
    pub signer_info: Option<SignerInfo>,
    /// `DueDate`.
    pub due_date: Option<String>,
    /// `OtherInfo`.
    pub other_info: Option<OtherInfo>,
    /// `ResponseFor` (empty ones dropped).
    pub response_for: Vec<ResponseFor>,
    /// `SteeringType` (raw).
    pub steering_type: Option<String>,
    /// `ToPlaces/Place`.
    pub to_places: Vec<String>,
}

/// A status code (§3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// 01 Đã đến, văn thư chưa xử lý.
    Arrived,
    /// 02 Từ chối tiếp nhận.
    Refused,
    /// 03 Tiếp nhận, vào sổ.
    Accepted,
    /// 04 Phân công xử lý.
    Assigned,
    /// 05 Đang xử lý.
    Processing,
    /// 06 Hoàn thành.
    Completed,
    /// 13 Yêu cầu lấy lại (sent by the original sender).
    TakeBackRequested,
    /// 15 Đồng ý cập nhật, lấy lại.
    ChangeAccepted,
    /// 16 Từ chối cập nhật, lấy lại.
    ChangeRefused,
    /// Any other code, kept raw; never emitted.
    Unknown(String),
}

impl StatusCode {
    /// Every known code, in order.
    pub const ALL: [StatusCode; 9] = [
        StatusCode::Arrived,
        StatusCode::Refused,
        StatusCode::Accepted,
        StatusCode::Assigned,
        StatusCode::Processing,
        StatusCode::Completed,
        StatusCode::TakeBackRequested,
        StatusCode::ChangeAccepted,
        StatusCode::ChangeRefused,
    ];

    /// Parses a raw code; `1` reads as `01`.
    pub fn parse(raw: &str) -> StatusCode {
        let raw = raw.trim();
        let n: Option<u32> =
            if !raw.is_empty() && raw.len() <= 3 && raw.bytes().all(|b| b.is_ascii_digit()) {
                raw.parse().ok()
            } else {
                None
            };
        match n {
            Some(1) => StatusCode::Arrived,
            Some(2) => StatusCode::Refused,
            Some(3) => StatusCode::Accepted,
            Some(4) => StatusCode::Assigned,
            Some(5) => StatusCode::Processing,
            Some(6) => StatusCode::Completed,
            Some(13) => StatusCode::TakeBackRequested,
            Some(15) => StatusCode::ChangeAccepted,
            Some(16) => StatusCode::ChangeRefused,
            _ => StatusCode::Unknown(raw.to_string()),
        }
    }

    /// The two-digit wire code (raw text for unknown codes).
    pub fn as_str(&self) -> &str {
        match self {
            StatusCode::Arrived => "01",
            StatusCode::Refused => "02",
            StatusCode::Accepted => "03",
            StatusCode::Assigned => "04",
            StatusCode::Processing => "05",
            StatusCode::Completed => "06",
            StatusCode::TakeBackRequested => "13",
            StatusCode::ChangeAccepted => "15",
            StatusCode::ChangeRefused => "16",
            StatusCode::Unknown(s) => s,
        }
    }

    /// Vietnamese label.
    pub fn label_vi(&self) -> &'static str {
        match self {
            StatusCode::Arrived => "Đã đến, văn thư chưa xử lý",
            StatusCode::Refused => "Từ chối tiếp nhận",
            StatusCode::Accepted => "Tiếp nhận, vào sổ",
            StatusCode::Assigned => "Phân công xử lý",
            StatusCode::Processing => "Đang xử lý",
            StatusCode::Completed => "Hoàn thành",
            StatusCode::TakeBackRequested => "Yêu cầu lấy lại",
            StatusCode::ChangeAccepted => "Đồng ý cập nhật, lấy lại",
            StatusCode::ChangeRefused => "Từ chối cập nhật, lấy lại",
            StatusCode::Unknown(_) => "Mã trạng thái không xác định",
        }
    }

    /// True for code 13, sent by the original sender (From and ResponseFor swap roles).
    pub fn sent_by_original_sender(&self) -> bool {
        matches!(self, StatusCode::TakeBackRequested)
    }
}

impl Serialize for StatusCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StatusCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(StatusCode::parse(&s))
    }
}

/// `MessageHeader` of a status message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusHeader {
    /// `From` (the reporting party).
    pub from: Organization,
    /// `ResponseFor` (the document reported on).
    pub response_for: ResponseFor,
    /// `StaffInfo`.
    pub staff_info: Option<StaffInfo>,
    /// `StatusCode`.
    pub status_code: StatusCode,
    /// `Description` (reason for 02/13/16).
    pub description: Option<String>,
    /// `Timestamp` (`yyyy/MM/dd HH:mm:ss`, UTC+7, raw).
    pub timestamp: String,
}

/// `TraceHeader`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceHeader {
    /// `OrganId` of the hop.
    pub organ_id: String,
    /// `Timestamp` of the hop.
    pub timestamp: String,
}

/// `BussinessDocType` (§1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusinessDocType {
    /// 0: new document.
    New,
    /// 1: revoke (thu hồi).
    Revoke,
    /// 2: update (cập nhật).
    Update,
    /// 3: replace (thay thế).
    Replace,
    /// Anything else, raw.
    Unknown(String),
}

impl BusinessDocType {
    /// Parses a raw value.
    pub fn parse(raw: &str) -> Self {
        match raw.trim() {
            "0" => BusinessDocType::New,
            "1" => BusinessDocType::Revoke,
            "2" => BusinessDocType::Update,
            "3" => BusinessDocType::Replace,
            other => BusinessDocType::Unknown(other.to_string()),
        }
    }

    /// Wire value.
    pub fn as_str(&self) -> &str {
        match self {
            BusinessDocType::New => "0",
            BusinessDocType::Revoke => "1",
            BusinessDocType::Update => "2",
            BusinessDocType::Replace => "3",
            BusinessDocType::Unknown(s) => s,
        }
    }

    /// Short English name (`new`, `revoke`, `update`, `replace`, `unknown`).
    pub fn name(&self) -> &'static str {
        match self {
            BusinessDocType::New => "new",
            BusinessDocType::Revoke => "revoke",
            BusinessDocType::Update => "update",
            BusinessDocType::Replace => "replace",
            BusinessDocType::Unknown(_) => "unknown",
        }
    }
}

impl Serialize for BusinessDocType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BusinessDocType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(BusinessDocType::parse(&s))
    }
}

/// `ReceiverList/Receiver` of an update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receiver {
    /// `OrganId`.
    pub organ_id: String,
    /// `ReceiverType`: 0 removed, 1 added.
    pub receiver_type: String,
}

/// `BussinessDocumentInfo` (type 2, update).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessDocumentInfo {
    /// `DocumentInfo` 0|1: metadata changed.
    pub document_info: Option<String>,
    /// `DocumentReceiver` 0|1: receivers changed.
    pub document_receiver: Option<String>,
    /// `ReceiverList/Receiver`.
    pub receivers: Vec<Receiver>,
}

/// `ReplacementInfo` (type 3, replace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacementInfo {
    /// Replaced `DocumentId`.
    pub document_id: String,
    /// `OrganIdList/OrganId`.
    pub organ_ids: Vec<String>,
}

/// `Bussiness` (the standard's spelling): what this document does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Business {
    /// `DocumentId`: target of a revoke/update.
    pub document_id: Option<String>,
    /// `BussinessDocType`.
    pub doc_type: BusinessDocType,
    /// `BussinessDocReason`.
    pub reason: Option<String>,
    /// `Paper`: 0 electronic only, 1 paper copy also sent.
    pub paper: Option<String>,
    /// `BussinessDocumentInfo` (update).
    pub document_info: Option<BusinessDocumentInfo>,
    /// `ReplacementInfoList/ReplacementInfo` (replace), duplicates kept.
    pub replacements: Vec<ReplacementInfo>,
    /// `StaffInfo`.
    pub staff_info: Option<StaffInfo>,
}

impl Default for Business {
    fn default() -> Self {
        Business {
            document_id: None,
            doc_type: BusinessDocType::New,
            reason: None,
            paper: None,
            document_info: None,
            replacements: Vec::new(),
            staff_info: None,
        }
    }
}

/// `TraceHeaderList`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceHeaderList {
    /// `TraceHeader`s in file order (sender first, then hops).
    pub trace_headers: Vec<TraceHeader>,
    /// `Bussiness` (absent ⇒ type 0).
    pub business: Option<Business>,
}

/// What kind of `Signature` element was present (never verified).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureKind {
    /// No signature element.
    #[default]
    Absent,
    /// A signature-like element that is not XML-DSig (edXML-namespaced `Signature`,
    /// `DigitalSignature`); treated as absent.
    NotXmlDsig,
    /// An XML-DSig-namespaced `Signature`.
    XmlDsig,
}

/// `edXMLManifest/Reference`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestReference {
    /// `ContentId` (raw, e.g. `cid:209`).
    pub content_id: String,
    /// `ContentType`.
    pub content_type: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `AttachmentName`.
    pub attachment_name: Option<String>,
}

/// An attachment as read (metadata and digest; the bytes went to the sink).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// 0-based position in `AttachmentEncoded`; the index passed to the sink.
    pub index: usize,
    /// `ContentId` (raw).
    pub content_id: String,
    /// `AttachmentName`.
    pub attachment_name: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `ContentType` on the attachment.
    pub content_type: Option<String>,
    /// `ContentType` of the matching manifest reference, if any.
    pub manifest_content_type: Option<String>,
    /// Decoded size in bytes (of what was decoded before any error).
    pub size: u64,
    /// Lowercase hex SHA-256 of the decoded bytes; `None` when decoding failed.
    pub sha256: Option<String>,
    /// Type sniffed from the first bytes (`application/pdf`, `application/zip`, …).
    pub sniffed_type: Option<String>,
    /// Why decoding failed (`ATTACHMENT_BAD_BASE64` detail).
    pub error: Option<String>,
}

impl Attachment {
    /// True when the decoded bytes start with a ZIP local header and the name does not
    /// end in `.zip`: a candidate for [`crate::unwrap_single_entry_zip`].
    pub fn is_zip_wrapped_candidate(&self) -> bool {
        self.sniffed_type.as_deref() == Some("application/zip")
            && !self
                .attachment_name
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase()
                .ends_with(".zip")
    }
}

/// Kind of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// A document (`messagetype=edoc`).
    Edoc,
    /// A status message (`messagetype=status`).
    Status,
}

/// The header, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Header {
    /// Document header.
    Edoc(Box<EdocHeader>),
    /// Status header.
    Status(Box<StatusHeader>),
}

/// A parsed edXML message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `MessageHeader`.
    pub header: Header,
    /// `TraceHeaderList`.
    pub trace: Option<TraceHeaderList>,
    /// `Signature` kind.
    pub signature: SignatureKind,
    /// Manifest references.
    pub manifest: Vec<ManifestReference>,
    /// Attachments, in file order.
    pub attachments: Vec<Attachment>,
    /// Warnings and per-field errors found while reading.
    #[serde(skip_deserializing)]
    pub diagnostics: Vec<Diagnostic>,
}

impl Message {
    /// Kind of the message.
    pub fn kind(&self) -> MessageKind {
        match self.header {
            Header::Edoc(_) => MessageKind::Edoc,
            Header::Status(_) => MessageKind::Status,
        }
    }

    /// The document header, if an edoc.
    pub fn edoc(&self) -> Option<&EdocHeader> {
        match &self.header {
            Header::Edoc(h) => Some(h),
            Header::Status(_) => None,
        }
    }

    /// The status header, if a status message.
    pub fn status(&self) -> Option<&StatusHeader> {
        match &self.header {
            Header::Status(h) => Some(h),
            Header::Edoc(_) => None,
        }
    }

    /// `Bussiness`, if present.
    pub fn business(&self) -> Option<&Business> {
        self.trace.as_ref().and_then(|t| t.business.as_ref())
    }

    /// Business type (absent `Bussiness` ⇒ new); `None` for status messages.
    pub fn business_doc_type(&self) -> Option<BusinessDocType> {
        match self.header {
            Header::Status(_) => None,
            Header::Edoc(_) => Some(
                self.business()
                    .map(|b| b.doc_type.clone())
                    .unwrap_or(BusinessDocType::New),
            ),
        }
    }

    /// Diagnostics with the given code.
    pub fn diagnostics_with(&self, code: &str) -> Vec<&Diagnostic> {
        self.diagnostics.iter().filter(|d| d.code == code).collect()
    }

    /// True if any diagnostic has the given code.
    pub fn has_diagnostic(&self, code: &str) -> bool {
        self.diagnostics.iter().any(|d| d.code == code)
    }
}
