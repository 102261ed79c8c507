"""Maps and how far to trust them: projections, clusters and their names, density images, filters and selections,
neighbours; :mod:`.report` holds the workflows the page, the CLI and the benchmarks call, :mod:`.drawing`
the map they draw."""
