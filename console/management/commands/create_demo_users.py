"""Create the console's demo accounts (dispatcher, planner, admin) and print their passwords."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from console.services import demo_users_create


class Command(BaseCommand):
    help = (
        "Create or reset the DEMO console accounts dispatcher, planner and admin (that role in every region) and "
        "each region's own <city>.dispatcher, .planner, .supervisor, .admin and .psc119 (a PSC 119 desk), of that "
        "region only; prints their (public) passwords."
    )

    def handle(self, *args, **options) -> None:
        for user in demo_users_create():
            state = "created" if user.created else "reset"
            scope = f"{user.role} of {user.region} only" if user.region else f"{user.role}, every region"
            if user.agency:
                scope += f", {user.agency} units only"
            self.stdout.write(f"demo user {user.username!r} ({scope}), password {user.password!r} [{state}]")
        self.stdout.write(self.style.WARNING("These are DEMO accounts with public passwords: never use them live."))
