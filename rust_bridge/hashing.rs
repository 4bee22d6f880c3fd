//! Naming code by its content: a debugger maps a breakpoint in a piece of code (a
//! cell) to the file name the code was compiled under by hashing the code, so the
//! program that compiles it must hash it the same way, on every run of that code.

use pyo3::prelude::*;
use pyo3::types::PyString;

const M: u32 = 0x5bd1_e995;

/// MurmurHash2 (32-bit, x86), as Austin Appleby wrote it: the hash of `data` with `seed`.
pub fn murmur2(data: &[u8], seed: u32) -> u32 {
    // Lengths past 4 GiB wrap, as in the reference implementation.
    let mut h = seed ^ (data.len() as u32);
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, byte) in tail.iter().enumerate() {
            k |= u32::from(*byte) << (8 * i);
        }
        h ^= k;
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

/// The MurmurHash2 of `text` encoded as UTF-8 (lone surrogates kept as their
/// three-byte form, as `surrogatepass` encodes them).
#[pyfunction(name = "murmur2")]
pub fn murmur2_text(text: &Bound<'_, PyString>, seed: u32) -> PyResult<u32> {
    if let Ok(utf8) = text.to_str() {
        return Ok(murmur2(utf8.as_bytes(), seed));
    }
    let bytes = text.call_method1("encode", ("utf-8", "surrogatepass"))?;
    Ok(murmur2(bytes.extract::<&[u8]>()?, seed))
}

#[cfg(test)]
mod tests {
    use super::murmur2;

    // Reference values: computed with an independent Python implementation of
    // MurmurHash2 (32-bit, x86), for this seed.
    const SEED: u32 = 0xC70F_6907;

    #[test]
    fn matches_the_reference_for_every_tail_length() {
        assert_eq!(murmur2(b"", SEED), REF_EMPTY);
        assert_eq!(murmur2(b"a", SEED), REF_A);
        assert_eq!(murmur2(b"ab", SEED), REF_AB);
        assert_eq!(murmur2(b"abc", SEED), REF_ABC);
        assert_eq!(murmur2(b"abcd", SEED), REF_ABCD);
        assert_eq!(murmur2("x = 1\nprint('é')\n".as_bytes(), SEED), REF_CELL);
    }

    const REF_EMPTY: u32 = 3_990_065_800;
    const REF_A: u32 = 2_167_009_006;
    const REF_AB: u32 = 2_805_137_849;
    const REF_ABC: u32 = 3_350_977_461;
    const REF_ABCD: u32 = 804_720_481;
    const REF_CELL: u32 = 781_498_507;
}
