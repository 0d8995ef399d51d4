"""Profile and Session, in the shape of Tracardi's Profile and Session objects.

JSON shapes (see docs/profile.md for the full picture):
- Profile.metadata: {"time": {"insert", "create", "update", "segmentation",
  "visit": {"last", "current", "count", "tz"}}, "fields": {"<dot path>": "<iso time>"},
  "system": {...}}
- Profile.stats, traits, interests ({"<name>": number}), aux: open objects.
- Profile.consents: {"<consent type id>": {"grant": iso time, "revoke": iso time or null}}
  (ConsentEntry; older entries carry only "revoke"). `consents_next_revoke` is the earliest
  revoke time among them, kept by every writer, so the auto-revoke job finds the profiles due.
- Profile.data: {"pii": {...}, "contact": {"email": {"main", "business", "private"}, "phone": ...},
  "identifier": {...}, "devices": {...}, "media": {...}, "preferences": {...}, "job": {...},
  "loyalty": {...}, "metrics": {...}}
"""

from typing import TypedDict

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Lower

from apps.core.ids import new_id
from apps.profiles.validation import identification_point_errors, segment_errors


def empty_profile_data() -> dict:
    return {
        "pii": {},
        "contact": {"email": {}, "phone": {}, "address": {}},
        "identifier": {},
        "devices": {},
        "media": {},
        "preferences": {},
        "job": {},
        "loyalty": {},
        "metrics": {},
    }


class Profile(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    primary_id = models.CharField(max_length=200, null=True, blank=True)
    # Ids of profiles merged into this one; a lookup by any of them finds this profile.
    ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    # Which of `id` and `ids` a client chose (a static-id source, a webhook's
    # replace_profile_id) rather than the server issued: they are not secrets, so only sources
    # that allow static ids resolve them (apps.profiles.services.identity).
    static_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    active = models.BooleanField(default=True)
    segments = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    created = models.DateTimeField()
    updated = models.DateTimeField()
    visit_count = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    traits = models.JSONField(default=dict, blank=True)
    interests = models.JSONField(default=dict, blank=True)
    consents = models.JSONField(default=dict, blank=True)
    aux = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=empty_profile_data, blank=True)
    # The earliest "revoke" time in `consents` (null: none will expire). A column rather than an
    # expression index: casting JSON text to a timestamp is not IMMUTABLE in PostgreSQL, and
    # the partial index below holds only the few profiles with a revoke time to come.
    consents_next_revoke = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            GinIndex(fields=["ids"], name="profile_ids_gin"),
            models.Index(
                fields=["consents_next_revoke"],
                name="profile_consents_next_revoke",
                condition=models.Q(consents_next_revoke__isnull=False),
            ),
            GinIndex(fields=["segments"], name="profile_segments_gin"),
            # The admin's list: newest change first, the id breaking ties as Django's changelist
            # orders (with "-updated" alone it sorted the whole table: 82 ms at 200,000).
            models.Index(fields=["-updated", "-id"], name="profile_updated_id_idx"),
            models.Index(Lower(KT("data__contact__email__main")), name="profile_email_main_idx"),
        ]
        # Also, written in SQL by migration 0010 (the admin's search, apps.profiles.search):
        # profile_name_trgm, profile_phone_trgm, profile_identifiers_gin, profile_traits_gin.

    def __str__(self) -> str:
        """How lists name a person: the e-mail, else the name, else the id."""
        return str(self.email or self.name or self.id)

    @property
    def name(self) -> str:
        """ "firstname lastname" from data.pii, or what there is of it."""
        pii = _object_at(self.data, "pii")
        return " ".join(str(part) for part in (pii.get("firstname"), pii.get("lastname")) if part)

    @property
    def email(self) -> str | None:
        # A workflow may write any JSON anywhere: a text where an object belongs is no e-mail.
        return _object_at(self.data, "contact", "email").get("main")


def _object_at(document, *keys: str) -> dict:
    """The object at `keys` of a JSON document, or {} where something else is in the way."""
    node = document
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


class Session(models.Model):
    class Status(models.TextChoices):
        STARTED = "started"
        ENDED = "ended"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    # No single-column index: session_profile_updated leads with the profile.
    profile = models.ForeignKey(
        Profile,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sessions",
        db_index=False,
    )
    created = models.DateTimeField()
    updated = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    is_bot = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    device = models.JSONField(default=dict, blank=True)
    os = models.JSONField(default=dict, blank=True)
    app = models.JSONField(default=dict, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["profile", "-updated"], name="session_profile_updated"),
            # The admin's session list, newest activity first.
            models.Index(fields=["-updated"], name="session_updated"),
            # The visit-end job's open sessions, oldest activity first.
            models.Index(
                fields=["updated"],
                name="session_open_updated",
                condition=models.Q(status="started"),
            ),
        ]

    def __str__(self) -> str:
        return self.id


class MergeRecord(models.Model):
    """One merge of profiles, with what is needed to undo it exactly.

    JSON shapes:
    - survivor_before: the survivor's row before the merge (every column, datetimes as ISO
      text), as `services.merge.profile_row_snapshot` writes it.
    - merged_profiles: [snapshot, ...] of the profiles merged into the survivor (now deleted).
    - repointed: {"events" | "sessions" | "workflow_runs" | "deliveries":
      {"<merged profile id>": ["<row id>", ...]}}: the rows moved to the survivor.
    """

    class Status(models.TextChoices):
        MERGED = "merged"
        UNDONE = "undone"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    survivor_id = models.CharField(max_length=64)
    merged_ids = ArrayField(models.CharField(max_length=64))
    reason = models.TextField(blank=True)
    actor = models.CharField(max_length=200)
    created = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.MERGED)
    survivor_before = models.JSONField()
    merged_profiles = models.JSONField()
    repointed = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["survivor_id", "-created"], name="mergerecord_survivor"),
            GinIndex(fields=["merged_ids"], name="mergerecord_merged_ids_gin"),
            models.Index(fields=["-created"], name="mergerecord_created"),
        ]

    def __str__(self) -> str:
        return f"{', '.join(self.merged_ids)} into {self.survivor_id}"


class ErasureRecord(models.Model):
    """That a person is (being) forgotten: their profile ids (so that they never resolve again,
    from the moment the erasure starts), when, by whom and how many rows went so far. No
    personal data. The erasure itself runs in the background (services.erasure)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    # The erased profile's own id first, then the ids merged into it.
    profile_ids = ArrayField(models.CharField(max_length=64))
    actor = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    # Written by every batch: a running erasure whose heartbeat is old lost its worker and is
    # resumed by the beat sweep.
    heartbeat_at = models.DateTimeField()
    erased_at = models.DateTimeField(null=True, blank=True, help_text="When it finished.")
    # Rows deleted so far: {"profiles": n, "sessions": n, "events": n, "workflow_runs": n,
    #  "deliveries": n, "merge_records": n}
    deleted = models.JSONField(default=dict)
    # Deletion requests recorded for destinations that forward erasures.
    deletion_requests = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            GinIndex(fields=["profile_ids"], name="erasurerecord_profile_ids_gin"),
            models.Index(
                fields=["heartbeat_at"],
                name="erasurerecord_running",
                condition=models.Q(status="running"),
            ),
        ]

    def __str__(self) -> str:
        return f"erasure of {self.profile_ids[0] if self.profile_ids else '?'}"


class Segment(models.Model):
    """A named condition over profiles. A profile in the segment carries the segment's slug in
    `Profile.segments`. Live segments are re-evaluated on every profile change; scheduled ones
    by a periodic sweep over all profiles, as are live ones whose condition reads the events
    over time (`time_dependent`). Either kind is evaluated over all existing profiles
    in the background when it is created or its condition changes, and on demand; the
    `evaluation_*` fields follow the latest such evaluation."""

    class Kind(models.TextChoices):
        LIVE = "live", "Live (on every profile change)"
        SCHEDULED = "scheduled", "Scheduled (periodic sweep over all profiles)"

    class EvaluationStatus(models.TextChoices):
        NONE = "", "Not evaluated yet"
        RUNNING = "running", "Evaluating"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200, unique=True)
    slug = models.CharField(
        max_length=200,
        unique=True,
        editable=False,
        help_text="What profiles carry in `segments`: the name, lower case, spaces as '-'.",
    )
    description = models.TextField(blank=True)
    condition = models.TextField(
        help_text="Logic notation over the profile, e.g. profile@stats.visits > 3 AND "
        "profile@data.contact.email.main EXISTS. Filled by the CDP: profile@stats.visits "
        "(visits), profile@stats.views (page views), profile@metadata.time.visit.current "
        "(this visit's start); traits, data and interests come from your event mappings and "
        'workflows. Over the person\'s events: count(events type "purchase" in last 7 days) > 2, '
        'sum(event@properties.price type "purchase" last 30 days) >= 100, '
        'days_since(events type "purchase") > 30.'
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.LIVE)
    enabled = models.BooleanField(default=True)
    # Set on save from the condition (services.segments.segment_save).
    time_dependent = models.BooleanField(
        default=False,
        editable=False,
        help_text="The condition reads the profile's events over time (count(events ...), "
        "days_since(...)), so membership changes as time passes: the scheduled sweep "
        "re-evaluates it, live or not.",
    )
    last_evaluated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the last evaluation over all profiles (a sweep) finished.",
    )
    # The latest evaluation over all profiles (services.segments: segment_evaluation_begin).
    evaluation_run = models.CharField(max_length=64, blank=True, editable=False)
    evaluation_status = models.CharField(
        max_length=16, choices=EvaluationStatus.choices, blank=True, default="", editable=False
    )
    evaluation_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Profiles when it started (exact up to 100,000, else PostgreSQL's estimate) and so far.
    evaluation_total = models.PositiveBigIntegerField(default=0, editable=False)
    evaluation_done = models.PositiveBigIntegerField(default=0, editable=False)
    evaluation_error = models.TextField(blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = segment_errors(self)
        if errors:
            raise ValidationError(errors)


class IdentificationPoint(models.Model):
    """When an event of this type (from this source, or any) carries these identifiers, the
    event's profile is merged into the profile that already holds them.

    fields: [{"profile": "data.contact.email.main", "event": "properties.email"}, ...]; all
    pairs must match (an AND), and an event missing any of them identifies nobody.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.ForeignKey(
        "sources.EventSource",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="identification_points",
        help_text="Empty: events of this type from any source.",
    )
    event_type = models.CharField(max_length=100, help_text="e.g. identification, sign-in")
    fields = models.JSONField(
        default=list,
        help_text='Pairs of profile field and event property, e.g. [{"profile": '
        '"data.contact.email.main", "event": "properties.email"}]',
    )
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["event_type"], name="identpoint_event_type")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = identification_point_errors(self)
        if errors:
            raise ValidationError(errors)


class ConsentType(models.Model):
    """A kind of consent a visitor can give (Tracardi's consent types): the consent bar offers
    the enabled ones, and a granted one is kept in `Profile.consents[<id>]` as
    {"grant": iso time, "revoke": iso time or null}."""

    id = models.SlugField(
        primary_key=True,
        max_length=64,
        help_text="How profiles, the consent bar and workflows name it, e.g. marketing: "
        "lower-case letters, digits, '-' or '_'. It cannot change once saved.",
    )
    name = models.CharField(max_length=200, help_text="What the visitor reads, e.g. Newsletter.")
    description = models.TextField(
        blank=True, help_text="One or two sentences the consent bar shows under the name."
    )
    enabled = models.BooleanField(default=True, help_text="Offered by the consent bar.")
    revokable = models.BooleanField(default=True, help_text="The visitor may take it back later.")
    default_granted = models.BooleanField(
        default=False, help_text="Ticked in the consent bar before the visitor chooses."
    )
    required = models.BooleanField(
        default=False,
        help_text="The visitor cannot untick it (e.g. cookies the site needs to work).",
    )
    auto_revoke_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Revoke a grant this many days after it was given. Empty: never.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConsentEntry(TypedDict, total=False):
    """One value of `Profile.consents`: ISO times; `revoke` null means it never expires."""

    grant: str | None
    revoke: str | None


class ConsentChange(models.Model):
    """One grant or revoke of a consent of a profile, as it happened: by the visitor (a
    `consent-given` event), a workflow action, the auto-revoke job or an admin edit. It follows
    its profile through merges (the survivor keeps it) and goes with it on erasure."""

    class Action(models.TextChoices):
        GRANTED = "granted", "Granted"
        REVOKED = "revoked", "Revoked"

    class Via(models.TextChoices):
        EVENT = "event", "The visitor (consent event)"
        WORKFLOW = "workflow", "A workflow action"
        AUTO_REVOKE = "auto-revoke", "Auto-revoke (expired)"
        ADMIN = "admin", "An admin edit"

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="consent_changes", db_index=False
    )
    # The type's id as text, not a key: the history outlives a deleted consent type.
    consent_type = models.CharField(max_length=64)
    action = models.CharField(max_length=8, choices=Action.choices)
    at = models.DateTimeField(help_text="When it was granted or revoked.")
    via = models.CharField(max_length=16, choices=Via.choices)
    # The event id, "auto-revoke", or the admin user's name.
    by = models.CharField(max_length=200, blank=True)
    revoke_at = models.DateTimeField(
        null=True, blank=True, help_text="A grant: when it expires (empty: never)."
    )

    class Meta:
        indexes = [models.Index(fields=["profile", "-at", "-id"], name="consentchange_profile_at")]

    def __str__(self) -> str:
        return f"{self.consent_type} {self.action} at {self.at:%Y-%m-%d %H:%M}"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Not started"
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ImportJobBase(models.Model):
    """What every import started from the admin has (profiles here, events in the tracking
    app): the uploaded file, the status, progress and skipped rows of its background job, who
    started and who cancelled it, why it failed, its error file (services.imports.jobs)."""

    Status = ImportStatus

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    file_name = models.CharField(max_length=255, help_text="The name of the uploaded file.")
    file_size = models.PositiveBigIntegerField(default=0)
    format = models.CharField(max_length=8)
    encoding = models.CharField(max_length=32, default="utf-8")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    rows_total = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Rows in the file, when counted before the import."
    )
    rows = models.PositiveBigIntegerField(default=0, help_text="Rows read so far.")
    skipped = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0.0, help_text="Import time so far.")
    uploaded_at = models.DateTimeField()
    uploaded_by = models.CharField(max_length=150)
    started_by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with the progress: a running job whose progress is old lost its worker.
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set by Cancel while the job runs; the job stops after its current batch.
    cancel_requested_by = models.CharField(max_length=150, blank=True)
    error = models.TextField(blank=True, help_text="Why the import failed or was cancelled.")
    error_file = models.FileField(upload_to="imports/errors/", max_length=300, blank=True)

    # The counts of the import's summary that the job keeps (besides rows and skipped).
    COUNTS: tuple[str, ...] = ()
    # How re-importing the file behaves, for the message of a job whose worker died.
    AGAIN = ""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"import of {self.file_name}"


class ImportJob(ImportJobBase):
    """A profile import started from the admin: how the file's columns map to profile fields,
    how rows find their profile, and the counts."""

    class Kind(models.TextChoices):
        PROFILES = "profiles", "Profiles"

    class Empty(models.TextChoices):
        KEEP = "keep", "Keep the stored value"
        CLEAR = "clear", "Clear the stored value"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PROFILES)
    # The columns of the file (CSV header, or the keys of the first JSON rows), in order.
    columns = models.JSONField(default=list)
    # {column: profile field path ("data.contact.email.main", "traits.plan") or "" (ignored)}
    mapping = models.JSONField(default=dict)
    # "id", or the identifier field rows are matched by (e.g. "data.contact.email.main").
    match = models.CharField(max_length=200, default="id")
    empty = models.CharField(max_length=8, choices=Empty.choices, default=Empty.KEEP)
    created = models.PositiveBigIntegerField(default=0)
    updated = models.PositiveBigIntegerField(default=0)
    unchanged = models.PositiveBigIntegerField(default=0)
    merged = models.PositiveBigIntegerField(default=0)

    COUNTS = ("created", "updated", "unchanged", "merged")
    AGAIN = "matched by id or e-mail, rows already imported change nothing"

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = "import"
        indexes = [
            models.Index(
                fields=["progress_at"],
                name="importjob_running",
                condition=models.Q(status="running"),
            ),
        ]


class SegmentTransition(models.Model):
    """That a profile entered or left a segment: one row per real change of membership,
    written in the transaction of the change (apps.profiles.services.segment_history). The
    profile page shows them as its segment history; they go with the profile (cascade on
    erasure and purge) and move to the survivor of a merge."""

    class Cause(models.TextChoices):
        LIVE = "live", "Live segmentation (a profile change)"
        SWEEP = "sweep", "Evaluation over all profiles"
        WORKFLOW = "workflow", "Workflow"
        MERGE = "merge", "Profile merge"
        # Kept for a change of membership by hand in the admin, which nothing offers yet.
        ADMIN = "admin", "By hand in the admin"

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="segment_transitions", db_index=False
    )
    # The slug profiles carry in `segments`, and the segment's name when it happened (the
    # slug itself for a segment no Segment row defines).
    segment = models.CharField(max_length=200)
    segment_name = models.CharField(max_length=200)
    entered = models.BooleanField(help_text="True: entered the segment; false: left it.")
    at = models.DateTimeField()
    cause = models.CharField(max_length=16, choices=Cause.choices)

    class Meta:
        indexes = [
            # The profile page's history, newest first; also serves the cascade on the profile.
            models.Index(fields=["profile", "-at"], name="segtransition_profile_at"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} {'entered' if self.entered else 'left'} {self.segment}"


class Entity(models.Model):
    """A thing a person has, as Tracardi's entities: an order, a subscription, a car. `id` is
    the entity's own id (an order number; unique across types, as in Tracardi), `type` what it
    is, `properties` its free-form data and `traits` the typed, searchable part; both open
    objects. It follows its profile (merge, undo, erasure: apps.profiles.hooks); an entity of
    no profile (a product, a store) is shared.

    Document (apps.profiles.documents.entity_document): {"id", "type", "profile": {"id"},
    "properties", "traits", "metadata": {"time": {"insert", "create", "update"}}}."""

    id = models.CharField(primary_key=True, max_length=64)
    type = models.CharField(max_length=100)
    profile = models.ForeignKey(
        Profile,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="entities",
        # The (profile, type) index below serves every lookup by profile.
        db_index=False,
    )
    properties = models.JSONField(default=dict, blank=True)
    traits = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField()
    updated = models.DateTimeField()

    class Meta:
        verbose_name_plural = "entities"
        indexes = [
            # A profile's entities (of a type): the profile page, workflows, merges, erasure.
            models.Index(fields=["profile", "type"], name="entity_profile_type"),
            # The admin's and the API's lists of one type, latest change first.
            models.Index(fields=["type", "-updated"], name="entity_type_updated"),
            models.Index(fields=["-updated", "id"], name="entity_updated_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
