//! Paged listings as one sequence of items: [`Paginator`].
//!
//! A generated listing operation's `into_stream()` (or `paginate()`) returns a
//! [`Paginator`]: it fetches one page at a time, only when the items of the
//! page before are used up, and ends at the last page. A listing that would
//! never end (a server that repeats a cursor or a page) ends with
//! [`Error::Paging`] instead of looping.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::fmt;
use std::future::{poll_fn, Future};
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::{stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Response};

type Pages<T> = Pin<Box<dyn Stream<Item = Fetched<T>> + Send>>;

/// One step of a listing: a page, or the error that ends it.
enum Fetched<T> {
    Page(Vec<T>),
    /// `answered`: the page's request was answered (and is counted as
    /// fetched) before its body ended the listing (a repeat, a bad body).
    Failed {
        error: Error,
        answered: bool,
    },
}

/// Every item of a paged listing, fetched page by page as they are consumed.
///
/// Use it without any other crate:
///
/// ```no_run
/// # async fn demo(mut pages: snapsdk_runtime::Paginator<String>) -> Result<(), snapsdk_runtime::Error> {
/// while let Some(item) = pages.next().await {
///     let item = item?;
///     println!("{item}");
/// }
/// # Ok(()) }
/// ```
///
/// or collect everything with [`try_collect`](Self::try_collect), bounded with
/// [`max_items`](Self::max_items) / [`max_pages`](Self::max_pages). It also
/// implements [`futures_core::Stream`] for use with stream combinators, and is
/// `Unpin`, so no pinning is needed.
///
/// After an error the paginator ends: the next call returns `None`.
#[must_use = "a paginator fetches nothing until it is polled (`.next().await`)"]
pub struct Paginator<T> {
    pages: Pages<T>,
    buffer: std::vec::IntoIter<T>,
    max_items: Option<u64>,
    max_pages: Option<u64>,
    items: u64,
    pages_fetched: u64,
    done: bool,
}

// The paginator never pins `T` (items are moved out of a `Vec`), and the page
// stream is boxed, so it is `Unpin` whatever the item type.
impl<T> Unpin for Paginator<T> {}

impl<T> fmt::Debug for Paginator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paginator")
            .field("items_yielded", &self.items)
            .field("pages_fetched", &self.pages_fetched)
            .field("buffered", &self.buffer.len())
            .field("max_items", &self.max_items)
            .field("max_pages", &self.max_pages)
            .field("done", &self.done)
            .finish()
    }
}

impl<T: Send + 'static> Paginator<T> {
    /// A paginator over a stream of pages (each a `Vec` of items), for listings
    /// the generated code does not describe. The stream is polled for the next
    /// page only when the items before are used up.
    pub fn from_pages(pages: impl Stream<Item = Result<Vec<T>, Error>> + Send + 'static) -> Self {
        Self::from_fetched(pages.map(|page| match page {
            Ok(items) => Fetched::Page(items),
            Err(error) => Fetched::Failed { error, answered: false },
        }))
    }

    fn from_fetched(pages: impl Stream<Item = Fetched<T>> + Send + 'static) -> Self {
        Paginator {
            pages: Box::pin(pages),
            buffer: Vec::new().into_iter(),
            max_items: None,
            max_pages: None,
            items: 0,
            pages_fetched: 0,
            done: false,
        }
    }
}

impl<T> Paginator<T> {
    /// Stop after `n` items: no page is fetched once `n` items were yielded.
    pub fn max_items(mut self, n: u64) -> Self {
        self.max_items = Some(n);
        self
    }

    /// Fetch at most `n` pages; the items of those pages are all yielded.
    pub fn max_pages(mut self, n: u64) -> Self {
        self.max_pages = Some(n);
        self
    }

    /// How many pages were fetched so far: every page the server answered,
    /// the one that ended the listing with [`Error::Paging`] (or a body that
    /// did not decode) included.
    #[must_use]
    pub fn pages_fetched(&self) -> u64 {
        self.pages_fetched
    }

    /// The next item, fetching the next page when needed; `None` at the end
    /// (the last page, a cap, or after an error).
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Every remaining item (up to the caps), or the first error.
    ///
    /// # Errors
    ///
    /// The first error of any page request; the items before it are dropped.
    pub async fn try_collect(mut self) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        while let Some(item) = self.next().await {
            out.push(item?);
        }
        Ok(out)
    }
}

impl<T> Stream for Paginator<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.max_items.is_some_and(|m| this.items >= m) {
                this.done = true;
                return Poll::Ready(None);
            }
            if let Some(item) = this.buffer.next() {
                this.items += 1;
                return Poll::Ready(Some(Ok(item)));
            }
            if this.done || this.max_pages.is_some_and(|m| this.pages_fetched >= m) {
                this.done = true;
                return Poll::Ready(None);
            }
            match this.pages.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Fetched::Failed { error, answered })) => {
                    this.done = true;
                    this.pages_fetched += u64::from(answered);
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Fetched::Page(page))) => {
                    this.pages_fetched += 1;
                    this.buffer = page.into_iter();
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (self.buffer.len(), Some(self.buffer.len()))
        } else {
            (self.buffer.len(), None)
        }
    }
}

fn fingerprint(value: &impl fmt::Display) -> u64 {
    let mut h = DefaultHasher::new();
    value.to_string().hash(&mut h);
    h.finish()
}

/// Items of a numbered-page listing. `fetch(page)` sends the request for one
/// page; `items` and `total` are JSON pointers (`/data`, `/meta/total`) into
/// its body. It ends after `total` items, or at the first empty page; a page
/// whose items repeat an earlier page's (a server that ignores the page
/// number, or loops) ends it with [`Error::Paging`].
pub fn by_page<T, F, Fut>(
    operation: &'static str,
    first_page: i64,
    items: &'static str,
    total: &'static str,
    fetch: F,
) -> Paginator<T>
where
    T: DeserializeOwned + Send + 'static,
    F: FnMut(i64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response, Error>> + Send + 'static,
{
    struct State<F> {
        fetch: F,
        page: i64,
        seen: u64,
        pages: HashSet<u64>,
        done: bool,
    }
    let state = State {
        fetch,
        page: first_page,
        seen: 0,
        pages: HashSet::new(),
        done: false,
    };
    // The error says whether the page's request was answered.
    let pages = stream::try_unfold(state, move |mut st| async move {
        if st.done {
            return Ok(None);
        }
        let resp = (st.fetch)(st.page).await.map_err(|e| (e, false))?;
        let answered = |e| (e, true);
        let (status, redactor) = (resp.status(), resp.redactor.clone());
        let body: serde_json::Value = resp.json().await.map_err(answered)?;
        let list = body
            .pointer(items)
            .cloned()
            .unwrap_or(serde_json::Value::Array(Vec::new()));
        let empty = list.as_array().is_some_and(Vec::is_empty);
        if !empty && !st.pages.insert(fingerprint(&list)) {
            let message = format!(
                "page {} has the same items as an earlier page, after {} items: the server sent a page it had sent before \
                 (it ignores the page number, or the listing loops)",
                st.page, st.seen
            );
            return Err(answered(Error::Paging { operation, message }));
        }
        let list: Vec<T> = crate::response::decode_part(operation, status, items, &list)
            .map_err(|e| answered(Response::scrub(redactor.as_ref(), e)))?;
        let total = body
            .pointer(total)
            .and_then(|t| t.as_u64().or_else(|| t.as_str()?.parse().ok()));
        st.seen += list.len() as u64;
        st.page += 1;
        st.done = list.is_empty() || total.is_some_and(|t| st.seen >= t);
        Ok(Some((list, st)))
    });
    Paginator::from_fetched(pages.map(|page| match page {
        Ok(items) => Fetched::Page(items),
        Err((error, answered)) => Fetched::Failed { error, answered },
    }))
}

/// Items of a cursor listing. `fetch(cursor)` sends the request (the first
/// with `first`); `cursor_of` reads the next cursor from the last item. It
/// ends at the first empty page, or when the last item has no cursor; a
/// cursor that was already sent (the server's cursors loop, `2 → 1 → 2`)
/// ends it with [`Error::Paging`] after the items of the page that named it.
pub fn by_cursor<T, K, F, Fut, C>(operation: &'static str, first: Option<K>, fetch: F, cursor_of: C) -> Paginator<T>
where
    T: Send + 'static,
    K: Clone + Serialize + Send + 'static,
    F: FnMut(Option<K>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<T>, Error>> + Send + 'static,
    C: Fn(&T) -> Option<K> + Send + 'static,
{
    enum Next<K> {
        Fetch(Option<K>),
        Loop(String),
        Done,
    }
    struct State<F, C, K> {
        fetch: F,
        cursor_of: C,
        next: Next<K>,
        sent: HashSet<String>,
        pages: u64,
    }
    let key = |k: &Option<K>| serde_json::to_string(k).unwrap_or_default();
    let mut sent = HashSet::new();
    sent.insert(key(&first));
    let state = State {
        fetch,
        cursor_of,
        next: Next::Fetch(first),
        sent,
        pages: 0,
    };
    Paginator::from_pages(stream::try_unfold(state, move |mut st| async move {
        let cursor = match std::mem::replace(&mut st.next, Next::Done) {
            Next::Done => return Ok(None),
            Next::Loop(cursor) => {
                return Err(Error::Paging {
                    operation,
                    message: format!(
                        "the next cursor {cursor} was already sent (after {} pages): the server's cursors loop",
                        st.pages
                    ),
                })
            }
            Next::Fetch(cursor) => cursor,
        };
        let page = (st.fetch)(cursor).await?;
        st.pages += 1;
        st.next = match page.last().and_then(|t| (st.cursor_of)(t)) {
            _ if page.is_empty() => Next::Done,
            None => Next::Done,
            Some(next) => {
                let next = Some(next);
                let k = key(&next);
                if st.sent.insert(k.clone()) {
                    Next::Fetch(next)
                } else {
                    Next::Loop(k)
                }
            }
        };
        Ok(Some((page, st)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Pages served by cursor: `pages[cursor]` is the list for that cursor (`None` → 0).
    fn cursor_listing(pages: Vec<Vec<u32>>, calls: Arc<AtomicUsize>) -> Paginator<u32> {
        by_cursor(
            "list_things",
            None,
            move |cursor: Option<u32>| {
                calls.fetch_add(1, Ordering::SeqCst);
                let page = pages.get(cursor.unwrap_or(0) as usize).cloned().unwrap_or_default();
                async move { Ok(page) }
            },
            |item: &u32| Some(*item),
        )
    }

    #[test]
    fn a_cursor_that_loops_ends_with_a_paging_error() {
        // cursor none → page [1, 2] (next 2) → page [5, 1] (next 1) → page [9, 2] (next 2 again).
        let calls = Arc::new(AtomicUsize::new(0));
        let mut p = cursor_listing(vec![vec![1, 2], vec![7, 2], vec![5, 1]], calls.clone());
        let got = block(async {
            let mut got = Vec::new();
            // Bounded: a looping listing must end well before 100 items.
            for _ in 0..100 {
                match p.next().await {
                    Some(item) => got.push(item),
                    None => break,
                }
            }
            got
        });
        let (ok, errs): (Vec<_>, Vec<_>) = got.into_iter().partition(Result::is_ok);
        assert_eq!(
            ok.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            vec![1, 2, 5, 1, 7, 2]
        );
        assert_eq!(errs.len(), 1, "one error, then the end");
        let e = errs.into_iter().next().unwrap().unwrap_err();
        assert!(
            matches!(
                e,
                Error::Paging {
                    operation: "list_things",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("already sent"), "{e}");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "no request for a cursor already sent");
        assert!(block(p.next()).is_none(), "ended after the error");
    }

    #[test]
    fn a_cursor_listing_ends_at_an_empty_page_or_a_missing_cursor() {
        let calls = Arc::new(AtomicUsize::new(0));
        let p = cursor_listing(vec![vec![1, 3], vec![], vec![], vec![4]], calls.clone());
        // none → [1,3] → cursor 3 → [4] → cursor 4 → [] (out of range) → end.
        assert_eq!(block(p.try_collect()).unwrap(), vec![1, 3, 4]);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn caps_stop_fetching() {
        let pages: Vec<Vec<u32>> = (0..50).map(|i| vec![i + 1]).collect();
        let calls = Arc::new(AtomicUsize::new(0));
        let p = cursor_listing(pages.clone(), calls.clone()).max_pages(3);
        assert_eq!(block(p.try_collect()).unwrap(), vec![1, 2, 3]);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = Arc::new(AtomicUsize::new(0));
        let p = cursor_listing(pages, calls.clone()).max_items(2);
        assert_eq!(block(p.try_collect()).unwrap(), vec![1, 2]);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "no page fetched once the cap is reached"
        );
    }

    #[test]
    fn a_paginator_is_unpin_send_and_a_stream() {
        fn check<S: Stream<Item = Result<u32, Error>> + Unpin + Send + 'static>(_: &S) {}
        let p = cursor_listing(vec![], Arc::new(AtomicUsize::new(0)));
        check(&p);
    }
}
