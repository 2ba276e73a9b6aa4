"""Who may use the staff commands: staff and admins from config.toml plus staff admins added."""

from __future__ import annotations

import asyncio

from bot.config import StaffSettings
from bot.store.staff_repository import StaffRepository


class StaffDirectory:
    def __init__(self, settings: StaffSettings, repository: StaffRepository) -> None:
        self.settings = settings
        self.repository = repository
        self._added: dict[int, str] = {}  # telegram id -> role, from the database
        self._names: dict[int, str] = {}

    def refresh(self) -> None:
        members = self.repository.staff_members()
        self._added = {m.telegram_id: m.role for m in members}
        self._names = {m.telegram_id: m.name for m in members}

    @property
    def admins(self) -> frozenset[int]:
        added = {i for i, role in self._added.items() if role == "admin"}
        return frozenset(self.settings.admin_ids) | added

    @property
    def members(self) -> frozenset[int]:
        """Everyone allowed to use the staff commands (admins included)."""
        return frozenset(self.settings.staff_ids) | frozenset(self._added) | self.admins

    def is_staff(self, user_id: int) -> bool:
        return user_id in self.members

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admins

    def name_of(self, user_id: int) -> str | None:
        return self._names.get(user_id)

    def add(self, user_id: int, name: str, by: int, role: str = "staff") -> None:
        self.repository.add_staff(user_id, name, role, by)
        self.refresh()

    def remove(self, user_id: int) -> bool:
        """Remove a staff member added in the bot; config.toml's own lists stay as they are."""
        removed = self.repository.remove_staff(user_id)
        self.refresh()
        return removed

    def configured(self, user_id: int) -> bool:
        return user_id in self.settings.staff_ids or user_id in self.settings.admin_ids

    # --- for the channels: async, the database in a worker thread ----------------------------

    async def reread(self) -> None:
        """Staff added or removed in the bot, from the database."""
        await asyncio.to_thread(self.refresh)

    async def appoint(self, user_id: int, name: str, by: int, role: str = "staff") -> None:
        await asyncio.to_thread(self.add, user_id, name, by, role)

    async def dismiss(self, user_id: int) -> bool:
        return await asyncio.to_thread(self.remove, user_id)
