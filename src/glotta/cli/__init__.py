"""The ``glotta`` command line."""
