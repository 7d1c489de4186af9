"""Explain SQLAlchemy's implicit-IO failures like a reviewer would.

An async SQLAlchemy app fails with ``MissingGreenlet`` whenever a plain
attribute read, or a sync call, needs the database. The traceback points deep
into SQLAlchemy; this package says what a reviewer would: which attribute of
which instance, the line of your code that read it, why it was not loaded
(a lazy relationship, the second hop of a loader option, a commit, an UPDATE,
a deferred column, a sync Session on an async driver, a closed session), the
fix that fits (with the query or the flush it goes to), and the rule it
breaks.

* ``pytest -p implicit_io.plugin``: the same explanations in your own suite.
* ``implicit_io.recorder``: the SQLAlchemy events that record the facts.
* ``implicit_io.explain``: from an exception and those facts to plain data.
* ``implicit_io.text``: from that data to the words you read.

The kata runner (``python -m runner check``) uses the same pieces.
"""

__version__ = "0.1.0"
