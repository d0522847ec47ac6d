//! Text as trusts' systems save it: UTF-8 with or without a byte-order mark, UTF-16 (Excel's
//! "Unicode text"), or Windows-1252 (Excel's default "CSV" on Windows). The choice is made
//! from the bytes, never guessed from the file name, and reported back to the user.

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

/// Decode a text file. Valid UTF-8 is taken as it is; anything else that is not UTF-16 is
/// read as Windows-1252, which maps every byte to a character, so decoding never fails.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, Encoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF")
        && let Ok(s) = std::str::from_utf8(rest)
    {
        return (Cow::Borrowed(s), Encoding::Utf8Bom);
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (text, _, _) = encoding_rs::UTF_16LE.decode(bytes);
        return (Cow::Owned(text.into_owned()), Encoding::Utf16);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), Encoding::Utf8),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (Cow::Owned(text.into_owned()), Encoding::Windows1252)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_encoding_is_recognised() {
        assert_eq!(decode(b"a,b").1, Encoding::Utf8);
        assert_eq!(
            decode(b"\xEF\xBB\xBFa,b"),
            (Cow::Borrowed("a,b"), Encoding::Utf8Bom)
        );
        let (t, e) = decode(b"Caf\xe9 \x80");
        assert_eq!((t.as_ref(), e), ("Café €", Encoding::Windows1252));
        let (t, e) = decode(b"\xFF\xFEa\x00,\x00b\x00");
        assert_eq!((t.as_ref(), e), ("a,b", Encoding::Utf16));
    }
}
