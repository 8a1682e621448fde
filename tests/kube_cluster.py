"""Test support: a real, throwaway Kubernetes control plane on loopback ports.

Starts etcd and kube-apiserver (and, when asked, kube-controller-manager) afresh in a temporary
directory, each on a free 127.0.0.1 port, and stops them at the end. The binaries come from
`$KUBEBUILDER_ASSETS` when it is set (the envtest convention Go operator developers use), else from
`../shared/kube/assets` beside the repository, which unpacks the project's own v1.36 binaries.

    import kube_cluster
    with kube_cluster.running(controllers=True) as plane:
        plane.kubeconfig, plane.api_url, plane.admin_token, plane.ca_file

`running` yields a `ControlPlane` (frozen). It raises `kube_cluster.UnavailableError` when
binaries or tools are missing: a fixture turns that into `parts.missing_part` (fails under CI,
skips elsewhere). No scheduler and no kubelet run: Pods stay Pending unless a test writes
their status.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SHARED_KUBE = Path(__file__).resolve().parents[1].parent / "shared" / "kube"
HOW_TO_GET = (
    "set KUBEBUILDER_ASSETS to a directory with etcd and kube-apiserver, or clone the repository "
    "with ../shared/kube beside it (its `assets` script needs xz: apt-get install xz-utils)"
)
# kube-apiserver is ready in about 3 s on this machine; 60 s covers a loaded CI runner.
START_TIMEOUT_S = 60.0
# The HPA controller's default sync is 15 s: 1 s lets a test see a raised floor act quickly.
HPA_SYNC_PERIOD = "1s"


class UnavailableError(Exception):
    """The control plane cannot be started here: a binary or a tool is missing."""


@dataclass(frozen=True)
class ControlPlane:
    """A running control plane: how to reach it as cluster-admin."""

    kubeconfig: Path
    api_url: str
    admin_token: str
    ca_file: Path
    state_dir: Path
    controllers: bool


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def assets_dir(*, controllers: bool) -> Path:
    """The directory holding etcd, kube-apiserver (and kube-controller-manager if asked)."""
    needed = ["etcd", "kube-apiserver"] + (["kube-controller-manager"] if controllers else [])
    from_env = os.environ.get("KUBEBUILDER_ASSETS")
    if from_env and all((Path(from_env) / name).is_file() for name in needed):
        return Path(from_env)
    script = SHARED_KUBE / "assets"
    if not script.is_file():
        raise UnavailableError(f"no control-plane binaries ({script} not found)")
    done = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UnavailableError(f"{script} failed: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _make_pki(pki: Path) -> None:
    """A CA, a serving certificate for 127.0.0.1 and a ServiceAccount signing key."""
    if shutil.which("openssl") is None:
        raise UnavailableError("openssl is missing (apt-get install openssl)")
    pki.mkdir(parents=True)
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650"),
        *("-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"), "-subj", "/CN=test-ca"),
    )
    (pki / "san.cnf").write_text(
        "[req]\ndistinguished_name=dn\n[dn]\n[ext]\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        *("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver"),
        *("-keyout", str(pki / "apiserver.key"), "-out", str(pki / "apiserver.csr")),
        *("-config", str(pki / "san.cnf")),
    )
    _openssl(
        *("x509", "-req", "-in", str(pki / "apiserver.csr"), "-days", "3650"),
        *("-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"), "-CAcreateserial"),
        *("-out", str(pki / "apiserver.crt"), "-extfile", str(pki / "san.cnf")),
        *("-extensions", "ext"),
    )
    _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
    _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def _wait_ready(
    url: str,
    context: ssl.SSLContext | None,
    headers: dict[str, str],
    proc: subprocess.Popen[bytes],
    log: Path,
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{log.stem} exited with {proc.returncode}: see {log}")
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        # Polling a server that is starting up: no event to wait on instead.
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {START_TIMEOUT_S} s: see {log}")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def running(*, controllers: bool = False, state_dir: Path | None = None) -> Iterator[ControlPlane]:
    """Start a fresh control plane, yield how to reach it, stop it (and delete its state)."""
    bins = assets_dir(controllers=controllers)
    own_dir = state_dir is None
    root = Path(tempfile.mkdtemp(prefix="prescale-kube-")) if state_dir is None else state_dir
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (root / f"{name}.log").open("wb")
        proc = subprocess.Popen([str(bins / name), *args], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        procs.append(proc)
        return proc

    try:
        pki = root / "pki"
        _make_pki(pki)
        etcd_port, peer_port, api_port, kcm_port = _free_ports(4)
        token = os.urandom(24).hex()
        (pki / "tokens.csv").write_text(f'{token},admin,uid-admin,"system:masters"\n')
        etcd = start(
            "etcd",
            *("--name", "local", "--data-dir", str(root / "etcd")),
            f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
            f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
            "--unsafe-no-fsync",
            "--log-level=error",
        )
        _wait_ready(f"http://127.0.0.1:{etcd_port}/health", None, {}, etcd, root / "etcd.log")
        api = start(
            "kube-apiserver",
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={api_port}",
            "--endpoint-reconciler-type=none",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--token-auth-file={pki / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.0.0.0/24",
            f"--cert-dir={pki}",
            "--profiling=false",
            "--v=1",
        )
        api_url = f"https://127.0.0.1:{api_port}"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        auth = {"Authorization": f"Bearer {token}"}
        _wait_ready(f"{api_url}/readyz", context, auth, api, root / "kube-apiserver.log")
        kubeconfig = root / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\n"
            f'clusters: [{{name: local, cluster: {{server: "{api_url}", '
            f'certificate-authority: "{pki / "ca.crt"}"}}}}]\n'
            f'users: [{{name: admin, user: {{token: "{token}"}}}}]\n'
            "contexts: [{name: local, context: {cluster: local, user: admin, "
            "namespace: default}}]\n"
            "current-context: local\n"
        )
        kubeconfig.chmod(0o600)
        if controllers:
            start(
                "kube-controller-manager",
                f"--kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={kcm_port}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                "--use-service-account-credentials=false",
                "--controllers=*",
                f"--horizontal-pod-autoscaler-sync-period={HPA_SYNC_PERIOD}",
                "--v=1",
            )
        yield ControlPlane(
            kubeconfig=kubeconfig,
            api_url=api_url,
            admin_token=token,
            ca_file=pki / "ca.crt",
            state_dir=root,
            controllers=controllers,
        )
    finally:
        _stop(procs)
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)
