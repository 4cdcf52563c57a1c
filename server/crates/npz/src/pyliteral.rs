//! A parser for the small subset of Python literals that `.npy` headers use:
//! a dict of strings, booleans, integers, tuples and lists (structured dtypes
//! nest tuples in lists). It never evaluates anything and caps nesting depth,
//! so a hostile header costs at most its own length.

/// Deeper nesting than this is rejected (numpy's own structured dtypes nest a
/// handful of levels; the cap keeps recursion off the stack-overflow path).
const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub enum PyValue {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<PyValue>),
    List(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
}

/// Parses one literal that must fill `text` (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<PyValue, String> {
    let mut parser = Parser {
        text: text.as_bytes(),
        pos: 0,
    };
    let value = parser.value(0)?;
    parser.skip_space();
    if parser.pos != parser.text.len() {
        return Err(format!(
            "unexpected text after the header dict at byte {}",
            parser.pos
        ));
    }
    Ok(value)
}

struct Parser<'t> {
    text: &'t [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.pos < self.text.len() && self.text[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.text.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Result<PyValue, String> {
        if depth > MAX_DEPTH {
            return Err(format!("header nests deeper than {MAX_DEPTH} levels"));
        }
        match self.peek() {
            None => Err("header ends where a value was expected".to_owned()),
            Some(b'{') => self.dict(depth),
            Some(b'(') => self.sequence(b')', depth).map(PyValue::Tuple),
            Some(b'[') => self.sequence(b']', depth).map(PyValue::List),
            Some(b'\'') | Some(b'"') => self.string().map(PyValue::Str),
            Some(c) if c == b'-' || c == b'+' || c.is_ascii_digit() => self.int(),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            Some(c) => Err(format!(
                "unexpected character {:?} at byte {}",
                c as char, self.pos
            )),
        }
    }

    fn dict(&mut self, depth: usize) -> Result<PyValue, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(PyValue::Dict(items));
            }
            let key = self.value(depth + 1)?;
            if self.peek() != Some(b':') {
                return Err(format!(
                    "':' expected after a dict key at byte {}",
                    self.pos
                ));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            items.push((key, value));
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(format!("',' or '}}' expected at byte {}", self.pos)),
            }
        }
    }

    fn sequence(&mut self, close: u8, depth: usize) -> Result<Vec<PyValue>, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.value(depth + 1)?);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => {
                    return Err(format!(
                        "',' or '{}' expected at byte {}",
                        close as char, self.pos
                    ));
                }
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.text[self.pos];
        self.pos += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.text.get(self.pos) {
            self.pos += 1;
            if c == quote {
                return String::from_utf8(out)
                    .map_err(|_| "string in header is not UTF-8".to_owned());
            }
            if c == b'\\' {
                // Only the escapes a dtype name could need; anything else is kept verbatim.
                let Some(&escaped) = self.text.get(self.pos) else {
                    break;
                };
                self.pos += 1;
                match escaped {
                    b'\\' | b'\'' | b'"' => out.push(escaped),
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    other => out.extend_from_slice(&[b'\\', other]),
                }
            } else {
                out.push(c);
            }
        }
        Err("unterminated string in header".to_owned())
    }

    fn int(&mut self) -> Result<PyValue, String> {
        let start = self.pos;
        if matches!(self.text[self.pos], b'-' | b'+') {
            self.pos += 1;
        }
        while self.pos < self.text.len() && self.text[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        let digits = std::str::from_utf8(&self.text[start..self.pos]).unwrap_or("");
        // Python 2 era headers wrote longs as `3L`.
        if matches!(self.text.get(self.pos), Some(b'L') | Some(b'l')) {
            self.pos += 1;
        }
        digits
            .parse::<i128>()
            .map(PyValue::Int)
            .map_err(|_| format!("bad integer {digits:?} in header"))
    }

    fn word(&mut self) -> Result<PyValue, String> {
        let start = self.pos;
        while self.pos < self.text.len()
            && (self.text[self.pos].is_ascii_alphanumeric() || self.text[self.pos] == b'_')
        {
            self.pos += 1;
        }
        match &self.text[start..self.pos] {
            b"True" => Ok(PyValue::Bool(true)),
            b"False" => Ok(PyValue::Bool(false)),
            b"None" => Ok(PyValue::None),
            other => Err(format!(
                "unexpected name {:?} in header",
                String::from_utf8_lossy(other)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_numpy_header() {
        let value =
            parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }    \n").unwrap();
        let PyValue::Dict(items) = value else {
            panic!("dict expected")
        };
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[2].1,
            PyValue::Tuple(vec![PyValue::Int(3), PyValue::Int(4)])
        );
    }

    #[test]
    fn rejects_deep_nesting_and_garbage() {
        assert!(parse(&"(".repeat(1000)).is_err());
        assert!(parse("{'a': __import__('os')}").is_err());
        assert!(parse("{'a' 1}").is_err());
        assert!(parse("{'a': 1} x").is_err());
        assert_eq!(
            parse("(3L, 4L)").unwrap(),
            PyValue::Tuple(vec![PyValue::Int(3), PyValue::Int(4)])
        );
    }
}
