"""The release number, in one place: the wheel's metadata, `verify --version` and the service
files the desk installer writes all read it from here (CHANGELOG.md says what each one changed)."""

__version__ = "0.2.0"
