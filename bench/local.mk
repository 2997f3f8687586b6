## Benchmarks with anchors built in the same run.
