"""The command-line reference, generated from the argparse parsers of `dxconform`."""

from __future__ import annotations

import argparse

from .markdown import code, table


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of every command, in the order `dxconform --help` lists them."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
    return [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]


def documented_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions
            if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)]


def usage_of(name: str, parser: argparse.ArgumentParser) -> str:
    parts = [f"dxconform {name}"]
    for action in documented_actions(parser):
        if action.option_strings:
            flag = action.option_strings[-1] if action.option_strings[-1].startswith("--") \
                else action.option_strings[0]
            word = flag if action.nargs == 0 else f"{flag} {action.metavar or action.dest.upper()}"
            parts.append(word if action.required else f"[{word}]")
        else:
            word = action.metavar or action.dest
            parts.append(f"{word} ..." if action.nargs in ("+", "*") else word)
    return " ".join(parts)


def option_row(action: argparse.Action) -> tuple[str, str]:
    if action.option_strings:
        flags = ", ".join(action.option_strings)
        name = flags if action.nargs == 0 else f"{flags} {action.metavar or action.dest.upper()}"
    else:
        name = action.metavar or action.dest
        if action.nargs in ("+", "*"):
            name += " ..."
    notes = []
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        notes.append("one of " + ", ".join(map(str, action.choices)))
    if isinstance(action, (argparse._AppendAction, argparse._AppendConstAction)) and \
            "repeatable" not in (action.help or ""):
        notes.append("repeatable")
    if action.required and action.option_strings:
        notes.append("required")
    help_text = (action.help or "") % {"default": action.default} if action.help else ""
    return code(name), help_text + (f" ({'; '.join(notes)})" if notes else "")


def render_commands(parser: argparse.ArgumentParser) -> str:
    """The summary table, then one section per command with its usage and options."""
    commands = subcommands(parser)
    out = [table(("command", "what it does"), [(f"[`{name}`](#dxconform-{name})", text)
                                                for name, text, _ in commands])]
    for name, text, sub in commands:
        out += [f'<a id="dxconform-{name}"></a>', "", f"### dxconform {name}", "", text[:1].upper() + text[1:]
                + ".", "", "```", usage_of(name, sub), "```", ""]
        actions = documented_actions(sub)
        if actions:
            out.append(table(("argument", "meaning"), [option_row(a) for a in actions]))
    return "\n".join(out)


def render() -> str:
    from ..cli.main import build_parser

    return render_commands(build_parser())
