"""Developer tools beside the course, not part of what students import: a teacher's course pass
(`course`), the real world rehearsed offline (`rehearsal`), every notebook claim over seeds and numeric
paths (`spread`), and the benchmarks (`bench`, `time_to_accuracy`). Each runs as `python -m tools.NAME`
from the repository's root (the `make` targets do); they import `d2lft`, and `d2lft` never imports them.
"""
