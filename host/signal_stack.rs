//! Room for signal handlers on the alternate signal stack of the thread that runs Python.
//!
//! Rust's runtime gives the main thread an alternate signal stack (for its stack
//! overflow message) of `SIGSTKSZ` bytes, and CPython installs its handlers with
//! `SA_ONSTACK`, so every SIGINT and SIGTERM the kernel takes runs on those few KiB.
//! With AVX-512 the kernel's signal frame alone is ~3.5 KiB; a second signal arriving
//! inside the first handler (an interrupt followed at once by a gateway's SIGTERM), or
//! the dynamic linker resolving a symbol for the handler (it saves the vector state on
//! the stack again), overflowed it: the kernel died of SIGSEGV ("overflowed
//! sigaltstack" in the system log) instead of taking the signal.

/// Enough for nested signal frames and the handler, whatever the vector registers.
const SIZE: usize = 256 * 1024;

/// Gives the calling thread an alternate signal stack of at least [`SIZE`] bytes,
/// unless it has one that large or is running on it now.
pub fn enlarge() {
    // SAFETY: sigaltstack only reads and writes the stack_t values passed to it. The new
    // stack is leaked memory, so it stays valid for as long as the thread may use it
    // (the process's life); the old one is not freed here (std owns it and frees it,
    // if ever, at thread exit, when it is no longer the thread's stack). We do not
    // switch while a handler runs on the current stack (SS_ONSTACK).
    unsafe {
        let mut current: libc::stack_t = std::mem::zeroed();
        if libc::sigaltstack(std::ptr::null(), &mut current) != 0 {
            return;
        }
        let enabled = current.ss_flags & libc::SS_DISABLE == 0;
        if current.ss_flags & libc::SS_ONSTACK != 0 || (enabled && current.ss_size >= SIZE) {
            return;
        }
        let memory: &'static mut [u8] = Box::leak(vec![0u8; SIZE].into_boxed_slice());
        let larger = libc::stack_t {
            ss_sp: memory.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: SIZE,
        };
        libc::sigaltstack(&larger, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_thread_gets_a_large_signal_stack_once() {
        std::thread::spawn(|| {
            super::enlarge();
            // SAFETY: a query only: sigaltstack writes the current stack into `now`.
            let now = unsafe {
                let mut now: libc::stack_t = std::mem::zeroed();
                assert_eq!(libc::sigaltstack(std::ptr::null(), &mut now), 0);
                now
            };
            assert_eq!(now.ss_flags & libc::SS_DISABLE, 0);
            assert!(now.ss_size >= super::SIZE);
            let first = now.ss_sp;
            // Already large enough: the same stack is kept.
            super::enlarge();
            // SAFETY: as above.
            let again = unsafe {
                let mut again: libc::stack_t = std::mem::zeroed();
                libc::sigaltstack(std::ptr::null(), &mut again);
                again
            };
            assert_eq!(again.ss_sp, first);
        })
        .join()
        .expect("the test thread panicked");
    }
}
