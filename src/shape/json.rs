//! Small JSON helpers shared by the shape recogniser, the flattener and `export`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON string that borrows from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CowStr<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// The members of a JSON object in input order, duplicates kept, values unparsed.
pub struct Members<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(CowStr(key)) = map.next_key()? {
                    members.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(V)
    }
}

impl<'a> Members<'a> {
    /// Parses the members of the object `text`.
    pub fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// The object without the members named in `skip`, as compact JSON text.
    pub fn to_json_without(&self, skip: &[&str]) -> String {
        let mut out = String::from("{");
        for (key, value) in self.0.iter().filter(|(k, _)| !skip.contains(&k.as_ref())) {
            if out.len() > 1 {
                out.push(',');
            }
            write_key(&mut out, key);
            out.push_str(&minify(value.get()));
        }
        out.push('}');
        out
    }
}

/// What kind of JSON value a text starts with, for messages.
pub fn value_kind(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(_) => "a number",
        None => "nothing",
    }
}

/// Decodes a JSON string literal, borrowing when it has no escapes. Any other JSON value is an
/// error.
pub fn decode_str(text: &str) -> Result<Cow<'_, str>, serde_json::Error> {
    if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') && !text.contains('\\') {
        return Ok(Cow::Borrowed(&text[1..text.len() - 1]));
    }
    serde_json::from_str::<CowStr<'_>>(text).map(|s| s.0)
}

/// Appends `"key":` with the key escaped as JSON.
pub fn write_key(out: &mut impl fmt::Write, key: &str) {
    write_str(out, key);
    let _ = out.write_char(':');
}

/// Appends `s` as a JSON string literal. (Writing to a String or an Arrow string builder cannot
/// fail, so results are ignored.)
pub fn write_str(out: &mut impl fmt::Write, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        let _ = out.write_char('"');
        let _ = out.write_str(s);
        let _ = out.write_char('"');
    } else {
        let _ = out.write_str(&serde_json::to_string(s).expect("strings always serialize"));
    }
}

/// Whether a byte is JSON's insignificant whitespace.
pub fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Removes insignificant whitespace from JSON text; everything else is kept byte for byte.
pub fn minify(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut escape = false;
    let mut first_ws = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escape {
                escape = false;
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if is_ws(b) {
            first_ws = Some(i);
            break;
        }
    }
    let Some(first) = first_ws else {
        return Cow::Borrowed(text);
    };
    let mut out = Vec::with_capacity(text.len());
    out.extend_from_slice(&bytes[..first]);
    for &b in &bytes[first..] {
        if in_string {
            out.push(b);
            if escape {
                escape = false;
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
            out.push(b);
        } else if !is_ws(b) {
            out.push(b);
        }
    }
    // Only ASCII whitespace outside strings was removed, so the bytes are still UTF-8.
    Cow::Owned(String::from_utf8(out).expect("minify keeps UTF-8 intact"))
}

/// The deepest nesting of objects and arrays in JSON text.
pub fn max_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escape) = (0usize, 0usize, false, false);
    for &b in text.as_bytes() {
        if in_string {
            if escape {
                escape = false;
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings_and_numbers() {
        let pretty = "{\n  \"a b\" : [ 1.50 , \"x  y\\\" z\" ],\n\t\"c\": {}\n}";
        assert_eq!(minify(pretty), "{\"a b\":[1.50,\"x  y\\\" z\"],\"c\":{}}");
        assert!(matches!(minify("{\"a\":1}"), Cow::Borrowed(_)));
        assert_eq!(minify("{\"é\" :\"ü\"}"), "{\"é\":\"ü\"}");
    }

    #[test]
    fn members_keep_order_and_duplicates() {
        let m = Members::parse(r#"{"b":1,"a":{"x":[1]},"b":"2"}"#).unwrap();
        let keys: Vec<_> = m.0.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        assert_eq!(m.get("a").unwrap().get(), r#"{"x":[1]}"#);
        assert_eq!(m.to_json_without(&["a"]), r#"{"b":1,"b":"2"}"#);
    }

    #[test]
    fn strings_decode_and_encode() {
        assert_eq!(decode_str(r#""plain""#).unwrap(), "plain");
        assert_eq!(decode_str(r#""a\"b\u00e9""#).unwrap(), "a\"bé");
        for not_a_string in ["12345", "{\"a\":1}", "true", "null"] {
            assert!(decode_str(not_a_string).is_err(), "{not_a_string}");
        }
        let mut out = String::new();
        write_str(&mut out, "tab\there \"q\"");
        assert_eq!(out, r#""tab\there \"q\"""#);
    }

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(max_depth(r#"{"a":[{"b":"[[[["}]}"#), 3);
        assert_eq!(max_depth("1"), 0);
    }
}
