"""Every state change goes through a ``do_*`` function here, which also writes the audit
entry in the same transaction (pretix's log_action, zulip's do_*). One module per area."""

from classifiers.actions.base import ActionError
from classifiers.actions.projects import (
    do_add_member,
    do_change_role,
    do_create_project,
    do_delete_project,
    do_remove_member,
    do_update_project,
)

__all__ = [
    "ActionError",
    "do_add_member",
    "do_change_role",
    "do_create_project",
    "do_delete_project",
    "do_remove_member",
    "do_update_project",
]
