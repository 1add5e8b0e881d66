import pytest

from classifiers.markdown import render_markdown
from classifiers.models import Project
from studio.models import AuditEntry
from tests.helpers import htmx, login


def url(project):
    return f"/projects/{project.slug}/schema/guidelines/"


@pytest.mark.parametrize(
    "text, gone",
    [
        ("<script>alert('x')</script>Hello", ["<script", "alert("]),
        ('<img src="x" onerror="alert(1)">', ["onerror", "<img"]),
        ("[click](javascript:alert(1))", ["javascript:"]),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', ["javascript:", "JaVaScRiPt"]),
        ('<p style="position:fixed" onclick="x()">p</p>', ["style=", "onclick"]),
        ("<iframe src=https://evil.example></iframe>", ["<iframe"]),
        ("<style>body{display:none}</style>", ["<style", "display:none"]),
    ],
)
def test_render_markdown_strips_active_content(text, gone):
    html = str(render_markdown(text))
    for fragment in gone:
        assert fragment not in html


def test_render_markdown_keeps_the_common_tags():
    html = str(
        render_markdown(
            "# Title\n\n## Sub\n\n- one\n- two\n\n1. first\n\n**bold** *it* `code`\n\n> quote\n\n"
            "```\npre <b>\n```\n\n[site](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
        )
    )
    for fragment in (
        "<h1>Title</h1>", "<h2>Sub</h2>", "<ul>", "<ol>", "<li>one</li>", "<strong>bold</strong>",
        "<em>it</em>", "<code>code</code>", "<blockquote>", "<pre><code>pre &lt;b&gt;",
        '<a href="https://example.com" rel="noopener noreferrer">site</a>', "<table>", "<th>a</th>",
        "<td>1</td>",
    ):  # fmt: skip
        assert fragment in html, fragment
    assert str(render_markdown("   ")) == ""


def test_admin_saves_guidelines(project, admin_user):
    response = login(admin_user).post(url(project), {"guidelines": "# Rules\r\nTag carefully.", "save": "1"})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.slug}/schema/"
    project.refresh_from_db()
    assert project.guidelines == "# Rules\nTag carefully."
    assert project.schema_version == 0  # not a schema version
    assert AuditEntry.objects.get(action="guidelines.update").payload == {
        "before_chars": 0,
        "after_chars": 22,
    }


def test_saved_guidelines_are_shown_sanitised_to_every_member(project, admin_user, viewer_user):
    login(admin_user).post(url(project), {"guidelines": "Be **kind**.<script>alert(1)</script>", "save": "1"})
    body = login(viewer_user).get(f"/projects/{project.slug}/schema/").content.decode()
    assert "Be <strong>kind</strong>." in body and "alert(1)" not in body


def test_preview_renders_without_saving(project, admin_user):
    client = login(admin_user)
    text = "*draft*<img src=x onerror=alert(1)>"
    partial = htmx(client, "post", url(project), {"guidelines": text, "preview": "1"})
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body and 'id="guidelines-preview"' in body
    assert "<em>draft</em>" in body and "onerror" not in body
    page = client.post(url(project), {"guidelines": text, "preview": "1"})
    assert page.status_code == 200 and "<em>draft</em>" in page.content.decode()
    assert "draft" in page.content.decode().split('id="guidelines-preview"')[0]  # the text is kept
    assert Project.objects.get(pk=project.pk).guidelines == ""


def test_too_long_guidelines_are_explained(project, admin_user):
    client = login(admin_user)
    response = client.post(url(project), {"guidelines": "x" * 100_001, "save": "1"})
    assert response.status_code == 422
    assert "at most 100,000 characters (these have 100,001)" in response.content.decode()
    preview = htmx(client, "post", url(project), {"guidelines": "x" * 100_001, "preview": "1"})
    assert preview.status_code == 422 and "at most 100,000 characters" in preview.content.decode()
    assert Project.objects.get(pk=project.pk).guidelines == ""


def test_get_shows_the_form(project, admin_user):
    project.guidelines = "Keep it short."
    project.save()
    body = login(admin_user).get(url(project)).content.decode()
    assert "Keep it short." in body and "<textarea" in body


def test_tagger_and_viewer_403_outsider_404(project, tagger_user, viewer_user, outsider_user):
    for user in (tagger_user, viewer_user):
        assert login(user).get(url(project)).status_code == 403
        assert login(user).post(url(project), {"guidelines": "hacked", "save": "1"}).status_code == 403
    assert login(outsider_user).post(url(project), {"guidelines": "hacked", "save": "1"}).status_code == 404
    assert Project.objects.get(pk=project.pk).guidelines == ""
