"""``ecom run``: the whole pipeline on one machine, ending in a reconciliation report.

:mod:`ecom.run.pipeline` runs the stages (generate, AWS, produce, sink, load, dbt build,
dbt docs) and :mod:`ecom.run.reconcile` checks that what entered is what reached the marts,
naming the first stage where the counts diverge. See ``docs/reconciliation.md``.
"""
