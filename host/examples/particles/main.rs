//! `particles`: a small Rust application — a 2-D particle simulation — that opens a
//! Jupyter notebook on its own live state with `pyo3_kernel::embed::KernelHost`.
//!
//! ```text
//! particles install [--user | --sys-prefix | --prefix P]   register the "particles" kernel
//! particles kernel -f CONNECTION_FILE                        (what Jupyter runs)
//! particles run [--steps N] [--connection-file PATH]         run the app, then serve a
//!                                                            kernel on its state until a
//!                                                            client shuts it down
//! ```

mod simulation;

use pyo3::prelude::*;
use pyo3_kernel::embed::{KernelHost, SpecLocation};
use simulation::Simulation;
use std::path::PathBuf;
use std::process::ExitCode;

/// The Python module `particles`: the app's types and functions, seen from notebooks.
#[pymodule]
mod particles {
    #[pymodule_export]
    use crate::simulation::{settle, Simulation};
}

fn host(sim: Py<Simulation>) -> KernelHost {
    KernelHost::new()
        .python_module("particle_plots", include_str!("particle_plots.py"))
        .namespace(move |_py, ns| ns.set_item("sim", sim))
}

fn new_simulation() -> Result<Py<Simulation>, String> {
    Python::attach(|py| Py::new(py, Simulation::new(200, 7))).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    pyo3_kernel::append_to_inittab!(particles);
    let result = match args.get(1).map(String::as_str) {
        Some("kernel") => return exit(kernel(&args[2..])),
        Some("install") => install(&args[2..]),
        Some("run") => run(&args[2..]),
        _ => Err(
            "usage: particles install [--user|--sys-prefix|--prefix P] | kernel -f FILE | \
             run [--steps N] [--connection-file PATH]"
                .to_string(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("particles: {message}");
            ExitCode::FAILURE
        }
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Launched by Jupyter: a fresh simulation, served until shutdown.
fn kernel(args: &[String]) -> i32 {
    let start = KernelHost::new().start_python().map_err(|e| e.to_string());
    match start.and_then(|()| new_simulation()) {
        Ok(sim) => host(sim).run_kernel(args),
        Err(message) => {
            eprintln!("particles: {message}");
            1
        }
    }
}

fn install(args: &[String]) -> Result<(), String> {
    let location = match args.first().map(String::as_str) {
        None | Some("--user") => SpecLocation::User,
        Some("--sys-prefix") => SpecLocation::SysPrefix,
        Some("--prefix") => SpecLocation::Prefix(PathBuf::from(
            args.get(1).ok_or("--prefix needs a directory")?,
        )),
        Some(other) => return Err(format!("unknown install option {other}")),
    };
    let dest = KernelHost::new()
        .install_kernelspec("particles", "Particles (Rust app)", &["kernel"], location)
        .map_err(|e| e.to_string())?;
    println!("Installed kernelspec particles in {}", dest.display());
    Ok(())
}

/// The application proper: simulate, open a notebook on the live state, carry on.
fn run(args: &[String]) -> Result<(), String> {
    let mut steps = 100;
    let mut connection_file = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--steps" => {
                steps = rest
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--steps N")?
            }
            "--connection-file" => {
                connection_file = Some(PathBuf::from(rest.next().ok_or("--connection-file PATH")?))
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    KernelHost::new()
        .start_python()
        .map_err(|e| e.to_string())?;
    let sim = new_simulation()?;
    Python::attach(|py| sim.borrow_mut(py).advance(steps, 0.01));
    report("before the notebook", &sim);
    println!("serving a kernel on the simulation; shut it down to let the app continue");
    let shared = Python::attach(|py| sim.clone_ref(py));
    host(shared)
        .serve(connection_file.as_deref())
        .map_err(|e| e.to_string())?;
    report("after the notebook", &sim);
    Ok(())
}

fn report(when: &str, sim: &Py<Simulation>) {
    Python::attach(|py| {
        let sim = sim.borrow(py);
        println!(
            "{when}: t={:.2} steps={} particles={} gravity={} energy={:.3}",
            sim.time,
            sim.steps,
            sim.len(),
            sim.gravity,
            sim.energy()
        );
    });
}
