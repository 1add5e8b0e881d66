from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClassifiersConfig(AppConfig):
    name = "classifiers"
    verbose_name = "Classifiers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from classifiers.roles import ensure_role_groups, ensure_schedules

        # After permissions exist (they too are made on post_migrate), so idempotently on every migrate.
        post_migrate.connect(ensure_role_groups, dispatch_uid="classifiers.ensure_role_groups")
        post_migrate.connect(ensure_schedules, dispatch_uid="classifiers.ensure_schedules")
        # Registers what keeps a model version in use (a deployment slot, an API job), so a
        # deployed or published version can never be deleted, in any process.
        import classifiers.actions.deployments  # noqa: F401
