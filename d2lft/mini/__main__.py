"""`python -m d2lft.mini`: rebuild the mini world's source model from its recipe (see `d2lft.mini.source`)."""

from .source import main

if __name__ == "__main__":
    raise SystemExit(main())
