"""Gradient checks behind ``gradstack check``: one file per gradstack module.

Each file has ``MODULE`` (the name after ``gradstack.``) and ``rows(torch)``, which runs
its finite-difference checks (and a PyTorch comparison when ``torch`` is given) and
returns the table rows.
"""

#: Modules in course order: the name after ``gradstack.`` and the check file for it.
CHECKED_MODULES = (
    "tensor",
    "activations",
    "layers",
    "losses",
    "embeddings",
    "attention",
    "transformer",
)
