//! Integration tests of the generated clients live in `tests/*.rs`.
//!
//! The workspace README is compiled here as a doctest, so its examples stay true.
#![doc = include_str!("../../README.md")]
