"""The argparse grammar of `mmtop`: every subcommand, flag and help text lives here.

Kept free of heavy imports (no polars, no store) so that `mmtop --help` and
`mmtop ls --help` print in a few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from mmtop.tui.cli.errors import EXIT_USAGE

PROG = "mmtop"
LS_FORMATS = ("table", "csv", "json", "jsonl", "md", "parquet")
EXPORT_FORMATS = ("csv", "parquet", "json", "jsonl")
DIFF_FORMATS = ("table", "csv", "json", "md")
# Options whose value may legitimately start with "-" (descending sort keys, expressions).
DASH_VALUE_OPTIONS = ("--sort", "-s", "--where", "-w")

COMMANDS: dict[str, str] = {
    "ls": "list runs as a table, CSV, JSON, Markdown or Parquet",
    "show": "everything about one run",
    "diff": "compare runs: params, metrics with deltas, env, code and data",
    "export": "export the runs table or full metric histories",
    "doctor": "check the store; list unreadable files and crashed runs",
    "compact": "merge metric parts of finished runs into fewer files",
    "sql": "SQL over the tables runs, metrics and system (polars SQL), output as ls",
    "import": "import runs from MLflow (file or SQLite store), TensorBoard or W&B, once each",
    "models": "the model registry: list, show, promote, export and verify versions",
    "datasets": "the dataset registry: list, show, diff versions and trace their lineage",
    "reproduce": "rebuild a run's code, packages and command; --run checks the result",
    "report": "runs or a model version as one self-contained HTML file with charts",
    "serve": "the terminal app in a browser (textual-serve), on localhost by default",
    "monitor": "drift, quality and latency of a deployed model per window (exit 3 on alert)",
    "completion": "print a shell completion script (bash or zsh)",
}

_TOP_DESCRIPTION = """\
ML model management for people who live in a terminal.

  mmtop [PATH]          open the terminal app on a store (default $MMTOP_DIR, else ./mmruns)
  mmtop COMMAND ...     headless commands for scripts, CI and pipes
"""

_TOP_EPILOG = """\
examples:
  mmtop ls --where "params.lr > 1e-3 and status = 'finished'" --sort=-metrics.val/acc
  mmtop show digits/sgd-lr0.01
  mmtop diff 20261127T015823Z 20261127T020102Z --format md
  mmtop export --history --keys 'val/' -o history.parquet

exit codes: 0 success, 1 runtime error, 2 usage error. --debug shows tracebacks.
"""


class Parser(argparse.ArgumentParser):
    """argparse that reports misuse as one `mmtop: error: ...` line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{PROG}: error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_USAGE)


def _common() -> Parser:
    common = Parser(add_help=False)
    # SUPPRESS keeps a subcommand's unset flag from overwriting the top-level one.
    common.add_argument(
        "--root",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="store folder, or s3://bucket/prefix (default: $MMTOP_DIR, else ./mmruns)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show a traceback when something fails",
    )
    return common


def _output(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=default,
        help="write to FILE ('-' for stdout; default: stdout)",
    )


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-w",
        "--where",
        metavar="EXPR",
        help="SQL filter, e.g. \"params.lr > 1e-3 and status = 'finished'\"",
    )
    p.add_argument(
        "-s",
        "--sort",
        metavar="KEY",
        action="append",
        default=[],
        help="sort by a column (repeatable); a leading '-' sorts descending: "
        "created, params.lr, metrics.val/acc, metrics_min.val/loss (write --sort=-KEY)",
    )
    p.add_argument(
        "-c",
        "--columns",
        metavar="LIST|REGEX",
        help="comma list of column names or regexes (params.lr,'^metrics\\.')",
    )
    p.add_argument("-n", "--limit", metavar="N", type=_non_negative, help="at most N runs")


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    top = Parser(
        prog=PROG,
        description=_TOP_DESCRIPTION,
        epilog=_TOP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    top.add_argument("--version", action="store_true", help="print the version and exit")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def add(name: str, epilog: str = "") -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=COMMANDS[name],
            description=COMMANDS[name],
            epilog=epilog or None,
            parents=[common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    _ls(add("ls", LS_EPILOG))
    _show(add("show", SHOW_EPILOG))
    _diff(add("diff", DIFF_EPILOG))
    _export(add("export", EXPORT_EPILOG))
    _doctor(add("doctor", "exit code 1 when a file was skipped or a run crashed"))
    _compact(add("compact"))
    _sql(add("sql", SQL_EPILOG))
    _import(add("import", IMPORT_EPILOG))
    _models(add("models", MODELS_EPILOG), common)
    _datasets(add("datasets", DATASETS_EPILOG), common)
    _reproduce(add("reproduce", REPRODUCE_EPILOG))
    _report(add("report", REPORT_EPILOG))
    _serve(add("serve", SERVE_EPILOG))
    _monitor(add("monitor", MONITOR_EPILOG))
    _completion(add("completion", COMPLETION_EPILOG))
    return top


LS_EPILOG = (
    "examples:\n  mmtop ls --sort=-metrics.val/acc --limit 10\n"
    "  mmtop ls --where \"experiment = 'digits'\" --columns 'name,^params\\.' --format csv\n"
    "  mmtop diff $(mmtop ls -q --where \"array_contains(tags, 'baseline')\")"
)


def _ls(ls: argparse.ArgumentParser) -> None:
    _selection(ls)
    ls.add_argument(
        "-f",
        "--format",
        choices=LS_FORMATS,
        help="output format (default: from the -o file's extension, else table: Rich on a "
        "terminal, aligned text in a pipe)",
    )
    ls.add_argument("-q", "--quiet", action="store_true", help="print run ids only, one a line")
    _output(ls, None)


SHOW_EPILOG = "examples:\n  mmtop show 20261127T0158\n  mmtop show digits/sgd --format json"


def _show(show: argparse.ArgumentParser) -> None:
    show.add_argument(
        "run", metavar="RUN", help="run id, unique id prefix, experiment/name, or a unique name"
    )
    show.add_argument(
        "-f", "--format", choices=("text", "json"), default="text", help="(default: text)"
    )
    _output(show, None)


DIFF_EPILOG = (
    "examples:\n  mmtop diff digits/sgd digits/adam\n"
    "  mmtop diff A B C --baseline B --all --format md\n"
    "  mmtop diff A B --lower-better 'latency' --stats last"
)


def _diff(diff: argparse.ArgumentParser) -> None:
    diff.add_argument("runs", metavar="RUN", nargs="+", help="two or more runs")
    diff.add_argument("--all", action="store_true", help="show rows that are equal too")
    diff.add_argument("-b", "--baseline", metavar="RUN", help="baseline run (default: the first)")
    diff.add_argument(
        "-f", "--format", choices=DIFF_FORMATS, default="table", help="(default: table)"
    )
    _output(diff, None)
    diff.add_argument(
        "--stats",
        metavar="LIST",
        default="last,min,max",
        help="metric statistics to compare (default: last,min,max)",
    )
    diff.add_argument(
        "--sections",
        metavar="LIST",
        default="params,metrics,env,code,data",
        help="sections to print (default: params,metrics,env,code,data)",
    )
    diff.add_argument(
        "--lower-better",
        metavar="REGEX",
        action="append",
        default=[],
        help="metric keys where lower is better (overrides the name heuristic)",
    )
    diff.add_argument(
        "--higher-better",
        metavar="REGEX",
        action="append",
        default=[],
        help="metric keys where higher is better (overrides the name heuristic)",
    )


EXPORT_EPILOG = (
    "examples:\n  mmtop export -o runs.csv\n"
    "  mmtop export --history --where \"experiment = 'digits'\" -o history.parquet\n"
    "  mmtop export --history --wide --keys '^val/' --format csv - > wide.csv"
)


def _export(export: argparse.ArgumentParser) -> None:
    _selection(export)
    export.add_argument("--history", action="store_true", help="full metric histories")
    export.add_argument("--keys", metavar="REGEX", help="only metric keys matching REGEX")
    export.add_argument(
        "--wide", action="store_true", help="one column per key, one row per run and step"
    )
    export.add_argument("--system", action="store_true", help="system metrics instead")
    export.add_argument(
        "-f",
        "--format",
        choices=EXPORT_FORMATS,
        help="output format (default: from the -o file's extension; csv on stdout)",
    )
    _output(export, "-")
    export.add_argument("dest", metavar="FILE|-", nargs="?", help="same as -o")


def _doctor(doctor: argparse.ArgumentParser) -> None:
    doctor.add_argument(
        "-f", "--format", choices=("text", "json"), default="text", help="(default: text)"
    )
    doctor.add_argument(
        "--deep",
        action="store_true",
        help="also read every metric file (slower, finds corrupt parts)",
    )


def _compact(compact: argparse.ArgumentParser) -> None:
    compact.epilog = (
        "on a store on S3 (--root s3://...) only the run index is folded: a snapshot "
        "written to the bucket, so cold opens read it instead of every run's files"
    )
    compact.add_argument(
        "-f", "--format", choices=("text", "json"), default="text", help="report format"
    )


REPRODUCE_EPILOG = """\
writes DIR: src/ (the run's commit with its captured patch applied), requirements.txt (pinned
from its env.json), plan.json, and reproduce.sh (venv, install, run with MMTOP_REPRODUCES set,
so the new run records `reproduces`). Nothing runs without --run.

exit codes: 0 written (with --run: reproduced), 1 could not rebuild (the failing step is
named), 2 usage error, 3 ran but the results differ.

examples:
  mmtop reproduce digits/sgd -o ./rebuild && sh ./rebuild/reproduce.sh
  mmtop reproduce 20261127T0158 --run --rtol 1e-6
  mmtop reproduce digits/sgd --run --python "$(command -v python3)" --reuse-packages
"""


def _reproduce(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run", metavar="RUN", help="run id, unique id prefix, experiment/name, or a unique name"
    )
    p.add_argument(
        "-o", "--output", metavar="DIR", help="new or empty folder (default: ./reproduce-RUN_ID)"
    )
    p.add_argument(
        "--run",
        dest="run_it",
        action="store_true",
        help="also make the venv, install, run the command and compare the new run",
    )
    p.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter that makes the venv (default: pythonX.Y of the run)",
    )
    p.add_argument(
        "--reuse-packages",
        action="store_true",
        help="let the venv see the packages of --python's environment; pip then installs "
        "only what differs from the pins (fast, as clean as that environment)",
    )
    p.add_argument(
        "--repo", metavar="PATH", help="clone this checkout instead of the one the run recorded"
    )
    p.add_argument(
        "--rtol",
        metavar="X",
        type=float,
        default=0.0,
        help="relative tolerance for metrics' last/min/max (default: 0, exact)",
    )


COMPLETION_EPILOG = (
    "install:\n"
    "  bash: mmtop completion bash > ~/.local/share/bash-completion/completions/mmtop\n"
    "  zsh:  mmtop completion zsh > ~/.zfunc/_mmtop  (with ~/.zfunc in $fpath)"
)


SQL_EPILOG = (
    "tables: runs (as mmtop ls, params and metrics as structs), metrics and system\n"
    "(run_id, experiment, step, time, key, value; streamed from the Parquet parts)\n\n"
    "examples:\n"
    '  mmtop sql "SELECT run_id, max(value) AS best FROM metrics\n'
    "             WHERE key = 'val/acc' AND experiment = 'digits' GROUP BY run_id\"\n"
    "  mmtop sql \"SELECT name, params.lr FROM runs WHERE status = 'finished'\" -f csv"
)


def _sql(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", metavar="QUERY", help="one SQL query (polars SQL dialect)")
    p.add_argument(
        "-f",
        "--format",
        choices=LS_FORMATS,
        help="output format (default: from the -o file's extension, else table: Rich on a "
        "terminal, aligned text in a pipe)",
    )
    _output(p, None)


REPORT_EPILOG = """\
REF is a run (one run, or several compared against the first) or one model version
(NAME@ALIAS or NAME/VERSION). The file needs no network and runs no script.

examples:
  mmtop report digits/sgd-lr0.01 -o run.html
  mmtop report A B C -o compare.html
  mmtop report digits-clf@champion -o card.html
"""


def _report(p: argparse.ArgumentParser) -> None:
    # dest "runs": shell completion offers run ids (a model version is typed by hand).
    p.add_argument("runs", metavar="REF", nargs="+", help="runs, or one model version")
    p.add_argument("--title", metavar="TEXT", help="the page title (default: what is reported)")
    _output(p, None)


SERVE_EPILOG = """\
textual-serve has no authentication: the server binds to 127.0.0.1 and prints the ssh
tunnel command that reaches it; another --host needs --allow-remote. Each browser tab gets
its own app; they share the store and update live. Needs: pip install 'mmtop[serve]'.

examples:
  mmtop serve mmruns
  mmtop serve --port 8080
"""


def _serve(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", nargs="?", help="store folder (default: as `mmtop`)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other machines can reach (there is no authentication)",
    )


def _port(text: str) -> int:
    value = _non_negative(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port (1-65535): {text!r}")
    return value


def _completion(completion: argparse.ArgumentParser) -> None:
    completion.add_argument("shell", choices=("bash", "zsh"))


IMPORT_EPILOG = """\
importing again adds only runs not imported before; exit code 1 when a source file could
not be read (its run is skipped, the others are imported).

examples:
  mmtop import mlflow ./mlruns
  mmtop import mlflow sqlite:///mlflow.db --experiment legacy
  mmtop import mlflow ./mlruns --artifacts     # copy each run's local artifacts too
  mmtop import tensorboard ./runs
  mmtop import wandb ./wandb                   # offline-run-*/ and run-*/ folders
"""


def _import(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "source", choices=("mlflow", "tensorboard", "wandb"), help="the tool that logged"
    )
    p.add_argument(
        "path",
        help="an mlruns folder, sqlite:///FILE.db, a TensorBoard log folder, or a W&B folder",
    )
    p.add_argument("--experiment", metavar="NAME", help="put every run in this experiment")
    p.add_argument(
        "--artifacts", action="store_true", help="copy each MLflow run's local artifacts too"
    )
    p.add_argument("-f", "--format", choices=("text", "json"), default="text", help="report format")


MODELS_EPILOG = """\
a model reference (REF) is NAME (the newest version), NAME/3, NAME@ALIAS or NAME@TARGET
(the version deployed there).

examples:
  mmtop models ls --format csv
  mmtop models show digits-clf@champion
  mmtop models alias digits-clf champion 3
  mmtop models history digits-clf
  mmtop models diff digits-clf/2 digits-clf/3
  mmtop models export digits-clf@champion -o ./digits-clf
  mmtop models verify digits-clf/3      # exit 1 when a file changed
  mmtop models deploy digits-clf@champion --target prod
  mmtop models rollback digits-clf --target prod
  mmtop models undeploy digits-clf --target eu-canary --note "canary over"
  mmtop models retire digits-clf/1 --reason "superseded by v3"
  mmtop models deployments digits-clf
  mmtop models predict digits-clf@prod batch.parquet -o scored.parquet --target batch-nightly
"""

MODELS_ACTIONS: dict[str, str] = {
    "ls": "list model versions with aliases and metrics at registration",
    "show": "one version: manifest, signature, metrics, params, files",
    "history": "every alias move, registration, tag, description and deprecation, in order",
    "diff": "compare two versions: lineage, params, metrics, data, files",
    "lineage": "datasets -> run -> version -> child versions",
    "alias": "point ALIAS at VERSION (recorded as an event)",
    "unalias": "remove ALIAS (recorded as an event)",
    "export": "write a self-contained folder: model files, manifest, requirements, card",
    "verify": "check every file's sha256 against the manifest (exit 1 on a mismatch)",
    "deploy": "record that REF now serves at --target (an event; replaces what served there)",
    "rollback": "deploy again, at --target, the version the current one replaced",
    "undeploy": "record that nothing of NAME serves at --target any more (an event)",
    "retire": "undeploy REF from every target where it serves, and deprecate it",
    "deployments": "which version serves at each target, and every deployment in order",
    "predict": "predict a Parquet/CSV file with REF into -o OUTPUT; log them with --target",
}


def _models(models: argparse.ArgumentParser, common: Parser) -> None:
    sub = models.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)

    def act(name: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=MODELS_ACTIONS[name], description=MODELS_ACTIONS[name], parents=[common]
        )

    ls = act("ls")
    ls.add_argument("name", metavar="NAME", nargs="?", help="only this model")
    ls.add_argument("-f", "--format", choices=LS_FORMATS, default="table", help="(default: table)")
    ls.add_argument("-q", "--quiet", action="store_true", help="print NAME/VERSION only")
    _output(ls, None)
    for name in ("show", "lineage"):
        p = act(name)
        p.add_argument("ref", metavar="REF")
        p.add_argument(
            "-f", "--format", choices=("text", "json"), default="text", help="(default: text)"
        )
        _output(p, None)
    history = act("history")
    history.add_argument("name", metavar="NAME")
    history.add_argument(
        "-f", "--format", choices=LS_FORMATS, default="table", help="(default: table)"
    )
    _output(history, None)
    diff = act("diff")
    diff.add_argument("refs", metavar="REF", nargs=2)
    diff.add_argument("--all", action="store_true", help="show fields that are equal too")
    diff.add_argument(
        "-f", "--format", choices=DIFF_FORMATS, default="table", help="(default: table)"
    )
    _output(diff, None)
    alias = act("alias")
    alias.add_argument("name", metavar="NAME")
    alias.add_argument("alias", metavar="ALIAS")
    alias.add_argument("number", metavar="VERSION", type=_positive)
    unalias = act("unalias")
    unalias.add_argument("name", metavar="NAME")
    unalias.add_argument("alias", metavar="ALIAS")
    export = act("export")
    export.add_argument("ref", metavar="REF")
    export.add_argument("-o", "--output", metavar="DIR", required=True, help="new or empty folder")
    verify = act("verify")
    verify.add_argument("ref", metavar="REF")
    verify.add_argument(
        "-f", "--format", choices=("text", "json"), default="text", help="(default: text)"
    )
    deploy = act("deploy")
    deploy.add_argument("ref", metavar="REF")
    rollback = act("rollback")
    rollback.add_argument("name", metavar="NAME")
    undeploy = act("undeploy")
    undeploy.add_argument("name", metavar="NAME")
    for p in (deploy, rollback, undeploy):
        p.add_argument("-t", "--target", metavar="T", required=True, help="prod, eu-canary, ...")
        p.add_argument("--note", metavar="TEXT", help="why (kept in the event)")
    retire = act("retire")
    retire.add_argument("ref", metavar="REF")
    retire.add_argument("--reason", metavar="TEXT", default="", help="why (kept in the events)")
    predict = act("predict")
    predict.add_argument("ref", metavar="REF")
    predict.add_argument("input", metavar="INPUT", help="a .parquet or .csv file of inputs")
    predict.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        required=True,
        help=".parquet or .csv: inputs + predictions",
    )
    predict.add_argument(
        "-t", "--target", metavar="T", help="log the predictions for monitoring under T"
    )
    predict.add_argument("--id-column", metavar="COL", help="ids to join labels logged later")
    deployments = act("deployments")
    deployments.add_argument("name", metavar="NAME")
    deployments.add_argument(
        "-f", "--format", choices=LS_FORMATS, default="table", help="(default: table)"
    )
    _output(deployments, None)


DATASETS_EPILOG = """\
a dataset reference (REF) is NAME (the newest version), NAME@3 (or NAME/3), or a unique
prefix of a fingerprint (sha256:3f9a1c or 3f9a1c, at least 6 hex digits).

examples:
  mmtop datasets ls
  mmtop datasets show digits-train@3
  mmtop datasets diff digits-train@2 digits-train@3 --key id
  mmtop datasets lineage digits-train@3 --format json
"""

DATASETS_ACTIONS: dict[str, str] = {
    "ls": "list dataset versions: fingerprint, rows, columns, labels",
    "show": "one version: fingerprint, source, schema, labels, parent, run",
    "diff": "compare two versions: schema, row counts, rows added/removed/changed by key",
    "lineage": "labels and parent -> version -> runs -> model versions, and derived versions",
}


def _datasets(datasets: argparse.ArgumentParser, common: Parser) -> None:
    sub = datasets.add_subparsers(
        dest="action", metavar="ACTION", parser_class=Parser, required=True
    )

    def act(name: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=DATASETS_ACTIONS[name], description=DATASETS_ACTIONS[name], parents=[common]
        )

    ls = act("ls")
    ls.add_argument("name", metavar="NAME", nargs="?", help="only this dataset")
    ls.add_argument("-f", "--format", choices=LS_FORMATS, default="table", help="(default: table)")
    ls.add_argument("-q", "--quiet", action="store_true", help="print NAME@VERSION only")
    _output(ls, None)
    for name in ("show", "lineage"):
        p = act(name)
        p.add_argument("dataset", metavar="REF")
        p.add_argument(
            "-f", "--format", choices=("text", "json"), default="text", help="(default: text)"
        )
        _output(p, None)
    diff = act("diff")
    diff.add_argument("datasets", metavar="REF", nargs=2, help="the old version, then the new one")
    diff.add_argument(
        "-k",
        "--key",
        metavar="COLS",
        help="key columns (comma list) to match rows by (default: the versions' own key)",
    )
    diff.add_argument(
        "-f", "--format", choices=("text", "json"), default="text", help="(default: text)"
    )
    _output(diff, None)


MONITOR_EPILOG = """\
examples:
  mmtop monitor digits-clf --target prod --window 1h
  mmtop monitor digits-clf --window 5000 --format json    # windows of 5,000 predictions
  mmtop monitor digits-clf || retrain.sh                    # exit 3 when an alert fires

exit codes: 0 healthy (or nothing logged yet), 3 an alert fired, 1 runtime error, 2 usage.
"""


def _monitor(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="a registered model")
    p.add_argument("-t", "--target", metavar="T", default="prod", help="(default: prod)")
    p.add_argument(
        "-w",
        "--window",
        metavar="W",
        default="1d",
        help="30m, 1h, 1d (by time) or a number of predictions (default: 1d)",
    )
    p.add_argument(
        "-f",
        "--format",
        choices=("text", "json", "table", "csv", "md", "jsonl", "parquet"),
        default="text",
        help="text: the report; json: everything; others: one row per window",
    )
    for key, default in (("psi", 0.2), ("wasserstein", 0.1), ("js", 0.1)):
        p.add_argument(
            f"--{key}",
            type=_non_negative_float,
            metavar="X",
            help=f"drift threshold (default: the version's, else {default})",
        )
    for key, what in (
        ("null-share", "a feature's null share above the baseline's by more than X"),
        ("out-of-range", "more than X of a feature's values outside the baseline's range"),
        ("unseen", "more than X of a feature's values in categories the baseline never saw"),
    ):
        p.add_argument(
            f"--{key}",
            type=_non_negative_float,
            metavar="X",
            help=f"alert on {what} (default: the version's, else 0.05)",
        )
    p.add_argument(
        "--max-drop",
        type=_non_negative_float,
        default=0.05,
        metavar="X",
        help="alert when accuracy/F1 drops (MAE/RMSE rises, as a fraction) by more (default 0.05)",
    )
    p.add_argument(
        "--min-labels",
        type=_non_negative,
        default=30,
        metavar="N",
        help="judge performance only on windows with this many labels (default 30)",
    )
    _output(p, None)


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


def normalise(argv: list[str]) -> list[str]:
    """`--sort -created` -> `--sort=-created`: argparse would read `-created` as a flag."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out.extend(argv[i:])
            break
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if arg in DASH_VALUE_OPTIONS and nxt is not None and nxt.startswith("-") and nxt != "-":
            out.append(f"{arg}={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out
