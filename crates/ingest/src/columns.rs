//! Which column of a ratings file holds what.

/// The accepted header names of each column, compared without regard to case.
const USER_NAMES: &[&str] = &["userid", "user", "user_id"];
const ITEM_NAMES: &[&str] = &["movieid", "itemid", "item", "item_id", "movie_id"];
const RATING_NAMES: &[&str] = &["rating"];
const TIMESTAMP_NAMES: &[&str] = &["timestamp"];

/// Positions of the columns a ratings file needs (the timestamp is optional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ColumnRoles {
    pub user: usize,
    pub item: usize,
    pub rating: usize,
    pub timestamp: Option<usize>,
    /// How many fields every line must have.
    pub n_fields: usize,
}

impl ColumnRoles {
    /// Roles from header names, or a message saying which column is missing and listing the
    /// header's names (cut after 120 characters).
    pub fn from_header(names: &[String]) -> Result<Self, String> {
        let find = |aliases: &[&str]| {
            names.iter().position(|name| aliases.contains(&name.trim().to_lowercase().as_str()))
        };
        let missing = |what: &str, aliases: &[&str]| {
            format!(
                "header has no {what} column (one of {}); it has {}",
                aliases.join(", "),
                listed(names)
            )
        };
        Ok(ColumnRoles {
            user: find(USER_NAMES).ok_or_else(|| missing("user", USER_NAMES))?,
            item: find(ITEM_NAMES).ok_or_else(|| missing("item", ITEM_NAMES))?,
            rating: find(RATING_NAMES).ok_or_else(|| missing("rating", RATING_NAMES))?,
            timestamp: find(TIMESTAMP_NAMES),
            n_fields: names.len(),
        })
    }

    /// Roles by position, `user, item, rating[, timestamp]`, for files without a header.
    pub fn by_position(n_fields: usize) -> Result<Self, String> {
        match n_fields {
            3 | 4 => Ok(ColumnRoles {
                user: 0,
                item: 1,
                rating: 2,
                timestamp: (n_fields == 4).then_some(3),
                n_fields,
            }),
            _ => Err(format!(
                "{n_fields} fields; a file without a header has user, item, rating[, timestamp]"
            )),
        }
    }
}

/// The header's names joined for a message, cut after 120 characters: the "header" of a
/// binary or one-line file can be megabytes long.
fn listed(names: &[String]) -> String {
    const LIMIT: usize = 120;
    let list = names.join(", ");
    match list.char_indices().nth(LIMIT) {
        None => list,
        Some((cut, _)) => format!("{}...", &list[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn movielens_and_generic_headers_are_recognised() {
        let roles =
            ColumnRoles::from_header(&names(&["userId", "movieId", "rating", "timestamp"]));
        assert_eq!(roles.unwrap().timestamp, Some(3));
        let roles = ColumnRoles::from_header(&names(&["rating", "item_id", "user"])).unwrap();
        assert_eq!((roles.user, roles.item, roles.rating, roles.timestamp), (2, 1, 0, None));
    }

    #[test]
    fn a_missing_column_is_named() {
        let err = ColumnRoles::from_header(&names(&["userId", "score"])).unwrap_err();
        assert!(err.contains("no item column"), "{err}");
        assert!(ColumnRoles::by_position(2).is_err());
    }
}
