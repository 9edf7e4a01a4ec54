import re
from pathlib import Path

from setuptools import find_packages, setup

# One version, hexzero.__version__ (what `hexzero --version` prints), read without importing
# the package (its dependencies may not be installed yet).
VERSION = re.search(r'^__version__ = "([^"]+)"', Path("hexzero/__init__.py").read_text(encoding="utf-8"), re.M)[1]

setup(
    name="hexzero",
    version=VERSION,
    description="AlphaZero on Hex at many board sizes, Elo tournaments and RL scaling-law fits",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["hexzero", "hexzero.*", "elo", "elo.*", "experiments", "experiments.*"]),
    package_data={"experiments": ["presets/*.json"], "hexzero": ["data/*"]},
    install_requires=[
        # install.sh picks the CPU wheel of torch where there is no GPU before this runs.
        "torch>=2.1",
        "numpy>=1.24",
        "numba>=0.58",
        "ray>=2.9",
        "matplotlib>=3.7",
        "scipy>=1.10",
        "tqdm>=4.60",
        "threadpoolctl>=3",  # one BLAS thread in the bootstrap fits: spinning BLAS threads cost 30x on busy cores
    ],
    extras_require={
        # pytest-random-order: the suite passes in any order (`pytest -p random_order --random-order`)
        "dev": ["pytest>=7", "hypothesis>=6", "pytest-timeout>=2", "pytest-random-order>=1.1"],
        "bench": ["open_spiel"],
        "tensorboard": ["tensorboard"],
    },
    entry_points={"console_scripts": ["hexzero=hexzero.cli:main"]},
)
