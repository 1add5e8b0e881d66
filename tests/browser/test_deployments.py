"""In Chromium: deploy a version, create a token (shown once), call the API with it, try
the deployment, swap slots and read the classification log, under the strict CSP."""

import json
import urllib.request

import pytest

from classifiers.models import ApiToken, Deployment
from tests.conftest import browser_login, make_project, make_user
from tests.test_api_support import make_version
from tests.training_data import WORDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_deploy_token_try_swap_log(page, live_server, tmp_path):
    alice = make_user("alice")
    project = make_project(alice, name="News desk")
    make_version(project, seed=0)
    make_version(project, seed=1)

    browser_login(page, "alice")
    page.goto(f"/projects/{project.slug}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Deployments").click()
    page.wait_for_url(f"**/projects/{project.slug}/deployments/")
    for slot, version in (("production", "v1"), ("staging", "v2")):
        page.get_by_label("Slot").fill(slot)
        page.get_by_label("Model version").select_option(label=page.locator(
            "#id_version option", has_text=f"{version} ("
        ).inner_text())  # fmt: skip
        page.get_by_role("button", name="Deploy").click()
        page.get_by_text(f"The {slot} slot now serves {version}.").wait_for()
        page.goto(f"/projects/{project.slug}/deployments/")
    assert Deployment.objects.filter(project=project).count() == 2

    # A token, shown once, in a read-only field.
    page.get_by_role("link", name="API and tokens").click()
    page.get_by_label("Name").fill("newsroom app")
    page.get_by_role("button", name="Create token").click()
    field = page.locator("#new-token")
    field.wait_for()
    plain = field.input_value()
    assert field.get_attribute("readonly") is not None and plain.startswith("cs_")
    assert ApiToken.objects.get().prefix == plain[:10]
    curl = page.locator("pre.curl").first.inner_text()
    assert f"{live_server.url}/api/v1/projects/{project.slug}/deployments/production/classify" in curl

    # The token works against the live server.
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/projects/{project.slug}/deployments/production/classify",
        data=json.dumps({"documents": [{"id": "1", "text": WORDS["sport"]}]}).encode(),
        headers={"Authorization": f"Bearer {plain}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        assert json.load(response)["modelVersion"] == 1

    # Try a deployment: the same JSON.
    page.get_by_role("link", name="Try a deployment").click()
    page.get_by_label("Text").fill(WORDS["tech"])
    page.get_by_role("button", name="Classify").click()
    result = page.locator("#deploy-try-result pre.json")
    result.wait_for()
    shown = json.loads(result.inner_text())
    assert shown["deployment"] == "production" and shown["documents"][0]["classes"][0]["category"] == "tech"

    # Swap, then the log shows the call.
    page.goto(f"/projects/{project.slug}/deployments/")
    page.get_by_role("button", name="Swap").click()
    page.get_by_text("Swapped: production serves v2, staging serves v1.").wait_for()
    page.get_by_role("link", name="Classification log").click()
    page.locator("svg.chart").first.wait_for()
    assert page.locator("table.calls").get_by_text("newsroom app").is_visible()
    page.screenshot(path=str(tmp_path / "log.png"), full_page=True)
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
