//! Request bodies, including streamed multipart uploads.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::io::AsyncRead;

use crate::Error;

type Reader = Pin<Box<dyn AsyncRead + Send + Sync + 'static>>;

/// What a request carries.
#[derive(Debug, Default)]
pub enum Body {
    #[default]
    /// No body.
    Empty,
    /// No body, but a `Content-Type` header (SnapEngage's query-string posts).
    EmptyWithContentType(&'static str),
    /// A JSON body (already encoded), sent with `Content-Type: application/json`.
    Json(Bytes),
    /// An urlencoded form body (already encoded).
    Form(String),
    /// A multipart form body; file parts are streamed.
    Multipart(Multipart),
}

impl Body {
    /// Serialize `value` as the JSON body.
    pub fn json<T: serde::Serialize>(operation: &'static str, value: &T) -> Result<Body, Error> {
        serde_json::to_vec(value)
            .map(|v| Body::Json(v.into()))
            .map_err(|e| Error::invalid(operation, "body", e.to_string()))
    }

    /// Serialize `value` (a flat struct) as a urlencoded form body.
    pub fn form<T: serde::Serialize>(operation: &'static str, value: &T) -> Result<Body, Error> {
        crate::encode::form(operation, value).map(Body::Form)
    }

    /// Whether the body can be sent again on a retry.
    pub fn replayable(&self) -> bool {
        match self {
            Body::Multipart(m) => m.parts.iter().all(|p| match &p.value {
                PartValue::Text(_) => true,
                PartValue::File(f) => !matches!(f.source, FileSource::Reader(_)),
            }),
            _ => true,
        }
    }
}

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
    /// An empty multipart form.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add a text field.
    pub fn text(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.parts.push(Part { name, value: PartValue::Text(value.to_string()) });
        self
    }
    /// Add a file part.
    pub fn file(mut self, name: &'static str, file: FilePart) -> Self {
        self.parts.push(Part { name, value: PartValue::File(file) });
        self
    }

    /// Build the reqwest form for one attempt. Files are opened and streamed
    /// here, never read whole into memory.
    pub(crate) async fn to_form(&self) -> Result<reqwest::multipart::Form, Error> {
        let mut form = reqwest::multipart::Form::new();
        for part in &self.parts {
            let built = match &part.value {
                PartValue::Text(t) => reqwest::multipart::Part::text(t.clone()),
                PartValue::File(f) => f.to_part().await?,
            };
            form = form.part(part.name, built);
        }
        Ok(form)
    }
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
        f.debug_struct("FilePart").field("source", &source).field("file_name", &self.file_name).finish()
    }
}

impl FilePart {
    /// Stream the file at `path`; its name becomes the part's file name.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        FilePart { source: FileSource::Path(path), file_name, mime: None }
    }

    /// Stream from any async reader. `length`, when known, is sent as the part's size.
    pub fn from_reader(reader: impl AsyncRead + Send + Sync + 'static, length: Option<u64>) -> Self {
        FilePart { source: FileSource::Reader(Mutex::new(Some((Box::pin(reader), length)))), file_name: None, mime: None }
    }

    /// A file part from bytes in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        FilePart { source: FileSource::Bytes(bytes.into()), file_name: None, mime: None }
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

    async fn to_part(&self) -> Result<reqwest::multipart::Part, Error> {
        let part = match &self.source {
            FileSource::Bytes(b) => reqwest::multipart::Part::stream_with_length(b.clone(), b.len() as u64),
            FileSource::Path(p) => {
                let io = |source| Error::Io { context: format!("opening upload {}", p.display()), source };
                let file = tokio::fs::File::open(p).await.map_err(io)?;
                let len = file.metadata().await.map_err(io)?.len();
                let stream = tokio_util::io::ReaderStream::new(file);
                reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
            }
            FileSource::Reader(slot) => {
                let taken = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                let (reader, len) = taken.ok_or_else(|| Error::Io {
                    context: "upload reader".to_owned(),
                    source: std::io::Error::other("a reader upload can be sent only once"),
                })?;
                let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(reader));
                match len {
                    Some(n) => reqwest::multipart::Part::stream_with_length(body, n),
                    None => reqwest::multipart::Part::stream(body),
                }
            }
        };
        let part = part.file_name(self.file_name.clone().unwrap_or_else(|| "upload".to_owned()));
        let mime = self.mime.as_deref().unwrap_or("application/octet-stream");
        part.mime_str(mime).map_err(|_| Error::Config(format!("invalid MIME type {mime:?} for an upload")))
    }
}
