//! Build script:
//! - embeds an rpath to the directory holding libpython, so binaries find
//!   `libpython3.x.so` at run time even where it is not on the loader path (pyenv);
//! - records the interpreter built against (the host's fallback `sys.executable`);
//! - bundles the kernel's Python package (`kernel/pyo3_kernel/*.py`) into the crate,
//!   so applications that embed the kernel need only ipykernel installed.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    let config = pyo3_build_config::get();
    if let Some(lib_dir) = config.lib_dir() {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
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
