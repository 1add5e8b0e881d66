from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from classifiers.models import PROJECT_NAME_RULES, Project, Role, validate_project_name

LANGUAGES = [
    ("en", "English"), ("de", "German"), ("fr", "French"), ("es", "Spanish"), ("it", "Italian"),
    ("nl", "Dutch"), ("pt", "Portuguese"), ("sv", "Swedish"), ("da", "Danish"), ("pl", "Polish"),
    ("multi", "Several languages"),
]  # fmt: skip


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[validate_project_name], help_text=PROJECT_NAME_RULES)
    kind = forms.ChoiceField(
        choices=Project.Kind.choices,
        widget=forms.RadioSelect,
        help_text="Fixed once the project exists.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    language = forms.ChoiceField(choices=LANGUAGES, initial="en")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Project.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A project named “{name}” already exists.")
        return name


class ProjectEditForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[validate_project_name], help_text=PROJECT_NAME_RULES)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    language = forms.ChoiceField(choices=LANGUAGES)

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Project.objects.filter(name__iexact=name).exclude(pk=self.project.pk).exists():
            raise forms.ValidationError(f"A project named “{name}” already exists.")
        return name


class AddMemberForm(forms.Form):
    user = forms.CharField(label="Username or e-mail", max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.TAGGER)

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_user(self):
        value = self.cleaned_data["user"].strip()
        User = get_user_model()
        matches = list(User.objects.filter(Q(username__iexact=value) | Q(email__iexact=value))[:2])
        if not matches:
            raise forms.ValidationError(
                f"No account “{value}”. An operator creates accounts in the Django admin."
            )
        if len(matches) > 1:
            raise forms.ValidationError("Several accounts share that e-mail: give the username.")
        user = matches[0]
        if not user.is_active:
            raise forms.ValidationError(f"{user.get_username()}'s account is deactivated.")
        if self.project.memberships.filter(user=user).exists():
            raise forms.ValidationError(f"{user.get_username()} is already a member.")
        return user


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ActivityFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=64)
    user = forms.CharField(required=False, max_length=150)
