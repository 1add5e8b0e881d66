"""The redelivery knobs the fault tests turn (Q_RETRY, Q_TRAINING_RETRY): they reach the
clusters' configuration, and a retry not above its timeout stops start-up."""

from __future__ import annotations

import pytest

from tests.test_settings import run_manage

pytestmark = pytest.mark.faults

SHOW = "from django_q.conf import Conf; print(Conf.RETRY, Conf.TIMEOUT, Conf.CLUSTER_NAME)"


@pytest.mark.parametrize(
    "env, shown",
    [
        ({"Q_TIMEOUT": "10", "Q_RETRY": "12"}, "12 10 studio"),
        (
            {"Q_TRAINING_TIMEOUT": "20", "Q_TRAINING_RETRY": "22", "Q_CLUSTER_NAME": "training"},
            "22 20 training",
        ),
        ({"Q_TIMEOUT": "60"}, "360 60 studio"),  # the default: timeout + 300 s
    ],
)
def test_retry_reaches_the_cluster(tmp_path, env, shown):
    result = run_manage(
        "shell", "-c", SHOW, env={"STUDIO_DATA_DIR": str(tmp_path), "STUDIO_TESTING": "false", **env}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == shown


@pytest.mark.parametrize(
    "env, message",
    [
        ({"Q_TIMEOUT": "30", "Q_RETRY": "30"}, "Q_RETRY=30 must exceed the timeout (30 s)"),
        ({"Q_TRAINING_TIMEOUT": "100", "Q_TRAINING_RETRY": "50"}, "Q_TRAINING_RETRY=50 must exceed"),
        ({"Q_RETRY": "1"}, "Q_RETRY=1 must be at least 2"),
    ],
)
def test_retry_not_above_timeout_stops_start_up(tmp_path, env, message):
    result = run_manage("check", env={"STUDIO_DATA_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
