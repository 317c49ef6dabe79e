"""Measure the suite's reference returns that no environment computes (the ``rlfloor-references`` command;
see :mod:`rlfloor_cli.references`).

    nice -n 10 python scripts/measure_references.py --optimal
    python scripts/measure_references.py --names cartpole acrobot --episodes 5000
"""

from rlfloor_cli.references import main

if __name__ == "__main__":
    main()
