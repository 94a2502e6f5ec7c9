//! Value types the specs' type expressions map to, and tolerant decoders.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::de::{self as sde, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A value the API accepts as either a number or a string (SnapCall's
/// `alternatives`). Setters take `impl Into<Alternatives>`, so callers pass
/// `42`, `"42"` or a `String` directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Alternatives {
    /// A whole number, sent as a JSON integer.
    Integer(i64),
    /// A number with a fraction, sent as a JSON number.
    Number(f64),
    /// Text, sent as a JSON string.
    String(String),
}

impl fmt::Display for Alternatives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Alternatives::Integer(v) => write!(f, "{v}"),
            Alternatives::Number(v) => write!(f, "{v}"),
            Alternatives::String(v) => f.write_str(v),
        }
    }
}

macro_rules! alternatives_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Alternatives {
            fn from(v: $t) -> Self { Alternatives::Integer(v as i64) }
        }
    )*};
}
alternatives_from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for Alternatives {
    fn from(v: f64) -> Self {
        Alternatives::Number(v)
    }
}
impl From<String> for Alternatives {
    fn from(v: String) -> Self {
        Alternatives::String(v)
    }
}
impl From<&str> for Alternatives {
    fn from(v: &str) -> Self {
        Alternatives::String(v.to_owned())
    }
}
impl From<&String> for Alternatives {
    fn from(v: &String) -> Self {
        Alternatives::String(v.clone())
    }
}

/// A point in time sent either as Unix seconds or as a
/// `"YYYY-MM-DD HH:MM:SS"` string (taken as UTC). It re-serializes in the
/// form it arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    at: DateTime<Utc>,
    unix_form: bool,
}

impl Timestamp {
    /// The instant `secs` seconds after 1970-01-01 UTC, sent back as Unix
    /// seconds; `None` when it is out of the range chrono represents.
    pub fn from_unix(secs: i64) -> Option<Self> {
        Utc.timestamp_opt(secs, 0)
            .single()
            .map(|at| Timestamp { at, unix_form: true })
    }

    /// The instant `at`, sent back as `"YYYY-MM-DD HH:MM:SS"` (UTC).
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Timestamp { at, unix_form: false }
    }

    /// Parse `"YYYY-MM-DD HH:MM:SS"`, RFC 3339, or a string of digits (Unix seconds).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().ok().and_then(Self::from_unix);
        }
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
            return Some(Self::from_datetime(naive.and_utc()));
        }
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| Self::from_datetime(d.with_timezone(&Utc)))
    }

    /// The instant, as a chrono UTC date-time.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.at
    }

    /// The instant, as Unix seconds.
    pub fn unix(&self) -> i64 {
        self.at.timestamp()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unix_form {
            write!(f, "{}", self.unix())
        } else {
            write!(f, "{}", self.at.format("%Y-%m-%d %H:%M:%S"))
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.unix_form {
            s.serialize_i64(self.unix())
        } else {
            s.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Unix seconds or a \"YYYY-MM-DD HH:MM:SS\" string")
            }
            fn visit_i64<E: sde::Error>(self, v: i64) -> Result<Timestamp, E> {
                Timestamp::from_unix(v).ok_or_else(|| E::custom(format!("Unix time {v} is out of range")))
            }
            fn visit_u64<E: sde::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom("Unix time out of range"))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_f64<E: sde::Error>(self, v: f64) -> Result<Timestamp, E> {
                if v.is_finite() && v.abs() < 1e15 {
                    self.visit_i64(v as i64)
                } else {
                    Err(E::custom("Unix time out of range"))
                }
            }
            fn visit_str<E: sde::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).ok_or_else(|| E::custom(format!("unrecognised time {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Tolerant decoders used through `#[serde(deserialize_with = ...)]` by generated models.
pub mod de {
    use super::*;

    /// A JSON scalar (string, number or bool) as a string; used by enums whose
    /// values arrive both as `1` and as `"1"`.
    pub fn scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: sde::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_owned())
            }
            fn visit_string<E: sde::Error>(self, v: String) -> Result<String, E> {
                Ok(v)
            }
            fn visit_i64<E: sde::Error>(self, v: i64) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_u64<E: sde::Error>(self, v: u64) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_f64<E: sde::Error>(self, v: f64) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_bool<E: sde::Error>(self, v: bool) -> Result<String, E> {
                Ok(v.to_string())
            }
        }
        d.deserialize_any(V)
    }

    #[derive(Clone, Copy)]
    struct LooseBool;
    impl Visitor<'_> for LooseBool {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean, \"true\"/\"false\", or 0/1")
        }
        fn visit_bool<E: sde::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_i64<E: sde::Error>(self, v: i64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(sde::Unexpected::Signed(v), &self)),
            }
        }
        fn visit_u64<E: sde::Error>(self, v: u64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(sde::Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_str<E: sde::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(E::invalid_value(sde::Unexpected::Str(v), &self)),
            }
        }
    }

    #[derive(Clone, Copy)]
    struct LooseInt;
    impl Visitor<'_> for LooseInt {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or a string of digits")
        }
        fn visit_i64<E: sde::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: sde::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(sde::Unexpected::Unsigned(v), &self))
        }
        fn visit_str<E: sde::Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::invalid_value(sde::Unexpected::Str(v), &self))
        }
    }

    /// Wraps a visitor so that `null` becomes `None`.
    struct Opt<V>(V);
    impl<'de, V: Visitor<'de> + Copy> Visitor<'de> for Opt<V> {
        type Value = Option<V::Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.expecting(f)?;
            f.write_str(" or null")
        }
        fn visit_none<E: sde::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: sde::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self.0).map(Some)
        }
    }

    /// A boolean sent as `true`/`false`, `0`/`1`, or either as a string.
    pub fn loose_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        d.deserialize_any(LooseBool)
    }
    /// An optional [`loose_bool`]; `null` or absent is `None`.
    pub fn opt_loose_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_option(Opt(LooseBool))
    }
    /// An integer sent as a number or as a string of digits.
    pub fn loose_int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(LooseInt)
    }
    /// An optional [`loose_int`]; `null` or absent is `None`.
    pub fn opt_loose_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(Opt(LooseInt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Flags {
        #[serde(default, deserialize_with = "de::opt_loose_bool")]
        a: Option<bool>,
        #[serde(default, deserialize_with = "de::opt_loose_int")]
        n: Option<i64>,
    }

    #[test]
    fn loose_scalars_accept_every_documented_form() {
        for (json, want) in [
            (r#"{"a":"true"}"#, Some(true)),
            (r#"{"a":"false"}"#, Some(false)),
            (r#"{"a":1}"#, Some(true)),
            (r#"{"a":0}"#, Some(false)),
            (r#"{"a":null}"#, None),
            (r#"{}"#, None),
            (r#"{"a":true}"#, Some(true)),
        ] {
            let f: Flags = serde_json::from_str(json).unwrap();
            assert_eq!(f.a, want, "{json}");
        }
        let f: Flags = serde_json::from_str(r#"{"n":"12"}"#).unwrap();
        assert_eq!(f.n, Some(12));
        assert!(serde_json::from_str::<Flags>(r#"{"a":"maybe"}"#).is_err());
        assert!(serde_json::from_str::<Flags>(r#"{"a":2}"#).is_err());
    }

    #[test]
    fn timestamps_take_both_forms_and_keep_them() {
        let unix: Timestamp = serde_json::from_str("1368011747").unwrap();
        let text: Timestamp = serde_json::from_str(r#""2013-05-08 11:15:47""#).unwrap();
        assert_eq!(unix.as_datetime().to_rfc3339(), "2013-05-08T11:15:47+00:00");
        assert_eq!(unix, Timestamp::from_unix(1368011747).unwrap());
        assert_eq!(serde_json::to_string(&unix).unwrap(), "1368011747");
        assert_eq!(serde_json::to_string(&text).unwrap(), r#""2013-05-08 11:15:47""#);
        assert_eq!(unix.unix(), text.unix());
        assert!(serde_json::from_str::<Timestamp>(r#""yesterday""#).is_err());
    }

    #[test]
    fn alternatives_take_numbers_and_strings() {
        let a: Alternatives = 42.into();
        let b: Alternatives = "abc".into();
        assert_eq!(serde_json::to_string(&a).unwrap(), "42");
        assert_eq!(serde_json::to_string(&b).unwrap(), r#""abc""#);
        assert_eq!(
            serde_json::from_str::<Alternatives>("7").unwrap(),
            Alternatives::Integer(7)
        );
        assert_eq!(a.to_string(), "42");
    }
}
