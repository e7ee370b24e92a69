//! Reading a ratings file (CSV, TSV or Parquet) with polars into [`RawRatings`].
//!
//! The fast path is polars with a fixed schema. Whenever it fails, or its result breaks a
//! rule (a null, a rating off the scale, a row count that disagrees with the line count),
//! the file is re-read line by line by [`find_first_bad_line`], which names the first
//! offending line and value. Errors are rare, so their cost does not matter; the happy path
//! pays one extra pass that only counts newlines.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use flash_matrix::MappedFile;
use polars::prelude::*;

use crate::columns::ColumnRoles;
use crate::diagnose::{find_first_bad_line, DelimitedLayout};
use crate::raw::{RawRatings, RowNumbering};
use crate::text::{clean_line, split_fields};
use crate::{IngestError, Position, RatingScale};

/// How to read a ratings file.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Field separator; `None` guesses from the first line (a tab if it has one, else a comma).
    pub separator: Option<u8>,
    /// Whether the first line names the columns (otherwise `user, item, rating[, timestamp]`).
    pub has_header: bool,
    /// The interval every rating must lie in.
    pub scale: RatingScale,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { separator: None, has_header: true, scale: RatingScale::MOVIELENS }
    }
}

/// Whether a path names a Parquet file, by its extension.
pub fn is_parquet(path: &Path) -> bool {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    matches!(extension.to_ascii_lowercase().as_str(), "parquet" | "pq")
}

/// Reads and validates every rating of `path`.
pub(crate) fn read_ratings(path: &Path, options: &ReadOptions) -> Result<RawRatings, IngestError> {
    let _span = tracing::info_span!("read", path = %path.display()).entered();
    let metadata = std::fs::metadata(path).map_err(|e| IngestError::io(path, e))?;
    if !metadata.is_file() {
        return Err(IngestError::layout(path, "not a regular file"));
    }
    if is_parquet(path) {
        read_parquet(path, options.scale)
    } else {
        read_delimited(path, options)
    }
}

fn read_delimited(path: &Path, options: &ReadOptions) -> Result<RawRatings, IngestError> {
    let first_line =
        read_first_line(path)?.ok_or_else(|| IngestError::layout(path, "the file is empty"))?;
    let separator =
        options.separator.unwrap_or(if first_line.contains('\t') { b'\t' } else { b',' });
    let names = split_fields(&first_line, separator);
    let roles = if options.has_header {
        ColumnRoles::from_header(&names)
    } else {
        ColumnRoles::by_position(names.len())
    }
    .map_err(|reason| IngestError::bad_value(path, Position::Line(1), &first_line, reason))?;
    let layout = DelimitedLayout { separator, has_header: options.has_header, roles };

    // Any failure below is re-diagnosed line by line for a precise message.
    let diagnose = |fallback: IngestError| match find_first_bad_line(path, &layout, options.scale) {
        Ok(()) => fallback,
        Err(precise) => precise,
    };

    // polars reads no further than the last non-blank line: blank lines that end a file are
    // no ratings (a line of a lone '\r' would otherwise be a row of nulls).
    let first_data_line = if options.has_header { 2 } else { 1 };
    let data_lines = count_lines(path)?.saturating_sub(first_data_line - 1);
    let frame = polars_read_delimited(path, &layout, &names, data_lines)
        .map_err(|e| diagnose(IngestError::Reader { path: path.into(), message: e.to_string() }))?;
    let numbering = RowNumbering::Lines { first_line: first_data_line };
    let raw = extract(path, &frame, numbering, options.scale).map_err(diagnose)?;

    if data_lines != raw.len() as u64 {
        let reason = format!("read {} ratings from {data_lines} data lines", raw.len());
        return Err(diagnose(IngestError::layout(path, reason)));
    }
    if raw.len() == 0 {
        return Err(IngestError::layout(path, "the file has no ratings"));
    }
    Ok(raw)
}

/// The user, item, rating and (if any) timestamp columns of the first `rows` data rows of a
/// delimited file, in that order whatever their order in the file (a header may name them in
/// any order).
fn polars_read_delimited(
    path: &Path,
    layout: &DelimitedLayout,
    names: &[String],
    rows: u64,
) -> PolarsResult<DataFrame> {
    let roles = &layout.roles;
    let column_name = |index: usize| {
        if layout.has_header {
            PlSmallStr::from(names[index].as_str())
        } else {
            PlSmallStr::from(format!("column_{index}"))
        }
    };
    let fields = (0..names.len()).map(|index| {
        let dtype = if index == roles.rating {
            DataType::Float64
        } else if index == roles.user || index == roles.item || Some(index) == roles.timestamp {
            DataType::Int64
        } else {
            DataType::String
        };
        Field::new(column_name(index), dtype)
    });
    let mut projection = vec![roles.user, roles.item, roles.rating];
    projection.extend(roles.timestamp);
    // polars returns projected columns in file order; `extract` wants them in role order.
    let in_role_order: Vec<PlSmallStr> = projection.iter().map(|&i| column_name(i)).collect();

    CsvReadOptions::default()
        .with_has_header(layout.has_header)
        .with_n_rows(Some(usize::try_from(rows).unwrap_or(usize::MAX)))
        .with_schema(Some(Arc::new(Schema::from_iter(fields))))
        .with_projection(Some(Arc::new(projection)))
        .with_rechunk(true)
        .map_parse_options(|parse| {
            parse.with_separator(layout.separator).with_quote_char(Some(b'"'))
        })
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()?
        .select(in_role_order)
}

fn read_parquet(path: &Path, scale: RatingScale) -> Result<RawRatings, IngestError> {
    let reader_error =
        |e: PolarsError| IngestError::Reader { path: path.into(), message: e.to_string() };
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut frame = ParquetReader::new(file).finish().map_err(reader_error)?;
    let names: Vec<String> = frame.get_column_names().iter().map(|n| n.to_string()).collect();
    let roles =
        ColumnRoles::from_header(&names).map_err(|reason| IngestError::layout(path, reason))?;

    // Cast the needed columns to the types the checks expect, in the roles' order.
    let mut columns = vec![(roles.user, DataType::Int64), (roles.item, DataType::Int64)];
    columns.push((roles.rating, DataType::Float64));
    columns.extend(roles.timestamp.map(|t| (t, DataType::Int64)));
    let mut cast = Vec::with_capacity(columns.len());
    for (index, dtype) in columns {
        let original = &frame.get_columns()[index];
        let converted = original.strict_cast(&dtype).map_err(|_| {
            let row = first_cast_failure(original, &dtype);
            let value = original.get(row).map(|v| v.to_string()).unwrap_or_default();
            let reason = format!("column '{}' holds a value that is not {dtype}", original.name());
            IngestError::bad_value(path, Position::Row(row as u64 + 1), &value, reason)
        })?;
        cast.push(converted);
    }
    frame = DataFrame::new(cast).map_err(reader_error)?;
    let raw = extract(path, &frame, RowNumbering::Rows, scale)?;
    if raw.len() == 0 {
        return Err(IngestError::layout(path, "the file has no ratings"));
    }
    Ok(raw)
}

/// The first row whose value does not survive a cast to `dtype`.
fn first_cast_failure(column: &Column, dtype: &DataType) -> usize {
    let lax = column.cast(dtype).ok();
    (0..column.len())
        .find(|&row| {
            let original_null = column.get(row).map(|v| v.is_null()).unwrap_or(true);
            let cast_null = lax.as_ref().and_then(|c| c.get(row).ok()).is_none_or(|v| v.is_null());
            cast_null && !original_null
        })
        .unwrap_or(0)
}

/// Moves the (user, item, rating[, timestamp]) columns of `frame` into vectors, refusing
/// nulls and ratings off the scale.
fn extract(
    path: &Path,
    frame: &DataFrame,
    numbering: RowNumbering,
    scale: RatingScale,
) -> Result<RawRatings, IngestError> {
    let mut raw = RawRatings { path: path.to_path_buf(), numbering, ..RawRatings::default() };
    let reader_error =
        |e: PolarsError| IngestError::Reader { path: path.into(), message: e.to_string() };
    let columns = frame.get_columns();
    let what = ["user id", "item id", "rating", "timestamp"];
    for (index, column) in columns.iter().enumerate() {
        if let Some(row) = first_null(column) {
            let reason = format!("missing {}", what[index]);
            return Err(IngestError::bad_value(path, raw.position(row), "", reason));
        }
    }

    raw.users = columns[0].i64().map_err(reader_error)?.into_no_null_iter().collect();
    raw.items = columns[1].i64().map_err(reader_error)?.into_no_null_iter().collect();
    let ratings = columns[2].f64().map_err(reader_error)?;
    raw.ratings = Vec::with_capacity(ratings.len());
    for (row, rating) in ratings.into_no_null_iter().enumerate() {
        if let Err(reason) = scale.check(rating) {
            return Err(IngestError::bad_value(
                path,
                raw.position(row),
                &rating.to_string(),
                reason,
            ));
        }
        raw.ratings.push(rating as f32);
    }
    if let Some(timestamps) = columns.get(3) {
        let timestamps = timestamps.i64().map_err(reader_error)?;
        raw.timestamps = Some(timestamps.into_no_null_iter().collect());
    }
    Ok(raw)
}

fn first_null(column: &Column) -> Option<usize> {
    if column.null_count() == 0 {
        return None;
    }
    column.as_materialized_series().is_null().into_iter().position(|null| null == Some(true))
}

/// The first line of `path` (without line end or byte order mark), `None` if the file is
/// empty.
pub(crate) fn read_first_line(path: &Path) -> Result<Option<String>, IngestError> {
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut raw = Vec::new();
    let n = reader.read_until(b'\n', &mut raw).map_err(|e| IngestError::io(path, e))?;
    Ok((n > 0).then(|| clean_line(&raw, true).into_owned()))
}

/// Lines in the file up to its last non-blank one (blank lines at the end do not count; the
/// line check refuses any other blank line).
fn count_lines(path: &Path) -> Result<u64, IngestError> {
    let file = MappedFile::open(path)?;
    let bytes = file.bytes();
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |last| last + 1);
    let newlines = bytes[..end].iter().filter(|&&b| b == b'\n').count() as u64;
    Ok(newlines + u64::from(end > 0))
}
