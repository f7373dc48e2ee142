"""The template registry: each template is a parametrised function that returns a fresh Graph.

A template declares its parameters with graph_core's `ParamSpec` (the same semantic kinds the
inspector uses for layer parameters: int, float, bool, choice, text), so the CLI and the designer
can parse and check values the same way they do for layers. `build()` checks every value, calls
the function, and stamps the template's description on the graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graph_core import Graph, ParamError, ParamSpec


class TemplateError(ValueError):
    """An unknown template, an unknown parameter, or a value the template cannot use."""


@dataclass(frozen=True)
class Template:
    """One entry of the gallery.

    Attributes:
        name: the stable name used by `build()` and `netwright new`.
        description: two or three sentences on the idea; the first is the one-line summary.
        params: the template's parameters, in the order they are listed.
        fn: builds the graph from fully resolved keyword arguments.
    """

    name: str
    description: str
    params: tuple[ParamSpec, ...]
    fn: Callable[..., Graph]

    @property
    def summary(self) -> str:
        """The first sentence of the description."""
        head, dot, _ = self.description.partition(". ")
        return head + ("." if dot else "")

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise TemplateError(f"template {self.name!r} has no parameter {name!r} (it has: {known})")

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with `given`, each value checked against its ParamSpec."""
        for name in given:
            self.param(name)
        out = {}
        for p in self.params:
            try:
                value = p.check(given.get(p.name, p.default))
            except ParamError as exc:
                raise TemplateError(f"{self.name}: {exc.param}: {exc.message}") from None
            # A number parameter may list its allowed values too (VGG's depth: 11, 13, 16, 19).
            if p.kind != "choice" and p.choices and str(value) not in p.choices:
                raise TemplateError(f"{self.name}: {p.name}: must be one of {', '.join(p.choices)}; "
                                    f"got {value!r}")
            out[p.name] = value
        return out


_TEMPLATES: dict[str, Template] = {}
_HIDDEN: set[str] = set()  # still buildable by name (old files, scripts), not listed in the gallery


Builder = Callable[..., Graph]


def template(name: str, description: str, *params: ParamSpec) -> Callable[[Builder], Builder]:
    """Register the decorated function as template `name` with the given parameters."""

    def wrap(fn: Callable[..., Graph]) -> Callable[..., Graph]:
        if name in _TEMPLATES:
            raise ValueError(f"template {name!r} is already registered")
        for p in params:
            p.check(p.default)  # a default that fails its own check is a bug in the template
        _TEMPLATES[name] = Template(name, " ".join(description.split()), tuple(params), fn)
        return fn

    return wrap


def get_template(name: str) -> Template:
    try:
        return _TEMPLATES[name]
    except KeyError:
        known = ", ".join(_TEMPLATES)
        raise TemplateError(f"unknown template {name!r} (templates: {known})") from None


def all_templates() -> list[Template]:
    """Every template, in gallery order (registration order); hidden ones are left out."""
    return [t for name, t in _TEMPLATES.items() if name not in _HIDDEN]


def hide(name: str) -> None:
    """Keep template `name` buildable by name but out of the gallery (a renamed template's old name)."""
    get_template(name)
    _HIDDEN.add(name)


def arrange(order: list[str]) -> None:
    """Put the gallery in this order (names not listed keep their place after the listed ones)."""
    global _TEMPLATES
    listed = {n: _TEMPLATES[n] for n in order if n in _TEMPLATES}
    _TEMPLATES = listed | {n: t for n, t in _TEMPLATES.items() if n not in listed}


def build(name: str, **params: Any) -> Graph:
    """Build template `name` with the given parameters (the rest take their defaults).

    Raises:
        TemplateError: unknown template or parameter, or a value that does not fit.
    """
    tpl = get_template(name)
    values = tpl.resolve(params)
    graph = tpl.fn(**values)
    graph.description = tpl.description
    return graph


def catalog() -> list[dict[str, Any]]:
    """The gallery as plain data: name, summary, description and each parameter's kind,
    default, choices, range and help (JSON-safe, for `netwright templates` and the designer)."""
    out = []
    for tpl in all_templates():
        params = []
        for p in tpl.params:
            entry: dict[str, Any] = {"name": p.name, "kind": p.kind, "default": p.default, "help": p.help}
            if p.choices:
                entry["choices"] = list(p.choices)
            if p.minimum is not None:
                entry["minimum"] = p.minimum
            if p.maximum is not None:
                entry["maximum"] = p.maximum
            params.append(entry)
        out.append({"name": tpl.name, "summary": tpl.summary, "description": tpl.description,
                    "params": params})
    return out


# ---- parameter constructors (short, so a template's signature reads like a table) ----------


def p_int(name: str, default: int, help: str, minimum: int = 1, maximum: int | None = None) -> ParamSpec:
    return ParamSpec(name, "int", default, help, minimum=minimum, maximum=maximum)


def p_float(name: str, default: float, help: str, minimum: float = 0.0,
            maximum: float | None = None) -> ParamSpec:
    return ParamSpec(name, "float", default, help, minimum=minimum, maximum=maximum)


def p_bool(name: str, default: bool, help: str) -> ParamSpec:
    return ParamSpec(name, "bool", default, help)


def p_choice(name: str, default: str, choices: tuple[str, ...], help: str) -> ParamSpec:
    return ParamSpec(name, "choice", default, help, choices=choices)


def p_text(name: str, default: str, help: str) -> ParamSpec:
    return ParamSpec(name, "text", default, help)
