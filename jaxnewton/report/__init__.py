"""What the studies share to present their results: below the studies, above the engine and tools.

- ``table``: ``Row``, ``Cells`` and ``Figure`` (what a study declares for the results table), the full
  table of ``REPORT.md`` and the README's short one.
- ``document``: ``results/REPORT.md``.
- ``figures``: the PNG writer, the outcome colours and the 2-D field panels.

``jaxnewton.paper`` (above the studies) collects every study's rows and runs into ``make paper``.
"""
