"""Test machinery shared by every test folder: plain helpers, each defined once.

Fixtures live in the conftest.py files and build on these; tests import from here, never from a
conftest or from another test module.

- `backends`: which databases and brokers the suite runs on, and emptying a test database.
- `api`: the HTTP client that acts as named users (tokens minted, not logged in), the council builder.
- `files`: PDFs, images and archives generated in code (no binary fixtures).
- `servers`: free ports, the app in-process, under uvicorn in the test's loop, or as real processes.
- `sockets`: the room WebSocket client of the tests: join, receive with timeouts, acknowledged sends.
"""
