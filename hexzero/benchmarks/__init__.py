"""Benchmarks behind `hexzero bench WHAT`: each module has HELP, add_arguments(parser) and
run(args) -> list[dict]; `hexzero bench` prints the records as JSON."""
