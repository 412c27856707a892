"""`python -m mur_graph.cli`: the same as the `mur-graph` command."""

from mur_graph.cli.app import main

raise SystemExit(main())
