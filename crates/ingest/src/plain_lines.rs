//! A parser for the plain numeric lines that almost every ratings file is made of: ids and
//! timestamps as decimal integers, ratings as short decimals, unquoted fields.
//!
//! It exists for speed: on the ml-latest shape it parses several times faster than polars'
//! general CSV reader, and it fills compact columns directly. It never decides what is an
//! error: anything outside its narrow grammar (a quote, an exponent, a sign on a rating, a
//! blank line, an id of 19 digits, a missing field) makes it decline the whole piece, which
//! then goes to polars and, on failure, to the line-by-line diagnosis. So every file it
//! accepts is read exactly as polars would read it, and every file it declines is handled
//! as before.

use crate::columns::ColumnRoles;

/// The columns parsed from one piece of text, in file order.
///
/// Aligned to its own cache lines: the threads that fill neighbouring ones in a slice would
/// otherwise contend for the line that holds both's lengths (this made two threads parse
/// barely faster than one).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct PlainColumns {
    pub users: Vec<i64>,
    pub items: Vec<i64>,
    pub ratings: Vec<f64>,
    /// Filled only when the layout has a timestamp column.
    pub timestamps: Vec<i64>,
}

impl PlainColumns {
    pub fn clear(&mut self) {
        self.users.clear();
        self.items.clear();
        self.ratings.clear();
        self.timestamps.clear();
    }
}

/// What a field of a line holds, for the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    User,
    Item,
    Rating,
    Timestamp,
    /// A column the ratings do not need (a MovieLens-like file may carry others).
    Ignored,
}

/// The shape of every line: the separator and what each field holds.
#[derive(Clone, Debug)]
pub(crate) struct PlainLayout {
    separator: u8,
    fields: Vec<Field>,
}

impl PlainLayout {
    pub fn new(separator: u8, roles: &ColumnRoles) -> Self {
        let fields = (0..roles.n_fields)
            .map(|index| match index {
                i if i == roles.user => Field::User,
                i if i == roles.item => Field::Item,
                i if i == roles.rating => Field::Rating,
                i if Some(i) == roles.timestamp => Field::Timestamp,
                _ => Field::Ignored,
            })
            .collect();
        PlainLayout { separator, fields }
    }
}

/// The parser gave up on a piece; polars reads it instead.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Declined;

/// Parses every line of `text` (whole lines; the last may lack its line end) into `out`,
/// which must be empty. On [`Declined`], `out` holds a part of the piece and must be
/// cleared.
pub(crate) fn parse_plain_lines(
    text: &[u8],
    layout: &PlainLayout,
    out: &mut PlainColumns,
) -> Result<(), Declined> {
    use Field::{Item, Rating, Timestamp, User};
    let separator = layout.separator;
    let mut at = 0;
    // MovieLens' layouts get loops of their own, free of the dispatch on each field.
    match layout.fields[..] {
        [User, Item, Rating, Timestamp] => {
            while at < text.len() {
                at = parse_user_item_rating(text, at, separator, out)?;
                at = end_of_field(text, at, separator)?;
                at = parse_integer(text, at, &mut out.timestamps)?;
                at = end_of_field(text, at, b'\n')?;
            }
        }
        [User, Item, Rating] => {
            while at < text.len() {
                at = parse_user_item_rating(text, at, separator, out)?;
                at = end_of_field(text, at, b'\n')?;
            }
        }
        _ => {
            while at < text.len() {
                at = parse_line(text, at, layout, out)?;
            }
        }
    }
    Ok(())
}

/// The first three fields of a line in MovieLens' order, up to the end of the rating.
#[inline(always)]
fn parse_user_item_rating(
    text: &[u8],
    mut at: usize,
    separator: u8,
    out: &mut PlainColumns,
) -> Result<usize, Declined> {
    at = parse_integer(text, at, &mut out.users)?;
    at = end_of_field(text, at, separator)?;
    at = parse_integer(text, at, &mut out.items)?;
    at = end_of_field(text, at, separator)?;
    parse_rating(text, at, &mut out.ratings)
}

/// Parses the line starting at `at`; returns where the next line starts.
#[inline]
fn parse_line(
    text: &[u8],
    mut at: usize,
    layout: &PlainLayout,
    out: &mut PlainColumns,
) -> Result<usize, Declined> {
    let last = layout.fields.len() - 1;
    for (index, &field) in layout.fields.iter().enumerate() {
        at = match field {
            Field::User => parse_integer(text, at, &mut out.users)?,
            Field::Item => parse_integer(text, at, &mut out.items)?,
            Field::Timestamp => parse_integer(text, at, &mut out.timestamps)?,
            Field::Rating => parse_rating(text, at, &mut out.ratings)?,
            Field::Ignored => skip_field(text, at, layout.separator)?,
        };
        let expected_end = if index == last { b'\n' } else { layout.separator };
        at = end_of_field(text, at, expected_end)?;
    }
    Ok(at)
}

/// Past the byte that ends a field: the separator, or on the last field the line end
/// (`\n`, `\r\n`, or the end of the text).
#[inline]
fn end_of_field(text: &[u8], at: usize, expected: u8) -> Result<usize, Declined> {
    match text.get(at) {
        Some(&byte) if byte == expected => Ok(at + 1),
        Some(b'\r') if expected == b'\n' && text.get(at + 1) == Some(&b'\n') => Ok(at + 2),
        None if expected == b'\n' => Ok(at),
        _ => Err(Declined),
    }
}

/// Up to this many digits an integer cannot overflow an `i64` (nor a decimal an exact f64
/// mantissa, below).
const MAX_INTEGER_DIGITS: usize = 18;

/// An optional minus sign and 1 to 18 decimal digits.
#[inline(always)]
fn parse_integer(text: &[u8], at: usize, column: &mut Vec<i64>) -> Result<usize, Declined> {
    let negative = text.get(at) == Some(&b'-');
    let start = at + usize::from(negative);
    let (value, end) = digits(text, start);
    if end == start || end - start > MAX_INTEGER_DIGITS {
        return Err(Declined);
    }
    let value = value as i64;
    column.push(if negative { -value } else { value });
    Ok(end)
}

/// Digits, optionally a point and more digits (`4`, `3.5`, `4.50`), 15 digits at most in
/// all, so that the value is one correctly rounded division of two exact doubles: the same
/// double any correct parser (polars' among them) returns.
#[inline(always)]
fn parse_rating(text: &[u8], at: usize, column: &mut Vec<f64>) -> Result<usize, Declined> {
    const MAX_DIGITS: usize = 15;
    let (whole, mut end) = digits(text, at);
    let mut total_digits = end - at;
    if total_digits == 0 {
        return Err(Declined);
    }
    let mut mantissa = whole;
    let mut scale = 1.0f64;
    if text.get(end) == Some(&b'.') {
        let start = end + 1;
        let (fraction, fraction_end) = digits(text, start);
        let fraction_digits = fraction_end - start;
        total_digits += fraction_digits;
        if fraction_digits == 0 || total_digits > MAX_DIGITS {
            return Err(Declined);
        }
        mantissa = whole * POWERS_OF_TEN[fraction_digits] as u64 + fraction;
        scale = POWERS_OF_TEN[fraction_digits];
        end = fraction_end;
    } else if total_digits > MAX_DIGITS {
        return Err(Declined);
    }
    // Both are exact below 2^53 (10^15 is), so the quotient is correctly rounded.
    column.push(mantissa as f64 / scale);
    Ok(end)
}

/// 10^0 to 10^15, all exact in a double (a call to `powi` costs more than a whole rating).
const POWERS_OF_TEN: [f64; 16] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// The value of the decimal digits at `at` and where they end; more than 19 digits wrap,
/// which the callers refuse by counting. Eight bytes at a time where the text has them.
#[inline]
fn digits(text: &[u8], mut at: usize) -> (u64, usize) {
    let mut value = 0u64;
    while let Some(word) = text.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let count = leading_digits(word);
        if count == 0 {
            return (value, at);
        }
        let scaled = value.wrapping_mul(POWERS_OF_TEN_INTEGER[count]);
        value = scaled.wrapping_add(digits_value(word, count));
        at += count;
        if count < 8 {
            return (value, at);
        }
    }
    while let Some(&byte) = text.get(at) {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        at += 1;
    }
    (value, at)
}

/// 10^0 to 10^8 as integers.
const POWERS_OF_TEN_INTEGER: [u64; 9] =
    [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// How many of the eight bytes of `word` (the first in its lowest byte) are ASCII digits
/// before the first that is not.
#[inline]
fn leading_digits(word: u64) -> usize {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    const SIXES: u64 = 0x0606_0606_0606_0606;
    // A byte is a digit when its high nibble is 3 and adding 6 keeps it so. A carry out of
    // a byte only disturbs the bytes after a non-digit, which are not counted.
    let not_three = (word & HIGH_NIBBLES) ^ THREES;
    let above_nine = (word.wrapping_add(SIXES) & HIGH_NIBBLES) ^ THREES;
    ((not_three | above_nine).trailing_zeros() / 8) as usize
}

/// The value of the first `count` (1 to 8) bytes of `word`, all digits.
#[inline]
fn digits_value(word: u64, count: usize) -> u64 {
    // The digits' values, moved up so that the missing ones read as leading zeros.
    let mut value = (word & 0x0F0F_0F0F_0F0F_0F0F) << (8 * (8 - count));
    // Pairs, then quadruples, then the whole: the first digit is the most significant.
    value = (value & 0x0F0F_0F0F_0F0F_0F0F) * 10 + ((value >> 8) & 0x0F0F_0F0F_0F0F_0F0F);
    value = ((value & 0x00FF_00FF_00FF_00FF) * 100) + ((value >> 16) & 0x00FF_00FF_00FF_00FF);
    value = ((value & 0x0000_FFFF_0000_FFFF) * 10_000) + ((value >> 32) & 0x0000_FFFF_0000_FFFF);
    value & 0xFFFF_FFFF
}

/// Past an unused field's bytes; a quote (which could hide a separator or a line end) or a
/// carriage return inside the field declines.
#[inline]
fn skip_field(text: &[u8], mut at: usize, separator: u8) -> Result<usize, Declined> {
    while let Some(&byte) = text.get(at) {
        if byte == separator || byte == b'\n' {
            break;
        }
        if byte == b'"' || (byte == b'\r' && text.get(at + 1) != Some(&b'\n')) {
            return Err(Declined);
        }
        at += 1;
    }
    Ok(at)
}

/// Where to cut `text` into `parts` pieces of whole lines of about equal size: `parts + 1`
/// offsets from 0 to `text.len()`, each cut just after a newline.
pub(crate) fn line_cuts(text: &[u8], parts: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    for part in 1..parts {
        let aim = (text.len() * part / parts).max(*cuts.last().expect("starts with 0"));
        let cut = match text[aim..].iter().position(|&b| b == b'\n') {
            Some(newline) => aim + newline + 1,
            None => text.len(),
        };
        cuts.push(cut);
    }
    cuts.push(text.len());
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(header: &[&str], separator: u8) -> PlainLayout {
        let names: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        PlainLayout::new(separator, &ColumnRoles::from_header(&names).unwrap())
    }

    fn movielens() -> PlainLayout {
        layout(&["userId", "movieId", "rating", "timestamp"], b',')
    }

    fn parse(text: &str, layout: &PlainLayout) -> Result<PlainColumns, Declined> {
        let mut out = PlainColumns::default();
        parse_plain_lines(text.as_bytes(), layout, &mut out).map(|()| out)
    }

    #[test]
    fn plain_lines_are_read_like_polars_reads_them() {
        let text = "1,31,2.5,1260759144\n-7,007,4,0\r\n123456789012345678,2,4.50,-3\n9,9,0.5,1";
        let columns = parse(text, &movielens()).unwrap();
        assert_eq!(columns.users, [1, -7, 123_456_789_012_345_678, 9]);
        assert_eq!(columns.items, [31, 7, 2, 9]);
        assert_eq!(columns.ratings, [2.5, 4.0, 4.5, 0.5]);
        assert_eq!(columns.timestamps, [1_260_759_144, 0, -3, 1]);
    }

    #[test]
    fn columns_in_any_order_and_unused_columns_are_handled() {
        let layout = layout(&["rating", "note", "item", "user"], b'\t');
        let columns = parse("3.5\tgood film\t10\t20\n1\t\t11\t21\n", &layout).unwrap();
        assert_eq!(columns.users, [20, 21]);
        assert_eq!(columns.items, [10, 11]);
        assert_eq!(columns.ratings, [3.5, 1.0]);
        assert!(columns.timestamps.is_empty());
    }

    #[test]
    fn decimals_are_the_correctly_rounded_doubles() {
        let layout = layout(&["user", "item", "rating"], b',');
        let values = ["0.1", "4.123456789", "3.3333333333333", "123456789012345", "0.30"];
        for value in values {
            let columns = parse(&format!("1,2,{value}\n"), &layout).unwrap();
            assert_eq!(columns.ratings, [value.parse::<f64>().unwrap()], "{value}");
        }
    }

    #[test]
    fn anything_unusual_is_declined() {
        let lines = [
            "1,2,3.5\n",                     // too few fields
            "1,2,3.5,4,5\n",                 // too many
            "1,2,3.5,4\n\n5,6,1.0,7\n",      // a blank line
            "1,2,\"3.5\",4\n",               // a quote
            "1,2,3.5e0,4\n",                 // an exponent
            "1,2,-3.5,4\n",                  // a signed rating
            "1,2,+3.5,4\n",                  // a plus
            "1,2,.5,4\n",                    // no whole digits
            "1,2,5.,4\n",                    // no fraction digits
            "1,2,1.0000000000000001,4\n",    // 17 digits
            "1234567890123456789,2,3.5,4\n", // 19 digits
            "1, 2,3.5,4\n",                  // a space
            "1,2,3.5,4\r",                   // a lone carriage return
            "1,2,NaN,4\n",                   // not a number
            "1,,3.5,4\n",                    // an empty id
        ];
        for line in lines {
            assert_eq!(parse(line, &movielens()).unwrap_err(), Declined, "{line:?}");
        }
        let with_note = layout(&["user", "item", "rating", "note"], b',');
        assert!(parse("1,2,3,\"a,b\"\n", &with_note).is_err());
        assert!(parse("1,2,3,a\rb\n", &with_note).is_err());
    }

    #[test]
    fn digit_runs_of_every_length_are_read_at_every_offset() {
        for length in 1..=19 {
            let number: String = (0..length).map(|i| char::from(b'1' + (i % 9) as u8)).collect();
            for offset in 0..9 {
                for tail in [",", ",123456789", ""] {
                    let text = format!("{}{number}{tail}", ",".repeat(offset));
                    let (value, end) = digits(text.as_bytes(), offset);
                    assert_eq!(end, offset + length, "{text}");
                    assert_eq!(value, number.parse::<u64>().unwrap(), "{text}");
                }
            }
        }
        let texts: [(&[u8], usize); 6] =
            [(b"/", 0), (b":", 0), (b"0123456789", 10), (b"12a", 2), (b"9\xff", 1), (b"\xc0", 0)];
        for (text, count) in texts {
            assert_eq!(digits(text, 0).1, count, "{text:?}");
        }
    }

    #[test]
    fn cuts_fall_after_newlines_and_cover_the_text() {
        let text = b"11,1\n22,2\n33,3\n44,4\n";
        for parts in 1..6 {
            let cuts = line_cuts(text, parts);
            assert_eq!((cuts[0], *cuts.last().unwrap()), (0, text.len()));
            assert_eq!(cuts.len(), parts + 1);
            for window in cuts.windows(2) {
                assert!(window[0] <= window[1]);
                assert!(window[0] == 0 || text[window[0] - 1] == b'\n');
            }
        }
        assert_eq!(line_cuts(b"", 2), [0, 0, 0]);
    }
}
