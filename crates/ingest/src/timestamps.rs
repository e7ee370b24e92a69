//! The timestamp column of a ratings file, which only decides which of two ratings of one
//! (user, item) pair is the latest.
//!
//! Timestamps are nearly always seconds since 1970 that fit in 32 bits (until 2106), so the
//! column holds them in 4 bytes a row, half the memory of `i64`, and widens the first time a
//! value does not fit. Once duplicates are settled, a narrow column's buffer is handed on
//! to hold the split's ratings, so that its pages are not given back to the system and
//! asked for again a moment later.

/// Timestamps in file order, narrow while every value fits in a `u32`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Timestamps {
    /// Every value so far is in `0..=u32::MAX`.
    Narrow(Vec<u32>),
    /// At least one value is not.
    Wide(Vec<i64>),
}

impl Timestamps {
    /// An empty, narrow column with room for `rows` values.
    pub fn with_capacity(rows: usize) -> Self {
        Timestamps::Narrow(Vec::with_capacity(rows))
    }

    /// Room for `additional` more values, and no more.
    pub fn reserve_exact(&mut self, additional: usize) {
        match self {
            Timestamps::Narrow(values) => values.reserve_exact(additional),
            Timestamps::Wide(values) => values.reserve_exact(additional),
        }
    }

    /// Appends `values`, widening the column first if one of them does not fit.
    pub fn extend(&mut self, values: &[i64]) {
        if let Timestamps::Narrow(narrow) = self {
            if values.iter().all(|&value| u32::try_from(value).is_ok()) {
                narrow.extend(values.iter().map(|&value| value as u32));
                return;
            }
            let mut wide = Vec::with_capacity(narrow.capacity().max(narrow.len() + values.len()));
            wide.extend(narrow.iter().map(|&value| i64::from(value)));
            *self = Timestamps::Wide(wide);
        }
        if let Timestamps::Wide(wide) = self {
            wide.extend_from_slice(values);
        }
    }

    /// The timestamp of row `row`.
    pub fn get(&self, row: usize) -> i64 {
        match self {
            Timestamps::Narrow(values) => i64::from(values[row]),
            Timestamps::Wide(values) => values[row],
        }
    }

    /// The narrow column's buffer, to be reused for other 4-byte values; `None` when wide.
    pub fn into_buffer(self) -> Option<Vec<u32>> {
        match self {
            Timestamps::Narrow(values) => Some(values),
            Timestamps::Wide(_) => None,
        }
    }
}

impl From<&[i64]> for Timestamps {
    fn from(values: &[i64]) -> Self {
        let mut column = Timestamps::with_capacity(values.len());
        column.extend(values);
        column
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_fit_stay_narrow_and_read_back() {
        let mut column = Timestamps::with_capacity(4);
        column.extend(&[0, 1_500_000_000]);
        column.extend(&[u32::MAX as i64]);

        assert!(matches!(column, Timestamps::Narrow(_)));
        assert_eq!(column.get(1), 1_500_000_000);
        assert_eq!(column.get(2), u32::MAX as i64);
    }

    #[test]
    fn one_value_out_of_range_widens_the_whole_column() {
        for outsider in [-1, u32::MAX as i64 + 1, i64::MIN, i64::MAX] {
            let mut column = Timestamps::from(&[7, 8][..]);
            column.extend(&[9, outsider, 10]);
            column.extend(&[11]);

            assert!(matches!(column, Timestamps::Wide(_)));
            let read: Vec<i64> = (0..6).map(|row| column.get(row)).collect();
            assert_eq!(read, [7, 8, 9, outsider, 10, 11]);
            assert_eq!(column.into_buffer(), None);
        }
    }

    #[test]
    fn a_narrow_column_gives_its_buffer_away() {
        let column = Timestamps::from(&[3, 2, 1][..]);
        assert_eq!(column.into_buffer(), Some(vec![3, 2, 1]));
    }
}
