"""Joining a Ray cluster for `--executor ray`: an existing one, or a local one started for the run.

Ray is an optional extra (`camelid[ray]`); this module imports it only when asked to. The
driver keeps the output: workers only compute, so `-o`, `--rejects` and `--resume` behave as
they do locally.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from types import ModuleType

from camelid.errors import UsageError

INSTALL_HINT = "install it with: pip install 'camelid[ray]'"


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise UsageError(
            f"--executor ray needs Ray, which is not installed; {INSTALL_HINT}"
        ) from None
    return ray


def connect(address: str | None = None, verbose: bool = False) -> ModuleType:
    """Ray, initialised: joined to `address` (or RAY_ADDRESS), else a local cluster started
    for this process. Workers' prints stay in Ray's log files unless `verbose`: a worker's
    stdout would otherwise reach the driver's terminal beside the records."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        reachable(address)
    if not verbose:  # Ray's start-up notices are not the user's business; errors still show
        logging.getLogger("ray").setLevel(logging.ERROR)
    # ray.init installs its own SIGTERM handler (log and exit 15): camelid's, which keeps the
    # finished batches and says how to resume, is put back.
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        ray.init(
            address=address,
            log_to_driver=verbose,
            include_dashboard=False,
            configure_logging=verbose,
            logging_level="INFO" if verbose else "ERROR",
        )
    except ConnectionError as exc:
        raise UsageError(f"--ray-address {address}: cannot join the Ray cluster: {exc}") from None
    finally:
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
    return ray


def reachable(address: str, timeout: float = 5.0) -> None:
    """Fail at once on a cluster that is not there: ray.init would retry for minutes, deaf to
    Ctrl-C. Only a plain HOST:PORT is checked ("auto" and ray:// addresses go to Ray)."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UsageError(
            f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc}); "
            "start one with `ray start --head`, or leave the address out for a local one"
        ) from None


def remote_cause(exc: BaseException) -> str:
    """The last line of a remote error, where Ray puts the original one (its traceback first)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__
