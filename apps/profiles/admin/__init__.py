"""The profiles admin: profiles and sessions (profiles.py, with the person page of person.py and
the edit page of edit.py), segments, identification points, merge and erasure records
(segments.py), consent types (consents.py), entities (entities.py) and imports from files
(imports.py). Importing the package registers them all."""

from apps.profiles.admin import consents, entities, imports, profiles, segments  # noqa: F401  (registers the ModelAdmins)
