"""The documentation site: reference pages generated from the code's registries (`reference`),
and the build of `docs/` into a static site with MkDocs (`build`). `python3 run.py docs` does
both; CI regenerates the reference and fails when the committed pages differ."""
