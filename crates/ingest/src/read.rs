//! Reading a ratings file (CSV, TSV or Parquet) into [`RawRatings`].
//!
//! A text file is read in pieces of whole lines (about [`PIECE_BYTES`] each), and each
//! piece's columns are appended to compact [`RawRatings`] columns before the next is read:
//! neither the whole file nor a whole frame of 8-byte columns is ever in memory, which bounds
//! the peak memory of `prepare` (docs/data-layer-benchmarks.md).
//!
//! Each piece goes first to the plain-line parser ([`crate::plain_lines`]), one part per
//! thread; a piece it declines (anything but plain numeric fields) goes to polars with a
//! fixed schema. Whenever polars fails, or its result breaks a rule (a null, a rating off the
//! scale, a row count that disagrees with the line count), the file is re-read line by line
//! by [`find_first_bad_line`], which names the first offending line and value. Errors are
//! rare, so their cost does not matter.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;

use crate::columns::ColumnRoles;
use crate::diagnose::{find_first_bad_line, DelimitedLayout};
use crate::plain_lines::{line_cuts, parse_plain_lines, Declined, PlainColumns, PlainLayout};
use crate::raw::{InternedIds, RawRatings, RowNumbering, TOO_MANY_IDS};
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
    let diagnose = |fallback: IngestError| match find_first_bad_line(path, &layout, options.scale)
    {
        Ok(()) => fallback,
        Err(precise) => precise,
    };

    // Blank lines that end a file are no ratings: nothing past the last non-blank byte is
    // read (a line of a lone '\r' would otherwise be a row of nulls to polars).
    let end = text_end(path)?;
    let first_data_line = if options.has_header { 2 } else { 1 };
    let numbering = RowNumbering::Lines { first_line: first_data_line };
    let timestamps = layout.roles.timestamp.is_some();
    let mut raw = RawRatings::with_capacity(path.into(), numbering, 0, timestamps);

    let plain = PlainLayout::new(separator, &layout.roles);
    // Four parts per thread: with one, a thread whose part ends early waits for the other's
    // (read took 1.09 s against 1.26 s, median of five alternating runs on 33.8M ratings).
    let parts = 4 * rayon::current_num_threads();
    let new_parts = || (0..parts).map(|_| PlainColumns::default()).collect();
    // Two sets of parsed parts: the next piece is parsed into one while the other's rows are
    // appended, so that the two threads rarely wait for a sequential step.
    let (mut parsed, mut parsing): (Vec<PlainColumns>, Vec<PlainColumns>) =
        (new_parts(), new_parts());
    let mut parsed_waits = false;
    let mut header = options.has_header;
    // Bytes whose rows are in `raw`, and those of the parsed piece not yet appended.
    let (mut consumed, mut parsed_bytes) = (0u64, 0u64);
    std::thread::scope(|scope| -> Result<(), IngestError> {
        let pieces = read_pieces_ahead(scope, path, end, piece_bytes);
        for piece in &pieces.received {
            let piece = piece?;
            let body = if header { after_first_line(&piece) } else { &piece[..] };
            let (parse, append) = rayon::join(
                || parse_in_parts(body, &plain, &mut parsing),
                || append_all(&mut raw, &parsed, parsed_waits, options.scale),
            );
            append.map_err(diagnose)?;
            consumed += std::mem::take(&mut parsed_bytes);
            parsed_waits = parse.is_ok();
            if parse.is_ok() {
                std::mem::swap(&mut parsed, &mut parsing);
                parsed_bytes = piece.len() as u64;
            } else {
                let frame = polars_read_delimited(Cursor::new(&piece), header, &layout, &names)
                    .map_err(|e| {
                        diagnose(IngestError::Reader { path: path.into(), message: e.to_string() })
                    })?;
                // polars passes over blank lines: every line must have become a row.
                let lines = count_lines(body);
                if frame.height() != lines {
                    let reason = format!("read {} ratings from {lines} lines", frame.height());
                    return Err(diagnose(IngestError::layout(path, reason)));
                }
                extract(&mut raw, frame, options.scale).map_err(diagnose)?;
                consumed += piece.len() as u64;
            }
            pieces.recycle(piece);
            reserve_for_the_rest(&mut raw, consumed, end);
            header = false;
        }
        append_all(&mut raw, &parsed, parsed_waits, options.scale).map_err(diagnose)
    })?;

    if raw.len() == 0 {
        return Err(IngestError::layout(path, "the file has no ratings"));
    }
    Ok(raw)
}

/// Appends the rows of every part, in order, when `waiting` (nothing otherwise).
fn append_all(
    raw: &mut RawRatings,
    parts: &[PlainColumns],
    waiting: bool,
    scale: RatingScale,
) -> Result<(), IngestError> {
    if waiting {
        for part in parts {
            append_plain(raw, part, scale)?;
        }
    }
    Ok(())
}

/// Pieces of whole lines read by a thread of their own, one piece ahead of their parsing.
struct PiecesAhead {
    received: Receiver<Result<Vec<u8>, IngestError>>,
    returned: Sender<Vec<u8>>,
}

impl PiecesAhead {
    /// Gives a piece's buffer back for a later piece.
    fn recycle(&self, buffer: Vec<u8>) {
        // The reader may have finished; the buffer is then simply dropped.
        let _ = self.returned.send(buffer);
    }
}

/// Starts the reader of `path`'s pieces (up to byte `end`) in `scope`.
fn read_pieces_ahead<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    path: &'scope Path,
    end: u64,
    piece_bytes: usize,
) -> PiecesAhead {
    let (sender, received) = sync_channel(1);
    let (returned, buffers) = channel::<Vec<u8>>();
    scope.spawn(move || {
        let mut pieces = match LinePieces::new(path, end, piece_bytes) {
            Ok(pieces) => pieces,
            Err(error) => return drop(sender.send(Err(error))),
        };
        loop {
            let buffer = buffers.try_recv().unwrap_or_default();
            let next = match pieces.next_piece(buffer) {
                Ok(Some(piece)) => Ok(piece),
                Ok(None) => return,
                Err(error) => Err(error),
            };
            let failed = next.is_err();
            // A closed channel means the consumer stopped on an error: stop reading too.
            if sender.send(next).is_err() || failed {
                return;
            }
        }
    });
    PiecesAhead { received, returned }
}

/// Parses `text` with the plain-line parser, cut at line ends into as many parts as `parts`
/// has (each part's rows in its entry, in file order); declined if any part is.
fn parse_in_parts(
    text: &[u8],
    layout: &PlainLayout,
    parts: &mut [PlainColumns],
) -> Result<(), Declined> {
    let cuts = line_cuts(text, parts.len());
    parts.par_iter_mut().enumerate().try_for_each(|(index, part)| {
        part.clear();
        parse_plain_lines(&text[cuts[index]..cuts[index + 1]], layout, part)
    })
}

/// The text after the first line (the header).
fn after_first_line(piece: &[u8]) -> &[u8] {
    match piece.iter().position(|&b| b == b'\n') {
        Some(newline) => &piece[newline + 1..],
        None => &[],
    }
}

/// Lines in `text`, the last one counted whether or not it ends with a newline.
fn count_lines(text: &[u8]) -> usize {
    let newlines = text.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(text.last().is_some_and(|&b| b != b'\n'))
}

/// After a piece: room for the rows the rest of the file should hold, at the rate of rows
/// per byte in the `consumed` bytes whose rows `raw` holds (plus a margin), so that the
/// columns grow about once rather than doubling (which would leave the process with twice the
/// memory it needs).
fn reserve_for_the_rest(raw: &mut RawRatings, consumed: u64, end: u64) {
    if consumed == 0 || raw.len() == 0 || raw.ratings.capacity() > raw.len() * 2 {
        return;
    }
    let expected = raw.len() as f64 * end as f64 / consumed as f64;
    let wanted = (expected * 1.05) as usize + 1024;
    raw.reserve_exact(wanted.saturating_sub(raw.len()));
}

/// Bytes of text read as one piece (then cut back to the last whole line).
const PIECE_BYTES: usize = 4 << 20;

/// Successive pieces of whole lines of a text file, up to a byte offset, each read into a
/// buffer the caller hands in (and may recycle: a fresh allocation per piece leaves the
/// allocator's heap fragmented, and the process larger, by the time the file is read).
struct LinePieces<'a> {
    path: &'a Path,
    file: std::io::Take<File>,
    piece_bytes: usize,
    /// The start of a line cut off at the end of the last piece.
    carried: Vec<u8>,
}

impl<'a> LinePieces<'a> {
    fn new(path: &'a Path, end: u64, piece_bytes: usize) -> Result<Self, IngestError> {
        let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
        Ok(LinePieces { path, file: file.take(end), piece_bytes, carried: Vec::new() })
    }

    /// The next piece, in `buffer`: the carried bytes, then as much of the file as fills the
    /// piece, cut after its last newline (the rest is carried); `None` at the end.
    fn next_piece(&mut self, mut buffer: Vec<u8>) -> Result<Option<Vec<u8>>, IngestError> {
        buffer.clear();
        buffer.append(&mut self.carried);
        loop {
            let room = self.piece_bytes.saturating_sub(buffer.len());
            let wanted = room.max(self.piece_bytes / 2).max(1) as u64;
            (&mut self.file)
                .take(wanted)
                .read_to_end(&mut buffer)
                .map_err(|e| IngestError::io(self.path, e))?;
            if self.file.limit() == 0 {
                // The last piece (or none).
                return Ok((!buffer.is_empty()).then_some(buffer));
            }
            // More to come: a line cut in two goes with the next piece. A piece without a
            // newline is a line longer than a piece: read on until it ends.
            if let Some(last) = buffer.iter().rposition(|&b| b == b'\n') {
                self.carried.extend_from_slice(&buffer[last + 1..]);
                buffer.truncate(last + 1);
                return Ok(Some(buffer));
            }
        }
    }
}

/// The user, item, rating and (if any) timestamp columns of one piece of a delimited file
/// (whose first line is the header when `header`), in that order whatever their order in the
/// file (a header may name them in any order).
fn polars_read_delimited(
    piece: Cursor<&Vec<u8>>,
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

    let users = column_values(columns[0].i64().map_err(reader_error)?);
    let items = column_values(columns[1].i64().map_err(reader_error)?);
    let ratings = column_values(columns[2].f64().map_err(reader_error)?);
    let timestamps = match columns.get(3) {
        Some(column) => column_values(column.i64().map_err(reader_error)?),
        None => Cow::Borrowed(&[][..]),
    };
    append_columns(raw, &users, &items, &ratings, &timestamps, scale)
}

/// Appends the rows the plain-line parser read from one part of a piece.
fn append_plain(
    raw: &mut RawRatings,
    part: &PlainColumns,
    scale: RatingScale,
) -> Result<(), IngestError> {
    append_columns(raw, &part.users, &part.items, &part.ratings, &part.timestamps, scale)
}

/// Appends rows to `raw`, interning their ids, after refusing the first rating off the scale
/// (named by its line). `timestamps` is read only when `raw` keeps them. The two id columns
/// are interned side by side, each by one thread, and each thread copies one more column.
fn append_columns(
    raw: &mut RawRatings,
    users: &[i64],
    items: &[i64],
    ratings: &[f64],
    timestamps: &[i64],
    scale: RatingScale,
) -> Result<(), IngestError> {
    if let Some(row) = ratings.iter().position(|&rating| scale.check(rating).is_err()) {
        let rating = ratings[row];
        let reason = scale.check(rating).expect_err("the rating was refused");
        let position = raw.position(raw.len() + row);
        return Err(IngestError::bad_value(&raw.path, position, &rating.to_string(), reason));
    }
    let (user_column, item_column) = (&mut raw.users, &mut raw.items);
    let (kept_ratings, kept_timestamps) = (&mut raw.ratings, &mut raw.timestamps);
    let (users_fit, items_fit) = rayon::join(
        || {
            kept_ratings.extend(ratings.iter().map(|&rating| rating as f32));
            intern(user_column, users)
        },
        || {
            if let Some(kept) = kept_timestamps.as_mut() {
                kept.extend(timestamps);
            }
            intern(item_column, items)
        },
    );
    if !(users_fit && items_fit) {
        return Err(IngestError::layout(&raw.path, TOO_MANY_IDS));
    }
    Ok(())
}

/// Interns every id; `false` past `u32::MAX` distinct ids.
fn intern(column: &mut InternedIds, ids: &[i64]) -> bool {
    ids.iter().all(|&id| column.push(id))
}

/// The values of a column without nulls, borrowed when they lie in one chunk.
fn column_values<T: PolarsNumericType>(values: &ChunkedArray<T>) -> Cow<'_, [T::Native]> {
    match values.cont_slice() {
        Ok(slice) => Cow::Borrowed(slice),
        Err(_) => Cow::Owned(values.into_no_null_iter().collect()),
    }
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

/// Where a text file's ratings end: past its last non-blank byte, found by reading backwards
/// from the end (blank lines at the end are no ratings; any other blank line is refused).
fn text_end(path: &Path) -> Result<u64, IngestError> {
    let mut file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let length = file.metadata().map_err(|e| IngestError::io(path, e))?.len();
    let mut buffer = vec![0u8; 1 << 16];
    let mut block_end = length;
    while block_end > 0 {
        let block_start = block_end.saturating_sub(buffer.len() as u64);
        let block = &mut buffer[..(block_end - block_start) as usize];
        file.seek(SeekFrom::Start(block_start)).map_err(|e| IngestError::io(path, e))?;
        file.read_exact(block).map_err(|e| IngestError::io(path, e))?;
        if let Some(last) = block.iter().rposition(|b| !b.is_ascii_whitespace()) {
            return Ok(block_start + last as u64 + 1);
        }
        block_end = block_start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamps::Timestamps;

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
            let expected: Vec<u32> = (1000..1500).collect();
            assert_eq!(timestamps, &Timestamps::Narrow(expected));
        }
    }

    #[test]
    fn pieces_the_plain_parser_declines_go_to_polars_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (path, expected) = ratings_file(dir.path(), 300);
        // Quoted ratings and a CRLF line here and there: polars reads those pieces.
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for line in lines.iter_mut().skip(1).step_by(40) {
            let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
            fields[2] = format!("\"{}\"", fields[2]);
            *line = fields.join(",") + "\r";
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();

        for piece_bytes in [64, 1000, PIECE_BYTES] {
            let raw =
                read_delimited_in_pieces(&path, &ReadOptions::default(), piece_bytes).unwrap();
            let column = |ids: &InternedIds| -> Vec<i64> {
                ids.index.iter().map(|&i| ids.ids[i as usize]).collect()
            };
            let (users, items) = (column(&raw.users), column(&raw.items));
            let read: Vec<(i64, i64, f32)> =
                (0..raw.len()).map(|r| (users[r], items[r], raw.ratings[r])).collect();
            assert_eq!(read, expected, "pieces of {piece_bytes} bytes");
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
