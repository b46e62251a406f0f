"""The project's network as a picture: nodes in columns (external networks,
routers, networks, instances) and the lines between them, with coordinates the
template draws as SVG."""
from __future__ import annotations

import collections
import dataclasses
from typing import Any

COLUMNS = ("external", "router", "network", "server")
COLUMN_TITLES = {"external": "External networks", "router": "Routers",
                 "network": "Networks", "server": "Instances"}
BOX_W, COL_GAP, TOP, GAP, LINE_H, HEAD_H, MARGIN = 190, 104, 44, 22, 16, 24, 16
MAX_CHARS = 25
LABEL_CHARS = 19
# kind -> (fill, stroke): the picture is readable without the stylesheet too.
COLOURS = {"external": ("#fdf2e9", "#d97706"), "router": ("#e6f0fa", "#0b6bcb"),
           "network": ("#e3f9e5", "#2f9e44"), "server": ("#f3e8ff", "#7c3aed")}
EDGE_COLOURS = {"gateway": "#d97706", "interface": "#0b6bcb", "port": "#7c3aed"}


def _short(text: str, limit: int = MAX_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


@dataclasses.dataclass
class Node:
    kind: str
    id: str
    title: str
    href: str
    lines: list[str] = dataclasses.field(default_factory=list)
    x: int = 0
    y: int = 0
    order: float = 0.0

    @property
    def w(self) -> int:
        return BOX_W

    @property
    def h(self) -> int:
        return HEAD_H + LINE_H * len(self.lines) + 8

    @property
    def label(self) -> str:
        return _short(self.title)

    @property
    def fill(self) -> str:
        return COLOURS[self.kind][0]

    @property
    def stroke(self) -> str:
        return COLOURS[self.kind][1]

    @property
    def short_lines(self) -> list[dict[str, Any]]:
        return [{"text": _short(t, MAX_CHARS + 3), "y": self.y + HEAD_H + 12 + LINE_H * i}
                for i, t in enumerate(self.lines)]

    @property
    def title_y(self) -> int:
        return self.y + 17

    @property
    def text_x(self) -> int:
        return self.x + 10


@dataclasses.dataclass
class Edge:
    kind: str           # "gateway", "interface" or "port"
    left: Node
    right: Node
    label: str = ""
    x1: float = 0
    y1: float = 0
    x2: float = 0
    y2: float = 0

    @property
    def colour(self) -> str:
        return EDGE_COLOURS.get(self.kind, "#7b8794")

    @property
    def short_label(self) -> str:
        return _short(self.label, LABEL_CHARS)

    @property
    def label_x(self) -> float:
        return (self.x1 + self.x2) / 2

    @property
    def label_y(self) -> float:
        return (self.y1 + self.y2) / 2 - 4


@dataclasses.dataclass
class Picture:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    headers: list[dict[str, Any]]


def _place(columns: dict[str, list[Node]]) -> int:
    bottom = TOP
    for index, kind in enumerate(COLUMNS):
        y = TOP
        for node in sorted(columns[kind], key=lambda n: (n.order, n.title, n.id)):
            node.x, node.y = MARGIN + index * (BOX_W + COL_GAP), y
            y += node.h + GAP
        bottom = max(bottom, y)
    return bottom


def _anchor(edges: list[Edge]) -> None:
    """Spread the ends of a node's lines along its side, ordered by the other end."""
    sides: dict[tuple[int, str], list[tuple[Edge, str]]] = collections.defaultdict(list)
    for edge in edges:
        sides[(id(edge.left), "right")].append((edge, "left"))
        sides[(id(edge.right), "left")].append((edge, "right"))
    for ends in sides.values():
        def other_y(item: tuple[Edge, str]) -> int:
            edge, end = item
            return edge.right.y if end == "left" else edge.left.y
        ends.sort(key=other_y)
        for i, (edge, end) in enumerate(ends):
            node = edge.left if end == "left" else edge.right
            y = node.y + node.h * (i + 1) / (len(ends) + 1)
            if end == "left":
                edge.x1, edge.y1 = node.x + node.w, y
            else:
                edge.x2, edge.y2 = node.x, y


def draw(nodes: list[Node], edges: list[Edge]) -> Picture:
    """Lay ``nodes`` out in their columns, ordered to keep lines short."""
    columns: dict[str, list[Node]] = {k: [] for k in COLUMNS}
    for node in nodes:
        columns[node.kind].append(node)
    for kind in ("external", "network"):
        for i, node in enumerate(sorted(columns[kind], key=lambda n: (n.title, n.id))):
            node.order = i
    # Routers sit by the networks they join; instances by their networks.
    for kind, side in (("router", "right"), ("server", "left")):
        for node in columns[kind]:
            near = [e.right.order if side == "right" else e.left.order for e in edges
                    if (e.left is node and side == "right" and e.right.kind == "network")
                    or (e.right is node and side == "left")]
            node.order = sum(near) / len(near) if near else 1e6
    bottom = _place(columns)
    _anchor(edges)
    headers = [{"text": COLUMN_TITLES[k], "x": MARGIN + i * (BOX_W + COL_GAP), "y": 24}
               for i, k in enumerate(COLUMNS)]
    width = MARGIN * 2 + len(COLUMNS) * BOX_W + (len(COLUMNS) - 1) * COL_GAP
    return Picture(nodes=nodes, edges=edges, width=width, height=bottom, headers=headers)
