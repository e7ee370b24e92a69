"""The type stubs match the compiled module, and every public name is documented.

For each function, class, method and property of ``flash_rec._native`` the stub must declare
the same name, the same parameters (names, kinds and defaults where the runtime shows them)
and a docstring whose first paragraph is the runtime's.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Dict, List, Optional

import pytest

import flash_rec
from flash_rec import _native

STUB = Path(_native.__file__).with_name("_native.pyi")
KINDS = {
    "posonlyargs": inspect.Parameter.POSITIONAL_ONLY,
    "args": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "kwonlyargs": inspect.Parameter.KEYWORD_ONLY,
}


def first_paragraph(doc: Optional[str]) -> str:
    text = inspect.cleandoc(doc or "")
    return " ".join(text.split("\n\n")[0].split())


def stub_parameters(function: ast.FunctionDef) -> List[tuple]:
    """(name, kind, default) of each parameter; the default as a value, or inspect's empty."""
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    defaults: Dict[str, object] = {}
    for argument, default in zip(positional[len(positional) - len(arguments.defaults):],
                                 arguments.defaults):
        defaults[argument.arg] = ast.literal_eval(default)
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        if default is not None:
            defaults[argument.arg] = ast.literal_eval(default)
    out = []
    for field, kind in KINDS.items():
        for argument in getattr(arguments, field):
            out.append((argument.arg, kind, defaults.get(argument.arg, inspect.Parameter.empty)))
    return out


def runtime_parameters(obj: object) -> List[tuple]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(obj).parameters.values()]


def has_self(parameters: List[tuple]) -> bool:
    return bool(parameters) and parameters[0][0] == "self"


def without_self(parameters: List[tuple]) -> List[tuple]:
    """PyO3 makes ``self`` positional-only, a stub need not: compare the rest."""
    return parameters[1:] if parameters and parameters[0][0] == "self" else parameters


def same_parameters(stub: List[tuple], runtime: List[tuple], where: str) -> None:
    assert has_self(stub) == has_self(runtime), f"{where}: self"
    stub, runtime = without_self(stub), without_self(runtime)
    assert [s[:2] for s in stub] == [r[:2] for r in runtime], where
    for (name, _, expected), (_, _, actual) in zip(stub, runtime):
        if actual is not Ellipsis:  # PyO3 shows only simple defaults; others are `...`
            assert expected == actual, f"{where}: default of {name}"


def is_property(function: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in function.decorator_list)


def is_overload(function: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "overload" for d in function.decorator_list)


def definitions(body: List[ast.stmt]) -> Dict[str, ast.AST]:
    """Functions and classes of a stub body by name; of overloads, the first (documented, with
    every default) stands for the runtime function."""
    found: Dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.setdefault(node.name, node)
    return found


STUBS = definitions(ast.parse(STUB.read_text()).body)
RUNTIME = {name: getattr(_native, name) for name in dir(_native)
           if not name.startswith("_") and callable(getattr(_native, name))}


def test_the_stub_declares_exactly_the_public_names():
    assert set(STUBS) == set(RUNTIME)
    assert set(flash_rec.__all__) >= set(RUNTIME)


@pytest.mark.parametrize("name", sorted(RUNTIME))
def test_each_name_matches_its_stub(name: str):
    runtime, stub = RUNTIME[name], STUBS[name]
    assert first_paragraph(runtime.__doc__), f"{name} has no docstring"
    assert first_paragraph(ast.get_docstring(stub)) == first_paragraph(runtime.__doc__), name
    if isinstance(stub, ast.FunctionDef):
        same_parameters(stub_parameters(stub), runtime_parameters(runtime), name)
        return
    members = definitions(stub.body)
    public = {m for m in vars(runtime) if not m.startswith("_")}
    assert set(members) - {"__init__"} == public, name
    if "__init__" in members:
        init = stub_parameters(members["__init__"])[1:]  # without self
        same_parameters(init, runtime_parameters(runtime), f"{name}()")
    for member in sorted(public):
        where, function = f"{name}.{member}", members[member]
        attribute = vars(runtime)[member] if is_property(function) else getattr(runtime, member)
        assert first_paragraph(attribute.__doc__), f"{where} has no docstring"
        assert first_paragraph(ast.get_docstring(function)) == first_paragraph(
            attribute.__doc__), where
        if is_property(function):
            assert inspect.isdatadescriptor(attribute), where
        else:
            same_parameters(stub_parameters(function),
                            runtime_parameters(getattr(runtime, member)), where)


def test_every_exported_name_is_documented():
    for name in flash_rec.__all__:
        assert first_paragraph(getattr(flash_rec, name).__doc__), name
    assert flash_rec.__doc__ and flash_rec.__version__
    assert Path(flash_rec.__file__).with_name("py.typed").is_file()


def test_exceptions_form_the_documented_hierarchy():
    errors = [flash_rec.DataError, flash_rec.CacheError, flash_rec.ModelFileError,
              flash_rec.ParameterError, flash_rec.TrainingError, flash_rec.UnknownIdError,
              flash_rec.NotFittedError, flash_rec.DatasetMismatchError,
              flash_rec.MissingFeaturesError]
    assert all(issubclass(error, flash_rec.FlashRecError) for error in errors)
    assert issubclass(flash_rec.DataError, ValueError)
    assert issubclass(flash_rec.ParameterError, ValueError)
    assert issubclass(flash_rec.UnknownIdError, KeyError)
