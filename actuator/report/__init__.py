"""Shell: the capacity report (model, content assembly, HTML / Markdown / JSON renderers)."""
