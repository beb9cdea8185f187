//! # vanthu-core
//!
//! The domain model of vanthu, a Vietnamese electronic-office (*văn thư*)
//! application, following Decree 30/2020/NĐ-CP and the clerical rules in
//! `shared/domain/clerical-rules.md`.
//!
//! **Architecture invariant:** this crate performs no I/O at all — no file
//! system, no network, no clock. Every function that depends on the current
//! time takes it as a parameter, so everything here is deterministic and can be
//! property-tested.
//!
//! | module | what it holds |
//! |---|---|
//! | [`text`] | NFC normalisation and the folding used for matching keys |
//! | [`doctype`] | the 29 administrative document types and the 3 copy types (§3) |
//! | [`notation`] | `Số, ký hiệu` formatting and parsing (§4.1) |
//! | [`level`] | `Độ mật` and `Độ khẩn` (§6) |
//! | [`series`] | numbering registers, numbering year and series allocation (§4.2) |
//! | [`duplicate`] | the duplicate-detection key (§4.4) |
//! | [`incoming`] | the `Sổ đăng ký văn bản đến` row input and its validation (§5.1) |
//! | [`diag`] | bilingual field errors and warnings shared by the modules above |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod diag;
pub mod doctype;
pub mod duplicate;
pub mod incoming;
pub mod level;
pub mod notation;
pub mod series;
pub mod text;

pub use diag::{FieldError, ValidationErrors, Warning};
