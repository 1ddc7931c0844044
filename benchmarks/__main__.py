"""`make bench`: run every benchmark, each against a baseline measured in the same run."""

from benchmarks.run import main

main()
