"""Businesses' profiles (/hoso) as the channels use them: async, one worker thread per call."""

from __future__ import annotations

import asyncio

from bot.store.records import PersonRef, Profile
from bot.store.staff_repository import StaffRepository


class Profiles:
    def __init__(self, repository: StaffRepository) -> None:
        self._repository = repository

    async def of(self, person_key: str) -> Profile | None:
        return await asyncio.to_thread(self._repository.profile_of, person_key)

    async def save(self, person: PersonRef, profile: Profile) -> None:
        await asyncio.to_thread(self._repository.save_profile, person, profile)

    async def forget(self, person: PersonRef) -> None:
        """The business asked: its profile is not attached to its next questions."""
        await asyncio.to_thread(self._repository.forget_profile, person)
