//! A parser for the small Python-literal grammar of `.npy` headers.
//!
//! ```text
//! value := dict | tuple | list | string | int | True | False | None
//! dict  := '{' [ value ':' value { ',' value ':' value } [','] ] '}'
//! tuple := '(' [ value { ',' value } [','] ] ')'    -- '(x)' without a comma is just x
//! list  := '[' [ value { ',' value } [','] ] ']'
//! string:= '…' | "…"  (backslash escapes the next character)
//! int   := ['+'|'-'] digits ['L'|'l']               -- Python 2 numpy wrote `3L`
//! ```
//! Whitespace is allowed between tokens. Nesting is limited to [`MAX_DEPTH`] levels so that a
//! hostile header cannot overflow the stack.

/// Deepest nesting of dicts/tuples/lists accepted.
pub(crate) const MAX_DEPTH: usize = 16;

/// A parsed literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PyValue {
    Dict(Vec<(PyValue, PyValue)>),
    Tuple(Vec<PyValue>),
    List(Vec<PyValue>),
    Str(String),
    Int(i128),
    Bool(bool),
    None,
}

impl PyValue {
    /// A short description for error messages (`"a string"`, `"True"`, …).
    pub(crate) fn describe(&self) -> String {
        match self {
            PyValue::Dict(_) => "a dict".to_string(),
            PyValue::Tuple(_) => "a tuple".to_string(),
            PyValue::List(_) => "a list".to_string(),
            PyValue::Str(s) => format!("the string {s:?}"),
            PyValue::Int(i) => format!("the integer {i}"),
            PyValue::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            PyValue::None => "None".to_string(),
        }
    }
}

/// Parses `text` as exactly one literal (surrounding whitespace allowed). The error is a short
/// description with the character position.
pub(crate) fn parse(text: &str) -> Result<PyValue, String> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
    };
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != p.chars.len() {
        return Err(format!("unexpected {} after the literal", p.here()));
    }
    Ok(v)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn skip_ws(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn here(&self) -> String {
        match self.peek() {
            Some(c) => format!("{c:?} at character {}", self.pos),
            None => format!("end of header at character {}", self.pos),
        }
    }

    fn value(&mut self, depth: usize) -> Result<PyValue, String> {
        self.skip_ws();
        let c = self
            .peek()
            .ok_or_else(|| format!("expected a value, found {}", self.here()))?;
        match c {
            '{' | '(' | '[' => {
                if depth >= MAX_DEPTH {
                    return Err(format!(
                        "nested more than {MAX_DEPTH} levels deep at character {}",
                        self.pos
                    ));
                }
                self.pos += 1;
                match c {
                    '{' => self.dict(depth + 1),
                    '(' => self.tuple(depth + 1),
                    _ => Ok(PyValue::List(self.items(']', depth + 1)?.0)),
                }
            }
            '\'' | '"' => self.string(c),
            '+' | '-' | '0'..='9' => self.int(),
            _ if c.is_alphabetic() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                match word.as_str() {
                    "True" => Ok(PyValue::Bool(true)),
                    "False" => Ok(PyValue::Bool(false)),
                    "None" => Ok(PyValue::None),
                    _ => Err(format!("unknown name `{word}` at character {start}")),
                }
            }
            _ => Err(format!("expected a value, found {}", self.here())),
        }
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        self.skip_ws();
        if self.peek() == Some(want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {want:?}, found {}", self.here()))
        }
    }

    /// Comma-separated values up to `close`; returns them and whether a comma followed the last.
    fn items(&mut self, close: char, depth: usize) -> Result<(Vec<PyValue>, bool), String> {
        let mut out = Vec::new();
        let mut trailing_comma = false;
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((out, trailing_comma));
            }
            if !out.is_empty() && !trailing_comma {
                return Err(format!("expected ',' or {close:?}, found {}", self.here()));
            }
            out.push(self.value(depth)?);
            self.skip_ws();
            trailing_comma = self.peek() == Some(',');
            if trailing_comma {
                self.pos += 1;
            }
        }
    }

    fn tuple(&mut self, depth: usize) -> Result<PyValue, String> {
        let (mut items, trailing_comma) = self.items(')', depth)?;
        if items.len() == 1 && !trailing_comma {
            // `(x)` is a parenthesised expression, not a tuple.
            return Ok(items.remove(0));
        }
        Ok(PyValue::Tuple(items))
    }

    fn dict(&mut self, depth: usize) -> Result<PyValue, String> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(PyValue::Dict(out));
            }
            let key = self.value(depth)?;
            self.expect(':')?;
            let value = self.value(depth)?;
            out.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                _ => return Err(format!("expected ',' or '}}', found {}", self.here())),
            }
        }
    }

    fn string(&mut self, quote: char) -> Result<PyValue, String> {
        let start = self.pos;
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err(format!("unterminated string starting at character {start}")),
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(PyValue::Str(s));
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        None => {
                            return Err(format!(
                                "unterminated string starting at character {start}"
                            ))
                        }
                        Some(c) => {
                            s.push(match c {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                '0' => '\0',
                                other => other,
                            });
                            self.pos += 1;
                        }
                    }
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn int(&mut self) -> Result<PyValue, String> {
        let start = self.pos;
        let negative = match self.peek() {
            Some('-') => {
                self.pos += 1;
                true
            }
            Some('+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        let mut value: i128 = 0;
        let mut digits = 0usize;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i128::from(d)))
                .ok_or_else(|| format!("integer at character {start} is too large"))?;
            digits += 1;
            self.pos += 1;
        }
        if digits == 0 {
            return Err(format!("expected digits at character {}", self.pos));
        }
        if matches!(self.peek(), Some('L' | 'l')) {
            self.pos += 1;
        }
        if self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '_')
        {
            return Err(format!(
                "malformed integer at character {start}: {}",
                self.here()
            ));
        }
        Ok(PyValue::Int(if negative { -value } else { value }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_npy_headers() {
        let v = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }   \n").unwrap();
        assert_eq!(
            v,
            PyValue::Dict(vec![
                (PyValue::Str("descr".into()), PyValue::Str("<f4".into())),
                (PyValue::Str("fortran_order".into()), PyValue::Bool(false)),
                (
                    PyValue::Str("shape".into()),
                    PyValue::Tuple(vec![PyValue::Int(3), PyValue::Int(4)])
                ),
            ])
        );
        assert_eq!(
            parse("(3,)").unwrap(),
            PyValue::Tuple(vec![PyValue::Int(3)])
        );
        assert_eq!(parse("()").unwrap(), PyValue::Tuple(vec![]));
        assert_eq!(parse("( 3 )").unwrap(), PyValue::Int(3));
        assert_eq!(
            parse("(3L, 4L)").unwrap(),
            PyValue::Tuple(vec![PyValue::Int(3), PyValue::Int(4)])
        );
        assert_eq!(parse("\"a\\'b\"").unwrap(), PyValue::Str("a'b".into()));
        assert_eq!(
            parse("[('a', '<f4'), ('b', '>i8')]").unwrap(),
            PyValue::List(vec![
                PyValue::Tuple(vec![PyValue::Str("a".into()), PyValue::Str("<f4".into())]),
                PyValue::Tuple(vec![PyValue::Str("b".into()), PyValue::Str(">i8".into())]),
            ])
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "{",
            "{'a' 1}",
            "{'a': 1 'b': 2}",
            "(1 2)",
            "'abc",
            "tru",
            "1.5",
            "--1",
            "99999999999999999999999999999999999999999999",
            "{}}",
            "(,)",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
        let deep = "(".repeat(100) + &")".repeat(100);
        assert!(parse(&deep).unwrap_err().contains("nested"));
    }
}
