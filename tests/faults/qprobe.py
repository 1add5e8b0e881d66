"""``manage.py qcluster``, plus one JSON line per task execution in $STUDIO_FAULTS_LOG.

The fault tests start this instead of ``manage.py qcluster`` when they need to know which
process ran which task (django-q2's Task row records the cluster name only, and two
clusters of one queue share it). It is the same command: the receiver is connected before
the cluster forks its workers, so every worker inherits it.

    python -m tests.faults.qprobe        # cwd: the project folder
"""

from __future__ import annotations

import json
import os


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    log = os.environ.get("STUDIO_FAULTS_LOG")
    if log:
        from django_q.signals import pre_execute

        def note(sender, func=None, task=None, **kwargs) -> None:
            line = {
                "pid": os.getpid(),
                "cluster": os.environ.get("Q_CLUSTER_NAME", "studio"),
                "tag": os.environ.get("STUDIO_FAULTS_TAG", ""),
                "func": task.get("func") if isinstance(task.get("func"), str) else repr(task.get("func")),
                "args": list(task.get("args", ())),
            }
            # One short O_APPEND write per line: lines from several processes never interleave.
            with open(log, "a") as f:
                f.write(json.dumps(line) + "\n")

        pre_execute.connect(note, weak=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "qcluster"])


if __name__ == "__main__":
    main()
