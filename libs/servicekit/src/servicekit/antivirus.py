"""Scanning files with ClamAV's daemon (clamd) through its unix socket, and running our own clamd.

The client speaks clamd's INSTREAM protocol (``zINSTREAM\\0``, then chunks each prefixed by its length as a 4-byte
big-endian integer, a zero length to end; one reply ``stream: OK`` or ``stream: <signature> FOUND``): a file is
sent as it is read, never whole in memory, and any service that receives files (imports, flux, attachments to come)
can scan with it.

``carnet up`` and the test kit run clamd as the current user with a configuration written here: its socket in a
runtime folder, its signatures from ``deploy/clamav/`` (ours detects only the EICAR test file: these machines cannot
download ClamAV's databases), in the foreground, without freshclam. Production runs Debian's clamd updated by
freshclam and names its socket in the service's settings.
"""
from __future__ import annotations

import asyncio
import shutil
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from servicekit.processes import ServiceProcess

# libs/servicekit/src/servicekit/antivirus.py → the repository's deploy/clamav/
SIGNATURES_DIR = Path(__file__).resolve().parents[4] / "deploy" / "clamav"
# The largest upload is 50 Mo (contracts.imports.MAX_UPLOAD_BYTES); clamd's default stream limit is 25 Mo.
STREAM_MAX_BYTES = 64 * 1024 * 1024
SOCKET_NAME = "clamd.sock"


class ScannerUnavailable(Exception):
    """clamd could not say whether the file is clean: unreachable, too slow, or it answered an error."""


@dataclass(frozen=True)
class Verdict:
    """``signature`` names what clamd found; None when the file is clean."""

    signature: str | None = None

    @property
    def infected(self) -> bool:
        return self.signature is not None


def parse_reply(reply: bytes) -> Verdict:
    """clamd's answer to INSTREAM: ``stream: OK``, ``stream: <name> FOUND`` or ``<why> ERROR``."""
    text = reply.rstrip(b"\0\n").decode("utf-8", "replace").strip()
    if text.endswith(" FOUND"):
        name = text.removeprefix("stream:").removesuffix(" FOUND").strip()
        # Signatures from a local database (ours) carry ".UNOFFICIAL": not part of the name a user should read.
        return Verdict(name.removesuffix(".UNOFFICIAL") or "inconnu")
    if text.endswith(" OK"):
        return Verdict()
    raise ScannerUnavailable(f"clamd answered {text!r}")


class Clamd:
    """A client of the clamd listening on ``socket_path``; each ``scan`` is one connection."""

    def __init__(self, socket_path: str | Path, timeout_s: float = 120.0) -> None:
        self.socket_path = str(socket_path)
        self.timeout_s = timeout_s

    def scan(self) -> Scan:
        """``async with clamd.scan() as scan: await scan.send(chunk)…; verdict = await scan.verdict()``."""
        return Scan(self)

    async def ping(self) -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.socket_path), self.timeout_s)
        except (OSError, asyncio.TimeoutError):
            return False
        try:
            writer.write(b"zPING\0")
            await writer.drain()
            return await asyncio.wait_for(reader.readuntil(b"\0"), self.timeout_s) == b"PONG\0"
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            return False
        finally:
            writer.close()


class Scan:
    """One INSTREAM exchange. Every failure of the connection is ``ScannerUnavailable``: a file whose scan did not
    end is never taken for clean."""

    def __init__(self, clamd: Clamd) -> None:
        self.clamd = clamd
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.size = 0

    async def __aenter__(self) -> Scan:
        try:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.clamd.socket_path), self.clamd.timeout_s)
            self.writer.write(b"zINSTREAM\0")
            await self.writer.drain()
        except (OSError, asyncio.TimeoutError) as error:
            raise ScannerUnavailable(f"clamd at {self.clamd.socket_path}: {error!r}") from error
        return self

    async def __aexit__(self, *_exc) -> None:
        if self.writer is not None:
            self.writer.close()

    async def send(self, chunk: bytes) -> None:
        if not chunk:
            return  # a zero length would end the stream
        self.size += len(chunk)
        try:
            self.writer.write(struct.pack("!L", len(chunk)) + chunk)
            await asyncio.wait_for(self.writer.drain(), self.clamd.timeout_s)
        except (OSError, asyncio.TimeoutError) as error:
            # clamd closes the connection on a stream over its limit, after saying why: that answer is the cause.
            raise ScannerUnavailable(f"clamd stopped reading after {self.size} bytes: "
                                     f"{await self._reply_if_any()!r} ({error!r})") from error

    async def verdict(self) -> Verdict:
        try:
            self.writer.write(struct.pack("!L", 0))
            await self.writer.drain()
            reply = await asyncio.wait_for(self.reader.readuntil(b"\0"), self.clamd.timeout_s)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise ScannerUnavailable(f"clamd gave no verdict: {error!r}") from error
        return parse_reply(reply)

    async def _reply_if_any(self) -> bytes:
        try:
            return await asyncio.wait_for(self.reader.read(1024), 1)
        except (OSError, asyncio.TimeoutError):
            return b""


# --- our own clamd ------------------------------------------------------------------------------------------------

def clamd_binary() -> str | None:
    """Debian's clamd (``make clamav`` installs it); /usr/sbin is not on every user's PATH."""
    found = shutil.which("clamd")
    if found:
        return found
    return "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None


def write_clamd_config(run_dir: Path, signatures_dir: Path = SIGNATURES_DIR) -> Path:
    """clamd's configuration for a local run: socket and configuration in ``run_dir``, nothing else written (its
    log goes to its standard output, which the caller keeps). Returns the configuration's path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "clamd.conf"
    config.write_text("\n".join([
        "# Written by servicekit.antivirus for a local run (carnet up, tests): not a production configuration.",
        f"LocalSocket {run_dir.resolve() / SOCKET_NAME}",
        "LocalSocketMode 600",
        f"DatabaseDirectory {signatures_dir.resolve()}",
        "Foreground yes",
        "LogTime yes",
        f"StreamMaxLength {STREAM_MAX_BYTES // (1024 * 1024)}M",
        # Our signatures never change while it runs: no reloading check.
        "SelfCheck 0",
        "",
    ]))
    return config


class ClamdProcess(ServiceProcess):
    """clamd as a supervised child (``carnet up``, the test kit), ready once its socket answers PING."""

    def __init__(self, binary: str, run_dir: Path, log_dir: Path, signatures_dir: Path = SIGNATURES_DIR,
                 extra_argv: Sequence[str] = ()) -> None:
        config = write_clamd_config(run_dir, signatures_dir)
        self.socket_path = run_dir.resolve() / SOCKET_NAME
        super().__init__("clamd", "", {}, "", log_dir, [binary, "-c", str(config), *extra_argv])

    def start(self, timeout_s: float = 30, wait: bool = True) -> ClamdProcess:
        # A socket left by a clamd that was killed would make the new one refuse to start.
        self.socket_path.unlink(missing_ok=True)
        return super().start(timeout_s, wait)

    def ready(self, timeout_s: float = 1) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout_s)
                sock.connect(str(self.socket_path))
                sock.sendall(b"zPING\0")
                return sock.recv(16) == b"PONG\0"
        except OSError:
            return False
