//! Placeholder: this crate exists to pin the generated clients' dependencies in Cargo.lock.
