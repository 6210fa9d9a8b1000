"""TRK-fusion signalling under drugs and resistance alterations (planned: issue 16; no code yet)."""
