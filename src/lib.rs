//! lol: the user-level package (its examples/ and tests/ use only public APIs).
