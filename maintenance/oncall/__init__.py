"""The on-call view: facts read from the job history (facts), what needs attention (judge, pure)."""
