//! Embed the kernel in your own Rust application.
//!
//! A Rust program that embeds Python with PyO3 gets a Jupyter kernel whose
//! namespace sees its own `#[pymodule]`s and live state. The kernel's Python code is
//! compiled into this crate, so the application's Python environment needs only
//! `ipykernel` (and its dependencies).
//!
//! ```no_run
//! use pyo3::prelude::*;
//! use pyo3_kernel::embed::KernelHost;
//!
//! #[pyfunction]
//! fn answer() -> u32 {
//!     42
//! }
//!
//! #[pymodule]
//! fn my_app(m: &Bound<'_, PyModule>) -> PyResult<()> {
//!     m.add_function(wrap_pyfunction!(answer, m)?)
//! }
//!
//! fn main() {
//!     // 1. Register your modules before the interpreter starts.
//!     pyo3_kernel::append_to_inittab!(my_app);
//!     let host = KernelHost::new()
//!         // 2. Python helpers bundled into the binary, and/or a folder on sys.path.
//!         .python_module("helpers", "def double(x):\n    return 2 * x\n")
//!         .python_path("/opt/my_app/python")
//!         // 3. Objects of your own in the notebook's namespace.
//!         .namespace(|py, ns| ns.set_item("app_name", "demo"));
//!     // 4a. As the process Jupyter launches (kernelspec argv: [app, "-f", "{connection_file}"]):
//!     let args: Vec<String> = std::env::args().skip(1).collect();
//!     std::process::exit(host.run_kernel(&args));
//!     // 4b. Or embed_kernel-style, from inside the running app:
//!     // host.serve(None)?;  // blocks until the notebook shuts the kernel down
//! }
//! ```

use crate::launch;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyModule};
use std::ffi::CString;
use std::fmt;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/bundled_kernel.rs"));

const BUNDLED_FINDER: &str = include_str!("bundled_finder.py");
/// Something that stopped the host: a message for the user.
#[derive(Debug)]
pub struct HostError(pub String);

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostError {}

impl From<PyErr> for HostError {
    fn from(err: PyErr) -> Self {
        Python::attach(|py| {
            let traceback = err
                .traceback(py)
                .and_then(|tb| tb.format().ok())
                .unwrap_or_default();
            HostError(format!("{traceback}{err}"))
        })
    }
}

type Setup = Box<dyn FnOnce(Python<'_>, &Bound<'_, PyDict>) -> PyResult<()>>;

/// Where [`KernelHost::install_kernelspec`] writes the kernelspec.
#[derive(Debug, Clone)]
pub enum SpecLocation {
    /// The user's Jupyter data directory.
    User,
    /// The Python environment's `share/jupyter/kernels` (`sys.prefix`).
    SysPrefix,
    /// `PREFIX/share/jupyter/kernels`.
    Prefix(PathBuf),
}

/// Builds and runs a Jupyter kernel inside a Rust application.
///
/// Register your own `#[pymodule]`s with [`append_to_inittab!`] before calling any
/// method that starts Python; then add Python helpers and namespace objects, and run
/// the kernel with [`run_kernel`](Self::run_kernel) (launched by Jupyter) or
/// [`serve`](Self::serve) (embedded in a running application).
#[derive(Default)]
pub struct KernelHost {
    modules: Vec<(String, String)>,
    paths: Vec<PathBuf>,
    setups: Vec<Setup>,
}

impl KernelHost {
    /// A host with nothing added yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bundles a Python module into the binary: `source` (e.g. `include_str!("x.py")`)
    /// is loaded with `PyModule::from_code` as module `name` before the kernel starts.
    /// Modules load in the order added, so a module may import those before it.
    pub fn python_module(mut self, name: &str, source: &str) -> Self {
        self.modules.push((name.to_string(), source.to_string()));
        self
    }

    /// Puts a folder of Python files on `sys.path` (first), at run time.
    pub fn python_path(mut self, dir: impl Into<PathBuf>) -> Self {
        self.paths.push(dir.into());
        self
    }

    /// Runs `setup` with the notebook's namespace (the `__main__` module's dict)
    /// before the kernel starts: put your application's objects there.
    pub fn namespace(
        mut self,
        setup: impl FnOnce(Python<'_>, &Bound<'_, PyDict>) -> PyResult<()> + 'static,
    ) -> Self {
        self.setups.push(Box::new(setup));
        self
    }

    /// Starts the interpreter for this binary's Python environment (see
    /// [`launch::environment_python`]) with the `rust_bridge` engine built in, if it is not running.
    pub fn start_python(&self) -> Result<(), HostError> {
        let argv: Vec<String> = std::env::args().collect();
        launch::start(&argv).map_err(HostError)
    }

    /// Runs the kernel as the process Jupyter launched: `args` are the kernel's
    /// arguments (`-f CONNECTION_FILE`, `--Class.trait=value`). Returns the exit code.
    pub fn run_kernel(mut self, args: &[String]) -> i32 {
        let prepared = self.start_python().and_then(|()| self.prepare());
        if let Err(err) = prepared {
            eprintln!("{err}");
            return 1;
        }
        launch::call_kernel_cli(args)
    }

    /// Runs a kernel from inside the running application, `embed_kernel`-style, and
    /// blocks until a client shuts it down; the namespace (and so any state the
    /// notebook changed) stays. With `Some(path)` the connection file is written
    /// there, with `None` into Jupyter's runtime directory; either way its path is
    /// printed, for `jupyter console --existing PATH`.
    pub fn serve(mut self, connection_file: Option<&Path>) -> Result<(), HostError> {
        self.start_python()?;
        self.prepare()?;
        Python::attach(|py| -> PyResult<()> {
            let file = connection_file.map(|p| p.to_string_lossy().into_owned());
            let kwargs = PyDict::new(py);
            kwargs.set_item("write_connection_file", true)?;
            py.import("pyo3_kernel.app")?
                .getattr("serve")?
                .call((file, PyList::empty(py)), Some(&kwargs))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Writes a kernelspec that launches this binary as `[binary, *args, "-f",
    /// "{connection_file}"]`, with the kernel's logos, through the kernel's own
    /// kernelspec writer (`pyo3_kernel.install`). Returns where it went.
    pub fn install_kernelspec(
        &self,
        name: &str,
        display_name: &str,
        args: &[&str],
        location: SpecLocation,
    ) -> Result<PathBuf, HostError> {
        self.start_python()?;
        let exe = std::env::current_exe()
            .map_err(|err| HostError(format!("cannot find this program's path: {err}")))?;
        let dest = Python::attach(|py| -> PyResult<String> {
            install_bundled_kernel(py)?;
            let mut command: Vec<String> = vec![exe.to_string_lossy().into_owned()];
            command.extend(args.iter().map(|a| a.to_string()));
            let kwargs = PyDict::new(py);
            kwargs.set_item("command", command)?;
            match &location {
                SpecLocation::User => kwargs.set_item("user", true)?,
                SpecLocation::SysPrefix => {
                    kwargs.set_item("prefix", py.import("sys")?.getattr("prefix")?)?
                }
                SpecLocation::Prefix(prefix) => kwargs.set_item("prefix", prefix)?,
            }
            py.import("pyo3_kernel.install")?
                .getattr("install_kernelspec")?
                .call((name, display_name), Some(&kwargs))?
                .extract::<String>()
        })?;
        Ok(PathBuf::from(dest))
    }

    /// Loads the bundled kernel package, the app's Python modules and paths, and
    /// runs the namespace setups.
    fn prepare(&mut self) -> Result<(), HostError> {
        let setups = std::mem::take(&mut self.setups);
        Python::attach(|py| -> PyResult<()> {
            install_bundled_kernel(py)?;
            let sys_path = py.import("sys")?.getattr("path")?.cast_into::<PyList>()?;
            for dir in self.paths.iter().rev() {
                sys_path.insert(0, dir)?;
            }
            let sys_modules = py.import("sys")?.getattr("modules")?;
            for (name, source) in &self.modules {
                let code = CString::new(source.as_str())?;
                let file = CString::new(format!("<bundled {name}>"))?;
                let module_name = CString::new(name.as_str())?;
                let module = PyModule::from_code(py, &code, &file, &module_name)?;
                sys_modules.set_item(name, module)?;
            }
            let namespace = py.import("__main__")?.dict();
            for setup in setups {
                setup(py, &namespace)?;
            }
            Ok(())
        })?;
        Ok(())
    }
}

/// Makes `import pyo3_kernel` load the sources compiled into this binary.
fn install_bundled_kernel(py: Python<'_>) -> PyResult<()> {
    let sources = PyDict::new(py);
    for (module, is_package, source) in KERNEL_SOURCES {
        sources.set_item(*module, (*is_package, *source))?;
    }
    let data = PyDict::new(py);
    for (path, contents) in KERNEL_DATA {
        data.set_item(*path, pyo3::types::PyBytes::new(py, contents))?;
    }
    let code = CString::new(BUNDLED_FINDER)?;
    let finder = PyModule::from_code(
        py,
        &code,
        c"<bundled pyo3_kernel finder>",
        c"_pyo3_kernel_bundle",
    )?;
    finder.call_method1("install", (sources, data))?;
    Ok(())
}
