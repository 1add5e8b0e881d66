"""Model artifacts on disk: atomic writes, sha256 checked before anything is unpickled.

Pickle runs code on load, so the digest recorded at save time (kept in the database, not
beside the file) is compared with the file's bytes first; a file that does not match is never
unpickled. This guards against corruption and tampering with the file alone, not against
someone who can also rewrite the recorded digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import tempfile
from pathlib import Path

from .base import ArtifactError
from .model import TrainedModel

_MAGIC = b"CSTUDIO-MODEL-1\n"  # format marker written before the pickle


def save_model(model: TrainedModel, path: str | Path) -> str:
    """Write ``model`` to ``path`` atomically (temp file in the same folder + os.replace).

    Returns the sha256 hex digest of the written bytes; store it to pass to load_model().
    """
    if not isinstance(model, TrainedModel):
        raise TypeError("save_model expects a TrainedModel")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _MAGIC + pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(payload).hexdigest()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return digest


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_model(path: str | Path, expected_sha256: str) -> TrainedModel:
    """Load a model saved by save_model(); raises ArtifactError on any mismatch or damage."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read model artifact {path}: {exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if not expected_sha256 or not hmac.compare_digest(actual, str(expected_sha256).lower()):
        raise ArtifactError(f"model artifact {path} does not match its recorded sha256")
    if not data.startswith(_MAGIC):
        raise ArtifactError(f"{path} is not a Classifier Studio model artifact")
    try:
        model = pickle.loads(data[len(_MAGIC) :])
    except Exception as exc:  # the digest matched, so this is a version problem, not tampering
        raise ArtifactError(f"cannot unpickle model artifact {path}: {exc}") from exc
    if not isinstance(model, TrainedModel):
        raise ArtifactError(f"{path} does not contain a TrainedModel")
    return model
