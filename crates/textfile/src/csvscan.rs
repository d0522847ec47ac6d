//! A small, fast CSV reader (RFC 4180: quotes, doubled quotes, CRLF) that remembers where
//! every field starts, so that an error can name its line and column.

use std::borrow::Cow;

/// One field and where it starts in the file.
#[derive(Clone, Debug)]
pub struct Field<'a> {
    pub text: Cow<'a, str>,
    /// 1-based line of the field's first character.
    pub line: usize,
    /// Byte offset of the start of that line, and of the field itself.
    line_start: usize,
    start: usize,
    /// A column given outright (cells of a spreadsheet), instead of computed from offsets.
    fixed_column: u32,
}

impl<'a> Field<'a> {
    /// 1-based column in characters, as an editor shows it (for a spreadsheet cell: the
    /// column number).
    pub fn column(&self, buf: &str) -> usize {
        if self.fixed_column > 0 {
            return self.fixed_column as usize;
        }
        buf.get(self.line_start..self.start)
            .map_or(1, |s| s.chars().count() + 1)
    }

    /// A field at a known line and column, e.g. a spreadsheet cell.
    pub fn at(text: Cow<'a, str>, line: usize, column: usize) -> Field<'a> {
        Field {
            text,
            line,
            line_start: 0,
            start: 0,
            fixed_column: column as u32,
        }
    }
}

/// Where a problem was found, when the reader itself cannot go on.
pub type ScanError = crate::FileError;

impl Reader<'_> {
    /// Bytes read so far, for progress bars.
    pub fn position(&self) -> usize {
        self.pos
    }
}

pub struct Reader<'a> {
    buf: &'a str,
    pos: usize,
    line: usize,
    line_start: usize,
    delimiter: u8,
}

impl<'a> Reader<'a> {
    /// Read `buf` (already checked to be UTF-8, byte-order mark removed).
    pub fn new(buf: &'a str, delimiter: u8) -> Self {
        Reader {
            buf,
            pos: 0,
            line: 1,
            line_start: 0,
            delimiter,
        }
    }

    /// Read the next record into `out`. Returns `Ok(false)` at the end of the input. Blank
    /// lines are skipped.
    pub fn next_record(&mut self, out: &mut Vec<Field<'a>>) -> Result<bool, ScanError> {
        out.clear();
        let bytes = self.buf.as_bytes();
        // Skip blank lines.
        loop {
            if self.pos >= bytes.len() {
                return Ok(false);
            }
            match bytes[self.pos] {
                b'\n' => self.newline(self.pos + 1),
                b'\r' if bytes.get(self.pos + 1) == Some(&b'\n') => self.newline(self.pos + 2),
                _ => break,
            }
        }
        loop {
            let field = self.field()?;
            out.push(field);
            match bytes.get(self.pos) {
                Some(b) if *b == self.delimiter => self.pos += 1,
                Some(b'\n') => {
                    self.newline(self.pos + 1);
                    return Ok(true);
                }
                Some(b'\r') if bytes.get(self.pos + 1) == Some(&b'\n') => {
                    self.newline(self.pos + 2);
                    return Ok(true);
                }
                None => return Ok(true),
                Some(_) => {
                    return Err(self.error_here(
                        "unexpected character after a closing quote; expected a delimiter or the end of the line",
                    ));
                }
            }
        }
    }

    fn newline(&mut self, next: usize) {
        self.pos = next;
        self.line += 1;
        self.line_start = next;
    }

    fn error_here(&self, message: &str) -> ScanError {
        let column = self.buf[self.line_start..self.pos].chars().count() + 1;
        ScanError {
            file: String::new(),
            line: self.line,
            column,
            message: message.to_string(),
        }
    }

    fn field(&mut self) -> Result<Field<'a>, ScanError> {
        let bytes = self.buf.as_bytes();
        let (line, line_start, start) = (self.line, self.line_start, self.pos);
        if bytes.get(self.pos) != Some(&b'"') {
            let end = bytes[self.pos..]
                .iter()
                .position(|b| *b == self.delimiter || *b == b'\n' || *b == b'\r')
                .map_or(bytes.len(), |k| self.pos + k);
            // A lone \r (not before \n) belongs to the field.
            let mut end = end;
            while end < bytes.len() && bytes[end] == b'\r' && bytes.get(end + 1) != Some(&b'\n') {
                end = bytes[end + 1..]
                    .iter()
                    .position(|b| *b == self.delimiter || *b == b'\n' || *b == b'\r')
                    .map_or(bytes.len(), |k| end + 1 + k);
            }
            self.pos = end;
            return Ok(Field {
                text: Cow::Borrowed(&self.buf[start..end]),
                line,
                line_start,
                start,
                fixed_column: 0,
            });
        }
        // Quoted field.
        self.pos += 1;
        let mut owned: Option<String> = None;
        let mut chunk_start = self.pos;
        loop {
            let Some(k) = bytes[self.pos..]
                .iter()
                .position(|b| *b == b'"' || *b == b'\n')
            else {
                return Err(ScanError {
                    file: String::new(),
                    line,
                    column: self.buf[line_start..start].chars().count() + 1,
                    message: "quoted field is never closed; expected a closing \" before the end of the file (is the last line cut short?)".into(),
                });
            };
            let at = self.pos + k;
            if bytes[at] == b'\n' {
                // Newlines inside quotes are part of the field.
                self.line += 1;
                self.line_start = at + 1;
                self.pos = at + 1;
                continue;
            }
            if bytes.get(at + 1) == Some(&b'"') {
                let s = owned.get_or_insert_with(String::new);
                s.push_str(&self.buf[chunk_start..=at]);
                self.pos = at + 2;
                chunk_start = self.pos;
                continue;
            }
            self.pos = at + 1;
            let text = match owned {
                Some(mut s) => {
                    s.push_str(&self.buf[chunk_start..at]);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(&self.buf[chunk_start..at]),
            };
            return Ok(Field {
                text,
                line,
                line_start,
                start,
                fixed_column: 0,
            });
        }
    }
}

/// Remove a UTF-8 byte-order mark and check the text is UTF-8, naming the first bad byte.
pub fn decode_utf8(bytes: &[u8]) -> Result<&str, ScanError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        let column = std::str::from_utf8(&good[line_start..]).map_or(1, |s| s.chars().count() + 1);
        ScanError {
            file: String::new(),
            line,
            column,
            message: "the file is not UTF-8 text; expected UTF-8 (in Excel: Save As \"CSV UTF-8\")"
                .into(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Vec<(String, usize, usize)>> {
        let mut r = Reader::new(text, b',');
        let mut rec = Vec::new();
        let mut out = Vec::new();
        while r.next_record(&mut rec).unwrap() {
            out.push(
                rec.iter()
                    .map(|f| (f.text.to_string(), f.line, f.column(text)))
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn quotes_crlf_and_positions() {
        let rows = all("a,\"b,c\",d\r\n\"x\"\"y\",,\"multi\nline\"\nlast,2,3");
        assert_eq!(rows[0][1], ("b,c".into(), 1, 3));
        assert_eq!(rows[1][0], ("x\"y".into(), 2, 1));
        assert_eq!(rows[1][1], ("".into(), 2, 8));
        assert_eq!(rows[1][2], ("multi\nline".into(), 2, 9));
        assert_eq!(rows[2][0], ("last".into(), 4, 1));
    }

    #[test]
    fn unclosed_quote_is_an_error_with_position() {
        let mut r = Reader::new("a,b\n1,\"oops", b',');
        let mut rec = Vec::new();
        assert!(r.next_record(&mut rec).unwrap());
        let e = r.next_record(&mut rec).unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
    }

    #[test]
    fn bom_is_removed_and_bad_bytes_are_located() {
        assert_eq!(decode_utf8(b"\xEF\xBB\xBFa,b").unwrap(), "a,b");
        let e = decode_utf8(b"a,b\nx,\xE9t\xE9").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
    }
}
