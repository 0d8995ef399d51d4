"""Workflow actions that call other systems through a Resource (issue 19): one module per vendor
family, on the shared base in `base`."""
