"""GOV.UK form widgets that render each component once per shape, not once per field.

govuk-frontend-wtf's widgets (`GovTextInput`, `GovRadioInput`, ...) map a WTForms field to the
parameters of a GOV.UK Frontend macro, then call Flask's `render_template` on a one-line
template that imports and runs the macro: every field of every page runs the template context
processors, imports the macro and its helpers again, and runs the whole macro (attributes,
label, hint, error message, `trim | indent`). On the concern form that was 11 of its 19 ms.

The widgets here are the library's, with `render` replaced, and three pieces of its parameter
mapping done the same way for less: the template's `params` merged into the field's without
deepmerge (`_merge`), the items of checkboxes and radios read from the field's choices instead of
from an option field built for each (`_choice_items`), and a single checkbox iterated without a
class made per call (`_OneField`). The rendering:

- the macro is called directly, from the module of a template the Jinja environment caches
  (which macro: read once from the library's own one-line template, so it cannot drift);
- its output is memoised by the *shape* of the parameters. Every string under a `text`,
  `html` or `value` key is replaced by a numbered marker (equal strings by the same marker, so
  a radio item still matches its value), the macro renders that once, and the result is kept
  as literal pieces and marker slots. Later calls of the same shape only escape their strings
  into the slots. The cache therefore holds form structure (ids, classes, booleans, how many
  items) and never a value a user typed or a child's name.

A shape is kept only after a check: rendered again with probe strings (markup characters,
and separately whitespace and line breaks), the pieces filled with the probes must equal the
macro's own output. A macro that transforms a string rather than printing it escaped (`trim`,
`indent`, `length`...) fails the check for that string, and a value that the check showed
the macro would change (a line break in a label that gets indented) is rendered the slow way.
tests/web/test_form_html_identical.py compares every form of the portal with the library's
own rendering and mapping.

Most widgets skip the mapping and the memo's key as well, with a *plan* per field and template
call (see "Field plans" below): the kept shape, filled from the field's own strings.

The same memo serves the components portal templates call themselves (`DIRECT_COMPONENTS`: the
header's service navigation, "Sign out" and "Hide this page", the skip link, warning and inset
text, fieldsets, error summaries, banners, summary lists): a template importing one gets a
module whose macros are memoised components (`_Template`, the environment's template class).
For these, the slots also take strings under `...Text`, `...Html` and `href` keys, each
attribute's value, any Markup value (the header's sign-out form with its CSRF token) and the
body of a `{% call %}` block (rendered once, as the macro would).
tests/web/test_page_html_identical.py compares each component and the pages of every role
with the library's rendering.
"""

from __future__ import annotations

import re
import threading
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from types import CodeType
from typing import Any, Final

from flask import current_app
from flask.templating import Environment as FlaskEnvironment
from govuk_frontend_wtf import wtforms_widgets as wtf
from govuk_frontend_wtf.gov_form_base import GovFormBase
from jinja2 import Template
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.runtime import Context, Macro
from markupsafe import Markup, escape
from wtforms.fields.choices import SelectFieldBase

__all__ = [
    "GovCharacterCount",
    "GovCheckboxInput",
    "GovCheckboxesInput",
    "GovDateInput",
    "GovFileInput",
    "GovPasswordInput",
    "GovRadioInput",
    "GovSelect",
    "GovSubmitInput",
    "GovTextArea",
    "GovTextInput",
    "render_component",
]

# Strings under these keys are only ever printed (escaped, or `| safe` for html) by the GOV.UK
# macros, or compared with each other (a radio item's value): they become markers. Empty and
# all-whitespace strings stay in the key (a macro may test them, after `trim`, for truth).
_SLOT_KEYS: Final = frozenset({"text", "html", "value"})
# The components templates call directly (`{% from ... import govukButton %}`): page furniture and
# the few macros a page writes itself. Their strings under `...Text` and `...Html` keys
# (`titleText`, `iconFallbackText`) are slots too, and so is any Markup value (the header's
# `slots.end`, a call block's body): none of these macros transforms such a string (no
# `replace`, unlike the character count's `textareaDescriptionText`), and the check below would
# catch one that trimmed or indented it. A component not listed here is imported unchanged.
DIRECT_COMPONENTS: Final = frozenset(
    f"govuk_frontend_jinja/components/{name}/macro.html" for name in (
        "button", "error-summary", "fieldset", "inset-text", "notification-banner",
        "phase-banner", "service-navigation", "skip-link", "summary-list", "warning-text"))
_LIBRARY_PREFIXES: Final = ("govuk_frontend_jinja/", "govuk_frontend_wtf/")
_MARK_OPEN: Final = "\ue000"
_MARK_CLOSE: Final = "\ue001"
_MARK_RE: Final = re.compile(f"{_MARK_OPEN}([0-9]+){_MARK_CLOSE}")
# A string a filter such as trim or indent could change: whitespace at either end, or any
# character str.splitlines() breaks on.
_PLAIN_RE: Final = re.compile(r"\A(?!\s)[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*(?<!\s)\Z")
_IMPORT_RE: Final = re.compile(r"""\{%-?\s*from\s+['"]([^'"]+)['"]\s+import\s+(\w+)""")
_MAX_SHAPES: Final = 2048
_MISSING: Final = object()


class _Uncacheable(Exception):
    """This call's parameters have no stable shape (an unhashable leaf)."""


class _Compiled:
    """A component's output for one shape: literal pieces and marker slots."""

    __slots__ = ("count", "escaped", "form", "pieces", "plain", "raw_slots", "ws_safe")

    def __init__(self, pieces: list[str | int], raw_slots: frozenset[int],
                 ws_safe: frozenset[int], count: int) -> None:
        self.count = count            # how many markers the shape has
        self.pieces = pieces          # str: literal; int: the value of that marker
        self.raw_slots = raw_slots    # markers whose value is printed as it is (html, Markup)
        self.ws_safe = ws_safe        # markers whose value may hold line breaks or edge spaces
        # The pieces as one str.format pattern ("{0}" a marker's value): filled in C.
        self.form = "".join(p.replace("{", "{{").replace("}", "}}") if isinstance(p, str)
                            else f"{{{p}}}" for p in pieces)
        self.set_ws_safe(ws_safe)

    def set_ws_safe(self, ws_safe: frozenset[int]) -> None:
        self.ws_safe = ws_safe
        self.plain = [i for i in range(self.count) if i not in ws_safe]  # must be plain
        self.escaped = [i not in self.raw_slots for i in range(self.count)]


# A shaped call: the parameters with _Slot leaves, and the marker of a call block's body.
_Shaped = tuple[Any, "int | None"]


class _Component:
    """One GOV.UK macro, called directly, with its memo of shapes.

    `wrapper`: the one-line template of govuk-frontend-wtf around the macro (a form widget), or
    None for a macro a template calls itself. `extended`: the slots of DIRECT_COMPONENTS (also
    `...Text`, `...Html` and Markup values, and a call block's body)."""

    def __init__(self, wrapper: Template | None, macro: Callable[..., str],
                 shapes: dict[Any, _Compiled | None], lock: threading.Lock,
                 extended: bool = False) -> None:
        self.wrapper = wrapper
        self.macro = macro
        self.extended = extended
        self.around: tuple[str, str] | None = None if wrapper is not None else ("", "")
        self.shapes = shapes  # None: checked, and not cacheable
        self.lock = lock

    def __call__(self, params: Any = _MISSING, *args: Any, caller: Any = None,
                 **kwargs: Any) -> Markup:
        if args or kwargs or not isinstance(params, Mapping):
            # Not the one-dictionary call of a GOV.UK macro: the macro itself.
            call = (params, *args) if params is not _MISSING else args
            if caller is not None:
                kwargs["caller"] = caller
            return Markup(self.macro(*call, **kwargs))  # noqa: S704 - the macro's output
        body: str | None = None
        if caller is not None:
            # A call block's body, rendered once here (as the macro would, once): a slot.
            body = caller()
            if not isinstance(body, Markup):
                return self._render(params, body)
        found = self.lookup(params, body)
        if found is not None:
            out = fill(found[0], found[1])
            if out is not None:
                return out
        return self._render(params, body)

    def lookup(self, params: Mapping[str, Any], body: str | None = None
               ) -> tuple[_Compiled, list[str], Any] | None:
        """The kept shape of these parameters (checked and compiled the first time), the
        values of its slots and its key; None if they have no shape that can be kept."""
        values: list[str] = []
        kinds: dict[int, set[str]] = {}
        seen: dict[tuple[str, str], int] = {}
        try:
            key: Any = _key(dict(params), values, kinds, seen, None, self.extended)
        except _Uncacheable:
            return None
        body_at: int | None = None
        if body is not None:
            body_at = len(values)
            values.append(str(body))
            kinds[body_at] = {"markup"}
            key = (key, body_at)
        found = self.shapes.get(key, _MISSING)
        if found is None or isinstance(found, _Compiled):
            compiled = found
        else:
            shaped = (_shape(dict(params), seen, None, self.extended), body_at)
            compiled = self._compile(shaped, kinds)
            with self.lock:
                if len(self.shapes) >= _MAX_SHAPES:
                    self.shapes.clear()
                self.shapes[key] = compiled
        return None if compiled is None else (compiled, values, key)

    def _render(self, params: Mapping[str, Any], body: str | None = None) -> Markup:
        return Markup(self._direct(params, body))  # noqa: S704 - the macro's autoescaped output

    def _direct(self, params: Mapping[str, Any], body: str | None = None) -> str:
        """The wrapper template's output (or the macro's), by calling its macro directly."""
        if body is None:
            out = str(self.macro(params))
        else:
            out = str(self.macro(params, caller=lambda: body))
        if self.around is None:
            assert self.wrapper is not None
            whole = str(self.wrapper.render(params=params))
            at = whole.find(out)
            if at < 0:
                raise LookupError(f"{self.wrapper.name} writes more than its macro")
            self.around = (whole[:at], whole[at + len(out):])
        return self.around[0] + out + self.around[1]

    def _run(self, shaped: _Shaped, strings: list[str], markup: frozenset[int]) -> str:
        """The macro's output for the shape with `strings` in its slots (Markup where the
        value was Markup)."""
        filled = [Markup(s) if i in markup else s  # noqa: S704 - probes and markers only
                  for i, s in enumerate(strings)]
        params = _fill(shaped[0], filled)
        return self._direct(params, None if shaped[1] is None else filled[shaped[1]])

    def _compile(self, shaped: _Shaped, kinds: dict[int, set[str]]) -> _Compiled | None:
        count = len(kinds)
        raw = frozenset(i for i, k in kinds.items() if "html" in k or "markup" in k)
        markup = frozenset(i for i, k in kinds.items() if "markup" in k)
        marked = self._run(shaped, [_marker(i) for i in range(count)], markup)
        pieces: list[str | int] = []
        at = 0
        for m in _MARK_RE.finditer(marked):
            pieces.append(marked[at:m.start()])
            pieces.append(int(m.group(1)))
            at = m.end()
        pieces.append(marked[at:])
        if any(isinstance(p, str) and (_MARK_OPEN in p or _MARK_CLOSE in p) for p in pieces):
            return None  # a marker the macro cut or changed
        compiled = _Compiled([p for p in pieces if p != ""], raw, frozenset(), count)
        # Markup characters, distinct lengths: the pieces must give exactly the macro's output.
        probes = [f"<b a='{i}'>&amp;\"x{'y' * i}" for i in range(count)]
        if not self._agrees(compiled, shaped, probes, markup):
            return None
        # Line breaks and edge spaces: all at once, else one value at a time (what users type,
        # and a block of html: labels, hints and choices are one line, so the rest simply take
        # the slow way if not).
        spaced = [f"  {p}\n\r\n{p}\u2028 " for p in probes]
        if count and self._agrees(compiled, shaped, spaced, markup):
            compiled.set_ws_safe(frozenset(range(count)))
        elif count:
            safe = set()
            for i in (i for i, k in kinds.items() if "value" in k or "markup" in k):
                one = [*probes[:i], spaced[i], *probes[i + 1:]]
                if self._agrees(compiled, shaped, one, markup):
                    safe.add(i)
            compiled.set_ws_safe(frozenset(safe))
        return compiled

    def _agrees(self, compiled: _Compiled, shaped: _Shaped, probes: list[str],
                markup: frozenset[int]) -> bool:
        expected = self._run(shaped, probes, markup)
        got = "".join(
            piece if isinstance(piece, str)
            else (probes[piece] if piece in compiled.raw_slots else str(escape(probes[piece])))
            for piece in compiled.pieces
        )
        return got == expected


def _marker(i: int) -> str:
    return f"{_MARK_OPEN}{i}{_MARK_CLOSE}"


def fill(compiled: _Compiled, values: list[str]) -> Markup | None:
    """A kept shape with these values in its slots: the macro's own escaping replayed (literal
    pieces it wrote, escaped or html values). None when a value is one the check showed the
    macro would change (a line break where it indents): rendered the slow way."""
    for i in compiled.plain:
        if not _PLAIN_RE.match(values[i]):
            return None
    escaped = compiled.escaped
    return Markup(compiled.form.format(*[  # noqa: S704
        escape(v) if escaped[i] else v for i, v in enumerate(values)]))


class _Slot:
    """Where a marker goes in the shaped parameters."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


_LEAF_TYPES: Final = frozenset({str, int, float, bool, type(None)})
# Leaves that are never a slot, whatever their key.
_FIXED_LEAVES: Final = frozenset({int, float, bool, type(None)})


def _slot_kind(key: Any, extended: bool) -> str | None:
    """What a string under `key` is, if a slot: "text" and "value" (escaped), "html" (raw);
    "attributes": the strings of the dict under it are text slots."""
    if key in _SLOT_KEYS:
        return str(key)
    if extended and isinstance(key, str):
        if key.endswith("Text") or key == "href":
            return "text"
        if key.endswith("Html"):
            return "html"
        if key == "attributes":
            return "attributes"  # each attribute's value a text slot (not the dict itself)
    return None


class _Kinds(dict[Any, "str | None"]):
    """_slot_kind of each key, worked out once (the keys are the macros' parameter names)."""

    def __init__(self, extended: bool) -> None:
        super().__init__()
        self.extended = extended

    def __missing__(self, key: Any) -> str | None:
        kind = self[key] = _slot_kind(key, self.extended)
        return kind


_KINDS: Final = (_Kinds(False), _Kinds(True))


def _slot(value: str, cls: str, slot: str, values: list[str], kinds: dict[int, set[str]],
          seen: dict[tuple[str, str], int]) -> tuple[str, int, str]:
    """A slot string's marker: its number (equal strings of one class share one, in `seen`;
    a new one is appended to `values`), with the kinds of slot it fills."""
    index = seen.get((value, cls))
    if index is None:
        index = seen[(value, cls)] = len(values)
        values.append(value)
        kinds[index] = {slot}
    else:
        kinds[index].add(slot)
    return ("s", index, slot)


def _key(value: Any, values: list[str], kinds: dict[int, set[str]],
         seen: dict[tuple[str, str], int], slot_kind: str | None = None,
         extended: bool = False) -> Any:
    """A hashable key of the parameters with each slot string replaced by its marker number;
    the slot strings are appended to `values` (equal strings share a number, in `seen`).
    A slot: a string (not empty, not only spaces) under a slot kind's key, and for
    DIRECT_COMPONENTS any such Markup. Equal strings of one class share a marker."""
    kind = type(value)
    slot: str | None = None
    if kind is str or (kind is Markup and not extended):
        if slot_kind is None or slot_kind == "attributes" or not value or value.isspace():
            return value
        slot, cls = slot_kind, ("h" if slot_kind == "html" else "t")
    elif kind is dict:
        # Most leaves are fixed words, numbers and booleans: kept in place without a call each
        # (a leaf's entry has three parts, a walked value's two, so the two never meet).
        attributes = slot_kind == "attributes"
        kinds_of = _KINDS[extended]
        entries: list[Any] = []
        for k, v in value.items():
            inner = "text" if attributes else kinds_of[k]
            leaf = type(v)
            if leaf in _FIXED_LEAVES or (leaf is str and (inner is None or inner == "attributes"
                                                          or not v or v.isspace())):
                entries.append((k, leaf, v))
            elif leaf is str and inner is not None:  # a slot (as below, without a walk)
                entries.append((k, _slot(v, "h" if inner == "html" else "t", inner,
                                         values, kinds, seen)))
            else:
                entries.append((k, _key(v, values, kinds, seen, inner, extended)))
        return ("d", tuple(entries))
    elif kind is list or kind is tuple:
        return ("l", tuple([(type(v), v) if type(v) in _FIXED_LEAVES
                            else _key(v, values, kinds, seen, None, extended) for v in value]))
    elif kind is Markup and extended and value and not value.isspace():
        slot, cls = "markup", "m"
    if slot is not None:
        return _slot(value, cls, slot, values, kinds, seen)
    if kind in _LEAF_TYPES:
        return (kind, value)
    if isinstance(value, Mapping | list | tuple):
        raise _Uncacheable()  # a mapping or sequence of another type: rendered directly
    try:
        hash(value)
    except TypeError:
        raise _Uncacheable() from None
    return (kind, value)


def _shape(value: Any, seen: dict[tuple[str, str], int], slot_kind: str | None = None,
           extended: bool = False) -> Any:
    """The parameters with each slot string replaced by its _Slot (numbered as by _key)."""
    kind = type(value)
    if kind is dict:
        kinds_of = _KINDS[extended]
        return {k: _shape(v, seen, "text" if slot_kind == "attributes" else kinds_of[k],
                          extended) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_shape(v, seen, None, extended) for v in value]
    if kind is Markup and extended:
        return _Slot(seen[(value, "m")]) if value and not value.isspace() else value
    if (kind is str or kind is Markup) and slot_kind is not None \
            and slot_kind != "attributes" and value and not value.isspace():
        return _Slot(seen[(value, "h" if slot_kind == "html" else "t")])
    return value


def _fill(shaped: Any, strings: list[str]) -> Any:
    if isinstance(shaped, dict):
        return {k: _fill(v, strings) for k, v in shaped.items()}
    if isinstance(shaped, list):
        return [_fill(v, strings) for v in shaped]
    if isinstance(shaped, _Slot):
        return strings[shaped.index]
    return shaped


# Each environment keeps its components in its own `__dict__` (not a registry keyed by the
# environment: a component holds its macro, which holds the environment, so a weak key there
# never died and every app the tests made stayed in memory).
_components_lock = threading.Lock()
# The shapes of each widget template, shared by every app's environment in the process: a shape
# is what the library's macro (a package file, the same for every app made by `create_app`)
# writes for it, so an app made later (the tests make one per test) need not check it again.
_shapes: dict[str, tuple[dict[Any, _Compiled | None], threading.Lock]] = {}


def _component(env: FlaskEnvironment, template: str) -> _Component:
    """The macro govuk-frontend-wtf's one-line `template` calls, from a cached template."""
    per_env: dict[str, _Component] | None = env.__dict__.get("govuk_components")
    if per_env is None:
        with _components_lock:
            per_env = env.__dict__.setdefault("govuk_components", {})
    component = per_env.get(template)
    if component is None:
        assert env.loader is not None
        source = env.loader.get_source(env, template)[0]
        found = _IMPORT_RE.search(source)
        if found is None:
            raise LookupError(f"{template} imports no GOV.UK macro")
        macro = getattr(env.get_template(found.group(1)).module, found.group(2))
        with _components_lock:
            shapes, lock = _shapes.setdefault(template, ({}, threading.Lock()))
        component = per_env[template] = _Component(env.get_template(template), macro, shapes,
                                                   lock)
    return component


def render_component(template: str, params: Mapping[str, Any]) -> Markup:
    """What `render_template(template, params=params)` gives for a govuk-frontend-wtf widget
    template, without a template render per call."""
    return _component(current_app.jinja_env, template)(params)


class _DirectModule:
    """A GOV.UK component's macro module as a portal template imports it: each macro a
    _Component (its output memoised by shape, as the form widgets'). Anything else the module
    holds is passed through."""

    def __init__(self, template: str, module: Any) -> None:
        self.__name__ = module.__name__
        self.module = module
        self.template = template

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.module, name)
        if not isinstance(value, Macro):
            return value
        with _components_lock:
            shapes, lock = _shapes.setdefault(f"{self.template}:{name}", ({}, threading.Lock()))
        component = _Component(None, value, shapes, lock, extended=True)
        setattr(self, name, component)  # found directly from now on
        return component


class _Template(Template):
    """Jinja's Template, except that a template outside the GOV.UK packages importing one of
    DIRECT_COMPONENTS gets its macros memoised (the library's own templates import the macros
    unchanged: their calls are inside a memoised call already, or a widget's check)."""

    def _get_default_module(self, ctx: Context | None = None) -> Any:
        module = super()._get_default_module(ctx)
        if (ctx is None or self.name not in DIRECT_COMPONENTS or module is not self._module
                or (ctx.name or "").startswith(_LIBRARY_PREFIXES)):
            return module
        direct: _DirectModule | None = self.__dict__.get("_direct_module")
        if direct is None or direct.module is not module:
            direct = self.__dict__["_direct_module"] = _DirectModule(self.name, module)
        return direct


def _merge(base: Any, nxt: Any) -> Any:
    """govuk-frontend-wtf's `merger.merge` (deepmerge with lists appended, dicts merged into
    the first in place, anything else the second's), without deepmerge's strategy lookups and
    path lists for each value: the template's `params` are merged into every field's."""
    if isinstance(base, list) and isinstance(nxt, list):
        return base + nxt
    if isinstance(base, dict) and isinstance(nxt, dict):
        for k, v in nxt.items():
            base[k] = _merge(base[k], v) if k in base else v
        return base
    return nxt


class _Rendered:
    """Replaces `GovFormBase.render` (a `render_template` per field) and `merge_params`."""

    template: str

    def render(self, params: dict[str, Any]) -> Markup:
        component = _component(current_app.jinja_env, self.template)
        learning: _Learning | None = _learning.__dict__.pop("call", None)
        found = component.lookup(params)
        if found is None:
            return component._render(params)
        if learning is not None:
            learning.learn(found)
        out = fill(found[0], found[1])
        return out if out is not None else component._render(params)

    def merge_params(self, a: Any, b: Any) -> Any:
        return _merge(a, b)


def _choice_parts(field: Any) -> list[tuple[str, str, bool]] | None:
    """Each choice of a choice field as govuk-frontend-wtf's `GovIterableBase.__call__` reads
    it, read from the choices instead of from a WTForms option field built for each
    (`SelectFieldBase.__iter__`: an `_Option` labelled `label or value`, holding the value,
    `checked` the choice's `selected`; its `_value()` is `str(value)`): (text, value, checked).
    None for a field that iterates otherwise, or a choice without label or value (its option
    is named after the field): the library's own way then."""
    kind = type(field)
    if kind.__iter__ is not SelectFieldBase.__iter__ or kind._Option is not _OPTION:
        return None
    parts: list[tuple[str, str, bool]] = []
    for choice in field._iter_choices_normalized():
        label = choice.label or choice.value
        if label is None:
            return None
        parts.append((label, str(choice.value), bool(choice.selected)))
    return parts


def _choice_items(field: Any) -> list[dict[str, Any]] | None:
    """The `items` govuk-frontend-wtf's `GovIterableBase.__call__` makes of a choice field, one
    per choice (_choice_parts)."""
    parts = _choice_parts(field)
    if parts is None:
        return None
    items: list[dict[str, Any]] = []
    for text, value, checked in parts:
        item: dict[str, Any] = {"text": text, "value": value}
        if checked:
            item["checked"] = True
        items.append(item)
    return items


_OPTION: Final = SelectFieldBase._Option


class _Choices(_Rendered):
    """Checkboxes and radios of a choice field: `GovIterableBase.__call__` with the items made
    by _choice_items."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        items = _choice_items(field)
        if items is None:
            return super().__call__(field, **kwargs)  # type: ignore[misc, no-any-return]
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and "required" in getattr(field, "flags", []):
            kwargs["required"] = True
        kwargs["items"] = items
        return GovFormBase.__call__(self, field, **kwargs)  # type: ignore[no-any-return]


class _OneField:
    """A BooleanField as an iterable of itself: the library's `IterableField`, which
    `GovCheckboxInput.__call__` defines again (a class made) on every call."""

    __slots__ = ("field",)

    def __init__(self, field: Any) -> None:
        self.field = field

    def __iter__(self) -> Any:
        return iter((self.field,))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.field, name)


class _OneCheckbox(_Rendered):
    """`GovCheckboxInput.__call__` with _OneField."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        return wtf.GovCheckboxesInput.__call__(  # type: ignore[no-any-return]
            self, _OneField(field), **kwargs)


# ---------------------------------------------------------------------------------------------
# Field plans: a field's parameters mapped once per form field and template call (issue 15).
#
# The library maps a field to the macro's parameters on every call (`render_field`, the widget's
# `__call__`, `map_gov_params`, the merge of the template's `params`), and the memo then walks
# those parameters for its key. For the widgets below, everything in those parameters but a
# handful of strings is fixed by the field's definition and the template's call: the strings
# (the "sources": label, hint, value typed, error message, each choice's text and value, the
# template's own strings) and a few facts (which choices are ticked, whether there is an
# error) are all that change from one request to the next. A plan is learnt from one call
# made the library's way: the kept shape it rendered, and which source fills each of its
# slots. A later call with the same signature (the fixed parts and facts, and which sources
# are empty or equal to each other: what decides the shape) fills that shape from the
# sources directly. A plan is kept only when every slot of the shape is one of the sources,
# and when its numbering agrees with the memo's: anything else stays the library's way.
# A signature holds the field's id and name, the template's fixed words, numbers and flags:
# never a source's text (the values typed, labels, a child's name).


class _Plan:
    """A kept shape and, for each of its markers, the source that fills it."""

    __slots__ = ("compiled", "pick")

    def __init__(self, compiled: _Compiled, pick: list[int]) -> None:
        self.compiled = compiled
        self.pick = pick


_plans: dict[Any, _Plan | None] = {}  # None: learnt that there is no plan
_plans_lock = threading.Lock()
_learning = threading.local()  # `call`: the _Learning of the call being made the library's way


def _key_slots(key: Any, out: list[tuple[int, str]]) -> None:
    """The slots of a memo key (`_key`), in the order of its walk: (marker, kind)."""
    if type(key) is not tuple:
        return
    if len(key) == 3 and key[0] == "s" and type(key[1]) is int:
        out.append((key[1], key[2]))
        return
    for part in key:
        _key_slots(part, out)


class _Learning:
    """A call being made the library's way, to learn its plan from."""

    __slots__ = ("first", "signature", "sources")

    def __init__(self, signature: Any, sources: list[str], first: dict[str, int]) -> None:
        self.signature = signature
        self.sources = sources
        self.first = first  # each source string: the first source equal to it

    def learn(self, found: tuple[_Compiled, list[str], Any]) -> None:
        plan = self._plan(found)
        with _plans_lock:
            if len(_plans) >= _MAX_SHAPES:
                _plans.clear()
            _plans[self.signature] = plan  # None: this signature is made the library's way

    def _plan(self, found: tuple[_Compiled, list[str], Any]) -> _Plan | None:
        compiled, values, key = found
        slots: list[tuple[int, str]] = []
        _key_slots(key, slots)
        marker: dict[tuple[int, str], int] = {}
        pick: list[int] = []
        for index, kind in slots:
            source = self.first.get(values[index])
            if source is None:
                return None  # a string from somewhere else: no plan
            cls = "h" if kind == "html" else "t"
            at = marker.setdefault((source, cls), len(pick))
            if at == len(pick):
                pick.append(source)
            if at != index:
                return None  # numbered otherwise than the memo: no plan
        if len(pick) != len(values) or [self.sources[i] for i in pick] != values:
            return None
        return _Plan(compiled, pick)


def _pattern(sources: list[str]) -> tuple[dict[str, int], tuple[int, ...]] | None:
    """Which sources are empty (-1) and which equal an earlier one (its number): with the
    fixed parts, what decides the shape. None for a source that is not a string, or only
    spaces (kept in the memo's key as it is)."""
    first: dict[str, int] = {}
    pattern: list[int] = []
    for n, text in enumerate(sources):
        if not isinstance(text, str):
            return None
        if not text:
            pattern.append(-1)
        elif text.isspace():
            return None
        else:
            pattern.append(first.setdefault(text, n))
    return first, tuple(pattern)


class _Planned:
    """Fills a field's planned shape from its sources, or calls the widget the library's way
    (learning the plan). `_parts`: the signature's fixed parts and the sources of one call."""

    def _parts(self, field: Any, kwargs: dict[str, Any]) -> tuple[Any, list[str]] | None:
        raise NotImplementedError

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        learning: _Learning | None = None
        # Only the widgets below themselves: a subclass may map otherwise (DateBoxes does).
        parts = self._parts(field, kwargs) if type(self) in _PLANNED else None
        if parts is not None:
            fixed, sources = parts
            params = kwargs.get("params")
            if params is not None:
                if not isinstance(params, dict):
                    parts = None
                else:
                    found: list[str] = []
                    try:
                        fixed = (fixed, _key(params, found, {}, {}))
                    except _Uncacheable:
                        parts = None
                    sources = sources + found
        if parts is not None:
            counted = _pattern(sources)
            if counted is not None:
                first, pattern = counted
                signature = (self, fixed, pattern)
                plan = _plans.get(signature, _MISSING)
                if isinstance(plan, _Plan):
                    out = fill(plan.compiled, [sources[i] for i in plan.pick])
                    if out is not None:
                        return out
                elif plan is _MISSING:
                    learning = _Learning(signature, sources, first)
        if learning is not None:
            _learning.call = learning
        try:
            return super().__call__(field, **kwargs)  # type: ignore[misc, no-any-return]
        finally:
            if learning is not None:
                _learning.__dict__.pop("call", None)


def _extra(kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """The keyword arguments of a call besides `params` (the field's `render_kw`), as fixed
    parts of a signature; None if one cannot be (not hashable)."""
    if len(kwargs) == ("params" in kwargs):
        return ()
    extra = tuple((k, v) for k, v in kwargs.items() if k != "params")
    try:
        hash(extra)
    except TypeError:
        return None
    return extra


def _error(field: Any) -> list[str]:
    return [field.errors[0]] if field.errors else []


class _PlannedInput(_Planned):
    """Text inputs, text areas, character counts and buttons (`GovInput.__call__` and the
    like): the field's value, label, hint and error are its sources."""

    def _parts(self, field: Any, kwargs: dict[str, Any]) -> tuple[Any, list[str]] | None:
        extra = _extra(kwargs)
        if extra is None:
            return None
        flags = getattr(field, "flags", ())
        fixed = (field.id, field.name, "required" in flags, bool(field.errors), extra)
        return fixed, [field.label.text, field.description, field._value(), *_error(field)]


class _PlannedChoices(_Planned):
    """Checkboxes and radios of a choice field (_Choices): each choice's text and value are
    sources, which are ticked a fixed part."""

    def _parts(self, field: Any, kwargs: dict[str, Any]) -> tuple[Any, list[str]] | None:
        if len(kwargs) != ("params" in kwargs) or "items" in kwargs.get("params", ()):
            return None
        choices = _choice_parts(field)
        if choices is None:
            return None
        return _with_choices(field, bool(field.errors), choices)


class _PlannedCheckbox(_Planned):
    """A single checkbox (_OneCheckbox): its label and value are sources, whether it is ticked
    a fixed part."""

    def _parts(self, field: Any, kwargs: dict[str, Any]) -> tuple[Any, list[str]] | None:
        if len(kwargs) != ("params" in kwargs) or "items" in kwargs.get("params", ()):
            return None
        flags = getattr(field, "flags", ())
        fixed = (field.id, field.name, "required" in flags, bool(field.errors),
                 bool(getattr(field, "checked", field.data)))
        return fixed, [field.label.text, field.description, field._value(), *_error(field)]


class _PlannedSelect(_Planned):
    """A select (`GovSelect.__call__`): each choice's text and value are sources, which is
    selected a fixed part."""

    def _parts(self, field: Any, kwargs: dict[str, Any]) -> tuple[Any, list[str]] | None:
        extra = _extra(kwargs)
        if extra is None:
            return None
        return _with_choices(field, extra, [
            (label, value, selected) for value, label, selected, _ in field.iter_choices()])


def _with_choices(field: Any, shape: Any, choices: list[tuple[Any, Any, bool]]
                  ) -> tuple[Any, list[str]]:
    """The fixed parts (`shape`, and which of the (text, value, ticked) `choices` are ticked)
    and the sources (label, hint, error, then each choice's text and value) of a field of
    choices: checkboxes, radios, a select."""
    flags = getattr(field, "flags", ())
    fixed = (field.id, field.name, "required" in flags, shape, tuple([c[2] for c in choices]))
    sources = [field.label.text, field.description, *_error(field)]
    for text, value, _ticked in choices:
        sources.append(text)
        sources.append(value)
    return fixed, sources


class PlannedDate(_Planned):
    """A date input (`GovDateInput`, and DateBoxes, which maps it so unless there is an error)
    with no error: the value and each box's are sources, which boxes are empty (None) a fixed
    part. With an error, the library's way (which boxes are outlined depends on it)."""

    def _parts(self, field: Any, kwargs: dict[str, Any]) -> tuple[Any, list[str]] | None:
        extra = _extra(kwargs)
        if extra is None or field.errors:
            return None
        # The boxes as GovDateInput.map_gov_params reads them.
        if field.raw_data is not None:
            boxes = list(field.raw_data)
        elif field.data:
            boxes = field.data.strftime("%d %m %Y").split(" ")
        else:
            boxes = [None, None, None]
        if len(boxes) != 3:
            return None
        flags = getattr(field, "flags", ())
        fixed = (field.id, field.name, "required" in flags, extra,
                 tuple([box is None for box in boxes]))
        return fixed, [field.label.text, field.description, field._value(),
                       *[box for box in boxes if box is not None]]


def planned(widget: type[Any]) -> type[Any]:
    """Let a widget class (itself, not its subclasses) use its plans: for a subclass of a
    widget here whose mapping the plan's `_parts` describes (date_input.DateBoxes)."""
    _PLANNED.add(widget)
    return widget


def _rendered(widget: type[Any], base: type[Any] = _Rendered,
              planned: type[_Planned] | None = None) -> type[Any]:
    """The library's `widget` with `render` replaced (`_Rendered`, or `base`), under the
    library's name; `planned`: its field plans."""
    bases = (base, widget) if planned is None else (planned, base, widget)
    return type(widget.__name__, bases,
                {"__module__": __name__, "__qualname__": widget.__name__})


GovTextInput = _rendered(wtf.GovTextInput, planned=_PlannedInput)
class _LibraryPassword(wtf.GovPasswordInput):  # type: ignore[misc]
    """The library's password input with its field's `autocomplete` given to the component as
    the component's own: as an attribute it came second to the component's default,
    "current-password", so a browser offered the saved password for a new one and never saved
    the new (a walk of the account set-up)."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        given = (params.get("attributes") or {}).pop("autocomplete", None)
        if given:
            params["autocomplete"] = given
        return params


_LibraryPassword.__name__ = _LibraryPassword.__qualname__ = "GovPasswordInput"
GovPasswordInput = _rendered(_LibraryPassword)
GovCheckboxesInput = _rendered(wtf.GovCheckboxesInput, _Choices, _PlannedChoices)
GovCheckboxInput = _rendered(wtf.GovCheckboxInput, _OneCheckbox, _PlannedCheckbox)
GovRadioInput = _rendered(wtf.GovRadioInput, _Choices, _PlannedChoices)
GovDateInput = _rendered(wtf.GovDateInput, planned=PlannedDate)
GovFileInput = _rendered(wtf.GovFileInput)
GovSubmitInput = _rendered(wtf.GovSubmitInput, planned=_PlannedInput)
GovTextArea = _rendered(wtf.GovTextArea, planned=_PlannedInput)
GovCharacterCount = _rendered(wtf.GovCharacterCount, planned=_PlannedInput)
GovSelect = _rendered(wtf.GovSelect, planned=_PlannedSelect)
# The widgets whose plans are used (exactly these classes: a subclass may map otherwise).
_PLANNED: Final[set[type[Any]]] = {
    GovTextInput, GovCheckboxesInput, GovCheckboxInput, GovRadioInput, GovSubmitInput,
    GovTextArea, GovCharacterCount, GovSelect, GovDateInput}


class _Globals(ChainMap[str, Any]):
    """A template's globals (Jinja: the template's own over the environment's), with `keys()`
    a real dict view: every `{% from ... import %}` runs `context globals - template globals`,
    which over a plain ChainMap tests each global in turn in Python (a tenth of the sign-in
    page's CPU). Iterating them is the environment's own dict's iteration when the template has
    none of its own: every render and `{% include %}` makes a context, which takes
    `set(globals)`, and a ChainMap's iteration builds a dict of every key first (issue 15:
    3.2 µs → 0.9 µs, eight times a page)."""

    def keys(self) -> Any:
        own, *rest = self.maps
        if not own and len(rest) == 1:
            return rest[0].keys()
        # Not dict(self): that asks keys() again, without end.
        return dict.fromkeys(self).keys()

    def __iter__(self) -> Iterator[str]:
        own, *rest = self.maps
        if not own and len(rest) == 1:
            return iter(rest[0])
        return super().__iter__()


class ProcessBytecodeCache(BytecodeCache):
    """Compiled templates kept for the life of the process, shared by every app made in it.

    Jinja compiles each template once per environment, and each app has its own: the test suite
    makes an app per test, and compiling the same templates again was over a third of its time.
    A bucket is found by template name and file (Jinja's key) and used only if the source's
    checksum matches, so an edited template compiles afresh. Only apps made by `create_app`
    share it, all with the same Jinja options (Flask chooses autoescaping by file extension,
    the same for a name in every app)."""

    def __init__(self) -> None:
        self._code: dict[str, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._code.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[bucket.key] = (bucket.checksum, bucket.code)


_COMPILED: Final = ProcessBytecodeCache()


class Environment(FlaskEnvironment):
    """Flask's Jinja environment with _Globals and the process's compiled templates (set as
    `app.jinja_environment`)."""

    template_class = _Template

    def __init__(self, app: Any, **options: Any) -> None:
        options.setdefault("bytecode_cache", _COMPILED)
        super().__init__(app, **options)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _Globals(d if d is not None else {}, self.globals)


def fixed_tag(text: str, classes: str = "") -> Markup:
    """GOV.UK Frontend's `govukTag({'text': text, 'classes': classes})`, rendered once per
    process (issue 15): for a tag whose words a template fixes ("Overdue"), never data. The
    dashboard shows one per overdue line; the macro ran again for each."""
    env = current_app.jinja_env
    fixed: dict[tuple[str, str], Markup] = env.__dict__.setdefault("govuk_fixed_tags", {})
    key = (text, classes)
    found = fixed.get(key)
    if found is None:
        module = env.get_template("govuk_frontend_jinja/components/tag/macro.html").module
        params = {"text": text, "classes": classes} if classes else {"text": text}
        rendered = module.govukTag(params)  # type: ignore[attr-defined]
        found = fixed[key] = Markup(rendered)  # noqa: S704 - the macro's own HTML
    return found
