"""The monthly report (docs/reports.md): ``report.monthly`` and ``report.approve``.

facts (thin reads of the history) -> build (pure: the report's data) -> charts and html
(render) -> files (kept, atomically) -> task (the two tasks, and the message sent).
"""
