//! Splitting one line of a norms file into fields: commas separate, a field may be quoted
//! with `"` (a doubled `""` inside is one quote), spaces around a field are trimmed. A field
//! cannot hold a line break, so a file can be read line by line with true line numbers.

/// The fields of `line`, or a message saying what is wrong with the quoting.
pub(crate) fn fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("a closing quote".into()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(',') => out.push(field),
                Some(c) => return Err(format!("a comma after a quoted field, not {c:?}")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        out.push(field.trim().to_string());
                        return Ok(out);
                    }
                    Some(',') => break,
                    Some('"') => return Err("no quote inside an unquoted field".into()),
                    Some(c) => field.push(c),
                }
            }
            out.push(field.trim().to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fields;

    #[test]
    fn splits_and_unquotes() {
        assert_eq!(fields("a, b ,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            fields(r#"meta,label,"ILLUSTRATIVE, NOT CLINICAL ""demo""""#).unwrap(),
            ["meta", "label", r#"ILLUSTRATIVE, NOT CLINICAL "demo""#]
        );
        assert_eq!(fields("a,,").unwrap(), ["a", "", ""]);
        assert_eq!(fields("").unwrap(), [""]);
        assert!(fields(r#"a,"b"#).is_err());
        assert!(fields(r#"a,"b"c"#).is_err());
        assert!(fields(r#"a,b"c"#).is_err());
    }
}
