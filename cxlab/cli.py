"""The ``cxlab`` command line.

Each subcommand is a thin wrapper around a library function. Errors caused by the user
(:class:`cxlab.errors.CxlabError`) are printed as one line on stderr with exit status 1 (2 for
usage errors); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cxlab import __version__
from cxlab.errors import CxlabError

__all__ = ["main"]

SOURCES = ("auto", "wjx", "wjx_text", "wjx_code", "qualtrics", "surveymonkey", "limesurvey", "spss",
           "csv", "excel", "parquet")


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from cxlab.datasets import make_sample_data

    summary = make_sample_data(
        args.out, seed=args.seed, responses=args.responses,
        codebook=args.codebook, org=args.org,
    )
    print(summary)
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    import re

    from cxlab.io import ingest

    # usage errors (exit 2): nothing to ingest, malformed --period, unknown --branch
    missing = [str(p) for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"cxlab ingest: error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.period is not None and not re.fullmatch(r"[0-9]{4}Q[1-4]", args.period.strip().upper()):
        print(f"cxlab ingest: error: --period {args.period!r}: expected YYYYQn, e.g. 2026Q3",
              file=sys.stderr)
        return 2
    if args.branch is not None:
        from cxlab.config import load_org

        org = load_org()
        if args.branch.strip() not in org.name_to_code():
            print(f"cxlab ingest: error: --branch {args.branch!r}: unknown branch "
                  f"(known: {', '.join(org.branch_codes)})", file=sys.stderr)
            return 2
    report = ingest(
        args.paths, warehouse=args.warehouse, source=args.source, period=args.period,
        branch=args.branch, codebook=args.codebook, sources=args.sources,
        quarantine_dir=args.quarantine, alert_share=args.alert_share,
    )
    print(report.summary())
    for rejected in report.rejected_files:
        print(f"cxlab: rejected {rejected}", file=sys.stderr)
    for alert in report.alerts:
        print(f"cxlab: {alert}", file=sys.stderr)
    return 1 if report.rejected_files or report.alerts else 0


def _cmd_draft(args: argparse.Namespace) -> int:
    from cxlab.io import draft_params

    if not args.exports:
        print("cxlab draft: error: no export given (name one or more export files)", file=sys.stderr)
        return 2
    missing = [str(p) for p in args.exports if not Path(p).exists()]
    if missing:
        print(f"cxlab draft: error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    # `--project` after `draft`, else a global one (if the command line has it), else here
    project = args.draft_project or getattr(args, "project", None) or Path(".")
    result = draft_params(args.exports, project=project, force=args.force)
    print(result.summary())
    return 0


def _cmd_reports(args: argparse.Namespace) -> int:
    from cxlab.report import render_all

    # html/pdf are rendered notebooks; xlsx (tab books) and pptx (decks) are written beside them
    deliverable = {"xlsx": "tables", "pptx": "deck"}
    wanted = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in ("html", "pdf", *deliverable)]
    if unknown or not wanted:
        print(f"cxlab reports: error: --format {args.format!r}: expected a comma-separated list "
              "of html, pdf, xlsx, pptx", file=sys.stderr)
        return 2
    formats = tuple(f for f in wanted if f in ("html", "pdf"))
    failed = False
    if formats:
        summary = render_all(
            periods=[args.period] if args.period else None,
            branches=[args.branch] if args.branch else None,
            jobs=args.jobs, force=args.force, formats=formats,
            warehouse=args.warehouse, output_dir=args.out,
            executor=args.executor, scheduler=args.scheduler,
        )
        print(summary.summary())
        failed = bool(summary.failed)
    kinds = tuple(deliverable[f] for f in wanted if f in deliverable)
    if kinds:
        from cxlab.deliver._run import write_deliverables

        branch = None if args.branch in (None, "", "ALL") else args.branch
        if branch is not None:  # a branch or a region, by code or name
            from cxlab.config import load_org
            from cxlab.deliver._cli import scope_code

            branch = scope_code(load_org(), branch)
        result = write_deliverables(
            periods=[args.period] if args.period else None,
            branches=None if args.branch is None else [branch or "ALL"],
            warehouse=args.warehouse, output_dir=args.out, kinds=kinds, force=args.force,
            jobs=args.jobs)
        print(result.summary())
        failed = failed or bool(result.failed)
    return 1 if failed else 0


def _cmd_scorecard(args: argparse.Namespace) -> int:
    import pandas as pd

    from cxlab.config import load_params
    from cxlab.ops import ScorecardRules, scorecard

    rules = load_params(args.rules, ScorecardRules)
    if not Path(args.actuals).is_file():
        raise CxlabError(f"{args.actuals}: scorecard actuals not found (run `make data` first?)")
    actuals = pd.read_csv(args.actuals, dtype={"period": str, "measure": str})
    missing = [c for c in ("period", "measure", "value") if c not in actuals.columns]
    if missing:
        raise CxlabError(f"{args.actuals}: missing column(s) {', '.join(missing)} "
                         "(expected: period, measure, value)")
    rows = actuals[actuals["period"] == args.period]
    if rows.empty:
        known = ", ".join(sorted(actuals["period"].dropna().unique()))
        raise CxlabError(f"{args.actuals}: no rows for period {args.period!r} (periods: {known})")
    try:
        table = scorecard(rows[["measure", "value"]], rules=rules)
    except ValueError as err:
        raise CxlabError(f"{args.actuals}: period {args.period}: {err}") from None
    print(f"客户体验主管考核量表 {args.period}")
    shown = table.assign(weight=table["weight"] * 100).rename(columns={"weight": "weight_%"})
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from cxlab.project import init_project

    print(init_project(args.dir, force=args.force).summary())
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from cxlab.config import load_org
    from cxlab.report import publish

    summary = publish(args.reports, args.out, org=load_org(args.org),
                      warehouse=args.warehouse if args.warehouse.is_dir() else None,
                      audiences=args.audience or None)
    print(summary.summary())
    return 0


def _cmd_region_reports(args: argparse.Namespace) -> int:
    from cxlab.report import render_region_reports

    periods = [args.period] if args.period else sorted(
        p.name.split("=", 1)[1] for p in (args.warehouse / "responses").glob("period=*"))
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    files = render_region_reports(periods=periods, units=args.unit or None,
                                  warehouse=args.warehouse, output_dir=args.out,
                                  formats=formats)
    print(f"Rendered {len(files)} region report file(s) under {args.out}")
    return 0


def _cmd_notify(args: argparse.Namespace) -> int:
    from cxlab.notify import notify

    summary = notify(args.period, warehouse=args.warehouse, reports_dir=args.reports,
                     params_dir=args.params, dry_run=args.dry_run)
    print(summary.summary())
    return 1 if summary.failed else 0


def _cmd_cases(args: argparse.Namespace) -> int:
    import pandas as pd

    from cxlab.notify import close_case, import_cases, list_cases, sync_cases

    if args.action == "close":
        close_case(args.warehouse, args.case_id, cause=args.cause, action=args.action_taken)
        print(f"case {args.case_id}: 已关闭")
        return 0
    if args.action == "import":
        n = import_cases(args.warehouse, args.file)
        print(f"{args.file}: {n} case(s) updated")
        return 0
    units = None
    if args.period:
        from cxlab.config import load_org

        org = load_org(Path(args.params) / "org.yaml")
        n = sync_cases(args.warehouse, period=args.period, org=org, params_dir=args.params)
        print(f"{args.period}: {n} new case(s) opened from the alerts")
    if args.unit:
        from cxlab.config import load_org

        org = load_org(Path(args.params) / "org.yaml")
        try:
            units = org.scope(args.unit)
        except KeyError:
            raise CxlabError(f"--unit {args.unit!r}: unknown unit") from None
    df = list_cases(args.warehouse, period=args.period, units=units, status=args.status,
                    overdue_at=pd.Timestamp.now() if args.overdue else None)
    if df.empty:
        print("no case")
        return 0
    cols = ["case_id", "period", "unit", "label", "severity", "owner", "status", "due_at",
            "cause", "action", "closed_at", "escalated_to"]
    with pd.option_context("display.width", 200, "display.max_colwidth", 30,
                           "display.max_rows", None):
        print(df[cols].to_string(index=False))
    print(f"{len(df)} case(s): " + ", ".join(f"{k} {v}" for k, v in
                                               df["status"].value_counts().items()))
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    if args.hash_password:
        import getpass

        from cxlab.dashboard import hash_password

        pw = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        if not pw:
            print("cxlab dashboard: error: empty password", file=sys.stderr)
            return 2
        print(hash_password(pw))
        return 0
    from cxlab.config import load_codebook, load_org, load_targets, project_root
    from cxlab.dashboard import load_users, open_warehouse
    from cxlab.dashboard._app import serve, users_outside_repo

    org = load_org(args.org)
    users = load_users(args.users, org=org)
    import os

    users_path = args.users or Path(os.environ["CXLAB_DASHBOARD_USERS"])
    users_outside_repo(users_path, project_root())
    # weighted like the reports when params/weighting.yaml (beside the codebook) is enabled
    wh = open_warehouse(args.warehouse, codebook=load_codebook(args.codebook), org=org,
                        params_dir=args.codebook.parent)
    print(f"cxlab dashboard: http://{args.address}:{args.port}/ ({len(users)} users)", flush=True)
    serve(wh, users, load_targets(args.targets), port=args.port, address=args.address)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cxlab", description="cxlab: CX research and reporting workbench."
    )
    p.add_argument("--version", action="version", version=f"cxlab {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    p.add_argument("--project", type=Path, default=None, metavar="DIR",
                   help="the cxlab project to work in (default: the one the working directory "
                        "is in)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help="create a cxlab project folder for a CX team")
    s.add_argument("dir", type=Path, help="the folder to create (must be empty or new)")
    s.add_argument("--force", action="store_true",
                   help="write into a non-empty folder, overwriting files of the same name")
    s.set_defaults(func=_cmd_init, project_mode="none")

    s = sub.add_parser("sample-data", help="write the sample raw exports with planted truth")
    s.add_argument("--out", type=Path, default=Path("data/raw"), help="output folder")
    s.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    s.add_argument("--responses", type=int, default=None, help="total survey responses")
    s.add_argument("--codebook", type=Path, default=Path("params/codebook.yaml"))
    s.add_argument("--org", type=Path, default=Path("params/org.yaml"))
    s.set_defaults(func=_cmd_sample_data, project_mode="optional")

    s = sub.add_parser("ingest", help="validate exports and load them into the warehouse")
    s.add_argument("paths", nargs="+", type=Path, help="files or folders to ingest")
    s.add_argument("--source", choices=SOURCES, default="auto", help="export format")
    s.add_argument("--period", default=None, help="period for every row, e.g. 2026Q3")
    s.add_argument("--branch", default=None, help="branch code for every row, e.g. SH01")
    s.add_argument("--warehouse", type=Path, default=Path("data/warehouse"))
    s.add_argument("--quarantine", type=Path, default=Path("data/quarantine"))
    s.add_argument("--codebook", type=Path, default=Path("params/codebook.yaml"))
    s.add_argument("--sources", type=Path, default=Path("params/sources.yaml"))
    s.add_argument("--alert-share", type=float, default=None, metavar="SHARE",
                   help="exit 1 when more than this share of a file's rows is quarantined for "
                        "one reason (default: quarantine_alert_share in sources.yaml, 0.5)")
    s.set_defaults(func=_cmd_ingest)

    s = sub.add_parser("draft", help="draft params/codebook.yaml, sources.yaml, org.yaml from exports")
    s.add_argument("exports", nargs="*", type=Path, help="export files (or folders)")
    s.add_argument("--project", dest="draft_project", metavar="DIR", type=Path, default=None,
                   help="project folder (default: here)")
    s.add_argument("--force", action="store_true", help="overwrite existing params files")
    s.set_defaults(func=_cmd_draft, project_mode="optional")

    s = sub.add_parser("reports", help="render company, region and branch reports")
    s.add_argument("--period", default=None, help="only this period (default: all)")
    s.add_argument("--branch", default=None,
                   help="only this branch or region, e.g. SH01 or EAST (ALL = company report)")
    s.add_argument("--jobs", type=int, default=None, help="parallel renders (default: cores)")
    s.add_argument("--format", default="html,pdf",
                   help="comma-separated: html, pdf, xlsx (Excel tab books), pptx (decks)")
    s.add_argument("--force", action="store_true", help="re-render even if nothing changed")
    s.add_argument("--warehouse", type=Path, default=Path("data/warehouse"))
    s.add_argument("--out", type=Path, default=Path("reports"))
    s.add_argument("--executor", choices=("local", "dask"), default="local")
    s.add_argument("--scheduler", default=None, help="Dask scheduler address (with --executor dask)")
    s.set_defaults(func=_cmd_reports)

    s = sub.add_parser("scorecard", help="print the CX supervisor scorecard for a period")
    s.add_argument("--period", required=True)
    s.add_argument("--actuals", type=Path, default=Path("data/raw/ops/scorecard_actuals.csv"))
    s.add_argument("--rules", type=Path, default=Path("params/scorecard.yaml"))
    s.set_defaults(func=_cmd_scorecard)

    s = sub.add_parser("publish", help="one folder per audience with only the reports it may read")
    s.add_argument("--out", type=Path, required=True, help="folder of the audience sites")
    s.add_argument("--reports", type=Path, default=Path("reports"), help="rendered reports")
    s.add_argument("--audience", action="append", default=None,
                   help="only this unit code (repeatable; default: company and every unit)")
    s.add_argument("--warehouse", type=Path, default=Path("data/warehouse"))
    s.add_argument("--org", type=Path, default=Path("params/org.yaml"))
    s.set_defaults(func=_cmd_publish)

    s = sub.add_parser("region-reports",
                       help="deprecated: `cxlab reports` renders region reports too, "
                            "incrementally (`--branch EAST` for one); this always re-renders")
    s.add_argument("--period", default=None, help="only this period (default: all)")
    s.add_argument("--unit", action="append", default=None, help="only this unit (repeatable)")
    s.add_argument("--format", default="html,pdf", help="comma-separated: html,pdf")
    s.add_argument("--warehouse", type=Path, default=Path("data/warehouse"))
    s.add_argument("--out", type=Path, default=Path("reports"))
    s.set_defaults(func=_cmd_region_reports)

    s = sub.add_parser("notify", help="send owners their new reports and open cases (idempotent)")
    s.add_argument("--period", required=True, help="the period whose reports and alerts go out")
    s.add_argument("--dry-run", action="store_true", help="print what would be sent, send nothing")
    s.add_argument("--warehouse", type=Path, default=Path("data/warehouse"))
    s.add_argument("--reports", type=Path, default=Path("reports"))
    s.add_argument("--params", type=Path, default=Path("params"))
    s.set_defaults(func=_cmd_notify)

    s = sub.add_parser("cases", help="the closed-loop case ledger: list, close, import")
    s.add_argument("--warehouse", type=Path, default=Path("data/warehouse"))
    s.add_argument("--params", type=Path, default=Path("params"))
    cs = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = cs.add_parser("list", help="list cases (with --period: open cases for its new alerts first)")
    c.add_argument("--period", default=None)
    c.add_argument("--unit", default=None, help="this unit and the units below it")
    c.add_argument("--status", default=None, help="新建, 处理中 or 已关闭")
    c.add_argument("--overdue", action="store_true", help="only open cases past their due time")
    c = cs.add_parser("close", help="close a case with its cause and the action taken")
    c.add_argument("case_id")
    c.add_argument("--cause", required=True)
    c.add_argument("--action", dest="action_taken", required=True)
    c = cs.add_parser("import", help="update cases from a ticket-system export (CSV/Excel)")
    c.add_argument("file", type=Path)
    s.set_defaults(func=_cmd_cases)

    s = sub.add_parser("dashboard", help="serve the scoped dashboard (login; loopback by default)")
    s.add_argument("--port", type=int, default=5006)
    s.add_argument("--address", default="127.0.0.1", help="interface to bind (default loopback)")
    s.add_argument("--warehouse", type=Path, default=Path("data/warehouse"))
    s.add_argument("--users", type=Path, default=None,
                   help="users file (default: $CXLAB_DASHBOARD_USERS), outside the project")
    s.add_argument("--codebook", type=Path, default=Path("params/codebook.yaml"))
    s.add_argument("--org", type=Path, default=Path("params/org.yaml"))
    s.add_argument("--targets", type=Path, default=Path("params/targets.yaml"))
    s.add_argument("--hash-password", action="store_true",
                   help="read a password (stdin) and print its hash for the users file")
    s.set_defaults(func=_cmd_dashboard)

    from cxlab.deliver._cli import add_parsers as _deliver_parsers

    _deliver_parsers(sub)  # tables, deck
    from cxlab.project import add_project_option

    add_project_option(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cxlab`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        from cxlab.project import enter_project

        enter_project(parser, args)
        return int(args.func(args) or 0)
    except CxlabError as err:
        if args.debug:
            raise
        print(f"cxlab: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # a path the user gave cannot be used (exists as a file, no permission…)
        if args.debug:
            raise
        where = f"{err.filename}: " if err.filename else ""
        print(f"cxlab: error: {where}{err.strerror or err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cxlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
