//! How much of recommend-all's scoring an upper bound could skip: the measurement behind the
//! pruning paragraph of docs/performance.md.
//!
//! ```text
//! cargo run --release -p flash-als --example pruning_bounds -- CACHE MODEL [ITEM_BIAS_WEIGHT]
//! ```
//!
//! An item (or a group of items) need not be scored for a user when an upper bound on its
//! score falls below the user's K-th best score. This takes each user's final K-th score
//! from `recommend_all` (K = 10), an oracle no pruned pass has while it runs, so the shares
//! printed are the least work any such pass could do. Two bounds on `u . v + w b`:
//! Cauchy-Schwarz, `|u| max|v| + max w b`, and a ball around the group's centroid c,
//! `u . c + |u| max|v - c| + max w b`. Groups are consecutive items in one of three orders.

use std::path::Path;

use flash_als::{recommend_all, Factors, ItemFilter, Model, RankingRule};
use flash_matrix::container::FileKind;
use flash_matrix::Csr;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cache, model, rest @ ..] = args.as_slice() else {
        return Err("usage: pruning_bounds CACHE MODEL [ITEM_BIAS_WEIGHT]".into());
    };
    let weight: f32 = rest.first().map(|w| w.parse()).transpose()?.unwrap_or(1.0);
    let seen = Csr::open(&Path::new(cache).join("train.by_user.bin"), FileKind::RatingsByUser)?;
    let factors = Model::load(Path::new(model))?.factors;
    let rule = RankingRule { k: 10, item_bias_weight: weight };

    // What each user's vector product must beat: the K-th score less the user's constant.
    let thresholds: Vec<Option<f32>> = recommend_all(&factors, &seen, &ItemFilter::all(), rule)
        .iter()
        .enumerate()
        .map(|(user, top)| {
            let offset = factors.global_mean + factors.user_bias[user];
            top.last().map(|&(_, score)| score - offset)
        })
        .collect();

    let n_items = factors.n_items();
    let norms: Vec<f32> = (0..n_items).map(|i| norm(factors.item_vector(i))).collect();
    let offsets: Vec<f32> = factors.item_bias.iter().map(|b| weight * b).collect();
    // Each order sorts the items by descending key.
    let orders = [
        ("item id", (0..n_items).map(|i| -(i as f32)).collect::<Vec<f32>>()),
        ("norm", norms.clone()),
        ("norm + w b", norms.iter().zip(&offsets).map(|(n, o)| n + o).collect()),
    ];
    for (name, key) in &orders {
        let mut order: Vec<usize> = (0..n_items).collect();
        order.sort_by(|&a, &b| key[b].total_cmp(&key[a]));
        for group_len in [1, 16, 64] {
            let groups: Vec<Group> = order
                .chunks(group_len)
                .map(|items| Group::new(&factors, items, &norms, &offsets))
                .collect();
            let (cauchy_schwarz, ball) = share_to_score(&factors, &groups, &thresholds);
            // A ball around one item is the item itself: its "bound" is the exact score.
            let ball = if group_len == 1 { "-".to_string() } else { format!("{ball:.3}") };
            println!(
                "order {name:<10} groups of {group_len:>2}: to score {cauchy_schwarz:.3} \
                 (Cauchy-Schwarz), {ball} (ball)"
            );
        }
    }
    Ok(())
}

/// What the bounds need of a group of items.
struct Group {
    max_norm: f32,
    max_offset: f32,
    centroid: Vec<f32>,
    radius: f32,
}

impl Group {
    fn new(factors: &Factors, items: &[usize], norms: &[f32], offsets: &[f32]) -> Self {
        let mut centroid = vec![0f32; factors.k];
        for &item in items {
            for (c, &x) in centroid.iter_mut().zip(factors.item_vector(item)) {
                *c += x / items.len() as f32;
            }
        }
        let distance = |item: usize| {
            let v = factors.item_vector(item);
            v.iter().zip(&centroid).map(|(a, c)| (a - c) * (a - c)).sum::<f32>().sqrt()
        };
        Group {
            max_norm: items.iter().map(|&i| norms[i]).fold(0.0, f32::max),
            max_offset: items.iter().map(|&i| offsets[i]).fold(f32::MIN, f32::max),
            radius: items.iter().map(|&i| distance(i)).fold(0.0, f32::max),
            centroid,
        }
    }
}

/// Shares of (user, group) pairs whose Cauchy-Schwarz and ball bounds reach the threshold.
fn share_to_score(factors: &Factors, groups: &[Group], thresholds: &[Option<f32>]) -> (f64, f64) {
    let (mut cauchy_schwarz, mut ball, mut pairs) = (0usize, 0usize, 0usize);
    for (user, threshold) in thresholds.iter().enumerate() {
        let Some(threshold) = *threshold else { continue };
        let u = factors.user_vector(user);
        let u_norm = norm(u);
        for group in groups {
            pairs += 1;
            cauchy_schwarz += usize::from(u_norm * group.max_norm + group.max_offset >= threshold);
            let towards_centroid: f32 = u.iter().zip(&group.centroid).map(|(a, c)| a * c).sum();
            let ball_bound = towards_centroid + u_norm * group.radius + group.max_offset;
            ball += usize::from(ball_bound >= threshold);
        }
    }
    (cauchy_schwarz as f64 / pairs as f64, ball as f64 / pairs as f64)
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}
