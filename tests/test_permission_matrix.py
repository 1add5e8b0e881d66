"""The permission matrix: every view, every kind of user, GET and POST (issue #9, part 1).

``TABLE`` below maps each URL name to a ``Rule``: the least level that may use the view with
GET and with POST. The expected status of a request is a function of (level, user kind)
only, worked out by ``expected()``:

===================  ====================================================================
level                what each user kind gets
===================  ====================================================================
``"public"``         everyone, anonymous included: OK
``"token"``          the HTTP API authenticates by token only: 401 (JSON) for everyone,
                     whatever their session (sessions are ignored there)
``"login"``          anonymous: 302 to the login page; any logged-in user: OK
``"creator"``        may create projects (the Compliance admins group, or a superuser): OK;
                     other logged-in users: 403; anonymous: 302 to the login page
``"label_manager"``  site-wide labels (``can_manage_labels``): staff users and the Admins
                     of any project: OK; other logged-in users: 403; anonymous: 302
``"operator"``       staff users (``is_staff``; our superuser is staff too): OK; other
                     logged-in users: 403; anonymous: 302 to the login page
``"viewer"``,        a project role: anonymous: 302 to the login page; a non-member
``"tagger"``,        (outsider, admin of another project, staff, superuser): 404; a member
``"admin"``          below the role: 403; a member with the role or above (viewer <
                     tagger < admin): OK
``None``             the method is not allowed: 405 for logged-in users (``require_POST`` /
                     ``require_GET`` run before the access check); anonymous users get the
                     login redirect (302) first, except on public and token-only views (405)
===================  ====================================================================

OK means the view did its work or refused the input politely: 2xx, 3xx (never to the login
page), 400 or 422; never 401, 403, 404, 405 or 500. POSTs are empty (no form data), so most
authorised POSTs answer 422 or a redirect with a message.

Staff and superusers (``classifiers/access.py``): ``get_project_for_user`` makes no exception
for them. They are project members only when added like anyone else, so every project page
answers them 404, like an outsider; operators read projects in the Django admin (not walked
here: ``iter_patterns`` skips the ``admin`` namespace). The one
difference is ``can_create_projects``: a superuser may create projects, a staff user only if
in the Compliance admins group (our staff user is not: 403).

Views without ``require_GET`` (project_list, project_overview, document_detail, ...) render
the same page for a POST as for a GET; the table records this as the same level for both.

Each project-scoped view runs against a fresh project (``populate`` from test_url_walk, plus
an original file, a thumbnail, a finished export, a tagged training document and a flagged
likely mistake, so that an authorised user gets the page rather than "not found"). Trainable-only views
(``Rule(kind="trainable")``) get a trainable project, and the GET of the views listed in
``ALSO_TRAINABLE`` (their code branches on the kind) is checked on both kinds. The upload
batch is the tagger's own, as upload_columns allows only its uploader or an Admin (ownership
is tested in tests/views/). Users are tried from the least to the most privileged, so a
destructive POST by the Admin comes last.

A 500 found by the matrix and not fixed yet is listed in ``KNOWN_BUGS`` (an xfail that turns
into a failure once the bug is fixed). A URL name missing from ``TABLE`` fails
(``test_every_view_is_in_the_table`` and its own matrix case), and so does an entry whose URL
is gone: a new view needs its line here. ``VIEW_COUNT`` and ``CASE_COUNT`` (one request per
view, method, project kind and user kind) give the size of the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from tests.conftest import make_project, make_user
from tests.test_url_walk import build, iter_patterns, populate, url_values

Level = Literal[
    "public", "token", "login", "creator", "label_manager", "operator", "viewer", "tagger", "admin"
]
LEVELS = ("public", "token", "login", "creator", "label_manager", "operator", "viewer", "tagger", "admin")
RANK = {"viewer": 1, "tagger": 2, "admin": 3}
METHODS = ("get", "post")
OK = "OK"  # 2xx, 3xx not to the login page, 400 or 422
LOGIN_PATH = "/accounts/login/"


@dataclass(frozen=True)
class Rule:
    get: Level | None = None
    post: Level | None = None
    kind: str = "single_label"  # the project kind the view is checked on

    def level(self, method: str) -> Level | None:
        return self.get if method == "get" else self.post

    def other(self, method: str) -> Level | None:
        return self.post if method == "get" else self.get


def read(level: Level, kind: str = "single_label") -> Rule:
    """A page without require_GET: a POST renders it like a GET."""
    return Rule(get=level, post=level, kind=kind)


def post(level: Level, kind: str = "single_label") -> Rule:
    """A require_POST action."""
    return Rule(post=level, kind=kind)


def get(level: Level) -> Rule:
    """A require_GET page."""
    return Rule(get=level)


def token_get() -> Rule:
    return Rule(get="token")


def token_post() -> Rule:
    return Rule(post="token")


# URL name -> who may GET / POST it. See the module docstring for what each level expects.
TABLE: dict[str, Rule] = {
    # --- Site and accounts (studio/urls.py)
    "home": read("public"),  # redirects: to the projects when logged in, else to the login page
    "login": read("public"),  # a logged-in user is redirected to the projects
    "logout": Rule(post="public"),  # LogoutView is POST-only
    "password_change": read("login"),
    "password_change_done": get("login"),
    # --- HTTP API (classifiers/urls/api.py): tokens only, sessions never count
    "api_openapi": get("public"),
    "api_deployments": token_get(),
    "api_deployment": token_get(),
    "api_classify": token_post(),
    "api_job_submit": token_post(),
    "api_job": token_get(),
    "api_job_cancel": token_post(),
    "azure_job_submit": token_post(),
    "azure_job": token_get(),
    "azure_job_cancel": token_post(),
    # --- Projects and members
    "project_list": read("login"),
    "project_create": read("creator"),
    "project_overview": read("viewer"),
    "project_settings": read("admin"),
    "member_add": post("admin"),
    "member_role": post("admin"),
    "member_remove": post("admin"),
    "project_activity": read("viewer"),
    # --- Schema
    "project_schema": get("viewer"),
    "class_add": post("admin"),
    "class_edit": read("admin"),
    "class_archive": post("admin"),
    "class_merge": post("admin"),
    "class_delete": post("admin"),
    "class_move": post("admin"),
    "project_guidelines": read("admin"),
    # --- Uploads and exports
    "upload": read("tagger"),
    "upload_batch": read("viewer"),
    "upload_columns": post("tagger"),
    "upload_retry": post("admin"),
    "export_list": read("admin"),
    "export_download": read("admin"),
    # --- Documents and the dataset dashboard
    "document_list": read("viewer"),
    "document_bulk": post("tagger"),
    "document_detail": read("viewer"),
    "document_original": read("viewer"),
    "document_thumbnail": read("viewer"),
    "document_set": post("tagger"),
    "document_tag": post("tagger"),
    "dataset_dashboard": read("viewer"),
    "test_split": post("admin"),
    # --- Training
    "training": read("viewer"),
    "training_start": post("admin"),
    "training_run": read("viewer"),
    "training_cancel": post("admin"),
    # --- Evaluation
    "model_version": read("viewer"),
    "model_version_try": post("viewer"),  # trying a text changes nothing
    "model_version_explain": read("viewer"),
    "model_version_delete": post("admin"),
    "likely_mistakes": read("viewer"),
    "mistake_confirm": post("tagger"),
    "mistake_retag": post("tagger"),
    # --- Tagging
    "tagging": get("viewer"),
    "tagging_queue": get("tagger"),
    "tagging_act": post("tagger"),
    "tagging_history": get("tagger"),
    "tagging_assign": post("admin"),
    "tagging_settings": post("admin"),
    "tagging_agreement": get("viewer"),
    "tagging_conflicts": get("admin"),
    "tagging_resolve": post("admin"),
    "tagging_my_tags": get("tagger"),
    # --- Trainable classifiers (the first three 404 on other kinds of project)
    "classifier": read("viewer", kind="trainable"),
    "classifier_publish": post("admin", kind="trainable"),
    "classifier_threshold": read("admin", kind="trainable"),
    "review": read("tagger"),
    "review_answer": post("tagger"),
    # --- Deployments and API tokens
    "deployments": get("viewer"),
    "deployment_deploy": post("admin"),
    "deployment_swap": post("admin"),
    "deployment_try": Rule(get="tagger", post="tagger"),
    "deployment_log": get("viewer"),
    "deployment_log_texts": post("admin"),  # shows logged texts: Admins only
    "deployment_detail": get("viewer"),
    "deployment_delete": Rule(get="admin", post="admin"),
    "deployment_rollback": post("admin"),
    "api_page": get("viewer"),
    "api_token_create": post("admin"),
    "api_token_revoke": post("admin"),
    "project_delete": Rule(get="admin", post="admin"),
    # --- Production: explorer, feedback, labels, retraining, history
    "content_explorer": read("login"),
    "explorer_feedback": post("tagger"),
    "feedback_give": post("tagger"),
    "feedback_withdraw": post("tagger"),
    "feedback_queue": read("tagger"),
    "label_list": Rule(get="login", post="label_manager"),
    "label_edit": Rule(get="operator", post="operator"),  # its creator too; the populated label has none
    "label_policies": Rule(get="viewer", post="admin"),
    "label_policy_delete": post("admin"),
    "production_status": read("viewer"),
    "retraining": read("viewer"),
    "retraining_item": Rule(get="viewer", post="viewer"),  # a Viewer's answer is refused with a message
    "retraining_decide": post("admin"),
    "retrain_now": post("admin"),
    "retraining_settings": post("admin"),
    "publish_history": read("viewer"),
    "rollback": Rule(get="admin", post="admin"),
}

# Views whose code branches on the project's kind: their GET is also checked on a trainable
# project (the rest run on the single-label one only, to keep the file under a minute).
ALSO_TRAINABLE = (
    "dataset_dashboard", "deployments", "document_detail", "document_list", "likely_mistakes",
    "model_version", "model_version_explain", "project_schema", "review", "tagging",
    "tagging_queue", "training", "upload",
)  # fmt: skip

# (URL name, method, project kind) -> a bug found by this matrix and not fixed yet. The case
# passes (as an xfail) only while the bug's symptom, a 500 for users who should get the page,
# is the only mismatch; once the bug is fixed the case fails until its line here is removed.
# (The first find, gather_seed passing dicts to final_labels, is fixed.)
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


# --- Users ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserKind:
    role: str | None = None  # role in the project under test
    creator: bool = False  # may create projects
    staff: bool = False
    admin_somewhere: bool = False  # Admin of some project (not necessarily the one under test)
    anonymous: bool = False


# Least to most privileged: a destructive POST by the project's Admin comes last.
USERS: dict[str, UserKind] = {
    "anonymous": UserKind(anonymous=True),
    "outsider": UserKind(),  # logged in, no project, no group
    "other_admin": UserKind(creator=True, admin_somewhere=True),  # Admin of another project
    "staff": UserKind(staff=True),  # is_staff, not a member, not a Compliance admin
    "superuser": UserKind(creator=True, staff=True),  # is_superuser and is_staff, not a member
    "viewer": UserKind(role="viewer"),
    "tagger": UserKind(role="tagger"),
    "admin": UserKind(role="admin", creator=True, admin_somewhere=True),
}

ROUTES: dict[str, str] = {}
for _route, _pattern in iter_patterns():
    ROUTES.setdefault(_pattern.name or _route, _route)
URL_NAMES = sorted(ROUTES)


def _kind(name: str) -> str:
    return TABLE[name].kind if name in TABLE else "single_label"


# One test per (view, method, project kind); each tries every user kind.
CASES = [(name, method, _kind(name)) for name in URL_NAMES for method in METHODS] + [
    (name, "get", "trainable") for name in ALSO_TRAINABLE if _kind(name) != "trainable"
]
VIEW_COUNT = len(URL_NAMES)
CASE_COUNT = len(CASES) * len(USERS)  # one request per (view, method, project kind, user)


def expected(rule: Rule, method: str, user: str) -> int | str:
    """The status a user kind must get for one method of a view: a code, or OK."""
    level, kind = rule.level(method), USERS[user]
    if level is None:
        if kind.anonymous and rule.other(method) not in ("public", "token"):
            return 302  # login_required runs before require_POST / require_GET
        return 405
    if level == "public":
        return OK
    if level == "token":
        return 401
    if kind.anonymous:
        return 302
    if level == "login":
        return OK
    if level == "creator":
        return OK if kind.creator else 403
    if level == "label_manager":
        return OK if kind.staff or kind.admin_somewhere else 403
    if level == "operator":
        return OK if kind.staff else 403
    if kind.role is None:
        return 404
    return OK if RANK[kind.role] >= RANK[level] else 403


def is_ok(status: int) -> bool:
    return 200 <= status < 400 or status in (400, 422)


# --- The world each case runs in ----------------------------------------------------------------
@dataclass
class World:
    project: object
    users: dict[str, object | None]
    values: dict[str, object]


def make_world(kind: str) -> World:
    from classifiers import models as m
    from classifiers.actions import do_add_member

    admin = make_user("alice", creator=True)
    tagger, viewer = make_user("tom"), make_user("vera")
    project = make_project(admin, name="Permission matrix", kind=kind)
    do_add_member(admin, project, tagger, "tagger")
    do_add_member(admin, project, viewer, "viewer")
    other_admin = make_user("oscar", creator=True)
    make_project(other_admin, name="Secret HR cases", kind="multi_label")
    populate(project)
    _populate_files(project, admin)
    # upload_columns lets only the batch's uploader (or an Admin) choose its columns: the
    # tagger is the uploader, so the matrix checks the role, not the ownership.
    m.UploadBatch.objects.filter(project=project).update(created_by=tagger)
    users = {
        "anonymous": None,
        "outsider": make_user("olga"),
        "other_admin": other_admin,
        "staff": make_user("stella", is_staff=True),
        "superuser": make_user("sam", is_staff=True, is_superuser=True),
        "viewer": viewer,
        "tagger": tagger,
        "admin": admin,
    }
    values = url_values(project)
    # The API's URLs take the slot's name and the job's UUID, not their primary keys.
    values["slot"] = m.Deployment.objects.get(project=project).name
    values["job_id"] = m.ClassifyJob.objects.get(project=project).job_id
    return World(project, users, values)


def _populate_files(project, admin) -> None:
    """What populate() leaves out and some views need to answer 200 rather than 404."""
    from classifiers import models as m

    doc = m.Document.objects.filter(project=project).order_by("id").first()
    doc.sha256 = "ab" * 32
    doc.original.save("walk.txt", ContentFile(b"walk text"), save=False)
    doc.thumbnail.save("walk.png", ContentFile(b"\x89PNG\r\n\x1a\n" + b"\0" * 16), save=False)
    doc.save()
    export = m.ExportJob.objects.filter(project=project).order_by("id").first()
    export.status = m.ExportJob.Status.DONE
    export.file.save("walk.jsonl", ContentFile(b"{}\n"), save=False)
    export.save()
    version = m.ModelVersion.objects.get(project=project)
    cls = m.Class.objects.filter(project=project).order_by("id").first()
    # populate() puts its document in the production set: add a tagged training document, the
    # usual state of a project (and the one that crashes gather_seed, see KNOWN_BUGS).
    tagged = m.Document.objects.create(
        project=project, set=m.DocumentSet.TRAINING, text="matrix training text", text_chars=20,
        text_hash="1" * 64,
    )  # fmt: skip
    m.Tag.objects.create(project=project, document=tagged, tag_class=cls, tagger=admin)
    m.VersionAnalysis.objects.create(
        model_version=version,
        state=m.VersionAnalysis.State.DONE,
        mistakes=[{"document_id": doc.pk, "given": [cls.name], "suggested": cls.name, "confidence": 0.9}],
    )


@pytest.fixture(scope="module")
def shared_client() -> Client:
    """One client for the module: each new Client builds the middleware again, and
    WhiteNoise's scan of the static files would then be a quarter of the run."""
    return Client(raise_request_exception=False)  # a crash is a 500 in the report, not an abort


def log_in_as(client: Client, user) -> Client:
    client.logout()
    client.cookies.clear()
    if user is not None:
        client.force_login(user)
    return client


def check(response, want: int | str, level: Level | None, project_name: str, user: str) -> str | None:
    """What is wrong with one answer, or None."""
    got = response.status_code
    if got == 500:
        exc = getattr(response, "exc_info", None)
        return f"expected {want}, got 500" + (f" ({exc[0].__name__}: {exc[1]})" if exc else "")
    if want == OK:
        if not is_ok(got):
            return f"expected OK (2xx/3xx/400/422), got {got}"
        location = response.get("Location", "")
        if got in (301, 302) and location.startswith(LOGIN_PATH) and level not in ("public",):
            return f"expected OK, got a redirect to the login page ({location})"
    elif got != want:
        return f"expected {want}, got {got}"
    elif want == 302 and not response["Location"].startswith(LOGIN_PATH):
        return f"expected a redirect to the login page, got one to {response['Location']}"
    elif want == 401 and response["Content-Type"] != "application/json":
        return f"expected a JSON 401, got {response['Content-Type']}"
    if USERS[user].role is None and project_name in response.content.decode(errors="replace"):
        return f"status {got} but the body shows the project's name to a non-member"
    return None


# --- The tests ----------------------------------------------------------------------------------
def test_every_view_is_in_the_table():
    missing = [name for name in URL_NAMES if name not in TABLE]
    assert not missing, (
        f"{len(missing)} URL name(s) have no entry in TABLE (tests/test_permission_matrix.py); "
        f"add who may GET/POST each: {', '.join(missing)}"
    )


def test_every_table_entry_has_a_view():
    gone = sorted((set(TABLE) | set(ALSO_TRAINABLE) | {n for n, _m, _k in KNOWN_BUGS}) - set(ROUTES))
    assert not gone, f"TABLE entries without a URL pattern (remove them): {', '.join(gone)}"


def test_url_names_are_unique():
    names = [pattern.name for _route, pattern in iter_patterns() if pattern.name]
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"URL names used by several patterns (the table cannot tell them apart): {twice}"


def test_table_levels_are_known():
    bad = {n: r for n, r in TABLE.items() if {r.get, r.post} - {None, *LEVELS} or r.get == r.post is None}
    assert not bad, f"rules with an unknown level or no allowed method: {bad}"


@pytest.mark.parametrize(
    ("name", "method", "kind"),
    CASES,
    ids=[f"{n}-{m}" + ("-trainable" if k == "trainable" and _kind(n) != k else "") for n, m, k in CASES],
)
def test_matrix(db, shared_client, name, method, kind):
    rule = TABLE.get(name)
    if rule is None:
        pytest.fail(f"{name} ({ROUTES[name]}) has no entry in TABLE: add one (see the module docstring)")
    world = make_world(kind)
    url = build(ROUTES[name], world.values)
    project_name = world.project.name
    problems: list[str] = []
    crashes_only = True
    for user, obj in world.users.items():
        want = expected(rule, method, user)
        response = getattr(log_in_as(shared_client, obj), method)(url)
        problem = check(response, want, rule.level(method), project_name, user)
        if problem:
            problems.append(f"{method.upper()} {url} ({name}, {kind} project) as {user}: {problem}")
            crashes_only &= response.status_code == 500 and want == OK
    bug = KNOWN_BUGS.get((name, method, kind))
    if bug and problems and crashes_only:
        pytest.xfail(f"known bug: {bug}")
    if bug and not problems:
        pytest.fail(f"{name} {method.upper()} passes now: remove it from KNOWN_BUGS ({bug})")
    assert not problems, "\n".join(problems)
