//! Text as trusts' systems save it: UTF-8 with or without a byte-order mark, UTF-16 with its
//! byte-order mark (Excel's "Unicode text"), or Windows-1252 (Excel's default "CSV" on
//! Windows). The choice is made from the bytes, never guessed from the file name, and reported
//! back to the user. A file is one encoding: bytes that fit none of these are refused, naming
//! the line and column of the first bad byte, rather than read as something else.
//!
//! The rule, as docs/formats.md states it:
//! - a UTF-8 byte-order mark means UTF-8: every byte after it must be UTF-8;
//! - a UTF-16 byte-order mark means UTF-16 (either byte order): every unit must be UTF-16;
//! - without a mark, valid UTF-8 is UTF-8;
//! - a file holding some UTF-8 characters (multi-byte sequences) and some bytes that are not
//!   UTF-8 is refused as not valid UTF-8: it is not re-read as Windows-1252, which would store
//!   "CafÃ©" for "Café";
//! - a file with bytes 0x80-0xFF but no UTF-8 sequence at all is Windows-1252, unless it holds
//!   one of the five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D);
//! - images, PDFs, archives and other binary files are refused as not text, by their signature
//!   or by the NUL bytes that text never holds.

use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16,
    Windows1252,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with byte-order mark",
            Encoding::Utf16 => "UTF-16",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// Why the bytes are not text in one accepted encoding, and where (1-based line and column in
/// characters, as an editor shows them).
pub type DecodeError = crate::FileError;

const SAVE_AS: &str = "expected the whole file in one encoding: UTF-8 (in Excel: Save As \"CSV UTF-8\"), UTF-16 with its byte-order mark, or Windows-1252";

/// Decode a text file in exactly one encoding, or say why it is not text.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), DecodeError> {
    if let Some(what) = binary_signature(bytes) {
        return Err(not_text(what));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(s) => Ok((Cow::Borrowed(s), Encoding::Utf8Bom)),
            Err(e) => Err(utf8_error(
                rest,
                e.valid_up_to(),
                "the file starts with a UTF-8 byte-order mark, so all of it must be UTF-8",
            )),
        };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, u16::from_le_bytes).map(|s| (Cow::Owned(s), Encoding::Utf16));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, u16::from_be_bytes).map(|s| (Cow::Owned(s), Encoding::Utf16));
    }
    if looks_like_utf16_without_mark(bytes) {
        return Err(DecodeError {
            file: String::new(),
            line: 1,
            column: 1,
            message: format!(
                "the file looks like UTF-16 text without its byte-order mark (every other byte is 0); {SAVE_AS}"
            ),
        });
    }
    let bad = match std::str::from_utf8(bytes) {
        Ok(s) => return Ok((Cow::Borrowed(s), Encoding::Utf8)),
        Err(e) => e.valid_up_to(),
    };
    if let Some(example) = first_utf8_multibyte(bytes) {
        return Err(utf8_error(
            bytes,
            bad,
            &format!(
                "the file holds UTF-8 characters (such as '{}' on line {}) and bytes that are not UTF-8, so it is neither UTF-8 nor Windows-1252",
                example.0, example.1
            ),
        ));
    }
    if let Some(at) = bytes
        .iter()
        .position(|b| matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D))
    {
        let (line, line_start) = line_of(bytes, at);
        return Err(DecodeError {
            file: String::new(),
            line,
            column: at - line_start + 1,
            message: format!(
                "byte 0x{:02X} at line {line} column {} is neither UTF-8 nor Windows-1252 text; {SAVE_AS}",
                bytes[at],
                at - line_start + 1
            ),
        });
    }
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    Ok((Cow::Owned(text.into_owned()), Encoding::Windows1252))
}

fn not_text(what: &str) -> DecodeError {
    DecodeError {
        file: String::new(),
        line: 1,
        column: 1,
        message: format!(
            "the file is not a text file (it looks like {what}); expected a CSV file or an Excel workbook"
        ),
    }
}

/// Well-known signatures of files that are not text (an .xlsx or .xls is recognised before
/// this is asked).
pub fn binary_signature(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 12] = [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"%PDF-", "a PDF document"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"Rar!\x1A\x07", "a RAR archive"),
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
        (b"SQLite format 3\x00", "an SQLite database"),
        (b"{\\rtf", "a Rich Text (RTF) document"),
    ];
    SIGNATURES
        .iter()
        .find(|(sig, _)| bytes.starts_with(sig))
        .map(|(_, what)| *what)
        .or_else(|| {
            // Text never holds NUL bytes; a file with several in its first few kilobytes is
            // binary (UTF-16 is recognised by its byte-order mark before this).
            let head = &bytes[..bytes.len().min(4096)];
            let nul = head.iter().filter(|b| **b == 0).count();
            (nul >= 8 && !looks_like_utf16_without_mark(bytes)).then_some("binary data")
        })
}

/// Half the bytes of the start are 0, all at even or all at odd positions: UTF-16 of mostly
/// ASCII text, saved without its byte-order mark.
fn looks_like_utf16_without_mark(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096) & !1];
    if head.len() < 8 {
        return false;
    }
    let pairs = head.len() / 2;
    let even = head.iter().step_by(2).filter(|b| **b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    (even * 10 >= pairs * 9 && odd == 0) || (odd * 10 >= pairs * 9 && even == 0)
}

/// The first valid multi-byte UTF-8 character, and its line.
fn first_utf8_multibyte(bytes: &[u8]) -> Option<(char, usize)> {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let len = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => {
                i += 1;
                continue;
            }
        };
        if let Some(seq) = bytes.get(i..i + len)
            && let Ok(s) = std::str::from_utf8(seq)
            && let Some(c) = s.chars().next()
        {
            return Some((c, line_of(bytes, i).0));
        }
        i += 1;
    }
    None
}

/// The 1-based line of byte `at`, and the byte offset where that line starts.
fn line_of(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    (line, start)
}

fn utf8_error(bytes: &[u8], bad: usize, why: &str) -> DecodeError {
    let (line, line_start) = line_of(bytes, bad);
    // The line up to the bad byte is valid UTF-8 (everything before `bad` is).
    let column = std::str::from_utf8(&bytes[line_start..bad]).map_or(1, |s| s.chars().count() + 1);
    DecodeError {
        file: String::new(),
        line,
        column,
        message: format!(
            "not valid UTF-8 at line {line} column {column} (byte 0x{:02X}): {why}; {SAVE_AS}",
            bytes.get(bad).copied().unwrap_or(0)
        ),
    }
}

/// UTF-16 after its byte-order mark; an unpaired surrogate or a lone last byte is refused.
fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, DecodeError> {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.push(c),
            Err(e) => {
                return Err(text_error(
                    &out,
                    &format!(
                        "an unpaired UTF-16 surrogate (0x{:04X})",
                        e.unpaired_surrogate()
                    ),
                ));
            }
        }
    }
    if bytes.len() % 2 == 1 {
        return Err(text_error(
            &out,
            "a lone byte at the end (UTF-16 comes in pairs of bytes: is the file cut short?)",
        ));
    }
    Ok(out)
}

/// An error just after the text decoded so far.
fn text_error(decoded: &str, what: &str) -> DecodeError {
    let line = decoded.matches('\n').count() + 1;
    let column = decoded
        .rsplit('\n')
        .next()
        .map_or(1, |l| l.chars().count() + 1);
    DecodeError {
        file: String::new(),
        line,
        column,
        message: format!("not valid UTF-16 at line {line} column {column}: {what}; {SAVE_AS}"),
    }
}

/// The first control character in decoded text (other than tab, line feed and carriage
/// return): its line, column and a name for it. Text never holds them; a NUL inside a field
/// would cut a name short where it is stored.
pub fn first_control(text: &str) -> Option<(usize, usize, String)> {
    // A scan of the bytes (every import passes here): controls below U+0080 are single bytes,
    // U+0080-U+009F are 0xC2 0x80-0x9F, and U+FEFF is 0xEF 0xBB 0xBF.
    let bytes = text.as_bytes();
    let at = bytes.iter().enumerate().position(|(i, b)| match *b {
        b'\t' | b'\n' | b'\r' => false,
        0..0x20 | 0x7F => true,
        0xC2 => bytes.get(i + 1).is_some_and(|n| (0x80..0xA0).contains(n)),
        0xEF => bytes.get(i + 1..i + 3) == Some(b"\xBB\xBF".as_slice()),
        _ => false,
    })?;
    let c = text[at..].chars().next()?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |l| l.chars().count() + 1);
    Some((line, column, control_name(c)))
}

pub fn is_control(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FEFF}'
}

pub fn control_name(c: char) -> String {
    match c {
        '\0' => "a NUL character (byte 0x00)".into(),
        '\u{FEFF}' => "a byte-order mark (U+FEFF) inside the text".into(),
        c => format!("the control character U+{:04X}", c as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(b: &[u8]) -> (String, Encoding) {
        let (t, e) = decode(b).unwrap();
        (t.into_owned(), e)
    }

    #[test]
    fn each_encoding_is_recognised() {
        assert_eq!(ok(b"a,b").1, Encoding::Utf8);
        assert_eq!(ok(b"\xEF\xBB\xBFa,b"), ("a,b".into(), Encoding::Utf8Bom));
        assert_eq!(
            ok(b"Caf\xe9 \x80"),
            ("Café €".into(), Encoding::Windows1252)
        );
        assert_eq!(
            ok(b"\xFF\xFEa\x00,\x00b\x00"),
            ("a,b".into(), Encoding::Utf16)
        );
        assert_eq!(
            ok(b"\xFE\xFF\x00a\x00,\x00b"),
            ("a,b".into(), Encoding::Utf16)
        );
    }

    #[test]
    fn a_file_is_one_encoding() {
        // UTF-8 "Café" and, further down, a byte that is not UTF-8.
        let e = decode(b"a,b\nCaf\xC3\xA9,1\nx,2\nab\xE9,3\n").unwrap_err();
        assert_eq!((e.line, e.column), (4, 3));
        assert!(
            e.message
                .starts_with("not valid UTF-8 at line 4 column 3 (byte 0xE9)"),
            "{}",
            e.message
        );
        assert!(e.message.contains("such as 'é' on line 2"), "{}", e.message);
        // A byte-order mark says UTF-8.
        let e = decode(b"\xEF\xBB\xBFOrgCode\n1\n2\nx\xFF\n").unwrap_err();
        assert_eq!((e.line, e.column), (4, 2));
        assert!(e.message.contains("byte-order mark"));
        // Bytes Windows-1252 does not define.
        let e = decode(b"a\nb\x81c").unwrap_err();
        assert_eq!((e.line, e.column), (2, 2));
        // UTF-16 with an unpaired surrogate, and without a mark.
        let e = decode(b"\xFF\xFEa\x00\n\x00b\x00\x00\xD8").unwrap_err();
        assert_eq!((e.line, e.column), (2, 2));
        assert!(
            decode(b"a\x00,\x00b\x00\n\x00c\x00,\x00")
                .unwrap_err()
                .message
                .contains("without its byte-order mark")
        );
    }

    #[test]
    fn binary_files_are_named() {
        let e = decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").unwrap_err();
        assert!(
            e.message
                .contains("not a text file (it looks like a PNG image)")
        );
        assert!(decode(b"%PDF-1.7\n").unwrap_err().message.contains("PDF"));
        let mut noise = vec![1u8, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 3];
        noise.extend(b"xyz");
        assert!(decode(&noise).unwrap_err().message.contains("binary data"));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_or_are_refused_without_panicking(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            if let Ok((text, _)) = decode(&bytes) {
                let _ = first_control(&text);
            }
        }

        #[test]
        fn the_byte_scan_finds_what_is_control_finds(s in "\\PC{0,20}[\u{0}-\u{a0}\u{feff}]?\\PC{0,20}") {
            let by_chars = s.char_indices().find(|(_, c)| is_control(*c)).map(|(i, _)| i);
            let by_bytes = first_control(&s).map(|(l, c, _)| (l, c));
            proptest::prop_assert_eq!(by_chars.is_some(), by_bytes.is_some());
        }
    }

    #[test]
    fn control_characters_are_located() {
        assert_eq!(
            first_control("a,b\nx,Ca\0fé"),
            Some((2, 5, "a NUL character (byte 0x00)".into()))
        );
        assert_eq!(first_control("a\tb\r\nc"), None);
    }
}
