"""The report ``gradstack check`` prints, from the check tables the packages export.

Each module's cases live in the module itself: ``gradstack.<name>.gradcheck_cases``
(gradient checks, ``GRADCHECK_CASES`` and ``TORCH_CASES``) and
``gradstack.<name>.value_cases`` (``VALUE_CASES``); see ``gradstack.tensor.gradcheck_table``.
This folder only turns their results into table rows.
"""

#: Modules in course order: the name after ``gradstack.``; each has at least one table.
CHECKED_MODULES = (
    "tensor",
    "activations",
    "layers",
    "losses",
    "autograd",
    "optim",
    "tokenization",
    "embeddings",
    "attention",
    "transformer",
)
