"""Topic-guided red-teaming (Self-Align's TGRT self-instruct): topics, then questions."""
