"""The fraud example. (A package only so that pytest imports examples/fraud/conftest.py under a
name of its own, `fraud.conftest`, instead of clashing with tests/conftest.py as `conftest`.)"""
