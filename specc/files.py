"""Writing user files safely: whole or not at all, never over an existing file unless forced."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from specc.safe_text import printable


class FileRefused(Exception):
    """A file that cannot or must not be written; the message says why."""


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], force: bool, what: str
) -> None:
    """Write into a temporary file beside `path`, then move it into place.

    Without `force` an existing file is never replaced, even one created while we wrote. On
    any failure or interruption (Ctrl-C included) the temporary file is removed.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise FileRefused(f"{what} {target}: the directory {parent} does not exist")
    refuse_special(target, what)
    remove_stale(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise FileRefused(f"{what} {target}: cannot write in {parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # held until closed, or until we die
            os.fchmod(
                f.fileno(), 0o666 & ~_umask()
            )  # mkstemp makes it private; outputs need not be
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _publish(tmp, target, force, what)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


STALE_AGE = 2.0  # seconds: a temporary younger than this may not be locked by its writer yet


def remove_stale(target: Path) -> None:
    """Remove the temporaries of earlier writes to `target` that were killed (SIGKILL, a power
    cut): files of our own naming beside it that no living writer holds a lock on."""
    parent = target.parent if str(target.parent) else Path(".")
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp\Z")
    try:
        names = [e.name for e in os.scandir(parent) if pattern.match(e.name)]
    except OSError:
        return
    now = time.time()
    for name in names:
        path = parent / name
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < STALE_AGE:
                    continue
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while a writer lives
                os.unlink(path)
            finally:
                os.close(fd)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when both paths name one file (through links or different spellings)."""
    try:
        pa, pb = Path(a), Path(b)
        return pa.resolve() == pb.resolve() or (
            pa.exists() and pb.exists() and os.path.samefile(pa, pb)
        )
    except OSError:
        return False


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def refuse_special(path: str | os.PathLike[str], what: str) -> None:
    """Outputs go only to regular files or to paths that do not exist yet: replacing a device,
    a FIFO or a link (even with --force) would destroy something that is not specc's output."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FileRefused(f"{what} {printable(os.fspath(path))}: {exc.strerror}") from None
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise FileRefused(
        f"{what} {printable(os.fspath(path))}: is {kind}; specc writes only regular files "
        "(or new ones), whatever the flags"
    )


def _publish(tmp: str, target: Path, force: bool, what: str) -> None:
    if force:
        refuse_special(target, what)  # again: something may have taken its place meanwhile
        os.replace(tmp, target)
        return
    exists = f"{what} {target} already exists; pass --force to replace it"
    try:
        os.link(tmp, target)  # fails if the target exists: no check-then-write race
    except FileExistsError:
        raise FileRefused(exists) from None
    except OSError:
        # A file system without hard links: check, then rename.
        if target.exists():
            raise FileRefused(exists) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
