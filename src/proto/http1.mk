## http1 module: sources, public header, tests, fuzz targets, benchmarks, tools.
