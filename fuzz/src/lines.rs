//! The `ratings_lines` target: what flash-ingest does with a delimited ratings file before
//! and after polars reads it, with flash-ingest's own code (see the `#[path]` modules of the
//! crate root): the first line read as a header (or as positional columns), the separator
//! guessed, fields split with quotes honoured, and the line-by-line diagnosis that names the
//! first bad line and value, with the rating scale checked.
//!
//! The first input byte chooses the options; the rest is the file:
//! bit 0 no header, bits 1-2 the separator (guessed, ',', tab, ';'), bit 3 a 1..10 scale
//! instead of MovieLens', bit 4 a scale parsed from the file's first line.

use std::io::{BufRead, BufReader};

use crate::columns::ColumnRoles;
use crate::diagnose::{find_first_bad_line, DelimitedLayout};
use crate::text::{clean_line, split_fields};
use crate::{with_file, IngestError, Position, RatingScale};

/// A quoted value is cut after 80 characters, plus a short "... (N bytes)" suffix.
const MAX_QUOTED_CHARS: usize = 80 + 32;

/// Runs one input; panics if the reader breaks its contract.
pub fn check(data: &[u8]) {
    let Some((&control, file)) = data.split_first() else { return };
    let has_header = control & 1 == 0;
    let separator = [None, Some(b','), Some(b'\t'), Some(b';')][usize::from((control >> 1) & 3)];
    let ten = RatingScale { min: 1.0, max: 10.0 };
    let mut scale = if control & 8 == 0 { RatingScale::MOVIELENS } else { ten };

    with_file("ratings.csv", file, |path| {
        // As `read::read_first_line`: up to the first '\n', cleaned as a first line.
        let mut reader = BufReader::new(std::fs::File::open(path).unwrap());
        let mut raw = Vec::new();
        if reader.read_until(b'\n', &mut raw).unwrap() == 0 {
            return;
        }
        let first_line = clean_line(&raw, true).into_owned();
        if control & 16 != 0 {
            match RatingScale::parse(&first_line) {
                Ok(parsed) => {
                    assert!(parsed.min <= parsed.max && parsed.min.is_finite());
                    assert!(parsed.check(parsed.min).is_ok() && parsed.check(parsed.max).is_ok());
                    assert!(parsed.check(f64::NAN).is_err());
                    scale = parsed;
                }
                Err(reason) => assert!(!reason.is_empty()),
            }
        }

        // As `read::read_delimited`.
        let separator = separator.unwrap_or(if first_line.contains('\t') { b'\t' } else { b',' });
        let names = split_fields(&first_line, separator);
        assert!(!names.is_empty());
        let roles = if has_header {
            ColumnRoles::from_header(&names)
        } else {
            ColumnRoles::by_position(names.len())
        };
        let roles = match roles {
            Ok(roles) => roles,
            Err(reason) => {
                let error = IngestError::bad_value(path, Position::Line(1), &first_line, reason);
                check_error(&error, 1, file);
                return;
            }
        };
        for index in [roles.user, roles.item, roles.rating].into_iter().chain(roles.timestamp) {
            assert!(index < roles.n_fields, "role {index} outside {} fields", roles.n_fields);
        }
        assert_eq!(roles.n_fields, names.len());

        let layout = DelimitedLayout { separator, has_header, roles };
        if let Err(error) = find_first_bad_line(path, &layout, scale) {
            let first_data_line = if has_header { 2 } else { 1 };
            check_error(&error, first_data_line, file);
        }
    });
}

/// A refusal names the file, a line that exists (at or after `first_line`) and a short value.
fn check_error(error: &IngestError, first_line: u64, file: &[u8]) {
    let message = error.to_string();
    assert!(message.contains("ratings.csv"), "message without the file: {message}");
    match error {
        IngestError::BadValue { position: Position::Line(line), value, reason, .. } => {
            let newlines = file.iter().filter(|&&b| b == b'\n').count() as u64;
            let lines = newlines + u64::from(file.last().is_some_and(|&b| b != b'\n'));
            assert!(
                (first_line..=lines).contains(line),
                "line {line} outside {first_line}..={lines}: {message}"
            );
            assert!(value.chars().count() <= MAX_QUOTED_CHARS, "value quoted whole: {message}");
            assert!(!reason.is_empty());
        }
        other => panic!("unexpected kind of refusal: {other:?}"),
    }
}
