"""Pure: the capacity report: model, content assembly, caveats, plots and the HTML / Markdown /
JSON renderers. No I/O: the shell (`prescale report`, the daemon's `/report`) writes the files."""
