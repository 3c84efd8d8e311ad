"""`camelid serve --list / --stop` over the servers' records, with a stand-in process (the real
vLLM server: tests/engine/test_serve.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import camelid


def test_stop_ends_the_server_and_its_group_and_forgets_it(tmp_path: Path, cache_env) -> None:
    # A stand-in "server" leading its own session, with a child of its own (vLLM's engine core).
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', " \
           "'import time; time.sleep(600)']); time.sleep(600)"  # fmt: skip
    server = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    folder = Path(cache_env["CAMELID_CACHE"]) / "serve"
    folder.mkdir(parents=True)
    record = {"name": "m", "url": "http://127.0.0.1:9/v1", "pid": server.pid, "log": "x.log"}
    (folder / "m-9.json").write_text(json.dumps(record))
    listed = camelid("serve", "--list", "--json", env=cache_env)
    assert json.loads(listed.stdout) == [record]
    time.sleep(0.5)  # let the stand-in start its child
    stopped = camelid("serve", "--stop", "--port", "9", env=cache_env)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stderr.startswith("stopped m at http://127.0.0.1:9/v1")
    assert server.wait(timeout=10) is not None
    assert not (folder / "m-9.json").exists()
    assert camelid("serve", "--list", env=cache_env).stderr.strip() == "no servers running"
    unknown = camelid("serve", "--stop", "--port", "9", env=cache_env)
    assert unknown.returncode == 2 and "no server of camelid's runs on port 9" in unknown.stderr
