import base64
import os

from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_checkpoint_create
from audit.signing import (
    AuditSigningKeyUnavailable,
    key_id,
    parse_private_key,
    public_key_pem,
    signing_key,
)


class Command(BaseCommand):
    help = (
        "Sign the audit chain's head now (the hourly beat task does the same), or "
        "print the public key, or make a new signing key. See "
        "docs/audit-checkpoints.md."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--public-key",
            action="store_true",
            help="print the public key (PEM) and its key id, and sign nothing",
        )
        action.add_argument(
            "--new-key",
            action="store_true",
            help="print a new random key for AUDIT_SIGNING_KEY and its public key; "
            "changes nothing",
        )

    def handle(self, *args, public_key, new_key, **options):
        if new_key:
            secret = base64.b64encode(os.urandom(32)).decode("ascii")
            public = parse_private_key(secret).public_key()
            self.stdout.write(f"AUDIT_SIGNING_KEY={secret}")
            self.stdout.write(f"key id: {key_id(public)}")
            self.stdout.write(public_key_pem(public), ending="")
            return
        try:
            if public_key:
                public = signing_key().public_key()
                self.stdout.write(f"key id: {key_id(public)}")
                self.stdout.write(public_key_pem(public), ending="")
                return
            checkpoint = audit_checkpoint_create()
        except AuditSigningKeyUnavailable as error:
            raise CommandError(error.message) from error
        if checkpoint is None:
            self.stdout.write("no checkpoint: the chain is empty or its head is signed")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"checkpoint at event {checkpoint.sequence}: {checkpoint.head_hash} "
                f"(key {checkpoint.key_id})"
            )
        )
