"""Shared test helpers: import from here, never from another test file.

- ``tests.helpers.clock``: ``frozen_clock`` (the portal's one clock, set for a test);
- ``tests.helpers.worlds``: the schools, staff and children most tests start from;
- ``tests.helpers.signing_in``: signing a test client in;
- ``tests.helpers.incidents``: an incident recorded and ready to hand over.
"""
