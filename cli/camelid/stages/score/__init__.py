"""`score`: LLM-as-judge with a rubric pack (judge.py), the judgement's shape (verdicts.py)."""

from camelid.stages.score.judge import STAGE, Judge, record_prompts
from camelid.stages.score.verdicts import answers_of, count_failures, judgement_schema

__all__ = ["STAGE", "Judge", "answers_of", "count_failures", "judgement_schema", "record_prompts"]
