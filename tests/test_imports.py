"""Every module of the portal imports on its own, in a fresh interpreter, and no import of the portal's
own modules hides inside a function (the way an import cycle is usually papered over); and no view
runs SQL."""
import ast
import subprocess
import sys

from portal.config import ROOT

PACKAGE = ROOT / "portal"
# Inside these, a late import is how the app factory wires things together, not a cycle dodged.
WIRING = {"create_app", "_register_features", "init_app"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# Runs in a fresh interpreter: the libraries are loaded once, then each module of the portal is imported
# in a forked child that has none of the portal loaded yet (a cycle shows only when its module comes
# first). Prints one line per module that fails.
_CHECK = r"""
import ast, os, sys, traceback
names = sys.argv[1:]
for name in names:                      # the libraries the portal imports, loaded once up front
    path = name.replace(".", "/")
    path = path + ".py" if os.path.exists(path + ".py") else path + "/__init__.py"
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            tops = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            tops = [node.module or ""]
        else:
            continue
        for top in tops:
            if top and not top.startswith("portal"):
                try:
                    __import__(top)
                except Exception:
                    pass
assert not [m for m in sys.modules if m == "portal" or m.startswith("portal.")]
for name in names:
    pid = os.fork()
    if pid == 0:
        try:
            __import__(name)
        except BaseException:
            print(name + ": " + traceback.format_exc().strip().splitlines()[-1], flush=True)
            os._exit(1)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def test_every_module_imports_in_a_fresh_interpreter():
    result = subprocess.run([sys.executable, "-c", _CHECK, *_modules()], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", result.stdout


def _own_imports_inside_functions(tree, module):
    package = module.split(".")
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if function and function not in WIRING:
                if isinstance(child, ast.ImportFrom) and (child.level or (child.module or "").startswith("portal")):
                    found.append(f"{module}:{child.lineno} in {function}()")
                elif isinstance(child, ast.Import) and any(a.name.startswith("portal") for a in child.names):
                    found.append(f"{module}:{child.lineno} in {function}()")
            visit(child, inner)

    visit(tree, None)
    return found


def test_no_import_of_the_portal_inside_a_function():
    found = []
    for name in _modules():
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / name.replace(".", "/") / "__init__.py"
        found += _own_imports_inside_functions(ast.parse(path.read_text()), name)
    assert not found, "imports of the portal inside functions (move them to the top):\n" + "\n".join(found)


def test_no_view_runs_sql():
    """Views parse, call a command or a read, and render: the database is the services' and queries'."""
    found = []
    for path in sorted(PACKAGE.glob("*/views.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "db":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} db.{node.attr}")
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("select", "text"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}(…)")
    assert not found, "\n".join(found)
