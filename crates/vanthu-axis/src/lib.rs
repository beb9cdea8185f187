//! The national document-exchange axis (*Trục liên thông văn bản quốc gia*, VPCP/VXP):
//!
//! * [`sign`]: the `XroadVnpt-*` signed headers, their HMAC-SHA256 and the `hash-file` quirk;
//! * [`Transport`]: what the sync engine needs from any exchange (axis, LGSP, …);
//! * [`VxpClient`]: a blocking client of the VXP HTTP protocol;
//! * [`server`]: a local axis server speaking the same protocol, with durable per-agency
//!   queues and fault injection, for tests, demos and two agencies on one laptop.
//!
//! Knows nothing of the store or of edXML's content: packages are opaque bytes here.
#![warn(missing_docs)]

pub mod client;
pub mod error;
pub mod proto;
pub mod server;
pub mod sign;
pub mod stream;
pub mod transport;

pub use client::{ClientConfig, Secret, VxpClient};
pub use error::AxisError;
pub use proto::{AgencyEntry, Delivery, MessageType, PendingItem};
pub use transport::{Outgoing, Transport};
