"""Models of resistance: ``signalling`` (TRK-fusion signalling under drugs and resistance
alterations; docs/signalling.md) and ``evolution`` (tumour evolution under regimens, a
multi-type branching process; docs/evolution.md)."""
