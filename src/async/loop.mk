## loop module: sources, public header, tests, fuzz targets, benchmarks, tools.
