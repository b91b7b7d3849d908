"""Helpers shared by the editor-client tests (test_client_*.py): finding the ember binary, a
minimal DAP client speaking to `ember dap` over stdio the way editors do, and a headless nvim."""
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLIENTS = REPO / "clients"


def ember_bin() -> Path:
    """EMBER_BIN, else target/release/ember, else target/debug/ember."""
    env = os.environ.get("EMBER_BIN")
    candidates = [Path(env)] if env else []
    candidates += [REPO / "target" / "release" / "ember", REPO / "target" / "debug" / "ember"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    pytest.fail("no ember binary: run `cargo build` (or set EMBER_BIN)")


def encode(msg: dict) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class DapClient:
    """Speaks DAP to a child process over stdio: requests, responses and events."""

    def __init__(self, argv, cwd=None, env=None):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env
        )
        self.seq = 0
        self.responses: dict[int, dict] = {}
        self.events: list[dict] = []
        self.reverse: list[dict] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr: list[bytes] = []
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    with self.cond:
                        self.cond.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                k, _, v = line.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            msg = json.loads(out.read(int(headers["content-length"])))
            with self.cond:
                if msg.get("type") == "response":
                    self.responses[msg["request_seq"]] = msg
                elif msg.get("type") == "event":
                    self.events.append(msg)
                else:
                    self.reverse.append(msg)
                self.cond.notify_all()

    def send(self, command, arguments=None) -> int:
        self.seq += 1
        msg = {"seq": self.seq, "type": "request", "command": command}
        if arguments is not None:
            msg["arguments"] = arguments
        self.proc.stdin.write(encode(msg))
        self.proc.stdin.flush()
        return self.seq

    def _wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = pred()
                if got is not None:
                    return got
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and pred() is None and left < timeout - 1):
                    raise AssertionError(
                        f"timed out waiting for {what}; events: {[e['event'] for e in self.events]}; "
                        f"stderr: {b''.join(self.stderr).decode(errors='replace')[-2000:]}"
                    )
                self.cond.wait(min(left, 0.2))

    def response(self, seq, timeout=20):
        return self._wait(lambda: self.responses.get(seq), timeout, f"response to request {seq}")

    def request(self, command, arguments=None, timeout=20):
        return self.response(self.send(command, arguments), timeout)

    def event(self, name, timeout=20, where=lambda e: True):
        return self._wait(
            lambda: next((e for e in self.events if e["event"] == name and where(e)), None), timeout, f"event {name}"
        )

    def close(self, terminate=True):
        if self.proc.poll() is None:
            try:
                self.request("disconnect", {"terminateDebuggee": terminate}, timeout=10)
            except Exception:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_session(bin_path, request, arguments, client_id, cwd):
    """initialize + launch/attach + configurationDone, as an editor does; returns the client and
    the launch/attach response."""
    # The adapter's default interpreter is python3 on PATH: make it this venv's, as
    # scripts/test.sh does, rather than a launcher such as a pyenv shim (a shell script).
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    dap = DapClient([str(bin_path), "dap"], cwd=cwd, env=env)
    init = dap.request(
        "initialize",
        {"clientID": client_id, "adapterID": "ember", "linesStartAt1": True, "columnsStartAt1": True,
         "pathFormat": "path", "supportsRunInTerminalRequest": False},
    )
    assert init["success"], init
    seq = dap.send(request, arguments)
    dap.event("initialized")
    done = dap.request("configurationDone")
    assert done["success"], done
    return dap, dap.response(seq)


def program_output(dap, timeout=60):
    """Waits for the session to end; returns what the program printed (DAP output events)."""
    dap.event("terminated", timeout=timeout)
    return "".join(e["body"].get("output", "") for e in dap.events if e["event"] == "output")


SLOW_SCRIPT = """
import sys, time
def busy(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
end = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 30)
while time.time() < end:
    busy(20000)
print("args:", sys.argv[2:], flush=True)
"""


def test_framing_round_trip():
    """The helper's framing is DAP's: Content-Length header, blank line, JSON body."""
    raw = encode({"seq": 1, "type": "request", "command": "initialize"})
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head == b"Content-Length: %d" % len(body)
    assert json.loads(body)["command"] == "initialize"
