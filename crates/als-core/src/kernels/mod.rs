//! Dense kernels of the per-row solve: Gram accumulation and a small Cholesky solver.

mod cholesky;
mod gram;

pub(crate) use cholesky::cholesky_solve;
pub(crate) use gram::GramAccumulator;
