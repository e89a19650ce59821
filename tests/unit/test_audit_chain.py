"""The audit trail's hash chain (AUD-2): links hold for an untouched trail, and verification names the
first entry that was edited, removed, moved or forged, also after a purge left an anchor."""

from __future__ import annotations

from dataclasses import replace

from recoverydesk.domain.audit_chain import (
    DESK_SUBJECT,
    GENESIS,
    Anchor,
    AuditEntry,
    canonical,
    seal,
    subject_for,
    verify,
)

KEY = b"k" * 32


def chain(subject: str, count: int, start_seq: int = 1, prev: str = GENESIS) -> list[AuditEntry]:
    entries = []
    for seq in range(start_seq, start_seq + count):
        entry = seal(
            KEY,
            AuditEntry(
                subject=subject,
                seq=seq,
                at=f"2026-01-01T00:00:{seq:02d}Z",
                action="ticket.tags_changed" if seq % 2 else "ticket.read",
                actor="ana",
                ticket_id=subject.removeprefix("ticket:") if subject != DESK_SUBJECT else None,
                detail={"via": "bulk"} if seq % 2 else {},
                before={"tags": ["a"]} if seq % 2 else None,
                after={"tags": ["a", "b"]} if seq % 2 else None,
                prev=prev,
            ),
        )
        entries.append(entry)
        prev = entry.link
    return entries


def test_an_untouched_trail_of_several_chains_verifies_and_counts_every_entry():
    entries = chain("ticket:RD-000001", 5) + chain("ticket:RD-000002", 3) + chain(DESK_SUBJECT, 4)
    verdict = verify(KEY, entries)
    assert verdict.holds and verdict.checked == 12


def test_an_edited_actor_is_named_as_the_first_broken_link():
    entries = chain("ticket:RD-000001", 5)
    entries[2] = replace(entries[2], actor="mallory")
    verdict = verify(KEY, entries)
    assert not verdict.holds and verdict.checked == 2
    assert (verdict.broken.subject, verdict.broken.seq) == ("ticket:RD-000001", 3)
    assert "edited" in verdict.broken.sentence() and "ticket:RD-000001" in verdict.broken.sentence()


def test_an_edited_before_value_breaks_the_link_too():
    entries = chain("ticket:RD-000001", 3)
    entries[0] = replace(entries[0], before={"tags": []})
    assert verify(KEY, entries).broken.seq == 1


def test_a_removed_entry_is_named_where_the_gap_is():
    entries = chain("ticket:RD-000001", 5)
    del entries[1]
    broken = verify(KEY, entries).broken
    assert (broken.seq, "missing" in broken.reason) == (3, True)


def test_a_recomputed_link_without_the_key_is_still_caught_by_the_next_entry():
    entries = chain("ticket:RD-000001", 4)
    forged = replace(entries[1], actor="mallory")
    entries[1] = seal(b"x" * 32, forged)  # the forger does not hold the key
    assert verify(KEY, entries).broken.seq == 2


def test_a_rewritten_entry_with_the_key_breaks_the_next_entrys_pointer():
    entries = chain("ticket:RD-000001", 4)
    entries[1] = seal(KEY, replace(entries[1], actor="mallory", link=""))
    broken = verify(KEY, entries).broken
    assert broken.seq == 3 and "point" in broken.reason


def test_a_chain_that_starts_after_a_purge_verifies_from_its_anchor_and_only_from_it():
    whole = chain("ticket:RD-000001", 6)
    kept = whole[3:]
    anchor = Anchor("ticket:RD-000001", 3, whole[2].link)
    assert verify(KEY, kept, [anchor]).holds
    assert verify(KEY, kept).broken.seq == 4  # without the anchor the chain starts in the middle
    assert verify(KEY, kept[1:], [anchor]).broken.seq == 5  # the first kept entry was removed too


def test_the_encoding_does_not_depend_on_the_order_detail_was_given_in():
    entry = chain("ticket:RD-000001", 1)[0]
    reordered = replace(entry, detail=dict(reversed(list({"b": "2", "a": "1"}.items()))))
    assert canonical(replace(entry, detail={"a": "1", "b": "2"})) == canonical(reordered)


def test_entries_without_a_ticket_chain_on_the_desk():
    assert subject_for(None) == DESK_SUBJECT and subject_for("RD-000007") == "ticket:RD-000007"
