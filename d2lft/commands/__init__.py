"""The course's command lines, run as `python -m d2lft COMMAND` (`d2lft/__main__.py`): `finetune` (the book's
recipe, or your photo folder within a time budget) and `predict` (a kept model on new images). Each turns its
options into calls of the functions the notebooks use, and prints what they return."""
