"""Every write of monitoring, one transaction each (see the modules):

* ``ingestion`` — receiving batches and reference samples;
* ``aggregation`` — applying batches to windows exactly once, the sweeper;
* ``checks`` — judging closed windows;
* ``alerts`` — raising, acknowledging and resolving alerts;
* ``review`` — labelling the human review queue;
* ``targets`` — which version a batch is about, and a model's configuration.
"""
