//! Recommendations, fold-in, similar items and tuning against direct computations.

mod common;

use std::ops::ControlFlow;

use flash_als::{
    fit, fold_in, recommend, recommend_all, recommend_for_vector, similar_items, tune, AlsParams,
    ItemFilter, RankingRule, SearchSpace, TrainData, TuneMetric, TuneOptions,
};

fn trained(epochs: usize) -> (common::Planted, flash_als::FitOutcome, AlsParams) {
    let p = common::planted(150, 120, 3, 0.2, 0.3, 21);
    let params = AlsParams { factors: 6, epochs, ..AlsParams::default() };
    let data = TrainData { by_user: &p.by_user, by_item: &p.by_item, held_out: None };
    let outcome = fit(data, &params, |_| ControlFlow::Continue(())).unwrap();
    (p, outcome, params)
}

#[test]
fn recommend_never_returns_a_rated_item_and_matches_brute_force() {
    let (p, outcome, _) = trained(5);
    let f = &outcome.factors;
    let rule = RankingRule { k: 7, item_bias_weight: 0.5 };
    let all = recommend_all(f, &p.by_user, &ItemFilter::all(), rule);
    for (user, listed) in all.iter().enumerate() {
        let seen = p.by_user.row(user);
        let list = recommend(f, user, seen, &ItemFilter::all(), rule);
        // The blocked product may sum in another order: same items, scores within rounding.
        let items = |l: &[(u32, f32)]| l.iter().map(|e| e.0).collect::<Vec<_>>();
        assert_eq!(items(&list), items(listed), "recommend_all differs for user {user}");
        for (a, b) in list.iter().zip(listed) {
            assert!((a.1 - b.1).abs() <= 1e-5 * a.1.abs().max(1.0), "user {user}: {a:?} vs {b:?}");
        }
        assert!(
            list.iter().all(|(item, _)| !seen.contains(*item)),
            "user {user} got a rated item"
        );

        // Brute force: score every unseen item, sort, keep 7.
        let mut scored: Vec<(u32, f32)> = (0..f.n_items() as u32)
            .filter(|i| !seen.contains(*i))
            .map(|i| {
                let dot: f32 = f
                    .user_vector(user)
                    .iter()
                    .zip(f.item_vector(i as usize))
                    .map(|(a, b)| a * b)
                    .sum();
                (i, f.global_mean + f.user_bias[user] + 0.5 * f.item_bias[i as usize] + dot)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let expected: Vec<u32> = scored.iter().take(7).map(|s| s.0).collect();
        let got: Vec<u32> = list.iter().map(|s| s.0).collect();
        assert_eq!(got, expected, "user {user}");
    }
}

#[test]
fn recommend_all_applies_filters_like_recommend() {
    let (p, outcome, _) = trained(3);
    let f = &outcome.factors;
    let n_items = f.n_items();
    let rule = RankingRule { k: 6, item_bias_weight: 1.0 };
    // A deny list, and an allow list shorter than k (every user then gets fewer than k).
    let filters = [
        ItemFilter::all().deny(n_items, (0..n_items as u32).step_by(3)),
        ItemFilter::allow(n_items, [4, 9, 17, 40]),
    ];
    for filter in &filters {
        let all = recommend_all(f, &p.by_user, filter, rule);
        for (user, listed) in all.iter().enumerate() {
            let list = recommend(f, user, p.by_user.row(user), filter, rule);
            let items = |l: &[(u32, f32)]| l.iter().map(|e| e.0).collect::<Vec<_>>();
            assert_eq!(items(&list), items(listed), "user {user}");
            assert!(listed.iter().all(|&(item, _)| filter.admits(item as usize)));
        }
    }
}

#[test]
fn filters_allow_and_deny_items() {
    let (p, outcome, _) = trained(3);
    let f = &outcome.factors;
    let allowed = ItemFilter::allow(f.n_items(), [3, 5, 8, 13]).deny(f.n_items(), [5]);
    let rule = RankingRule { k: 10, item_bias_weight: 1.0 };
    for user in 0..20 {
        let list = recommend(f, user, p.by_user.row(user), &allowed, rule);
        assert!(list.iter().all(|(item, _)| [3, 8, 13].contains(item)), "{list:?}");
    }
    let similar = similar_items(f, 0, 5, &ItemFilter::all().deny(f.n_items(), [1, 2]));
    assert!(similar.iter().all(|(item, _)| ![0, 1, 2].contains(item)));
}

#[test]
fn similar_items_are_ranked_by_cosine() {
    let (_, outcome, _) = trained(3);
    let f = &outcome.factors;
    let target = f.item_vector(4);
    let cosine = |other: usize| {
        let v = f.item_vector(other);
        let dot: f32 = target.iter().zip(v).map(|(a, b)| a * b).sum();
        let norm = |x: &[f32]| x.iter().map(|a| a * a).sum::<f32>().sqrt();
        dot / (norm(target) * norm(v))
    };
    let list = similar_items(f, 4, 5, &ItemFilter::all());
    assert_eq!(list.len(), 5);
    for pair in list.windows(2) {
        assert!(pair[0].1 >= pair[1].1);
    }
    for (item, score) in &list {
        assert!((score - cosine(*item as usize)).abs() < 1e-5);
    }
    let best_other = (0..f.n_items()).filter(|&i| i != 4).map(cosine).fold(f32::MIN, f32::max);
    assert!((list[0].1 - best_other).abs() < 1e-5);
}

#[test]
fn fold_in_equals_training_the_user_to_convergence() {
    // After many epochs the factors are a fixed point: a trained user's bias and vector are
    // the joint minimiser given the items, which is what fold-in computes.
    let (p, outcome, params) = trained(300);
    let f = &outcome.factors;
    for user in [0, 7, 42, 99] {
        let row = p.by_user.row(user);
        let ratings: Vec<(u32, f32)> =
            row.indices.iter().copied().zip(row.values.iter().copied()).collect();
        let folded = fold_in(f, &params, &ratings);
        let trained_vector = f.user_vector(user);
        let error: f32 = folded
            .vector
            .iter()
            .zip(trained_vector)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt();
        let norm: f32 = trained_vector.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!(
            error <= 1e-3 * norm.max(1e-3),
            "user {user}: {:?} vs {trained_vector:?}",
            folded.vector
        );
        assert!((folded.bias - f.user_bias[user]).abs() < 1e-3, "user {user} bias");

        // Recommending for the folded vector skips the rated items like recommend does.
        let mut seen: Vec<u32> = ratings.iter().map(|r| r.0).collect();
        seen.sort_unstable();
        let rule = RankingRule::default();
        let list =
            recommend_for_vector(f, &folded.vector, folded.bias, &seen, &ItemFilter::all(), rule);
        assert!(list.iter().all(|(item, _)| !row.contains(*item)));
    }
    assert_eq!(fold_in(f, &params, &[]).vector, vec![0.0; 6]);
}

#[test]
fn tuning_is_deterministic_and_its_best_is_the_lowest_validation_rmse() {
    let p = common::planted(120, 90, 3, 0.25, 0.4, 31);
    let options = TuneOptions {
        trials: 9,
        metric: TuneMetric::Rmse,
        base: AlsParams { epochs: 6, ..AlsParams::default() },
        space: SearchSpace { factors: vec![2, 4, 8], ..SearchSpace::default() },
        validation_fraction: 0.2,
        seed: 5,
    };
    let first = tune(&p.by_user, &options).unwrap();
    let again = tune(&p.by_user, &options).unwrap();
    assert_eq!(first.best, again.best);
    assert_eq!(first.trials.len(), 9);
    let finalists = first.trials.iter().filter(|t| t.params.epochs == 6);
    let lowest = finalists.map(|t| t.validation_rmse).fold(f64::INFINITY, f64::min);
    assert_eq!(first.best.validation_rmse, lowest);

    let by_ndcg =
        tune(&p.by_user, &TuneOptions { metric: TuneMetric::Ndcg(5), ..options }).unwrap();
    assert!(by_ndcg.best.validation_ndcg.is_some_and(|n| (0.0..=1.0).contains(&n)));
}
