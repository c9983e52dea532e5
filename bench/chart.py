"""A small SVG line chart (no plotting library on the bench machine): rps vs concurrency,
one line per series."""

from pathlib import Path

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def line_chart(path: Path, title: str, series: dict[str, dict[int, float]]) -> None:
    width, height, left, bottom, top, right = 760, 420, 70, 50, 40, 250
    xs = sorted({x for points in series.values() for x in points})
    y_max = max(v for points in series.values() for v in points.values()) * 1.1

    def px(x: int) -> float:
        return left + xs.index(x) * (width - left - right) / max(1, len(xs) - 1)

    def py(y: float) -> float:
        return height - bottom - y * (height - bottom - top) / y_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">{title}</text>',
    ]
    for i in range(6):
        value = y_max * i / 5
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{py(value):.1f}" y2="{py(value):.1f}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{left - 8}" y="{py(value) + 4:.1f}" text-anchor="end">{value:.0f}</text>')
    parts.extend(f'<text x="{px(x):.1f}" y="{height - bottom + 18}" text-anchor="middle">c={x}</text>' for x in xs)
    parts.append(
        f'<text x="16" y="{(height - bottom + top) / 2:.0f}" '
        f'transform="rotate(-90 16 {(height - bottom + top) / 2:.0f})" text-anchor="middle">requests per second</text>'
    )
    for n, (name, points) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        line = " ".join(f"{px(x):.1f},{py(points[x]):.1f}" for x in xs if x in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        parts += [
            f'<circle cx="{px(x):.1f}" cy="{py(points[x]):.1f}" r="3.5" fill="{colour}"/>' for x in xs if x in points
        ]
        y = top + 20 + n * 22
        parts.append(
            f'<line x1="{width - right + 15}" x2="{width - right + 40}" y1="{y - 4}" y2="{y - 4}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(f'<text x="{width - right + 46}" y="{y}">{name}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
