//! The transport interface (§7): the national axis today, provincial gateways (LGSP, Bkav)
//! later. The sync engine speaks only this trait.

use crate::error::AxisError;
use crate::proto::{AgencyEntry, Delivery, MessageType, PendingItem};

/// A package to send.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Document or status.
    pub message_type: MessageType,
    /// Recipient organ ids.
    pub to: &'a [String],
    /// The exact edXML bytes (a retry must send identical bytes).
    pub bytes: &'a [u8],
}

/// One document-exchange transport.
pub trait Transport: Send + Sync {
    /// A short name for logs (`vxp`, `lgsp`, …).
    fn name(&self) -> &'static str;
    /// Packages waiting for us, oldest first.
    fn list_pending(&self, kind: MessageType) -> Result<Vec<PendingItem>, AxisError>;
    /// The bytes of one package.
    fn download(&self, doc_id: &str) -> Result<Vec<u8>, AxisError>;
    /// Acknowledges a package (`done`) or reports it unusable (`fail`).
    fn ack(&self, doc_id: &str, ok: bool) -> Result<(), AxisError>;
    /// Sends a package; returns the axis id of the sent package.
    fn send(&self, msg: Outgoing<'_>) -> Result<String, AxisError>;
    /// Per-recipient delivery of a sent package.
    fn delivery_report(&self, kind: MessageType, doc_id: &str) -> Result<Vec<Delivery>, AxisError>;
    /// The agency directory.
    fn directory(&self) -> Result<Vec<AgencyEntry>, AxisError>;
}
