"""Two instances of `verify desk serve` behind a real nginx (Debian's nginx-light, TLS on
loopback), configured with the block docs/many-desks.md documents: scans and answers through
either instance, one credential good on both, a revocation in force on both within the reload
interval, and forwarding headers believed only from the proxy's own address."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support_desks import ServeProcess, StreamTap, add_desk, burst, call, desk_cli, page_token
from verify.lookup.emulator import Emulator

PROXY_ADDRESS = "127.0.0.2"  # nginx connects to the instances from here (proxy_bind)
RELOAD = 1.0
DOC = Path(__file__).resolve().parents[2] / "docs" / "many-desks.md"
# What only a test run needs around the documented block: no daemon, its own prefix and pid.
MAIN = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{documented}
}}
"""


def documented_conf(tmp: Path, port: int, backends: list[int]) -> str:
    """The nginx block of docs/many-desks.md with this run's addresses (each must be there)."""
    block = DOC.read_text(encoding="utf-8").split("```nginx\n", 1)[1].split("```", 1)[0]
    swaps = {
        "server 10.0.0.11:8766;": f"server 127.0.0.1:{backends[0]};",
        "server 10.0.0.12:8766;": f"server 127.0.0.1:{backends[1]};",
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "/etc/ssl/certs/verify.pem": str(tmp / "cert.pem"),
        "/etc/ssl/private/verify.key": str(tmp / "key.pem"),
        "proxy_bind 10.0.0.2;": f"proxy_bind {PROXY_ADDRESS};",
    }
    for old, new in swaps.items():
        assert old in block, f"docs/many-desks.md's nginx block no longer has {old!r}"
        block = block.replace(old, new)
    return MAIN.format(tmp=tmp, documented=block)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Nginx:
    """nginx as a child process with its own configuration, prefix and pid file."""

    def __init__(self, tmp: Path, backends: list[int]) -> None:
        tmp.mkdir()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=127.0.0.1", "-keyout", str(tmp / "key.pem"),
                        "-out", str(tmp / "cert.pem")], check=True, capture_output=True)
        self.port = free_port()
        (tmp / "nginx.conf").write_text(documented_conf(tmp, self.port, backends))
        self.proc = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(tmp), "-c",
             str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr \
                    else "nginx ended"
                assert time.monotonic() < deadline, "nginx never listened"
                time.sleep(0.05)

    def call(self, method: str, path: str, body: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=context)
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def two_behind_nginx(tmp_path: Path) -> Iterator[tuple[Path, Emulator, list[ServeProcess],
                                                        Nginx, str]]:
    folder = tmp_path / "desks"
    with Emulator() as emu:
        link = add_desk(folder, "reception 1", "VC Tensta", "https://verify.invalid")
        instances = [ServeProcess(folder, emu.env(), "--region", "skane", "--trusted-proxy",
                                  PROXY_ADDRESS, "--reload-seconds", str(RELOAD), "--verbose")
                     for _ in range(2)]
        nginx = None
        try:
            nginx = Nginx(tmp_path / "nginx", [i.port for i in instances])
            yield folder, emu, instances, nginx, link.split("/", 3)[3]
        finally:
            if nginx is not None:
                nginx.stop()
            for instance in instances:
                instance.stop()


@pytest.mark.timeout(300)
def test_two_instances_behind_nginx_share_desks_but_nothing_else(two_behind_nginx) -> None:
    folder, emu, instances, nginx, enrol_path = two_behind_nginx
    origin = f"https://127.0.0.1:{nginx.port}"
    # Enrolment through the proxy: the secure cookie; the link is spent for every later try.
    status, headers, _ = nginx.call("POST", "/" + enrol_path, headers={"Origin": "null"})
    assert status == 303, status
    cookie, path = headers["set-cookie"].split(";")[0], headers["location"]
    for _ in range(4):
        assert nginx.call("POST", "/" + enrol_path)[0] == 410

    # The credential is good on both instances (asked directly, not through the proxy).
    for instance in instances:
        assert call(instance.port, "GET", path, headers={"Cookie": cookie})[0] == 200

    tap = StreamTap(nginx.port, path, cookie, tls=True)
    tap.wait_for(b"retry:")
    summaries = []
    for i in range(12):
        _, _, page = nginx.call("GET", path, headers={"Cookie": cookie})
        form = {"Cookie": cookie, "X-Verify-Page": page_token(page), "Origin": origin,
                "Content-Type": "application/json"}
        token = f"VALID{i:04d}" if i % 2 else f"NOINFO{i:03d}"
        status, _, body = nginx.call("POST", path + "api/scan", burst(emu.url(token)), form)
        assert status == 200, body
        shown = json.loads(body)
        if token.startswith("VALID"):
            # The answer goes to whichever instance nginx picks next: the ticket carries it.
            age = shown["desk"]["questions"][0]["options"][1]["value"]
            answer = json.dumps({"scan": shown["desk"]["scan_id"], "answers": {"age": age},
                                 "ticket": shown["ticket"]})
            status, _, body = nginx.call("POST", path + "api/answer", answer, form)
            assert status == 200, body
            summaries.append(json.loads(body)["desk"]["summary"])
        else:
            assert token.encode() in body
    assert len(summaries) == 6 and all(s.startswith("Asylsökande över") for s in summaries)
    # Explicitly across: scanned on instance 1, answered on instance 2, neither told the other.
    one, two = (i.port for i in instances)
    direct = {"Cookie": cookie, "X-Verify-Page": page_token(call(one, "GET", path, headers={
        "Cookie": cookie})[2]), "Content-Type": "application/json"}
    shown = json.loads(call(one, "POST", path + "api/scan", burst(emu.url("VALID9999")),
                            direct)[2])
    answer = json.dumps({"scan": shown["desk"]["scan_id"], "ticket": shown["ticket"],
                         "answers": {"age": shown["desk"]["questions"][0]["options"][0]["value"]}})
    status, _, body = call(two, "POST", path + "api/answer", answer, direct)
    assert status == 200 and json.loads(body)["desk"]["summary"].startswith("Asylsökande under")
    # The page's origin is https (the proxy said so, and only the proxy may): http is another.
    form["Origin"] = f"http://127.0.0.1:{nginx.port}"
    assert nginx.call("POST", path + "api/scan", burst(emu.url("NOINFO999")), form)[0] == 403

    # Both instances answered scans (each counts its own).
    for instance in instances:
        _, _, text = call(instance.port, "GET", "/metrics")
        scans = sum(s.value for f in text_string_to_metric_families(text.decode())
                    for s in f.samples if s.name == "verify_desk_scans_total"
                    and s.labels["desk"] == "reception 1")
        assert scans >= 1
    # The operator page and metrics are not served through the proxy.
    assert nginx.call("GET", "/operator")[0] == 404
    assert nginx.call("GET", "/metrics")[0] == 404
    # Forwarding headers sent straight to an instance (not from the proxy's address): refused.
    for instance in instances:
        status, _, body = call(instance.port, "GET", path, headers={
            "Cookie": cookie, "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
        assert status == 400 and b"verify-page" not in body

    # Revocation: the desks file changes; both instances refuse within the reload interval.
    done = desk_cli("revoke", "reception 1", "--desks", str(folder))
    assert done.returncode == 0, done.stderr
    revoked_at = time.monotonic()
    pending = {i.port for i in instances}
    while pending:
        for port in list(pending):
            if call(port, "GET", path, headers={"Cookie": cookie})[0] == 403:
                pending.discard(port)
        assert time.monotonic() - revoked_at < RELOAD + 2.0, "revocation not in force"
        time.sleep(0.05)
    for _ in range(4):
        status, _, body = nginx.call("GET", path, headers={"Cookie": cookie})
        assert status == 403 and "spärrad".encode() in body
    tap.close()
    # Nothing of a card, a credential or a link in either instance's log (run with -v).
    logged = "\n".join(line for instance in instances for line in instance.log)
    assert "desks file re-read" in logged and "GET" in logged
    for secret in ("VALID000", "NOINFO", cookie.split("=", 1)[1], enrol_path.split("/")[-1]):
        assert secret not in logged
