"""The course's tooling, for instructors and CI: students never import it.

``python -m course COMMAND`` (``--help`` on each):

=============  ==========================================================================
``release``    regenerate ``notebooks/`` from ``solutions/`` (:mod:`course.release`)
``execute``    re-run solution notebooks in place, then release them (:mod:`course.execute`)
``slides``     build the offline reveal.js decks into ``build/slides/`` (:mod:`course.slides`)
``benchmark``  time every notebook of both editions (:mod:`course.benchmark`)
``portable``   strict nbval with other CPU kernels and thread counts (:mod:`course.portable`)
``doctor``     is this computer ready for the course? (:mod:`course.doctor`)
``online``     rewrite the Colab and Binder cells of the solutions (:mod:`course.online`)
=============  ==========================================================================

:mod:`course.notebook` owns the notebook format (root, discovery, cell kinds, markers) that
all of them share. Only the doctor runs on a student's machine (as ``python -m helpers
doctor``): it and :mod:`course.notebook` import nothing beyond the course's runtime
dependencies; the others need the ``dev`` extra (``pip install -e .[dev]``, which
``make test`` runs).
"""
