"""The ``dbkit`` command line: a thin click layer over the dbkit library."""
