"""One module per file format; each exposes ``extract_<format>(data, limits, deadline)``."""
