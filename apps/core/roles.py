"""Tracardi's roles as Django groups: who may do what in the admin and the management API.

ROLES below is the one table. Each row is a model of the admin, each column a role, each cell
what that role may do with the model: v(iew), a(dd), c(hange), d(elete), or "" for nothing.
A model registered in the admin must have a row (tests/admin/test_roles.py fails otherwise),
so a new model is placed deliberately, not forgotten.

The groups are installed by the data migration core/0002_roles and kept in step with this
table after every `migrate` (a post_migrate handler, see apps.core.apps), so `run.py start`,
the Procfile's release step and the test database all apply it; `manage.py sync_roles` applies
it by hand. Syncing sets each group's permissions to exactly what the table says: a
permission given by hand to a role's group is taken away at the next sync (give it to the
user, or add a role, instead). Superusers are not in any group: they may do everything.
"""

from dataclasses import dataclass

MARKETER, DEVELOPER, MAINTAINER, ANALYST = "Marketer", "Developer", "Maintainer", "Analyst"


@dataclass(frozen=True)
class Role:
    name: str
    slug: str  # what `manage.py create_user --role` takes
    description: str


ROLE_LIST = (
    Role(
        MARKETER,
        "marketer",
        "Profiles, segments, workflows and rules, destinations, consents, reports.",
    ),
    Role(
        DEVELOPER,
        "developer",
        "Event sources, event types, resources, API keys, identification points.",
    ),
    Role(
        MAINTAINER,
        "maintainer",
        "Users and groups, schedules, imports and the system's records (erasures, purges).",
    ),
    Role(ANALYST, "analyst", "Reads what the marketer sees, and reports."),
)
ROLE_BY_SLUG = {role.slug: role for role in ROLE_LIST}

# (app label, model name) -> what each role may do, in the order of COLUMNS.
COLUMNS = (MARKETER, DEVELOPER, MAINTAINER, ANALYST)
# A table: aligned columns read better than the formatter's layout.
# fmt: off
ROLES: dict[tuple[str, str], tuple[str, str, str, str]] = {
    # model                                     Marketer     Developer     Maintainer     Analyst
    # Collect: developers wire the traffic in; marketers see sources to route rules by them.
    ("sources", "eventsource"):                 ("v",        "vacd",      "",           "v"),
    ("sources", "redirectlink"):                ("v",        "vacd",      "",           "v"),
    ("events", "eventtype"):                    ("v",        "vacd",      "",           "v"),
    ("events", "quarantinedevent"):             ("",         "vcd",       "",           ""),
    ("profiles", "identificationpoint"):        ("",         "vacd",      "",           ""),
    ("profiles", "importjob"):                  ("",         "",          "vacd",       ""),
    ("events", "eventimportjob"):               ("",         "",          "vacd",       ""),
    # Understand: the marketer's people; developers see events to debug what comes in.
    ("profiles", "profile"):                    ("vacd",     "",          "",           "v"),
    ("profiles", "session"):                    ("v",        "",          "",           "v"),
    ("events", "event"):                        ("v",        "v",         "",           "v"),
    ("profiles", "entity"):                     ("vacd",     "",          "",           "v"),
    ("profiles", "segment"):                    ("vacd",     "",          "",           "v"),
    ("reports", "report"):                      ("vacd",     "",          "",           "v"),
    ("profiles", "consenttype"):                ("vacd",     "",          "",           "v"),
    ("profiles", "mergerecord"):                ("v",        "",          "v",          "v"),
    # Activate: the marketer's work; resources (credentials) are the developer's.
    ("workflows", "workflow"):                  ("vacd",     "",          "",           "v"),
    ("workflows", "rule"):                      ("vacd",     "",          "",           "v"),
    ("workflows", "workflowrun"):               ("v",        "",          "",           "v"),
    # Waiting branches of runs: marketers resume or cancel them (change).
    ("workflows", "parkedrun"):                 ("vc",       "",          "",           "v"),
    ("workflows", "workflowschedule"):          ("vacd",     "",          "vacd",       "v"),
    ("destinations", "destination"):            ("vacd",     "",          "",           "v"),
    ("destinations", "resource"):               ("v",        "vacd",      "",           "v"),
    ("destinations", "delivery"):               ("vc",       "",          "",           "v"),
    ("destinations", "destinationsyncrun"):     ("v",        "",          "",           "v"),
    # System. API keys are never changed, only made and revoked: no "c".
    ("auth", "user"):                           ("",         "",          "vacd",       ""),
    ("auth", "group"):                          ("",         "",          "vacd",       ""),
    ("api", "apikey"):                          ("",         "vad",       "",           ""),
    ("profiles", "erasurerecord"):              ("",         "",          "v",          ""),
    ("tracking", "purgerecord"):                ("",         "",          "v",          ""),
    ("django_celery_beat", "periodictask"):     ("",         "",          "vacd",       ""),
    ("django_celery_beat", "crontabschedule"):  ("",         "",          "vacd",       ""),
    ("django_celery_beat", "intervalschedule"): ("",         "",          "vacd",       ""),
    ("django_celery_beat", "clockedschedule"):  ("",         "",          "vacd",       ""),
    ("django_celery_beat", "solarschedule"):    ("",         "",          "vacd",       ""),
}
# fmt: on

ACTIONS = {"v": "view", "a": "add", "c": "change", "d": "delete"}


def role_actions(role_name: str, app_label: str, model_name: str) -> set[str]:
    """What the role may do with the model ("view", "add"...): empty for a model in no row."""
    cells = ROLES.get((app_label, model_name))
    if cells is None:
        return set()
    return {ACTIONS[letter] for letter in cells[COLUMNS.index(role_name)]}


def role_permissions(role_name: str) -> set[tuple[str, str]]:
    """The role's permissions as (app label, codename) pairs, codename as Django names them."""
    return {
        (app_label, f"{action}_{model_name}")
        for (app_label, model_name) in ROLES
        for action in role_actions(role_name, app_label, model_name)
    }
