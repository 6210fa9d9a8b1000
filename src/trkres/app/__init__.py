"""``trkres serve``: a local web app over everything trkres does.

Modules: store (DuckDB + content-addressed files), studies (a project's study ⇄
study.yaml and zips), service (uploads, imports, runs), runs (the worker pool),
worker (what a worker process does), security (token, hosts, CSRF, limits),
server (FastAPI routes and pages), compare, examples. See docs/app.md.

Needs the ``app`` extra: ``pip install "trkres[app]"``.
"""
