"""`eval`: two answer sources judged pairwise on a prompt set (stage.py), their answers
(answers.py), the figures (statistics.py), and the run (run.py)."""
