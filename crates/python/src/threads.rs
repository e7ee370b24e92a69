//! A rayon pool per call, never the global one.
//!
//! `threads = 0` means one thread per core, as in `AlsParams`. A pool of its own also keeps a
//! forked child working: the global pool's threads would not survive `fork`, and a pool is
//! cheap next to the work it runs.

use crate::errors::Failure;

/// Runs `work` on a new pool of `threads` threads (0: one per core).
pub fn in_pool<T, F>(threads: usize, work: F) -> Result<T, Failure>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Failure::Parameter(format!("cannot start {threads} threads: {e}")))?;
    Ok(pool.install(work))
}
