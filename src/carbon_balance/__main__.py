"""``python -m carbon_balance`` is the ``carbon-balance`` command."""

from .cli import main

main()
