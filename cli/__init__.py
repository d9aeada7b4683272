"""The `sluice` command line: argument parsing and output; work is done in core/, sources/."""
