"""Pure: the what-if simulator, replaying history minute by minute through rival policies.

The replay engine and its results, the scenario (replay split, cold starts, spot interruptions),
the policies (prescale under replay, reactive HPA, static, cron, oracle) and the line-up that runs
them. It imports the planner's core (the same `plan_step` the daemon runs) and the forecaster,
never the shell.
"""
