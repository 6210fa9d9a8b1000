"""Lab assays: plates and dose-response, combinations, ddPCR, blots, in vivo."""
