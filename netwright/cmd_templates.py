"""`netwright templates` lists the template gallery; `netwright new` writes one as a graph file.

`-p key=value` values are parsed by the parameter's declared kind (int, float, bool, choice,
text); an unknown template, parameter or value is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("templates", help="list templates and their parameters",
                       description="List the template gallery: each template's name, what it "
                                   "teaches, and its parameters with defaults and choices.")
    p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    p.set_defaults(handler=run_templates)

    p = sub.add_parser("new", help="write a graph file from a template",
                       description="Build a template with the given parameters and save it as a "
                                   "graph file. Example: netwright new vgg -p depth=11 "
                                   "-p batch_norm=true -o vgg11.json")
    p.add_argument("template", help="template name (see `netwright templates`)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="set a template parameter; repeat for several")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="graph file to write")
    p.set_defaults(handler=run_new)


def run_templates(args: argparse.Namespace) -> int:
    import templates

    entries = templates.catalog()
    if args.json:
        print(json.dumps(entries, indent=1))
        return 0
    width = max(len(e["name"]) for e in entries)
    for entry in entries:
        print(f"{entry['name'].ljust(width)}  {entry['summary']}")
        for param in entry["params"]:
            print(f"{' ' * width}    {_describe(param)}")
    return 0


def _describe(param: dict[str, Any]) -> str:
    default = _show(param["default"])
    text = f"{param['name']}={default} ({param['kind']})"
    if param.get("choices"):
        text += f" [{'|'.join(param['choices'])}]"
    return f"{text}: {param['help']}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if value == "" else str(value)


def run_new(args: argparse.Namespace) -> int:
    import graph_core as gc
    import templates

    try:
        tpl = templates.get_template(args.template)
        params = dict(parse_assignment(tpl, item) for item in args.param)
        graph = templates.build(tpl.name, **params)
    except templates.TemplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        gc.save_graph(graph, args.output)
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    summary = gc.summarize(graph)
    print(f"{args.output}: {tpl.name} ({len(graph.nodes)} nodes, {summary.total_params:,} parameters)")
    return 0


def parse_assignment(tpl: Any, item: str) -> tuple[str, Any]:
    """"depth=16" -> ("depth", 16), parsed by the parameter's kind; TemplateError otherwise."""
    from templates import TemplateError

    key, eq, text = item.partition("=")
    key = key.strip()
    if not eq or not key:
        raise TemplateError(f"-p {item!r}: expected KEY=VALUE, e.g. -p latent_dim=2")
    spec = tpl.param(key)
    text = text.strip()
    if spec.kind == "int":
        try:
            return key, int(text)
        except ValueError:
            raise TemplateError(f"{tpl.name}: {key}: must be a whole number; got {text!r}") from None
    if spec.kind == "float":
        try:
            return key, float(text)
        except ValueError:
            raise TemplateError(f"{tpl.name}: {key}: must be a number; got {text!r}") from None
    if spec.kind == "bool":
        if text.lower() in _TRUE + _FALSE:
            return key, text.lower() in _TRUE
        raise TemplateError(f"{tpl.name}: {key}: must be true or false; got {text!r}")
    return key, text
