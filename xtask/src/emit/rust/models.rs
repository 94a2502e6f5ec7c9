//! `src/models.rs` of a client crate: the data types of the API.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{arg_type, docs, docs_linked, has_default, ident, is_model_kind, prelude, rt, type_in, used, Scope, Uses};
use crate::ir::{self, Api, Model, ModelKind, Ty};

pub(crate) fn emit_models(api: &Api) -> TokenStream {
    let uses = Uses::start();
    let items: Vec<TokenStream> = api
        .models
        .iter()
        .map(|m| match &m.kind {
            ModelKind::Object { fields, keep_unknown } => object_model(api, m, fields, *keep_unknown),
            ModelKind::Enum { values, integer } => enum_model(api, m, values, *integer),
            ModelKind::OneOf { variants } => one_of_model(api, m, variants),
            ModelKind::Newtype { ty } => newtype_model(api, m, ty),
        })
        .collect();
    let helpers = redaction_helpers(api);
    let uses = uses.finish(&[]);
    quote! {
        //! Data types of the API: request and response models.
        #uses
        #(#items)*
        #helpers
    }
}

/// `#[serde(...)]` on a field: the wire name where it differs, and what an optional or loose field needs.
fn serde_attr(f: &ir::Field) -> TokenStream {
    let wire = &f.wire;
    let mut parts = Vec::new();
    if f.rust != f.wire {
        parts.push(quote!(rename = #wire));
    }
    if !f.required {
        parts.push(quote!(default, skip_serializing_if = "Option::is_none"));
    }
    let loose = match (&f.ty, f.required) {
        (Ty::LooseBool, true) => Some("snapsdk_runtime::de::loose_bool"),
        (Ty::LooseBool, false) => Some("snapsdk_runtime::de::opt_loose_bool"),
        (Ty::LooseInt, true) => Some("snapsdk_runtime::de::loose_int"),
        (Ty::LooseInt, false) => Some("snapsdk_runtime::de::opt_loose_int"),
        _ => None,
    };
    if let Some(p) = loose {
        parts.push(quote!(deserialize_with = #p));
    }
    if parts.is_empty() {
        quote!()
    } else {
        quote!(#[serde(#(#parts),*)])
    }
}

/// One field of an object model. `lenient`: the module of the model's
/// lenient glue, for a `seen` or `inferred` field of a model that keeps
/// unknown fields ([`lenient_glue`]).
fn field_tokens(api: &Api, f: &ir::Field, lenient: Option<&str>) -> TokenStream {
    let name = ident(&f.rust);
    let ty = type_in(&f.ty, Scope::Models);
    let mut doc_lines = vec![if f.description.is_empty() {
        format!("`{}`", f.wire)
    } else {
        f.description.clone()
    }];
    if let Some(d) = &f.default {
        doc_lines.push(format!("Server default: `{d}`."));
    }
    if f.sensitive {
        doc_lines.push("A secret: `Debug` prints `<redacted>`; the value itself is kept.".into());
    }
    doc_lines.push(f.evidence.doc().into());
    let d = docs_linked(api, doc_lines.iter().map(String::as_str));
    if let Some(module) = lenient {
        // A field no document types: a value that does not fit reads as
        // `None` and stays in `extra` (snapsdk_runtime::lenient).
        let bare = f.rust.trim_start_matches("r#");
        let (de, ser) = (format!("{module}::de_{bare}"), format!("{module}::ser_{bare}"));
        return quote! {
            #d
            #[serde(flatten, deserialize_with = #de, serialize_with = #ser)]
            pub #name: Option<#ty>,
        };
    }
    let attr = serde_attr(f);
    let ty = if f.required { ty } else { quote!(Option<#ty>) };
    quote! {
        #d
        #attr
        pub #name: #ty,
    }
}

fn model_doc(api: &Api, m: &Model) -> TokenStream {
    let mut lines = vec![m.description.clone()];
    if let Some(s) = &m.source {
        lines.push(String::new());
        lines.push(format!("Source: {}.", s.cite()));
    }
    if !m.notes.is_empty() {
        lines.push(String::new());
        lines.push("# Spec decisions".into());
        lines.push(String::new());
        lines.extend(m.notes.iter().map(|n| format!("- {}", n.trim())));
    }
    let mut out = super::linked(api, super::doc_lines(lines.iter().map(String::as_str)));
    let users = super::operations_using(api, &m.name);
    if !users.is_empty() {
        out.push(String::new());
        out.push(format!(" Used by {}.", users.join(", ")));
    }
    super::doc_attrs(&out)
}

fn serde_derives() -> (TokenStream, TokenStream) {
    (used("serde::Serialize"), used("serde::Deserialize"))
}

fn object_model(api: &Api, m: &Model, fields: &[ir::Field], keep_unknown: bool) -> TokenStream {
    let name = ident(&m.name);
    let doc = model_doc(api, m);
    let (lenient_mod, lenient_items) = lenient_glue(&m.name, fields);
    let lenient_items = if keep_unknown { lenient_items } else { None };
    let fs = fields.iter().map(|f| {
        field_tokens(
            api,
            f,
            (f.evidence.lenient() && keep_unknown).then_some(lenient_mod.as_str()),
        )
    });
    let extra_name = ident(&super::extra_map_name(fields));
    let extra_de = lenient_items.as_ref().map(|_| {
        let p = format!("{lenient_mod}::extra");
        quote!(, deserialize_with = #p)
    });
    let extra = keep_unknown.then(|| {
        quote! {
            /// Fields the server sent that the spec does not list, kept as JSON
            /// (with the raw value of a `seen` or `inferred` field that did not fit).
            #[serde(flatten #extra_de)]
            pub #extra_name: serde_json::Map<String, serde_json::Value>,
        }
    });
    let default = fields
        .iter()
        .filter(|f| f.required)
        .all(|f| has_default(&f.ty))
        .then(|| quote!(Default,));
    let redacting = redacts(api, fields, keep_unknown);
    let derive_debug = (!redacting).then(|| quote!(Debug,));
    let debug_impl = redacting.then(|| debug_impl(api, &m.name, fields, keep_unknown.then_some(&extra_name)));
    let constructor = object_constructor(api, fields, keep_unknown.then_some(&extra_name));
    let (ser, de) = serde_derives();
    quote! {
        #doc
        #[derive(#derive_debug Clone, PartialEq, #default #ser, #de)]
        #[non_exhaustive]
        pub struct #name {
            #(#fs)*
            #extra
        }

        #debug_impl

        #lenient_items

        impl #name {
            #constructor
        }
    }
}

/// The decoding glue of a model's lenient (`seen` or `inferred`) fields: the
/// name of a private module and the module itself (`None` when every field is
/// documented). Per field: `de_<field>` and `ser_<field>` for its flattened
/// field; per model: `extra`, which keeps a lenient value only when it did
/// not fit. See `snapsdk_runtime::lenient`.
fn lenient_glue(model: &str, fields: &[ir::Field]) -> (String, Option<TokenStream>) {
    let module = format!("__{}_lenient", crate::names::snake(model));
    let lenient: Vec<&ir::Field> = fields.iter().filter(|f| f.evidence.lenient()).collect();
    if lenient.is_empty() {
        return (module, None);
    }
    let (rt_lenient, rt_de) = (rt("lenient"), rt("de"));
    let fns = lenient.iter().map(|f| {
        let bare = f.rust.trim_start_matches("r#");
        let (de, ser, decode) = (
            format_ident!("de_{}", bare),
            format_ident!("ser_{}", bare),
            format_ident!("decode_{}", bare),
        );
        let ty = type_in(&f.ty, Scope::Models);
        let wire = &f.wire;
        let body = match f.ty {
            Ty::LooseBool => quote!(#rt_de::loose_bool(v)),
            Ty::LooseInt => quote!(#rt_de::loose_int(v)),
            _ => quote!(<#ty as serde::Deserialize>::deserialize(v)),
        };
        quote! {
            fn #decode(v: &serde_json::Value) -> Result<#ty, serde_json::Error> { #body }
            pub(super) fn #de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<#ty>, D::Error> {
                #rt_lenient::field(d, #model, #wire, #decode)
            }
            pub(super) fn #ser<S: serde::Serializer>(v: &Option<#ty>, s: S) -> Result<S::Ok, S::Error> {
                #rt_lenient::serialize_field(v, #wire, s)
            }
        }
    });
    let fits = lenient.iter().map(|f| {
        let decode = format_ident!("decode_{}", f.rust.trim_start_matches("r#"));
        let wire = &f.wire;
        quote!((#wire, |v| #decode(v).is_ok()))
    });
    let m = ident(&module);
    let doc = format!(" Lenient decoding of `{model}`'s fields that no document types.");
    let items = quote! {
        #[doc = #doc]
        mod #m {
            use super::*;
            #(#fns)*
            pub(super) fn extra<'de, D: serde::Deserializer<'de>>(d: D) -> Result<serde_json::Map<String, serde_json::Value>, D::Error> {
                #rt_lenient::extra(d, &[#(#fits),*])
            }
        }
    };
    (module, Some(items))
}

/// `new` (the required fields) and a chainable `with_x` per optional field.
/// `#[non_exhaustive]` keeps new fields a minor change, so callers outside
/// the crate build values with these (or `Default`).
fn object_constructor(api: &Api, fields: &[ir::Field], extra: Option<&Ident>) -> TokenStream {
    let required: Vec<_> = fields.iter().filter(|f| f.required).collect();
    let args = required.iter().map(|f| {
        let n = ident(&f.rust);
        let (t, _) = arg_type(api, &f.ty, Scope::Models);
        quote!(#n: #t)
    });
    let inits = fields.iter().map(|f| {
        let n = ident(&f.rust);
        let (_, conv) = arg_type(api, &f.ty, Scope::Models);
        if !f.required {
            quote!(#n: None,)
        } else if conv.is_empty() {
            quote!(#n,)
        } else {
            quote!(#n: #n #conv,)
        }
    });
    let setters = fields.iter().filter(|f| !f.required).map(|f| {
        let n = ident(&f.rust);
        // `type_` (an escaped keyword) gets `with_type`; any other name is kept whole, so no two setters collide.
        let bare = f.rust.trim_end_matches('_');
        let bare = if bare != f.rust && syn::parse_str::<syn::Ident>(bare).is_err() {
            bare
        } else {
            f.rust.as_str()
        };
        let m = format_ident!("with_{}", bare);
        let (t, conv) = arg_type(api, &f.ty, Scope::Models);
        let d = format!(" Sets `{}`.", f.rust);
        quote! {
            #[doc = #d]
            #[must_use]
            pub fn #m(mut self, value: #t) -> Self {
                self.#n = Some(value #conv);
                self
            }
        }
    });
    let extra_init = extra.map(|e| quote!(#e: serde_json::Map::new(),));
    let new_doc = if required.is_empty() {
        "A value with every field unset.".to_owned()
    } else {
        format!(
            "A value with the required fields ({}) and every optional field unset.",
            required
                .iter()
                .map(|f| format!("`{}`", f.rust))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let new_doc = docs([new_doc.as_str()]);
    // The spec lists this many required fields; a builder would only move the long list elsewhere.
    let many = (required.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let default = required
        .is_empty()
        .then(|| quote!(#[allow(clippy::new_without_default)]));
    quote! {
        #new_doc
        #many
        #default
        pub fn new(#(#args),*) -> Self {
            Self { #(#inits)* #extra_init }
        }

        #(#setters)*
    }
}

fn enum_model(api: &Api, m: &Model, values: &[ir::EnumValue], integer: bool) -> TokenStream {
    let name = ident(&m.name);
    let doc = model_doc(api, m);
    let variants = values.iter().map(|v| {
        let n = ident(&v.rust);
        let d = docs([v
            .description
            .clone()
            .unwrap_or_else(|| format!("`{}`", v.wire))
            .as_str()]);
        quote!(#d #n,)
    });
    let to_str = values.iter().map(|v| {
        let (n, w) = (ident(&v.rust), &v.wire);
        quote!(Self::#n => #w,)
    });
    let from_str = values.iter().map(|v| {
        let (n, w) = (ident(&v.rust), &v.wire);
        quote!(#w => Self::#n,)
    });
    let (from, fmt) = (prelude(api, "From"), used("std::fmt"));
    let serde = enum_serde(&name, integer);
    quote! {
        #doc
        ///
        /// Values this version does not know decode to `Unknown` instead of failing.
        /// New values may be added in minor releases, so matches need a `_` arm.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            /// A value the spec does not list, kept as sent.
            Unknown(String),
        }

        impl #name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to_str)*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl #from<&str> for #name {
            fn from(s: &str) -> Self {
                match s {
                    #(#from_str)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl #from<String> for #name {
            fn from(s: String) -> Self {
                Self::from(s.as_str())
            }
        }

        impl #fmt::Display for #name {
            fn fmt(&self, f: &mut #fmt::Formatter<'_>) -> #fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #serde
    }
}

/// An enum's serde impls: the wire value out (a number for an integer enum), any scalar in.
fn enum_serde(name: &Ident, integer: bool) -> TokenStream {
    let ser = if integer {
        quote! {
            match self.as_str().parse::<i64>() {
                Ok(n) => serializer.serialize_i64(n),
                Err(_) => serializer.serialize_str(self.as_str()),
            }
        }
    } else {
        quote!(serializer.serialize_str(self.as_str()))
    };
    let de = rt("de");
    let (serialize, deserialize) = serde_derives();
    let (serializer, deserializer) = (used("serde::Serializer"), used("serde::Deserializer"));
    quote! {
        impl #serialize for #name {
            fn serialize<S: #serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                #ser
            }
        }

        impl<'de> #deserialize<'de> for #name {
            fn deserialize<D: #deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                #de::scalar_string(deserializer).map(|s| Self::from(s.as_str()))
            }
        }
    }
}

fn one_of_model(api: &Api, m: &Model, variants: &[(String, Ty)]) -> TokenStream {
    let name = ident(&m.name);
    let doc = model_doc(api, m);
    let vs = variants.iter().map(|(n, t)| {
        let (n, t) = (ident(n), type_in(t, Scope::Models));
        quote!(#n(#t),)
    });
    let fmt = used("std::fmt");
    let all_display = variants.iter().all(|(_, t)| {
        !matches!(t, Ty::List(_) | Ty::Map(_) | Ty::Json | Ty::Binary)
            && !is_model_kind(api, t, |k| matches!(k, ModelKind::Object { .. }))
    });
    let display = all_display.then(|| {
        let arms = variants.iter().map(|(n, _)| {
            let n = ident(n);
            quote!(Self::#n(v) => #fmt::Display::fmt(v, f),)
        });
        quote! {
            impl #fmt::Display for #name {
                fn fmt(&self, f: &mut #fmt::Formatter<'_>) -> #fmt::Result {
                    match self { #(#arms)* }
                }
            }
        }
    });
    let froms = one_of_froms(api, &name, variants);
    let (ser, de) = serde_derives();
    quote! {
        #doc
        ///
        /// Decoding tries each variant in order.
        #[derive(Debug, Clone, PartialEq, #ser, #de)]
        #[serde(untagged)]
        pub enum #name {
            #(#vs)*
        }

        #display
        #(#froms)*
    }
}

/// `From` each variant's type (and `i32`/`u32` for integers, `&str` for strings), once per type.
fn one_of_froms(api: &Api, name: &Ident, variants: &[(String, Ty)]) -> Vec<TokenStream> {
    let from = prelude(api, "From");
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (n, t) in variants {
        let v = ident(n);
        let rust = type_in(t, Scope::Models);
        if seen.insert(rust.to_string()) {
            out.push(quote! { impl #from<#rust> for #name { fn from(v: #rust) -> Self { Self::#v(v) } } });
        }
        match t {
            Ty::Integer | Ty::LooseInt => {
                for small in [quote!(i32), quote!(u32)] {
                    if seen.insert(small.to_string()) {
                        out.push(quote! { impl #from<#small> for #name { fn from(v: #small) -> Self { Self::#v(v.into()) } } });
                    }
                }
            }
            Ty::String if seen.insert("& str".into()) => {
                out.push(quote! { impl #from<&str> for #name { fn from(v: &str) -> Self { Self::#v(v.to_owned()) } } });
            }
            _ => {}
        }
    }
    out
}

fn newtype_model(api: &Api, m: &Model, ty: &Ty) -> TokenStream {
    let name = ident(&m.name);
    let doc = model_doc(api, m);
    let inner = type_in(ty, Scope::Models);
    let (from, fmt) = (prelude(api, "From"), used("std::fmt"));
    let from_str = (*ty == Ty::String).then(|| {
        quote! {
            impl #from<&str> for #name {
                fn from(v: &str) -> Self {
                    Self(v.to_owned())
                }
            }

            impl #name {
                /// The wrapped value.
                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }
        }
    });
    let (ser, de) = serde_derives();
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, #ser, #de)]
        #[serde(transparent)]
        pub struct #name(pub #inner);

        impl #from<#inner> for #name {
            fn from(v: #inner) -> Self {
                Self(v)
            }
        }

        #from_str
        impl #fmt::Display for #name {
            fn fmt(&self, f: &mut #fmt::Formatter<'_>) -> #fmt::Result {
                #fmt::Display::fmt(&self.0, f)
            }
        }
    }
}

/// Whether an object model needs a hand-rolled `Debug` that hides secrets:
/// it has a sensitive field, or the vendor names sensitive keys and the
/// model holds free JSON (its `extra` map or a `json` field).
fn redacts(api: &Api, fields: &[ir::Field], keep_unknown: bool) -> bool {
    fields.iter().any(|f| f.sensitive)
        || (!api.vendor.sensitive_fields.is_empty() && (keep_unknown || fields.iter().any(|f| holds_json(&f.ty))))
}

/// Free JSON, or a list or map of it.
fn holds_json(ty: &Ty) -> bool {
    match ty {
        Ty::Json => true,
        Ty::List(t) | Ty::Map(t) => holds_json(t),
        _ => false,
    }
}

fn debug_impl(api: &Api, name: &str, fields: &[ir::Field], extra: Option<&Ident>) -> TokenStream {
    used("std::fmt");
    let ty = ident(name);
    let scan_json = !api.vendor.sensitive_fields.is_empty();
    let entries = fields.iter().map(|f| {
        let n = ident(&f.rust);
        let label = f.rust.trim_start_matches("r#");
        let value = match (f.sensitive, f.required, &f.ty) {
            (true, true, _) => quote!(&Redacted),
            (true, false, _) => quote!(&self.#n.as_ref().map(|_| Redacted)),
            (false, true, Ty::Json) if scan_json => quote!(&redact_value(&self.#n)),
            (false, false, Ty::Json) if scan_json => quote!(&self.#n.as_ref().map(redact_value)),
            // Lists and maps of free JSON are shown as the JSON they hold, scrubbed.
            (false, true, t) if scan_json && holds_json(t) => {
                quote!(&redact_value(&serde_json::to_value(&self.#n).unwrap_or_default()))
            }
            (false, false, t) if scan_json && holds_json(t) => {
                quote!(&self.#n.as_ref().map(|v| redact_value(&serde_json::to_value(v).unwrap_or_default())))
            }
            _ => quote!(&self.#n),
        };
        quote!(.field(#label, #value))
    });
    let extra = extra.map(|e| {
        let label = e.to_string();
        if scan_json {
            quote!(.field(#label, &redact_map(&self.#e)))
        } else {
            quote!(.field(#label, &self.#e))
        }
    });
    quote! {
        impl fmt::Debug for #ty {
            fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
                out.debug_struct(#name) #(#entries)* #extra .finish()
            }
        }
    }
}

/// `Redacted` and the JSON scrubbers, emitted once per crate when some model uses them.
fn redaction_helpers(api: &Api) -> TokenStream {
    let objects = || {
        api.models.iter().filter_map(|m| match &m.kind {
            ModelKind::Object { fields, keep_unknown } => Some((fields, *keep_unknown)),
            _ => None,
        })
    };
    let any_sensitive = objects().any(|(fs, _)| fs.iter().any(|f| f.sensitive));
    let names = &api.vendor.sensitive_fields;
    let scans = !names.is_empty() && objects().any(|(fs, keep)| keep || fs.iter().any(|f| holds_json(&f.ty)));
    if any_sensitive {
        used("std::fmt");
    }
    let redacted = any_sensitive.then(|| {
        quote! {
            /// Stands in for a secret in `Debug` output.
            struct Redacted;

            impl fmt::Debug for Redacted {
                fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
                    out.write_str("<redacted>")
                }
            }
        }
    });
    let scrub = scans.then(|| quote! {
        /// Wire names whose values `Debug` hides wherever they occur in free JSON
        /// (the vendor's `sensitive_fields`), compared without regard to ASCII case.
        const SENSITIVE_KEYS: &[&str] = &[#(#names),*];

        fn redact_map(map: &serde_json::Map<String, serde_json::Value>) -> serde_json::Map<String, serde_json::Value> {
            map.iter()
                .map(|(k, v)| {
                    let hidden = SENSITIVE_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k));
                    (k.clone(), if hidden { serde_json::Value::String("<redacted>".to_owned()) } else { redact_value(v) })
                })
                .collect()
        }

        fn redact_value(v: &serde_json::Value) -> serde_json::Value {
            match v {
                serde_json::Value::Object(m) => serde_json::Value::Object(redact_map(m)),
                serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(redact_value).collect()),
                other => other.clone(),
            }
        }
    });
    quote!(#redacted #scrub)
}
