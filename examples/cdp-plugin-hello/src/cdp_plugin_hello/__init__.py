"""An example CDP plugin (docs/plugins.md): the Say hello action and the Hello inbox
destination."""
