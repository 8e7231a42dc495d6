"""Data exports of a class's history; ProgSnap2 (issue 9) is the first format.

`progsnap2` maps events to rows (pure), `pseudonym` makes subject ids shareable, `zipstream` writes
a zip front to back, and `archive` puts them together for the HTTP route and the command line.
"""
