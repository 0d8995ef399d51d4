"""The UX widgets' scripts: built from static/tracker/src/widgets/ and served under
/tracker/widgets/, where the tracker loads them from (see test_widgets_browser.py)."""

import pytest
from django.test import Client

from apps.tracking.snippet import BUILD_DIR, WIDGET_NAMES, tracker_build


@pytest.mark.parametrize("widget", WIDGET_NAMES)
def test_each_widget_is_served_as_one_self_contained_script(widget, db):
    tracker_build()

    response = Client().get(f"/tracker/widgets/{widget}.js", HTTP_ORIGIN="https://shop.example")

    code = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert code == (BUILD_DIR / "widgets" / f"{widget}.js").read_text()
    assert code.startswith(f"/*! CDP widgets/{widget}.js ")
    # One closure with the shared code and the widget's own registration.
    assert code.splitlines()[1].startswith('(function(win,doc){"use strict";')
    assert code.rstrip().endswith("})(window,document);")
    assert "function widgetStart(name,render)" in code
    assert f'widgetStart("{widget}",' in code


@pytest.mark.parametrize("name", ["other.js", "rating", "base.js", "..%2Findex.js"])
def test_an_unknown_widget_is_404(name, db):
    response = Client().get(f"/tracker/widgets/{name}")

    assert response.status_code == 404


def test_the_build_is_reproducible(tmp_path):
    first = tracker_build(build_dir=tmp_path / "one")
    second = tracker_build(build_dir=tmp_path / "two")

    assert {name: path.read_bytes() for name, path in first.items()} == {
        name: path.read_bytes() for name, path in second.items()
    }
    assert sorted(first) == [
        "index.js",
        "index.min.js",
        "loader.js",
        "loader.min.js",
        "widgets/consent.js",
        "widgets/contact.js",
        "widgets/message.js",
        "widgets/question.js",
        "widgets/rating.js",
    ]
