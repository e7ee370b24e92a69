//! Dense kernels of the per-row solve and of the scoring, and the choice between them.
//!
//! Two implementations of the row update exist side by side:
//!
//! - **plain** ([`GramAccumulator`] and [`cholesky_solve`]): the simplest correct code, kept as
//!   the reference every fast path is tested against;
//! - **SIMD** ([`tile`], [`cholesky_solve_augmented`]): written once over `pulp::Simd` and
//!   compiled for AVX-512, AVX2+FMA and scalar code, the best of which is picked at run time
//!   (no `unsafe` in this crate: pulp checks the CPU and enables the target features).
//!
//! [`Kernel::configured`] picks one for the whole process: the environment variable
//! `FLASH_ALS_KERNEL` (`plain`, `scalar`, `avx2` or `simd`, the default: the widest the CPU
//! has) selects it, for benchmarks and tests. The choice never depends on the thread, so
//! models stay bit-identical for any thread count; a different choice changes results within
//! rounding (tested).

mod cholesky;
mod gram;
mod tile;

use std::sync::OnceLock;

pub(crate) use cholesky::{cholesky_solve, cholesky_solve_augmented};
pub(crate) use gram::GramAccumulator;
pub(crate) use tile::{column_sums, gram_upper, tile, ROW_QUANTUM};

/// Which implementation of the row update (and of the scoring) runs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kernel {
    /// The reference implementation: scalar loops, easy to check.
    Plain,
    /// The register-blocked kernels, vectorised for the given instruction set.
    Simd(pulp::Arch),
}

impl Kernel {
    /// The kernel for this process: `FLASH_ALS_KERNEL` if set and valid, else
    /// [`Kernel::detect`]. Read once, so every thread and every row agree.
    pub fn configured() -> Kernel {
        static CHOICE: OnceLock<Kernel> = OnceLock::new();
        *CHOICE.get_or_init(|| {
            let requested = std::env::var("FLASH_ALS_KERNEL").unwrap_or_default();
            match requested.as_str() {
                "plain" => Kernel::Plain,
                "scalar" => Kernel::scalar(),
                "avx2" => Kernel::avx2().unwrap_or_else(Kernel::detect),
                "" | "simd" | "auto" => Kernel::detect(),
                other => {
                    tracing::warn!(value = other, "unknown FLASH_ALS_KERNEL; using simd");
                    Kernel::detect()
                }
            }
        })
    }

    /// The SIMD kernels on the widest instruction set this CPU has; the plain code when it
    /// has no AVX2+FMA (pulp's portable scalar build is slower than the plain loops).
    pub fn detect() -> Kernel {
        match pulp::Arch::new() {
            pulp::Arch::Scalar => Kernel::Plain,
            arch => Kernel::Simd(arch),
        }
    }

    /// The SIMD kernels on AVX2+FMA even when AVX-512 is there (to compare the two).
    pub fn avx2() -> Option<Kernel> {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if let Some(v3) = pulp::x86::V3::try_new() {
            return Some(Kernel::Simd(pulp::Arch::V3(v3)));
        }
        None
    }

    /// The SIMD kernels' code compiled for one lane: the portable fallback, tested against
    /// the vectorised builds.
    pub fn scalar() -> Kernel {
        Kernel::Simd(pulp::Arch::Scalar)
    }
}

/// Every instruction set pulp can run here, the portable scalar build included.
#[cfg(test)]
pub(crate) fn test_arches() -> Vec<pulp::Arch> {
    #[allow(unused_mut)]
    let mut arches = vec![pulp::Arch::Scalar, pulp::Arch::new()];
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if let Some(v3) = pulp::x86::V3::try_new() {
        arches.push(pulp::Arch::V3(v3));
    }
    arches
}
