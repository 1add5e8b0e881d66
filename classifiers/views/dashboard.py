"""The dataset dashboard: documents per set, tagged documents per class and set, untagged
count, class balance warnings, and the Admin's test split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from classifiers.access import get_project_for_user
from classifiers.actions.base import ActionError
from classifiers.actions.documents import do_draw_test_split
from classifiers.charts import MUTED, Bar, Series, horizontal_bars
from classifiers.models import Document, DocumentSet, Project, Role, Tag

MIN_TAGGED = 15  # fewer tagged training documents than this in a class: a warning
IMBALANCE_RATIO = 10  # largest / smallest class above this: a warning


class TestSplitForm(forms.Form):
    percent = forms.IntegerField(
        min_value=1, max_value=90, initial=20, label="Test share (%)",
        help_text="Share of the tagged training documents moved to the test set, per class.",
    )  # fmt: skip
    seed = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, initial=0, label="Seed",
        help_text="The same seed and tags draw the same split.",
    )  # fmt: skip


@dataclass
class Row:
    """One class (or, for trainable classifiers, match / not a match)."""

    name: str
    colour: str
    training: int
    test: int
    other: dict[str, int]
    link: dict[str, str]  # the browser's filter for this row
    url: str = ""

    @property
    def cells(self) -> list[int]:
        return list(self.other.values())

    def href(self, project: Project, set_name: str | None = None) -> str:
        params = dict(self.link)
        if set_name:
            params["set"] = set_name
        return reverse("document_list", args=[project.slug]) + "?" + urlencode(params)


@dataclass
class BalanceWarning:
    message: str
    href: str


def dataset_stats(project: Project) -> dict[str, Any]:
    """All the dashboard's figures in four aggregated queries."""
    sets = DocumentSet.for_kind(project.kind)
    per_set = dict(
        Document.objects.filter(project=project).values_list("set").annotate(n=Count("id")).order_by()
    )
    tagged_per_set = dict(
        Tag.objects.filter(project=project)
        .values_list("document__set")
        .annotate(n=Count("document", distinct=True))
        .order_by()
    )
    rows: list[Row] = []
    classes = list(project.classes.filter(archived=False))
    if project.is_trainable:
        counts: dict[tuple[bool, str], int] = {
            (positive, set_name): n
            for positive, set_name, n in Tag.objects.filter(project=project)
            .values_list("positive", "document__set")
            .annotate(n=Count("document", distinct=True))
            .order_by()
        }
        category = classes[0] if classes else None
        for positive, name in ((True, "Match"), (False, "Not a match")):
            rows.append(
                Row(
                    name=name,
                    colour=(category.colour if category and positive else MUTED),
                    training=counts.get((positive, DocumentSet.TRAINING), 0),
                    test=counts.get((positive, DocumentSet.TEST), 0),
                    other={s.value: counts.get((positive, s.value), 0) for s in sets},
                    link={"class": str(category.pk)} if positive and category else {"not_match": "1"},
                )
            )
    else:
        counts2: dict[tuple[int, str], int] = {
            (class_id, set_name): n
            for class_id, set_name, n in Tag.objects.filter(project=project, positive=True)
            .values_list("tag_class_id", "document__set")
            .annotate(n=Count("document", distinct=True))
            .order_by()
        }
        for cls in classes:
            rows.append(
                Row(
                    name=cls.name,
                    colour=cls.colour,
                    training=counts2.get((cls.pk, DocumentSet.TRAINING), 0),
                    test=counts2.get((cls.pk, DocumentSet.TEST), 0),
                    other={s.value: counts2.get((cls.pk, s.value), 0) for s in sets},
                    link={"class": str(cls.pk)},
                )
            )
    set_rows = [
        {
            "set": s,
            "documents": per_set.get(s.value, 0),
            "tagged": tagged_per_set.get(s.value, 0),
            "untagged": per_set.get(s.value, 0) - tagged_per_set.get(s.value, 0),
        }
        for s in sets
    ]
    for row in rows:
        row.url = row.href(project)
    total = sum(per_set.values())
    tagged = sum(tagged_per_set.values())
    return {"rows": rows, "set_rows": set_rows, "total": total, "tagged": tagged, "untagged": total - tagged}


def balance_warnings(project: Project, rows: list[Row]) -> list[BalanceWarning]:
    warnings: list[BalanceWarning] = []
    for row in rows:
        if row.training < MIN_TAGGED:
            warnings.append(
                BalanceWarning(
                    f"{row.name} has {row.training:,} tagged training document{'' if row.training == 1 else 's'}: "
                    f"tag at least {MIN_TAGGED}.",
                    row.href(project, DocumentSet.TRAINING),
                )
            )
        if row.test == 0:
            warnings.append(
                BalanceWarning(
                    f"{row.name} is missing from the test set.", row.href(project, DocumentSet.TEST)
                )
            )
    present = [r for r in rows if r.training > 0]
    if len(present) >= 2:
        big = max(present, key=lambda r: r.training)
        small = min(present, key=lambda r: r.training)
        ratio = big.training / small.training
        if ratio > IMBALANCE_RATIO:
            warnings.append(
                BalanceWarning(
                    f"Strong imbalance: {big.name} has {big.training:,} tagged training documents, "
                    f"{small.name} only {small.training:,} ({ratio:.0f} times fewer). Tag more {small.name} documents.",
                    small.href(project, DocumentSet.TRAINING),
                )
            )
    return warnings


def _dashboard_context(project: Project, **extra: Any) -> dict[str, Any]:
    stats = dataset_stats(project)
    rows: list[Row] = stats["rows"]
    class_chart = horizontal_bars(
        [Bar(r.name, [r.training, r.test], r.colour, r.href(project)) for r in rows],
        [Series("Training"), Series("Test", opacity=0.45)],
        title="Tagged documents per class, training and test",
    )
    set_chart = horizontal_bars(
        [Bar(s["set"].label, [s["tagged"], s["untagged"]], "#2f5d8a") for s in stats["set_rows"]],
        [Series("Tagged"), Series("Untagged", opacity=0.35)],
        title="Documents per set, tagged and untagged",
    )
    list_url = reverse("document_list", args=[project.slug])
    return {
        "project": project,
        "section": "dashboard",
        **stats,
        "warnings": balance_warnings(project, rows),
        "class_chart": class_chart,
        "set_chart": set_chart,
        "untagged_url": f"{list_url}?untagged=1",
        "min_tagged": MIN_TAGGED,
        "is_admin": project.membership.is_admin,  # type: ignore[attr-defined]
        "split_form": extra.pop("split_form", None) or TestSplitForm(),
        **extra,
    }


@login_required
def dataset_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug)
    return render(request, "dashboard/dashboard.html", _dashboard_context(project))


@login_required
@require_POST
def test_split(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_project_for_user(request, slug, Role.ADMIN)
    form = TestSplitForm(request.POST)
    if form.is_valid():
        percent, seed = form.cleaned_data["percent"], form.cleaned_data["seed"]
        try:
            result = do_draw_test_split(request.user, project, percent / 100, seed)
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Moved {result.moved:,} of {result.candidates:,} tagged training documents to the test set "
                f"({percent}%, seed {seed}).",
            )
            return redirect("dataset_dashboard", project.slug)
    return render(
        request, "dashboard/dashboard.html", _dashboard_context(project, split_form=form), status=422
    )
