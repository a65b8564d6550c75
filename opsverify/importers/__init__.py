"""Importers: from what teams already have (a compose file, Prometheus rules, Kubernetes probes, a Gatus
config, an operations guide in Markdown) to a target file and a `.env.example` of the variables it uses.

One module per source; each returns a `Draft`. Everything is deterministic: no network, the same input
gives the same output. `opsverify import SOURCE FILE...` and `opsverify draft GUIDE.md` (`cli.py`) write it.
"""
