"""Packages that only some parts of selmix_sk need, imported when those parts run."""

import importlib

__all__ = ["import_optional"]


def import_optional(module, package, user):
    """Import ``module``, or say which package to install for ``user``.

    Parameters
    ----------
    module : str
        The module to import, such as ``"imblearn.ensemble"``.
    package : str
        The package on PyPI that brings it, such as ``"imbalanced-learn"``.
    user : str
        What needs it, for the message.

    Returns
    -------
    module : module

    Raises
    ------
    ImportError
        Naming the package and the command that installs it.

    Examples
    --------
    >>> from selmix_sk._optional import import_optional
    >>> import_optional("json", "json", "This example").__name__
    'json'
    >>> import_optional("no_such_module", "nothing", "This example")
    Traceback (most recent call last):
    ...
    ImportError: This example needs the nothing package. Install it with: pip install nothing
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{user} needs the {package} package. Install it with: pip install {package}"
        ) from exc
