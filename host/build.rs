//! Build script:
//! - refuses a free-threaded CPython (3.13t/3.14t), which the engine does not support;
//! - tells the launcher (`pyo3-kernel`) which libpython the host needs: its version,
//!   and whether it is linked at all (a static libpython is inside the host);
//! - embeds an rpath to the directory holding libpython into the examples and test
//!   binaries (run in place, on the build machine), never into the host that the wheel
//!   ships: there the launcher finds the user's libpython at run time;
//! - with a static libpython, exports the C API from the host so extension modules load;
//! - records the interpreter built against (the SDK's fallback `sys.executable`);
//! - bundles the kernel's Python package (`kernel/pyo3_kernel/*.py`) into the crate,
//!   so applications that embed the kernel need only ipykernel installed.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    let config = pyo3_build_config::get();
    if config.is_free_threaded() {
        panic!(
            "pyo3-kernel does not support free-threaded CPython (the `t` builds): its engine \
             relies on the GIL. Build with a regular CPython >= 3.10 (PYO3_PYTHON=python3.X)."
        );
    }
    let version = config.version();
    let ldversion = config
        .lib_name()
        .and_then(|name| name.strip_prefix("python"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.{}", version.major, version.minor));
    println!("cargo:rustc-env=PYO3_KERNEL_LDVERSION={ldversion}");
    let shared = if config.shared() { "1" } else { "0" };
    println!("cargo:rustc-env=PYO3_KERNEL_LIBPYTHON_SHARED={shared}");
    if let Some(lib_dir) = config.lib_dir() {
        println!("cargo:rustc-link-arg-examples=-Wl,-rpath,{lib_dir}");
    }
    if !config.shared() {
        // Extension modules (numpy, _ssl, pyzmq) resolve the C API against the
        // program that loads them, which holds libpython here.
        println!("cargo:rustc-link-arg-bin=pyo3-kernel-host=-Wl,--export-dynamic");
        println!("cargo:rustc-link-arg-examples=-Wl,--export-dynamic");
    }
    let python = config.executable().unwrap_or_default();
    println!("cargo:rustc-env=PYO3_KERNEL_BUILD_PYTHON={python}");
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    bundle_kernel_package();
}

/// Writes `$OUT_DIR/bundled_kernel.rs`: `(module name, is package, source)` for every
/// file of the `pyo3_kernel` package, and its data files (the kernelspec template).
fn bundle_kernel_package() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let package = manifest.join("..").join("kernel").join("pyo3_kernel");
    println!("cargo:rerun-if-changed={}", package.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&package)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("/// The kernel's Python package: (module, is_package, source).\n");
    out.push_str("pub const KERNEL_SOURCES: &[(&str, bool, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let (module, is_package) = if stem == "__init__" {
            ("pyo3_kernel".to_string(), true)
        } else {
            (format!("pyo3_kernel.{stem}"), false)
        };
        out.push_str(&format!(
            "    ({module:?}, {is_package}, include_str!({:?})),\n",
            file.display().to_string()
        ));
    }
    out.push_str("];\n");
    out.push_str("/// Its data files: (path below the package, contents).\n");
    out.push_str("pub const KERNEL_DATA: &[(&str, &[u8])] = &[\n");
    let specs = package.join("kernelspec");
    let mut data: Vec<PathBuf> = fs::read_dir(&specs)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .collect()
        })
        .unwrap_or_default();
    data.sort();
    for file in &data {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        out.push_str(&format!(
            "    (\"kernelspec/{name}\", include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    let target = Path::new(&out_dir).join("bundled_kernel.rs");
    if fs::read_to_string(&target).ok().as_deref() != Some(out.as_str()) {
        fs::write(&target, out).unwrap_or_else(|err| panic!("cannot write {target:?}: {err}"));
    }
}
