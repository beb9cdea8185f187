//! edXML (QCVN 102:2016/BTTTT) for vanthu: typed model, tolerant streaming reader,
//! strict canonical writer, ZIP-quirk unwrapping and CLI helpers. No network code.
//!
//! * [`read_message`] parses a package, streaming each attachment through a base64
//!   decoder into an [`AttachmentSink`]; memory stays bounded whatever the attachment size.
//! * [`write_message`] writes the canonical form, base64-encoding attachments in chunks
//!   straight from readers.
//! * [`inspect`] and [`pack`] back `vanthu edxml inspect` and `vanthu edxml pack`.
#![warn(missing_docs)]

pub mod b64;
mod error;
mod inspect;
mod model;
mod reader;
mod sink;
mod writer;
mod zipwrap;

pub use error::{Diagnostic, EdxmlError, ErrorCode, Location, Severity};
pub use inspect::{
    format_vn_timestamp, inspect, inspect_with, now_vn_timestamp, pack, pack_message,
    unwrap_diagnostics, uuid_v4, InspectAttachment, InspectReport, PackReport, PackRequest,
};
pub use model::*;
pub use reader::{
    is_canonical_organ_id, is_valid_date, is_valid_timestamp, norm_cid, read_message, sniff,
    Limits, ReadOptions,
};
pub use sink::{AttachmentDigest, AttachmentMeta, AttachmentSink, HashOnlySink, VecSink};
pub use writer::{
    validate, write_message, AttachmentSource, WriteError, WriteOptions, WriteReport,
};
pub use zipwrap::{unwrap_single_entry_zip, UnwrapOutcome, Unwrapped};
