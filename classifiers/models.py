"""The domain: projects, their members and roles (and, in later modules, classes,
documents, tags, training runs, model versions, reviews, deployments)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

PROJECT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")
PROJECT_NAME_RULES = (
    "2 to 100 characters: letters, digits, spaces, '-', '_' and '.', starting with a letter or digit."
)


def validate_project_name(value: str) -> None:
    if not (2 <= len(value) <= 100) or not PROJECT_NAME_RE.match(value) or value != value.strip():
        raise ValidationError(f"A project name has {PROJECT_NAME_RULES}")


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    TAGGER = "tagger", "Tagger"
    VIEWER = "viewer", "Viewer"

    @property
    def rank(self) -> int:
        return {"viewer": 1, "tagger": 2, "admin": 3}[self.value]

    @property
    def description(self) -> str:
        return {
            "admin": "Edits the schema, trains, reviews, publishes and manages members.",
            "tagger": "Tags and reviews documents.",
            "viewer": "Reads the project.",
        }[self.value]


class Project(models.Model):
    """One classifier being built."""

    class Kind(models.TextChoices):
        SINGLE_LABEL = "single_label", "Single-label"
        MULTI_LABEL = "multi_label", "Multi-label"
        TRAINABLE = "trainable", "Trainable classifier"

    name = models.CharField(max_length=100, validators=[validate_project_name])
    slug = models.SlugField(max_length=110, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(blank=True, max_length=5000)
    language = models.CharField(max_length=16, default="en")
    guidelines = models.TextField(
        blank=True, max_length=100_000, help_text="Markdown, shown in the tagging view."
    )
    schema_version = models.PositiveIntegerField(default=0)
    # Tagging: how many different taggers tag each document (1 = once), and whether the
    # model's suggestion is shown while tagging (off by default: it biases taggers).
    overlap = models.PositiveSmallIntegerField(default=1)
    show_suggestions = models.BooleanField(default=False)
    # API: keep the texts of classify calls in the classification log (off: privacy first).
    log_api_texts = models.BooleanField(default=False)
    # Feedback and retraining: retrain after this many new feedback items, at most this many
    # times a day (Purview's 30 and twice a day); a manual retrain is always possible.
    feedback_retrain_after = models.PositiveSmallIntegerField(default=30)
    retrains_per_day = models.PositiveSmallIntegerField(default=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="project_name_unique_ci")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("project_overview", args=[self.slug])

    @property
    def is_trainable(self) -> bool:
        return self.kind == self.Kind.TRAINABLE


class Membership(models.Model):
    """A user's one role in one project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.TAGGER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.get_role_display()})"

    def has_role(self, minimum: str) -> bool:
        return Role(self.role).rank >= Role(minimum).rank

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_tag(self) -> bool:
        return self.has_role(Role.TAGGER)


# --- Schema ---------------------------------------------------------------------------------
HEX_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
CLASS_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]+$")
# Keys the studio keeps for itself (skip, undo, help, match / not a match, "g p" navigation).
RESERVED_HOTKEYS = set("sumn?g")


def validate_colour(value: str) -> None:
    if not HEX_COLOUR_RE.match(value):
        raise ValidationError("A colour is written #rrggbb, e.g. #2f5d8a.")


def validate_class_name(value: str) -> None:
    if not value.strip() or value != value.strip() or not CLASS_NAME_RE.match(value):
        raise ValidationError(
            "A class name is 1 to 100 characters, without control characters or outer spaces."
        )


class Class(models.Model):
    """An entry of the project's schema."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(max_length=100, validators=[validate_class_name])
    description = models.TextField(blank=True, max_length=5000, help_text="Shown to taggers as guidance.")
    colour = models.CharField(max_length=7, default="#2f5d8a", validators=[validate_colour])
    hotkey = models.CharField(max_length=1, blank=True)
    archived = models.BooleanField(default=False, help_text="Hidden from tagging; history kept.")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "classes"
        constraints = [
            models.UniqueConstraint("project", Lower("name"), name="class_name_unique_ci"),
            models.UniqueConstraint(
                fields=["project", "hotkey"],
                condition=~models.Q(hotkey="") & models.Q(archived=False),
                name="class_hotkey_unique_active",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SchemaVersion(models.Model):
    """The numbered state of a project's classes after each schema change."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="schema_versions")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    change = models.CharField(max_length=64)  # e.g. class.add, class.rename, class.merge
    # [{"id", "name", "archived"}] in schema order: what a model version was trained on.
    classes = models.JSONField(default=list)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="schema_version_unique")]

    def __str__(self) -> str:
        return f"{self.project} schema v{self.number}"


# --- Documents ------------------------------------------------------------------------------
class DocumentSet(models.TextChoices):
    TRAINING = "training", "Training"
    TEST = "test", "Test"
    SEED = "seed", "Seed"  # trainable classifiers' positive examples
    NEGATIVE = "negative", "Negative examples"  # trainable classifiers' optional known non-matches
    BACKGROUND = "background", "Background"  # trainable classifiers' optional unlabelled collection
    PRODUCTION = "production", "Production"  # what a published classifier runs on

    @classmethod
    def for_kind(cls, kind: str) -> list[DocumentSet]:
        if kind == Project.Kind.TRAINABLE:
            # Training holds tagged examples (match / not a match) beside the seeds.
            return [cls.SEED, cls.NEGATIVE, cls.TRAINING, cls.TEST, cls.BACKGROUND, cls.PRODUCTION]
        return [cls.TRAINING, cls.TEST, cls.PRODUCTION]


def upload_path(instance: UploadBatch, filename: str) -> str:
    return f"projects/{instance.project_id}/uploads/{instance.pk or 'new'}/{filename}"


def original_path(instance: Document, filename: str) -> str:
    return f"projects/{instance.project_id}/originals/{instance.sha256[:2]}/{instance.sha256}"


def thumbnail_path(instance: Document, filename: str) -> str:
    return f"projects/{instance.project_id}/thumbnails/{instance.sha256[:2]}/{instance.sha256}.png"


class UploadBatch(models.Model):
    """The files of one upload (or one tabular import), with a result per file."""

    class Source(models.TextChoices):
        FILES = "files", "Files and archives"
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON lines"
        AZURE = "azure", "Azure labels JSON"

    class Status(models.TextChoices):
        NEEDS_OPTIONS = "options", "Needs columns"  # a CSV / JSONL waiting for its column choice
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="upload_batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FILES)
    target_set = models.CharField(max_length=12, choices=DocumentSet.choices, default=DocumentSet.TRAINING)
    # Tabular imports: {"text_column", "label_columns", "id_column", "label_separator"}.
    options = models.JSONField(default=dict, blank=True)
    # The uploaded files as received: [{"name", "path" (storage), "size"}]; removed when processed.
    received = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)  # items found so far (files, zip members, rows)
    processed = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    tags_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "upload batches"

    def __str__(self) -> str:
        return f"Upload #{self.pk} ({self.get_source_display()}, {self.total} items)"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0


class Document(models.Model):
    """One text with its original file and metadata, in one set."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    set = models.CharField(max_length=12, choices=DocumentSet.choices, default=DocumentSet.TRAINING)
    text = models.TextField(blank=True)
    text_chars = models.PositiveIntegerField(default=0)
    has_text = models.BooleanField(default=True)
    # SHA-256 of the normalised text: the same text from another file is a duplicate.
    text_hash = models.CharField(max_length=64, db_index=False)
    filename = models.CharField(max_length=255, blank=True)
    external_id = models.CharField(max_length=255, blank=True, help_text="Id from the imported source.")
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)  # of the original file's bytes
    original = models.FileField(upload_to=original_path, max_length=255, blank=True)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=255, blank=True)
    file_created = models.DateTimeField(null=True, blank=True)
    file_modified = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    batch = models.ForeignKey(
        UploadBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Keyset pages and filters within a project: (project, id) and (project, set, id).
            models.Index(fields=["project", "id"], name="doc_project_id"),
            models.Index(fields=["project", "set", "id"], name="doc_project_set_id"),
            models.Index(fields=["project", "sha256"], name="doc_project_sha"),
            models.Index(fields=["project", "text_hash"], name="doc_project_texthash"),
            models.Index(fields=["project", "batch", "id"], name="doc_project_batch_id"),
            models.Index(fields=["project", "created_at", "id"], name="doc_project_created_id"),
        ]

    def __str__(self) -> str:
        return self.filename or self.external_id or f"Document {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("document_detail", args=[self.project.slug, self.pk])

    @property
    def title(self) -> str:
        return self.metadata.get("subject") or self.filename or self.external_id or f"Document {self.pk}"


class UploadResult(models.Model):
    """What became of one file (or zip member, or row) of an upload batch."""

    class Status(models.TextChoices):
        IMPORTED = "imported", "Imported"
        DUPLICATE = "duplicate", "Duplicate"
        REJECTED = "rejected", "Rejected"

    batch = models.ForeignKey(UploadBatch, on_delete=models.CASCADE, related_name="results")
    # Where the item came from: "a.zip/folder/b.pdf", or "rows.csv#12". Unique per batch so a
    # re-run of the task (at-least-once delivery) skips what it already did.
    path = models.CharField(max_length=1024)
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=32, blank=True)  # rejection code from classifiers.ingest
    message = models.TextField(blank=True)
    size = models.PositiveBigIntegerField(default=0)
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    duplicate_of = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["batch", "path"], name="upload_result_unique_path")]

    def __str__(self) -> str:
        return f"{self.path}: {self.status}"


class Tag(models.Model):
    """A class given to a document by a tagger.

    Single-label: one positive tag per tagger and document. Multi-label: one per class the
    tagger chose. Trainable classifier: one tag on the category, ``positive`` = match.
    ``is_resolution`` marks an Admin's final word on a conflict between taggers.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tags")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="tags")
    tag_class = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="tags", db_column="class_id")
    positive = models.BooleanField(default=True)
    tagger = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="tags"
    )
    is_resolution = models.BooleanField(default=False)
    source = models.CharField(max_length=16, default="tagging")  # tagging, bulk, import, review, feedback
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "tagger", "tag_class"], name="tag_unique_per_tagger"),
        ]
        indexes = [
            models.Index(fields=["project", "tag_class", "document"], name="tag_project_class_doc"),
            models.Index(fields=["project", "tagger", "created_at"], name="tag_project_tagger_time"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}: {'' if self.positive else 'not '}{self.tag_class}"


class ExportJob(models.Model):
    """A project export, made in the background, ending in a download."""

    class Format(models.TextChoices):
        JSONL = "jsonl", "JSON lines"
        CSV = "csv", "CSV"
        AZURE = "azure", "Azure labels JSON (zip with the texts)"
        PRODUCTION = "labels", "Production items: classification and applied labels (CSV)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    format = models.CharField(max_length=8, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True)  # the document browser's query string
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    file = models.FileField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Export #{self.pk} ({self.get_format_display()})"


# --- Training ---------------------------------------------------------------------------------
class TrainingRun(models.Model):
    """One background training job. Produces at most one model version."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (State.QUEUED, State.RUNNING)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="training_runs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=24, default="manual")  # manual, review, feedback, seed
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(max_length=64, blank=True)
    progress = models.FloatField(default=0.0)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the reaper's sign of life
    finished_at = models.DateTimeField(null=True, blank=True)
    estimated_end = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)  # for the Admin
    traceback = models.TextField(blank=True)  # for operators (also in the log)
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "state"], name="run_project_state")]

    def __str__(self) -> str:
        return f"Training run #{self.pk} of {self.project} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def percent(self) -> int:
        return 100 if self.state == self.State.SUCCEEDED else round(100 * self.progress)


def artifact_path(instance: ModelVersion, filename: str) -> str:
    return f"projects/{instance.project_id}/models/{filename}"


class ModelVersion(models.Model):
    """An immutable, numbered trained model with its artifact, data snapshot and metrics."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_versions")
    number = models.PositiveIntegerField()
    training_run = models.OneToOneField(
        TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_version"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20)
    classes = models.JSONField(default=list)  # class names, in the model's order
    schema_version = models.PositiveIntegerField(default=0)
    artifact = models.CharField(max_length=255)  # storage name; written by us only
    artifact_sha256 = models.CharField(max_length=64)
    artifact_size = models.PositiveBigIntegerField(default=0)
    # Exactly which data trained and tested it: ids and a hash of their tags (the full id
    # lists live in a sidecar file beside the artifact, hashed here).
    snapshot = models.JSONField(default=dict)
    params = models.JSONField(default=dict)
    library_versions = models.JSONField(default=dict)
    train_size = models.PositiveIntegerField(default=0)
    test_size = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(default=0.0)
    peak_memory_mb = models.FloatField(default=0.0)
    metrics = models.JSONField(default=dict)
    # Trainable classifiers: score >= threshold is a match; lower bound..threshold a close match.
    threshold = models.FloatField(null=True, blank=True)
    close_match_lower = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="model_version_unique")]

    def __str__(self) -> str:
        return f"{self.project} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.pop("allow_update", False):
            raise TypeError("Model versions are immutable.")
        super().save(*args, **kwargs)


class Prediction(models.Model):
    """A model version's classes and scores for one document."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="predictions")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    labels = models.JSONField(default=list)  # predicted class names (trainable: ["match"] etc.)
    scores = models.JSONField(default=dict)  # class name -> probability
    top_score = models.FloatField(default=0.0)
    # 0 = certain, 1 = a coin toss: the tagging queue's "most uncertain first" order.
    uncertainty = models.FloatField(default=0.0)
    outcome = models.CharField(max_length=12, blank=True)  # test items: correct / wrong / partial
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "document"], name="prediction_unique"),
        ]
        indexes = [
            models.Index(fields=["model_version", "-uncertainty"], name="prediction_uncertain"),
            models.Index(fields=["project", "document"], name="prediction_project_doc"),
        ]

    def __str__(self) -> str:
        return f"{self.model_version}: {self.document_id} -> {', '.join(self.labels)}"


class VersionAnalysis(models.Model):
    """What is worked out after a version is stored (it takes several more fits): the
    learning curve, likely tagging mistakes, and scores of untagged documents for the
    tagging queue's "most uncertain first" order."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    model_version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="analysis")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    learning_curve = models.JSONField(default=list, blank=True)
    mistakes = models.JSONField(default=list, blank=True)  # [{document_id, given, suggested, confidence}]
    scored_untagged = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Analysis of {self.model_version}"


class TagConfirmation(models.Model):
    """A person checked a document the model flagged as a likely mistake and kept its tags.
    ``labels_key`` is the labels at that moment: if the tags change later, it may be flagged again."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    labels_key = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document"], name="tag_confirmation_unique_document")]

    def __str__(self) -> str:
        return f"{self.document_id} confirmed as {self.labels_key}"


# --- Tagging --------------------------------------------------------------------------------------
class Assignment(models.Model):
    """Work an Admin gave one tagger: a number of documents, a filter's result or a batch."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    tagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    description = models.CharField(max_length=300, blank=True)  # "50 documents of batch #3", the filter...
    active = models.BooleanField(default=True)
    documents = models.ManyToManyField(Document, through="AssignedDocument", related_name="+")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Assignment #{self.pk} for {self.tagger} in {self.project}"


class AssignedDocument(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="items")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    tagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tagger", "document"], name="assigned_once_per_tagger")]
        indexes = [models.Index(fields=["project", "tagger", "document"], name="assigned_project_tagger")]

    def __str__(self) -> str:
        return f"{self.document_id} -> {self.tagger_id}"


class Lease(models.Model):
    """A document handed to a tagger for a short while, so two taggers do not get it at
    the same time (unless double tagging asks for that)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    tagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(db_index=True)
    purpose = models.CharField(max_length=10, default="tagging")  # tagging, review, feedback

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "tagger", "purpose"], name="lease_unique"),
        ]
        indexes = [models.Index(fields=["project", "purpose", "expires_at"], name="lease_project_expiry")]

    def __str__(self) -> str:
        return f"{self.document_id} leased to {self.tagger_id} until {self.expires_at:%H:%M:%S}"


class TaggingAction(models.Model):
    """One step of a tagger's session (tag, skip), for undo and back/forward through history."""

    class Kind(models.TextChoices):
        TAG = "tag", "Tag"
        SKIP = "skip", "Skip"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    tagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    before = models.JSONField(default=list)  # the tagger's labels on the document before
    after = models.JSONField(default=list)
    reason = models.CharField(max_length=300, blank=True)  # skip reason
    undone = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "tagger", "-id"], name="tagging_action_history")]

    def __str__(self) -> str:
        return f"{self.tagger_id} {self.kind} {self.document_id}"


# --- Deployments and the API --------------------------------------------------------------------
DEPLOYMENT_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
PRODUCTION_SLOT = "production"


def validate_deployment_name(value: str) -> None:
    if not DEPLOYMENT_NAME_RE.match(value):
        raise ValidationError(
            "A deployment name is 1 to 40 lower-case letters, digits and '-', starting with a letter."
        )


class Deployment(models.Model):
    """A named slot (production, staging, ...) pointing at one model version. Publishing a
    version puts it in the production slot."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deployments")
    name = models.CharField(max_length=40, validators=[validate_deployment_name])
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="deployments")
    deployed_at = models.DateTimeField()
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="deployment_unique_name")]

    def __str__(self) -> str:
        return f"{self.project} {self.name} -> v{self.model_version.number}"


class DeploymentEvent(models.Model):
    """The history of a slot: which version served it from when (for rollback and the
    published-versions timeline)."""

    class Action(models.TextChoices):
        DEPLOY = "deploy", "Deploy"
        SWAP = "swap", "Swap"
        ROLLBACK = "rollback", "Roll back"
        DELETE = "delete", "Delete"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deployment_events")
    slot = models.CharField(max_length=40)
    action = models.CharField(max_length=10, choices=Action.choices)
    from_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "slot", "-id"], name="deployment_event_slot")]

    def __str__(self) -> str:
        return f"{self.slot}: {self.action}"


class ApiToken(models.Model):
    """A project's API token. Only its SHA-256 is stored; the token is shown once."""

    class Scope(models.TextChoices):
        CLASSIFY = "classify", "Classify"
        READ = "read", "Read results"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # shown in lists so people can tell tokens apart
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ClassifyJob(models.Model):
    """An asynchronous classify request: submitted, run by a worker, results fetched later."""

    class Status(models.TextChoices):
        NOT_STARTED = "notStarted", "Not started"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="classify_jobs")
    job_id = models.UUIDField(unique=True)
    token = models.ForeignKey(ApiToken, null=True, on_delete=models.SET_NULL, related_name="+")
    slot = models.CharField(max_length=40)
    model_version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    request = models.JSONField(default=dict)  # documents and options as submitted
    results = models.JSONField(default=list)
    processed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.JSONField(default=dict, blank=True)
    azure_shape = models.BooleanField(default=False)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Classify job {self.job_id} ({self.status})"


class ApiCall(models.Model):
    """One API call, for the classification log (texts only when the Admin turns that on)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(ApiToken, null=True, on_delete=models.SET_NULL, related_name="+")
    token_name = models.CharField(max_length=100, blank=True)
    slot = models.CharField(max_length=40, blank=True)
    model_version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    endpoint = models.CharField(max_length=40)
    status_code = models.PositiveSmallIntegerField()
    documents = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(default=0.0)
    texts = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "slot", "created_at"], name="api_call_slot_time")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.status_code} ({self.documents} docs)"


# --- Review (trainable classifiers' test items, and any project's predictions) --------------------
class Review(models.Model):
    """A person's answer to a model's prediction on a test item: match / not a match (or,
    for single- and multi-label projects, confirm / reject with the right class)."""

    class Answer(models.TextChoices):
        MATCH = "match", "Match"
        NOT_MATCH = "not_match", "Not a match"
        SKIP = "skip", "Skip"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviews")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="reviews")
    # The version whose prediction the reviewer saw (figures are that version's).
    model_version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    answer = models.CharField(max_length=10, choices=Answer.choices)
    predicted = models.JSONField(default=list)  # what the model said: ["match"] / ["close_match"] / class names
    score = models.FloatField(null=True, blank=True)
    corrected = models.JSONField(default=list, blank=True)  # single/multi-label: the right class(es)
    batch = models.PositiveIntegerField(default=1)  # review batches of 30; a retrain follows each
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["document"], name="review_once_per_document")]
        indexes = [models.Index(fields=["project", "batch"], name="review_project_batch")]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.answer}"


# --- Production: classification, labels, feedback, retraining (issue 7) ----------------------------
class Classification(models.Model):
    """The published version's answer on one production item (the current one; a publish or a
    rollback re-classifies every item, and the version that answered is kept on the row)."""

    class Outcome(models.TextChoices):
        MATCH = "match", "Match"
        CLOSE_MATCH = "close_match", "Close match"
        NO_MATCH = "no_match", "No match"
        PREDICTED = "predicted", "Classified"  # single- and multi-label projects

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="classification")
    # No index of its own: the four composite indexes below start with the project (one index
    # fewer to update on every upsert of a re-classification).
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    # PROTECT: a version that answered for production items stays (the use check says why).
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    labels = models.JSONField(default=list)  # predicted class names (trainable: [] or ["match"])
    # "|a|b|": a plain text column so "items of class a" filters on every database.
    classes_key = models.CharField(max_length=1000, blank=True)
    score = models.FloatField(default=0.0)  # P(match), or the top class's probability
    scores = models.JSONField(default=dict)
    received_at = models.DateTimeField()  # the item's arrival (copied: date filters need no join)
    classified_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "-document"], name="cls_project_doc"),
            models.Index(fields=["project", "outcome", "-document"], name="cls_project_outcome_doc"),
            models.Index(fields=["project", "received_at"], name="cls_project_received"),
            models.Index(fields=["project", "score"], name="cls_project_score"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.outcome}"


class ClassificationRun(models.Model):
    """Background (re-)classification of a project's production items by one version: after a
    publish, a rollback, or new items. Restartable: it walks items by id from ``cursor``."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        SUPERSEDED = "superseded", "Superseded"  # another version was published meanwhile
        FAILED = "failed", "Failed"

    ACTIVE = (State.QUEUED, State.RUNNING)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="classification_runs")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, default="publish")  # publish, rollback, new_items
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)  # the last document id done
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.project} v{self.model_version_id} {self.state}"

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else (100 if self.state == "done" else 0)


def validate_label_name(value: str) -> None:
    if not value.strip() or len(value) > 100 or any(ord(c) < 32 for c in value):
        raise ValidationError("A label name has 1 to 100 printable characters.")


class Label(models.Model):
    """A site-wide label (retention, sensitivity...) that policies apply to matched items."""

    name = models.CharField(max_length=100, validators=[validate_label_name])
    description = models.TextField(blank=True, max_length=2000)
    colour = models.CharField(max_length=7, default="#7a4b94", validators=[validate_colour])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="label_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class LabelPolicy(models.Model):
    """"Apply label L to items that classifier C matches" (optionally only above a score; for
    single- and multi-label projects, items of one class)."""

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="policies")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="label_policies")
    class_name = models.CharField(max_length=100, blank=True)  # "" for trainable classifiers
    min_score = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["label", "project", "class_name"], name="label_policy_unique")
        ]

    def __str__(self) -> str:
        what = f"class {self.class_name}" if self.class_name else "matches"
        return f"{self.label} on {self.project} {what}"

    def applies(self, outcome: str, labels: list[str], score: float, scores: dict[str, float]) -> float | None:
        """The score the label is applied with, or None when the policy does not apply."""
        if self.class_name:
            if self.class_name not in labels:
                return None
            value = float(scores.get(self.class_name, score))
        else:
            if outcome != Classification.Outcome.MATCH:
                return None
            value = score
        if self.min_score is not None and value < self.min_score:
            return None
        return value


class AppliedLabel(models.Model):
    """A label a policy applied to a production item, with the version that matched it."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="applied_labels")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(LabelPolicy, on_delete=models.CASCADE, related_name="applied")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(default=0.0)
    applied_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "policy"], name="applied_label_once")]
        indexes = [models.Index(fields=["label", "document"], name="applied_label_doc")]

    def __str__(self) -> str:
        return f"{self.label_id} on {self.document_id}"


class Feedback(models.Model):
    """A reviewer's match / not a match on a production item's classification (for single- and
    multi-label projects: confirm, or correct the class). One active answer per item;
    withdrawn answers stay for the record."""

    class Answer(models.TextChoices):
        MATCH = "match", "Match"
        NOT_MATCH = "not_match", "Not a match"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="feedback")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="feedback")
    model_version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    answer = models.CharField(max_length=10, choices=Answer.choices)
    predicted = models.JSONField(default=list)  # the labels the reviewer saw
    outcome = models.CharField(max_length=12, blank=True)  # the outcome the reviewer saw
    score = models.FloatField(null=True, blank=True)
    corrected = models.JSONField(default=list, blank=True)  # single/multi-label: the right class(es)
    suggested_project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggested_document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document"], condition=models.Q(withdrawn_at__isnull=True), name="feedback_active_once"
            )
        ]
        indexes = [models.Index(fields=["project", "created_at"], name="feedback_project_created")]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.answer}"

    @property
    def labels(self) -> list[str]:
        """The item's right answer as training data: trainable ["match"] / ["not_match"];
        otherwise the corrected classes, or the predicted ones when confirmed."""
        if self.project.kind == Project.Kind.TRAINABLE:
            return [self.answer]
        if self.answer == self.Answer.MATCH:
            return list(self.predicted)
        return list(self.corrected)


class VersionComparison(models.Model):
    """A retrained version against the published one, on the same items (held fixed): the
    feedback items and the original test and reviewed items."""

    class State(models.TextChoices):
        RUNNING = "running", "Computing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Decision(models.TextChoices):
        NONE = "", "Not decided"
        REPUBLISH = "republish", "Re-published"
        MORE_FEEDBACK = "more_feedback", "Give more feedback"
        KEEP = "keep", "Kept the published version"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="comparisons")
    retrained = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    published = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    figures = models.JSONField(default=dict, blank=True)
    disagreements = models.JSONField(default=list, blank=True)
    recommendation = models.JSONField(default=dict, blank=True)
    feedback_count = models.PositiveIntegerField(default=0)  # active feedback when computed
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True, default="")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["retrained", "published"], name="comparison_once_per_pair")
        ]

    def __str__(self) -> str:
        return f"v{self.retrained_id} vs v{self.published_id}"
