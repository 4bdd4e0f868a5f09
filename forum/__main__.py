"""python -m forum -> cli.main()."""
from forum.cli import main

raise SystemExit(main())
