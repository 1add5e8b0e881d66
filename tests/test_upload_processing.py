"""The upload pipeline: duplicates, idempotent re-runs, hostile archives, real corpora, Azure."""

import json
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from classifiers.actions.uploads import do_create_upload_batch
from classifiers.labels import final_labels
from classifiers.models import Document, Project, Tag, UploadBatch, UploadResult
from classifiers.uploads import process_batch
from tests.conftest import make_project
from tests.corpora import corpus_path, load_corpus
from tests.uploads import bomb_zip, txt, zip_bytes


def upload(project, user, files, target_set="training", **kw):
    batch = do_create_upload_batch(user, project, files, target_set, **kw)
    process_batch(batch.pk)
    batch.refresh_from_db()
    return batch


def test_second_delivery_changes_nothing(project, admin_user):
    batch = do_create_upload_batch(
        admin_user, project, [txt("a.txt", "one"), txt("b.txt", "two")], "training"
    )
    process_batch(batch.pk)
    # The ORM broker delivers at least once: a second run of a finished batch is a no-op, and
    # a re-run of a half-done one skips what is done.
    assert process_batch(batch.pk) is None
    UploadBatch.objects.filter(pk=batch.pk).update(status="processing")
    process_batch(batch.pk)
    assert Document.objects.count() == 2 and UploadResult.objects.count() == 2
    batch.refresh_from_db()
    assert (batch.imported, batch.processed) == (2, 2)


def test_crash_midway_then_rerun(project, admin_user, monkeypatch):
    from classifiers import uploads

    monkeypatch.setattr(uploads, "CHUNK", 2)
    files = [txt(f"{i}.txt", f"text number {i}") for i in range(5)]
    batch = do_create_upload_batch(admin_user, project, files, "training")
    calls = {"n": 0}
    real_write = uploads.BatchProcessor.write

    def failing_write(self, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real_write(self, rows)

    monkeypatch.setattr(uploads.BatchProcessor, "write", failing_write)
    with pytest.raises(OSError):
        process_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "failed" and "No space left" in batch.error
    assert Document.objects.count() == 2  # the first chunk, whole; the failed chunk left nothing
    monkeypatch.setattr(uploads.BatchProcessor, "write", real_write)
    process_batch(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.imported, Document.objects.count()) == ("done", 5, 5)


def test_same_file_again_is_duplicate(project, admin_user):
    upload(project, admin_user, [txt("a.txt", "hello world")])
    batch = upload(project, admin_user, [txt("renamed.txt", "hello world"), txt("c.txt", "Hello   WORLD")])
    results = {r.path: r for r in batch.results.all()}
    assert results["renamed.txt"].message == "The same file is already in this project."
    assert results["c.txt"].status == "duplicate"
    assert results["c.txt"].duplicate_of == Document.objects.get(filename="a.txt")
    assert Document.objects.count() == 1


def test_zip_bomb_and_traversal_rejected(project, admin_user):
    traversal = zip_bytes({"../../etc/passwd": b"root:x", "/abs.txt": b"abs", "ok.txt": b"fine text"})
    batch = upload(
        project,
        admin_user,
        [SimpleUploadedFile("bomb.zip", bomb_zip()), SimpleUploadedFile("trav.zip", traversal)],
    )
    reasons = dict(batch.results.values_list("path", "reason"))
    assert reasons["bomb.zip"] == "zip_bomb" or "zip_bomb" in reasons.values()
    assert list(reasons.values()).count("unsafe_path") == 2
    assert Document.objects.get().text == "fine text"
    assert batch.status == "done"


def test_nested_zip_too_deep(project, admin_user, settings):
    settings.STUDIO_MAX_ZIP_DEPTH = 1
    inner = zip_bytes({"deep.txt": b"deep text"})
    middle = zip_bytes({"inner.zip": inner, "mid.txt": b"middle text"})
    outer = zip_bytes({"middle.zip": middle})
    batch = upload(project, admin_user, [SimpleUploadedFile("outer.zip", outer)])
    assert "too_deep" in set(batch.results.values_list("reason", flat=True))
    assert Document.objects.filter(text="middle text").exists()


def test_trainable_csv_labels(admin_user):
    project = make_project(admin_user, name="Contract mail", kind="trainable")
    data = b"text,answer\nsigned contract,match\nlunch menu,not_match\nweird row,maybe\n"
    batch = do_create_upload_batch(admin_user, project, [SimpleUploadedFile("r.csv", data)], "training")
    from classifiers.actions.uploads import do_set_tabular_options

    do_set_tabular_options(admin_user, batch, text_column="text", label_columns=["answer"])
    process_batch(batch.pk)
    assert sorted(final_labels(project).values()) == [["match"], ["not_match"]]
    assert "not a match" in batch.results.get(path="r.csv#4").message


def test_bbc_corpus_through_command(admin_user, capsys):
    path = corpus_path("bbc")
    started = time.monotonic()
    call_command(
        "import_documents",
        "BBC news",
        str(path),
        "--user",
        "alice",
        "--create",
        "single_label",
        "--text-column",
        "text",
        "--label-column",
        "label",
        "--id-column",
        "id",
    )
    seconds = time.monotonic() - started
    project = Project.objects.get(name="BBC news")
    rows = load_corpus("bbc")
    distinct_texts = len({" ".join(r["text"].casefold().split()) for r in rows})
    assert Document.objects.filter(project=project).count() == distinct_texts
    assert set(project.classes.values_list("name", flat=True)) == {r["label"] for r in rows}
    assert Tag.objects.filter(project=project).count() == distinct_texts
    print(f"BBC import: {len(rows)} rows in {seconds:.1f} s")  # the benchmark tracks the figure


def test_azure_round_trip(admin_user, tmp_path):
    source = make_project(admin_user, name="Tickets", kind="multi_label")
    data = b"\n".join(
        json.dumps({"text": t, "labels": ls}).encode()
        for t, ls in [
            ("printer on fire", ["it", "urgent"]),
            ("new chair please", ["facilities"]),
            ("vpn down again", ["it"]),
            ("nothing to see", []),
        ]
    )
    batch = do_create_upload_batch(admin_user, source, [SimpleUploadedFile("t.jsonl", data)], "training")
    from classifiers.actions.uploads import do_set_tabular_options

    do_set_tabular_options(admin_user, batch, text_column="text", label_columns=["labels"])
    process_batch(batch.pk)
    Document.objects.filter(project=source, text="vpn down again").update(set="test")

    out = tmp_path / "export.zip"
    call_command("export_project", source.slug, "--format", "azure", "-o", str(out))
    with zipfile.ZipFile(out) as zf:
        labels = json.loads(zf.read("labels.json"))
    assert labels["projectFileVersion"] == "2022-05-01"
    assert labels["metadata"]["projectKind"] == "CustomMultiLabelClassification"

    target = make_project(admin_user, name="Tickets copy", kind="multi_label")
    batch = upload(target, admin_user, [SimpleUploadedFile("export.zip", out.read_bytes())], azure=True)
    assert batch.status == "done" and batch.rejected == 0, list(batch.results.values_list("path", "message"))

    def snapshot(project):
        labels = final_labels(project)
        return sorted((d.text, d.set, tuple(labels.get(d.id, []))) for d in project.documents.all())

    assert snapshot(target) == snapshot(source)


def test_azure_upload_is_detected_without_checkbox(admin_user):
    from classifiers import ingest

    project = make_project(admin_user, name="Movies", kind="single_label")
    labels = ingest.write_azure_labels(
        "movies",
        "single",
        "en",
        ["comedy", "drama"],
        [
            {"location": "a.txt", "dataset": "Train", "classes": ["comedy"]},
            {"location": "b.txt", "dataset": "Test", "classes": ["drama"]},
            {"location": "missing.txt", "classes": ["drama"]},
        ],
    )
    batch = upload(
        project,
        admin_user,
        [SimpleUploadedFile("labels.json", labels), txt("a.txt", "a funny film"), txt("b.txt", "a sad film")],
    )
    assert batch.source == "azure"
    assert dict(Document.objects.values_list("text", "set")) == {
        "a funny film": "training",
        "a sad film": "test",
    }
    assert batch.results.get(path="missing.txt").status == "rejected"


def test_corpus_through_the_upload_page(project, admin_user, django_capture_on_commit_callbacks):
    """The spam corpus (binary e-mail, 6,046 rows) as a JSON-lines upload in the studio."""
    import gzip

    from tests.helpers import login

    data = gzip.decompress(corpus_path("spamassassin").read_bytes())
    client = login(admin_user)
    client.post(
        f"/projects/{project.slug}/upload/",
        {"files": [SimpleUploadedFile("spam.jsonl", data)], "set": "training"},
    )
    batch = UploadBatch.objects.get()
    assert batch.status == "options"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/projects/{project.slug}/uploads/{batch.pk}/columns/",
            {"text_column": "text", "label_columns": ["label"], "id_column": "id"},
        )
    batch.refresh_from_db()
    assert batch.status == "done" and batch.processed == 6046
    assert batch.imported + batch.duplicates + batch.rejected == 6046
    assert set(project.classes.values_list("name", flat=True)) == {"ham", "spam"}
    assert batch.tags_created == batch.imported
