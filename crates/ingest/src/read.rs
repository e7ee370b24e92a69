//! Reading a ratings file (CSV, TSV or Parquet) with polars into [`RawRatings`].
//!
//! The fast path is polars with a fixed schema. Whenever it fails, or its result breaks a
//! rule (a null, a rating off the scale, a row count that disagrees with the line count),
//! the file is re-read line by line by [`find_first_bad_line`], which names the first
//! offending line and value. Errors are rare, so their cost does not matter; the happy path
//! pays one extra pass that only counts newlines.
//!
//! A text file is handed to polars in pieces of whole lines (about [`PIECE_BYTES`] each), and
//! each piece's columns are appended to compact [`RawRatings`] columns before the next is
//! read: neither the whole file nor a whole frame of 8-byte columns is ever in memory, which
//! bounds the peak memory of `prepare` (docs/data-layer-benchmarks.md).

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::columns::ColumnRoles;
use crate::diagnose::{find_first_bad_line, DelimitedLayout};
use crate::raw::{RawRatings, RowNumbering, TOO_MANY_IDS};
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
    read_delimited_in_pieces(path, options, PIECE_BYTES)
}

/// [`read_delimited`] with pieces of about `piece_bytes` (tests cut small files in many).
fn read_delimited_in_pieces(
    path: &Path,
    options: &ReadOptions,
    piece_bytes: usize,
) -> Result<RawRatings, IngestError> {
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

    // Blank lines that end a file are no ratings: polars reads no further than the last
    // non-blank byte (a line of a lone '\r' would otherwise be a row of nulls).
    let first_data_line = if options.has_header { 2 } else { 1 };
    let extent = text_extent(path)?;
    let data_lines = extent.lines.saturating_sub(first_data_line - 1);
    let numbering = RowNumbering::Lines { first_line: first_data_line };
    let timestamps = layout.roles.timestamp.is_some();
    let capacity = usize::try_from(data_lines).unwrap_or(0);
    let mut raw = RawRatings::with_capacity(path.into(), numbering, capacity, timestamps);

    let mut pieces = LinePieces::new(path, extent.end, piece_bytes)?;
    let mut header = options.has_header;
    while let Some(piece) = pieces.next_piece()? {
        let frame = polars_read_delimited(piece, header, &layout, &names).map_err(|e| {
            diagnose(IngestError::Reader { path: path.into(), message: e.to_string() })
        })?;
        header = false;
        extract(&mut raw, frame, options.scale).map_err(diagnose)?;
    }

    if data_lines != raw.len() as u64 {
        let reason = format!("read {} ratings from {data_lines} data lines", raw.len());
        return Err(diagnose(IngestError::layout(path, reason)));
    }
    if raw.len() == 0 {
        return Err(IngestError::layout(path, "the file has no ratings"));
    }
    Ok(raw)
}

/// Bytes of text handed to polars at a time (then cut back to the last whole line).
const PIECE_BYTES: usize = 4 << 20;

/// Successive pieces of whole lines of a text file, up to a byte offset, read into one
/// buffer that every piece reuses (a fresh allocation per piece leaves the allocator's heap
/// fragmented, and the process larger, by the time the file is read).
struct LinePieces<'a> {
    path: &'a Path,
    file: std::io::Take<File>,
    piece_bytes: usize,
    buffer: Vec<u8>,
    /// `buffer[handed..]` is the start of a line cut off at the end of the last piece.
    handed: usize,
}

impl<'a> LinePieces<'a> {
    fn new(path: &'a Path, end: u64, piece_bytes: usize) -> Result<Self, IngestError> {
        let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
        let buffer = Vec::with_capacity(piece_bytes.min(end as usize));
        Ok(LinePieces { path, file: file.take(end), piece_bytes, buffer, handed: 0 })
    }

    /// The next piece: the carried bytes, then as much of the file as fills the piece, cut
    /// after its last newline (the rest is carried); `None` at the end.
    fn next_piece(&mut self) -> Result<Option<Cursor<&[u8]>>, IngestError> {
        self.buffer.drain(..self.handed);
        self.handed = 0;
        loop {
            let room = self.piece_bytes.saturating_sub(self.buffer.len());
            let wanted = room.max(self.piece_bytes / 2).max(1) as u64;
            (&mut self.file)
                .take(wanted)
                .read_to_end(&mut self.buffer)
                .map_err(|e| IngestError::io(self.path, e))?;
            if self.file.limit() == 0 {
                // The last piece (or none).
                self.handed = self.buffer.len();
                return Ok((self.handed > 0).then(|| Cursor::new(&self.buffer[..])));
            }
            // More to come: a line cut in two goes with the next piece. A piece without a
            // newline is a line longer than a piece: read on until it ends.
            if let Some(last) = self.buffer.iter().rposition(|&b| b == b'\n') {
                self.handed = last + 1;
                return Ok(Some(Cursor::new(&self.buffer[..self.handed])));
            }
        }
    }
}

/// The user, item, rating and (if any) timestamp columns of one piece of a delimited file
/// (whose first line is the header when `header`), in that order whatever their order in the
/// file (a header may name them in any order).
fn polars_read_delimited(
    piece: Cursor<&[u8]>,
    header: bool,
    layout: &DelimitedLayout,
    names: &[String],
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
        .with_has_header(header)
        .with_schema(Some(Arc::new(Schema::from_iter(fields))))
        .with_projection(Some(Arc::new(projection)))
        .with_rechunk(true)
        .map_parse_options(|parse| {
            parse.with_separator(layout.separator).with_quote_char(Some(b'"'))
        })
        .into_reader_with_file_handle(piece)
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
    let timestamps = roles.timestamp.is_some();
    let rows = frame.height();
    let mut raw = RawRatings::with_capacity(path.into(), RowNumbering::Rows, rows, timestamps);
    extract(&mut raw, frame, scale)?;
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

/// Appends the (user, item, rating[, timestamp]) columns of `frame`, the next rows of `raw`'s
/// file, to `raw`, refusing nulls and ratings off the scale.
fn extract(raw: &mut RawRatings, frame: DataFrame, scale: RatingScale) -> Result<(), IngestError> {
    let path = raw.path.clone();
    let reader_error =
        |e: PolarsError| IngestError::Reader { path: path.clone(), message: e.to_string() };
    let first_row = raw.len();
    let columns = frame.get_columns();
    let what = ["user id", "item id", "rating", "timestamp"];
    for (index, column) in columns.iter().enumerate() {
        if let Some(row) = first_null(column) {
            let reason = format!("missing {}", what[index]);
            return Err(IngestError::bad_value(&path, raw.position(first_row + row), "", reason));
        }
    }

    let users = columns[0].i64().map_err(reader_error)?;
    let items = columns[1].i64().map_err(reader_error)?;
    for (user, item) in users.into_no_null_iter().zip(items.into_no_null_iter()) {
        if !(raw.users.push(user) && raw.items.push(item)) {
            return Err(IngestError::layout(&path, TOO_MANY_IDS));
        }
    }
    let ratings = columns[2].f64().map_err(reader_error)?;
    for (row, rating) in ratings.into_no_null_iter().enumerate() {
        if let Err(reason) = scale.check(rating) {
            let position = raw.position(first_row + row);
            return Err(IngestError::bad_value(&path, position, &rating.to_string(), reason));
        }
        raw.ratings.push(rating as f32);
    }
    if let (Some(column), Some(timestamps)) = (columns.get(3), raw.timestamps.as_mut()) {
        timestamps.extend(column.i64().map_err(reader_error)?.into_no_null_iter());
    }
    Ok(())
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

/// Where a text file's ratings end: past its last non-blank byte (blank lines at the end are
/// no ratings; the line check refuses any other blank line), and how many lines that is.
struct TextExtent {
    end: u64,
    lines: u64,
}

/// One streaming pass over the file (read, not mapped, so that its pages do not count
/// towards the process's memory).
fn text_extent(path: &Path) -> Result<TextExtent, IngestError> {
    let mut file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut buffer = vec![0u8; 1 << 20];
    let (mut offset, mut end) = (0u64, 0u64);
    // Newlines before the last non-blank byte seen, and those after it.
    let (mut newlines, mut trailing_newlines) = (0u64, 0u64);
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(IngestError::io(path, e)),
        };
        let block = &buffer[..n];
        let count = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        match block.iter().rposition(|b| !b.is_ascii_whitespace()) {
            Some(last) => {
                newlines += trailing_newlines + count(&block[..last]);
                trailing_newlines = count(&block[last..]);
                end = offset + last as u64 + 1;
            }
            None => trailing_newlines += count(block),
        }
        offset += n as u64;
    }
    Ok(TextExtent { end, lines: newlines + u64::from(end > 0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of `lines` ratings (user, item, rating, timestamp) under a header.
    fn ratings_file(dir: &Path, lines: usize) -> (std::path::PathBuf, Vec<(i64, i64, f32)>) {
        let mut text = String::from("userId,movieId,rating,timestamp\n");
        let mut expected = Vec::new();
        for line in 0..lines {
            let (user, item, rating) =
                ((line / 7) as i64, (line * 13 % 101) as i64, 0.5 + (line % 10) as f32 * 0.5);
            text.push_str(&format!("{user},{item},{rating},{}\n", 1000 + line));
            expected.push((user, item, rating));
        }
        let path = dir.join("r.csv");
        std::fs::write(&path, text).unwrap();
        (path, expected)
    }

    #[test]
    fn small_pieces_read_the_same_ratings_as_one_piece() {
        let dir = tempfile::tempdir().unwrap();
        let (path, expected) = ratings_file(dir.path(), 500);
        for piece_bytes in [1, 7, 64, 1000, PIECE_BYTES] {
            let raw =
                read_delimited_in_pieces(&path, &ReadOptions::default(), piece_bytes).unwrap();
            let users: Vec<i64> =
                raw.users.index.iter().map(|&i| raw.users.ids[i as usize]).collect();
            let items: Vec<i64> =
                raw.items.index.iter().map(|&i| raw.items.ids[i as usize]).collect();
            let read: Vec<(i64, i64, f32)> = users
                .into_iter()
                .zip(items)
                .zip(&raw.ratings)
                .map(|((u, i), &r)| (u, i, r))
                .collect();
            assert_eq!(read, expected, "pieces of {piece_bytes} bytes");
            let timestamps = raw.timestamps.as_ref().unwrap();
            assert_eq!(timestamps.len(), 500);
            assert_eq!(timestamps[499], 1499);
        }
    }

    #[test]
    fn a_bad_value_in_a_later_piece_is_named_by_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = ratings_file(dir.path(), 300);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("7,8,9.5,1\n");
        std::fs::write(&path, text).unwrap();
        let error = read_delimited_in_pieces(&path, &ReadOptions::default(), 100).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("line 302") && message.contains("9.5"), "{message}");
    }
}
