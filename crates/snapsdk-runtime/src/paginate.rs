//! Async streams over paged listings.

use std::future::Future;

use futures_core::Stream;
use futures_util::stream::{self, TryStreamExt};
use serde::de::DeserializeOwned;

use crate::error::DecodeError;
use crate::{Error, Response};

/// Items of a numbered-page listing. `fetch(page)` sends the request for one
/// page; `items` and `total` are JSON pointers (`/data`, `/meta/total`) into
/// its body. The stream ends after `total` items, or at the first empty page.
pub fn by_page<T, F, Fut>(first_page: i64, items: &'static str, total: &'static str, fetch: F) -> impl Stream<Item = Result<T, Error>>
where
    T: DeserializeOwned,
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<Response, Error>>,
{
    struct State<F> {
        fetch: F,
        page: i64,
        seen: u64,
        done: bool,
    }
    let state = State { fetch, page: first_page, seen: 0, done: false };
    stream::try_unfold(state, move |mut st| async move {
        if st.done {
            return Ok(None);
        }
        let resp = (st.fetch)(st.page).await?;
        let (operation, status, redactor) = (resp.operation, resp.status(), resp.redactor.clone());
        let body: serde_json::Value = resp.json().await?;
        let list = body.pointer(items).cloned().unwrap_or(serde_json::Value::Array(Vec::new()));
        let list: Vec<T> = serde_path_to_error::deserialize(list).map_err(|e| {
            let e = Error::Decode(Box::new(DecodeError {
                operation,
                status,
                content_type: None,
                path: format!("{}{}", items.trim_start_matches('/').replace('/', "."), e.path()),
                snippet: String::new(),
                message: e.inner().to_string(),
            }));
            Response::scrub(redactor.as_ref(), e)
        })?;
        let total = body.pointer(total).and_then(|t| t.as_u64().or_else(|| t.as_str()?.parse().ok()));
        st.seen += list.len() as u64;
        st.page += 1;
        st.done = list.is_empty() || total.is_some_and(|t| st.seen >= t);
        Ok(Some((stream::iter(list.into_iter().map(Ok::<T, Error>)), st)))
    })
    .try_flatten()
}

/// Items of a cursor listing. `fetch(cursor)` sends the request (the first
/// with `None`); `cursor_of` reads the next cursor from the last item. The
/// stream ends at the first empty page, or when the cursor stops moving.
pub fn by_cursor<T, K, F, Fut, C>(fetch: F, cursor_of: C) -> impl Stream<Item = Result<T, Error>>
where
    K: Clone + PartialEq,
    F: FnMut(Option<K>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, Error>>,
    C: Fn(&T) -> Option<K>,
{
    struct State<F, C, K> {
        fetch: F,
        cursor_of: C,
        cursor: Option<K>,
        done: bool,
    }
    let state = State { fetch, cursor_of, cursor: None, done: false };
    stream::try_unfold(state, |mut st| async move {
        if st.done {
            return Ok(None);
        }
        let page = (st.fetch)(st.cursor.clone()).await?;
        let next = page.last().and_then(|t| (st.cursor_of)(t));
        st.done = page.is_empty() || next.is_none() || next == st.cursor;
        st.cursor = next;
        Ok(Some((stream::iter(page.into_iter().map(Ok::<T, Error>)), st)))
    })
    .try_flatten()
}
