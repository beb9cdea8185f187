//! Integration tests for vanthu-edxml (one binary).

mod common;
mod fuzz;
mod inspect;
mod safety;
mod samples;
mod streaming;
mod tolerance;
mod writer;
