"""The request pipeline of our own: ``pipeline.py`` lists its stages in order, ``edge.py``
is the outermost (one ``send`` wrapper for every answer), ``stages.py`` the small ones in
between, ``scope.py`` every key they leave in the ASGI scope. Library internals it relies
on are in ``server/compat.py``."""
