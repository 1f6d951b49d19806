"""No import cycle among the collection's Python files (plugins/): each package of module_utils
can be read on its own, bottom up (issue 24). Reads the imports with ast: every
``ansible_collections.tachyon.infra.plugins...`` import, at module level or inside a function."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "plugins")
PREFIX = "ansible_collections.tachyon.infra."


def module_name(path):
    rel = os.path.relpath(path, ROOT)[:-len(".py")].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def imports(path, known):
    """The plugins modules ``path`` imports (a package import of a module counts as that module)."""
    found = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read(), path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            base = node.module[len(PREFIX):]
            for alias in node.names:
                if base + "." + alias.name in known:
                    found.add(base + "." + alias.name)
                elif base in known:
                    found.add(base)
        elif isinstance(node, ast.Import):
            found.update(a.name[len(PREFIX):] for a in node.names if a.name[len(PREFIX):] in known)
    return found


def graph():
    files = {}
    for folder, _dirs, names in os.walk(PLUGINS):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                files[module_name(path)] = path
    return {name: imports(path, files) for name, path in files.items()}


def find_cycle(edges):
    """One cycle as a list of module names, or None (iterative depth-first search)."""
    state = {}
    for start in sorted(edges):
        if start in state:
            continue
        stack = [(start, iter(sorted(edges[start])))]
        state[start] = "open"
        path = [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = "done"
                stack.pop()
                path.pop()
            elif state.get(child) == "open":
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = "open"
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle_in_plugins():
    edges = graph()
    assert "plugins.module_utils._spec.rules" in edges  # the walk found the tree
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_common_imports_no_other_tachyon_package():
    """_common is the bottom floor: it imports nothing of the collection outside itself."""
    edges = graph()
    for name, targets in edges.items():
        if name.startswith("plugins.module_utils._common"):
            assert {t for t in targets if not t.startswith("plugins.module_utils._common")} == set(), name
