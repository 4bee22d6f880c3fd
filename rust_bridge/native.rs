//! Native functions that run long and stay interruptible: they call
//! `Python::check_signals` at least every 10 ms, also while the GIL is released.

use crate::panics::guard;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// How often long native work looks for a pending Ctrl-C / interrupt.
pub const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(5);

/// Raises `KeyboardInterrupt` (or whatever a signal handler raises) if a signal is pending.
#[pyfunction]
pub fn check_signals(py: Python<'_>) -> PyResult<()> {
    py.check_signals()
}

/// Sleeps for `seconds` with the GIL released, waking every few milliseconds to
/// re-attach briefly and check for signals, so an interrupt stops it at once.
#[pyfunction]
pub fn sleep(py: Python<'_>, seconds: f64) -> PyResult<()> {
    guard(|| {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(PyValueError::new_err(format!(
                "sleep length must be a finite number >= 0, got {seconds}"
            )));
        }
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        loop {
            py.check_signals()?;
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            let nap = (deadline - now).min(SIGNAL_CHECK_INTERVAL);
            py.detach(|| std::thread::sleep(nap));
        }
    })
}

/// Largest accepted limit: keeps the table of base primes (sqrt(limit) bytes) small.
pub const MAX_PRIME_LIMIT: u64 = 10_000_000_000_000;

/// Numbers sieved per segment: 256 Ki odd numbers fit in L2 cache as bytes.
const SEGMENT: u64 = 1 << 18;

/// Counts the primes below `limit` with a segmented sieve of Eratosthenes, in Rust,
/// with the GIL released. CPU-bound for seconds on realistic inputs (`limit = 2e9`
/// takes a few seconds), yet an interrupt stops it within milliseconds: it
/// re-attaches to check for signals every few milliseconds.
#[pyfunction]
pub fn count_primes(py: Python<'_>, limit: u64) -> PyResult<u64> {
    guard(|| {
        if limit > MAX_PRIME_LIMIT {
            return Err(PyValueError::new_err(format!(
                "count_primes limit must be at most {MAX_PRIME_LIMIT}, got {limit}"
            )));
        }
        let mut sieve = SegmentedSieve::new(limit);
        loop {
            py.check_signals()?;
            let done = py.detach(|| {
                let deadline = Instant::now() + SIGNAL_CHECK_INTERVAL;
                while Instant::now() < deadline {
                    if !sieve.next_segment() {
                        return true;
                    }
                }
                false
            });
            if done {
                return Ok(sieve.count);
            }
        }
    })
}

/// A sieve over [0, limit) processed one segment at a time, so it can pause between
/// segments.
struct SegmentedSieve {
    limit: u64,
    base_primes: Vec<u64>,
    low: u64,
    count: u64,
    marks: Vec<bool>,
}

impl SegmentedSieve {
    fn new(limit: u64) -> Self {
        let root = (limit as f64).sqrt() as u64 + 1;
        let mut is_composite = vec![false; (root + 1) as usize];
        let mut base_primes = Vec::new();
        for n in 2..=root {
            if !is_composite[n as usize] {
                base_primes.push(n);
                let mut multiple = n * n;
                while multiple <= root {
                    is_composite[multiple as usize] = true;
                    multiple += n;
                }
            }
        }
        Self {
            limit,
            base_primes,
            low: 0,
            count: 0,
            marks: vec![false; SEGMENT as usize],
        }
    }

    /// Sieves the next segment; false when the whole range is done.
    fn next_segment(&mut self) -> bool {
        if self.low >= self.limit {
            return false;
        }
        let high = (self.low + SEGMENT).min(self.limit);
        let len = (high - self.low) as usize;
        let marks = &mut self.marks[..len];
        marks.fill(true);
        for n in self.low..high.min(2) {
            marks[(n - self.low) as usize] = false; // 0 and 1 are not prime
        }
        for &p in &self.base_primes {
            if p * p >= high {
                break;
            }
            let first = (p * p).max(self.low.div_ceil(p) * p);
            let mut multiple = first;
            while multiple < high {
                marks[(multiple - self.low) as usize] = false;
                multiple += p;
            }
        }
        self.count += marks.iter().filter(|&&m| m).count() as u64;
        self.low = high;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::SegmentedSieve;

    fn count(limit: u64) -> u64 {
        let mut sieve = SegmentedSieve::new(limit);
        while sieve.next_segment() {}
        sieve.count
    }

    #[test]
    fn counts_known_prime_totals() {
        assert_eq!(count(0), 0);
        assert_eq!(count(2), 0);
        assert_eq!(count(3), 1);
        assert_eq!(count(100), 25);
        assert_eq!(count(1_000_000), 78_498);
        assert_eq!(count(10_000_000), 664_579);
    }
}
