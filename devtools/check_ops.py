"""Check the operator's artefacts against the BFF's metrics and docs/operations.md.

`.venv/bin/python -m devtools.check_ops` checks that:

- `ops/grafana/bff-dashboard.json` is valid JSON, takes its Prometheus data source from the
  `DS_PROMETHEUS` variable, and has unique panel ids and a query on every panel;
- `ops/prometheus/alerts.yml` is valid YAML in Prometheus's groups/rules format, and every alert
  has a severity, a `summary`, a `description` and a `runbook_url`;
- every PromQL query of both (and every templating query) names only the metrics in `METRICS`
  (a histogram through its `_bucket`, `_count` or `_sum` series), matches and groups only by their
  labels (plus `job` and `instance`, which Prometheus adds, and `le` on buckets), and compares
  enumerated labels (`status_class`, `outcome`, `scope`...) only with values they can take;
- every link to `docs/operations.md#...` in either file, every `runbook_url`, and every link of
  docs/operations.md itself (to its own sections and to the other docs) lands on a heading that
  exists;
- docs/operations.md names every metric and every alert;
- `METRICS` is what `app/observability/metrics.py` registers (names, types, labels), its
  outcomes are the gateway's (`success`, `convex_error`, `aborted` and every `UpstreamError`
  code) and its scopes the rate limiter's.

It prints what it checked, then each problem, and exits 1 when there is any; `problems()` returns
the list (empty when all is well), for a test.
"""

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = Path("ops/grafana/bff-dashboard.json")
ALERTS = Path("ops/prometheus/alerts.yml")
OPERATIONS = Path("docs/operations.md")

# -- the metrics the BFF exports (docs/operations.md, "What the BFF exposes") --------------------

KINDS = frozenset({"query", "mutation", "action"})
OUTCOMES = frozenset(
    {
        "success",
        "convex_error",
        "upstream_error",
        "upstream_unavailable",
        "write_conflict",
        "upstream_timeout",
        "outcome_unknown",
        "aborted",
    }
)


@dataclass(frozen=True)
class Metric:
    type: str
    # label -> the values it can take, or None when it is open (bounded, but not a fixed list)
    labels: dict[str, frozenset[str] | None] = field(default_factory=dict)


METRICS: dict[str, Metric] = {
    "bff_requests_total": Metric(
        "counter", {"method": None, "route": None, "status_class": frozenset({"2xx", "3xx", "4xx", "5xx"})}
    ),
    "bff_request_duration_seconds": Metric("histogram", {"method": None, "route": None}),
    "bff_convex_calls_total": Metric("counter", {"function": None, "kind": KINDS, "outcome": OUTCOMES}),
    "bff_convex_call_duration_seconds": Metric("histogram", {"kind": KINDS}),
    "bff_circuit_breaker_open": Metric("gauge"),
    "bff_rate_limit_refusals_total": Metric(
        "counter", {"scope": frozenset({"principal_or_client", "source", "lookup"})}
    ),
    "bff_idempotency_replays_total": Metric("counter"),
    "bff_live_streams_open": Metric("gauge"),
    "bff_actor_cache_total": Metric("counter", {"result": frozenset({"hit", "miss"})}),
    "bff_webhook_attempts_total": Metric(
        "counter", {"type": None, "outcome": frozenset({"delivered", "retry", "failed", "stale"})}
    ),
    "bff_webhook_attempt_duration_seconds": Metric("histogram"),
    "bff_webhook_delivery_delay_seconds": Metric("histogram"),
}
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = frozenset({"job", "instance"})
HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")
SEVERITIES = frozenset({"critical", "warning", "info"})


def series_labels(name: str) -> dict[str, frozenset[str] | None] | None:
    """The labels of one exported series (`bff_request_duration_seconds_bucket`...), or None when
    the BFF exports no series of that name."""
    metric = METRICS.get(name)
    if metric is not None:
        return None if metric.type == "histogram" else {**metric.labels}
    for suffix in HISTOGRAM_SERIES:
        base = METRICS.get(name.removesuffix(suffix))
        if name.endswith(suffix) and base is not None and base.type == "histogram":
            return {**base.labels, "le": None} if suffix == "_bucket" else {**base.labels}
    return None


# -- PromQL, read just enough to find metric names, matchers and grouping labels -----------------

AGGREGATIONS = frozenset(
    {
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    }
)
FUNCTIONS = frozenset(
    {
        "abs",
        "absent",
        "absent_over_time",
        "avg_over_time",
        "ceil",
        "changes",
        "clamp",
        "clamp_max",
        "clamp_min",
        "count_over_time",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "delta",
        "deriv",
        "exp",
        "floor",
        "group_over_time",
        "histogram_avg",
        "histogram_count",
        "histogram_fraction",
        "histogram_quantile",
        "histogram_stddev",
        "histogram_stdvar",
        "histogram_sum",
        "holt_winters",
        "hour",
        "idelta",
        "increase",
        "irate",
        "label_join",
        "label_replace",
        "last_over_time",
        "ln",
        "log10",
        "log2",
        "mad_over_time",
        "max_over_time",
        "min_over_time",
        "minute",
        "month",
        "predict_linear",
        "present_over_time",
        "quantile_over_time",
        "rate",
        "resets",
        "round",
        "scalar",
        "sgn",
        "sort",
        "sort_desc",
        "sort_by_label",
        "sort_by_label_desc",
        "sqrt",
        "stddev_over_time",
        "stdvar_over_time",
        "sum_over_time",
        "time",
        "timestamp",
        "vector",
        "year",
    }
)
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "atan2"})

TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<var>\$\{[^}]*\}|\$\w+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:ms|[smhdwy])*)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}\[\]@])
    """,
    re.VERBOSE,
)


@dataclass
class Query:
    """What one PromQL expression uses."""

    series: list[str] = field(default_factory=list)
    # (series, label, operator, value)
    matchers: list[tuple[str, str, str, str]] = field(default_factory=list)
    grouping: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def tokens(expr: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while at < len(expr):
        match = TOKEN.match(expr, at)
        if match is None:
            raise ValueError(f"cannot read {expr[at : at + 20]!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            found.append((kind, match.group()))
        at = match.end()
    return found


def parse(expr: str) -> Query:
    query = Query()
    try:
        toks = tokens(expr)
    except ValueError as exc:
        query.errors.append(str(exc))
        return query
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        following = toks[i + 1][1] if i + 1 < len(toks) else ""
        if text == "[":  # a range or subquery: durations and Grafana variables only
            i = _skip_to(toks, i, "]")
        elif kind == "ident" and text in GROUPING and following == "(":
            end = _skip_to(toks, i + 1, ")")
            query.grouping += [t for k, t in toks[i + 2 : end] if k == "ident"]
            i = end
        elif kind == "ident" and text in AGGREGATIONS and following in ("(", "by", "without"):
            pass  # `sum by (le) (...)` or `sum(...) by (le)`
        elif kind == "ident" and following == "(" and text not in KEYWORDS:
            if text not in FUNCTIONS:
                query.errors.append(f"unknown function {text}")
        elif kind == "ident" and text not in KEYWORDS:
            query.series.append(text)
            if following == "{":
                i = _matchers(toks, i + 1, text, query)
        elif text == "{":
            query.errors.append("a selector without a metric name")
            i = _skip_to(toks, i, "}")
        i += 1
    return query


def _skip_to(toks: list[tuple[str, str]], start: int, closing: str) -> int:
    for at in range(start, len(toks)):
        if toks[at][1] == closing:
            return at
    opening = toks[start][1] if start < len(toks) else ""
    raise ValueError(f"no {closing!r} after {opening!r}")


def _matchers(toks: list[tuple[str, str]], start: int, series: str, query: Query) -> int:
    """Read `{label op "value", ...}` from toks[start] (the brace); return the closing brace's index."""
    end = _skip_to(toks, start, "}")
    inside = [t for t in toks[start + 1 : end] if t[1] != ","]
    for at in range(0, len(inside) - 2, 3):
        (_, label), (_, operator), (value_kind, value) = inside[at : at + 3]
        if value_kind != "string":
            query.errors.append(f"matcher {label}{operator}{value} of {series} is not label, operator, string")
            continue
        query.matchers.append((series, label, operator, value[1:-1]))
    if len(inside) % 3:
        query.errors.append(f"cannot read the matchers of {series}")
    return end


def check_expr(expr: str) -> list[str]:
    """Problems of one PromQL expression against METRICS (Grafana variables are left alone)."""
    try:
        query = parse(expr)
    except ValueError as exc:
        return [str(exc)]
    problems = list(query.errors)
    known: dict[str, frozenset[str] | None] = dict.fromkeys(TARGET_LABELS)
    for name in query.series:
        labels = series_labels(name)
        if labels is None:
            hint = " (a histogram is read through _bucket, _count or _sum)" if name in METRICS else ""
            problems.append(f"unknown metric {name}{hint}")
        else:
            known.update(labels)
    for series, label, operator, value in query.matchers:
        labels = series_labels(series)
        if labels is None:
            continue
        if label not in labels and label not in TARGET_LABELS:
            problems.append(f"{series} has no label {label}")
            continue
        problems += _value_problems(series, label, operator, value, labels.get(label))
    problems += [f"grouping by {label}, which no metric here has" for label in query.grouping if label not in known]
    if not query.series and not query.errors:
        problems.append("no metric in the query")
    return problems


def _value_problems(series: str, label: str, operator: str, value: str, allowed: frozenset[str] | None) -> list[str]:
    if allowed is None or "$" in value:
        return []
    if operator in ("=", "!="):
        values = [value]
    elif re.fullmatch(r"[\w:]+(\|[\w:]+)*", value):  # a plain alternation: a|b|c
        values = value.split("|")
    else:
        return []
    return [f'{series}{{{label}{operator}"{value}"}}: {label} is never {v!r}' for v in values if v not in allowed]


# -- docs/operations.md: its headings, as GitHub names their anchors --------------------------------

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
LINK = re.compile(r"\]\(([^)\s]*)\)")
OPERATIONS_LINK = re.compile(r"docs/operations\.md#([\w-]+)")


def slug(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found: set[str] = set(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", markdown))
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        heading = None if fenced else HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def link_problems(root: Path, source: Path, markdown: str) -> list[str]:
    """Links of a markdown page to its own sections and to other pages' sections."""
    problems = []
    for target in LINK.findall(markdown):
        if "://" in target or target.startswith("mailto:"):
            continue
        path_part, _, anchor = target.partition("#")
        page = source if not path_part else (root / source.parent / path_part).resolve()
        if not page.exists():
            problems.append(f"{source}: link to {target}: no such file")
        elif anchor and page.suffix == ".md" and anchor not in anchors(page.read_text()):
            problems.append(f"{source}: link to {target}: no such section")
    return problems


# -- the two artefacts ----------------------------------------------------------------------------


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics_used: set[str] = field(default_factory=set)
    exprs: int = 0

    def expr(self, where: str, expr: str) -> None:
        self.exprs += 1
        self.problems += [f"{where}: {problem}: {' '.join(expr.split())}" for problem in check_expr(expr)]
        try:
            for name in parse(expr).series:
                self.metrics_used.add(next((name.removesuffix(s) for s in HISTOGRAM_SERIES if name.endswith(s)), name))
        except ValueError:
            pass


def walk_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def check_dashboard(root: Path, report: Report) -> dict[str, Any] | None:
    where = str(DASHBOARD)
    try:
        dashboard: dict[str, Any] = json.loads((root / DASHBOARD).read_text())
    except (OSError, ValueError) as exc:
        report.problems.append(f"{where}: not valid JSON: {exc}")
        return None
    if not isinstance(dashboard, dict):
        report.problems.append(f"{where}: not a dashboard (a JSON object)")
        return None
    if not isinstance(dashboard.get("schemaVersion"), int):
        report.problems.append(f"{where}: no integer schemaVersion")
    variables = dashboard.get("templating", {}).get("list", [])
    if not any(v.get("name") == "DS_PROMETHEUS" and v.get("type") == "datasource" for v in variables):
        report.problems.append(f"{where}: no datasource variable DS_PROMETHEUS")
    for variable in variables:
        if variable.get("type") == "query":
            query = variable.get("query")
            texts = {query.get("query", "") if isinstance(query, dict) else str(query or "")}
            texts |= {variable["definition"]} if variable.get("definition") else set()
            for text in texts:
                _check_variable_query(f"{where}: variable {variable.get('name')}", text, report)
    ids: set[int] = set()
    panels = list(walk_panels(dashboard.get("panels", [])))
    for panel in panels:
        _check_panel(where, panel, ids, report)
    for source in list(walk_panels(dashboard.get("panels", []))) + variables:
        datasource = source.get("datasource")
        prometheus = isinstance(datasource, dict) and datasource.get("type") == "prometheus"
        if prometheus and datasource.get("uid") != "${DS_PROMETHEUS}":
            name = source.get("title") or source.get("name")
            report.problems.append(f"{where}: {name}: data source not ${{DS_PROMETHEUS}}")
    rows = sum(1 for panel in panels if panel.get("type") == "row")
    queries = sum(len(panel.get("targets", [])) for panel in panels)
    report.notes.append(f"{where}: {len(panels) - rows} panels in {rows} rows, {queries} panel queries")
    return dashboard


def _check_variable_query(where: str, text: str, report: Report) -> None:
    label_values = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", text, re.DOTALL)
    if label_values is None:
        report.expr(where, text)
        return
    selector, label = label_values.groups()
    report.expr(where, selector)
    known = set(TARGET_LABELS)
    try:
        names = parse(selector).series
    except ValueError:
        names = []
    for name in names:
        known |= set(series_labels(name) or {})
    if label not in known:
        report.problems.append(f"{where}: label_values of {label}, which {selector.strip()} does not have")


def _check_panel(where: str, panel: dict[str, Any], ids: set[int], report: Report) -> None:
    title = panel.get("title", "?")
    if panel.get("id") in ids:
        report.problems.append(f"{where}: panel id {panel.get('id')} used twice")
    ids.add(panel.get("id", -1))
    grid = panel.get("gridPos", {})
    if grid.get("x", 0) + grid.get("w", 0) > 24:
        report.problems.append(f"{where}: {title}: wider than the 24 grid columns")
    if panel.get("type") == "row":
        return
    targets = panel.get("targets", [])
    if not targets:
        report.problems.append(f"{where}: {title}: no query")
    for target in targets:
        report.expr(f"{where}: {title} ({target.get('refId')})", target.get("expr", ""))
        datasource = target.get("datasource")
        if isinstance(datasource, dict) and datasource.get("uid") != "${DS_PROMETHEUS}":
            report.problems.append(f"{where}: {title}: a query's data source is not ${{DS_PROMETHEUS}}")


DURATION = re.compile(r"(\d+(ms|[smhdwy]))+")


def check_alerts(root: Path, report: Report) -> dict[str, Any] | None:
    where = str(ALERTS)
    try:
        rules_file: Any = yaml.safe_load((root / ALERTS).read_text())
    except (OSError, yaml.YAMLError) as exc:
        report.problems.append(f"{where}: not valid YAML: {exc}")
        return None
    groups = rules_file.get("groups") if isinstance(rules_file, dict) else None
    if not isinstance(groups, list) or not groups:
        report.problems.append(f"{where}: no `groups` list")
        return None
    names: set[str] = set()
    alerts = 0
    for group in groups:
        if not group.get("name") or not isinstance(group.get("rules"), list):
            report.problems.append(f"{where}: a group without a name or a rules list")
            continue
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            if not name or "expr" not in rule:
                report.problems.append(f"{where}: group {group['name']}: a rule without a name or an expr")
                continue
            report.expr(f"{where}: {name}", str(rule["expr"]))
            if "alert" in rule:
                alerts += 1
                if name in names:
                    report.problems.append(f"{where}: {name} defined twice")
                names.add(name)
                report.problems += [f"{where}: {name}: {p}" for p in _alert_problems(rule)]
    report.notes.append(f"{where}: {len(groups)} group(s), {alerts} alerts")
    return dict(rules_file)


def _alert_problems(rule: dict[str, Any]) -> list[str]:
    problems = []
    if "for" in rule and not DURATION.fullmatch(str(rule["for"])):
        problems.append(f"`for: {rule['for']}` is not a duration")
    if rule.get("labels", {}).get("severity") not in SEVERITIES:
        problems.append(f"severity is not one of {sorted(SEVERITIES)}")
    annotations = rule.get("annotations", {})
    problems += [
        f"no {key} annotation" for key in ("summary", "description", "runbook_url") if not annotations.get(key)
    ]
    runbook = str(annotations.get("runbook_url", ""))
    if runbook and not re.search(r"(^|/)docs/operations\.md#[\w-]+$", runbook):
        problems.append(f"runbook_url {runbook} does not point at a section of docs/operations.md")
    return problems


def check_links(root: Path, artefacts: list[Any], report: Report) -> None:
    """Every `docs/operations.md#anchor` in the artefacts, and every link of the page itself."""
    page = (root / OPERATIONS).read_text()
    sections = anchors(page)
    links = 0
    for artefact, where in zip(artefacts, (DASHBOARD, ALERTS), strict=True):
        for text in strings(artefact):
            for anchor in OPERATIONS_LINK.findall(text):
                links += 1
                if anchor not in sections:
                    report.problems.append(f"{where}: docs/operations.md#{anchor}: no such section")
    report.problems += link_problems(root, OPERATIONS, page)
    report.notes.append(
        f"{OPERATIONS}: {len(sections)} sections; {links} links from the artefacts, "
        f"{len(LINK.findall(page))} of its own links checked"
    )


def check_docs(root: Path, alerts: dict[str, Any] | None, report: Report, *, both_read: bool) -> None:
    page = (root / OPERATIONS).read_text()
    report.problems += [f"{OPERATIONS}: does not name the metric {name}" for name in METRICS if name not in page]
    for group in (alerts or {}).get("groups", []):
        for rule in group.get("rules", []):
            if "alert" in rule and rule["alert"] not in page:
                report.problems.append(f"{OPERATIONS}: does not name the alert {rule['alert']}")
    unused = sorted(set(METRICS) - report.metrics_used)
    if unused and both_read:
        report.problems.append(f"{DASHBOARD} and {ALERTS} use none of: {', '.join(unused)}")


def check_implementation(report: Report) -> None:
    """METRICS against the metrics the app registers, the gateway's outcomes and the limiter's scopes."""
    try:
        from prometheus_client.metrics import MetricWrapperBase

        from app.gateway.errors import UpstreamError
        from app.observability import metrics as implemented
    except ImportError as exc:
        report.notes.append(f"app/observability/metrics.py not compared: {exc}")
        return
    where = "app/observability/metrics.py"
    before = len(report.problems)
    registered: dict[str, tuple[str, set[str]]] = {}
    for value in vars(implemented).values():
        if isinstance(value, MetricWrapperBase):
            # prometheus-client keeps a counter's name without its `_total`.
            name = value._name + ("_total" if value._type == "counter" else "")
            registered[name] = (value._type, set(value._labelnames))
    for name in sorted(set(METRICS) | set(registered)):
        ours = METRICS.get(name)
        theirs = registered.get(name)
        if ours is None or theirs is None:
            report.problems.append(f"{where}: {name} is {'not registered' if theirs is None else 'not in METRICS'}")
        elif (ours.type, set(ours.labels)) != theirs:
            report.problems.append(
                f"{where}: {name} is {theirs[0]} {sorted(theirs[1])}, not {ours.type} {sorted(ours.labels)}"
            )
    codes, classes = set(), [UpstreamError]
    while classes:
        cls = classes.pop()
        codes.add(cls.code)
        classes += cls.__subclasses__()
    outcomes = codes | {"success", "convex_error", "aborted"}
    if outcomes != METRICS["bff_convex_calls_total"].labels["outcome"]:
        report.problems.append(f"app/gateway/client.py: the Convex call outcomes are {sorted(outcomes)}")
    scopes = set(get_args(implemented.RefusalScope))
    if scopes != METRICS["bff_rate_limit_refusals_total"].labels["scope"]:
        report.problems.append(f"{where}: the refusal scopes are {sorted(scopes)}")
    agree = "agree with" if len(report.problems) == before else "differ from"
    report.notes.append(f"{where}: {len(registered)} metrics, outcomes and scopes {agree} METRICS")


def run(root: Path = ROOT) -> Report:
    report = Report()
    dashboard = check_dashboard(root, report)
    alerts = check_alerts(root, report)
    if (root / OPERATIONS).exists():
        check_links(root, [dashboard or {}, alerts or {}], report)
        check_docs(root, alerts, report, both_read=dashboard is not None and alerts is not None)
    else:
        report.problems.append(f"{OPERATIONS}: missing")
    check_implementation(report)
    report.notes.append(f"{report.exprs} PromQL queries, {len(report.metrics_used)} of {len(METRICS)} metrics used")
    return report


def problems(root: Path = ROOT) -> list[str]:
    return run(root).problems


def main() -> int:
    report = run()
    for note in report.notes:
        print(note)
    for problem in report.problems:
        print(f"PROBLEM {problem}")
    print(f"{len(report.problems)} problems" if report.problems else "OK")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
