"""The process definitions the embedded runtime can start, loaded from a folder of ``.bpmn`` files.

Each file is parsed on its own first, so a broken file is named and skipped without taking
the others down; the good files are then parsed together, so a call activity may name a
process defined in another file. A process whose file breaks after it was loaded keeps its
last good definition until the file is fixed or removed.

    definitions = Definitions(directory=Path("processes"))
    report = definitions.refresh()
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator

__all__ = ["BUNDLED_PROCESSES_DIR", "Definition", "Definitions", "LoadReport"]

#: The sample processes shipped with the package (BookingRoom, LeaveRequest).
BUNDLED_PROCESSES_DIR: Final = Path(__file__).with_name("processes")

# Parser messages can carry a whole stack of notes; a response names the problem, not a novel.
_MAX_REASON: Final = 300
#: How many folder versions the parse cache keeps (see ``_scan``).
_MAX_SCANS: Final = 16


@dataclass(frozen=True, slots=True)
class Definition:
    """One executable process: its SpiffWorkflow spec and the specs of what it calls."""

    name: str
    path: Path
    spec: Any
    subprocess_specs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a refresh or reload did: processes loaded, removed or kept; files it could not read."""

    loaded: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    broken: tuple[tuple[str, str], ...] = ()

    def message(self) -> str:
        """One line a person can act on, e.g. ``loaded: A, B; broken: X.bpmn (reason)``."""
        parts = [f"loaded: {', '.join(self.loaded) or 'nothing'}"]
        if self.removed:
            parts.append(f"removed: {', '.join(self.removed)}")
        if self.broken:
            files = "; ".join(f"{name} ({reason})" for name, reason in self.broken)
            parts.append(f"broken files: {files}")
        if self.kept:
            parts.append(f"kept the previous definition of: {', '.join(self.kept)}")
        return "; ".join(parts)


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


@dataclass(slots=True)
class _Scan:
    found: dict[str, Definition] = field(default_factory=dict)
    broken: dict[Path, str] = field(default_factory=dict)

    def copy(self) -> _Scan:
        return _Scan(dict(self.found), dict(self.broken))


#: What parsing a folder found, by the paths and bytes of its files: a rescan of files that
#: have not changed (a refresh, or another runtime of this process on the same folder, as
#: in a test suite) reuses their parse, ~30 ms of CPU for the bundled processes. The specs
#: are templates that workflows only read, so runtimes share them as workflows do.
_Contents = tuple[tuple[str, bytes], ...]
_scans: OrderedDict[_Contents, _Scan] = OrderedDict()
_scans_lock = threading.Lock()


def _contents(files: list[Path]) -> _Contents | None:
    """The files' paths and bytes; None when one cannot be read (the parse says why)."""
    try:
        return tuple((str(path), path.read_bytes()) for path in files)
    except OSError:
        return None


class Definitions:
    """The registry of loaded process definitions, by process id; thread-safe.

    The constructor loads the folder once and raises ``NotADirectoryError`` when there is no
    such folder (a typo in ``--processes`` should not start an empty runtime).
    """

    def __init__(self, *, directory: Path) -> None:
        if not directory.is_dir():
            raise NotADirectoryError(f"processes folder {str(directory)!r} is not a directory")
        self.directory = directory
        self._validator = BpmnValidator()
        self._lock = threading.Lock()
        self._by_name: dict[str, Definition] = {}
        self.last_report = self.refresh()

    def get(self, name: str) -> Definition | None:
        """The loaded definition of process ``name``, or None."""
        return self._by_name.get(name)

    def names(self) -> list[str]:
        """The ids of every loaded process, sorted."""
        return sorted(self._by_name)

    def refresh(self) -> LoadReport:
        """Rescan the folder: load new and changed files, forget removed ones."""
        with self._lock:
            scan = self._scan()
            current = dict(scan.found)
            kept = [
                name
                for name, old in self._by_name.items()
                if name not in current and old.path in scan.broken
            ]
            for name in kept:
                current[name] = self._by_name[name]
            removed = sorted(set(self._by_name) - set(current))
            self._by_name = current
            self.last_report = LoadReport(
                loaded=tuple(sorted(scan.found)),
                removed=tuple(removed),
                kept=tuple(sorted(kept)),
                broken=tuple(sorted((path.name, why) for path, why in scan.broken.items())),
            )
            return self.last_report

    def reload(self, name: str) -> LoadReport:
        """Reload process ``name`` alone; the other processes stay as they are.

        The report's ``loaded`` is ``(name,)`` when it was (re)loaded; ``kept`` when its file
        is now broken (named in ``broken``); ``removed`` when no file defines it any more.
        """
        with self._lock:
            scan = self._scan()
            current = dict(self._by_name)
            old = current.get(name)
            broken = tuple(sorted((path.name, why) for path, why in scan.broken.items()))
            if name in scan.found:
                current[name] = scan.found[name]
                report = LoadReport(loaded=(name,))
            elif old is not None and old.path in scan.broken:
                report = LoadReport(kept=(name,), broken=((old.path.name, scan.broken[old.path]),))
            else:
                current.pop(name, None)
                report = LoadReport(removed=(name,) if old else (), broken=broken)
            self._by_name = current
            return report

    def _scan(self) -> _Scan:
        files = sorted(self.directory.glob("*.bpmn")) if self.directory.is_dir() else []
        before = _contents(files)
        if before is not None:
            with _scans_lock:
                cached = _scans.get(before)
                if cached is not None:
                    _scans.move_to_end(before)
                    return cached.copy()
        scan = self._parse(files)
        # Kept only if no file changed while it was parsed: the key is what was parsed.
        if before is not None and _contents(files) == before:
            with _scans_lock:
                _scans[before] = scan.copy()
                while len(_scans) > _MAX_SCANS:
                    _scans.popitem(last=False)
        return scan

    def _parse(self, files: list[Path]) -> _Scan:
        scan = _Scan()
        owner: dict[str, Path] = {}
        good: list[Path] = []
        for path in files:
            parser = BpmnParser(validator=self._validator)
            try:
                parser.add_bpmn_file(str(path))
                ids = parser.get_process_ids()
                for process_id in ids:
                    parser.get_spec(process_id)
            # The parser raises lxml, validation and plain Python errors alike: any of them
            # means this file is broken, and only this file.
            except Exception as error:
                scan.broken[path] = _reason(error)
                continue
            clash = next((pid for pid in ids if pid in owner), None)
            if clash is not None:
                scan.broken[path] = f"process {clash} is already defined in {owner[clash].name}"
            elif not ids:
                scan.broken[path] = "defines no executable process"
            else:
                owner.update(dict.fromkeys(ids, path))
                good.append(path)
        if not good:
            return scan
        parser = BpmnParser(validator=self._validator)
        parser.add_bpmn_files([str(path) for path in good])
        for process_id, path in owner.items():
            try:
                spec = parser.get_spec(process_id)
                subprocess_specs = parser.get_subprocess_specs(process_id)
            except Exception as error:  # e.g. a call activity naming a process no file defines
                scan.broken[path] = _reason(error)
                continue
            scan.found[process_id] = Definition(process_id, path, spec, subprocess_specs)
        for path in scan.broken:
            for process_id in [pid for pid, d in scan.found.items() if d.path == path]:
                del scan.found[process_id]
        return scan
