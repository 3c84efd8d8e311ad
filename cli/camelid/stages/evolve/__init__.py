"""Evol-Instruct (WizardLM, Xu et al. 2023): instructions rewritten into harder or rarer ones,
round after round, each evolution checked the way the paper eliminated failed ones."""
