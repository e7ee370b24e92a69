//! Scratch buffers that start on a cache line.
//!
//! The kernels load and store 64 bytes at a time, at offsets that are multiples of 64 bytes
//! from a buffer's start. When the start is not itself on a 64-byte boundary (the allocator
//! promises 16), every such access touches two cache lines, and a store followed by a load
//! of the same place can no longer be forwarded. On the batched solve that cost a third of
//! its time (see docs/performance.md).

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use bytemuck::{Pod, Zeroable};

/// One cache line of bytes, the unit of allocation.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(64))]
struct Line([u64; 8]);

/// A zero-initialised buffer of `T` (a plain number type) whose first element sits on a
/// 64-byte boundary.
#[derive(Clone)]
pub(crate) struct AlignedBuffer<T> {
    lines: Vec<Line>,
    len: usize,
    element: PhantomData<T>,
}

impl<T: Pod> AlignedBuffer<T> {
    /// `len` zeros.
    pub(crate) fn zeroed(len: usize) -> Self {
        let bytes = len * size_of::<T>();
        let lines = vec![Line::zeroed(); bytes.div_ceil(size_of::<Line>())];
        AlignedBuffer { lines, len, element: PhantomData }
    }

    /// Grows to `len` elements (new ones zero); never shrinks, and keeps the contents.
    pub(crate) fn grow_to(&mut self, len: usize) {
        if len > self.len {
            let bytes = len * size_of::<T>();
            self.lines.resize(bytes.div_ceil(size_of::<Line>()), Line::zeroed());
            self.len = len;
        }
    }
}

impl<T: Pod> Deref for AlignedBuffer<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &bytemuck::cast_slice(&self.lines)[..self.len]
    }
}

impl<T: Pod> DerefMut for AlignedBuffer<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut bytemuck::cast_slice_mut(&mut self.lines)[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_cache_line_and_holds_exactly_len_zeros() {
        for len in [0, 1, 15, 16, 17, 1000] {
            let buffer = AlignedBuffer::<f32>::zeroed(len);
            assert_eq!(buffer.as_ptr() as usize % 64, 0);
            assert_eq!(buffer.len(), len);
            assert!(buffer.iter().all(|&x| x == 0.0));
        }
    }

    #[test]
    fn grows_keeping_its_contents_and_alignment() {
        let mut buffer = AlignedBuffer::<f64>::zeroed(3);
        buffer[2] = 7.0;
        buffer.grow_to(100);
        assert_eq!(buffer.len(), 100);
        assert_eq!(buffer[2], 7.0);
        assert_eq!(buffer[99], 0.0);
        assert_eq!(buffer.as_ptr() as usize % 64, 0);
        buffer.grow_to(10);
        assert_eq!(buffer.len(), 100, "never shrinks");
    }
}
