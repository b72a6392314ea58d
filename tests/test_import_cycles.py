"""The package has no import cycle (issue 19): no chain of imports
between dctkd_mm's modules, at module level or inside functions, leads
back to where it started. (A package's ``__init__`` importing its own
submodules is not counted: Python loads the parent first by design.)"""
import ast
import os
import os.path as osp
from typing import Dict, List, Set

from utils import REPO_ROOT

PACKAGE = 'dctkd_mm'


def _modules() -> Dict[str, str]:
    found = {}
    for folder, _, files in os.walk(osp.join(REPO_ROOT, PACKAGE)):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(folder, name)
                module = osp.relpath(path, REPO_ROOT)[:-3].replace(os.sep, '.')
                found[module.removesuffix('.__init__')] = path
    return found


def _imports(module: str, path: str, modules: Dict[str, str]) -> Set[str]:
    package = module if path.endswith('__init__.py') else \
        module.rpartition('.')[0]
    targets = set()
    source = open(path, encoding='utf-8').read()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                parts = parts[:len(parts) - node.level + 1]
                base = '.'.join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                if f'{base}.{alias.name}' in modules:
                    targets.add(f'{base}.{alias.name}')
                elif base in modules:
                    targets.add(base)
    targets.discard(module)
    return targets


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan,
    iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycle():
    modules = _modules()
    graph = {m: _imports(m, p, modules) for m, p in modules.items()}
    assert len(graph) > 50 and graph['dctkd_mm.compat'], 'walk found nothing'
    assert _cycles(graph) == []


def test_the_check_finds_a_cycle():
    """The control: the two modules issue 19 found importing each other."""
    assert _cycles({'a': {'b'}, 'b': {'a'}, 'c': {'a'}}) == [['a', 'b']]
