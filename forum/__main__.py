"""python -m forum -> cli.main()."""
from forum.cli import main

# Guarded: a process spawned by multiprocessing (forum.markdown's cooks) imports this module too.
if __name__ == "__main__":
    raise SystemExit(main())
