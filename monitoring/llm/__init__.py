"""LLM call monitoring: serving systems push batches of call records (prompt
version, base model, tokens, cost, latency, finish reason, refusal, safety
flags, judge scores sampled online, user feedback) through the monitoring
ingestion, as batches of kind ``llm_calls``; workers count them into the
hourly windows; the window checks judge cost per call, judge scores against
the eval baseline and the safety-flag rate, and raise alerts through the
monitoring alerts; flagged calls join the human review queue.

Modules: ``parsing`` (the record format), ``windows`` (a batch's counts per
window, the numbers read off them), ``aggregation`` (the merge and the review
queue), ``config`` (the limits), ``checks`` (verdicts), ``selectors``
(windows and days for pages and the API), ``charts``, ``views`` and ``api``.
See docs/llm-monitoring.md.
"""
