"""A real Prometheus and Pushgateway (Debian's `prometheus`, `prometheus-pushgateway`) on loopback,
each on a free port, started and stopped by PID like the other servers of the harness."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import yaml

from .ports import free_port
from .processes import Process, wait_for

PROMETHEUS, PUSHGATEWAY = "prometheus", "prometheus-pushgateway"


def available() -> str | None:
    for tool in (PROMETHEUS, PUSHGATEWAY):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install prometheus prometheus-pushgateway; `make system-deps`)"
    return None


class Pushgateway(Process):
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        # In memory only: Debian's build defaults --persistence.file to /var/lib/prometheus/pushgateway.data,
        # which every Pushgateway started on this machine would share (a test would read an older run's push).
        super().__init__("pushgateway", [str(shutil.which(PUSHGATEWAY)), f"--web.listen-address=127.0.0.1:{self.port}",
                                         "--persistence.file="], workdir / "pushgateway.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_and_wait(self, timeout: float = 30) -> Pushgateway:
        self.start()
        wait_for("pushgateway /-/ready", lambda: httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200,
                 timeout, self)
        return self


class Prometheus(Process):
    """Prometheus with `config` (a prometheus.yml as data) and `rules` (rule-file name -> its groups)."""

    def __init__(self, workdir: Path, config: dict[str, Any], rules: dict[str, dict[str, Any]]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        for name, groups in rules.items():
            (workdir / name).write_text(yaml.safe_dump(groups), encoding="utf-8")
        config = {**config, "rule_files": [str(workdir / name) for name in sorted(rules)]}
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.port = free_port()
        super().__init__("prometheus", [
            str(shutil.which(PROMETHEUS)), f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
        ], workdir / "prometheus.log")
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    def start_and_wait(self, timeout: float = 60) -> Prometheus:
        self.start()
        wait_for("prometheus /-/ready", lambda: self.http.get("/-/ready").status_code == 200, timeout, self)
        return self

    def api(self, path: str, **params: str) -> Any:
        answer = self.http.get(f"/api/v1/{path}", params=params)
        body = answer.json()
        assert answer.status_code == 200 and body["status"] == "success", (answer.status_code, body)
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        return list(self.api("query", query=promql)["result"])

    def wait_query(self, promql: str, timeout: float = 30) -> list[dict[str, Any]]:
        """The query's result once it is not empty (scrapes and evaluations take a second or two)."""
        wait_for(f"a result of {promql}", lambda: bool(self.query(promql)), timeout, self, interval=0.5)
        return self.query(promql)

    def alerts(self) -> list[dict[str, Any]]:
        return list(self.api("alerts")["alerts"])

    def wait_alert(self, state: str, timeout: float = 30, **labels: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((a for a in self.alerts() if a["state"] == state
                         and all(a["labels"].get(k) == v for k, v in labels.items())), None)
        wait_for(f"a {state} alert {labels}", lambda: found() is not None, timeout, self, interval=0.5)
        alert = found()
        assert alert is not None
        return alert

    def stop(self, grace: float = 10.0) -> int | None:
        self.http.close()
        return super().stop(grace)
