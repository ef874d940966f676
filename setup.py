"""Build the C kernel (doublet._kernel); all other metadata lives in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "doublet._kernel",
            sources=["src/doublet/_native/kernel.c"],
            depends=["src/doublet/_native/unitables.h"],
            extra_compile_args=["-O3", "-std=c11"],
        )
    ]
)
