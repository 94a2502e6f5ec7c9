//! Streamed `multipart/form-data` uploads (feature `multipart`, on by default
//! in this crate; a generated client turns it on only when one of its
//! operations uploads a form).

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use tokio::io::AsyncRead;
use tokio::time::Instant;

use crate::Error;

type Reader = Pin<Box<dyn AsyncRead + Send + Sync + 'static>>;

/// A `multipart/form-data` body, built part by part by generated code.
#[derive(Debug, Default)]
pub struct Multipart {
    parts: Vec<Part>,
}

#[derive(Debug)]
struct Part {
    name: &'static str,
    value: PartValue,
}

#[derive(Debug)]
enum PartValue {
    Text(String),
    File(FilePart),
}

impl Multipart {
    /// Whether every part can be sent again (a reader part streams once).
    pub(crate) fn replayable(&self) -> bool {
        self.parts.iter().all(|p| match &p.value {
            PartValue::Text(_) => true,
            PartValue::File(f) => !matches!(f.source, FileSource::Reader(_)),
        })
    }

    /// An empty multipart form.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add a text field.
    pub fn text(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.parts.push(Part {
            name,
            value: PartValue::Text(value.to_string()),
        });
        self
    }
    /// Add a file part.
    pub fn file(mut self, name: &'static str, file: FilePart) -> Self {
        self.parts.push(Part {
            name,
            value: PartValue::File(file),
        });
        self
    }

    /// Build the reqwest form for one attempt. Files are opened and streamed
    /// here, never read whole into memory; `progress` hears of every chunk
    /// the transport takes, so that a stalled upload can be detected.
    pub(crate) async fn to_form(
        &self,
        operation: &'static str,
        progress: &Arc<Progress>,
    ) -> Result<reqwest::multipart::Form, Error> {
        let mut form = reqwest::multipart::Form::new();
        for part in &self.parts {
            let built = match &part.value {
                PartValue::Text(t) => reqwest::multipart::Part::text(t.clone()),
                PartValue::File(f) => f.to_part(operation, progress).await?,
            };
            form = form.part(part.name, built);
        }
        Ok(form)
    }
}

/// When an upload last moved, and how many file streams are still unfinished.
#[derive(Debug)]
pub(crate) struct Progress {
    last: Mutex<Instant>,
    open: AtomicUsize,
}

impl Progress {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Progress {
            last: Mutex::new(Instant::now()),
            open: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// Resolves when no upload data has moved for `idle` while a file part
    /// was still unsent; pending forever once every part is sent.
    pub(crate) async fn stalled(&self, idle: Duration) {
        loop {
            if self.open.load(Ordering::SeqCst) == 0 {
                return std::future::pending().await;
            }
            let due = *self.last.lock().unwrap_or_else(|e| e.into_inner()) + idle;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}

/// A file part's stream, reporting each chunk (and its end) to [`Progress`].
struct Tracked<S> {
    inner: S,
    progress: Arc<Progress>,
    open: bool,
}

impl<S> Tracked<S> {
    fn new(inner: S, progress: &Arc<Progress>) -> Self {
        progress.open.fetch_add(1, Ordering::SeqCst);
        progress.touch();
        Tracked {
            inner,
            progress: progress.clone(),
            open: true,
        }
    }
}

impl<S, E> Stream for Tracked<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = std::task::ready!(Pin::new(&mut self.inner).poll_next(cx));
        self.progress.touch();
        if item.is_none() && self.open {
            self.open = false;
            self.progress.open.fetch_sub(1, Ordering::SeqCst);
        }
        Poll::Ready(item)
    }
}

impl<S> Drop for Tracked<S> {
    fn drop(&mut self) {
        if self.open {
            self.progress.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Bytes in pieces, so that progress is seen (and reported) per piece.
const UPLOAD_CHUNK: usize = 64 * 1024;

/// A file name as a `Content-Disposition` parameter can carry it: CR, LF,
/// every other control character (ASCII and C1, U+0080 to U+009F, NEL among
/// them), the Unicode line and paragraph separators and `"` percent-encoded
/// as their UTF-8 bytes (as browsers do), so a name can never end the header
/// line for any parser and start another.
fn safe_file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() || c == '"' || c == '\u{2028}' || c == '\u{2029}' {
            for b in c.encode_utf8(&mut [0; 4]).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A file to upload: from a path (streamed, and re-opened on a retry), from a
/// reader (streamed once, so never retried), or from bytes in memory.
pub struct FilePart {
    source: FileSource,
    file_name: Option<String>,
    mime: Option<String>,
}

enum FileSource {
    Bytes(Bytes),
    Path(PathBuf),
    Reader(Mutex<Option<(Reader, Option<u64>)>>),
}

impl std::fmt::Debug for FilePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            FileSource::Bytes(b) => format!("{} bytes", b.len()),
            FileSource::Path(p) => format!("path {}", p.display()),
            FileSource::Reader(_) => "reader".to_owned(),
        };
        f.debug_struct("FilePart")
            .field("source", &source)
            .field("file_name", &self.file_name)
            .finish()
    }
}

impl FilePart {
    /// Stream the file at `path`; its name becomes the part's file name.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        FilePart {
            source: FileSource::Path(path),
            file_name,
            mime: None,
        }
    }

    /// Stream from any async reader. `length`, when known, is sent as the part's size.
    pub fn from_reader(reader: impl AsyncRead + Send + Sync + 'static, length: Option<u64>) -> Self {
        FilePart {
            source: FileSource::Reader(Mutex::new(Some((Box::pin(reader), length)))),
            file_name: None,
            mime: None,
        }
    }

    /// A file part from bytes in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        FilePart {
            source: FileSource::Bytes(bytes.into()),
            file_name: None,
            mime: None,
        }
    }

    /// The file name sent in the part's `Content-Disposition`.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// The part's `Content-Type` (default `application/octet-stream`).
    pub fn mime(mut self, mime: impl Into<String>) -> Self {
        self.mime = Some(mime.into());
        self
    }

    async fn to_part(
        &self,
        operation: &'static str,
        progress: &Arc<Progress>,
    ) -> Result<reqwest::multipart::Part, Error> {
        let part = match &self.source {
            FileSource::Bytes(b) => {
                let pieces: Vec<Result<Bytes, std::io::Error>> = (0..b.len())
                    .step_by(UPLOAD_CHUNK)
                    .map(|i| Ok(b.slice(i..(i + UPLOAD_CHUNK).min(b.len()))))
                    .collect();
                let stream = Tracked::new(futures_util::stream::iter(pieces), progress);
                reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), b.len() as u64)
            }
            FileSource::Path(p) => {
                let io = |source| Error::Io {
                    context: format!("{operation}: opening upload {}", p.display()),
                    source,
                };
                let file = tokio::fs::File::open(p).await.map_err(io)?;
                let len = file.metadata().await.map_err(io)?.len();
                let stream = Tracked::new(
                    tokio_util::io::ReaderStream::with_capacity(file, UPLOAD_CHUNK),
                    progress,
                );
                reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
            }
            FileSource::Reader(slot) => {
                let taken = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                let (reader, len) = taken.ok_or_else(|| Error::Io {
                    context: format!("{operation}: upload reader"),
                    source: std::io::Error::other("a reader upload can be sent only once"),
                })?;
                let stream = Tracked::new(
                    tokio_util::io::ReaderStream::with_capacity(reader, UPLOAD_CHUNK),
                    progress,
                );
                let body = reqwest::Body::wrap_stream(stream);
                match len {
                    Some(n) => reqwest::multipart::Part::stream_with_length(body, n),
                    None => reqwest::multipart::Part::stream(body),
                }
            }
        };
        let name = self
            .file_name
            .as_deref()
            .map_or_else(|| "upload".to_owned(), safe_file_name);
        let part = part.file_name(name);
        let mime = self.mime.as_deref().unwrap_or("application/octet-stream");
        part.mime_str(mime)
            .map_err(|_| Error::invalid(operation, "mime", format!("{mime:?} is not a MIME type")))
    }
}
