"""Writes of the workflows app: workflow saves, event processing, test runs, replays."""
