"""``stratus-manage identity ...``: db sync, fernet-setup/rotate, bootstrap."""
from __future__ import annotations

import os
import sys
from typing import Any

from oslo_config import cfg

from common.cli import admin
from identity import conf as identity_conf
from identity.api import app as identity_app
from identity.service import bootstrap as bootstrap_mod
from identity.tokens import keys

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "db", "migrations")


def _repo(conf: cfg.ConfigOpts) -> keys.KeyRepository:
    return keys.KeyRepository(conf.fernet_tokens.key_repository,
                              conf.fernet_tokens.max_active_keys)


def _fernet_setup(conf: cfg.ConfigOpts) -> None:
    """Token keys and credential keys (both needed by a running identity service)."""
    created = _repo(conf).setup()
    print("token keys %s in %s" % ("created" if created else "already present",
                                   conf.fernet_tokens.key_repository))
    created = keys.KeyRepository(conf.credential.key_repository).setup()
    print("credential keys %s in %s" % ("created" if created else "already present",
                                        conf.credential.key_repository))


def _credential_rotate(conf: cfg.ConfigOpts) -> None:
    app = identity_app.IdentityApp(conf)
    primary = app.credentials.keys.rotate()
    count = app.credentials.reencrypt_all()
    print("credential keys rotated (primary %d); %d credentials re-encrypted" % (primary, count))


def _fernet_rotate(conf: cfg.ConfigOpts) -> None:
    primary = _repo(conf).rotate()
    print("token keys rotated; primary key is now %d" % primary)


def _bootstrap(conf: cfg.ConfigOpts) -> None:
    args = conf.command
    password = args.bootstrap_password or os.environ.get("OS_BOOTSTRAP_PASSWORD")
    if not password:
        print("bootstrap needs --bootstrap-password or OS_BOOTSTRAP_PASSWORD", file=sys.stderr)
        raise SystemExit(2)
    spec = bootstrap_mod.BootstrapSpec(
        password=password, username=args.bootstrap_username,
        project_name=args.bootstrap_project_name, role_name=args.bootstrap_role_name,
        region_id=args.bootstrap_region_id, public_url=args.bootstrap_public_url,
        internal_url=args.bootstrap_internal_url, admin_url=args.bootstrap_admin_url)
    ids = bootstrap_mod.bootstrap(identity_app.IdentityApp(conf), spec)
    print("bootstrap done: user %(user_id)s, project %(project_id)s" % ids)


def _add_parsers(subparsers: Any) -> None:
    admin.add_db_commands(subparsers, "identity", MIGRATIONS)
    subparsers.add_parser("fernet-setup", help="Create token keys.").set_defaults(
        func=_fernet_setup)
    subparsers.add_parser("fernet-rotate", help="Rotate token keys.").set_defaults(
        func=_fernet_rotate)
    subparsers.add_parser("credential-rotate", help="Rotate credential keys and re-encrypt "
                          "stored credentials.").set_defaults(func=_credential_rotate)
    boot = subparsers.add_parser("bootstrap", help="Create the admin user, roles, catalog.")
    for name, default in (("password", None), ("username", "admin"),
                          ("project-name", "admin"), ("role-name", "admin"),
                          ("region-id", "RegionOne"), ("public-url", None),
                          ("internal-url", None), ("admin-url", None)):
        boot.add_argument("--bootstrap-" + name, default=default)
    boot.set_defaults(func=_bootstrap)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``identity`` group of stratus-manage."""
    return admin.run("identity", prog, argv, identity_conf.register_opts, _add_parsers)
