from tests.support.plugins import plugin_site, with_plugins  # noqa: F401  (fixtures)
