"""The dashboard (``stratus-dashboard``, port 8000): a Django application that is a
pure client of the clouds' public REST APIs, through openstacksdk, as its user.

It never imports a service package nor opens a service database; its only state
is the users' sessions (files under ``[dashboard] session_dir``)."""
