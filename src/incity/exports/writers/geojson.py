"""GeoJSON: a FeatureCollection streamed feature by feature.

Every geometry answer (a geopoint, geotrace or geoshape question, or a mark of a
map-marks question) is a feature; its properties are the submission's answers
that are not sensitive (a map is shared more widely than a table, so sensitive
answers never go into it, whatever the role), plus the question it answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from incity.exports.layout import Layout
from incity.exports.writers.base import WriterOptions


class GeoJsonWriter:
    def __init__(self, path: Path, layout: Layout, options: WriterOptions) -> None:
        self.handle: IO[str] = path.open("w", encoding="utf-8")
        main = layout.main
        self.geometry_at = [
            (index, column.name)
            for index, column in enumerate(main.columns)
            if column.kind == "geometry" and not column.sensitive
        ]
        self.property_at = [
            (index, column.name)
            for index, column in enumerate(main.columns)
            if column.kind != "geometry" and not column.sensitive
        ]
        # Map-marks tables: (index among linked tables, question name, columns of a mark).
        self.marks = [
            (index, table.repeat, [(i, c.name) for i, c in enumerate(table.columns)])
            for index, table in enumerate(layout.linked)
            if table.marks and len(table.path) == 1 and not table.columns[-2].sensitive
        ]
        self.first = True
        name = json.dumps(options.title, ensure_ascii=False)
        self.handle.write(f'{{"type":"FeatureCollection","name":{name},"features":[\n')

    def _feature(self, geometry: str, properties: dict[str, Any]) -> None:
        text = json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
        if not self.first:
            self.handle.write(",\n")
        self.first = False
        self.handle.write(f'{{"type":"Feature","geometry":{geometry},"properties":{text}}}')

    def write_chunk(self, main: list[list[Any]], linked: list[list[list[Any]]]) -> None:
        properties_of: dict[int, dict[str, Any]] = {}
        for row in main:
            properties = {name: row[index] for index, name in self.property_at}
            properties_of[row[0]] = properties
            for index, question in self.geometry_at:
                if row[index] is not None:
                    self._feature(row[index], {**properties, "question": question})
        for index, question, columns in self.marks:
            for mark in linked[index]:
                geometry = mark[-1]
                if geometry is None:
                    continue
                details = {f"mark_{name}": mark[i] for i, name in columns[1:-1]}
                self._feature(
                    geometry, {**properties_of.get(mark[0], {}), "question": question, **details}
                )

    def close(self) -> None:
        self.handle.write("\n]}\n")
        self.handle.close()

    def discard(self) -> None:
        self.handle.close()
