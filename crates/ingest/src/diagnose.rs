//! The slow, exact reading of a delimited file, used only when the fast polars reading
//! failed or disagreed, to name the first offending line and value.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::columns::ColumnRoles;
use crate::text::{clean_line, split_fields};
use crate::{IngestError, Position, RatingScale};

/// How a delimited ratings file is laid out.
#[derive(Clone, Debug)]
pub(crate) struct DelimitedLayout {
    pub separator: u8,
    pub has_header: bool,
    pub roles: ColumnRoles,
}

/// Reads `path` line by line and returns the first violation of the ratings rules, or
/// `Ok(())` when every line is valid.
pub(crate) fn find_first_bad_line(
    path: &Path,
    layout: &DelimitedLayout,
    scale: RatingScale,
) -> Result<(), IngestError> {
    scan_lines(path, layout.has_header, |line| check_line(line, layout, scale))
}

/// Calls `check` on every data line of `path` (1-based numbering, header skipped when
/// `has_header`) and turns its first failure, `(offending text, rule)`, into an error.
pub(crate) fn scan_lines<F>(path: &Path, has_header: bool, check: F) -> Result<(), IngestError>
where
    F: Fn(&str) -> Result<(), (String, String)>,
{
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut raw = Vec::new();
    let mut line_number = 0u64;
    // Blank lines at the end of a file end it (polars and most writers agree); one followed
    // by data is an error, reported once that data shows up.
    let mut first_blank: Option<(u64, String)> = None;
    loop {
        raw.clear();
        let n = reader.read_until(b'\n', &mut raw).map_err(|e| IngestError::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        line_number += 1;
        let line = clean_line(&raw, line_number == 1);
        if line_number == 1 && has_header {
            continue;
        }
        if line.trim().is_empty() {
            first_blank.get_or_insert((line_number, line.into_owned()));
            continue;
        }
        if let Some((blank_line, text)) = first_blank {
            let reason = "empty line before more data";
            return Err(IngestError::bad_value(path, Position::Line(blank_line), &text, reason));
        }
        check(&line).map_err(|(value, reason)| {
            IngestError::bad_value(path, Position::Line(line_number), &value, reason)
        })?;
    }
}

/// Checks one data line; on failure returns the offending text and the rule it breaks.
///
/// The rules follow polars', so that a line polars refuses is found here: spaces may lead a
/// number but not trail it (`' 3'` is read, `'3 '` is refused and quoted as such).
fn check_line(
    line: &str,
    layout: &DelimitedLayout,
    scale: RatingScale,
) -> Result<(), (String, String)> {
    if line.trim().is_empty() {
        return Err((line.to_string(), "empty line".into()));
    }
    let fields = split_fields(line, layout.separator);
    let roles = &layout.roles;
    if fields.len() != roles.n_fields {
        let reason = format!("{} fields, expected {}", fields.len(), roles.n_fields);
        return Err((line.to_string(), reason));
    }

    let integer = |index: usize, what: &str| -> Result<(), (String, String)> {
        let text = fields[index].trim_start();
        text.parse::<i64>()
            .map(|_| ())
            .map_err(|_| (text.to_string(), format!("{what} is not a 64-bit integer")))
    };
    integer(roles.user, "user id")?;
    integer(roles.item, "item id")?;
    if let Some(timestamp) = roles.timestamp {
        integer(timestamp, "timestamp")?;
    }

    let text = fields[roles.rating].trim_start();
    let rating: f64 =
        text.parse().map_err(|_| (text.to_string(), "rating is not a number".to_string()))?;
    scale.check(rating).map_err(|reason| (text.to_string(), reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> DelimitedLayout {
        DelimitedLayout {
            separator: b',',
            has_header: true,
            roles: ColumnRoles::by_position(4).unwrap(),
        }
    }

    fn reason(line: &str) -> String {
        let (_, reason) = check_line(line, &layout(), RatingScale::MOVIELENS).unwrap_err();
        reason
    }

    #[test]
    fn each_rule_is_named() {
        assert!(check_line("1,2,3.5,100", &layout(), RatingScale::MOVIELENS).is_ok());
        assert_eq!(reason("1,2,3.5"), "3 fields, expected 4");
        assert_eq!(reason("1,2,3.5,100,9"), "5 fields, expected 4");
        assert_eq!(reason("x,2,3.5,100"), "user id is not a 64-bit integer");
        assert_eq!(reason("1,99999999999999999999,3.5,1"), "item id is not a 64-bit integer");
        assert_eq!(reason("1,2,good,1"), "rating is not a number");
        assert!(reason("1,2,NaN,1").contains("not finite"));
        assert!(reason("1,2,inf,1").contains("not finite"));
        assert!(reason("1,2,5.5,1").contains("outside the scale"));
        assert!(reason("1,2,-1,1").contains("outside the scale"));
        assert_eq!(reason(""), "empty line");
        assert!(check_line(" 1, 2, 3.5, 100", &layout(), RatingScale::MOVIELENS).is_ok());
        assert_eq!(reason("1,2 ,3.5,100"), "item id is not a 64-bit integer");
        assert_eq!(reason("1,2,3.5 ,100"), "rating is not a number");
    }
}
