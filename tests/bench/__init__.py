"""Tests of the benchmarks (bench/): their schedules, timelines, CPU accounting and repeats."""
