"""Kernel: what every layer of prescale shares (errors, time units, the duration grammar).

It imports nothing of ours, so the forecaster, the planner, the simulator, the report and the
shell can all raise the same errors and read the same durations without knowing each other.
"""
