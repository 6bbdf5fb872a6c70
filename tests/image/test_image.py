"""The app image, built by a real Docker engine from the root Dockerfile and run.

The engine is Debian's docker.io, installed and started by image/docker-engine.sh when none
runs; the bases are the stand-ins assembled offline by image/standin-base.sh (no registry is
reachable here): the Node.js image for the build stages, distroless static for the runtime.
The shutdown test uses the app's test-only route /debug/slow, which exists only when
DEBUG_ROUTES=true is set on the container (it is never set by the deployment): a request that
lasts a known time is the honest way to have one in flight at SIGTERM.
"""
from __future__ import annotations

import json
import platform
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from helpers import REPO, require

pytestmark = pytest.mark.image

NODE = "/usr/local/bin/node"
# The distroless base's `nonroot` user and group.
NONROOT = 65532
# Where Debian keeps the shared libraries of this machine's architecture (the image's too).
LIBDIR = "/lib/" + {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}.get(platform.machine(), "?")


def _say(config: pytest.Config, line: str) -> None:
    """A line in pytest's output even when the test passes and its output is captured."""
    with config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        reporter.ensure_newline()
        reporter.write_line(line)


def _run(*args: str, check: bool = True, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=timeout)


@pytest.fixture(scope="session")
def docker() -> str:
    proc = subprocess.run(["bash", str(REPO / "image" / "docker-engine.sh")], capture_output=True, text=True,
                          timeout=900, check=False)
    require(proc.returncode == 0, f"no Docker engine could be started: {proc.stderr.strip()[-400:]}")
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def image(docker, pytestconfig) -> str:
    """The app image: built by image/build.sh, or reused when its inputs are unchanged."""
    proc = subprocess.run(["bash", str(REPO / "image" / "build.sh")], capture_output=True, text=True,
                          timeout=1800, check=False)
    if proc.returncode != 0:
        pytest.fail(f"image build failed:\n{proc.stderr[-3000:]}")
    ref = proc.stdout.strip().splitlines()[-1]
    size = int(_run(docker, "image", "inspect", "--format", "{{.Size}}", ref).stdout)
    _say(pytestconfig, f"image: {ref}: {size / 1e6:.1f} MB")
    return ref


class Container:
    def __init__(self, docker: str, image: str, env: dict[str, str]):
        self.docker = docker
        args = [docker, "run", "-d", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "-p", "127.0.0.1::8000"]
        for k, v in env.items():
            args += ["-e", f"{k}={v}"]
        self.id = _run(*args, image).stdout.strip()
        host_port = _run(docker, "port", self.id, "8000/tcp").stdout.strip().splitlines()[0]
        self.base = f"http://{host_port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.get("/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"container not ready in 20s; logs:\n{self.logs()}")
            time.sleep(0.2)

    def get(self, path: str, timeout: float = 10) -> tuple[int, str, dict]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def node(self, script: str) -> subprocess.CompletedProcess:
        """Run a Node.js one-liner inside the container (docker exec; no shell involved)."""
        return _run(self.docker, "exec", self.id, NODE, "-e", script, check=False)

    def logs(self) -> str:
        return _run(self.docker, "logs", self.id, check=False).stdout

    def remove(self) -> None:
        _run(self.docker, "rm", "-f", self.id, check=False)


@pytest.fixture(scope="module")
def app(docker, image):
    c = Container(docker, image, {})
    yield c
    c.remove()


def test_image_metadata(docker, image):
    cfg = json.loads(_run(docker, "image", "inspect", image).stdout)[0]["Config"]
    assert cfg["Entrypoint"] == [NODE, "index.js"], "exec form: node is PID 1 and gets the signals"
    assert not cfg.get("Cmd")
    user = cfg["User"]
    assert user == f"{NONROOT}:{NONROOT}", f"numeric non-root user expected, got {user!r}"
    labels = cfg["Labels"]
    for key in ("title", "version", "revision", "source", "licenses", "base.name"):
        assert labels.get(f"org.opencontainers.image.{key}"), f"OCI label {key} missing"
    assert "NODE_ENV=production" in cfg["Env"]


def test_only_production_dependencies(docker, image, app):
    lock = json.loads((REPO / "app" / "package-lock.json").read_text())
    expected = sorted(p.removeprefix("node_modules/") for p, meta in lock["packages"].items()
                      if p and not meta.get("dev") and p.count("node_modules/") == 1)
    listed = app.node(
        "const fs=require('fs');const out=[];"
        "for(const d of fs.readdirSync('/app/node_modules')){if(d.startsWith('.'))continue;"
        "if(d.startsWith('@')){for(const s of fs.readdirSync('/app/node_modules/'+d))out.push(d+'/'+s)}else out.push(d)}"
        "process.stdout.write(JSON.stringify(out.sort()))")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == expected


def test_routes_over_http(app):
    assert app.get("/")[:2] == (200, "Hello OUI!")
    assert app.get("/healthz")[:2] == (200, "OK")
    assert app.get("/readyz")[:2] == (200, "OK")
    assert app.get("/nope")[0] == 404
    status, body, headers = app.get("/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert 'http_requests_total{method="GET",route="/",status_code="200"}' in body
    assert 'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/",status_code="200"}' in body
    assert "process_resident_memory_bytes " in body
    assert "process_cpu_seconds_total " in body
    assert "# TYPE http_request_errors_total counter" in body


def test_runs_as_non_root_without_a_shell(app):
    probe = app.node("const fs=require('fs');process.stdout.write(JSON.stringify({uid:process.getuid(),"
                     "gid:process.getgid(),pid1:fs.readFileSync('/proc/1/cmdline','utf8').split('\\0')}))")
    assert probe.returncode == 0, probe.stderr
    facts = json.loads(probe.stdout)
    assert facts["uid"] == NONROOT and facts["gid"] == NONROOT
    assert facts["pid1"][:2] == [NODE, "index.js"], "node itself is PID 1, not a shell"
    # The image has no shell to run: prove it.
    shell = app.node("require('child_process').execSync('true')")
    assert shell.returncode != 0 and "ENOENT" in shell.stderr, shell.stderr
    # The app's files belong to root and are not writable by the app's user, whatever the
    # run flags; and with a read-only root filesystem the app still serves.
    own = app.node("const fs=require('fs');process.stdout.write(JSON.stringify(['/app','/app/index.js',"
                   "'/app/src/server.js','/app/node_modules/express/index.js'].map(f=>{const s=fs.statSync(f);"
                   "return [f,s.uid,(s.mode&0o022)===0]})))")
    assert own.returncode == 0, own.stderr
    for path, uid, not_group_or_world_writable in json.loads(own.stdout):
        assert uid == 0 and not_group_or_world_writable, f"{path} must be root-owned, not writable by uid {NONROOT}"
    write = app.node("require('fs').writeFileSync('/tmp/x', 'x')")
    assert write.returncode != 0 and "EROFS" in write.stderr
    assert app.get("/")[0] == 200


def test_runtime_holds_only_what_node_needs(app):
    """Distroless runtime: node, the shared libraries it links to (with their Debian package
    records, for image scanners), CA certificates, passwd and group entries for the app's user;
    no shell, no package manager, no npm. And node still resolves names and speaks TLS."""
    probe = app.node(
        "const fs=require('fs');const ls=(d)=>fs.existsSync(d)?fs.readdirSync(d).sort():null;"
        "const has=(p)=>fs.existsSync(p);process.stdout.write(JSON.stringify({"
        f"libs:ls('{LIBDIR}'),records:ls('/var/lib/dpkg/status.d'),"
        "passwd:fs.readFileSync('/etc/passwd','utf8'),group:fs.readFileSync('/etc/group','utf8'),"
        "cas:fs.readFileSync('/etc/ssl/certs/ca-certificates.crt','utf8').split('BEGIN CERTIFICATE').length-1,"
        "present:['/bin/sh','/usr/bin/sh','/bin/bash','/bin/dash','/usr/bin/apt','/usr/bin/dpkg',"
        "'/usr/local/bin/npm','/usr/local/lib/node_modules'].filter(has)}))")
    assert probe.returncode == 0, probe.stderr
    facts = json.loads(probe.stdout)
    assert facts["present"] == [], f"not in a distroless runtime: {facts['present']}"
    assert facts["libs"] == ["libc.so.6", "libdl.so.2", "libgcc_s.so.1", "libm.so.6", "libpthread.so.0",
                             "libstdc++.so.6"], facts["libs"]
    assert {"libc6", "libstdc++6", "libgcc-s1", "ca-certificates", "tzdata"} <= set(facts["records"]), facts["records"]
    assert f"nonroot:x:{NONROOT}:{NONROOT}:" in facts["passwd"] and f"nonroot:x:{NONROOT}:" in facts["group"]
    assert facts["cas"] > 100, "the CA bundle holds the Mozilla roots"
    # Name resolution through glibc (nsswitch, /etc/hosts) and TLS with the bundled roots work.
    net = app.node("require('dns').lookup('localhost',(e,a)=>{if(e)throw e;"
                   "const tls=require('tls');const c=tls.createSecureContext({ca:require('fs')"
                   ".readFileSync(process.env.SSL_CERT_FILE)});process.stdout.write(a+' '+typeof c)})")
    assert net.returncode == 0 and net.stdout in ("127.0.0.1 object", "::1 object"), (net.stdout, net.stderr)


def test_sigterm_during_a_slow_request(docker, image, pytestconfig):
    delay_ms, deadline_ms, slow_ms = 1000, 8000, 3000
    c = Container(docker, image, {"DEBUG_ROUTES": "true", "SHUTDOWN_DELAY_MS": str(delay_ms),
                                  "SHUTDOWN_TIMEOUT_MS": str(deadline_ms)})
    try:
        result: dict = {}

        def slow():
            try:
                result["response"] = c.get(f"/debug/slow?ms={slow_ms}", timeout=30)[:2]
            except Exception as e:  # noqa: BLE001 - recorded and asserted below
                result["error"] = repr(e)

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)
        signalled = time.monotonic()
        _run(docker, "kill", "--signal", "SIGTERM", c.id)
        time.sleep(0.3)
        assert c.get("/readyz")[0] == 503, "readiness fails as soon as shutdown begins"
        t.join(30)
        assert result.get("response") == (200, f"slept {slow_ms}ms"), result
        code = int(_run(docker, "wait", c.id, timeout=30).stdout.strip())
        elapsed = time.monotonic() - signalled
        _say(pytestconfig, f"shutdown: exit {code} {elapsed:.2f}s after SIGTERM (delay {delay_ms}ms, deadline {deadline_ms}ms)")
        assert code == 0
        assert elapsed < deadline_ms / 1000, "exited before the deadline"
        events = [json.loads(line)["msg"].split(":")[0] for line in c.logs().splitlines() if line.startswith("{")]
        events = [e for e in events if e != "request"]
        assert events == ["listening", "shutdown begun", "listener closing", "shutdown complete"], events
    finally:
        c.remove()
