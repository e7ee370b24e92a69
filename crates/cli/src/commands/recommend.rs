//! `flash-rec recommend` and `flash-rec similar`.

use anyhow::{bail, Result};
use flash_als::{fold_in, recommend, recommend_for_vector, similar_items};
use flash_ingest::FeatureTable;
use serde_json::json;

use super::catalogue::{dense_item, title, FilterFlags};

/// Options of `recommend`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inputs: super::ModelOnData,
    /// The user (original id) to recommend for.
    #[arg(long, required_unless_present = "rate", conflicts_with = "rate")]
    user: Option<i64>,
    /// A new user's rating, MOVIE_ID=RATING (repeatable): the user is folded in.
    #[arg(long, value_parser = parse_rating)]
    rate: Vec<(i64, f32)>,
    #[command(flatten)]
    list: super::ListArgs,
    #[command(flatten)]
    filter: FilterFlags,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Options of `similar`.
#[derive(clap::Args)]
pub struct SimilarArgs {
    #[command(flatten)]
    inputs: super::ModelOnData,
    /// The movie (original id).
    #[arg(long)]
    movie: i64,
    /// How many movies.
    #[arg(short, long, default_value_t = 10)]
    k: usize,
    /// Only movies with at least this many train ratings: a vector learnt from a handful of
    /// ratings points anywhere, and its cosine with it means little.
    #[arg(long, default_value_t = 10)]
    min_ratings: usize,
    #[command(flatten)]
    filter: FilterFlags,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_rating(text: &str) -> Result<(i64, f32), String> {
    let (movie, rating) =
        text.split_once('=').ok_or_else(|| format!("'{text}' is not MOVIE_ID=RATING"))?;
    let movie =
        movie.trim().parse().map_err(|_| format!("movie id '{movie}' is not an integer"))?;
    let rating: f32 =
        rating.trim().parse().map_err(|_| format!("rating '{rating}' is not a number"))?;
    if !rating.is_finite() {
        return Err(format!("rating '{rating}' is not finite"));
    }
    Ok((movie, rating))
}

pub fn run(args: Args) -> Result<()> {
    let (dataset, model) = args.inputs.open()?;
    let features = dataset.features()?;
    let filter = args.filter.build(&dataset, features.as_ref())?;
    let rule = args.list.rule();
    let factors = &model.factors;

    let list = match args.user {
        Some(user_id) => {
            let Some(user) = dataset.users.index_of(user_id) else {
                bail!("user {user_id} is not in {}", args.inputs.data.display());
            };
            recommend(
                factors,
                user as usize,
                dataset.train_by_user.row(user as usize),
                &filter,
                rule,
            )
        }
        None => {
            let mut ratings = Vec::with_capacity(args.rate.len());
            for &(movie_id, rating) in &args.rate {
                let item = dense_item(&dataset, movie_id)?;
                if ratings.iter().any(|&(i, _)| i == item) {
                    bail!("movie {movie_id} is rated twice in --rate");
                }
                ratings.push((item, rating));
            }
            let user = fold_in(factors, &model.params, &ratings);
            let mut seen: Vec<u32> = ratings.iter().map(|&(item, _)| item).collect();
            seen.sort_unstable();
            recommend_for_vector(factors, &user.vector, user.bias, &seen, &filter, rule)
        }
    };
    print_list(&list, &dataset.items, features.as_ref(), args.json);
    Ok(())
}

pub fn run_similar(args: SimilarArgs) -> Result<()> {
    let (dataset, model) = args.inputs.open()?;
    let features = dataset.features()?;
    let by_item = &dataset.train_by_item;
    let rare = (0..by_item.n_rows()).filter(|&i| by_item.row_len(i) < args.min_ratings);
    let filter = args
        .filter
        .build(&dataset, features.as_ref())?
        .deny(by_item.n_rows(), rare.map(|i| i as u32));
    let item = dense_item(&dataset, args.movie)?;
    let list = similar_items(&model.factors, item as usize, args.k, &filter);
    if !args.json {
        println!("movies most like {} {}", args.movie, title(features.as_ref(), args.movie));
    }
    print_list(&list, &dataset.items, features.as_ref(), args.json);
    Ok(())
}

/// Prints a ranked list as a table or, for `recommend` and `similar` alike, as
/// `{"recommendations": [{"movie_id", "title", "score"}, ...]}`.
fn print_list(
    list: &[(u32, f32)],
    items: &flash_matrix::IdMap,
    features: Option<&FeatureTable>,
    as_json: bool,
) {
    let rows: Vec<(i64, String, f32)> = list
        .iter()
        .map(|&(item, score)| {
            let movie_id = items.id_of(item);
            (movie_id, title(features, movie_id), score)
        })
        .collect();
    if as_json {
        let entries: Vec<_> = rows
            .iter()
            .map(|(movie_id, title, score)| {
                json!({"movie_id": movie_id, "title": title, "score": score})
            })
            .collect();
        super::print_json(&json!({ "recommendations": entries }));
        return;
    }
    for (rank, (movie_id, title, score)) in rows.iter().enumerate() {
        println!("{:>3}. {:>8} {:>7.3}  {}", rank + 1, movie_id, score, title);
    }
}
