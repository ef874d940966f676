"""On-disk working storage for runs larger than memory: document texts and partitioned arrays.

* :class:`TextStore` — every document's text, UTF-8, appended to one file; read back by document index with
  ``os.pread`` (no memory map, so reading does not count against the process's resident memory).
* :class:`GroupedSpill` — append-only spill of NumPy records (e.g. fingerprint hash, document, position)
  that workers have already grouped (:func:`doublet.candidates.group_records`) into ``P`` group files, then
  read back one group at a time: the datatrove-style "write sorted runs, then merge" pattern, with the group
  as the run. A group holds about ``1/P`` of the data, so memory is bounded by the largest group, not by the
  corpus.
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
from typing import Any

import numpy as np


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

    def append(self, texts: list[str]) -> tuple[int, np.ndarray]:
        """Store texts; return where they start in the file and their sizes in bytes, for :func:`read_texts`
        (the file is flushed: other processes can read them at once)."""
        data = [t.encode("utf-8", "surrogatepass") for t in texts]
        sizes = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
        start = self._end
        self._offsets.append(start + np.r_[0, np.cumsum(sizes)[:-1]] if len(data) else sizes)
        self._fh.write(b"".join(data))
        self._fh.flush()
        self._end += int(sizes.sum())
        self._index = None
        return start, sizes

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


def read_texts(path: str | Path, start: int, sizes: np.ndarray) -> list[str]:
    """Texts stored back to back from byte ``start`` of a :class:`TextStore` file, one per size."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, int(sizes.sum()), start)
    finally:
        os.close(fd)
    ends = np.cumsum(sizes)
    return [data[s:e].decode("utf-8", "surrogatepass") for s, e in zip((ends - sizes).tolist(), ends.tolist())]


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


class GroupedSpill:
    """Records spilled into ``2**bits`` group files, each append bringing records already grouped (with the
    group offsets), as workers produce them; then read back one group at a time: the datatrove-style "write
    sorted runs, then merge" pattern, with the group as the run. A group holds about ``1/2**bits`` of the data,
    so memory is bounded by the largest group, not by the corpus."""

    def __init__(self, folder: Path, dtype: np.dtype, bits: int = 6):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.dtype = np.dtype(dtype)
        self.bits = bits
        self.sizes = np.zeros(1 << bits, dtype=np.int64)
        self._handles: dict[int, Any] = {}

    def _file(self, group: int) -> Path:
        return self.folder / f"{group:03d}"

    def append(self, records: np.ndarray, bounds: np.ndarray) -> None:
        """Append records grouped by group number (group ``g`` is ``records[bounds[g]:bounds[g + 1]]``)."""
        counts = np.diff(bounds)
        for g in np.flatnonzero(counts).tolist():
            fh = self._handles.get(g)
            if fh is None:
                fh = self._handles[g] = open(self._file(g), "ab")
            records[bounds[g]:bounds[g + 1]].tofile(fh)
        self.sizes += counts

    def flush(self) -> None:
        """Close the append handles (call before reading)."""
        for fh in self._handles.values():
            fh.close()
        self._handles.clear()

    def read(self, group: int, drop: bool = False) -> np.ndarray:
        """All records of one group (empty if it has none); ``drop`` deletes its file once read."""
        self.flush()
        path = self._file(group)
        if not path.exists():
            return np.empty(0, dtype=self.dtype)
        out = np.fromfile(path, dtype=self.dtype)
        if drop:
            path.unlink()
        return out

    def __len__(self) -> int:
        return 1 << self.bits


def read_group(path: Path, dtype: np.dtype, bounds: np.ndarray, group: int) -> np.ndarray:
    """The records of group ``group`` of a file of records written in group order (offsets ``bounds``)."""
    count = int(bounds[group + 1] - bounds[group])
    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.fromfile(str(path), dtype=dtype, count=count, offset=int(bounds[group]) * np.dtype(dtype).itemsize)
