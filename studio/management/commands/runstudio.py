"""Start the whole studio on one machine: web server and django-q2 workers together.

Prepares everything first (migrate, cache table, static files, role groups, the admin
account), so `make run` on a fresh clone is all a newcomer needs. Ctrl-C stops all.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from classifiers.roles import COMPLIANCE_ADMINS, ensure_role_groups


class Command(BaseCommand):
    help = "Migrate, create the admin account, then run the web server and the background workers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default=os.environ.get("STUDIO_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--no-workers", action="store_true", help="Web server only.")
        parser.add_argument("--prepare-only", action="store_true", help="Set up, then exit.")
        parser.add_argument(
            "--demo", action="store_true", help="Also load demo projects from the shared datasets."
        )

    def handle(self, *args, addr: str, no_workers: bool, prepare_only: bool, demo: bool, **options) -> None:
        self.prepare()
        if demo or os.environ.get("STUDIO_DEMO", "") in ("1", "true", "yes"):
            call_command("load_demo", user=os.environ.get("STUDIO_ADMIN_USERNAME", "admin"))
        if prepare_only:
            return
        self.serve(addr, workers=not no_workers)

    def prepare(self) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        ensure_role_groups()
        self.ensure_admin()

    def ensure_admin(self) -> None:
        User = get_user_model()
        username = os.environ.get("STUDIO_ADMIN_USERNAME", "admin")
        password = os.environ.get("STUDIO_ADMIN_PASSWORD", "")
        email = os.environ.get("STUDIO_ADMIN_EMAIL", "")
        user = User.objects.filter(username=username).first()
        if user is not None:
            self.stdout.write(
                f"Admin account: {username} (exists; `python manage.py changepassword {username}` resets it)"
            )
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=username, email=email, password=password)
        user.groups.add(Group.objects.get(name=COMPLIANCE_ADMINS))
        if generated:
            # Printed once; also kept (owner-only) in the data folder in case the terminal scrolled away.
            path = Path(settings.DATA_DIR) / "initial-admin-password.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"{username}\n{password}\n")
            self.stdout.write(self.style.SUCCESS(f"Admin account created: {username} / {password}"))
            self.stdout.write(f"(also saved in {path}; change it after the first login)")
        else:
            self.stdout.write(self.style.SUCCESS(f"Admin account created: {username} (password from env)"))

    def serve(self, addr: str, workers: bool) -> None:
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        procs: list[tuple[str, subprocess.Popen]] = []
        env = os.environ.copy()
        # gunicorn even on one machine: the same server as production, without runserver's
        # "development server" caveats; whitenoise serves the static files.
        web = [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", addr, "--workers", "2",
               "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "10"]  # fmt: skip
        procs.append(("web", subprocess.Popen(web, env=env, cwd=settings.BASE_DIR)))
        if workers:
            procs.append(("worker", subprocess.Popen([*manage, "qcluster"], env=env)))
            training_env = {**env, "Q_CLUSTER_NAME": settings.STUDIO_TRAINING_QUEUE}
            procs.append(("training worker", subprocess.Popen([*manage, "qcluster"], env=training_env)))
        self.stdout.write(
            self.style.SUCCESS(f"Classifier Studio at http://{addr}/  (Ctrl-C stops everything)")
        )

        stopping = False

        def stop(signum=None, frame=None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs:
                    if proc.poll() is not None:
                        self.stderr.write(f"The {name} stopped (exit {proc.returncode}); stopping the rest.")
                        stopping = True
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        self.stdout.write("Stopping…")
        for _, proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.stdout.write("Stopped.")
