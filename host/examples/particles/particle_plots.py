"""Plot helpers for the particles app, bundled into the binary (include_str!)."""


def plot_positions(sim, ax=None):
    """Scatter plot of the particles of ``sim``."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    xs, ys = zip(*sim.positions(), strict=True)
    ax.scatter(xs, ys, s=6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"{len(sim)} particles at t={sim.time:.2f}")
    return ax


def plot_energy(history, ax=None):
    """Line plot of an energy history (from ``particles.settle``)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.plot(history)
    ax.set_xlabel("hundreds of steps")
    ax.set_ylabel("energy")
    return ax
