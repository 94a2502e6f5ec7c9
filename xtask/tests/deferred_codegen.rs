//! An operation's code is compiled by the crate that calls it (issue 26):
//! the generated functions that hold it (`request`, `into_stream`) and the
//! ones `request_builder!` adds (`send`, `send_raw`, `into_future`) are
//! `#[inline]`. Without that, every client crate compiles every operation and
//! its answer's decoder in each release build, and an application pays for
//! operations it never calls (README, "Compile cost of a client"). The
//! figures are in the bench; this guards the attribute they depend on.

use std::path::{Path, PathBuf};

/// Generated functions that must be `#[inline]`.
const GENERATED: &[&str] = &["request", "into_stream"];

/// Functions of the runtime's `request_builder!` that must be `#[inline]`.
const MACRO: &[&str] = &["pub fn send_raw(self)", "pub fn send(self)", "fn into_future(self)"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `Type::name` of each function in [`GENERATED`] without `#[inline]`, and
/// how many `request` functions there are.
fn not_inline(src: &str) -> (Vec<String>, usize) {
    let file = syn::parse_file(src).expect("generated code parses");
    let (mut missing, mut requests) = (Vec::new(), 0);
    for item in &file.items {
        let syn::Item::Impl(block) = item else { continue };
        let ty = match &*block.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
            _ => String::new(),
        };
        for f in block.items.iter().filter_map(|i| match i {
            syn::ImplItem::Fn(f) => Some(f),
            _ => None,
        }) {
            let name = f.sig.ident.to_string();
            if !GENERATED.contains(&name.as_str()) {
                continue;
            }
            requests += usize::from(name == "request");
            if !f.attrs.iter().any(|a| a.path().is_ident("inline")) {
                missing.push(format!("{ty}::{name}"));
            }
        }
    }
    (missing, requests)
}

/// Each of [`MACRO`] not directly under an `#[inline]` line.
fn macro_not_inline(src: &str) -> Vec<&'static str> {
    let lines: Vec<&str> = src.lines().map(str::trim).collect();
    MACRO
        .iter()
        .copied()
        .filter(|sig| {
            let at = lines.iter().position(|l| l.starts_with(sig));
            !at.is_some_and(|i| i > 0 && lines[i - 1] == "#[inline]")
        })
        .collect()
}

fn operations_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["crates", "tests/fixtures"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path().join("src/operations.rs");
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_generated_operation_is_compiled_where_it_is_called() {
    let files = operations_files();
    assert!(files.len() >= 3, "found only {files:?}");
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap();
        let (missing, requests) = not_inline(&src);
        // One `request` per operation: each has one `OperationInfo` static.
        let operations = src.matches(": OperationInfo =").count();
        assert_eq!(
            requests,
            operations,
            "{}: the guard must see every operation",
            path.display()
        );
        assert!(missing.is_empty(), "{}: not #[inline]: {missing:?}", path.display());
    }
}

#[test]
fn the_request_builder_macro_inlines_its_send_functions() {
    let path = root().join("crates/snapsdk-runtime/src/operation.rs");
    let src = std::fs::read_to_string(&path).unwrap();
    assert_eq!(macro_not_inline(&src), Vec::<&str>::new(), "{}", path.display());
}

/// The guards fire: a `request` or `into_stream` without the attribute, and
/// a macro function without it, are reported.
#[test]
fn the_guards_fire_on_a_missing_attribute() {
    let src = r"
        struct A; struct B;
        impl A { #[inline] fn request(self) {} fn into_stream(self) {} }
        impl B { fn request(self) {} fn other(self) {} }
    ";
    assert_eq!(
        not_inline(src),
        (vec!["A::into_stream".to_owned(), "B::request".to_owned()], 2)
    );
    let macro_src = "#[inline]\npub fn send_raw(self) {}\n/// doc\npub fn send(self) {}\n";
    assert_eq!(
        macro_not_inline(macro_src),
        vec!["pub fn send(self)", "fn into_future(self)"]
    );
}
