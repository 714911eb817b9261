"""`mmtop completion bash|zsh`: a completion script generated from the argparse grammar.

Generated rather than hand-written so it can never drift from the real flags. Run ids
are completed live by calling `mmtop ls -q`, model references by `mmtop models ls -q`, dataset
versions by `mmtop datasets ls -q` (with
the --root already typed, if any). Commands with actions (`models ls|show|...`) complete
the action, then its own flags and arguments.
"""

from __future__ import annotations

import argparse
import re
import sys

from mmtop.tui.cli.args import build_parser
from mmtop.tui.cli.errors import EXIT_OK

RUN_ARGS = {"run", "runs", "baseline"}
REF_ARGS = {"ref", "refs"}  # NAME/VERSION or NAME@ALIAS
DATASET_ARGS = {"dataset", "datasets"}  # NAME@VERSION
MODEL_NAME_COMMANDS = {"history", "alias", "unalias", "rollback", "deployments"}  # a model name
FILE_OPTIONS = {"--output", "-o"}
DIR_OPTIONS = {"--root"}


def run(ns: argparse.Namespace) -> int:
    parser = build_parser()
    script = bash_script(parser) if ns.shell == "bash" else zsh_script(parser)
    sys.stdout.write(script)
    return EXIT_OK


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings]


def _positionals(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not a.option_strings]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every command and every action of a command with actions, as `cmd` or `cmd/action`."""
    out: dict[str, argparse.ArgumentParser] = {}
    for name, sub in _subparsers(parser).items():
        out[name] = sub
        for action, parser_ in _subparsers(sub).items():
            out[f"{name}/{action}"] = parser_
    return out


# ----------------------------------------------------------------------------- bash
def bash_script(parser: argparse.ArgumentParser) -> str:
    subs = _subparsers(parser)
    top_opts = " ".join(s for a in _options(parser) for s in a.option_strings)
    opt_cases: list[str] = []
    choice_cases: list[str] = []
    action_cases = [
        f'        {name}) words="{" ".join(_subparsers(sub))}" ;;'
        for name, sub in subs.items()
        if _subparsers(sub)
    ]
    action_words = "|".join(
        f"{name}:{action}" for name, sub in subs.items() for action in _subparsers(sub)
    )
    ref_keys = "|".join(
        key
        for key, p in _commands(parser).items()
        if any(a.dest in REF_ARGS for a in _positionals(p))
    )
    dataset_keys = "|".join(
        key
        for key, p in _commands(parser).items()
        if any(a.dest in DATASET_ARGS for a in _positionals(p))
    )
    name_keys = "|".join(
        key for key in _commands(parser) if key.partition("/")[2] in MODEL_NAME_COMMANDS
    )
    for name, sub in _commands(parser).items():
        flags = " ".join(s for a in _options(sub) for s in a.option_strings)
        opt_cases.append(f'        {name}) opts="{flags}" ;;')
        for action in _options(sub):
            if action.choices:
                words = " ".join(str(c) for c in action.choices)
                pattern = "|".join(action.option_strings)
                choice_cases.append(
                    f'        {name}:{pattern.replace("|", f"|{name}:")}) words="{words}" ;;'
                )
    run_cmds = "|".join(
        n for n, s in subs.items() if any(a.dest in RUN_ARGS for a in _positionals(s))
    )
    return f"""# bash completion for mmtop; install with:
#   mmtop completion bash > ~/.local/share/bash-completion/completions/mmtop
_mmtop_ids() {{
    mmtop ls -q ${{1:+--root "$1"}} 2>/dev/null
}}

_mmtop_refs() {{
    mmtop models ls -q ${{1:+--root "$1"}} 2>/dev/null
}}

_mmtop_datasets() {{
    mmtop datasets ls -q ${{1:+--root "$1"}} 2>/dev/null
}}

_mmtop() {{
    local cur prev cmd="" act="" key root="" i words
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            --root) root="${{COMP_WORDS[i+1]}}" ;;
            *)
                if [[ -z "$cmd" ]]; then
                    case "${{COMP_WORDS[i]}}" in {"|".join(subs)}) cmd="${{COMP_WORDS[i]}}" ;; esac
                elif [[ -z "$act" ]]; then
                    case "$cmd:${{COMP_WORDS[i]}}" in
                        {action_words or ":"}) act="${{COMP_WORDS[i]}}" ;;
                    esac
                fi ;;
        esac
    done
    key="$cmd${{act:+/$act}}"
    case "$prev" in
        --root) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        -o|--output) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -b|--baseline) COMPREPLY=($(compgen -W "$(_mmtop_ids "$root")" -- "$cur")); return ;;
    esac
    words=""
    case "$key:$prev" in
{chr(10).join(choice_cases)}
    esac
    if [[ -n "$words" ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); return; fi
    if [[ -z "$cmd" ]]; then
        COMPREPLY=($(compgen -W "{" ".join(subs)} {top_opts}" -- "$cur") $(compgen -d -- "$cur"))
        return
    fi
    local opts=""
    case "$key" in
{chr(10).join(opt_cases)}
    esac
    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); return; fi
    if [[ -z "$act" ]]; then
        case "$cmd" in
{chr(10).join(action_cases)}
        esac
        if [[ -n "$words" ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); return; fi
    fi
    case "$key" in
        {ref_keys or ":"}) COMPREPLY=($(compgen -W "$(_mmtop_refs "$root")" -- "$cur")); return ;;
        {dataset_keys or ":"})
            COMPREPLY=($(compgen -W "$(_mmtop_datasets "$root")" -- "$cur")); return ;;
        {name_keys or ":"})
            local names
            names="$(_mmtop_refs "$root" | sed 's|/[^/]*$||' | sort -u)"
            [[ "$prev" == "$act" ]] && COMPREPLY=($(compgen -W "$names" -- "$cur"))
            return ;;
    esac
    case "$cmd" in
        {run_cmds or "show"}) COMPREPLY=($(compgen -W "$(_mmtop_ids "$root")" -- "$cur")) ;;
        completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
        export) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}}
complete -o default -F _mmtop mmtop
"""


# ----------------------------------------------------------------------------- zsh
def _zsh_text(text: str | None) -> str:
    """Help text safe inside a single-quoted zsh _arguments spec."""
    return re.sub(r"[\[\]:'\"`$\\]", "", (text or "").replace("%", "%%"))


def _zsh_action(action: argparse.Action) -> str:
    if action.choices:
        return f":{action.dest}:({' '.join(str(c) for c in action.choices)})"
    if action.nargs == 0:
        return ""
    if set(action.option_strings) & DIR_OPTIONS:
        return ":folder:_files -/"
    if set(action.option_strings) & FILE_OPTIONS:
        return ":file:_files"
    if action.dest in RUN_ARGS:
        return ":run:_mmtop_runs"
    if action.dest in REF_ARGS:
        return ":model:_mmtop_refs"
    if action.dest in DATASET_ARGS:
        return ":dataset:_mmtop_datasets"
    if action.dest == "dest":
        return ":file:_files"
    label = action.metavar if isinstance(action.metavar, str) else action.dest
    return f":{_zsh_text(label) or 'value'}: "


def _zsh_specs(parser: argparse.ArgumentParser) -> list[str]:
    specs: list[str] = []
    for action in _options(parser):
        if action.help == argparse.SUPPRESS:
            continue
        help_text = _zsh_text(action.help)
        for flag in action.option_strings:
            repeat = "*" if isinstance(action, argparse._AppendAction) else ""
            specs.append(f"'{repeat}{flag}[{help_text}]{_zsh_action(action)}'")
    for action in _positionals(parser):
        if isinstance(action, argparse._SubParsersAction):
            continue
        many = action.nargs in ("+", "*")
        optional = action.nargs in ("?", "*")
        prefix = "*" if many else ""
        colon = "::" if optional and not many else ":"
        value = _zsh_action(action).lstrip(":").split(":", 1)[-1]
        specs.append(f"'{prefix}{colon}{_zsh_text(action.dest)}:{value}'")
    return specs


def zsh_script(parser: argparse.ArgumentParser) -> str:
    subs = _subparsers(parser)
    commands = " ".join(f"'{n}:{_zsh_text(s.description)}'" for n, s in subs.items())
    cases = []
    for name, sub in subs.items():
        specs = " \\\n                ".join(_zsh_specs(sub))
        actions = _subparsers(sub)
        if not actions:
            cases.append(f"            {name})\n                _arguments {specs} ;;")
            continue
        described = " ".join(f"'{a}:{_zsh_text(p.description)}'" for a, p in actions.items())
        inner = "\n".join(
            f"                        {a})\n                            _arguments "
            + " \\\n                                ".join(_zsh_specs(p))
            + " ;;"
            for a, p in actions.items()
        )
        cases.append(
            f"            {name})\n"
            "                if (( CURRENT == 2 )); then\n"
            "                    local -a actions\n"
            f"                    actions=({described})\n"
            f"                    _describe -t actions '{name} action' actions\n"
            "                else\n"
            "                    shift words; (( CURRENT-- ))\n"
            "                    case $words[1] in\n"
            f"{inner}\n"
            "                    esac\n"
            "                fi ;;"
        )
    top = " \\\n        ".join(_zsh_specs(parser))
    return f"""#compdef mmtop
# zsh completion for mmtop; install with:
#   mmtop completion zsh > ~/.zfunc/_mmtop   (and fpath+=(~/.zfunc) before compinit)
_mmtop_runs() {{
    local root=${{opt_args[--root]}}
    local -a ids
    ids=(${{(f)"$(mmtop ls -q ${{root:+--root $root}} 2>/dev/null)"}})
    compadd -a ids
}}

_mmtop_refs() {{
    local root=${{opt_args[--root]}}
    local -a refs
    refs=(${{(f)"$(mmtop models ls -q ${{root:+--root $root}} 2>/dev/null)"}})
    compadd -a refs
}}

_mmtop_datasets() {{
    local root=${{opt_args[--root]}}
    local -a refs
    refs=(${{(f)"$(mmtop datasets ls -q ${{root:+--root $root}} 2>/dev/null)"}})
    compadd -a refs
}}

_mmtop() {{
    local curcontext="$curcontext" state line ret=1
    typeset -A opt_args
    _arguments -C \\
        {top} \\
        '1: :->command' \\
        '*:: :->args' && ret=0
    case $state in
        command)
            local -a commands
            commands=({commands})
            _describe -t commands 'mmtop command' commands && ret=0
            _files -/ && ret=0 ;;
        args)
            case $line[1] in
{chr(10).join(cases)}
            esac ;;
    esac
    return ret
}}

_mmtop "$@"
"""
