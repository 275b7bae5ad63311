"""The course's tooling: three commands for students, the rest for instructors and CI.

``python -m course COMMAND`` (``--help`` on each):

=============  ==========================================================================
``doctor``     is this computer ready for the course? (:mod:`course.doctor`)
``progress``   every exercise with its verdict, from the saved notebooks (:mod:`course.progress`)
``update``     the course's corrections, with the student's answers carried (:mod:`course.update`)
``release``    regenerate ``notebooks/`` from ``solutions/`` (:mod:`course.release`)
``execute``    re-run solution notebooks in place, then release them (:mod:`course.execute`)
``slides``     build the offline reveal.js decks into ``build/slides/`` (:mod:`course.slides`)
``benchmark``  time every notebook of both editions (:mod:`course.benchmark`)
``portable``   strict nbval with other CPU kernels and thread counts (:mod:`course.portable`)
``nbgrader``   write the nbgrader edition of the course (:mod:`course.grading`)
``online``     rewrite the Colab and Binder cells of the solutions (:mod:`course.online`)
=============  ==========================================================================

:mod:`course.notebook` owns the notebook format (root, discovery, cell kinds, markers) that
all of them share. The students' commands (doctor, progress, update) and
:mod:`course.notebook` import nothing beyond the course's runtime dependencies; the others
need the ``dev`` extra (``pip install -e .[dev]``, which ``make test`` runs) and ``nbgrader``
the ``grading`` extra.
"""
