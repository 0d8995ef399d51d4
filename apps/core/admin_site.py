"""The admin site, its index and navigation grouped by the marketer's work instead of by
Django app: Collect (what comes in), Understand (people and what they did), Activate (what
the CDP does with it) and System. Each user sees the models their permissions reach (their
role's, apps.core.roles): a section with none of them is left out."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

# (section, [(app label, model name), ...]) in the order they are listed.
SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Collect",
        (
            ("sources", "EventSource"),
            ("events", "EventType"),
            ("events", "QuarantinedEvent"),
            ("profiles", "IdentificationPoint"),
            ("profiles", "ImportJob"),
            ("events", "EventImportJob"),
            ("sources", "RedirectLink"),
        ),
    ),
    (
        "Understand",
        (
            ("profiles", "Profile"),
            ("profiles", "Session"),
            ("events", "Event"),
            ("profiles", "Entity"),
            ("profiles", "Segment"),
            ("profiles", "ConsentType"),
            ("profiles", "MergeRecord"),
            ("reports", "Report"),
        ),
    ),
    (
        "Activate",
        (
            ("workflows", "Workflow"),
            ("workflows", "Rule"),
            ("workflows", "WorkflowRun"),
            ("workflows", "WorkflowSchedule"),
            ("workflows", "ParkedRun"),
            ("destinations", "Destination"),
            ("destinations", "Resource"),
            ("destinations", "Delivery"),
            ("destinations", "DestinationSyncRun"),
        ),
    ),
    (
        "System",
        (
            ("auth", "User"),
            ("auth", "Group"),
            ("api", "ApiKey"),
            ("profiles", "ErasureRecord"),
            ("tracking", "PurgeRecord"),
        ),
    ),
)
# A model not listed above goes to its app's section (System for any other app).
APP_SECTIONS = {
    "sources": "Collect",
    "events": "Understand",
    "profiles": "Understand",
    "workflows": "Activate",
    "destinations": "Activate",
    "reports": "Understand",
}


class CdpAdminSite(admin.AdminSite):
    site_header = "CDP administration"
    site_title = "CDP admin"
    index_title = "Traffic and configuration"
    # "View site": the page showing the tracker at work on this CDP (staff may open it).
    site_url = "/tracker/demo/"

    def get_app_list(self, request, app_label=None):
        if app_label is not None:
            return super().get_app_list(request, app_label)
        by_key = {}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                by_key[(app["app_label"], model["object_name"])] = model
        # The listed models first, for every section: a section's leftovers must not take a
        # model another section lists (profiles' ErasureRecord is System's, not Understand's).
        listed = {
            name: [by_key.pop(key) for key in keys if key in by_key] for name, keys in SECTIONS
        }
        sections = []
        for name, _ in SECTIONS:
            models = listed[name]
            models += sorted(
                (
                    by_key.pop(key)
                    for key in list(by_key)
                    if APP_SECTIONS.get(key[0], "System") == name
                ),
                key=lambda model: model["name"],
            )
            if models:
                sections.append(
                    {
                        "name": name,
                        "app_label": name.lower(),
                        "app_url": models[0]["admin_url"],
                        "has_module_perms": True,
                        "models": models,
                    }
                )
        return sections


class CdpAdminConfig(AdminConfig):
    default_site = "apps.core.admin_site.CdpAdminSite"
