"""Shared test helpers: import from here, never from another test file.

- ``signing_in``: sign a test client in through the real forms (CSRF on), submit a form, small
  settings, ``CountingPasswords``;
- ``incidents``: the incident world (``world``), the concern it comes from, the recording forms,
  ``ready_to_hand_over`` (world built, DSL signed in, incident recorded), decide/close/tell parents;
- ``concerns``: the concern world (``make_world``, the ``world`` fixture), a good concern's fields,
  posting the concern form;
- ``drafts``: reading a saved draft, idling a session out, the rescue key;
- ``files``: a real PNG and PDF carrying a canary; ``canaries``: canary records and the check;
- ``pdfs``: a served PDF as text;
- ``clock``: ``frozen_clock``, the portal's one clock set for a test (a fixture everywhere).

The old homes (tests/web/conftest.py, test_incidents.py, test_concerns.py, ...) still import these
names, so older imports keep working; new tests import from here.
"""
