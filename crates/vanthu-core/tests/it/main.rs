//! Integration tests of vanthu-core: one binary, one module per area.
//!
//! * `edge_cases` — the "Test edge cases" list of §9 that concerns the
//!   domain model;
//! * `worked_examples` — the table of §4.3;
//! * `incoming` — register-row validation (§5.1);
//! * `props` — property tests (proptest).

mod edge_cases;
mod incoming;
mod props;
mod support;
mod worked_examples;
