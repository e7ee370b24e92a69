//! Reusing a finished array's memory for the next one.
//!
//! A large array freed and another allocated a moment later costs a round trip through the
//! kernel: the freed pages are unmapped, and the new ones fault in one at a time (on a virtual
//! machine whose host reclaims free memory, each fault can cost tens of microseconds). Building
//! the next array in the finished one's buffer skips both.

/// A vector of `len` elements in `buffer`'s memory when it has room for them, else a fresh one
/// (whose pages the allocator maps zeroed, so that they are touched only when written).
///
/// The elements are whatever `buffer` held (defaults past its length): callers overwrite every
/// one, and leaving the leftovers saves a pass over hundreds of megabytes.
pub fn reuse_for<T: Copy + Default>(mut buffer: Vec<T>, len: usize) -> Vec<T> {
    if buffer.capacity() < len {
        drop(buffer);
        return vec![T::default(); len];
    }
    if buffer.len() >= len {
        buffer.truncate(len);
    } else {
        buffer.resize(len, T::default());
    }
    // The room past `len` goes back (for a large buffer the allocator shrinks the mapping in
    // place, without a copy).
    buffer.shrink_to_fit();
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_with_room_is_reused_in_place() {
        // Leftover sevens show that the memory was reused, not allocated afresh.
        for (held, len, expected) in [(10, 6, vec![7; 6]), (3, 6, vec![7, 7, 7, 0, 0, 0])] {
            let mut buffer = Vec::with_capacity(10);
            buffer.resize(held, 7u32);

            let reused = reuse_for(buffer, len);

            assert_eq!(reused, expected);
            assert_eq!(reused.capacity(), len);
        }
    }

    #[test]
    fn a_buffer_too_small_is_replaced_by_zeros() {
        assert_eq!(reuse_for(vec![1.5f32; 2], 4), [0.0; 4]);
        assert_eq!(reuse_for(Vec::<u64>::new(), 3), [0; 3]);
    }
}
