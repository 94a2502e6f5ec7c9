//! Lenient decoding of model fields whose type no vendor document states.
//!
//! A spec marks each model field `documented`, `seen` or `inferred`. A
//! documented field decodes strictly. The others must never fail an answer:
//! when the value does not fit the field's type, the field reads as `None`,
//! the raw value stays in the model's `extra` map, and a `tracing` event at
//! debug level names the model and the field.
//!
//! Generated models wire a lenient field as a `#[serde(flatten)]` field with
//! [`field`] and [`serialize_field`], and their `extra` map with [`extra`]:
//! flattened fields see the object's remaining entries without taking them,
//! so the `extra` map keeps a value that did not fit and drops one that did.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use serde_json::{json, Map, Value};
//! use snapsdk_runtime::lenient;
//!
//! fn ends_at(v: &Value) -> Result<i64, serde_json::Error> { i64::deserialize(v) }
//!
//! #[derive(Serialize, Deserialize)]
//! struct Account {
//!     id: i64,
//!     #[serde(flatten, deserialize_with = "de_ends_at", serialize_with = "ser_ends_at")]
//!     ends_at: Option<i64>,
//!     #[serde(flatten, deserialize_with = "de_extra")]
//!     extra: Map<String, Value>,
//! }
//! fn de_ends_at<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
//!     lenient::field(d, "Account", "ends_at", ends_at)
//! }
//! fn ser_ends_at<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
//!     lenient::serialize_field(v, "ends_at", s)
//! }
//! fn de_extra<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
//!     lenient::extra(d, &[("ends_at", |v| ends_at(v).is_ok())])
//! }
//!
//! let a: Account = serde_json::from_value(json!({"id": 1, "ends_at": "0000-00-00 00:00:00"})).unwrap();
//! assert_eq!(a.ends_at, None);
//! assert_eq!(a.extra["ends_at"], json!("0000-00-00 00:00:00"));
//! let b: Account = serde_json::from_value(json!({"id": 1, "ends_at": 7})).unwrap();
//! assert_eq!((b.ends_at, b.extra.len()), (Some(7), 0));
//! ```

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Decodes one field's JSON value into the field's type.
pub type Decode<T> = fn(&Value) -> Result<T, serde_json::Error>;

/// Whether a raw value fits a lenient field (so it leaves the `extra` map).
pub type Fits = fn(&Value) -> bool;

/// The value of key `wire` among the entries a flattened field sees.
struct Entry(&'static str);

impl<'de> Visitor<'de> for Entry {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.0 && found.is_none() {
                found = Some(map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// `deserialize_with` of a lenient `#[serde(flatten)]` field of type
/// `Option<T>`: the value of `wire`, decoded by `decode`; `None` when the key
/// is absent, `null`, or holds a value that does not fit (then a debug event
/// names `model` and `wire`, and the model's `extra` map keeps the value).
///
/// # Errors
///
/// Only when the surrounding value is not an object, which serde reports
/// before this function runs for any derived struct.
pub fn field<'de, D: Deserializer<'de>, T>(d: D, model: &'static str, wire: &'static str, decode: Decode<T>) -> Result<Option<T>, D::Error> {
    let raw = d.deserialize_map(Entry(wire))?;
    Ok(match raw {
        None | Some(Value::Null) => None,
        Some(v) => match decode(&v) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::debug!(model, field = wire, error = %e, "a field the vendor's document does not type has a value that does not fit: it reads as absent and stays in `extra`");
                None
            }
        },
    })
}

/// `serialize_with` of a lenient `#[serde(flatten)]` field: `wire` and its
/// value when set, nothing when `None`.
///
/// # Errors
///
/// The serializer's, when the value cannot be written.
pub fn serialize_field<S: Serializer, T: Serialize>(value: &Option<T>, wire: &'static str, s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(usize::from(value.is_some())))?;
    if let Some(v) = value {
        m.serialize_entry(wire, v)?;
    }
    m.end()
}

/// `deserialize_with` of the flattened `extra` map of a model with lenient
/// fields: every entry no other field took, less the lenient fields whose
/// value fit (or was `null`). `fits` pairs each lenient field's wire name
/// with its check.
///
/// # Errors
///
/// Only when the surrounding value is not an object.
pub fn extra<'de, D: Deserializer<'de>>(d: D, fits: &[(&'static str, Fits)]) -> Result<Map<String, Value>, D::Error> {
    let mut all = Map::<String, Value>::deserialize(d)?;
    for (wire, fit) in fits {
        if all.get(*wire).is_some_and(|v| v.is_null() || fit(v)) {
            all.remove(*wire);
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;
    use crate::{de, Timestamp};

    fn ts(v: &Value) -> Result<Timestamp, serde_json::Error> {
        Timestamp::deserialize(v)
    }
    fn flag(v: &Value) -> Result<bool, serde_json::Error> {
        de::loose_bool(v)
    }

    /// What a generated model with two lenient fields and one strict one looks like.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Account {
        id: i64,
        #[serde(flatten, deserialize_with = "de_cancelled", serialize_with = "ser_cancelled")]
        cancelled_at: Option<Timestamp>,
        #[serde(flatten, deserialize_with = "de_invoiced", serialize_with = "ser_invoiced")]
        invoiced: Option<bool>,
        #[serde(flatten, deserialize_with = "de_extra")]
        extra: Map<String, Value>,
    }
    fn de_cancelled<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        field(d, "Account", "cancelled_at", ts)
    }
    fn ser_cancelled<S: Serializer>(v: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        serialize_field(v, "cancelled_at", s)
    }
    fn de_invoiced<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        field(d, "Account", "invoiced", flag)
    }
    fn ser_invoiced<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        serialize_field(v, "invoiced", s)
    }
    fn de_extra<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
        extra(d, &[("cancelled_at", |v| ts(v).is_ok()), ("invoiced", |v| flag(v).is_ok())])
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    #[test]
    fn fitting_values_decode_and_leave_extra() {
        let a: Account = serde_json::from_value(json!({"id": 1, "cancelled_at": 1368011747, "invoiced": "1", "other": 2})).unwrap();
        assert_eq!(a.cancelled_at, Timestamp::from_unix(1368011747));
        assert_eq!(a.invoiced, Some(true));
        assert_eq!(Value::Object(a.extra.clone()), json!({"other": 2}));
        assert_eq!(serde_json::to_value(&a).unwrap(), json!({"id": 1, "cancelled_at": 1368011747, "invoiced": true, "other": 2}));
    }

    #[test]
    fn absent_and_null_read_as_none_without_an_event() {
        for body in [json!({"id": 1}), json!({"id": 1, "cancelled_at": null, "invoiced": null})] {
            let a: Account = serde_json::from_value(body).unwrap();
            assert_eq!((a.cancelled_at, a.invoiced, a.extra.len()), (None, None, 0));
            assert_eq!(serde_json::to_value(&a).unwrap(), json!({"id": 1}));
        }
    }

    #[test]
    fn misfits_read_as_none_keep_the_raw_value_and_name_the_field() {
        let bodies = [
            json!({"id": 1, "cancelled_at": "0000-00-00 00:00:00", "invoiced": "maybe"}),
            json!({"id": 1, "cancelled_at": {"date": "2014-09-01"}, "invoiced": [1]}),
            json!({"id": 1, "cancelled_at": true, "invoiced": 2.5}),
        ];
        for body in bodies {
            let buf = Buf::default();
            let sub = tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).with_writer(buf.clone()).with_ansi(false).finish();
            let a: Account = tracing::subscriber::with_default(sub, || serde_json::from_value(body.clone()).unwrap());
            assert_eq!((a.cancelled_at, a.invoiced), (None, None), "{body}");
            assert_eq!(a.extra["cancelled_at"], body["cancelled_at"]);
            assert_eq!(a.extra["invoiced"], body["invoiced"]);
            // The raw value re-serialises where it came from.
            assert_eq!(serde_json::to_value(&a).unwrap(), body);
            let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
            assert!(log.contains("DEBUG") && log.contains("model=\"Account\""), "{log}");
            for f in ["cancelled_at", "invoiced"] {
                assert!(log.contains(&format!("field=\"{f}\"")), "{f}: {log}");
            }
        }
    }

    #[test]
    fn a_strict_field_still_fails() {
        let err = serde_json::from_value::<Account>(json!({"id": "one"})).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
