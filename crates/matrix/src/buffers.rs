//! Reusing a finished array's memory for the next one.
//!
//! A large array freed and another allocated a moment later costs a round trip through the
//! kernel: the freed pages are unmapped, and the new ones fault in one at a time (on a virtual
//! machine whose host reclaims free memory, each fault can cost tens of microseconds). Building
//! the next array in the finished one's buffer skips both.

/// `len` zeros in `buffer`'s memory when it has room for them, else in a fresh allocation
/// (whose pages the allocator maps zeroed, so that they are touched only when written).
pub fn zeros_reusing<T: Copy + Default>(mut buffer: Vec<T>, len: usize) -> Vec<T> {
    if buffer.capacity() < len {
        return vec![T::default(); len];
    }
    buffer.clear();
    buffer.resize(len, T::default());
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_with_room_is_zeroed_in_place() {
        let buffer = vec![7u32; 10];
        let address = buffer.as_ptr();

        let zeros = zeros_reusing(buffer, 6);

        assert_eq!(zeros, [0; 6]);
        assert_eq!(zeros.as_ptr(), address);
    }

    #[test]
    fn a_buffer_too_small_is_replaced() {
        assert_eq!(zeros_reusing(vec![1.5f32; 2], 4), [0.0; 4]);
        assert_eq!(zeros_reusing(Vec::<u64>::new(), 3), [0; 3]);
    }
}
