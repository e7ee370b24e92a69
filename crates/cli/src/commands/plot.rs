//! `flash-rec plot`: training curves, and item factors projected on their two principal axes.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use flash_als::Model;
use flash_plot::{Figure, HorizontalLine, Panel, Rgb, Series, SeriesStyle, PALETTE};

/// RMSE of Netflix's Cinematch on the Prize's quiz set.
pub const CINEMATCH_RMSE: f64 = 0.9525;
/// RMSE that won the Netflix Prize.
pub const NETFLIX_PRIZE_RMSE: f64 = 0.8567;

/// Items drawn in the projection: the most rated ones, whose factors are well determined.
const PROJECTED_ITEMS: usize = 1500;
/// Genres given their own colour; the rest are grey.
const COLOURED_GENRES: usize = 8;

/// Options of `plot`.
#[derive(clap::Args)]
pub struct Args {
    /// The trained model (its history gives the curves).
    #[arg(long)]
    model: PathBuf,
    /// The prepared cache; with MovieLens features it adds the item-factor projection.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "results")]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let model = Model::load(&args.model)?;
    let curves = args.out.join("training_curves.png");
    training_figure(&model)
        .save_png(&curves)
        .with_context(|| format!("cannot write {}", curves.display()))?;
    println!("{}", curves.display());

    if let Some(data) = &args.data {
        let (dataset, model) = super::open_model_for(data, &args.model)?;
        if let Some(features) = dataset.features()? {
            let projection = args.out.join("item_factors_pca.png");
            let degrees: Vec<usize> =
                (0..dataset.items.len()).map(|i| dataset.train_by_item.row_len(i)).collect();
            let genre_of = |item: usize| {
                let id = dataset.items.id_of(item as u32);
                features.get(id).and_then(|m| m.genres.first().cloned())
            };
            projection_figure(&model, &degrees, genre_of)
                .save_png(&projection)
                .with_context(|| format!("cannot write {}", projection.display()))?;
            println!("{}", projection.display());
        }
    }
    Ok(())
}

/// Train and test RMSE per epoch with the Cinematch and Netflix Prize lines; loss beside.
pub fn training_figure(model: &Model) -> Figure {
    let history = &model.history;
    let points = |value: &dyn Fn(&flash_als::EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        history.iter().filter_map(|e| value(e).map(|v| (e.epoch as f64, v))).collect()
    };
    let rmse = Panel {
        title: "RMSE per epoch".into(),
        x_label: "epoch".into(),
        y_label: "RMSE".into(),
        series: vec![
            line_series("train RMSE", points(&|e| Some(e.train_rmse)), PALETTE[0]),
            line_series("test RMSE", points(&|e| e.test_rmse), PALETTE[1]),
        ],
        lines: vec![
            HorizontalLine {
                y: CINEMATCH_RMSE,
                label: format!("Cinematch {CINEMATCH_RMSE}"),
                color: PALETTE[3],
            },
            HorizontalLine {
                y: NETFLIX_PRIZE_RMSE,
                label: format!("Netflix Prize {NETFLIX_PRIZE_RMSE}"),
                color: PALETTE[2],
            },
        ],
    };
    let loss = Panel {
        title: "Objective per epoch".into(),
        x_label: "epoch".into(),
        y_label: "loss".into(),
        series: vec![line_series("loss", points(&|e| Some(e.loss)), PALETTE[4])],
        lines: Vec::new(),
    };
    Figure { panels: vec![rmse, loss], panel_width: 640, height: 480 }
}

fn line_series(name: &str, points: Vec<(f64, f64)>, color: Rgb) -> Series {
    Series { name: name.into(), points, color, style: SeriesStyle::Line }
}

/// The most rated items' factors on their first two principal axes, coloured by main genre.
pub fn projection_figure(
    model: &Model,
    degrees: &[usize],
    genre_of: impl Fn(usize) -> Option<String>,
) -> Figure {
    let mut items: Vec<usize> = (0..degrees.len()).filter(|&i| degrees[i] > 0).collect();
    items.sort_by_key(|&i| std::cmp::Reverse(degrees[i]));
    items.truncate(PROJECTED_ITEMS);
    let coordinates = principal_coordinates(model, &items);

    let mut counts: HashMap<String, usize> = HashMap::new();
    for &item in &items {
        *counts.entry(genre_of(item).unwrap_or_default()).or_default() += 1;
    }
    let mut genres: Vec<(String, usize)> =
        counts.into_iter().filter(|(g, _)| !g.is_empty()).collect();
    genres.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    genres.truncate(COLOURED_GENRES);

    let mut series: Vec<Series> = genres
        .iter()
        .enumerate()
        .map(|(index, (genre, _))| Series {
            name: genre.clone(),
            points: Vec::new(),
            color: PALETTE[index],
            style: SeriesStyle::Dots,
        })
        .collect();
    let mut other = Series {
        name: "other".into(),
        points: Vec::new(),
        color: Rgb(190, 190, 190),
        style: SeriesStyle::Dots,
    };
    for (&item, &point) in items.iter().zip(&coordinates) {
        let genre = genre_of(item).unwrap_or_default();
        match genres.iter().position(|(g, _)| *g == genre) {
            Some(index) => series[index].points.push(point),
            None => other.points.push(point),
        }
    }
    series.insert(0, other);
    let panel = Panel {
        title: format!("Item factors of the {} most rated movies (PCA)", items.len()),
        x_label: "first principal axis".into(),
        y_label: "second principal axis".into(),
        series,
        lines: Vec::new(),
    };
    Figure { panels: vec![panel], panel_width: 900, height: 700 }
}

/// Coordinates of the chosen items' centred vectors on the two leading eigenvectors of their
/// covariance (power iteration with deflation; k is small, so this is cheap and exact enough).
fn principal_coordinates(model: &Model, items: &[usize]) -> Vec<(f64, f64)> {
    let k = model.factors.k;
    let vectors: Vec<Vec<f64>> = items
        .iter()
        .map(|&i| model.factors.item_vector(i).iter().map(|&x| x as f64).collect())
        .collect();
    let n = vectors.len().max(1) as f64;
    let mean: Vec<f64> = (0..k).map(|d| vectors.iter().map(|v| v[d]).sum::<f64>() / n).collect();
    let centred: Vec<Vec<f64>> =
        vectors.iter().map(|v| v.iter().zip(&mean).map(|(a, m)| a - m).collect()).collect();
    let mut covariance = vec![0.0; k * k];
    for v in &centred {
        for a in 0..k {
            for b in 0..k {
                covariance[a * k + b] += v[a] * v[b] / n;
            }
        }
    }
    let first = leading_eigenvector(&covariance, k, None);
    let second = leading_eigenvector(&covariance, k, Some(&first));
    let project = |v: &[f64], axis: &[f64]| v.iter().zip(axis).map(|(a, b)| a * b).sum::<f64>();
    centred.iter().map(|v| (project(v, &first), project(v, &second))).collect()
}

fn leading_eigenvector(matrix: &[f64], k: usize, orthogonal_to: Option<&[f64]>) -> Vec<f64> {
    let mut vector: Vec<f64> = (0..k).map(|d| 1.0 + d as f64 * 0.01).collect();
    for _ in 0..500 {
        if let Some(other) = orthogonal_to {
            let overlap: f64 = vector.iter().zip(other).map(|(a, b)| a * b).sum();
            for (v, o) in vector.iter_mut().zip(other) {
                *v -= overlap * o;
            }
        }
        let next: Vec<f64> =
            (0..k).map(|a| (0..k).map(|b| matrix[a * k + b] * vector[b]).sum()).collect();
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        vector = next.into_iter().map(|x| x / norm).collect();
    }
    vector
}
