"""Map layers of a form's map answers: hexagons, areas, hotspots (published) and raw points."""
