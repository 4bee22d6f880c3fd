//! Starting the kernel: CPython configured for the Python environment the binary is
//! installed in, with the `rust_bridge` engine (and `pyo3_kernel_host`) built in and
//! Python's SIGINT handler installed, then the kernel's Python side takes over.

use pyo3::exceptions::PySystemExit;
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::{c_char, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The interpreter this binary was built against (fallback when none sits beside it).
const BUILD_PYTHON: &str = env!("PYO3_KERNEL_BUILD_PYTHON");

/// What the launcher (`pyo3-kernel`, see launcher.rs) found for the host it execs.
#[derive(Debug, Clone)]
struct Launched {
    /// The environment's `python`: decides `sys.prefix` and `sys.executable`.
    python: PathBuf,
    /// The launcher itself: what kernelspecs must run.
    launcher: PathBuf,
}

static LAUNCHED: OnceLock<Option<Launched>> = OnceLock::new();

/// Reads, once, what the launcher passed in the environment, and removes it there:
/// `LD_LIBRARY_PATH` goes back to what the user had, so the kernel's subprocesses
/// (`!pip`, multiprocessing, a nested kernel) see the user's environment, not ours.
/// Runs before the interpreter (and any other thread) starts.
fn launched() -> Option<&'static Launched> {
    LAUNCHED
        .get_or_init(|| {
            let python = std::env::var_os("PYO3_KERNEL_PYTHON")?;
            let launcher = std::env::var_os("PYO3_KERNEL_LAUNCHER").unwrap_or_default();
            restore_environment();
            Some(Launched {
                python: PathBuf::from(python),
                launcher: PathBuf::from(launcher),
            })
        })
        .as_ref()
}

fn restore_environment() {
    // Single-threaded here: nothing else reads the environment yet (see `launched`).
    if std::env::var_os("PYO3_KERNEL_LIBPYTHON_DIR").is_some() {
        match std::env::var_os("PYO3_KERNEL_ORIGINAL_LD_LIBRARY_PATH") {
            Some(value) => std::env::set_var("LD_LIBRARY_PATH", value),
            None => std::env::remove_var("LD_LIBRARY_PATH"),
        }
    }
    for name in [
        "PYO3_KERNEL_PYTHON",
        "PYO3_KERNEL_LAUNCHER",
        "PYO3_KERNEL_LIBPYTHON_DIR",
        "PYO3_KERNEL_ORIGINAL_LD_LIBRARY_PATH",
    ] {
        std::env::remove_var(name);
    }
}

/// The absolute path of the program kernelspecs must run: the launcher when the host
/// was started by it, else the running binary (an application embedding the kernel).
#[pyfunction]
pub fn executable() -> PyResult<String> {
    if let Some(launched) = launched().filter(|l| !l.launcher.as_os_str().is_empty()) {
        return Ok(launched.launcher.to_string_lossy().into_owned());
    }
    Ok(std::env::current_exe()?.to_string_lossy().into_owned())
}

/// The `python` of the environment the host belongs to: the one the launcher found,
/// else the one in the binary's own `bin/` (venv, conda, pyenv, system), else the
/// interpreter it was built with (an application run in place on the build machine).
pub fn environment_python() -> Option<PathBuf> {
    if let Some(launched) = launched() {
        return Some(launched.python.clone());
    }
    let exe = std::env::current_exe().ok()?;
    let bin = exe
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let mut candidates: Vec<PathBuf> = Vec::new();
    for dir in [exe.parent().map(Path::to_path_buf), bin]
        .into_iter()
        .flatten()
    {
        for name in ["python3", "python"] {
            candidates.push(dir.join(name));
        }
    }
    if !BUILD_PYTHON.is_empty() {
        candidates.push(PathBuf::from(BUILD_PYTHON));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// Initialises the interpreter: `executable` decides `sys.prefix`, site-packages and
/// `sys.executable`; `argv` becomes `sys.argv` untouched; Python's own signal handlers
/// are installed so SIGINT raises `KeyboardInterrupt` instead of killing the process.
pub fn initialize(executable: Option<&Path>, argv: &[String]) -> Result<(), String> {
    let c_args: Vec<CString> = argv
        .iter()
        .map(|a| {
            CString::new(a.as_bytes()).map_err(|_| format!("argument contains a NUL byte: {a:?}"))
        })
        .collect::<Result<_, _>>()?;
    let mut c_ptrs: Vec<*const c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    let executable = executable
        .map(|p| CString::new(p.as_os_str().as_encoded_bytes()))
        .transpose()
        .map_err(|_| "python path contains a NUL byte".to_string())?;

    // SAFETY: PyConfig is plain data initialised by PyConfig_InitPythonConfig before use;
    // every pointer handed to CPython (argv, executable) outlives the calls, which copy
    // them; PyConfig_Clear frees what CPython allocated; nothing else runs Python yet.
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            return Ok(());
        }
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::zeroed();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        config.parse_argv = 0;
        config.install_signal_handlers = 1;
        let mut status = ffi::PyConfig_SetBytesArgv(
            &mut config,
            c_ptrs.len() as ffi::Py_ssize_t,
            c_ptrs.as_mut_ptr(),
        );
        if ffi::PyStatus_Exception(status) == 0 {
            if let Some(exe) = &executable {
                status =
                    ffi::PyConfig_SetBytesString(&mut config, &mut config.executable, exe.as_ptr());
                if ffi::PyStatus_Exception(status) == 0 {
                    status = ffi::PyConfig_SetBytesString(
                        &mut config,
                        &mut config.program_name,
                        exe.as_ptr(),
                    );
                }
            }
        }
        if ffi::PyStatus_Exception(status) == 0 {
            status = ffi::Py_InitializeFromConfig(&config);
        }
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(status) != 0 {
            let msg = if status.err_msg.is_null() {
                "unknown error".to_string()
            } else {
                std::ffi::CStr::from_ptr(status.err_msg)
                    .to_string_lossy()
                    .into_owned()
            };
            return Err(format!("cannot start Python: {msg}"));
        }
        // Initialisation leaves this thread attached; detach so `Python::attach` works
        // the usual way from here on.
        ffi::PyEval_SaveThread();
    }
    Ok(())
}

/// Registers `rust_bridge` (before the interpreter starts) and initialises Python for
/// this binary's environment. Returns an error message fit for the user.
pub fn start(argv: &[String]) -> Result<(), String> {
    // This thread runs Python's handlers for SIGINT and SIGTERM: give them room.
    crate::signal_stack::enlarge();
    // SAFETY: checked by the macro: it panics if an interpreter is already running,
    // and we only get here before initialising one.
    if unsafe { ffi::Py_IsInitialized() } == 0 {
        use crate::pyo3_kernel_host;
        use rust_bridge::rust_bridge;
        pyo3::append_to_inittab!(rust_bridge);
        pyo3::append_to_inittab!(pyo3_kernel_host);
    }
    initialize(environment_python().as_deref(), argv)
}

/// Runs `pyo3_kernel.cli.main(argv[1:])` in the embedded interpreter; returns the exit code.
pub fn run_kernel_cli(argv: &[String]) -> i32 {
    if let Err(message) = start(argv) {
        eprintln!("pyo3-kernel: {message}");
        return 1;
    }
    call_kernel_cli(argv.get(1..).unwrap_or_default())
}

/// Calls `pyo3_kernel.cli.main(args)` in the running interpreter, then runs the atexit
/// handlers (history, temporary files) and flushes, as `python` does on exit.
pub fn call_kernel_cli(args: &[String]) -> i32 {
    Python::attach(|py| -> i32 {
        let result = py
            .import("pyo3_kernel.cli")
            .and_then(|cli| cli.call_method1("main", (args.to_vec(),)))
            .and_then(|code| code.extract::<i32>());
        let code = match result {
            Ok(code) => code,
            Err(err) if err.is_instance_of::<PySystemExit>(py) => exit_code_of(py, &err),
            Err(err) if err.is_instance_of::<pyo3::exceptions::PyImportError>(py) => {
                let prefix = py
                    .import("sys")
                    .and_then(|sys| sys.getattr("prefix"))
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                eprintln!("pyo3-kernel: cannot import the pyo3_kernel package in {prefix}: {err}");
                eprintln!(
                    "pyo3-kernel: reinstall it into this environment (pip install pyo3-kernel)"
                );
                1
            }
            Err(err) => {
                err.print(py);
                1
            }
        };
        // A private function (fenced in pyo3_kernel/compat.py, tested there).
        let _ = py
            .import("atexit")
            .and_then(|m| m.call_method0("_run_exitfuncs"));
        for stream in ["stdout", "stderr"] {
            let _ = py
                .import("sys")
                .and_then(|sys| sys.getattr(stream)?.call_method0("flush"));
        }
        code
    })
}

fn exit_code_of(py: Python<'_>, err: &PyErr) -> i32 {
    let code = err.value(py).getattr("code").ok();
    match code {
        None => 0,
        Some(code) if code.is_none() => 0,
        Some(code) => match code.extract::<i32>() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("{code}");
                1
            }
        },
    }
}
