"""numba's on-disk cache (cache=True) for kernels that inline kernels from other files.

numba keys a function's cached machine code on the content of the function's own file. The
search's step kernel (mcts.py) inlines the tree's kernels (tree.py), the policies (policies.py)
and the engine's constants (hex.py), so an edit to any of those would leave it running the old
code, silently, until its own file changed. Importing this module (tree.py, policies.py and
mcts.py do, before defining their kernels) makes the cache of every function defined in
SEARCH_KERNEL_FILES stale whenever any of those files changes: the cache stays where numba puts
it (NUMBA_CACHE_DIR or __pycache__); only its freshness stamp covers the whole group.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from numba.core import caching

_HERE = os.path.dirname(os.path.abspath(__file__))
# Files whose functions take the group's stamp, and the files the stamp covers.
SEARCH_KERNEL_FILES = tuple(os.path.join(_HERE, name) for name in ("tree.py", "policies.py", "mcts.py"))
STAMPED_FILES = (os.path.join(_HERE, "hex.py"),) + SEARCH_KERNEL_FILES


@lru_cache(maxsize=None)
def _file_digest(path: str, mtime: float, size: int) -> bytes:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()


def _group_stamp(files) -> bytes:
    digest = hashlib.sha256()
    for path in files:
        st = os.stat(path)
        digest.update(_file_digest(path, st.st_mtime, st.st_size))
    return digest.digest()


class _GroupStampLocator(caching._CacheLocator):
    """numba's own locator for the function, with the group's content as its freshness stamp."""

    def __init__(self, inner, files):
        self._inner, self._files = inner, files

    def ensure_cache_path(self):
        self._inner.ensure_cache_path()

    def get_cache_path(self):
        return self._inner.get_cache_path()

    def get_disambiguator(self):
        return self._inner.get_disambiguator()

    def get_source_stamp(self):
        return (self._inner.get_source_stamp(), _group_stamp(self._files))

    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.abspath(py_file) not in SEARCH_KERNEL_FILES:
            return None
        for locator_class in _LOCATOR_CLASSES:
            if locator_class is cls:
                continue
            inner = locator_class.from_function(py_func, py_file)
            if inner is not None:
                return cls(inner, STAMPED_FILES)
        return None


_CACHE_IMPL = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl")
_LOCATOR_CLASSES = _CACHE_IMPL._locator_classes
if _GroupStampLocator not in _LOCATOR_CLASSES:
    _LOCATOR_CLASSES.insert(0, _GroupStampLocator)
