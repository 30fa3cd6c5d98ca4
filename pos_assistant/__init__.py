"""Library code of the POS dispute assistant: NLU components, knowledge, case store, channels."""
