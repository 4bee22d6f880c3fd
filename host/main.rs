//! `pyo3-kernel`: the host binary. It only sets up the interpreter and hands over to
//! the Python side (`pyo3_kernel.cli`), which runs the kernel or the installer.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let code = pyo3_kernel::launch::run_kernel_cli(&args);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
