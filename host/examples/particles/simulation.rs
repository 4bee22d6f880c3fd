//! A box of bouncing particles under gravity: the application's state.

use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// Particles in the unit box, falling under `gravity` and bouncing off the walls.
#[pyclass(module = "particles")]
pub struct Simulation {
    positions: Vec<(f64, f64)>,
    velocities: Vec<(f64, f64)>,
    /// Downward acceleration (changeable from the notebook).
    #[pyo3(get, set)]
    pub gravity: f64,
    /// Fraction of speed kept at each bounce.
    #[pyo3(get, set)]
    pub restitution: f64,
    /// Simulated time so far.
    #[pyo3(get)]
    pub time: f64,
    /// Steps taken so far.
    #[pyo3(get)]
    pub steps: u64,
}

impl Simulation {
    /// `count` particles at pseudo-random positions and speeds (deterministic in `seed`).
    pub fn new(count: usize, seed: u64) -> Self {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64) / ((1u64 << 53) as f64)
        };
        let positions = (0..count).map(|_| (next(), next())).collect();
        let velocities = (0..count).map(|_| (next() - 0.5, next() - 0.5)).collect();
        Self {
            positions,
            velocities,
            gravity: 9.81,
            restitution: 0.9,
            time: 0.0,
            steps: 0,
        }
    }

    /// Number of particles.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Advances `steps` steps of `dt` seconds.
    pub fn advance(&mut self, steps: u64, dt: f64) {
        for _ in 0..steps {
            for (p, v) in self.positions.iter_mut().zip(self.velocities.iter_mut()) {
                v.1 -= self.gravity * dt;
                p.0 += v.0 * dt;
                p.1 += v.1 * dt;
                if p.0 < 0.0 || p.0 > 1.0 {
                    p.0 = p.0.clamp(0.0, 1.0);
                    v.0 = -v.0 * self.restitution;
                }
                if p.1 < 0.0 || p.1 > 1.0 {
                    p.1 = p.1.clamp(0.0, 1.0);
                    v.1 = -v.1 * self.restitution;
                }
            }
            self.time += dt;
            self.steps += 1;
        }
    }

    /// Kinetic plus potential energy of all particles (unit masses).
    pub fn energy(&self) -> f64 {
        self.positions
            .iter()
            .zip(&self.velocities)
            .map(|(p, v)| 0.5 * (v.0 * v.0 + v.1 * v.1) + self.gravity * p.1)
            .sum()
    }
}

#[pymethods]
impl Simulation {
    #[new]
    #[pyo3(signature = (count=200, seed=7))]
    fn py_new(count: usize, seed: u64) -> Self {
        Self::new(count, seed)
    }

    /// Advance `steps` steps of `dt` seconds.
    #[pyo3(name = "step", signature = (steps=1, dt=0.01))]
    fn py_step(&mut self, steps: u64, dt: f64) {
        self.advance(steps, dt);
    }

    /// Total energy.
    #[pyo3(name = "energy")]
    fn py_energy(&self) -> f64 {
        self.energy()
    }

    /// Particle positions as a list of (x, y).
    fn positions(&self) -> Vec<(f64, f64)> {
        self.positions.clone()
    }

    fn __len__(&self) -> usize {
        self.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Simulation({} particles, t={:.2}, gravity={}, energy={:.3})",
            self.len(),
            self.time,
            self.gravity,
            self.energy()
        )
    }
}

/// Runs `sim` until its energy falls below `target` (or forever): a long Rust
/// computation that releases the GIL while it works and checks for interrupts every
/// few milliseconds, so the notebook's stop button ends it with KeyboardInterrupt.
/// Returns the energy after each 100 steps.
#[pyfunction]
#[pyo3(signature = (sim, target=0.0, dt=0.001))]
pub fn settle(
    py: Python<'_>,
    sim: &Bound<'_, Simulation>,
    target: f64,
    dt: f64,
) -> PyResult<Vec<f64>> {
    let mut history = Vec::new();
    let mut guard = sim.borrow_mut();
    let state: &mut Simulation = &mut guard;
    loop {
        py.check_signals()?;
        let settled = py.detach(|| {
            let deadline = Instant::now() + Duration::from_millis(5);
            while Instant::now() < deadline {
                state.advance(100, dt);
                let energy = state.energy();
                history.push(energy);
                if energy <= target {
                    return true;
                }
            }
            false
        });
        if settled {
            return Ok(history);
        }
    }
}
