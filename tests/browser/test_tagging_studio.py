"""The tagging studio in Chromium, keyboard only: 20 documents in each project kind, undo,
back and forward, skip with a reason; then the database is checked. Plus two taggers at
once with overlap 2, against scikit-learn's kappa."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sklearn.metrics import cohen_kappa_score

from classifiers.actions import do_add_member
from classifiers.models import Class, Project, Tag, TaggingAction
from tests.conftest import browser_login, make_project, make_user
from tests.test_search import make_doc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def setup_project(kind: str, classes: str = "ABC", docs: int = 24) -> Project:
    from classifiers.roles import ensure_role_groups

    ensure_role_groups()  # transactional tests flush the groups made at migrate
    admin = make_user("alice", creator=True)
    tagger = make_user("tom")
    project = make_project(admin, name=f"Studio {kind}", kind=kind)
    do_add_member(admin, project, tagger, "tagger")
    project.guidelines = "# How to tag\n\nRead the **whole** text first."
    project.save(update_fields=["guidelines"])
    if kind != "trainable":
        for i, name in enumerate(classes):
            Class.objects.create(
                project=project, name=f"Class {name}", position=i, description=f"About {name}."
            )
    for i in range(docs):
        make_doc(project, f"Document number {i}: a short text about topic {i % 5}.\n\nSecond paragraph {i}.")
    return project


def current(page) -> str:
    return page.locator("#card").get_attribute("data-document") or ""


def press(page, *keys: str) -> str:
    """Press keys on the current card and wait for the card to change; returns the new id."""
    before = current(page)
    for key in keys:
        page.keyboard.press(key)
    expect(page.locator("#card")).not_to_have_attribute("data-document", before)
    return current(page)


def no_csp_errors(page) -> None:
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors


def assert_focus_on_card(page) -> None:
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "card"


def undo_back_skip(page, project: Project, tagger, last_tagged: str, answer_keys: list[str]) -> None:
    """Shared by the three kinds: undo (u and Backspace), back/forward, skip with a reason."""
    queue_doc = current(page)
    # Undo: the last document comes back, untagged again.
    assert press(page, "u") == last_tagged
    assert not Tag.objects.filter(document_id=int(last_tagged), tagger=tagger).exists()
    assert "Undone" in page.locator("#card").inner_text()
    # Tag it again, then undo with Backspace this time.
    press(page, *answer_keys)
    assert press(page, "Backspace") == last_tagged
    press(page, *answer_keys)
    # Back through history, then forward to the queue: nothing changes.
    tags_before = Tag.objects.filter(tagger=tagger).count()
    assert press(page, "ArrowLeft") == last_tagged
    expect(page.locator("#card .mode-badge")).to_contain_text("History")
    back2 = press(page, "ArrowLeft")
    assert back2 not in (last_tagged, queue_doc)
    assert press(page, "ArrowRight") == last_tagged
    press(page, "ArrowRight")
    expect(page.locator("#card .mode-badge")).to_have_count(0)
    assert Tag.objects.filter(tagger=tagger).count() == tags_before
    # Skip with a reason: typing in the field triggers no shortcut (u, m, 1, s are text here).
    skipped = current(page)
    page.keyboard.press("s")
    reason = page.locator("#skip-reason")
    expect(reason).to_be_focused()
    reason.type("unsure 1 m s")
    press(page, "Enter")
    step = TaggingAction.objects.filter(tagger=tagger, document_id=int(skipped)).get()
    assert (step.kind, step.reason) == ("skip", "unsure 1 m s")
    assert not Tag.objects.filter(document_id=int(skipped)).exists()
    assert_focus_on_card(page)


def test_single_label_keyboard_only(page, live_server, tmp_path):
    project = setup_project("single_label")
    classes = list(project.classes.order_by("position"))
    Class.objects.filter(pk=classes[2].pk).update(hotkey="x")
    tagger = project.memberships.get(role="tagger").user
    browser_login(page, "tom")
    page.goto(f"/projects/{project.slug}/tagging/queue/")
    expect(page.locator("#card .tagtext")).to_contain_text("Document number")
    assert_focus_on_card(page)
    # The guidelines, one key away, and back.
    page.keyboard.press("i")
    expect(page.locator("#guidelines-dialog")).to_be_visible()
    expect(page.locator("#guidelines-dialog")).to_contain_text("Read the whole text first.")
    page.keyboard.press("Escape")
    expect(page.locator("#guidelines-dialog")).to_be_hidden()
    assert_focus_on_card(page)

    expected: dict[int, str] = {}
    for i in range(20):
        doc = int(current(page))
        key = ["1", "2", "x"][i % 3]  # digits and the class's own hotkey
        expected[doc] = classes[i % 3].name
        press(page, key)
    assert_focus_on_card(page)
    got = dict(Tag.objects.filter(tagger=tagger).values_list("document_id", "tag_class__name"))
    assert got == expected
    assert TaggingAction.objects.filter(tagger=tagger, kind="tag").count() == 20
    last = max(TaggingAction.objects.filter(tagger=tagger), key=lambda a: a.pk).document_id
    undo_back_skip(page, project, tagger, str(last), ["1"])
    assert Tag.objects.filter(tagger=tagger).count() == 20
    assert Tag.objects.get(tagger=tagger, document_id=last).tag_class == classes[0]
    no_csp_errors(page)
    page.screenshot(path=str(tmp_path / "tagging-single.png"), full_page=True)  # last: it leaves style=""


def test_multi_label_keyboard_only(page, live_server, tmp_path):
    project = setup_project("multi_label", classes="ABCD")
    a, b, c, _d = project.classes.order_by("position")
    tagger = project.memberships.get(role="tagger").user
    browser_login(page, "tom")
    page.goto(f"/projects/{project.slug}/tagging/queue/")
    expected: dict[int, set[str]] = {}
    for i in range(20):
        doc = int(current(page))
        if i % 2:
            keys, want = ["1", "3", "Enter"], {a.name, c.name}
        else:
            keys, want = ["2", "4", "4", "Enter"], {b.name}  # 4 toggled on, then off again
        expected[doc] = want
        for key in keys[:-1]:
            page.keyboard.press(key)
        pressed = page.locator('#card [aria-pressed="true"]')
        expect(pressed).to_have_count(len(want))
        press(page, keys[-1])
    got: dict[int, set[str]] = {}
    for doc_id, name in Tag.objects.filter(tagger=tagger).values_list("document_id", "tag_class__name"):
        got.setdefault(doc_id, set()).add(name)
    assert got == expected
    last = TaggingAction.objects.filter(tagger=tagger).order_by("-id").first().document_id
    undo_back_skip(page, project, tagger, str(last), ["1", "Enter"])
    assert set(
        Tag.objects.filter(tagger=tagger, document_id=last).values_list("tag_class__name", flat=True)
    ) == {a.name}
    no_csp_errors(page)
    page.screenshot(path=str(tmp_path / "tagging-multi.png"), full_page=True)


def test_trainable_keyboard_only(page, live_server, tmp_path):
    project = setup_project("trainable")
    tagger = project.memberships.get(role="tagger").user
    browser_login(page, "tom")
    page.goto(f"/projects/{project.slug}/tagging/queue/")
    expected: dict[int, bool] = {}
    for i in range(20):
        doc = int(current(page))
        expected[doc] = i % 3 != 0
        press(page, "m" if expected[doc] else "n")
    assert dict(Tag.objects.filter(tagger=tagger).values_list("document_id", "positive")) == expected
    last = TaggingAction.objects.filter(tagger=tagger).order_by("-id").first().document_id
    undo_back_skip(page, project, tagger, str(last), ["n"])
    assert Tag.objects.get(tagger=tagger, document_id=last).positive is False
    # The shortcuts help lists the studio's keys.
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_contain_text("Not a match, then the next document")
    page.keyboard.press("Escape")
    no_csp_errors(page)
    page.screenshot(path=str(tmp_path / "tagging-trainable.png"), full_page=True)


def test_two_taggers_at_once_with_overlap_two(page, browser, live_server, tmp_path):
    project = setup_project("single_label", docs=8)
    project.overlap = 2
    project.save(update_fields=["overlap"])
    admin = project.memberships.get(role="admin").user
    tagger = project.memberships.get(role="tagger").user
    other = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    other.set_default_timeout(15_000)
    page2 = other.new_page()
    try:
        browser_login(page, "tom")
        browser_login(page2, "alice")
        for p in (page, page2):
            p.goto(f"/projects/{project.slug}/tagging/queue/")
        assert current(page) == current(page2)  # both on the same document
        for i in range(8):
            for n, p in enumerate((page, page2)):
                doc = int(current(p))
                key = str(1 + (doc % 3)) if n == 0 or i % 3 else str(1 + ((doc + 1) % 3))
                press(p, key)
        tom = dict(Tag.objects.filter(tagger=tagger).values_list("document_id", "tag_class__name"))
        alice = dict(Tag.objects.filter(tagger=admin).values_list("document_id", "tag_class__name"))
        assert sorted(tom) == sorted(alice) and len(tom) == 8
        expected = cohen_kappa_score([tom[d] for d in sorted(tom)], [alice[d] for d in sorted(tom)])
        page2.goto(f"/projects/{project.slug}/tagging/agreement/")
        expect(page2.locator("main")).to_contain_text(f"{expected:.3f}")
        page2.screenshot(path=str(tmp_path / "agreement.png"), full_page=True)
        page2.goto(f"/projects/{project.slug}/tagging/")
        expect(page2.locator("#tagging-settings")).to_be_visible()
        page2.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    finally:
        other.close()
