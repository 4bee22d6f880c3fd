//! `json_pack`: Python objects to compact UTF-8 JSON bytes, as
//! `json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"),
//! default=default).encode(obj).encode("utf8")` makes them, byte for byte.
//!
//! Why: a 10 MB output (a big HTML table, an image) is one long string, and the
//! standard library's encoder escapes it character by character (~40 ms for 10 MB
//! here); this one copies runs of characters that need no escape in one go (~2 ms).
//! Strings that are not valid UTF-8 (lone surrogates) raise `ValueError`: the caller
//! falls back to the standard library, which encodes them with `surrogateescape`.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Nesting deeper than this is refused, as the standard library's recursion limit does.
const MAX_DEPTH: usize = 900;

/// Encodes `obj` (dicts, lists, tuples, str, int, float, bool, None; anything else
/// through `default(obj)`, as `json` does) into compact JSON bytes.
#[pyfunction]
#[pyo3(signature = (obj, default=None))]
pub fn json_pack<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut encoder = Encoder {
        out: Vec::with_capacity(256),
        default,
        path: Vec::new(),
    };
    encoder.value(obj)?;
    Ok(PyBytes::new(py, &encoder.out))
}

struct Encoder<'a, 'py> {
    out: Vec<u8>,
    default: Option<&'a Bound<'py, PyAny>>,
    /// The containers being encoded, outermost first (circular references).
    path: Vec<usize>,
}

impl<'py> Encoder<'_, 'py> {
    fn value(&mut self, obj: &Bound<'py, PyAny>) -> PyResult<()> {
        if let Ok(s) = obj.cast::<PyString>() {
            return self.string(s);
        }
        if obj.is_none() {
            self.out.extend_from_slice(b"null");
            return Ok(());
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            let text: &[u8] = if b.is_true() { b"true" } else { b"false" };
            self.out.extend_from_slice(text);
            return Ok(());
        }
        if let Ok(i) = obj.cast::<PyInt>() {
            return self.int(i);
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return self.float(f);
        }
        if let Ok(dict) = obj.cast::<PyDict>() {
            return self.nested(obj, |e| e.dict(dict));
        }
        if let Ok(list) = obj.cast::<PyList>() {
            return self.nested(obj, |e| e.array(list.iter()));
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            return self.nested(obj, |e| e.array(tuple.iter()));
        }
        let Some(default) = self.default else {
            let kind = obj.get_type().name()?;
            return Err(PyTypeError::new_err(format!(
                "Object of type {kind} is not JSON serializable"
            )));
        };
        let replacement = default.call1((obj,))?;
        self.nested(obj, |e| e.value(&replacement))
    }

    /// Encodes a container (or what `default` made of an object) with `obj` on the
    /// path, so that meeting it again inside is a circular reference.
    fn nested(
        &mut self,
        obj: &Bound<'py, PyAny>,
        encode: impl FnOnce(&mut Self) -> PyResult<()>,
    ) -> PyResult<()> {
        let id = obj.as_ptr() as usize;
        if self.path.contains(&id) {
            return Err(PyValueError::new_err("Circular reference detected"));
        }
        if self.path.len() >= MAX_DEPTH {
            return Err(PyValueError::new_err("JSON nesting too deep"));
        }
        self.path.push(id);
        let result = encode(self);
        self.path.pop();
        result
    }

    /// A list or a tuple: a JSON array.
    fn array(&mut self, items: impl Iterator<Item = Bound<'py, PyAny>>) -> PyResult<()> {
        self.out.push(b'[');
        for (n, item) in items.enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            self.value(&item)?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn dict(&mut self, dict: &Bound<'py, PyDict>) -> PyResult<()> {
        self.out.push(b'{');
        for (n, (key, item)) in dict.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            self.key(&key)?;
            self.out.push(b':');
            self.value(&item)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Keys as `json` writes them: strings, and int, float, bool and None as text.
    fn key(&mut self, key: &Bound<'py, PyAny>) -> PyResult<()> {
        if let Ok(s) = key.cast::<PyString>() {
            return self.string(s);
        }
        let start = self.out.len();
        if key.is_none() || key.cast::<PyBool>().is_ok() {
            self.value(key)?;
        } else if let Ok(i) = key.cast::<PyInt>() {
            self.int(i)?;
        } else if let Ok(f) = key.cast::<PyFloat>() {
            self.float(f)?;
        } else {
            let kind = key.get_type().name()?;
            return Err(PyTypeError::new_err(format!(
                "keys must be str, int, float, bool or None, not {kind}"
            )));
        }
        self.out.insert(start, b'"');
        self.out.push(b'"');
        Ok(())
    }

    fn int(&mut self, i: &Bound<'py, PyInt>) -> PyResult<()> {
        if let Ok(n) = i.extract::<i64>() {
            self.out.extend_from_slice(n.to_string().as_bytes());
            return Ok(());
        }
        // Big ints, and int subclasses (IntEnum) as `int.__repr__` writes them.
        let text = i.py().get_type::<PyInt>().call_method1("__repr__", (i,))?;
        self.out
            .extend_from_slice(text.cast::<PyString>()?.to_str()?.as_bytes());
        Ok(())
    }

    fn float(&mut self, f: &Bound<'py, PyFloat>) -> PyResult<()> {
        let value = f.value();
        if !value.is_finite() {
            return Err(PyValueError::new_err(format!(
                "Out of range float values are not JSON compliant: {}",
                f.repr()?
            )));
        }
        // `float.__repr__`: the shortest text that reads back as the same float.
        let text = f
            .py()
            .get_type::<PyFloat>()
            .call_method1("__repr__", (f,))?;
        self.out
            .extend_from_slice(text.cast::<PyString>()?.to_str()?.as_bytes());
        Ok(())
    }

    fn string(&mut self, s: &Bound<'py, PyString>) -> PyResult<()> {
        let text = s
            .to_str()
            .map_err(|_| PyValueError::new_err("string is not valid UTF-8 (a lone surrogate)"))?;
        escape_into(&mut self.out, text.as_bytes());
        Ok(())
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes of `word` needs escaping: `"`, `\` or below 0x20.
/// (Bytes >= 0x80 of UTF-8 sequences never do; the checks are exact for the others.)
fn word_needs_escape(word: u64) -> bool {
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (zero_byte(word ^ (ONES * u64::from(b'"')))
        | zero_byte(word ^ (ONES * u64::from(b'\\')))
        | below_space)
        != 0
}

/// Index of the first byte at or after `from` that may need escaping (a whole 8-byte
/// word at a time where none does), or `bytes.len()`.
fn next_candidate(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_needs_escape(u64::from_le_bytes(word)) {
            return at;
        }
        at += 8;
    }
    at
}

/// Appends `bytes` (UTF-8) as a JSON string: `"` and `\` escaped, control characters
/// as `json` writes them; runs of other bytes are copied at once.
fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        at = next_candidate(bytes, at);
        let Some(&byte) = bytes.get(at) else { break };
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => {
                at += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..at]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{byte:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        at += 1;
        start = at;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        escape_into(&mut out, text.as_bytes());
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn escapes_as_the_standard_library() {
        assert_eq!(escaped("plain"), "\"plain\"");
        assert_eq!(escaped("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(escaped("\n\r\t\u{8}\u{c}"), "\"\\n\\r\\t\\b\\f\"");
        assert_eq!(escaped("\u{1}\u{1f}\u{7f}"), "\"\\u0001\\u001f\u{7f}\"");
        assert_eq!(escaped("café ✓ 😀"), "\"café ✓ 😀\"");
        assert_eq!(
            escaped("0123456789abcdef\"0123456\n"),
            "\"0123456789abcdef\\\"0123456\\n\""
        );
    }

    #[test]
    fn every_byte_in_every_position_of_a_word() {
        for byte in 0u8..0x80 {
            for at in 0..9 {
                let mut text = "abcdefghijklmnop".to_string();
                text.insert(at, byte as char);
                // What the byte-by-byte rule gives: the word-at-a-time scan must agree.
                let mut slow = Vec::new();
                slow.push(b'"');
                for &b in text.as_bytes() {
                    match b {
                        b'"' => slow.extend_from_slice(b"\\\""),
                        b'\\' => slow.extend_from_slice(b"\\\\"),
                        b'\n' => slow.extend_from_slice(b"\\n"),
                        b'\r' => slow.extend_from_slice(b"\\r"),
                        b'\t' => slow.extend_from_slice(b"\\t"),
                        0x08 => slow.extend_from_slice(b"\\b"),
                        0x0c => slow.extend_from_slice(b"\\f"),
                        0x00..=0x1f => slow.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                        _ => slow.push(b),
                    }
                }
                slow.push(b'"');
                assert_eq!(escaped(&text).into_bytes(), slow, "byte {byte:#x} at {at}");
            }
        }
    }
}
