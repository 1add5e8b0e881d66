"""Issue #9 (data safety): a project archive restored into a fresh database reproduces the
project field by field (documents, tags, sets, schema versions, reviews, feedback, model
versions with their artifacts...), its models classify as before, and a damaged archive is
refused without writing anything."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from classifiers.actions import do_add_member
from classifiers.actions.deployments import do_deploy
from classifiers.actions.documents import do_draw_test_split
from classifiers.actions.production import (
    do_create_label,
    do_create_policy,
    do_decide,
    do_give_feedback,
    do_retrain_now,
    do_withdraw_feedback,
)
from classifiers.actions.schema import do_add_class, do_archive_class, do_edit_class
from classifiers.actions.tagging import do_resolve_conflict
from classifiers.actions.trainable import do_review, do_set_threshold
from classifiers.archive import ArchiveError, read_archive, write_archive
from classifiers.models import (
    AppliedLabel,
    Class,
    Classification,
    Document,
    Feedback,
    ModelVersion,
    Project,
    Review,
    SchemaVersion,
    Tag,
    VersionComparison,
)
from classifiers.retraining import latest_comparison
from studio.models import AuditEntry
from tests.archive_canon import canonical, predictions
from tests.production.helpers import add, published_sport_classifier, train
from tests.training_data import tagged_project

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "the match ended with a late goal and the coach praised the team",
    "the invoice payment was late and the bank charged interest",
    "a software update fixed the server security problem",
]


@pytest.fixture
def sport(admin_user, tagger_user, viewer_user, django_capture_on_commit_callbacks):
    """A published trainable classifier with everything production makes."""
    capture = django_capture_on_commit_callbacks
    project, v1 = published_sport_classifier(admin_user, capture, production=18)
    do_add_member(admin_user, project, tagger_user, "tagger")
    do_add_member(admin_user, project, viewer_user, "viewer")
    tests = add(project, [f"{TEXTS[i % 3]} t{i}" for i in range(8)], "test", "test")
    with capture(execute=True):
        label = do_create_label(admin_user, "Sport retention", "Keep 7 years", "#123456")
        do_create_policy(admin_user, project, label, min_score=0.1)
    items = list(Document.objects.filter(project=project, set="production").order_by("id"))
    with capture(execute=True):
        for i, doc in enumerate(items[:6]):
            do_give_feedback(tagger_user, project, doc, "match" if i % 3 == 0 else "not_match")
    withdrawn = Feedback.objects.filter(project=project).order_by("id").first()
    do_withdraw_feedback(tagger_user, withdrawn, is_admin=False)
    with capture(execute=True):
        do_retrain_now(admin_user, project)
    comparison = latest_comparison(project)
    assert comparison is not None and comparison.state == "ready"
    do_decide(admin_user, comparison, "keep")
    for i, doc in enumerate(tests[:4]):
        do_review(tagger_user, project, doc, ("match", "not_match", "skip", "match")[i])
    v2 = ModelVersion.objects.get(project=project, number=2)
    do_set_threshold(admin_user, v2, 0.6, 0.3)  # v3 shares v2's artifact
    with capture(execute=True):
        do_deploy(admin_user, project, "staging", v2)
    category = project.classes.get()
    seed = Document.objects.filter(project=project, set="seed").order_by("id")
    Tag.objects.create(
        project=project, document=seed[0], tag_class=category, tagger=tagger_user, positive=False
    )
    do_resolve_conflict(admin_user, project, seed[0], [category], positive=True)
    project.refresh_from_db()
    assert v1.number == 1 and Review.objects.filter(project=project).count() == 4
    assert AppliedLabel.objects.filter(project=project).exists()
    return project


@pytest.fixture
def contracts(project, admin_user, tagger_user, django_capture_on_commit_callbacks):
    """The conftest single-label project: tagged documents, several schema versions, a
    resolution, a document with its original file and thumbnail, a trained version."""
    _classes, docs = tagged_project(project, tagger_user, per_class=12)
    legal = do_add_class(admin_user, project, name="legal", hotkey="l", colour="#aa3300")
    do_edit_class(admin_user, legal, description="Contracts and courts")
    do_archive_class(admin_user, legal, True)
    do_add_class(admin_user, project, name="other")
    do_resolve_conflict(admin_user, project, docs[0], [Class.objects.get(project=project, name="sport")])
    do_draw_test_split(admin_user, project, 0.25, seed=3)
    doc = Document(
        project=project, text="scanned contract", text_chars=16, text_hash="scan-1", filename="scan.pdf",
        content_type="application/pdf", size=9, sha256="ab" * 32, external_id="ext-9",
        metadata={"subject": "Lease", "pages": 2}, has_text=True,
    )  # fmt: skip
    from django.utils import timezone

    doc.file_created = timezone.now().replace(microsecond=123456)
    doc.file_modified = doc.file_created
    doc.original.save("scan.pdf", ContentFile(b"%PDF-1.4 contract bytes"), save=False)
    doc.thumbnail.save("t.png", ContentFile(b"\x89PNG thumbnail"), save=False)
    doc.save()
    train(project, admin_user, django_capture_on_commit_callbacks)
    project.refresh_from_db()
    assert SchemaVersion.objects.filter(project=project).count() >= 3
    return project


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def fresh_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST", "STUDIO_TESTING"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh' / 'fresh.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "fresh" / "media"),
        STUDIO_DATA_DIR=str(tmp_path / "fresh"),
        DJANGO_SETTINGS_MODULE="studio.settings",
        LOG_LEVEL="WARNING",
    )
    return env


def test_roundtrip_into_a_fresh_database(sport, contracts, admin_user, tmp_path, settings):
    archives = {}
    for project in (sport, contracts):
        path = tmp_path / f"{project.slug}.zip"
        call_command("archive_project", project.slug, "-o", str(path), "--user", admin_user.username)
        archives[project.slug] = path
    assert AuditEntry.objects.filter(action="project.archive").count() == 2
    with zipfile.ZipFile(archives[sport.slug]) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
    assert manifest["format_version"] == 1 and manifest["versions"]["scikit-learn"]
    assert manifest["counts"]["model_versions"] == 3 and manifest["counts"]["feedback"] == 6
    assert names == {"manifest.json", *manifest["members"]}
    # v2 and v3 share one artifact: it is archived once.
    assert sum(n.endswith(".model") for n in names) == 2

    env = fresh_env(tmp_path)
    run_manage(env, "migrate", "--noinput", "-v", "0")
    outputs = [run_manage(env, "restore_project", str(path)).stdout for path in archives.values()]
    assert all("Restored" in out for out in outputs)
    # The fresh studio had no users: the first restore made them, inactive, without passwords.
    assert "Created 3 inactive users (no password): alice, tom, vera." in outputs[0]
    targets = {project.slug: tmp_path / f"{project.slug}.json" for project in (sport, contracts)}
    code = "from tests.archive_canon import dump\n" + "".join(
        f"dump({slug!r}, {str(target)!r}, {TEXTS!r})\n" for slug, target in targets.items()
    )
    run_manage(env, "shell", "-c", code)
    dumps = {slug: json.loads(target.read_text()) for slug, target in targets.items()}

    for project in (sport, contracts):
        original, restored = canonical(project), dumps[project.slug]["canonical"]
        assert sorted(original) == sorted(restored)
        for key in original:
            assert restored[key] == original[key], f"{key} differs after the round trip"
        # The same restored artifact, loaded through the SHA-256 check, answers the same.
        assert dumps[project.slug]["predictions"] == predictions(project, TEXTS)

    # What the comparison covered is really there (not two empty lists compared).
    data = canonical(sport)
    assert len(data["ModelVersion"]) == 3 and len(data["Prediction"]) > 0
    assert any(f["withdrawn_at"] for f in data["Feedback"]) and len(data["Review"]) == 4
    assert {d["name"] for d in data["Deployment"]} == {"production", "staging"}
    assert data["VersionComparison"][0]["decision"] == "keep" and data["AppliedLabel"]
    assert any(t["is_resolution"] and t["tagger"] is None for t in data["Tag"])
    assert all(v["snapshot"]["file_matches_hash"] for v in data["ModelVersion"])
    data = canonical(contracts)
    assert len(data["SchemaVersion"]) >= 3 and len(data["Class"]) == 5
    assert {d["set"] for d in data["Document"]} == {"training", "test"}
    scan = next(d for d in data["Document"] if d["filename"] == "scan.pdf")
    assert scan["original"]["sha256"] and scan["thumbnail"]["sha256"] and scan["file_created"]
    version = data["ModelVersion"][0]
    assert version["snapshot"]["file_matches_hash"] and version["snapshot"]["tags_hash_matches"]


def test_restore_into_the_same_database_needs_another_name(contracts, admin_user, tmp_path, settings):
    path = tmp_path / "contracts.zip"
    write_archive(contracts, path, actor=admin_user)
    with pytest.raises(CommandError, match="already exists here"):
        call_command("restore_project", str(path))
    call_command("restore_project", str(path), "--as", "Contracts copy", "--user", admin_user.username)
    copy = Project.objects.get(name="Contracts copy")
    assert copy.slug != contracts.slug
    original, restored = canonical(contracts), canonical(copy)
    assert original.pop("project").pop("name") == "Contracts"
    assert restored.pop("project").pop("name") == "Contracts copy"
    assert restored == original
    version = ModelVersion.objects.get(project=copy)
    assert version.artifact.startswith(f"projects/{copy.pk}/models/")
    assert version.snapshot["file"].startswith(f"projects/{copy.pk}/models/")
    assert predictions(copy, TEXTS) == predictions(contracts, TEXTS)
    entry = AuditEntry.objects.get(action="project.restore")
    assert entry.project_id == copy.pk and entry.actor == admin_user
    # Users of the archive that exist here are the same accounts (none were created).
    assert set(copy.memberships.values_list("user__username", flat=True)) == {"alice", "tom", "vera"}


def _counts() -> dict[str, int]:
    return {
        "projects": Project.objects.count(),
        "documents": Document.objects.count(),
        "versions": ModelVersion.objects.count(),
        "classifications": Classification.objects.count(),
        "comparisons": VersionComparison.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_damaged_archives_are_refused_and_write_nothing(
    contracts, admin_user, tmp_path, settings, monkeypatch
):
    path = tmp_path / "contracts.zip"
    write_archive(contracts, path)
    before, files = _counts(), _files(Path(settings.MEDIA_ROOT))

    # One byte changed inside a member (rewritten so the zip itself stays valid).
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "data/tags.jsonl":
                data = data.replace(b'"positive": true', b'"positive": True', 1)
            dst.writestr(info, data)
    with pytest.raises(ArchiveError, match=r"data/tags\.jsonl does not match its SHA-256"):
        read_archive(tampered, as_name="Tampered")

    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CommandError, match="not a readable zip"):
        call_command("restore_project", str(truncated), "--as", "Truncated")

    # A raw byte flipped in the zip's compressed data: CRC or hash, it is refused.
    flipped = tmp_path / "flipped.zip"
    raw = bytearray(path.read_bytes())
    raw[200] ^= 0xFF
    flipped.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError):
        read_archive(flipped, as_name="Flipped")

    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(foreign, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json":
                data = json.dumps({**json.loads(data), "format_version": 99}).encode()
            dst.writestr(info, data)
    with pytest.raises(ArchiveError, match="format version 99"):
        read_archive(foreign, as_name="Foreign")

    # A failure half-way through the import (a missing row) rolls back rows and files.
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(path) as src:
        manifest = json.loads(src.read("manifest.json"))
        with zipfile.ZipFile(broken, "w") as dst:
            for info in src.infolist():
                if info.filename == "manifest.json":
                    continue
                data = src.read(info)
                if info.filename == "data/predictions.jsonl":
                    row = json.loads(data.splitlines()[0])
                    data = data + json.dumps({**row, "id": 10**9, "model_version": 10**9}).encode() + b"\n"
                    manifest["counts"]["predictions"] += 1
                    manifest["members"][info.filename] = {
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "size": len(data),
                    }
                dst.writestr(info, data)
            dst.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(ArchiveError, match="missing from the archive"):
        read_archive(broken, as_name="Broken")

    # A failure after the files were moved into place (the last step before commit).
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("classifiers.archive.log_action", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        read_archive(path, as_name="Late failure")

    assert _counts() == before
    assert _files(Path(settings.MEDIA_ROOT)) == files  # no orphan files, no staging left
