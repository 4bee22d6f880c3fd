//! Build script: embeds an rpath to the directory holding libpython, so the engine's
//! test binaries find `libpython3.x.so` at run time even where it is not on the
//! loader path (pyenv).

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    let config = pyo3_build_config::get();
    if let Some(lib_dir) = config.lib_dir() {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    }
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
}
