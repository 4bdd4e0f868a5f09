"""The code's layout, checked by reading the source (ast), not by running it: the rules of
STYLE.md that make a change easy to place stay true as the code grows."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

FORUM = Path(__file__).resolve().parent.parent / "forum"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(FORUM.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(FORUM.rglob("*.py"))}


def _imported(module: str, tree: ast.AST) -> list[tuple[int, str]]:
    """(line, forum module) of every import in `tree`, wherever it stands (in a function too),
    resolved to the module it loads; `if TYPE_CHECKING:` blocks are left out."""
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and "TYPE_CHECKING" in ast.unparse(block.test)
               for node in ast.walk(block)}
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.append((node.lineno, name))
    return found


IMPORTS = {module: _imported(module, ast.parse(path.read_text(encoding="utf-8")))
           for module, path in MODULES.items()}


def test_the_api_never_imports_the_views():
    """What both faces need lives in forum/handlers.py (or the models): the JSON handlers
    never depend on the HTML ones."""
    found = [f"{module}:{line} imports {name}" for module, imports in IMPORTS.items()
             if module == "forum.api" or module.startswith("forum.api.")
             for line, name in imports
             if name == "forum.views" or name.startswith("forum.views.")]
    assert found == []


def test_no_import_cycle_even_through_imports_inside_functions():
    """An import put inside a function to dodge a cycle still makes one: move the code."""
    graph = {module: {name for _line, name in imports} for module, imports in IMPORTS.items()}
    cycles = []
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for name in sorted(graph[module]):
            if state.get(name) == 1:
                cycles.append(" -> ".join([*path[path.index(name):], name]))
            elif name not in state:
                visit(name, [*path, name])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])
    assert cycles == []


# The start of a SQL statement, its keywords all in lower case (as the project writes them) or
# all in capitals; "DELETE /api/v1/posts/{id}" or "Select a file" in a text is not one.
SQL = re.compile(r"\s*(select\b|insert\s+(or\s+\w+\s+)?into\b|replace\s+into\b|update\s+\w+\s+set\b"
                 r"|delete\s+from\b|with\s+(recursive\s+)?\w+(\s*\([^)]*\))?\s+as\b|pragma\b"
                 r"|(create|drop|alter)\s+(table|index|trigger|view)\b|begin\b|commit\b"
                 r"|rollback\b|savepoint\b)")


def _looks_like_sql(text: str) -> bool:
    words = text.split(maxsplit=1)
    return bool(words) and bool(SQL.match(text.lower() if words[0].isupper() else text))


def _sql_in(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string, or piece of an f-string, that starts a SQL statement."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and _looks_like_sql(node.value):
            found.append((node.lineno, node.value))
    return found


def test_handlers_hold_no_sql():
    """Pages and API handlers call the models; every statement lives in forum/models (or
    db.py), where it can be found, reused and checked with `explain query plan`."""
    found = [f"{module}:{line}: {text[:60]!r}" for module, path in MODULES.items()
             if module.startswith(("forum.views", "forum.api"))
             for line, text in _sql_in(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == []


@pytest.mark.parametrize(("source", "is_sql"), [
    ('conn.value("select 1 from schema_migrations limit 1")', True),
    ('tx.execute(f"update users set name = ? where id in ({marks})")', True),
    ('"  DELETE FROM sessions where user_id = ?"', True),
    ('"insert or ignore into follows (user_id) values (?)"', True),
    ('"with recent(id) as (select 1) select * from recent"', True),
    ('"DELETE /api/v1/posts/{id}: leave a tombstone; 204."', False),
    ('"Select the files to attach."', False),
    ('"update the page"', False),
])
def test_the_sql_reader_tells_statements_from_prose(source, is_sql):
    assert bool(_sql_in(ast.parse(source))) is is_sql


def test_errors_holds_exception_classes_only():
    """The middleware that renders errors lives with the pages (forum/error_pages.py)."""
    tree = ast.parse((FORUM / "errors.py").read_text(encoding="utf-8"))
    others = [ast.unparse(node).splitlines()[0] for node in tree.body
              if not isinstance(node, ast.ClassDef | ast.Import | ast.ImportFrom)
              and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    assert others == []
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert classes and all(node.bases for node in classes)  # each derives from an exception


@pytest.mark.parametrize("source", [
    "from forum.views import require_user",
    "from ..views.uploads import read_multipart",
    "import forum.views.exports",
    "def handler():\n    from forum.views import exports",
])
def test_the_import_reader_sees_every_spelling_of_a_views_import(source):
    """The checks above are only as good as the reader: relative, plain and lazy imports."""
    names = {name for _line, name in _imported("forum.api.boards", ast.parse(source))}
    assert any(name == "forum.views" or name.startswith("forum.views.") for name in names)
