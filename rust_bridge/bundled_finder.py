"""Imports the kernel's Python package from sources compiled into the Rust binary.

Installed first on ``sys.meta_path`` by applications that embed the kernel, so they
run the kernel code of the crate they were built with, and need only ipykernel (and
its dependencies) in their Python environment.
"""

import importlib.abc
import importlib.util
import sys


class BundledFinder(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    def __init__(self, sources):
        self.sources = sources  # module name -> (is_package, source)

    def find_spec(self, name, path=None, target=None):
        if name not in self.sources:
            return None
        is_package = self.sources[name][0]
        return importlib.util.spec_from_loader(
            name, self, origin=f"<bundled {name}>", is_package=is_package
        )

    def is_package(self, name):
        return self.sources[name][0]

    def get_source(self, name):
        return self.sources[name][1]

    def get_code(self, name):
        return compile(self.get_source(name), f"<bundled {name}>", "exec", dont_inherit=True)


def install(sources):
    sys.meta_path.insert(0, BundledFinder(sources))
