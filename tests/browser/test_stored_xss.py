"""Stored XSS, in Chromium: a project whose every user-written field carries a payload
(class names and descriptions, guidelines in markdown with ``javascript:`` links and raw
HTML, document texts, file names and e-mail metadata, upload file names, token names, the
project description, a member's e-mail), then every page that shows them is visited.

On every page: ``window.__xss`` stays undefined, no dialog opens, no payload element exists
in the DOM (no ``img[src=x]``, ``svg[onload]``, inline ``<script>``, ``javascript:`` link),
and the payload is shown as text. The pages are visited twice: with the strict CSP, and
in a context that bypasses the CSP, so escaping alone is proven to hold. Finally a payload
injected behind the escaping's back (by the test itself) shows that the CSP blocks it anyway:
a ``securitypolicyviolation`` event and a console error naming the Content Security Policy,
no execution.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifiers.actions.deployments import do_create_token, do_deploy
from classifiers.actions.projects import do_add_member
from classifiers.actions.training import do_request_training
from classifiers.actions.uploads import do_create_upload_batch
from classifiers.models import Class, Document, ModelVersion, Project, UploadBatch
from tests.conftest import browser_login, make_project, make_user
from tests.training_data import make_text
from tests.uploads import eml_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
SVG = '"><svg onload="window.__xss=1">'
ATTR = "' onmouseover='window.__xss=1' x='"
PAYLOADS = (SCRIPT, IMG, SVG, ATTR)
GUIDELINES = f"""# Rules {SCRIPT}

Click [here](javascript:window.__xss=1) or <a href="javascript:window.__xss=1">there</a>.

{IMG}

{SVG}

![pic](javascript:window.__xss=1) [data](data:text/html,<script>window.__xss=1</script>)
"""
# The DOM must hold none of these (CSP or not, they mean the markup was not escaped).
INJECTED = (
    'img[src="x"], svg[onload], [onerror], [onload], [onmouseover], a[href^="javascript:" i], '
    'a[href^="data:" i], script:not([src])'
)
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def hostile_project(live_server, settings):
    from classifiers.roles import ensure_role_groups

    ensure_role_groups()  # transactional tests flush the groups made at migrate
    alice = make_user("alice", creator=True)
    tom = make_user("tom")
    tom.email = f"{SVG}@example.com"
    tom.first_name, tom.last_name = SCRIPT, IMG
    tom.save()
    project = make_project(alice, name="Hostile names", description=f"About {SCRIPT} and {IMG}")
    do_add_member(alice, project, tom, "tagger")
    Project.objects.filter(pk=project.pk).update(guidelines=GUIDELINES)
    import random

    rng = random.Random(0)
    names = [SCRIPT, IMG, SVG]
    classes = [
        Class.objects.create(project=project, name=name, description=f"{ATTR} {IMG}", position=i)
        for i, name in enumerate(names)
    ]
    topics = ("finance", "sport", "tech")
    from classifiers.models import Tag

    for i in range(45):
        topic = topics[i % 3]
        text = f"{make_text(rng, topic, n=14)} {PAYLOADS[i % 4]} #{i}"
        doc = Document.objects.create(
            project=project, text=text, text_chars=len(text), text_hash=f"x{i}",
            filename=f"{PAYLOADS[i % 4]}-{i}.txt", metadata={"subject": SCRIPT, IMG: SVG},
        )  # fmt: skip
        if i < 36:
            Tag.objects.create(project=project, document=doc, tag_class=classes[i % 3], tagger=alice)
    # Uploads: payload file names, an e-mail whose subject and body are payloads, a rejected file.
    do_create_upload_batch(
        alice, project,
        [
            SimpleUploadedFile(f"{IMG}.txt", f"uploaded {SCRIPT} text".encode()),
            SimpleUploadedFile(f"{SVG}.eml", eml_bytes(subject=SCRIPT, body=f"body {IMG}")),
            SimpleUploadedFile(f"{SCRIPT}.exe", b"MZ\x90\x00 not allowed"),
        ],
        "training",
    )  # fmt: skip
    # A trained version (the django-q2 task runs inline here), deployed, and a token.
    run, _ = do_request_training(alice, project)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    version = ModelVersion.objects.get(training_run=run)
    do_deploy(alice, project, "production", version)
    do_create_token(alice, project, f"{SCRIPT} {IMG}", ["classify"])
    return project


def pages(project: Project) -> list[tuple[str, tuple[str, ...]]]:
    """(url, payloads that must be visible as text on it)."""
    p = f"/projects/{project.slug}"
    doc = Document.objects.filter(project=project, filename__endswith=".txt").order_by("id").first()
    mail = Document.objects.filter(project=project, filename__endswith=".eml").first()
    batch = UploadBatch.objects.filter(project=project).first()
    version = ModelVersion.objects.filter(project=project).first()
    deployment = project.deployments.first()
    m = f"{p}/models/{version.pk}"
    return [
        (f"{p}/", ()),
        (f"{p}/schema/", (SCRIPT, IMG)),
        (f"{p}/schema/guidelines/", ()),
        (f"{p}/documents/", (SCRIPT,)),
        (f"{p}/documents/?q=finance", ()),
        (f"{p}/documents/{doc.pk}/", (PAYLOADS[0],)),
        (f"{p}/documents/{mail.pk}/", (SCRIPT,)),
        (f"{p}/tagging/", ()),
        (f"{p}/tagging/queue/", (SCRIPT,)),
        (f"{p}/tagging/mine/", ()),
        (f"{p}/upload/", ()),
        (f"{p}/uploads/{batch.pk}/", (IMG,)),
        (f"{p}/dashboard/", (SCRIPT,)),
        (f"{p}/training/", ()),
        (m + "/", ()),
        (m + "/?tab=classes", (SCRIPT,)),
        (m + "/?tab=confusion", (SCRIPT,)),
        (m + "/?tab=tests", ()),
        (m + "/?tab=terms", ()),
        (m + "/?tab=curves", ()),
        (m + "/mistakes/", ()),
        (f"{p}/deployments/", ()),
        (f"{p}/deployments/{deployment.pk}/", ()),
        (f"{p}/api/", (SCRIPT,)),
        (f"{p}/settings/", ()),
        (f"{p}/activity/", (SCRIPT,)),
    ]


def visit_all(page, project: Project) -> list[str]:
    """Visit every page; returns the problems found (empty when all is well)."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    problems: list[str] = []
    for url, visible in pages(project):
        response = page.goto(url)
        if response is None or response.status != 200:
            problems.append(f"{url}: status {response and response.status}")
            continue
        page.wait_for_load_state("load")
        page.mouse.move(5, 5)
        page.mouse.move(600, 450)  # hover over whatever is in the middle (onmouseover payloads)
        if page.evaluate("() => window.__xss") is not None:
            problems.append(f"{url}: window.__xss was set")
        injected = page.evaluate(
            "(sel) => Array.from(document.querySelectorAll(sel)).map(e => e.outerHTML.slice(0, 120))", INJECTED
        )
        if injected:
            problems.append(f"{url}: injected elements {injected}")
        text = page.locator("body").inner_text()
        problems += [f"{url}: {payload!r} not shown as text" for payload in visible if payload not in text]
    problems += [f"dialog opened: {message}" for message in dialogs]
    return problems


def test_payloads_stay_text_on_every_page(page, browser, live_server, hostile_project):
    project = hostile_project
    # 1. With the strict CSP, as served.
    page.add_init_script(WATCH)
    browser_login(page, "alice")
    problems = visit_all(page, project)
    violations = page.evaluate("() => window.__csp")
    assert not problems, problems
    # Nothing was even attempted: the escaping kept the CSP idle.
    assert violations == [], violations
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors

    # 2. Without the CSP: the escaping alone holds.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(15_000)
    try:
        bare = context.new_page()
        browser_login(bare, "alice")
        assert not visit_all(bare, project)
    finally:
        context.close()

    # 3. The CSP blocks a payload that got past the escaping (inserted here by the test).
    page.goto(f"/projects/{project.slug}/documents/")
    errors_before = len(page.console_errors)
    page.evaluate(
        """() => {
            document.body.insertAdjacentHTML('beforeend', '<img src="x" onerror="window.__xss=1">');
            const s = document.createElement('script');
            s.textContent = 'window.__xss = 1';
            document.body.appendChild(s);
        }"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    violations = page.evaluate("() => window.__csp")
    assert any(v.startswith("script-src") for v in violations), violations
    refused = [e for e in page.console_errors[errors_before:] if "Content Security Policy" in e]
    assert refused, page.console_errors


def test_tagger_sees_payloads_as_text_in_the_studio(page, hostile_project):
    """The tagger's own pages: the queue with the guidelines dialog, my tags."""
    project = hostile_project
    page.add_init_script(WATCH)
    browser_login(page, "tom")
    page.goto(f"/projects/{project.slug}/tagging/queue/")
    page.keyboard.press("i")  # the guidelines (rendered markdown) open in a dialog
    page.wait_for_timeout(300)
    page.keyboard.press("1")  # tag with the first class: the next card comes by htmx
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    injected = page.evaluate("(sel) => document.querySelectorAll(sel).length", INJECTED)
    assert injected == 0
    assert SCRIPT in page.locator("body").inner_text()
    page.goto(f"/projects/{project.slug}/tagging/mine/")
    assert page.evaluate("() => window.__xss") is None
    assert page.evaluate("() => window.__csp") == []
