"""Magpie (Xu et al., 2024): instructions without seeds, written by an aligned chat model given
only its chat template's text up to where a user message begins, then answered by it."""
