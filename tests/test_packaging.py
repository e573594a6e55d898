"""The installable package: pyproject.toml declares what requirements*.txt pin, finds every
library package, runs the command line as ``persona-studio``, and keeps PySpark an extra that
the app and the library never need at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def pins(path: Path) -> set[str]:
    """The ``name==version`` lines of a requirements file, comments and ``-r`` lines left out."""
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found.add(line)
    return found


def name(pin: str) -> str:
    return pin.split("==", 1)[0].lower()


def test_pyproject_dependencies_are_the_pins_of_requirements_txt():
    assert set(PROJECT["dependencies"]) == pins(ROOT / "requirements.txt")


def test_every_dependency_is_pinned_to_one_version():
    unpinned = [d for d in PROJECT["dependencies"] if "==" not in d]
    assert unpinned == []


def test_pyspark_is_the_spark_extra_and_a_dev_requirement_not_an_app_requirement():
    assert PROJECT["optional-dependencies"]["spark"] == ["pyspark==4.1.1"]
    assert "pyspark" not in {name(p) for p in pins(ROOT / "requirements.txt")}
    assert "pyspark==4.1.1" in pins(ROOT / "requirements-dev.txt")


def test_dev_requirements_build_on_the_app_requirements():
    lines = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    assert "-r requirements.txt" in lines


def test_the_build_backend_is_setuptools():
    assert PYPROJECT["build-system"]["build-backend"] == "setuptools.build_meta"


def test_package_discovery_finds_every_library_package_and_nothing_else():
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    found = set(find_packages(where=str(ROOT), include=include))
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "profiling").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert found == on_disk
    assert "profiling.cli" in found and "profiling.data.ingest" in found


def test_the_console_script_is_the_library_command_line():
    assert PROJECT["scripts"] == {"persona-studio": "profiling.cli.main:main"}
    from profiling.cli.main import main

    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0


def module_level_imports(tree: ast.AST) -> list[str]:
    """Modules imported when the file is imported: everything outside function bodies."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import):
                names.extend(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                names.append(child.module)
            visit(child)

    visit(tree)
    return names


def test_no_module_of_the_app_or_the_library_imports_pyspark_when_imported():
    files = [ROOT / "app.py"]
    for folder in ("profiling", "ui", "app_pages"):
        files += sorted((ROOT / folder).rglob("*.py"))
    offenders = [
        str(f.relative_to(ROOT))
        for f in files
        if any(
            m == "pyspark" or m.startswith("pyspark.")
            for m in module_level_imports(ast.parse(f.read_text(encoding="utf-8")))
        )
    ]
    assert offenders == []


def test_the_import_check_sees_a_module_level_import_and_ignores_one_in_a_function():
    source = "import pyspark.sql\ntry:\n    from pyspark import SparkConf\nexcept ImportError:\n    pass\ndef f():\n    import pyspark.ml\n"
    assert module_level_imports(ast.parse(source)) == ["pyspark.sql", "pyspark"]


WITHOUT_PYSPARK = "import sys; sys.modules['pyspark'] = None\n"


def run_without_pyspark(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PYSPARK + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_spark_engine_without_pyspark_says_how_to_install_it(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("user_id,item_id,event_type,timestamp\nu1,i1,purchase,2024-01-01\n")
    done = run_without_pyspark(
        "from profiling.cli.main import main\n"
        f"sys.exit(main(['build', {str(events)!r}, '--engine', 'spark',"
        f" '--out', {str(tmp_path / 'out')!r}]))"
    )
    assert done.returncode == 2, done.stderr
    assert "persona-studio[spark]" in done.stderr
    assert "Traceback" not in done.stderr


def test_spark_als_without_pyspark_is_a_profiling_error_not_an_import_error():
    done = run_without_pyspark(
        "import polars as pl, datetime as dt\n"
        "from profiling.errors import ProfilingError\n"
        "from profiling.recommenders.registry import make\n"
        "inter = pl.DataFrame({'user_id': ['u1', 'u2'], 'item_id': ['i1', 'i2'],"
        " 'weight': [1.0, 1.0], 'timestamp': [dt.datetime(2024, 1, 1)] * 2})\n"
        "try:\n"
        "    make('spark-als').fit(inter)\n"
        "except ProfilingError as exc:\n"
        "    print('refused:', exc)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "persona-studio[spark]" in done.stdout


def test_spark_evaluation_without_pyspark_says_how_to_install_it(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("user_id,item_id,event_type,timestamp\nu1,i1,purchase,2024-01-01\n")
    done = run_without_pyspark(
        "from profiling.cli.main import main\n"
        f"sys.exit(main(['evaluate', {str(events)!r}, '--engine', 'spark',"
        f" '--models', 'popularity', '--out', {str(tmp_path / 'out')!r}]))"
    )
    assert done.returncode == 2, done.stderr
    assert "persona-studio[spark]" in done.stderr
    assert "Traceback" not in done.stderr
