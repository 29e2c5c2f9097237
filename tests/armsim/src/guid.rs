//! Generation of GUIDs and opaque strings (resource GUIDs, etags, operation ids, tokens).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Produces distinct, unpredictable-enough identifiers without an RNG dependency: a per-process
/// random hasher keyed over a counter. Test oracles need uniqueness, not cryptographic strength.
#[derive(Debug)]
pub(crate) struct IdGen {
    state: RandomState,
    counter: AtomicU64,
}

impl IdGen {
    pub fn new() -> Self {
        IdGen { state: RandomState::new(), counter: AtomicU64::new(1) }
    }

    fn next_u64(&self, salt: u64) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut h = self.state.build_hasher();
        h.write_u64(n);
        h.write_u64(salt);
        h.finish()
    }

    /// A random-looking GUID in the 8-4-4-4-12 form Azure uses.
    pub fn guid(&self) -> String {
        let a = self.next_u64(1);
        let b = self.next_u64(2);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            (a >> 32) as u32,
            (a >> 16) as u16,
            (a as u16) & 0x0fff,
            (((b >> 48) as u16) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// A weak etag as Microsoft.Network formats it: `W/"guid"`.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.guid())
    }

    /// An opaque token of `n` 64-bit words in hex.
    pub fn opaque(&self, words: usize) -> String {
        (0..words).map(|i| format!("{:016x}", self.next_u64(100 + i as u64))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_distinct_and_well_formed() {
        let g = IdGen::new();
        let a = g.guid();
        let b = g.guid();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12]);
        assert!(g.etag().starts_with("W/\""));
    }
}
