//! The transport interface (§7): the national axis today, provincial gateways (LGSP, Bkav)
//! later. The sync engine speaks only this trait.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

use crate::error::AxisError;
use crate::proto::{AgencyEntry, Delivery, MessageType, PendingItem};

/// A package to send, streamed from its reader (never held whole in memory).
pub struct Outgoing<'a> {
    /// Document or status.
    pub message_type: MessageType,
    /// Recipient organ ids.
    pub to: &'a [String],
    /// The exact edXML bytes (a retry must send identical bytes).
    pub body: Box<dyn Read + Send + 'static>,
    /// Their length.
    pub size: u64,
    /// Their SHA-256 (for `hash-file`, computed when the package was written).
    pub sha256: [u8; 32],
}

impl<'a> Outgoing<'a> {
    /// A package held in memory (small packages, tests).
    pub fn from_bytes(message_type: MessageType, to: &'a [String], bytes: Vec<u8>) -> Self {
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        Outgoing {
            message_type,
            to,
            size: bytes.len() as u64,
            sha256,
            body: Box::new(std::io::Cursor::new(bytes)),
        }
    }
}

impl std::fmt::Debug for Outgoing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("message_type", &self.message_type)
            .field("to", &self.to)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// One document-exchange transport.
pub trait Transport: Send + Sync {
    /// A short name for logs (`vxp`, `lgsp`, …).
    fn name(&self) -> &'static str;
    /// Packages waiting for us, oldest first.
    fn list_pending(&self, kind: MessageType) -> Result<Vec<PendingItem>, AxisError>;
    /// Streams the bytes of one package into `out`; returns their length.
    fn download(&self, doc_id: &str, out: &mut dyn Write) -> Result<u64, AxisError>;
    /// Acknowledges a package (`done`) or reports it unusable (`fail`).
    fn ack(&self, doc_id: &str, ok: bool) -> Result<(), AxisError>;
    /// Sends a package; returns the axis id of the sent package.
    fn send(&self, msg: Outgoing<'_>) -> Result<String, AxisError>;
    /// Per-recipient delivery of a sent package.
    fn delivery_report(&self, kind: MessageType, doc_id: &str) -> Result<Vec<Delivery>, AxisError>;
    /// The agency directory.
    fn directory(&self) -> Result<Vec<AgencyEntry>, AxisError>;
    /// How far the axis's clock is ahead of ours (negative: behind), in ms, as its last
    /// answer told (the HTTP `Date`), if known. Signed timestamps and edXML times drift
    /// with the local clock, so a large skew deserves a warning.
    fn clock_skew_ms(&self) -> Option<i64> {
        None
    }
}
