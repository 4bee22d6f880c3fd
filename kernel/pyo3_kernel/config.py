"""IPython configuration for the kernel, read as ipykernel reads it.

The default profile's ``ipython_config`` and ``ipython_kernel_config`` files (``.py``
or ``.json``) and ``--Class.trait=value`` arguments on the kernel's command line, the
later overriding the earlier: e.g. ``--HistoryManager.enabled=False`` turns history off.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traitlets.config import Config

CONFIG_FILES = ("ipython_config", "ipython_kernel_config")


def is_config_argument(arg: str) -> bool:
    """``--Class.trait=value`` (or ``--Class.trait value``'s first half)."""
    name = arg[2:].split("=", 1)[0]
    return arg.startswith("--") and "." in name and name[:1].isupper()


def profile_dir() -> Path:
    from IPython.paths import get_ipython_dir

    return Path(get_ipython_dir()) / "profile_default"


def load(arguments: list[str]) -> Config:
    """Config from the default profile's files, then from ``arguments``."""
    from traitlets.config import Config
    from traitlets.config.loader import (
        ConfigFileNotFound,
        JSONFileConfigLoader,
        KVArgParseConfigLoader,
        PyFileConfigLoader,
    )

    config = Config()
    directory = profile_dir()
    for name in CONFIG_FILES:
        for loader in (PyFileConfigLoader, JSONFileConfigLoader):
            suffix = ".py" if loader is PyFileConfigLoader else ".json"
            path = directory / f"{name}{suffix}"
            if not path.is_file():
                continue
            try:
                config.merge(loader(path.name, path=str(directory)).load_config())
            except ConfigFileNotFound:
                continue
    if arguments:
        config.merge(KVArgParseConfigLoader(argv=arguments).load_config())
    return config
