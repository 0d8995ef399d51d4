"""/docs/: the built documentation site, or how to build it when it is not there.

Django's static `serve` is enough here: the manual is a few megabytes of static files read by
the people who use the admin, not traffic that needs a file server of its own."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.static import serve

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Documentation not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The documentation is not built yet</h1>
<p>Build it once on this server, from the project's folder:</p>
<pre>python3 run.py docs</pre>
<p>It is written from <code>docs/</code> into <code>{root}</code>, which this page then serves.
Deployments build it in the release step (the Procfile's <code>release</code>).</p>
</body></html>
"""


def docs_view(request: HttpRequest, path: str = "") -> HttpResponse:
    root = Path(settings.CDP_DOCS_ROOT)
    if not (root / "index.html").exists():
        return HttpResponse(NOT_BUILT.format(root=root), status=404)
    if path and (root / path).is_dir() and not path.endswith("/"):
        # MkDocs links pages as directories (concepts/notation/); keep relative links working.
        return HttpResponseRedirect(request.path + "/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    try:
        return serve(request, path, document_root=str(root))
    except SuspiciousFileOperation:  # a path that climbs out of the site (../)
        raise Http404(path) from None
