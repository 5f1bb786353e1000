//! Job and result lines as progress reads them: only the fields it uses, borrowed from the
//! line's text. A line is accepted exactly when serde_json would read it as a JSON object
//! (every value is walked, so nesting limits and number ranges apply as for a `Value`); a key
//! given twice keeps its last value, as in a `Map`.

use crate::tms::Tile;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A JSON value as progress reads it: a string, a number, or anything else (not kept).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// Any other number.
    F64(f64),
    /// Anything else: null, a boolean, an array or an object.
    Other,
}

impl Scalar<'_> {
    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as u64 when it is a non-negative integer (as `Value::as_u64`).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Scalar::U64(v) => Some(v),
            Scalar::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The number as f64 (as `Value::as_f64`).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Scalar::U64(v) => Some(v as f64),
            Scalar::I64(v) => Some(v as f64),
            Scalar::F64(v) => Some(v),
            _ => None,
        }
    }
}

impl<'a> Scalar<'a> {
    /// The string, if it is one, without a copy.
    pub fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    // Arrays and objects are walked value by value (so they are checked as a `Value` would be).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
        while seq.next_element::<Scalar>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
        while map.next_entry::<Scalar, Scalar>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// The fields of a job or result line that progress uses, as `Value`'s `as_u64`, `as_f64`,
/// `as_str` give them (None where absent or of another type).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Line<'a> {
    /// The `z` field (a tile's zoom level).
    pub z: Option<u64>,
    /// The `x` field (a tile's column).
    pub x: Option<u64>,
    /// The `y` field (a tile's row).
    pub y: Option<u64>,
    /// The `parts` field: how many result lines the job gives.
    pub parts: Option<u64>,
    /// The `line` field: on an error line for an input line that was no job line, its number.
    pub line: Option<u64>,
    /// The `secs` field: seconds the unit took.
    pub secs: Option<f64>,
    /// The field named when parsing (a job list's size field), if asked for.
    pub size: Option<f64>,
    /// The `path` field.
    pub path: Option<Cow<'a, str>>,
    /// The `source` field: the job (its path) a result line belongs to.
    pub source: Option<Cow<'a, str>>,
    /// The `error` field: a failed unit's message.
    pub error: Option<Cow<'a, str>>,
    /// `"status":"error"`: a failed unit's line.
    pub failed: bool,
    /// It has an `input` field (whatever its value).
    pub input: bool,
}

impl Line<'_> {
    /// The tile in the line's `z`, `x`, `y` (x and y cut to 32 bits, z at most 255).
    pub fn tile(&self) -> Option<Tile> {
        Some(Tile::new(self.x? as u32, self.y? as u32, u8::try_from(self.z?).ok()?))
    }
}

/// Reads a line's fields, with `size` the name of an extra field to keep.
struct LineSeed<'n>(Option<&'n str>);

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = Line<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Line<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = Line<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line<'de>, A::Error> {
        let mut line = Line::default();
        while let Some(key) = map.next_key::<Scalar>()? {
            let value: Scalar = map.next_value()?;
            let key = key.as_str().unwrap_or_default();
            if self.0 == Some(key) {
                line.size = value.as_f64();
            }
            match key {
                "z" => line.z = value.as_u64(),
                "x" => line.x = value.as_u64(),
                "y" => line.y = value.as_u64(),
                "parts" => line.parts = value.as_u64(),
                "line" => line.line = value.as_u64(),
                "secs" => line.secs = value.as_f64(),
                "path" => line.path = value.into_str(),
                "source" => line.source = value.into_str(),
                "error" => line.error = value.into_str(),
                "status" => line.failed = value.as_str() == Some("error"),
                "input" => line.input = true,
                _ => {}
            }
        }
        Ok(line)
    }
}

/// Parses `text` as one JSON object (None when it is anything else); `size` names an extra
/// field to keep.
pub fn parse<'a>(text: &'a str, size: Option<&str>) -> Option<Line<'a>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let line = LineSeed(size).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(line)
}

/// A result line's object and its text; when a killed writer left half a line that the next
/// writer's line was appended to, the complete object at its end (tried from each `{` after
/// the first).
pub fn parse_result(text: &str) -> Option<(Line<'_>, &str)> {
    let whole = text.trim();
    if let Some(line) = parse(whole, None) {
        return Some((line, whole));
    }
    text.match_indices('{').skip(1).find_map(|(i, _)| {
        let rest = text[i..].trim();
        parse(rest, None).map(|line| (line, rest))
    })
}

/// An object's text in one canonical form (serde_json's, keys in their order, the last of a
/// repeated key), so lines that differ only in spacing or number spelling are the same part.
pub fn canonical(object: &str) -> String {
    serde_json::from_str::<Value>(object).map(|v| v.to_string()).unwrap_or_else(|_| object.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json's `Value` makes of a text: an object or not.
    fn is_object(text: &str) -> bool {
        matches!(serde_json::from_str::<Value>(text), Ok(Value::Object(_)))
    }

    #[test]
    fn accepts_what_value_accepts_as_an_object() {
        let deep = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
        let deep_array = format!(r#"{{"a":{}{}}}"#, "[".repeat(130), "]".repeat(130));
        for t in [
            r#"{"z":1,"x":2,"y":3}"#,
            r#"{"a":{"b":[1,{"c":null}],"d":true},"path":"p"}"#,
            r#"{"big":1e999}"#,
            r#"{"n":-0.0,"m":18446744073709551616}"#,
            "[1,2]",
            r#""text""#,
            "{",
            r#"{"a":1} x"#,
            r#"{"s":"\ud800"}"#,
            &deep,
            &deep_array,
            r#"{"ok":[[[[1]]]]}"#,
        ] {
            assert_eq!(parse(t, None).is_some(), is_object(t), "{t}");
        }
    }

    #[test]
    fn fields_as_value_reads_them() {
        let l = parse(r#"{"pa\u0074h":"a\"b","parts":"2","secs":-3,"z":15,"x":4294967301,"y":1,"status":"ok","status":"error","input":null,"line":-1}"#, Some("secs")).unwrap();
        assert_eq!(l.path.as_deref(), Some("a\"b"));
        assert_eq!(l.parts, None, "a string is not a number");
        assert_eq!((l.secs, l.line), (Some(-3.0), None));
        assert_eq!(l.size, Some(-3.0), "the size field is kept too");
        assert_eq!(l.tile(), Some(Tile::new(5, 1, 15)), "x cut to 32 bits");
        assert!(l.failed, "the last of a repeated key");
        assert!(l.input, "present though null");
        assert_eq!(parse(r#"{"z":256,"x":0,"y":0}"#, None).unwrap().tile(), None);
        assert_eq!(parse(r#"{"parts":2.0}"#, None).unwrap().parts, None);
        assert_eq!(parse(r#"{"parts":2,"parts":[2]}"#, None).unwrap().parts, None, "the last value counts");
        assert_eq!(parse(r#"{"path":"a","path":1}"#, None).unwrap().path, None);
    }

    #[test]
    fn glued_line_after_a_half_line() {
        let (l, t) = parse_result(r#"{"path":"a","sta{"path":"b","status":"error"}"#).unwrap();
        assert_eq!((l.path.as_deref(), t), (Some("b"), r#"{"path":"b","status":"error"}"#));
        assert!(parse_result(r#"junk{"path":"b"}"#).is_none(), "the first {{ is never a start");
        assert_eq!(canonical(r#"{ "a" : 1.0,"b":[ 1 ] }"#), r#"{"a":1.0,"b":[1]}"#);
    }
}
