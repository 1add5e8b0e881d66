"""The media folder fills up or turns read-only during an upload.

Tests usually run as root, where a chmod does not stop writes: the storage's ``_save`` is
patched to behave like a full (or read-only) disk: a write that runs out of space leaves
half its bytes in the file and raises OSError, as the real FileSystemStorage does. As
another user the read-only case is a real ``chmod``. A last case runs a real cluster whose
media folder cannot hold the originals (a file stands where their folder must be, which
stops root too): the worker reports the batch failed and carries on with the next task.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifiers.actions.uploads import do_create_upload_batch, do_retry_upload_batch
from classifiers.models import Document, DocumentSet, UploadBatch, UploadResult
from tests.conftest import make_project, make_user
from tests.faults.conftest import START
from tests.faults.helpers import originals_whole
from tests.helpers import login

pytestmark = pytest.mark.faults

FILES = 1200  # three chunks of 500: the disk fills in the middle of the second


class Disk:
    """FileSystemStorage._save that fails like a full disk once ``fill()`` is called, after
    ``allow`` more writes; ``free()`` makes room again."""

    def __init__(self, monkeypatch, code: int = errno.ENOSPC) -> None:
        self.code = code
        self.budget: int | None = None
        real = FileSystemStorage._save
        disk = self

        def _save(storage, name, content):
            if disk.budget is not None:
                if disk.budget <= 0:
                    path = Path(storage.path(name))
                    if disk.code == errno.ENOSPC:  # space ran out half-way through the file
                        path.parent.mkdir(parents=True, exist_ok=True)
                        content.seek(0)
                        data = content.read()
                        path.write_bytes(data[: len(data) // 2])
                    raise OSError(disk.code, os.strerror(disk.code), str(path))
                disk.budget -= 1
            return real(storage, name, content)

        monkeypatch.setattr(FileSystemStorage, "_save", _save)

    def fill(self, allow: int = 0) -> None:
        self.budget = allow

    def free(self) -> None:
        self.budget = None


def texts_zip(n: int = FILES, name: str = "notes.zip") -> SimpleUploadedFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            zf.writestr(f"notes/{i:05d}.txt", f"Memo {i}: shipping schedule for depot {i * 31}.")
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/zip")


def media_files(pattern: str) -> list[Path]:
    return sorted(Path(settings.MEDIA_ROOT).glob(pattern))


def no_partial_originals() -> None:
    """Under its final name every original is whole (its name is its SHA-256)."""
    for path in media_files("projects/*/originals/*/*"):
        assert not path.name.endswith(".tmp"), f"temporary file left: {path.name}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, f"partial original {path.name}"


@pytest.fixture
def alice(db):
    return make_user("alice", creator=True)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_upload_refused_when_nothing_can_be_stored(alice, monkeypatch, code):
    project = make_project(alice, name="Full disk")
    Disk(monkeypatch, code).fill()
    response = login(alice).post(
        reverse("upload", args=[project.slug]), {"files": [texts_zip(20)], "set": DocumentSet.TRAINING}
    )
    assert response.status_code == 422
    message = f"The files could not be stored ({os.strerror(code)}). Nothing was imported."
    assert message in response.content.decode()
    assert not UploadBatch.objects.exists() and not Document.objects.exists()
    assert not [p for p in media_files("projects/**/*") if p.is_file()]


def read_only(monkeypatch, project) -> Disk | None:
    """The originals folder turns read-only: a real chmod, or (as root) the patch."""
    if os.geteuid() != 0:
        folder = Path(settings.MEDIA_ROOT) / f"projects/{project.pk}/originals"
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        return None
    return Disk(monkeypatch, errno.EACCES)


@pytest.mark.parametrize("fault", ["disk_full", "read_only"])
def test_storage_fails_during_processing(alice, monkeypatch, django_capture_on_commit_callbacks, fault):
    project = make_project(alice, name="Storage fault")
    client = login(alice)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("upload", args=[project.slug]), {"files": [texts_zip()], "set": DocumentSet.TRAINING}
        )
    assert response.status_code == 302
    batch = UploadBatch.objects.get()
    if fault == "disk_full":
        disk = Disk(monkeypatch)
        disk.fill(allow=700)  # the first chunk's 500 originals, then 200 of the second's
        expected = f"({os.strerror(errno.ENOSPC)})"
    else:
        disk = read_only(monkeypatch, project)
        if disk is not None:
            disk.fill()
        expected = f"({os.strerror(errno.EACCES)})"

    # What the worker runs; it records the task as failed and takes the next one.
    with pytest.raises(OSError):
        for callback in queued:
            callback()
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.FAILED
    assert (
        batch.error.startswith("Processing stopped: the server's file storage failed")
        and expected in batch.error
    )
    assert str(settings.MEDIA_ROOT) not in batch.error  # no server paths on the page
    imported = 500 if fault == "disk_full" else 0
    assert (batch.processed, batch.imported) == (imported, imported)
    assert UploadResult.objects.filter(batch=batch).count() == imported
    assert originals_whole(Document.objects.filter(project=project)) == imported
    no_partial_originals()
    page = client.get(reverse("upload_batch", args=[project.slug, batch.pk]))
    assert page.status_code == 200 and expected in page.content.decode()

    # The disk is fixed: the Admin's retry continues where it stopped.
    if disk is not None:
        disk.free()
    else:
        (Path(settings.MEDIA_ROOT) / f"projects/{project.pk}/originals").chmod(0o755)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("upload_retry", args=[project.slug, batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.error
    assert (batch.processed, batch.imported, batch.duplicates, batch.rejected) == (FILES, FILES, 0, 0)
    assert UploadResult.objects.filter(batch=batch).values("path").distinct().count() == FILES
    assert originals_whole(Document.objects.filter(project=project)) == FILES
    no_partial_originals()

    # And a new upload works: the same files again are recognised as duplicates.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("upload", args=[project.slug]), {"files": [texts_zip()], "set": "training"})
    again = UploadBatch.objects.exclude(pk=batch.pk).get()
    assert (again.status, again.imported, again.duplicates) == ("done", 0, FILES)


@pytest.mark.django_db(transaction=True)
def test_real_worker_survives_unwritable_media(qclusters):
    """A real cluster: the batch fails with a clean message, the same worker then imports
    the retried batch once the media folder is repaired."""
    alice = make_user("alice", creator=True)
    project = make_project(alice, name="Blocked media")
    # A file where the originals folder must be: every write below it fails, root or not.
    blocker = Path(settings.MEDIA_ROOT) / f"projects/{project.pk}/originals"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"not a folder")
    batch = do_create_upload_batch(alice, project, [texts_zip(50)], DocumentSet.TRAINING)

    def status() -> str:
        return UploadBatch.objects.values_list("status", flat=True).get(pk=batch.pk)

    cluster = qclusters.start(tag="only")
    qclusters.wait("the batch to fail", lambda: status() in ("failed", "done"), START + 30)
    batch.refresh_from_db()
    assert batch.status == "failed" and "file storage failed" in batch.error, batch.error
    assert str(settings.MEDIA_ROOT) not in batch.error
    assert not Document.objects.exists()

    blocker.unlink()
    do_retry_upload_batch(alice, batch)
    qclusters.wait("the retried batch to finish", lambda: status() in ("failed", "done"), 60)
    batch.refresh_from_db()
    assert (batch.status, batch.imported) == ("done", 50), batch.error
    assert originals_whole(Document.objects.filter(project=project)) == 50
    assert cluster.alive()
    runs = [e for e in qclusters.executed() if e["func"].endswith("process_upload_batch")]
    assert len(runs) == 2 and {r["tag"] for r in runs} == {"only"}  # one cluster did both
