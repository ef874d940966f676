"""On-disk working storage for runs larger than memory: document texts and partitioned arrays.

* :class:`TextStore` — every document's text, UTF-8, appended to one file; read back by document index with
  ``os.pread`` (no memory map, so reading does not count against the process's resident memory).
* :class:`Partitions` — append-only spill of parallel NumPy arrays (e.g. fingerprint hash + document)
  into ``P`` files by a key's top bits, then read back one partition at a time: the datatrove-style
  "write sorted runs, then merge" pattern, with the partition as the run. A partition holds about
  ``1/P`` of the data, so memory is bounded by the largest partition, not by the corpus.
* :func:`read_group` — one group of a file of records written grouped, with its group offsets (a worker
  that produces rows for every partition at once writes one file, not one per partition: file creation
  and removal are slow on some file systems).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref
from pathlib import Path

import numpy as np


def _small_uint(n: int) -> type:
    """The smallest unsigned type holding ``0..n-1`` (NumPy's stable argsort is a radix sort up to 16 bits)."""
    return np.uint8 if n <= 1 << 8 else np.uint16 if n <= 1 << 16 else np.uint32


def _remove(paths: tuple[Path, ...]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


class WorkDir:
    """A private temporary folder, removed on :meth:`close` or when the object is collected."""

    def __init__(self, parent: str | None = None):
        self.path = Path(tempfile.mkdtemp(prefix="doublet-", dir=parent))
        self._removing: list[threading.Thread] = []
        self._finalizer = weakref.finalize(self, WorkDir._remove_all, self._removing, str(self.path))

    def remove_later(self, *paths: Path) -> None:
        """Delete files or folders of this folder in a background thread (gigabytes of spill take seconds
        to free; a run's last steps need not wait for that). :meth:`close` waits for it."""
        thread = threading.Thread(target=_remove, args=(paths,), name="doublet-cleanup")
        thread.start()
        self._removing.append(thread)

    @staticmethod
    def _remove_all(removing: list[threading.Thread], path: str) -> None:
        for thread in removing:
            thread.join()
        shutil.rmtree(path, True)

    def close(self) -> None:
        self._finalizer()


class TextStore:
    """Texts appended in document order; read back by index through :meth:`reader`."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = open(path, "ab")
        self._offsets: list[np.ndarray] = []
        self._end = 0
        self._index: np.ndarray | None = None

    def append(self, texts: list[str]) -> None:
        data = [t.encode("utf-8", "surrogatepass") for t in texts]
        sizes = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
        self._offsets.append(self._end + np.r_[0, np.cumsum(sizes)[:-1]] if len(data) else sizes)
        self._fh.write(b"".join(data))
        self._end += int(sizes.sum())
        self._index = None

    def _ensure(self) -> np.ndarray:
        if self._index is None:
            self._fh.flush()
            starts = np.concatenate(self._offsets) if self._offsets else np.empty(0, np.int64)
            self._index = np.r_[starts, self._end]
        return self._index

    def reader(self) -> "TextReader":
        """A picklable handle for other processes."""
        return TextReader(str(self.path), self._ensure())

    def close(self) -> None:
        self._fh.close()


class TextReader:
    """Read-only access to a finished :class:`TextStore` (safe to send to worker processes)."""

    def __init__(self, path: str, index: np.ndarray):
        self.path = path
        self.index = index
        self._fd: int | None = None

    def __getstate__(self) -> dict:
        return {"path": self.path, "index": self.index, "_fd": None}

    def get(self, i: int) -> str:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        start, end = int(self.index[i]), int(self.index[i + 1])
        return os.pread(self._fd, end - start, start).decode("utf-8", "surrogatepass")


class Partitions:
    """Parallel arrays spilled into ``2**bits`` files by the top bits of a uint64 key column."""

    def __init__(self, folder: Path, columns: dict[str, np.dtype], bits: int = 6):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.columns = columns
        self.bits = bits
        self.sizes = np.zeros(1 << bits, dtype=np.int64)
        self._handles: dict[tuple[int, str], object] = {}

    def _file(self, part: int, column: str) -> Path:
        return self.folder / f"{part:03d}.{column}"

    def append(self, by: str | np.ndarray, **arrays: np.ndarray) -> None:
        """Append rows; the top bits of a uint64 key choose each row's partition: ``by`` names a column, or is
        an array of keys that is not stored."""
        keys = arrays[by] if isinstance(by, str) else by
        part = (keys >> np.uint64(64 - self.bits)).astype(_small_uint(1 << self.bits))
        order = np.argsort(part, kind="stable")  # a radix sort on 8/16-bit keys
        counts = np.bincount(part, minlength=1 << self.bits)
        bounds = np.r_[0, np.cumsum(counts)]
        for name, arr in arrays.items():
            arr = np.ascontiguousarray(arr[order], dtype=self.columns[name])
            for p in np.flatnonzero(counts).tolist():
                fh = self._handles.get((p, name))
                if fh is None:
                    fh = self._handles[(p, name)] = open(self._file(p, name), "ab")
                arr[bounds[p]:bounds[p + 1]].tofile(fh)
        self.sizes += counts

    def flush(self) -> None:
        """Close the append handles (call before reading)."""
        for fh in self._handles.values():
            fh.close()  # type: ignore[attr-defined]
        self._handles.clear()

    def read(self, part: int, drop: bool = False) -> dict[str, np.ndarray]:
        """All rows of one partition (empty arrays if it has none); ``drop`` deletes its files once read."""
        self.flush()
        out = {}
        for name, dtype in self.columns.items():
            path = self._file(part, name)
            out[name] = np.fromfile(path, dtype=dtype) if path.exists() else np.empty(0, dtype=dtype)
            if drop:
                path.unlink(missing_ok=True)
        return out

    def __len__(self) -> int:
        return 1 << self.bits


def read_group(path: Path, dtype: np.dtype, bounds: np.ndarray, group: int) -> np.ndarray:
    """The records of group ``group`` of a file of records written in group order (offsets ``bounds``)."""
    count = int(bounds[group + 1] - bounds[group])
    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.fromfile(str(path), dtype=dtype, count=count, offset=int(bounds[group]) * np.dtype(dtype).itemsize)
