"""Headless Chromium (Debian's ``chromium`` package, installed by ./setup.sh) for page tests.

* ``browser`` fixture → :class:`Chromium` working under the test's ``tmp_path``:
  ``browser.dump_dom(url) -> str`` (the DOM after load and scripts, ``--dump-dom``) and
  ``browser.screenshot(url, width=1280, height=800) -> bytes`` (a PNG of exactly that many
  CSS pixels, ``--screenshot``; also written to ``path=`` when given, e.g. under docs/).
  Both take ``timeout`` (seconds, default 30) and ``virtual_time_budget_ms`` (let timers
  and fetches run that much virtual time before the capture).
* :func:`png_size` ``(data) -> (width, height)`` and :func:`png_pixels`
  ``(data) -> (width, height, rows)`` with ``rows[y][x] == (r, g, b)``: enough to check a
  screenshot without an imaging library (pure Python, ~1 s per 300k pixels: decode small
  screenshots).

Every run is a fresh browser with its own ``--user-data-dir`` and the flags this machine
needs (:data:`FLAGS`: no sandbox — root in a container —, no GPU, no network side traffic).
A page that does not load (connection refused, DNS…) raises :class:`BrowserError` with
Chromium's ``net::ERR_…`` reason; so does a timeout (the whole process group is killed).
A missing binary fails naming ./setup.sh, never skips.

The calls block: a page served by the test's own reactor (twisted.web in an async test)
must be fetched with ``await threads.deferToThread(browser.dump_dom, url)``; pages of
separate processes (``python -m bws``) can be fetched directly.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Optional, Sequence

import pytest

from tests.servers.proc import require_binary

#: Flags for every run (headless on a server, as root, without a display or GPU; no
#: background traffic so a run touches only the page's own URLs).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

#: Chromium's stderr noise in a container without D-Bus, and the Debian wrapper's
#: /dev/shm size test that misparses findmnt's two lines; left out of error messages.
_NOISE = re.compile(r"dbus/|Failed to connect to the bus|/usr/bin/chromium: \d+: \[:")
_LOAD_FAILED = re.compile(r"Page load failed: (\S+)")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class BrowserError(RuntimeError):
    """Chromium could not render the page (load failure, crash or timeout)."""


class Chromium:
    """Runs ``chromium --headless`` once per call; profiles and outputs under ``workdir``."""

    def __init__(self, workdir: Path, binary: Optional[str] = None, timeout: float = 30.0):
        self.binary = binary or require_binary("chromium", "/usr/bin/chromium")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout

    def dump_dom(
        self,
        url: str,
        *,
        width: int = 1280,
        height: int = 800,
        timeout: Optional[float] = None,
        virtual_time_budget_ms: Optional[int] = None,
    ) -> str:
        """The serialised DOM of ``url`` once loaded and its scripts have run."""
        out, _ = self._run(["--dump-dom"], url, width, height, timeout, virtual_time_budget_ms)
        if not out.strip():
            raise BrowserError(f"chromium returned an empty DOM for {url}")
        return out

    def screenshot(
        self,
        url: str,
        path: Optional[Path] = None,
        *,
        width: int = 1280,
        height: int = 800,
        timeout: Optional[float] = None,
        virtual_time_budget_ms: Optional[int] = None,
    ) -> bytes:
        """A PNG of the first ``width`` x ``height`` CSS pixels of ``url`` (also saved to ``path``)."""
        target = Path(path) if path else Path(tempfile.mkstemp(suffix=".png", dir=self.workdir)[1])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        self._run([f"--screenshot={target}"], url, width, height, timeout, virtual_time_budget_ms)
        if not target.exists():
            raise BrowserError(f"chromium wrote no screenshot for {url}")
        data = target.read_bytes()
        if not data.startswith(PNG_SIGNATURE):
            raise BrowserError(f"chromium's screenshot of {url} is not a PNG ({len(data)} bytes)")
        return data

    def _run(
        self,
        mode: Sequence[str],
        url: str,
        width: int,
        height: int,
        timeout: Optional[float],
        budget: Optional[int],
    ) -> tuple[str, str]:
        profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=self.workdir)
        argv = [self.binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", *mode]
        if budget is not None:
            argv.append(f"--virtual-time-budget={int(budget)}")
        argv.append(url)
        limit = self.timeout if timeout is None else timeout
        # its own session: the browser's zygote/renderer children die with it on timeout
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise BrowserError(f"chromium timed out after {limit}s on {url}: {_tail(err)}") from None
        finally:
            # the browser's own helpers (zygote, renderer) must not outlive the call
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        err_text = err.decode(errors="replace")
        if proc.returncode != 0:
            raise BrowserError(f"chromium exited {proc.returncode} on {url}: {_tail(err)}")
        failed = _LOAD_FAILED.search(err_text)
        if failed:
            raise BrowserError(f"chromium could not load {url}: {failed.group(1)}")
        return out.decode(errors="replace"), err_text


def _tail(err: bytes, n: int = 8) -> str:
    lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip() and not _NOISE.search(ln)]
    return " | ".join(lines[-n:]) or "(no message)"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def png_pixels(data: bytes) -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) to RGB rows."""
    width, height = png_size(data)
    depth, color, _, _, interlace = data[24:29]
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {color}, interlace {interlace}")
    bpp = 3 if color == 2 else 4
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):  # PNG spec §9 filters
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x * bpp : x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


@pytest.fixture
def browser(tmp_path):
    return Chromium(tmp_path / "browser")
