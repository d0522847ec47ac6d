//! Text files as trusts and analysts save them: the bytes decoded in exactly one encoding
//! (`decode`), read as CSV with the line and column of every field (`csvscan`), and the one
//! error every reader of a file reports: [`FileError`], "this file, this line, this column,
//! this reason". No I/O: callers read the bytes.

pub mod csvscan;
pub mod decode;

use std::fmt;

/// A problem at a place in a file, shown as `FILE:LINE:COLUMN: reason` (lines and columns
/// 1-based, columns in characters as an editor shows them). A reader that is handed bytes
/// without a name (the scanner, the decoder) makes one with [`FileError::at`]; whoever knows the
/// file's name adds it with [`FileError::in_file`]. Until then it shows as `LINE:COLUMN: reason`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl FileError {
    pub fn new(
        file: impl Into<String>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        FileError {
            file: file.into(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A problem at a line and column of a file not named yet.
    pub fn at(line: usize, column: usize, message: impl Into<String>) -> Self {
        FileError::new(String::new(), line, column, message)
    }

    /// The same problem, in the file called `file`.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = file.into();
        self
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}:", self.file)?;
        }
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for FileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_file_line_column_and_reason() {
        let e = FileError::at(3, 7, "expected a number").in_file("data.csv");
        assert_eq!(e.to_string(), "data.csv:3:7: expected a number");
        assert_eq!(FileError::at(1, 1, "x").to_string(), "1:1: x");
    }
}
