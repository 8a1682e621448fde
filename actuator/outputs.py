"""Shell: the files a command writes, checked before the work and written atomically.

Every command that writes files (forecast --out, plan --out, simulate --json/--timeseries,
report --out DIR) declares its outputs and its inputs up front and calls `check` before the
long computation: an output that is an input (`plan --workload W --out W` would replace the
spec with a CSV), or another output of the same run, or that cannot be written, is refused
then, not after minutes of work. Paths are compared resolved (symlinks followed) and, when
both exist, by inode, so `./x`, `dir/../x`, a symlink to x and a hard link to x are all x.

`write_text` writes through a temporary file in the target's folder, fsyncs it and renames it
over the target (`os.replace`, atomic on POSIX): an interrupted or failed run leaves the
previous file whole, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kernel import errors


@dataclass(frozen=True)
class Output:
    """One file a command will write, and the flag that named it."""

    flag: str  # "--out", "--json", "--out (report.md)"
    path: Path


@dataclass(frozen=True)
class Input:
    """One file a command reads, and the flag (or file) that named it."""

    flag: str  # "--trace", "--workload", "--bearer-token-file"
    path: Path


def _resolved(path: Path) -> Path:
    # strict=False: an output usually does not exist yet; its folder's symlinks still resolve.
    return Path(os.path.realpath(path))


def _same(a: Path, b: Path) -> bool:
    if _resolved(a) == _resolved(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, bind mounts
    except OSError:
        return False  # one of them does not exist yet: the resolved paths decided


def _writable(output: Output) -> str | None:
    """Why `output` cannot be written, or None. Probes by creating (and removing) a temporary
    file in its folder: os.access says yes to root on a read-only mount or a full disk."""
    path = output.path
    if path.is_dir():
        return "is a directory; pass a file path"
    folder = _resolved(path).parent
    if not folder.exists():
        return f"is in a folder that does not exist ({folder}); create the folder first"
    if not folder.is_dir():
        return f"is under {folder}, which is not a folder; pass a path inside a folder"
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
    except OSError as exc:
        return f"cannot be written ({exc.strerror or exc}); pass a path in a writable folder"
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def check(outputs: Sequence[Output], inputs: Sequence[Input]) -> None:
    """Refuse, in one InputError, every output that is an input, repeats another output of the
    run, or cannot be written. Call before the computation."""
    problems: list[str] = []
    for i, output in enumerate(outputs):
        for source in inputs:
            if _same(output.path, source.path):
                problems.append(
                    f"{output.flag} ({output.path}) is the same file as {source.flag} "
                    f"({source.path}); an output must never overwrite an input: pass another "
                    f"path for {output.flag}"
                )
        for other in outputs[:i]:
            if _same(output.path, other.path):
                problems.append(
                    f"{output.flag} ({output.path}) is the same file as {other.flag} "
                    f"({other.path}); each output needs its own file: pass different paths"
                )
        reason = _writable(output)
        if reason is not None:
            problems.append(f"{output.flag} ({output.path}) {reason}")
    if problems:
        raise errors.InputError(problems)


def check_directory(
    flag: str, directory: Path, names: Sequence[str], inputs: Sequence[Input]
) -> None:
    """`check` for a command that writes `names` into `directory` (created if missing)."""
    if directory.exists() and not directory.is_dir():
        raise errors.InputError(
            f"{flag} ({directory}) is a file, not a directory; pass a directory for the outputs"
        )
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise errors.InputError(
            f"{flag} ({directory}) is under {existing}, which is not a directory; pass a "
            "directory path"
        )
    if existing != directory:
        try:
            handle, probe = tempfile.mkstemp(dir=existing, prefix=".prescale.", suffix=".probe")
        except OSError as exc:
            raise errors.InputError(
                f"{flag} ({directory}) cannot be created in {existing} "
                f"({exc.strerror or exc}); pass a writable directory"
            ) from None
        os.close(handle)
        with contextlib.suppress(OSError):
            os.unlink(probe)
        # The files cannot be inputs (the folder does not exist yet).
        return
    check([Output(f"{flag} ({name})", directory / name) for name in names], inputs)


def make_directory(flag: str, directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise errors.InputError(
            f"{flag} ({directory}) cannot be created ({exc.strerror or exc}); pass a writable "
            "directory"
        ) from None


def write_text(output: Output, text: str) -> None:
    """Write `text` to the output atomically: temp file in the same folder, fsync, rename.

    A symlinked output is written through (its target replaced, the link kept). A new file
    gets the usual mode (0666 less the umask); a replaced file keeps its mode.
    """
    target = _resolved(output.path)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as exc:
        raise _unwritable(output, exc) from None
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise _unwritable(output, exc) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise _unwritable(output, exc) from None
    except BaseException:
        # Interrupted (Ctrl-C) or failed mid-write: the previous file stays whole.
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(descriptor)


def _unwritable(output: Output, exc: OSError) -> errors.InputError:
    return errors.InputError(
        f"{output.flag} ({output.path}) cannot be written ({exc.strerror or exc}); pass a "
        "writable path (the previous file, if any, is left as it was)"
    )
