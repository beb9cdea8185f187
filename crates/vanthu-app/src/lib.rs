//! vanthu's use-case layer: what a clerk can do, the same from the CLI, the desktop shell and
//! (later) the agency hub. It composes the domain rules (`vanthu-core`) with the encrypted store
//! (`vanthu-store`); it does no parsing of command lines and no rendering.

pub mod axis;
pub mod demo;
pub mod demo_exchange;
pub mod error;
pub mod exchange;
pub mod extraction;
pub mod input;
pub mod notify;
pub mod register;
pub mod search;
pub mod signatures;

use time::UtcOffset;

pub use error::AppError;
pub use input::IncomingInput;
pub use register::{App, BatchOutcome, DocumentView, Registered};

/// Vietnam's offset.
pub const VN: UtcOffset = vanthu_store::VN_OFFSET;
