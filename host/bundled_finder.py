"""Imports the kernel's Python package from sources compiled into the Rust binary.

Installed first on ``sys.meta_path`` by applications that embed the kernel, so they
run the kernel code of the crate they were built with, and need only ipykernel (and
its dependencies) in their Python environment. The package's data files (the
kernelspec template and logos) are compiled in too, read with ``pkgutil.get_data``.
"""

import importlib.abc
import importlib.util
import sys

ROOT = "<bundled>/"


class BundledFinder(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    def __init__(self, sources, data):
        self.sources = sources  # module name -> (is_package, source)
        self.data = data  # path below the package -> bytes

    def find_spec(self, name, path=None, target=None):
        if name not in self.sources:
            return None
        spec = importlib.util.spec_from_loader(
            name, self, origin=self.get_filename(name), is_package=self.is_package(name)
        )
        spec.has_location = True  # gives the module a __file__ (pkgutil.get_data needs it)
        return spec

    def get_filename(self, name):
        parts = name.split(".")
        if self.is_package(name):
            parts.append("__init__")
        return ROOT + "/".join(parts) + ".py"

    def is_package(self, name):
        return self.sources[name][0]

    def get_source(self, name):
        return self.sources[name][1]

    def get_code(self, name):
        return compile(self.get_source(name), self.get_filename(name), "exec", dont_inherit=True)

    def get_data(self, path):
        key = path[len(ROOT) :].split("/", 1)[-1] if path.startswith(ROOT) else None
        if key not in self.data:
            raise OSError(f"no bundled data file {path!r}")
        return self.data[key]


def install(sources, data):
    if not any(isinstance(finder, BundledFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, BundledFinder(sources, data))
