//! The workspace's code generator: `specs/` → client crates, docs and OpenAPI.
//!
//! Stages: [`validate`] (parse + check + lower to [`ir`]) → [`emit`] (pure) →
//! [`write`](mod@write) (format, header, write-if-changed).

pub mod apidiff;
pub mod diag;
pub mod emit;
pub mod external;
pub mod gates;
pub mod generated;
pub mod help;
pub mod ir;
pub mod loc;
pub mod names;
pub mod outline;
pub mod package;
pub mod regen;
pub mod release;
pub mod review;
pub mod sources;
pub mod spec;
pub mod testrun;
pub mod validate;
pub mod versions;
pub mod write;
