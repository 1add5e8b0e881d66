from django.contrib.auth import get_user_model
from django.core.management import call_command


def test_prepare_creates_admin_once(db, settings, tmp_path, capsys, monkeypatch):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("STUDIO_ADMIN_PASSWORD", raising=False)
    call_command("runstudio", prepare_only=True)
    out = capsys.readouterr().out
    assert "Admin account created: admin / " in out
    password = (tmp_path / "initial-admin-password.txt").read_text().split("\n")[1]
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password) and admin.is_superuser
    assert admin.has_perm("classifiers.add_project")
    assert oct((tmp_path / "initial-admin-password.txt").stat().st_mode & 0o777) == "0o600"

    call_command("runstudio", prepare_only=True)  # running it twice is safe
    assert "exists" in capsys.readouterr().out
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_admin_from_env(db, settings, tmp_path, monkeypatch):
    settings.STATIC_ROOT = tmp_path / "static"
    monkeypatch.setenv("STUDIO_ADMIN_USERNAME", "boss")
    monkeypatch.setenv("STUDIO_ADMIN_PASSWORD", "a long enough password 1")
    call_command("runstudio", prepare_only=True)
    assert get_user_model().objects.get(username="boss").check_password("a long enough password 1")


def test_demo_loads_once(admin_user, capsys, django_capture_on_commit_callbacks):
    from classifiers.models import Project
    from tests.corpora import corpus_path

    corpus_path("bbc")  # skip (or fail under CI) without the shared datasets
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", user="alice")
    project = Project.objects.get(name="BBC news demo")
    assert project.documents.count() > 2000 and project.classes.count() == 5
    # The trainable demo is published, and its production items were queued for the worker
    # (tests run the queued jobs synchronously, so they are classified already).
    from classifiers.models import Classification
    from classifiers.production import published_version

    sport = Project.objects.get(name="Sport finder demo")
    assert published_version(sport) is not None
    assert Classification.objects.filter(project=sport).count() == 500
    call_command("load_demo", user="alice")
    assert "exists" in capsys.readouterr().out
