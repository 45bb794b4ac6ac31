"""Report figures: pure functions of report data that return matplotlib Figures (never pyplot).

``to_svg(figure, prefix)`` turns one into inline SVG with deterministic bytes (fixed hash salt,
no date, text kept as text, element ids prefixed so that several figures share one page).
"""
from __future__ import annotations

import functools
import io
import math
import re
from typing import Any, Callable, Mapping, Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

GROUP_COLORS = {"array": "#4c72b0", "adc": "#dd8452", "accumulation": "#55a868", "buffer": "#c44e52",
                "interconnect": "#8172b3", "peripheral": "#937860"}
EXTRA_COLORS = ("#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd", "#2f4b7c", "#a05195")
LEVEL_FILLS = ("#f4f6fa", "#e8edf5", "#dce4f0", "#d0dbeb")
LEVELS = ("chip", "tile", "pe", "subarray")
# Style every report figure is drawn and saved under (so global rc settings do not leak in).
STYLE = {"svg.hashsalt": "cimgraph-report", "svg.fonttype": "none", "svg.id": None, "font.family": "DejaVu Sans",
         "font.size": 9.0, "axes.titlesize": 10.0, "axes.labelsize": 9.0, "xtick.labelsize": 8.0,
         "ytick.labelsize": 8.0, "legend.fontsize": 8.0, "axes.spines.top": False, "axes.spines.right": False}
_PREFIXES = ((12, "T"), (9, "G"), (6, "M"), (3, "k"), (0, ""), (-3, "m"), (-6, "µ"), (-9, "n"), (-12, "p"),
             (-15, "f"), (-18, "a"))


def style() -> Any:
    """A context manager applying the report style (use around figure creation and ``to_svg``)."""
    return matplotlib.rc_context(STYLE)


def styled(function: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw ``function``'s figure under the report style, whatever the caller's rc settings."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with style():
            return function(*args, **kwargs)

    return wrapper


def group_colors(groups: Sequence[str]) -> dict[str, str]:
    extra = iter(EXTRA_COLORS * (1 + len(groups) // len(EXTRA_COLORS)))
    return {g: GROUP_COLORS.get(g) or next(extra) for g in groups}


def _text(value: Any) -> str:
    """Text shown literally (no mathtext)."""
    return str(value).replace("$", r"\$")


def scale(values: Sequence[float], unit: str) -> tuple[float, str]:
    """Factor and unit label that put the largest value in [1, 1000): ``scale([2e-9], "s") == (1e9, "ns")``."""
    peak = max((abs(v) for v in values), default=0.0)
    if unit == "m^2":
        return (1e6, "mm²") if peak >= 1e-8 else (1e12, "µm²")
    for exponent, prefix in _PREFIXES:
        if peak >= 10.0 ** exponent * 0.9995:
            return 10.0 ** -exponent, prefix + unit
    return 1.0, unit


# -- the chip as nested boxes --------------------------------------------------------------------

@styled
def chip_figure(hierarchy: Mapping[str, Any], component_groups: Mapping[str, str], title: str = "") -> Figure:
    """The hierarchy Chip -> Tile -> PE -> SubArray as nested boxes with components and counts.

    Each level's components (buffers, interconnect, accumulation, peripherals) sit in a column
    beside the child level; interconnect links point at the level they feed; replicated levels are
    drawn as a stack with their count per parent.
    """
    width, height = 14.0, 8.0
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    colors = group_colors(sorted(set(component_groups.values())))
    top = height - 0.45 if title else height - 0.1
    if title:
        ax.text(0.15, height - 0.22, _text(title), fontsize=11, weight="bold", va="center")
    if hierarchy:
        _draw_level(ax, hierarchy, 0.1, 0.55, width - 0.2, top - 0.55, 0, component_groups, colors)
    handles = [Patch(facecolor=c, label=g) for g, c in colors.items()]
    if handles:
        ax.legend(handles=handles, loc="lower left", ncol=len(handles), frameon=False, bbox_to_anchor=(0.0, -0.005))
    return fig


def _label(node: Mapping[str, Any]) -> str:
    level = node.get("level")
    if level in LEVELS[1:]:
        return f"{node.get('name', '')} × {node.get('count', 1)} per {LEVELS[LEVELS.index(level) - 1]}"
    return str(node.get("name", ""))


def _draw_level(ax: Any, node: Mapping[str, Any], x: float, y: float, w: float, h: float, depth: int,
                component_groups: Mapping[str, str], colors: Mapping[str, str]) -> None:
    count = node.get("count", 1)
    stacked = count == "auto" or (isinstance(count, int) and count > 1)
    offset = 0.07
    if stacked:
        for k in (2, 1):
            ax.add_patch(Rectangle((x + k * offset, y + (2 - k) * offset), w - 2 * offset, h - 2 * offset,
                                   facecolor=LEVEL_FILLS[depth % 4], edgecolor="#6b7a90", linewidth=0.6))
        y, w, h = y + 2 * offset, w - 2 * offset, h - 2 * offset
    ax.add_patch(Rectangle((x, y), w, h, facecolor=LEVEL_FILLS[depth % 4], edgecolor="#34495e", linewidth=1.0))
    ax.text(x + 0.1, y + h - 0.2, _text(_label(node)), fontsize=9, weight="bold", va="center", clip_on=True)
    kids = node.get("children", [])
    parts = [c for c in kids if c.get("level") == "component"]
    child = next((c for c in kids if c.get("level") in LEVELS), None)
    inner_y, inner_h = y + 0.1, h - 0.5
    if child is not None:
        column = min(2.3, 0.3 * w)
        boxes = _draw_components(ax, parts, x + 0.1, inner_y, column - 0.1, inner_h, 1, component_groups, colors)
        cx = x + column + 0.15
        cw = x + w - 0.1 - cx
        _draw_level(ax, child, cx, inner_y, cw, inner_h, depth + 1, component_groups, colors)
        for part, (bx, by, bw, bh) in zip(parts, boxes):
            if str(part.get("kind", "")).startswith("link."):
                ax.add_patch(FancyArrowPatch((bx + bw, by + bh / 2), (cx + 0.02, by + bh / 2), arrowstyle="-|>",
                                             mutation_scale=9, color=colors.get("interconnect", "#8172b3"), lw=1.2))
        return
    ncol = 1 if len(parts) <= 5 else 2
    column = min(2.1 * ncol, 0.5 * w)
    _draw_components(ax, parts, x + 0.1, inner_y, column - 0.1, inner_h, ncol, component_groups, colors)
    _draw_array(ax, node, x + column + 0.15, inner_y, x + w - 0.1 - (x + column + 0.15), inner_h,
                colors.get("array", GROUP_COLORS["array"]))


def _draw_components(ax: Any, parts: Sequence[Mapping[str, Any]], x: float, y: float, w: float, h: float, ncol: int,
                     component_groups: Mapping[str, str], colors: Mapping[str, str]) -> list[tuple[float, ...]]:
    """Component boxes in ``ncol`` columns from the top; returns their (x, y, w, h)."""
    if not parts:
        return []
    nrow = math.ceil(len(parts) / ncol)
    gap = 0.08
    bh = min(0.75, (h - gap * (nrow - 1)) / nrow)
    bw = (w - gap * (ncol - 1)) / ncol
    boxes = []
    for i, part in enumerate(parts):
        row, col = divmod(i, ncol)
        bx, by = x + col * (bw + gap), y + h - (row + 1) * bh - row * gap
        color = colors.get(component_groups.get(part.get("path", ""), ""), "#bbbbbb")
        rect = Rectangle((bx, by), bw, bh, facecolor=color, alpha=0.85, edgecolor="#2c3e50", linewidth=0.6)
        ax.add_patch(rect)
        count = part.get("count", 1)
        name = str(part.get("name", "")) + (f" ×{count}" if count != 1 else "")
        label = ax.text(bx + 0.06, by + bh / 2, _text(f"{name}\n{part.get('kind', '')}"), fontsize=6.5,
                        va="center", color="white", clip_on=True)
        label.set_clip_path(rect)
        boxes.append((bx, by, bw, bh))
    return boxes


def _draw_array(ax: Any, node: Mapping[str, Any], x: float, y: float, w: float, h: float, color: str) -> None:
    """The memory array as a grid, labelled with its kind and size."""
    side = min(w, h) * 0.9
    ax0, ay0 = x + (w - side) / 2, y + (h - side) / 2
    ax.add_patch(Rectangle((ax0, ay0), side, side, facecolor=color, alpha=0.25, edgecolor=color, linewidth=1.2))
    for k in range(1, 8):
        ax.plot([ax0 + side * k / 8] * 2, [ay0, ay0 + side], color=color, lw=0.4, alpha=0.7)
        ax.plot([ax0, ax0 + side], [ay0 + side * k / 8] * 2, color=color, lw=0.4, alpha=0.7)
    fields = node.get("fields", {})
    size = f"{fields['rows']} × {fields['columns']}" if "rows" in fields and "columns" in fields else ""
    readout = f"\n{fields['readout']} read-out" if "readout" in fields else ""
    ax.text(ax0 + side / 2, ay0 + side / 2, _text(f"{node.get('kind', 'array')}\n{size}{readout}"), ha="center",
            va="center", fontsize=9, bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})


# -- floorplan ----------------------------------------------------------------------------------

@styled
def floorplan_figure(tiles: Sequence[Any], chip_tiles: int) -> Figure:
    """Tiles of the chip on a square grid, coloured by the layer each holds, with a legend."""
    n = max(len(tiles), 1)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(11.0, max(3.0, min(7.0, 0.55 * rows + 1.5))))
    ax = fig.add_axes((0.02, 0.04, 0.5, 0.88))
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    layer_order = list(dict.fromkeys(t.layer for t in tiles if t.layer))
    cmap = matplotlib.colormaps["tab20"]
    hues = [*range(0, 20, 2), *range(1, 20, 2)]  # distinct hues first, then their light variants
    color = {name: cmap(hues[i % 20]) for i, name in enumerate(layer_order)}
    fontsize = max(4.0, min(8.0, 40.0 / cols))
    for position, t in enumerate(tiles):
        row, col = divmod(position, cols)
        over = t.index >= chip_tiles
        ax.add_patch(Rectangle((col + 0.05, row + 0.05), 0.9, 0.9, facecolor=color.get(t.layer, "#eeeeee"),
                               edgecolor="#c0392b" if over else "#555555", linewidth=1.2 if over else 0.5,
                               hatch="//" if over else None))
        if t.layer and cols <= 24:
            ax.text(col + 0.5, row + 0.5, _text(t.layer), ha="center", va="center", fontsize=fontsize, clip_on=True)
    used = sum(getattr(t, "count", 1) for t in tiles if t.layer)
    ax.set_title(f"{min(used, chip_tiles)} of {chip_tiles} tiles used", loc="left")
    handles = []
    for name in layer_order:
        held = [t for t in tiles if t.layer == name]
        count = sum(getattr(t, "count", 1) for t in held)
        handles.append(Patch(facecolor=color[name], edgecolor="#555555",
                             label=_text(f"{name}: {count} tile(s), ×{held[0].duplication} copies, "
                                         f"{100 * held[0].utilization:.0f}% used")))
    handles.append(Patch(facecolor="#eeeeee", edgecolor="#555555", label="idle tile"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.55, 0.95), frameon=False,
               ncol=1 if len(handles) <= 16 else 2, fontsize=8 if len(handles) <= 16 else 6.5)
    return fig


# -- breakdowns ---------------------------------------------------------------------------------

@styled
def area_figure(area_by_group: Mapping[str, float]) -> Figure:
    """Chip area by component group (horizontal bars with shares)."""
    groups = list(area_by_group)
    values = [area_by_group[g] for g in groups]
    factor, unit = scale(values, "m^2")
    total = sum(values)
    colors = group_colors(groups)
    fig = Figure(figsize=(7.0, 0.45 * len(groups) + 1.2))
    ax = fig.add_axes((0.2, 0.22, 0.65, 0.68))
    ax.barh(range(len(groups)), [v * factor for v in values], color=[colors[g] for g in groups])
    ax.set_yticks(range(len(groups)), [_text(g) for g in groups])
    ax.invert_yaxis()
    ax.set_xlabel(f"area ({unit})")
    for i, v in enumerate(values):
        share = 100 * v / total if total else 0.0
        ax.text(v * factor, i, f" {share:.1f}%", va="center", fontsize=8)
    ax.set_title(f"Area by group (total {total * factor:.4g} {unit})", loc="left")
    return fig


@styled
def stacked_layers_figure(names: Sequence[str], by_group: Mapping[str, Sequence[float]], unit: str,
                          title: str) -> Figure:
    """Per-layer values stacked by group (latency in s or energy in J)."""
    groups = [g for g in by_group if any(by_group[g])] or list(by_group)
    totals = [sum(by_group[g][i] for g in groups) for i in range(len(names))]
    factor, label = scale(totals, unit)
    colors = group_colors(list(by_group))
    fig = Figure(figsize=(max(6.0, 0.55 * len(names) + 2.5), 4.2))
    ax = fig.add_axes((0.1, 0.25, 0.68, 0.65))
    bottom = [0.0] * len(names)
    x = list(range(len(names)))
    for g in groups:
        vals = [v * factor for v in by_group[g]]
        ax.bar(x, vals, bottom=bottom, color=colors[g], label=_text(g), width=0.7)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_xticks(x, [_text(n) for n in names], rotation=45 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center")
    ax.set_ylabel(label)
    ax.set_title(_text(title), loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


@styled
def efficiency_figure(efficiency: Mapping[str, float]) -> Figure:
    """Throughput and energy efficiency achieved on the network next to the compute-only peak."""
    fig = Figure(figsize=(7.0, 2.8))
    for i, (key, unit) in enumerate((("tops", "TOPS"), ("tops_per_w", "TOPS/W"))):
        ax = fig.add_axes((0.1 + 0.48 * i, 0.18, 0.36, 0.66))
        values = [efficiency.get(key, 0.0), efficiency.get(f"peak_{key}", 0.0)]
        ax.bar([0, 1], values, color=["#4c72b0", "#a6b8d8"], width=0.6)
        ax.set_xticks([0, 1], ["network", "peak"])
        ax.set_ylabel(unit)
        for j, v in enumerate(values):
            ax.text(j, v, f"{v:.3g}", ha="center", va="bottom", fontsize=8)
        ax.set_title(unit, loc="left")
    return fig


@styled
def compare_figure(labels: Sequence[str], a: Mapping[str, float], b: Mapping[str, float], unit: str,
                   title: str) -> Figure:
    """Two designs' values by group side by side (grouped horizontal bars)."""
    groups = [g for g in dict.fromkeys([*a, *b]) if a.get(g, 0.0) or b.get(g, 0.0)] or list(dict.fromkeys([*a, *b]))
    factor, label = scale([*a.values(), *b.values()], unit)
    fig = Figure(figsize=(7.0, 0.6 * len(groups) + 1.4))
    ax = fig.add_axes((0.2, 0.2, 0.55, 0.7))
    for k, (values, color) in enumerate(((a, "#4c72b0"), (b, "#dd8452"))):
        ax.barh([i + (k - 0.5) * 0.38 for i in range(len(groups))], [values.get(g, 0.0) * factor for g in groups],
                height=0.38, color=color, label=_text(labels[k]))
    ax.set_yticks(range(len(groups)), [_text(g) for g in groups])
    ax.invert_yaxis()
    ax.set_xlabel(label)
    ax.set_title(_text(title), loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


# -- SVG ----------------------------------------------------------------------------------------

_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


def to_svg(figure: Figure, prefix: str) -> str:
    """Inline SVG of ``figure`` (no XML header), same bytes for the same figure; ids get ``prefix``."""
    buffer = io.StringIO()
    with style():
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    return text.strip() + "\n"
