"""Pure analytics over plain rows: no I/O, no aiohttp, no SQL. Each reproduces CONTRACT §3."""
