//! `pyo3-kernel`: the launcher. It links no libpython, so it always starts; it finds
//! the Python environment it is installed in and that Python's shared libpython, then
//! execs the host (`pyo3-kernel-host`, beside it) with the library on the loader path.
//!
//! Why a separate program: the host links libpython, and the loader resolves that
//! before any of our code runs. A wheel built on one machine carries no path of that
//! machine, so the path must be found at run time, on the user's machine: a pyenv or
//! python.org build keeps libpython in `PREFIX/lib`, Debian in `/usr/lib/<multiarch>`.

use std::env;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// `3.11`: the Python version the host was built for (with `t`/`d` flags if any).
const LDVERSION: &str = env!("PYO3_KERNEL_LDVERSION");
/// `1` when the host links libpython dynamically (a static host needs no library).
const SHARED: &str = env!("PYO3_KERNEL_LIBPYTHON_SHARED");
const HOST: &str = "pyo3-kernel-host";

fn main() -> ExitCode {
    // `launch` returns only when it could not exec the host.
    let message = launch().err().unwrap_or_default();
    eprintln!("pyo3-kernel: {message}");
    ExitCode::from(1)
}

/// Execs the host; what it returns is why it could not.
fn launch() -> Result<(), String> {
    let exe = env::current_exe().map_err(|err| format!("cannot find this program: {err}"))?;
    let dir = exe.parent().unwrap_or(Path::new("/")).to_path_buf();
    let host = dir.join(HOST);
    if !host.is_file() {
        return Err(format!(
            "{} is missing; reinstall pyo3-kernel",
            host.display()
        ));
    }
    let python = environment_python(&exe)?;
    let mut command = Command::new(&host);
    command.args(env::args_os().skip(1));
    if let Some(arg0) = env::args_os().next() {
        command.arg0(arg0);
    }
    command.env("PYO3_KERNEL_PYTHON", &python);
    command.env("PYO3_KERNEL_LAUNCHER", &exe);
    // Checked for a static host too: its interpreter runs on that Python's standard
    // library, which must be of the version it was built for.
    let prefix = base_prefix(&python)?;
    check_version(&python, &prefix)?;
    if SHARED == "1" {
        let lib_dir = libpython_dir(&python, &prefix)?;
        // The host puts LD_LIBRARY_PATH back as it was before Python starts, so the
        // user's subprocesses never see ours.
        command.env("PYO3_KERNEL_LIBPYTHON_DIR", &lib_dir);
        let original = env::var_os("LD_LIBRARY_PATH");
        let mut path = OsString::from(lib_dir.as_os_str());
        if let Some(original) = &original {
            command.env("PYO3_KERNEL_ORIGINAL_LD_LIBRARY_PATH", original);
            if !original.is_empty() {
                path.push(":");
                path.push(original);
            }
        }
        command.env("LD_LIBRARY_PATH", path);
    }
    let err = command.exec();
    Err(format!("cannot run {}: {err}", host.display()))
}

/// The `python` of the environment the launcher is installed in: beside it (venv,
/// conda, pyenv, system `bin/`), else `python3.X` on PATH (a `pip install --user`
/// puts the launcher in `~/.local/bin`, without a python).
fn environment_python(exe: &Path) -> Result<PathBuf, String> {
    let versioned = format!("python{LDVERSION}");
    let mut dirs: Vec<PathBuf> = Vec::new();
    // The unresolved directory first: a venv's bin/ may be reached through a link.
    if let Some(arg0) = env::args_os().next().map(PathBuf::from) {
        if arg0.components().count() > 1 {
            if let Some(parent) = arg0.parent() {
                dirs.push(parent.to_path_buf());
            }
        }
    }
    if let Some(parent) = exe.parent() {
        dirs.push(parent.to_path_buf());
    }
    for dir in &dirs {
        // In a venv `python3` is what `python -m venv` users run (and what ipykernel's
        // kernelspec names); outside one, `python3` may be another version.
        let in_venv = dir.parent().is_some_and(|p| p.join("pyvenv.cfg").is_file());
        let names = if in_venv {
            ["python3", "python", versioned.as_str()]
        } else {
            [versioned.as_str(), "python3", "python"]
        };
        for name in names {
            let candidate = dir.join(name);
            // A venv's python is a link to its base Python, dangling when that is gone:
            // still this environment's python (`base_prefix` says what is wrong).
            if candidate.is_file() || (in_venv && candidate.symlink_metadata().is_ok()) {
                return Ok(candidate);
            }
        }
    }
    if let Some(path) = env::var_os("PATH") {
        for dir in env::split_paths(&path) {
            let candidate = dir.join(&versioned);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(format!(
        "this build is for Python {LDVERSION}, and there is no python beside {} nor \
         {versioned} on PATH; install pyo3-kernel into a Python {LDVERSION} environment",
        exe.display()
    ))
}

/// The directory holding `libpythonX.Y.so.1.0` for `python`, installed in `prefix`.
fn libpython_dir(python: &Path, prefix: &Path) -> Result<PathBuf, String> {
    let library = format!("libpython{LDVERSION}.so.1.0");
    if let Some(path) = env::var_os("PYO3_KERNEL_LIBPYTHON").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "PYO3_KERNEL_LIBPYTHON={} is not a file",
                path.display()
            ));
        }
        return Ok(path.parent().unwrap_or(Path::new("/")).to_path_buf());
    }
    let multiarch = format!("{}-linux-gnu", env::consts::ARCH);
    let candidates = [
        prefix.join("lib"),
        prefix.join("lib").join(&multiarch),
        prefix.join("lib64"),
    ];
    if let Some(dir) = candidates.iter().find(|dir| dir.join(&library).is_file()) {
        return Ok(dir.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
    Err(format!(
        "cannot find {library} for {} (looked in {}): this Python has no shared \
         library; install it (Debian/Ubuntu: apt install libpython{LDVERSION}), use a \
         Python built with --enable-shared, or set PYO3_KERNEL_LIBPYTHON to its path",
        python.display(),
        looked.join(", ")
    ))
}

/// The prefix of the Python installation behind `python`: through a venv's
/// `pyvenv.cfg` (`home = BASE/bin`), else the `bin/` the executable really lives in.
fn base_prefix(python: &Path) -> Result<PathBuf, String> {
    let bin = python.parent().unwrap_or(Path::new("/"));
    for cfg in [
        bin.join("pyvenv.cfg"),
        bin.parent().unwrap_or(bin).join("pyvenv.cfg"),
    ] {
        if let Ok(text) = std::fs::read_to_string(&cfg) {
            let home = config_value(&text, "home").ok_or_else(|| {
                format!("{} has no `home` line: the venv is broken", cfg.display())
            })?;
            if let Some(version) =
                config_value(&text, "version_info").or_else(|| config_value(&text, "version"))
            {
                let minor: Vec<&str> = version.split('.').take(2).collect();
                let built = LDVERSION.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                if minor.join(".") != built {
                    return Err(format!(
                        "this pyo3-kernel was built for Python {LDVERSION}, but the \
                         environment of {} is Python {version} ({}); install the \
                         pyo3-kernel wheel built for that Python",
                        python.display(),
                        cfg.display()
                    ));
                }
            }
            let home = PathBuf::from(home);
            if !home.is_dir() {
                return Err(format!(
                    "the Python this environment was made from is gone ({} says home = {}); \
                     recreate the environment",
                    cfg.display(),
                    home.display()
                ));
            }
            let home = home.canonicalize().unwrap_or(home);
            return Ok(home.parent().unwrap_or(&home).to_path_buf());
        }
    }
    let real = python
        .canonicalize()
        .map_err(|err| format!("cannot resolve {}: {err}", python.display()))?;
    let bin = real.parent().unwrap_or(Path::new("/"));
    Ok(bin.parent().unwrap_or(bin).to_path_buf())
}

/// Refuses a Python of another version than the build's, naming both: a wheel for
/// 3.12 in a 3.11 environment (pip's `--python-version`, a copied venv).
fn check_version(python: &Path, prefix: &Path) -> Result<(), String> {
    let stdlib = prefix.join("lib").join(format!("python{LDVERSION}"));
    if stdlib.is_dir() {
        return Ok(());
    }
    let found: Vec<String> = std::fs::read_dir(prefix.join("lib"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|name| name.starts_with("python3."))
                .collect()
        })
        .unwrap_or_default();
    let found = if found.is_empty() {
        "no Python standard library".to_string()
    } else {
        found.join(", ")
    };
    Err(format!(
        "this pyo3-kernel was built for Python {LDVERSION}, but {} belongs to {} \
         ({found}); install the pyo3-kernel wheel built for that Python",
        python.display(),
        prefix.display()
    ))
}

fn config_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        (name.trim() == key).then(|| value.trim())
    })
}
