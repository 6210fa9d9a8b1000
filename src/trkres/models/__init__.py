"""Models of resistance: ``signalling`` (TRK-fusion signalling under drugs) and
``evolution`` (tumour evolution under regimens). Both are planned (issues 16 and 19)
and hold no code yet."""
