//! Splitting one text line into fields, the way the line-by-line diagnosis and the header
//! reader need it (polars does the fast reading; this is for the first line and for errors).

/// Splits `line` at `separator`, honouring double quotes (a doubled `""` is a literal quote).
/// A trailing `\r` must already be removed.
pub(crate) fn split_fields(line: &str, separator: u8) -> Vec<String> {
    let separator = separator as char;
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == separator && !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The line without its end-of-line characters and, on the first line, a UTF-8 byte order
/// mark.
pub(crate) fn clean_line(raw: &[u8], first: bool) -> std::borrow::Cow<'_, str> {
    let mut bytes = raw;
    if first {
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    }
    while let Some((b'\n' | b'\r', rest)) = bytes.split_last() {
        bytes = rest;
    }
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_protect_separators() {
        let fields = split_fields(r#"1,"Heat, The (1995)","a ""b""",x"#, b',');
        assert_eq!(fields, ["1", "Heat, The (1995)", r#"a "b""#, "x"]);
        assert_eq!(split_fields("1\t2\t3", b'\t'), ["1", "2", "3"]);
        assert_eq!(split_fields("", b','), [""]);
    }

    #[test]
    fn line_ends_and_bom_are_removed() {
        assert_eq!(clean_line(b"\xEF\xBB\xBFuserId,x\r\n", true), "userId,x");
        assert_eq!(clean_line(b"1,2\n", false), "1,2");
    }
}
