"""`python -m d2lft.worlds.mini`: rebuild the mini world's source model from its recipe (`pretrain`)."""

from .pretrain import main

if __name__ == "__main__":
    raise SystemExit(main())
