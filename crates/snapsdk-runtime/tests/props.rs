//! Property tests: decoders and path encoding never panic and round-trip.

use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use serde::Deserialize;
use snapsdk_runtime::__private::http::StatusCode;
use snapsdk_runtime::__private::reqwest::Url;
use snapsdk_runtime::response::decode_json;
use snapsdk_runtime::{de, encode, Alternatives, Error, Timestamp};

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Model {
    at: Option<Timestamp>,
    #[serde(default, deserialize_with = "de::opt_loose_bool")]
    flag: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_loose_int")]
    count: Option<i64>,
    alt: Option<Alternatives>,
    #[serde(default)]
    items: Vec<Model>,
}

#[derive(Deserialize)]
struct Bool(#[serde(deserialize_with = "de::loose_bool")] bool);
#[derive(Deserialize)]
struct Int(#[serde(deserialize_with = "de::loose_int")] i64);
#[derive(Deserialize)]
struct Scalar(#[serde(deserialize_with = "de::scalar_string")] String);

/// JSON-ish bytes: mostly the characters JSON is made of, so that the
/// decoders get past the first byte.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        "[ {}\\[\\]\",:0-9a-z.eE+\\-\\\\ntu]{0,64}".prop_map(String::into_bytes),
        Just(br#"{"at":"2013-05-08 11:15:47","flag":"1","count":"12","alt":1.5,"items":[{"at":1368011747}]}"#.to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decode_json_never_panics_and_errors_carry_evidence(body in jsonish()) {
        for result in [
            decode_json::<Model>("op", StatusCode::OK, None, &body).map(|_| ()),
            decode_json::<serde_json::Value>("op", StatusCode::OK, None, &body).map(|_| ()),
            decode_json::<Vec<Alternatives>>("op", StatusCode::OK, None, &body).map(|_| ()),
            decode_json::<Timestamp>("op", StatusCode::OK, None, &body).map(|_| ()),
        ] {
            if let Err(err) = result {
                let Error::Decode(d) = &err else { panic!("{err:?}") };
                prop_assert_eq!(d.status, StatusCode::OK);
                prop_assert!(d.snippet.chars().count() <= 121);
                let _ = err.to_string();
            }
        }
    }

    #[test]
    fn path_segments_are_one_reversible_segment(raw in any::<String>()) {
        match encode::path_segment("op", "id", &raw) {
            Err(err) => {
                prop_assert!(raw.is_empty() || raw == "." || raw == "..", "refused {:?}: {}", raw, err);
                let is_invalid = matches!(err, Error::InvalidArgument { .. });
                prop_assert!(is_invalid);
            }
            Ok(enc) => {
                prop_assert!(!enc.contains('/') && !enc.contains('?') && !enc.contains('#'), "{}", enc);
                prop_assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%".contains(&b)), "{}", enc);
                let back = percent_decode_str(&enc).decode_utf8().unwrap();
                prop_assert_eq!(&back, &raw);
                // On the wire it is exactly one segment, not normalised away.
                let url = Url::parse(&format!("https://h.example/v1/things/{enc}/x")).unwrap();
                let segs: Vec<&str> = url.path_segments().unwrap().collect();
                prop_assert_eq!(segs, vec!["v1", "things", enc.as_str(), "x"]);
                prop_assert!(url.query().is_none() && url.fragment().is_none());
            }
        }
    }

    #[test]
    fn path_segments_of_delimiter_soup(raw in "[./?#%+ \\\\&=;:@!$'()*,ü€𝄞]{1,12}") {
        if raw != "." && raw != ".." {
            let enc = encode::path_segment("op", "id", &raw).unwrap();
            let url = Url::parse(&format!("https://h.example/t/{enc}")).unwrap();
            prop_assert_eq!(url.path_segments().unwrap().count(), 2);
            prop_assert_eq!(percent_decode_str(&enc).decode_utf8().unwrap(), raw.as_str());
        }
    }

    #[test]
    fn timestamps_round_trip_in_both_forms(secs in -62_135_596_800i64..253_402_300_799i64) {
        let unix = Timestamp::from_unix(secs).unwrap();
        let json = serde_json::to_string(&unix).unwrap();
        prop_assert_eq!(&json, &secs.to_string());
        prop_assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), unix);
        let text = Timestamp::from_datetime(unix.as_datetime());
        let json = serde_json::to_string(&text).unwrap();
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, text);
        prop_assert_eq!(back.unix(), secs);
        // Digits in a string are Unix seconds too.
        if secs >= 0 {
            let quoted: Timestamp = serde_json::from_str(&format!("\"{secs}\"")).unwrap();
            prop_assert_eq!(quoted.unix(), secs);
        }
    }

    #[test]
    fn timestamp_parsing_never_panics(s in any::<String>(), n in any::<i64>(), f in any::<f64>()) {
        let _ = Timestamp::parse(&s);
        let _ = Timestamp::from_unix(n);
        let _ = serde_json::from_str::<Timestamp>(&n.to_string());
        let _ = serde_json::from_value::<Timestamp>(serde_json::json!(f));
        let _ = serde_json::from_value::<Timestamp>(serde_json::Value::String(s));
    }

    #[test]
    fn loose_bool_takes_exactly_its_forms(n in any::<i64>(), s in any::<String>()) {
        let from_int = serde_json::from_str::<Bool>(&n.to_string()).map(|b| b.0).ok();
        prop_assert_eq!(from_int, match n { 0 => Some(false), 1 => Some(true), _ => None });
        let from_str = serde_json::from_value::<Bool>(serde_json::Value::String(s.clone())).map(|b| b.0).ok();
        let want = match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        };
        prop_assert_eq!(from_str, want);
    }

    #[test]
    fn loose_int_agrees_across_forms(n in any::<i64>(), pad in "[ \t]{0,2}") {
        prop_assert_eq!(serde_json::from_str::<Int>(&n.to_string()).unwrap().0, n);
        prop_assert_eq!(serde_json::from_value::<Int>(serde_json::json!(format!("{pad}{n}{pad}"))).unwrap().0, n);
        prop_assert_eq!(serde_json::from_str::<Scalar>(&n.to_string()).unwrap().0, n.to_string());
        let too_big = (n as i128).unsigned_abs() + i64::MAX as u128 + 1;
        prop_assert!(serde_json::from_str::<Int>(&too_big.to_string()).is_err());
    }

    #[test]
    fn alternatives_round_trip(n in any::<i64>(), s in any::<String>(), f in -1e15f64..1e15f64) {
        let a = Alternatives::from(n);
        prop_assert_eq!(serde_json::from_str::<Alternatives>(&serde_json::to_string(&a).unwrap()).unwrap(), a);
        let b = Alternatives::from(s.clone());
        prop_assert_eq!(serde_json::from_str::<Alternatives>(&serde_json::to_string(&b).unwrap()).unwrap(), b.clone());
        prop_assert_eq!(b.to_string(), s);
        let back = serde_json::from_str::<Alternatives>(&serde_json::to_string(&Alternatives::from(f)).unwrap()).unwrap();
        match back {
            Alternatives::Number(g) => prop_assert!((g - f).abs() <= f.abs() * 1e-15, "{} vs {}", g, f),
            Alternatives::Integer(i) => prop_assert!(f.fract() == 0.0 && i as f64 == f, "{} vs {}", i, f),
            Alternatives::String(_) => prop_assert!(false, "a number came back as a string"),
        }
    }
}

/// A response model of the shape the generated clients decode: required and
/// optional fields, an enum, nesting, lists, and unknown fields kept.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Strict {
    id: i64,
    name: String,
    #[serde(default)]
    tags: Vec<String>,
    kind: Option<Kind>,
    inner: Option<Box<Strict>>,
    #[serde(default)]
    list: Vec<Strict>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    One,
    Two,
}

/// JSON documents near `Strict`: its keys (and one it does not know) with
/// values of every kind, nested, so that most fail on one field somewhere.
fn near_strict() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        Just(Value::from(1.5)),
        prop_oneof![
            Just("one"),
            Just("two"),
            Just("three"),
            Just("a \"q\" ,]}"),
            Just("é\n")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("id"),
            Just("name"),
            Just("tags"),
            Just("kind"),
            Just("inner"),
            Just("list"),
            Just("x \"y\""),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key.prop_map(str::to_owned), inner, 0..7)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, failure_persistence: None, ..ProptestConfig::default() })]

    /// The runtime finds a decode error's path from where serde_json stopped,
    /// without a second, path-tracking decode; it must name the same place
    /// that path-tracking decoder names, in compact and in pretty JSON.
    #[test]
    fn decode_error_paths_match_a_path_tracking_decoder(doc in near_strict(), pretty in any::<bool>()) {
        let body = if pretty { serde_json::to_vec_pretty(&doc) } else { serde_json::to_vec(&doc) }.unwrap();
        let reference = serde_path_to_error::deserialize::<_, Strict>(&mut serde_json::Deserializer::from_slice(&body));
        let ours = decode_json::<Strict>("op", StatusCode::OK, None, &body);
        match (reference, ours) {
            (Ok(_), Ok(_)) => {}
            (Err(want), Err(Error::Decode(got))) => {
                prop_assert_eq!(&got.path, &want.path().to_string(), "{}", String::from_utf8_lossy(&body));
                prop_assert_eq!(&got.message, &want.inner().to_string());
            }
            (want, got) => prop_assert!(false, "{:?} against {:?}", want.map(|_| ()), got.map(|_| ())),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, failure_persistence: None, ..ProptestConfig::default() })]

    /// The same for bodies that are not JSON at all, or are cut short,
    /// where the value goes wrong before the body breaks off. (Where the
    /// break comes first, the message gives line and column, and the path is
    /// the nearest member read, which need not be that decoder's choice.)
    #[test]
    fn broken_body_paths_match_a_path_tracking_decoder(body in jsonish(), cut in any::<prop::sample::Index>(), doc in near_strict()) {
        let mut near = serde_json::to_vec(&doc).unwrap();
        near.truncate(cut.index(near.len() + 1));
        for body in [&body, &near] {
            let reference = serde_path_to_error::deserialize::<_, Strict>(&mut serde_json::Deserializer::from_slice(body));
            let ours = decode_json::<Strict>("op", StatusCode::OK, None, body);
            match (reference, ours) {
                (Ok(_), Ok(_)) => {}
                (Err(want), Err(Error::Decode(got))) => {
                    if want.inner().is_data() {
                        prop_assert_eq!(&got.path, &want.path().to_string(), "{}", String::from_utf8_lossy(body));
                    }
                    if !body.iter().all(u8::is_ascii_whitespace) {
                        prop_assert_eq!(&got.message, &want.inner().to_string());
                    }
                }
                (Ok(_), Err(Error::Decode(got))) => prop_assert!(got.message.starts_with("trailing data"), "{}", got),
                (want, got) => prop_assert!(false, "{:?} against {:?}", want.map(|_| ()), got.map(|_| ())),
            }
        }
    }
}
