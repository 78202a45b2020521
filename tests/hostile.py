"""Run the real `specc` in a child process under a memory cap, and measure what it cost."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEAK = 500 * 1024 * 1024  # what any command may use, whatever its input (bytes of RSS)
SECONDS = 10.0  # CPU seconds any command may take, whatever its input
# The address-space cap only keeps a failing test from swapping the machine; the measured peak
# RSS is what the tests assert. NumPy reserves address space it never touches.
_ADDRESS_SPACE = 3 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    code: int  # the exit status, or -signal
    stdout: str
    stderr: str
    peak: int  # bytes of resident memory at the most
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# The child caps itself before specc loads: a preexec_fn would run between fork and exec, which
# is unsafe once the test process has threads (JAX and PyTorch start some when imported). At
# exit it writes its peak resident memory since exec (VmHWM): wait4's ru_maxrss would also count
# the test process's pages that a fork shares before the exec (hundreds of MB once JAX is in).
_CAPPED_MAIN = (
    "import atexit, os, resource\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({_ADDRESS_SPACE}, {_ADDRESS_SPACE}))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "def _peak():\n"
    "    with open('/proc/self/status') as f:\n"
    "        kib = next(int(l.split()[1]) for l in f if l.startswith('VmHWM:'))\n"
    "    with open(os.environ['SPECC_TEST_PEAK'], 'w') as f:\n"
    "        f.write(str(kib * 1024))\n"
    "atexit.register(_peak)\n"
    "from specc.cli import main\n"
    "main()\n"
)


def specc(
    *argv: str | os.PathLike[str],
    cwd: Path | None = None,
    stdin: bytes = b"",
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> Outcome:
    """`specc ARGV` as a real process: exit code, output, peak RSS and CPU time (from wait4)."""
    environment = {k: v for k, v in os.environ.items() if k != "SPECC_DEBUG"}
    environment |= {"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "NO_COLOR": "1"}
    environment |= env or {}
    fd, peak_path = tempfile.mkstemp(prefix="specc-peak-")
    os.close(fd)
    environment["SPECC_TEST_PEAK"] = peak_path
    command = [sys.executable, "-c", _CAPPED_MAIN, *map(str, argv)]
    child = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd or ROOT,
        env=environment,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        threading.Thread(target=lambda: out.append(child.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.append(child.stderr.read())),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    killer = threading.Timer(timeout, child.kill)
    killer.start()
    try:
        assert child.stdin is not None
        try:
            child.stdin.write(stdin)
            child.stdin.close()
        except BrokenPipeError:
            pass
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        killer.cancel()
    # CPU seconds, not wall time: the bound is on the work done, which a loaded machine
    # (CI shares its cores) does not change; the wall-clock timeout above catches hangs.
    seconds = usage.ru_utime + usage.ru_stime
    child.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it is reaped
    for reader in readers:
        reader.join()
    return Outcome(
        child.returncode,
        b"".join(out).decode("utf-8", "replace"),
        b"".join(err).decode("utf-8", "replace"),
        _peak(peak_path, usage.ru_maxrss * 1024),
        seconds,
    )


def _peak(path: str, fallback: int) -> int:
    """The child's own peak since exec, or wait4's figure if it died before writing it."""
    try:
        with open(path) as f:
            text = f.read()
    finally:
        os.unlink(path)
    return int(text) if text else fallback


def assert_bounded(outcome: Outcome, what: object = "") -> None:
    """No internal error, no traceback, within the memory and time bounds."""
    assert outcome.code in (0, 1, 2), (what, outcome.code, outcome.output[-2000:])
    assert "Traceback" not in outcome.output, (what, outcome.output[-2000:])
    assert "internal error" not in outcome.output, (what, outcome.output[-2000:])
    assert "out of memory" not in outcome.output, (what, outcome.output[-2000:])
    assert outcome.peak < PEAK, (what, outcome.peak)
    assert outcome.seconds < SECONDS, (what, outcome.seconds)


def npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """A version 1.0 .npy header for an array of `shape` and `dtype`, without its data."""
    import io

    import numpy as np

    out = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(out, header)  # type: ignore[no-untyped-call]
    return out.getvalue()


def zip_bomb(path: Path, members: dict[str, tuple[int, ...]]) -> None:
    """A .npz whose float32 arrays of zeros are deflated as they are written: a few hundred MB
    of data in a file of a few hundred KB, made without holding any of it."""
    import math
    import zipfile

    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, shape in members.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                member.write(npy_header(shape))
                left = math.prod(shape) * 4
                while left > 0:
                    member.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
