//! The training state and its half-epoch steps.

use std::ops::Range;
use std::sync::Mutex;

use flash_eval::{rating_errors, sum_in_blocks, RatingErrors, SumPair};
use flash_matrix::Csr;
use rayon::prelude::*;

use crate::factors::Factors;
use crate::schedule::balanced_chunks;
use crate::update::{update_rows, OtherSide, RowFailure, RowPenalties, RowScratch};
use crate::{AlsParams, Side, TrainError};

/// The ratings a model is trained on, and optionally held-out ones to watch.
#[derive(Clone, Copy, Debug)]
pub struct TrainData<'a> {
    /// Train ratings, one row per user.
    pub by_user: &'a Csr,
    /// The same ratings, one row per item (the transpose of `by_user`).
    pub by_item: &'a Csr,
    /// Held-out ratings (users x items) for the test or validation RMSE, if any.
    pub held_out: Option<&'a Csr>,
}

/// Biased ALS in progress: the factors and the means to update them one half-epoch at a time.
///
/// [`fit`](crate::fit) drives a whole run; the steps are public so that tests and tools can
/// watch the objective between half-epochs.
pub struct Trainer<'a> {
    data: TrainData<'a>,
    params: AlsParams,
    factors: Factors,
    pool: rayon::ThreadPool,
    user_chunks: Vec<Range<usize>>,
    item_chunks: Vec<Range<usize>>,
    /// One workspace per pool thread, kept across half-epochs: setting one up (zeroing
    /// tens of kilobytes) for every piece of work the pool splits off cost a tenth of a
    /// half-epoch on small data.
    scratch: Vec<Mutex<RowScratch>>,
}

impl<'a> Trainer<'a> {
    /// Checks the parameters and the data, then draws the initial factors.
    pub fn new(data: TrainData<'a>, params: &AlsParams) -> Result<Self, TrainError> {
        params.validate()?;
        check_shapes(&data)?;
        let pool =
            rayon::ThreadPoolBuilder::new().num_threads(params.threads).build().map_err(|e| {
                TrainError::Threads { threads: params.threads, message: e.to_string() }
            })?;

        let (n_users, n_items) = (data.by_user.n_rows(), data.by_user.n_cols());
        let mean = if params.global_mean { mean_rating(data.by_user) } else { 0.0 };
        let mut factors = Factors::initial(n_users, n_items, params.factors, params.seed, mean);
        zero_empty_rows(&mut factors.user, data.by_user, params.factors);
        zero_empty_rows(&mut factors.item, data.by_item, params.factors);

        let scratch = (0..pool.current_num_threads().max(1))
            .map(|_| Mutex::new(RowScratch::new(params.factors)))
            .collect();
        Ok(Trainer {
            scratch,
            user_chunks: balanced_chunks(data.by_user.indptr(), params.factors),
            item_chunks: balanced_chunks(data.by_item.indptr(), params.factors),
            data,
            params: params.clone(),
            factors,
            pool,
        })
    }

    /// The current factors.
    pub fn factors(&self) -> &Factors {
        &self.factors
    }

    /// The parameters in use.
    pub fn params(&self) -> &AlsParams {
        &self.params
    }

    /// Replaces the factors (to restore a snapshot).
    pub(crate) fn set_factors(&mut self, factors: Factors) {
        self.factors = factors;
    }

    /// The final factors.
    pub fn into_factors(self) -> Factors {
        self.factors
    }

    /// Updates every item, from the current user factors.
    pub fn update_items(&mut self) -> Result<(), TrainError> {
        let _span = tracing::debug_span!("update_items").entered();
        let (pool, mut halves) = self.halves();
        pool.install(|| halves.run(Side::Item))
    }

    /// Updates every user, from the current item factors.
    pub fn update_users(&mut self) -> Result<(), TrainError> {
        let _span = tracing::debug_span!("update_users").entered();
        let (pool, mut halves) = self.halves();
        pool.install(|| halves.run(Side::User))
    }

    /// One epoch: [`update_items`](Self::update_items), then
    /// [`update_users`](Self::update_users), in one visit to the thread pool. Each visit
    /// hands the work to the pool's threads and waits for them to wake, which on
    /// ml-latest-small at k = 10 is a noticeable share of a half-epoch.
    pub fn update_epoch(&mut self) -> Result<(), TrainError> {
        let _span = tracing::debug_span!("update_epoch").entered();
        let (pool, mut halves) = self.halves();
        pool.install(|| {
            halves.run(Side::Item)?;
            halves.run(Side::User)
        })
    }

    /// The pool, and the rest of the state that half-epochs borrow.
    fn halves(&mut self) -> (&rayon::ThreadPool, Halves<'_, 'a>) {
        let halves = Halves {
            data: self.data,
            params: &self.params,
            factors: &mut self.factors,
            user_chunks: &self.user_chunks,
            item_chunks: &self.item_chunks,
            scratch: &self.scratch,
        };
        (&self.pool, halves)
    }

    /// The full objective: `lam/2 * squared errors + tau/2 * vector penalties + gamma/2 *
    /// bias penalties`, each penalty weighted by the row's rating count when regularisation
    /// scales by count.
    pub fn objective(&self) -> f64 {
        self.pool.install(|| {
            let f = &self.factors;
            let p = &self.params;
            let squared_errors = sum_in_blocks(self.data.by_user.n_rows(), |user| {
                let row = self.data.by_user.row(user);
                row.indices.iter().zip(row.values).fold(0f64, |acc, (&item, &rating)| {
                    let error = (rating - f.predict(user, item as usize)) as f64;
                    acc + error * error
                })
            });
            let (user_vectors, user_biases) =
                penalties(&f.user, &f.user_bias, self.data.by_user, p);
            let (item_vectors, item_biases) =
                penalties(&f.item, &f.item_bias, self.data.by_item, p);
            0.5 * p.lambda * squared_errors
                + 0.5 * p.tau * (user_vectors + item_vectors)
                + 0.5 * p.gamma * (user_biases + item_biases)
        })
    }

    /// RMSE and MAE on the train ratings.
    pub fn train_errors(&self) -> RatingErrors {
        self.pool.install(|| rating_errors(self.data.by_user, |u, i| self.factors.predict(u, i)))
    }

    /// RMSE and MAE on the held-out ratings, if any.
    pub fn held_out_errors(&self) -> Option<RatingErrors> {
        let held_out = self.data.held_out?;
        Some(self.pool.install(|| rating_errors(held_out, |u, i| self.factors.predict(u, i))))
    }
}

/// What half-epochs borrow from a [`Trainer`], apart from its pool.
struct Halves<'t, 'a> {
    data: TrainData<'a>,
    params: &'t AlsParams,
    factors: &'t mut Factors,
    user_chunks: &'t [Range<usize>],
    item_chunks: &'t [Range<usize>],
    scratch: &'t [Mutex<RowScratch>],
}

impl Halves<'_, '_> {
    /// Updates every row of `side` from the other side's current factors (on the calling
    /// thread's pool).
    fn run(&mut self, side: Side) -> Result<(), TrainError> {
        let f = &mut *self.factors;
        let (ratings, chunks, other, vectors, biases) = match side {
            Side::Item => (
                self.data.by_item,
                self.item_chunks,
                OtherSide { k: f.k, factors: &f.user, bias: &f.user_bias, mean: f.global_mean },
                &mut f.item,
                &mut f.item_bias,
            ),
            Side::User => (
                self.data.by_user,
                self.user_chunks,
                OtherSide { k: f.k, factors: &f.item, bias: &f.item_bias, mean: f.global_mean },
                &mut f.user,
                &mut f.user_bias,
            ),
        };
        let job = SideUpdate { ratings, chunks, side, scratch: self.scratch };
        job.run(self.params, other, vectors, biases)
    }
}

/// One half-epoch: every row of `ratings` against the fixed other side.
struct SideUpdate<'a> {
    ratings: &'a Csr,
    chunks: &'a [Range<usize>],
    side: Side,
    /// Indexed by the pool's thread index.
    scratch: &'a [Mutex<RowScratch>],
}

impl SideUpdate<'_> {
    fn run(
        &self,
        params: &AlsParams,
        other: OtherSide<'_>,
        vectors: &mut [f32],
        biases: &mut [f32],
    ) -> Result<(), TrainError> {
        let pieces = split_by_chunks(self.chunks, vectors, biases, other.k);
        pieces.into_par_iter().try_for_each(|(rows, chunk_vectors, chunk_biases)| {
            // Each thread locks only its own workspace. A panic elsewhere cannot leave one
            // half-written in a way that matters: every row overwrites what it reads.
            let thread = rayon::current_thread_index().unwrap_or(0) % self.scratch.len();
            let mut scratch = self.scratch[thread].lock().unwrap_or_else(|e| e.into_inner());
            update_rows(
                rows,
                |row| {
                    let entries = self.ratings.row(row);
                    (entries, row_penalties(params, entries.len()))
                },
                other,
                chunk_vectors,
                chunk_biases,
                &mut scratch,
            )
            .map_err(|failure| match failure {
                RowFailure::NotPositiveDefinite { row, column } => {
                    TrainError::NotPositiveDefinite { side: self.side, row, column }
                }
                RowFailure::NonFinite { row } => TrainError::NonFinite { side: self.side, row },
            })
        })
    }
}

type Piece<'a> = (Range<usize>, &'a mut [f32], &'a mut [f32]);

/// Cuts the vectors and biases of one side into the disjoint pieces of `chunks`.
fn split_by_chunks<'a>(
    chunks: &[Range<usize>],
    mut vectors: &'a mut [f32],
    mut biases: &'a mut [f32],
    k: usize,
) -> Vec<Piece<'a>> {
    let mut pieces = Vec::with_capacity(chunks.len());
    for rows in chunks {
        let (chunk_vectors, rest_vectors) = vectors.split_at_mut(rows.len() * k);
        let (chunk_biases, rest_biases) = biases.split_at_mut(rows.len());
        pieces.push((rows.clone(), chunk_vectors, chunk_biases));
        vectors = rest_vectors;
        biases = rest_biases;
    }
    pieces
}

fn row_penalties(params: &AlsParams, n_ratings: usize) -> RowPenalties {
    let (tau_weight, gamma_weight) = params.regularization.weights(n_ratings);
    RowPenalties {
        lambda: params.lambda,
        tau: params.tau * tau_weight,
        gamma: params.gamma * gamma_weight,
    }
}

/// `(sum_i w_i |x_i|^2, sum_i w_i b_i^2)` over one side's rows.
fn penalties(vectors: &[f32], biases: &[f32], ratings: &Csr, params: &AlsParams) -> (f64, f64) {
    let k = params.factors;
    let SumPair(vector_sum, bias_sum) = sum_in_blocks(biases.len(), |row| {
        let (tau_weight, gamma_weight) = params.regularization.weights(ratings.row_len(row));
        let vector = &vectors[row * k..(row + 1) * k];
        let norm: f64 = vector.iter().map(|&x| x as f64 * x as f64).sum();
        let bias = biases[row] as f64;
        SumPair(tau_weight * norm, gamma_weight * bias * bias)
    });
    (vector_sum, bias_sum)
}

fn mean_rating(by_user: &Csr) -> f32 {
    if by_user.nnz() == 0 {
        return 0.0;
    }
    let total: f64 = by_user.values().iter().map(|&r| r as f64).sum();
    (total / by_user.nnz() as f64) as f32
}

fn zero_empty_rows(vectors: &mut [f32], ratings: &Csr, k: usize) {
    for row in 0..ratings.n_rows() {
        if ratings.row_len(row) == 0 {
            vectors[row * k..(row + 1) * k].fill(0.0);
        }
    }
}

fn check_shapes(data: &TrainData<'_>) -> Result<(), TrainError> {
    let (users, items) = (data.by_user, data.by_item);
    if users.n_rows() != items.n_cols() || users.n_cols() != items.n_rows() {
        return Err(TrainError::Data(format!(
            "by-user matrix is {} x {} but by-item matrix is {} x {}",
            users.n_rows(),
            users.n_cols(),
            items.n_rows(),
            items.n_cols()
        )));
    }
    if users.nnz() != items.nnz() {
        return Err(TrainError::Data(format!(
            "{} ratings by user but {} by item",
            users.nnz(),
            items.nnz()
        )));
    }
    if let Some(held_out) = data.held_out {
        if held_out.n_rows() != users.n_rows() || held_out.n_cols() != users.n_cols() {
            return Err(TrainError::Data("held-out ratings have another shape".into()));
        }
    }
    Ok(())
}
