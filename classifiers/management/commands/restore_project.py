"""Import a project archive written by archive_project as a new project (all or nothing)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from classifiers.archive import ArchiveError, read_archive, versions


class Command(BaseCommand):
    help = (
        "Restore a project archive into this studio. Users missing here are created inactive, "
        "without a usable password, unless --map-user maps them onto existing accounts."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", help="The zip written by archive_project.")
        parser.add_argument("--as", dest="as_name", default=None, help="Restore under this project name.")
        parser.add_argument("--user", default="", help="Username recorded in the audit log.")
        parser.add_argument(
            "--map-user",
            action="append",
            default=[],
            metavar="OLD=NEW",
            help="Give the archive's user OLD's memberships, tags and history to the existing user NEW "
            "(repeatable).",
        )

    def handle(self, *args, **opts) -> None:
        User = get_user_model()
        user = None
        if opts["user"]:
            user = User.objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"No user named {opts['user']!r}.")
        user_map: dict[str, str] = {}
        for item in opts["map_user"]:
            old, sep, new = item.partition("=")
            if not sep or not old or not new:
                raise CommandError(f"--map-user takes OLD=NEW, not {item!r}.")
            user_map[old] = new
        try:
            project = read_archive(opts["archive"], as_name=opts["as_name"], actor=user, user_map=user_map)
        except ArchiveError as exc:
            raise CommandError(f"{exc} Nothing was restored.") from None
        info = project.restore_info
        self.stdout.write(self.style.SUCCESS(f"Restored {project.name} as /projects/{project.slug}/."))
        if info["users_created"]:
            self.stdout.write(
                f"Created {len(info['users_created'])} inactive users (no password): "
                f"{', '.join(info['users_created'])}. An operator activates them and sets passwords."
            )
        here = versions()
        archived = info["written_by"]
        for lib in ("scikit-learn", "numpy", "scipy"):
            if archived.get(lib) and archived.get(lib) != here.get(lib):
                self.stdout.write(
                    self.style.WARNING(
                        f"The archive's models were made with {lib} {archived[lib]}; this studio has "
                        f"{here.get(lib)}. Check that the restored versions load (the evaluation page says so)."
                    )
                )
