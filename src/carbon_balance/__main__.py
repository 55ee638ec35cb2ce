"""``python -m carbon_balance`` is the ``carbon-balance`` command."""

from .cli import console_main

console_main()
