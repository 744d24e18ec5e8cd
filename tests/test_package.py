"""The package's public names: exported lazily, and the same names a type checker sees."""

from __future__ import annotations


def test_the_package_exports_are_the_typed_names_it_imports_lazily():
    import ncr_provider

    assert set(ncr_provider.__all__) == {"__version__", *ncr_provider._EXPORTS}
    for name, module in ncr_provider._EXPORTS.items():
        assert getattr(ncr_provider, name).__module__.startswith(f"ncr_provider.{module}")
