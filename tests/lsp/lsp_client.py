"""A small stdlib-only Language Server Protocol client, enough to drive yaml-language-server.

It speaks JSON-RPC over the server's stdio, answers the requests the server sends the client
(`workspace/configuration` above all: unanswered, diagnostics never arrive), and lets a test
open documents, await their diagnostics, and ask for completion and hover.
See /work/shared/research/yaml-ls.md for the protocol facts this relies on.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

SERVER = Path(__file__).resolve().parent / "node_modules" / ".bin" / "yaml-language-server"

# What the server gets for each `workspace/configuration` section. SchemaStore stays off: its
# catalog fetch has no timeout and, until it returns, no setting applies (yaml-ls.md trap 4).
YAML_SETTINGS: dict[str, Any] = {
    "validate": True,
    "hover": True,
    "completion": True,
    "format": {"enable": False},
    "hoverSchemaSource": False,
    "schemaStore": {"enable": False},
    "kubernetesCRDStore": {"enable": False},
}
SECTIONS: dict[str, Any] = {"yaml": YAML_SETTINGS, "http": {"proxy": "", "proxyStrictSSL": False}}

CAPABILITIES: dict[str, Any] = {
    "workspace": {"configuration": True, "workspaceFolders": True},
    "textDocument": {
        "completion": {"completionItem": {"snippetSupport": True, "documentationFormat": ["markdown", "plaintext"]}},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "publishDiagnostics": {"relatedInformation": True},
    },
}


class LspError(RuntimeError):
    pass


class LanguageServer:
    """One running server process. Use `start()`, then `open()`, `completion()`, `hover()`, `close()`."""

    def __init__(self, command: list[str], root: Path, timeout: float = 20.0) -> None:
        self.command = command
        self.root = root
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.timings: dict[str, float] = {}
        self.stderr_lines: list[str] = []
        self._ids = itertools.count(1)
        self._responses: dict[int, dict[str, Any]] = {}
        self._notifications: list[dict[str, Any]] = []
        self._server_requests: list[str] = []
        self._versions: dict[str, int] = {}
        self._marks: dict[str, tuple[int, float]] = {}
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._dead: str | None = None

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        begin = time.perf_counter()
        self.proc = subprocess.Popen(
            [*self.command, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=self.root,
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        root_uri = self.root.as_uri()
        result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": root_uri, "capabilities": CAPABILITIES,
            "workspaceFolders": [{"uri": root_uri, "name": self.root.name}],
            "clientInfo": {"name": "gpc-tests"},
        })
        self.timings["initialize"] = time.perf_counter() - begin
        self.notify("initialized", {})
        # The server asks for its settings right after `initialized`; wait until it has them.
        self._wait(lambda: "workspace/configuration" in self._server_requests, "workspace/configuration")
        self.timings["ready"] = time.perf_counter() - begin
        return result

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            if self._dead is None and self.proc.poll() is None:
                begin = time.perf_counter()
                self.request("shutdown", None, timeout=5)
                self.notify("exit", None)
                self.proc.wait(timeout=5)
                self.timings["shutdown"] = time.perf_counter() - begin
        except (LspError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)

    # -- documents ------------------------------------------------------------------------

    def open(self, path: Path, text: str, wait: bool = True) -> list[dict[str, Any]]:
        """Open `text` as the document at `path` (never read from disk) and return its diagnostics.

        With `wait=False` return at once; `diagnostics(path)` awaits them later. The server
        publishes after a 200 ms debounce per document, so opening many documents first and
        awaiting afterwards costs one debounce instead of one per document.
        """
        uri = path.as_uri()
        self._marks[uri] = (self._mark(), time.perf_counter())
        self._versions[uri] = 1
        self.notify("textDocument/didOpen",
                    {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        return self.diagnostics(path) if wait else []

    def change(self, path: Path, text: str) -> list[dict[str, Any]]:
        uri = path.as_uri()
        self._marks[uri] = (self._mark(), time.perf_counter())
        self._versions[uri] += 1
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": self._versions[uri]},
                                               "contentChanges": [{"text": text}]})
        return self.diagnostics(path)

    def diagnostics(self, path: Path) -> list[dict[str, Any]]:
        """The diagnostics published after the last open or change of `path`."""
        uri = path.as_uri()
        mark, sent = self._marks[uri]
        diagnostics = self._diagnostics_after(mark, uri)
        self.timings.setdefault("first_diagnostics", time.perf_counter() - sent)
        return diagnostics

    def close_document(self, path: Path) -> None:
        self._versions.pop(path.as_uri(), None)
        self.notify("textDocument/didClose", {"textDocument": {"uri": path.as_uri()}})

    def completion(self, path: Path, line: int, character: int) -> list[dict[str, Any]]:
        """Completion items at a 0-based position."""
        result = self.request("textDocument/completion", {
            "textDocument": {"uri": path.as_uri()}, "position": {"line": line, "character": character}})
        if result is None:
            return []
        return list(result["items"] if isinstance(result, dict) else result)

    def hover(self, path: Path, line: int, character: int) -> str:
        """The hover text at a 0-based position ("" when there is none)."""
        result = self.request("textDocument/hover", {
            "textDocument": {"uri": path.as_uri()}, "position": {"line": line, "character": character}})
        if not result:
            return ""
        contents = result["contents"]
        if isinstance(contents, dict):
            return str(contents.get("value", ""))
        if isinstance(contents, list):
            return "\n".join(c if isinstance(c, str) else c.get("value", "") for c in contents)
        return str(contents)

    # -- JSON-RPC -------------------------------------------------------------------------

    def request(self, method: str, params: Any, timeout: float | None = None) -> Any:
        msg_id = next(self._ids)
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        self._wait(lambda: msg_id in self._responses, method, timeout)
        with self._cond:
            reply = self._responses.pop(msg_id)
        if "error" in reply:
            raise LspError(f"{method}: {reply['error']}")
        return reply.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        body = json.dumps(message).encode("utf-8")
        with self._write_lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _answer(self, message: dict[str, Any]) -> None:
        method = message["method"]
        if method == "workspace/configuration":
            items = message["params"]["items"]
            result: Any = [SECTIONS.get(item.get("section", ""), {}) for item in items]
        elif method in ("client/registerCapability", "client/unregisterCapability",
                        "window/workDoneProgress/create"):
            result = None
        else:
            self._send({"jsonrpc": "2.0", "id": message["id"],
                        "error": {"code": -32601, "message": f"unsupported: {method}"}})
            return
        self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stream = self.proc.stdout
        try:
            while True:
                length = None
                while True:
                    line = stream.readline()
                    if not line:
                        raise EOFError("the server closed its output")
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if length is None:
                    raise LspError("a message without Content-Length")
                message = json.loads(stream.read(length))
                # Server request ids start at 0 and overlap ours: route on `method` first.
                if "method" in message and "id" in message:
                    with self._cond:
                        self._server_requests.append(message["method"])
                        self._cond.notify_all()
                    self._answer(message)
                elif "id" in message:
                    with self._cond:
                        self._responses[message["id"]] = message
                        self._cond.notify_all()
                else:
                    with self._cond:
                        self._notifications.append(message)
                        self._cond.notify_all()
        except (EOFError, OSError, ValueError, LspError) as err:
            with self._cond:
                self._dead = str(err)
                self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode("utf-8", "replace").rstrip())

    def _mark(self) -> int:
        with self._cond:
            return len(self._notifications)

    def _diagnostics_after(self, mark: int, uri: str) -> list[dict[str, Any]]:
        def published() -> dict[str, Any] | None:
            for note in self._notifications[mark:]:
                if note.get("method") == "textDocument/publishDiagnostics" and note["params"]["uri"] == uri:
                    return note
            return None

        self._wait(lambda: published() is not None, f"diagnostics for {uri}")
        with self._cond:
            note = published()
        assert note is not None
        return list(note["params"]["diagnostics"])

    def _wait(self, ready: Any, what: str, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while not ready():
                if self._dead is not None:
                    raise LspError(f"waiting for {what}: {self._dead}; stderr: {self.stderr_lines[-5:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LspError(f"timed out waiting for {what}; stderr: {self.stderr_lines[-5:]}")
                self._cond.wait(left)
