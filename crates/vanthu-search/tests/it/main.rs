//! Integration tests of vanthu-search: one binary, the same behaviour suite over three
//! directories (RAM, plain disk, encrypted disk) plus encryption-specific checks.

mod common;
mod crypto;
mod suite;
