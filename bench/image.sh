#!/usr/bin/env bash
# Builds the Dockerfile's image without a Docker engine (podman/buildah from Debian's packages)
# and checks it as the Deployment runs it: `prescale --help` and `prescale check-config` on
# deploy/base/config.yaml as the non-root user 65532 with a read-only root filesystem (writable
# /tmp only, as deploy/base mounts), then the Python packages in the image against pyproject.
#
#   sudo bench/image.sh            (root: podman, debootstrap and runc are apt-installed if missing)
#
# Where no registry of images is reachable, the base is made here: Debian bookworm (Python 3.11)
# by debootstrap, a venv at /usr/local so `python` and `pip` are where python:3.11-slim has
# them, imported as localhost/prescale-base:bookworm and passed as the Dockerfile's BASE. This
# machine's CA bundle goes into that base (and PIP_CERT names it) so that pip in the build stage
# trusts the same TLS as pip here; it is a local base, never pushed.
# Runs with podman's chroot isolation (crun cannot set up this kind of VM's hybrid cgroups) and
# runc for `podman run`, with explicit open-file and process limits (podman's defaults are above
# the hard limits of some machines, and runc may not raise them: "error setting rlimit ...
# operation not permitted"). Takes about 5 minutes on a shared 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=localhost/prescale-base:bookworm
IMAGE=localhost/prescale:bench
work=$(mktemp -d /tmp/prescale-image-XXXXXX)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
say() { printf '[%4ds] %s\n' "$(($(date +%s) - started))" "$*"; }

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v runc >/dev/null 2>&1 || need+=(runc)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! podman image exists "$BASE"; then
  say "debootstrap: Debian bookworm with python3 and venv"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm \
    "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log"
  chroot "$work/rootfs" python3 -m venv /usr/local
  cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/ca-certificates.crt"
  chroot "$work/rootfs" apt-get clean
  rm -rf "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' - "$BASE" >/dev/null
fi

say "podman build (BASE=$BASE)"
podman build -q --no-cache --isolation=chroot --network=host --build-arg "BASE=$BASE" -t "$IMAGE" . >/dev/null
say "image: $(podman image inspect "$IMAGE" --format '{{.Size}}') bytes, user $(podman image inspect "$IMAGE" --format '{{.Config.User}}')"

# the Deployment's conditions: uid 65532, read-only root, /tmp writable, no network
run() {
  podman --runtime runc run --rm --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --read-only --network none --user 65532:65532 \
    --tmpfs /tmp --volume "$PWD/deploy/base/config.yaml:/etc/prescale/config.yaml:ro" "$@"
}
run --entrypoint id "$IMAGE" | tee "$work/id"
grep -q '^uid=65532(65532) gid=65532(65532)' "$work/id"
run "$IMAGE" --help >"$work/help"
grep -q 'check-config' "$work/help"
say "prescale --help: $(wc -l <"$work/help") lines"
run "$IMAGE" check-config /etc/prescale/config.yaml >"$work/resolved"
grep -q '^mode: advisory' "$work/resolved"
say "prescale check-config /etc/prescale/config.yaml: exit 0, $(wc -l <"$work/resolved") lines resolved"
if run --entrypoint sh "$IMAGE" -c 'touch /probe' 2>/dev/null; then
  echo "the root filesystem is writable" >&2
  exit 1
fi

run --entrypoint python "$IMAGE" -c '
import importlib.metadata as m
for d in sorted(m.distributions(), key=lambda d: d.metadata["Name"].lower()):
    print(d.metadata["Name"], d.version)' >"$work/packages"
python3 - "$work/packages" <<'PY'
import re, sys, tomllib
installed = {}
for line in open(sys.argv[1]):
    name, version = line.split()
    installed[re.sub(r"[-_.]+", "-", name).lower()] = version
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
wanted = project["dependencies"] + project["optional-dependencies"]["postgres"]
missing = []
print(f"{'pyproject requirement':40} installed")
for requirement in wanted:
    name = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]).lower()
    print(f"{requirement:40} {installed.get(name, 'MISSING')}")
    if name not in installed:
        missing.append(requirement)
left = [t for t in ("pip", "setuptools", "wheel") if t in installed]
print(f"{len(installed)} distributions in the image ({len(wanted)} direct requirements, "
      f"prescale {installed.get('prescale')}); build tools left: {left or 'none'}")
sys.exit(1 if missing or left or "prescale" not in installed else 0)
PY
say "done"
