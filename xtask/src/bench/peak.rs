//! The peak-FMA probe: the fp32 multiply-add rate this machine reaches at best.
//!
//! Each thread runs independent chains of fused multiply-adds on registers only (12 chains:
//! more than FMA latency times FMA ports, so the units never wait), for every instruction set
//! pulp can dispatch to here. Flops count 2 per lane per FMA. The best of a few runs is kept:
//! anything else on the machine can only slow the probe down.

use std::time::Instant;

use pulp::{Simd, WithSimd};

/// FMAs per chain and call.
const ITERATIONS: usize = 20_000_000;
/// Independent accumulator chains.
const CHAINS: usize = 12;
/// Runs per measurement; the fastest counts.
const TRIES: usize = 3;

/// The measured peak of one instruction set.
#[derive(Clone, Debug)]
pub struct Peak {
    /// `avx512`, `avx2` or `scalar`.
    pub isa: &'static str,
    /// f32 lanes per register.
    pub lanes: usize,
    /// GFLOP/s with one thread.
    pub one_thread: f64,
    /// GFLOP/s with all the probe's threads together.
    pub all_threads: f64,
}

struct Chains {
    iterations: usize,
}

impl WithSimd for Chains {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f32 {
        let mut acc = [simd.splat_f32s(0.0); CHAINS];
        let scale = simd.splat_f32s(0.999_999);
        let step = simd.splat_f32s(1e-7);
        for _ in 0..self.iterations {
            for sum in &mut acc {
                *sum = simd.mul_add_f32s(*sum, scale, step);
            }
        }
        acc.iter().map(|&sum| simd.reduce_sum_f32s(sum)).sum()
    }
}

fn gflops(arch: pulp::Arch, lanes: usize, threads: usize) -> f64 {
    let mut best = 0f64;
    for _ in 0..TRIES {
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    std::hint::black_box(arch.dispatch(Chains { iterations: ITERATIONS }))
                });
            }
        });
        let seconds = started.elapsed().as_secs_f64();
        let flops = (threads * ITERATIONS * CHAINS * lanes * 2) as f64;
        best = best.max(flops / seconds / 1e9);
    }
    best
}

/// Peaks of every instruction set available, widest first.
pub fn measure(threads: usize) -> Vec<Peak> {
    let mut arches: Vec<(&'static str, pulp::Arch)> = Vec::new();
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        if let Some(v4) = pulp::x86::V4::try_new() {
            arches.push(("avx512", pulp::Arch::V4(v4)));
        }
        if let Some(v3) = pulp::x86::V3::try_new() {
            arches.push(("avx2", pulp::Arch::V3(v3)));
        }
    }
    if arches.is_empty() {
        arches.push(("scalar", pulp::Arch::Scalar));
    }
    arches
        .into_iter()
        .map(|(isa, arch)| {
            struct Lanes;
            impl WithSimd for Lanes {
                type Output = usize;
                #[inline(always)]
                fn with_simd<S: Simd>(self, _simd: S) -> usize {
                    S::F32_LANES
                }
            }
            let lanes = arch.dispatch(Lanes);
            Peak {
                isa,
                lanes,
                one_thread: gflops(arch, lanes, 1),
                all_threads: gflops(arch, lanes, threads),
            }
        })
        .collect()
}
