#!/usr/bin/env python3
"""Fails when the modules include each other in a cycle.

A module is a folder of src/ and include/tether/ (net, http, store, session,
mesh, host, realtime, app, front, plan, sidecar). An include of "tether/<other>/..."
from a module's file is an edge module -> other. The graph must be acyclic,
and every edge must be one CMakeLists.txt declares (target_link_libraries of
tether_<module>, transitively), so the build and the code agree.
Usage: scripts/check-modules.py   (scripts/test.sh runs it; prints the graph)
"""
import collections
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
MODULES = ["net", "http", "store", "session", "mesh", "host", "realtime", "app", "front", "plan",
           "sidecar"]


def include_edges():
    edges = collections.defaultdict(set)
    where = collections.defaultdict(list)
    for base in ("src", os.path.join("include", "tether")):
        for module in MODULES:
            folder = os.path.join(ROOT, base, module)
            for dirpath, _, files in os.walk(folder):
                for name in files:
                    path = os.path.join(dirpath, name)
                    with open(path, errors="replace") as f:
                        for line in f:
                            m = re.match(r'\s*#\s*include\s+[<"]tether/(\w+)/', line)
                            if m and m.group(1) != module and m.group(1) in MODULES:
                                edges[module].add(m.group(1))
                                where[(module, m.group(1))].append(os.path.relpath(path, ROOT))
    return edges, where


def declared_edges():
    text = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    declared = collections.defaultdict(set)
    for m in re.finditer(r"target_link_libraries\(tether_(\w+) PUBLIC([^)]*)\)", text):
        for dep in re.findall(r"tether_(\w+)", m.group(2)):
            declared[m.group(1)].add(dep)
    return declared


def closure(graph, start):
    seen, todo = set(), [start]
    while todo:
        for n in graph[todo.pop()]:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def main():
    edges, where = include_edges()
    declared = declared_edges()
    failed = False
    for module in MODULES:
        print(f"{module:9} -> {', '.join(sorted(edges[module])) or '-'}")
    for module in MODULES:
        for other in sorted(edges[module]):
            if module in closure(edges, other):
                print(f"check-modules: cycle: {module} -> {other} -> ... -> {module} "
                      f"(first include: {where[(module, other)][0]})", file=sys.stderr)
                failed = True
            if declared and other not in closure(declared, module):
                print(f"check-modules: {module} includes {other} ({where[(module, other)][0]}) "
                      f"but tether_{module} does not link tether_{other} in CMakeLists.txt",
                      file=sys.stderr)
                failed = True
    if failed:
        return 1
    print("check-modules: the module graph is acyclic and matches CMakeLists.txt", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
