from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Recompute the audit hash chain. Prints the event count, the head hash and "
        "the first broken link; exits with status 1 if the chain is broken."
    )

    def handle(self, *args, **options):
        report = audit_chain_verify()
        seconds = (report.finished_at - report.started_at).total_seconds()
        self.stdout.write(f"events:     {report.event_count}")
        self.stdout.write(f"head:       {report.head_sequence or '-'}")
        self.stdout.write(f"head hash:  {report.head_hash or '-'}")
        self.stdout.write(f"checked in: {seconds:.2f}s")
        if report.is_intact:
            self.stdout.write(self.style.SUCCESS("chain intact"))
            return
        self.stdout.write(
            self.style.ERROR(
                f"first broken link: event {report.first_broken_sequence}: "
                f"{report.problem}"
            )
        )
        raise CommandError(
            f"audit chain broken at event {report.first_broken_sequence}"
        )
