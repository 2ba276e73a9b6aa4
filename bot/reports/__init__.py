"""The quarterly statistics and the report documents built from them."""
