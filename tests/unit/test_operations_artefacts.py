"""The operator's artefacts stay true: the Grafana dashboard and the alert rules parse, use only
metrics the BFF exports (with their labels and values), and every runbook link lands on a
section of docs/operations.md (devtools/check_ops.py)."""

from devtools.check_ops import problems


def test_the_dashboard_alerts_and_runbook_agree_with_the_metrics():
    assert problems() == []
