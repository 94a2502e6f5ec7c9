//! `src/operations.rs` of a client crate: one request builder per operation.
//! What every builder shares (`options`, `send_raw`, `send`, `.await`) is the
//! runtime's `request_builder!`; each builder here holds its inputs,
//! assembles its request and names its decoding step (a plain function: the
//! call's future is the runtime's, compiled once for every operation).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, ToTokens};

use super::{
    all_inputs, arg_type, docs, http, ident, required_inputs, rt, sent_in, success_type, type_in, Input, Place, Scope,
    Uses,
};
use crate::ir::{self, Api, BodyEncoding, ContentKind, Operation, PathPart, Ty};
use crate::names;

pub(crate) fn emit_operations(api: &Api) -> TokenStream {
    let uses = Uses::start();
    let auths = auth_consts(api);
    let items: Vec<TokenStream> = api.operations.iter().map(|op| operation(api, op)).collect();
    let uses = uses.finish(&[]);
    quote! {
        //! Request builders, one per operation. Create them through the client's group methods.
        #uses
        #(#auths)*
        #(#items)*
    }
}

fn operation(api: &Api, op: &Operation) -> TokenStream {
    let b = super::builder_struct(op);
    let info = info_static(op);
    let (def, ctor) = builder_def(op);
    let setters = all_inputs(op)
        .into_iter()
        .filter(|i| !i.required)
        .map(|i| setter(api, op, &i))
        .collect::<Vec<_>>();
    let request = request_fn(op);
    let paginate = paginate(op);
    let send_as = (op.success.content == ContentKind::Json && op.success.ty.is_none()).then(|| {
        let deserialize_owned = used_de_owned();
        let (send_future, response) = (rt("SendFuture"), rt("Response"));
        quote! {
            /// Send, and decode the JSON answer into your own type (the spec does not describe its shape).
            pub fn send_as<T: #deserialize_owned>(self) -> #send_future<T> {
                #send_future::new(self.send_raw(), #response::into_json)
            }
        }
    });
    let out = success_type(op);
    let decode = decode(op);
    quote! {
        #info
        #def

        impl #b {
            #ctor
            #(#setters)*
            #request
            #send_as
            #paginate
        }

        snapsdk_runtime::request_builder!(#b, |response| -> #out { #decode });
    }
}

fn used_de_owned() -> TokenStream {
    super::used("serde::de::DeserializeOwned")
}

/// The operation's `static` facts, as the runtime reads them, in one line:
/// `OperationInfo::get(id, path, auth)`, retried by the method's meaning unless the spec says otherwise.
fn info_static(op: &Operation) -> TokenStream {
    let info = format_ident!("{}", op.id.to_uppercase());
    let (id, template) = (&op.id, &op.path);
    let method = op.method.as_str();
    let ctor = ident(&method.to_lowercase());
    let by_method = matches!(method, "GET" | "HEAD" | "PUT" | "DELETE");
    let retry = (op.retryable != by_method).then(|| {
        let r = op.retryable;
        quote!(.retryable(#r))
    });
    let (op_info, auth) = (rt("OperationInfo"), auth_expr(&op.auth));
    quote! {
        static #info: #op_info = #op_info::#ctor(#id, #template, #auth) #retry;
    }
}

/// The name of the `const` holding a set of schemes (`AUTH_BASIC_OR_BEARER`).
fn auth_const(schemes: &[String]) -> Ident {
    format_ident!("AUTH_{}", schemes.join("_OR_").to_uppercase())
}

fn auth_expr(auth: &ir::Auth) -> TokenStream {
    match auth {
        ir::Auth::None => {
            let auth_req = rt("AuthRequirement");
            quote!(#auth_req::None)
        }
        ir::Auth::Schemes(s) => auth_const(s).into_token_stream(),
    }
}

/// One `const` per set of schemes the operations accept, so each `static` fits a line.
fn auth_consts(api: &Api) -> Vec<TokenStream> {
    let mut seen: Vec<&[String]> = Vec::new();
    for op in &api.operations {
        if let ir::Auth::Schemes(s) = &op.auth {
            if !seen.contains(&s.as_slice()) {
                seen.push(s);
            }
        }
    }
    let auth_req = rt("AuthRequirement");
    seen.into_iter()
        .map(|s| {
            let name = auth_const(s);
            quote!(const #name: #auth_req = #auth_req::Schemes(&[#(#s),*]);)
        })
        .collect()
}

/// The builder struct and its constructor. Its docs point to the group method, which has the operation's docs.
fn builder_def(op: &Operation) -> (TokenStream, TokenStream) {
    let b = super::builder_struct(op);
    let inputs = all_inputs(op);
    let required = required_inputs(op);
    let clone = (!inputs.iter().any(|i| *i.ty == Ty::Binary)).then(|| quote!(Clone,));
    let fields = inputs.iter().map(|i| {
        let (n, t) = (ident(i.rust), type_in(i.ty, Scope::Elsewhere));
        if i.required {
            quote!(#n: #t,)
        } else {
            quote!(#n: Option<#t>,)
        }
    });
    let ctor_params = required.iter().map(|i| {
        let (n, t) = (ident(i.rust), type_in(i.ty, Scope::Elsewhere));
        quote!(#n: #t)
    });
    let ctor_fields = inputs.iter().map(|i| {
        let n = ident(i.rust);
        match (i.required, i.client_default) {
            (true, _) => quote!(#n,),
            (false, Some(v)) => {
                let lit = literal(i.ty, v);
                quote!(#n: Some(#lit),)
            }
            (false, None) => quote!(#n: None,),
        }
    });
    let path = format!(
        "crate::{}::{}",
        names::group_type(&op.group),
        names::method(&op.group, &op.id)
    );
    let doc = format!(
        " The request of [`{}`]({path}) (`{}`): set options, then `.await` it.",
        super::call_signature(op),
        op.id
    );
    let (client, call) = (rt("Client"), rt("Call"));
    // Each required input is an argument; a long list is the spec's choice.
    let many = (required.len() > 6).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let def = quote! {
        #[doc = #doc]
        #[derive(Debug, #clone)]
        #[must_use = "a request does nothing until it is awaited (`.await` or `.send().await`)"]
        pub struct #b {
            rt_call: #call,
            #(#fields)*
        }
    };
    let ctor = quote! {
        #many
        pub(crate) fn new(rt_client: #client, #(#ctor_params),*) -> Self {
            Self { rt_call: #call::new(rt_client), #(#ctor_fields)* }
        }
    };
    (def, ctor)
}

/// The setter of an optional input, with where its value goes.
fn setter(api: &Api, op: &Operation, i: &Input<'_>) -> TokenStream {
    let n = ident(i.rust);
    let (t, conv) = arg_type(api, i.ty, Scope::Elsewhere);
    let mut lines = vec![if i.description.is_empty() {
        format!("Sets `{}`.", i.wire)
    } else {
        i.description.to_owned()
    }];
    lines.push(format!("Sent as `{}` in the {}.", i.wire, sent_in(op, i)));
    if let Some(d) = i.default {
        lines.push(format!(
            "The document gives `{d}` as the server's default; the client sends nothing when unset."
        ));
    }
    if let Some(d) = i.client_default {
        lines.push(format!("Client-side default: when unset, the client sends `{d}`."));
    }
    let d = docs(lines.iter().map(String::as_str));
    quote! {
        #d
        pub fn #n(mut self, value: #t) -> Self {
            self.#n = Some(value #conv);
            self
        }
    }
}

/// `fn request(self)`: the path, query, headers and body of one call.
fn request_fn(op: &Operation) -> TokenStream {
    let inputs = all_inputs(op);
    let info = format_ident!("{}", op.id.to_uppercase());
    let (segments, path) = path_expr(op, &inputs);
    let query = query_stmt(op, &inputs);
    let headers = header_stmts(op, &inputs);
    let body = body_stmt(op, &inputs);
    let buffer = (op.success.content == ContentKind::Binary).then(|| quote!(request.buffer = false;));
    let (call, request) = (rt("Call"), rt("Request"));
    let changed = buffer.is_some() || !query.is_empty() || !headers.is_empty() || !body.is_empty();
    let mutable = changed.then(|| quote!(mut));
    // `#[inline]` on this and on the macro's `send`/`send_raw`/`into_future`
    // (and `into_stream`): the code of an operation, serde's decoder for its
    // answer included, is compiled by the application that calls it, not
    // by the client crate for every operation (issue 26). This is what
    // cargo's `hints.mostly-unused` would do, on stable.
    quote! {
        #[inline]
        fn request(self) -> crate::Result<(#call, #request)> {
            #(#segments)*
            let #mutable request = #request::new(&#info, #path);
            #buffer
            #query
            #(#headers)*
            #body
            Ok((self.rt_call, request))
        }
    }
}

/// `let x = encode::path_segment(..)?;` per path parameter, and the path built from them.
fn path_expr(op: &Operation, inputs: &[Input<'_>]) -> (Vec<TokenStream>, TokenStream) {
    let id = &op.id;
    let mut fmt = String::new();
    let mut lets = Vec::new();
    let mut bound: Vec<&str> = Vec::new();
    for part in op.path_parts() {
        match part {
            PathPart::Lit(l) => fmt.push_str(&l.replace('{', "{{").replace('}', "}}")),
            PathPart::Param(p) => {
                let input = inputs
                    .iter()
                    .find(|i| i.place == Place::Path && i.wire == p)
                    .expect("validated");
                fmt.push_str(&format!("{{{}}}", input.rust));
                if !bound.contains(&input.rust) {
                    bound.push(input.rust);
                    let (n, w, encode) = (ident(input.rust), input.wire, rt("encode"));
                    lets.push(quote!(let #n = #encode::path_segment(#id, #w, &self.#n)?;));
                }
            }
        }
    }
    let path = if lets.is_empty() {
        quote!(String::from(#fmt))
    } else {
        quote!(format!(#fmt))
    };
    (lets, path)
}

/// The inputs sent in the query string: query parameters, and the fields of a body sent as a query.
fn query_stmt(op: &Operation, inputs: &[Input<'_>]) -> TokenStream {
    let query_body = op.body.as_ref().is_some_and(|b| b.encoding == BodyEncoding::Query);
    let sent: Vec<&Input<'_>> = inputs
        .iter()
        .filter(|i| i.place == Place::Query || (i.place == Place::Body && query_body))
        .collect();
    if sent.is_empty() {
        return quote!();
    }
    // Spaces as `%20`, as the vendors' documents write them (snapsdk_runtime::query).
    let (id, encode) = (&op.id, rt("query"));
    let pairs = pairs(id, &ident("query"), &sent);
    quote! {
        #pairs
        request.query = #encode::encode(#id, &query)?;
    }
}

/// `let [mut] target = vec![required scalars]; ` then the pushes of lists and optional values.
fn pairs(op_id: &str, target: &Ident, inputs: &[&Input<'_>]) -> TokenStream {
    let (first, rest): (Vec<&&Input<'_>>, Vec<&&Input<'_>>) =
        inputs.iter().partition(|i| i.required && !matches!(i.ty, Ty::List(_)));
    let first = first.iter().map(|i| {
        let n = ident(i.rust);
        pair(op_id, i.wire, quote!(self.#n), i.ty)
    });
    let rest: Vec<TokenStream> = rest
        .iter()
        .map(|i| {
            let n = ident(i.rust);
            if i.required {
                push_list(target, i.wire, quote!(self.#n))
            } else {
                let push = match i.ty {
                    Ty::List(_) => push_list(target, i.wire, quote!(value)),
                    _ => {
                        let p = pair(op_id, i.wire, quote!(value), i.ty);
                        quote!(#target.push(#p);)
                    }
                };
                quote!(if let Some(value) = self.#n { #push })
            }
        })
        .collect();
    let mutable = (!rest.is_empty()).then(|| quote!(mut));
    let init = if first.len() == 0 {
        quote!(Vec::new())
    } else {
        quote!(vec![#(#first),*])
    };
    quote! {
        let #mutable #target: Vec<(&str, String)> = #init;
        #(#rest)*
    }
}

fn push_list(target: &Ident, wire: &str, list: TokenStream) -> TokenStream {
    quote! {
        for item in #list {
            #target.push((#wire, item.to_string()));
        }
    }
}

/// One `(wire, text)` pair from an owned `value` (`request` consumes the builder, so a string moves).
fn pair(op_id: &str, wire: &str, value: TokenStream, ty: &Ty) -> TokenStream {
    let text = match ty {
        Ty::JsonList(_) => {
            let encode = rt("encode");
            quote!(#encode::json_text(#op_id, #wire, &#value)?)
        }
        Ty::String => value,
        _ => quote!(#value.to_string()),
    };
    quote!((#wire, #text))
}

fn header_stmts(op: &Operation, inputs: &[Input<'_>]) -> Vec<TokenStream> {
    let id = &op.id;
    inputs
        .iter()
        .filter(|i| i.place == Place::Header)
        .map(|i| {
            let n = ident(i.rust);
            let w = i.wire.to_lowercase();
            let (name, encode) = (http("HeaderName"), rt("encode"));
            let value = if i.required { quote!(&self.#n) } else { quote!(value) };
            let insert =
                quote!(request.headers.insert(#name::from_static(#w), #encode::header_value(#id, #w, #value)?););
            if i.required {
                insert
            } else {
                quote!(if let Some(value) = &self.#n { #insert })
            }
        })
        .collect()
}

fn body_stmt(op: &Operation, inputs: &[Input<'_>]) -> TokenStream {
    let Some(body) = &op.body else { return quote!() };
    let fields: Vec<&Input<'_>> = inputs.iter().filter(|i| i.place == Place::Body).collect();
    let (id, body_ty) = (&op.id, rt("Body"));
    match body.encoding {
        BodyEncoding::Query => {
            let ct = body
                .content_type
                .clone()
                .unwrap_or_else(|| "application/x-www-form-urlencoded".into());
            quote!(request.body = #body_ty::EmptyWithContentType(#ct);)
        }
        BodyEncoding::Json => json_body(id, &fields),
        BodyEncoding::Form => {
            let pairs = pairs(id, &ident("form"), &fields);
            let encode = rt("encode");
            quote! {
                #pairs
                request.body = #body_ty::Form(#encode::form(#id, &form)?);
            }
        }
        BodyEncoding::Multipart => multipart_body(id, &fields),
    }
}

/// A JSON body: a borrowing struct serialized once, renamed only where the Rust and wire names differ.
fn json_body(id: &str, fields: &[&Input<'_>]) -> TokenStream {
    let defs = fields.iter().map(|i| {
        let (n, w, t) = (ident(i.rust), i.wire, type_in(i.ty, Scope::Elsewhere));
        let rename = (i.rust != i.wire).then(|| quote!(rename = #w));
        if i.required {
            let attr = rename.map(|r| quote!(#[serde(#r)]));
            quote!(#attr #n: &'a #t,)
        } else {
            let sep = rename.as_ref().map(|_| quote!(,));
            quote!(#[serde(#rename #sep skip_serializing_if = "Option::is_none")] #n: &'a Option<#t>,)
        }
    });
    let inits = fields.iter().map(|i| {
        let n = ident(i.rust);
        quote!(#n: &self.#n,)
    });
    let (body_ty, serialize) = (rt("Body"), super::used("serde::Serialize"));
    quote! {
        #[derive(#serialize)]
        struct Payload<'a> { #(#defs)* }
        request.body = #body_ty::json(#id, &Payload { #(#inits)* })?;
    }
}

fn multipart_body(id: &str, fields: &[&Input<'_>]) -> TokenStream {
    let encode = rt("encode");
    let parts = fields.iter().map(|i| {
        let (n, w) = (ident(i.rust), i.wire);
        let value = if i.required { quote!(self.#n) } else { quote!(value) };
        let add = match i.ty {
            Ty::Binary => quote!(multipart = multipart.file(#w, #value);),
            Ty::JsonList(_) => quote!(multipart = multipart.text(#w, #encode::json_text(#id, #w, &#value)?);),
            _ => quote!(multipart = multipart.text(#w, #value);),
        };
        if i.required {
            add
        } else {
            quote!(if let Some(value) = self.#n { #add })
        }
    });
    let (multipart, body_ty) = (rt("Multipart"), rt("Body"));
    quote! {
        let mut multipart = #multipart::new();
        #(#parts)*
        request.body = #body_ty::Multipart(multipart);
    }
}

/// How `send` turns the `response` (its body read, unless it streams) into
/// the answer, at once: the call itself is the runtime's, compiled once.
fn decode(op: &Operation) -> TokenStream {
    match (op.success.content, &op.success.ty) {
        (ContentKind::Json, _) => quote!(response.into_json()),
        // A token in a text body: surrounding whitespace (a trailing newline) is not part of it.
        (ContentKind::Text, Some(t)) if *t != Ty::String => {
            quote!(response.into_text().map(|text| text.trim().to_owned().into()))
        }
        (ContentKind::Text, _) => quote!(response.into_text()),
        (ContentKind::Binary, _) => quote!(Ok(response.into_stream())),
        (ContentKind::Empty | ContentKind::Undocumented, _) => quote!({
            let _ = response;
            Ok(())
        }),
    }
}

/// `into_stream` of a paged operation.
fn paginate(op: &Operation) -> Option<TokenStream> {
    let id = &op.id;
    let inputs = all_inputs(op);
    let param_of = |param: &str| {
        ident(
            inputs
                .iter()
                .find(|i| i.place == Place::Query && i.wire == param)
                .expect("validated")
                .rust,
        )
    };
    let pagination = op.pagination.as_ref()?;
    let (paginator, paginate) = (rt("Paginator"), rt("paginate"));
    Some(match pagination {
        ir::Pagination::Page {
            param,
            items,
            total,
            item_ty,
        } => {
            let (item, pn) = (type_in(item_ty, Scope::Elsewhere), param_of(param));
            quote! {
                /// Every item of every page, from the page set with the page setter (default 1) on, fetched as they are consumed:
                /// `while let Some(item) = pages.next().await { let item = item?; .. }`, or `.try_collect().await`.
                /// It ends after the reported total, or at the first empty page; a page that repeats an earlier one ends it with [`Error::Paging`](crate::Error::Paging).
                /// Cap it with `.max_items(n)` or `.max_pages(n)`.
                #[inline]
                pub fn into_stream(self) -> #paginator<#item> {
                    let first = self.#pn.unwrap_or(1);
                    #paginate::by_page(#id, first, #items, #total, move |page| {
                        let mut next = self.clone();
                        next.#pn = Some(page);
                        next.send_raw()
                    })
                }
            }
        }
        ir::Pagination::Cursor {
            param,
            cursor_rust,
            item_ty,
            ..
        } => {
            let (item, pn, cf) = (type_in(item_ty, Scope::Elsewhere), param_of(param), ident(cursor_rust));
            quote! {
                /// Every item, page after page (each page starts after the last item of the one before), fetched as they are consumed:
                /// `while let Some(item) = pages.next().await { let item = item?; .. }`, or `.try_collect().await`.
                /// It ends at the first empty page; a cursor the server already sent ends it with [`Error::Paging`](crate::Error::Paging).
                /// Cap it with `.max_items(n)` or `.max_pages(n)`.
                #[inline]
                pub fn into_stream(self) -> #paginator<#item> {
                    let first = Clone::clone(&self.#pn);
                    #paginate::by_cursor(
                        #id,
                        first,
                        move |cursor| {
                            let mut next = self.clone();
                            next.#pn = cursor;
                            next.send()
                        },
                        |item: &#item| Clone::clone(&item.#cf),
                    )
                }
            }
        }
    })
}

/// A Rust expression of type `type_in(ty)` for a validated client default.
fn literal(ty: &Ty, v: &serde_json::Value) -> TokenStream {
    match (ty, v) {
        (Ty::Integer | Ty::LooseInt, serde_json::Value::Number(n)) => {
            let n = n.as_i64().unwrap_or_default();
            quote!(#n)
        }
        (Ty::Number, serde_json::Value::Number(n)) => {
            let n = n.as_f64().unwrap_or_default();
            quote!(#n)
        }
        (Ty::Boolean | Ty::LooseBool, serde_json::Value::Bool(b)) => quote!(#b),
        (Ty::Model(_), v) => {
            let t = type_in(ty, Scope::Elsewhere);
            let s = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            quote!(<#t>::from(#s))
        }
        (_, v) => {
            let s = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            quote!(String::from(#s))
        }
    }
}
