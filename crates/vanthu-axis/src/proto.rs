//! Protocol data: operation paths, message types and the JSON shapes of the answers (§6.2).

use serde::{Deserialize, Serialize};

/// `sendEdoc`.
pub const SEND_EDOC: &str = "sendEdoc";
/// `getReceivedEdocList`.
pub const GET_RECEIVED: &str = "getReceivedEdocList";
/// `getEdoc`.
pub const GET_EDOC: &str = "getEdoc";
/// `updateStatus`.
pub const UPDATE_STATUS: &str = "updateStatus";
/// `getSentEdocList`.
pub const GET_SENT: &str = "getSentEdocList";
/// `getAgenciesList`.
pub const GET_AGENCIES: &str = "getAgenciesList";
/// `countReceiveEdoc`.
pub const COUNT_EDOC: &str = "countReceiveEdoc";
/// `countReceiveStatus`.
pub const COUNT_STATUS: &str = "countReceiveStatus";

/// `messagetype`: a document or a status message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    /// An edXML document (`edoc`).
    Edoc,
    /// A status message (`status`).
    Status,
}

impl MessageType {
    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Edoc => "edoc",
            MessageType::Status => "status",
        }
    }

    /// Parses the wire value (case-insensitive).
    pub fn parse(s: &str) -> Option<MessageType> {
        match s.trim().to_ascii_lowercase().as_str() {
            "edoc" => Some(MessageType::Edoc),
            "status" => Some(MessageType::Status),
            _ => None,
        }
    }
}

/// One item of `getReceivedEdocList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingItem {
    /// The axis id of this delivered copy (used by `getEdoc` and `updateStatus`).
    #[serde(rename = "docId")]
    pub doc_id: String,
    /// Sender organ id.
    pub from: String,
    /// Recipient organ id.
    #[serde(default)]
    pub to: String,
    /// `edoc` or `status`.
    #[serde(rename = "messageType")]
    pub message_type: String,
    /// When the axis accepted it.
    #[serde(default)]
    pub created_time: String,
    /// Delivery status on the axis.
    #[serde(default)]
    pub status: String,
    /// Its description.
    #[serde(default)]
    pub status_desc: String,
}

/// One recipient of a sent package (`getSentEdocList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The recipient's copy id.
    pub receiver_doc_id: String,
    /// Recipient organ id.
    pub to_code: String,
    /// When sent.
    #[serde(default)]
    pub sent_time: String,
    /// When the recipient acknowledged it (empty while pending).
    #[serde(default)]
    pub received_time: String,
    /// Send status.
    #[serde(default)]
    pub send_status: String,
    /// Its description.
    #[serde(default)]
    pub send_status_desc: String,
    /// Receive status: `pending`, `done`, `fail`.
    #[serde(default)]
    pub receive_status: String,
    /// Its description.
    #[serde(default)]
    pub receive_status_desc: String,
}

/// One agency of the directory (`getAgenciesList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyEntry {
    /// Axis id.
    #[serde(default)]
    pub id: String,
    /// Organ id.
    pub code: String,
    /// Name.
    pub name: String,
    /// Mail.
    #[serde(default)]
    pub mail: String,
    /// Parent id.
    #[serde(default)]
    pub pid: String,
    /// Old code.
    #[serde(default, rename = "oldCode")]
    pub old_code: String,
}

/// The common answer envelope: `{"status":"OK"|"FAIL","ErrorCode":…,"ErrorDesc":…}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// `OK` or `FAIL`.
    pub status: String,
    /// `"0"` on success.
    #[serde(rename = "ErrorCode")]
    pub error_code: String,
    /// Human text.
    #[serde(rename = "ErrorDesc")]
    pub error_desc: String,
}

/// Stable error codes of the local axis server (the real axis publishes none: they are
/// opaque to the client, which shows `ErrorDesc`).
pub mod codes {
    /// Success.
    pub const OK: &str = "0";
    /// A signing header is missing.
    pub const SIGN_MISSING: &str = "1001";
    /// The HMAC does not verify.
    pub const SIGN_INVALID: &str = "1002";
    /// Unknown `systemid`.
    pub const UNKNOWN_SYSTEM: &str = "1003";
    /// A plain header disagrees with the signed JSON, or the key list does.
    pub const HEADER_MISMATCH: &str = "1004";
    /// Bad timestamp.
    pub const BAD_TIMESTAMP: &str = "1005";
    /// A required parameter is missing or malformed.
    pub const BAD_PARAM: &str = "2001";
    /// Unknown recipient.
    pub const UNKNOWN_RECIPIENT: &str = "2002";
    /// `hash-file` does not match the body.
    pub const BAD_HASH_FILE: &str = "2003";
    /// `from` is not the caller's agency.
    pub const WRONG_SENDER: &str = "2004";
    /// No such document for this caller.
    pub const NOT_FOUND: &str = "2005";
    /// Unknown operation.
    pub const UNKNOWN_OPERATION: &str = "2006";
    /// Storage failure.
    pub const STORAGE: &str = "5000";
}
