"""The clamd client and our own clamd: our signature file detects EICAR (whole, or inside a CSV), a clean file is
clean, a clamd that is not there or that stops reading is never taken for a clean verdict."""
from __future__ import annotations

import pytest

from servicekit.antivirus import SIGNATURES_DIR, Clamd, ScannerUnavailable, Verdict, parse_reply
from testkit.eicar import eicar


@pytest.mark.unit
def test_our_signature_file_names_the_eicar_file_and_is_not_one_itself():
    [line] = (SIGNATURES_DIR / "eicar.ndb").read_text().split()
    name, target, offset, body = line.split(":")
    assert (name, target, offset) == ("Eicar-Test-Signature", "0", "*")
    assert bytes.fromhex(body) == eicar()
    assert eicar() not in (SIGNATURES_DIR / "eicar.ndb").read_bytes()


@pytest.mark.unit
@pytest.mark.parametrize(("reply", "verdict"), [
    (b"stream: OK\0", Verdict()),
    (b"stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0", Verdict("Eicar-Test-Signature")),
    (b"stream: Win.Test.EICAR_HDB-1 FOUND\0", Verdict("Win.Test.EICAR_HDB-1")),
])
def test_clamd_replies_are_read(reply, verdict):
    assert parse_reply(reply) == verdict


@pytest.mark.unit
def test_an_error_reply_is_no_verdict():
    with pytest.raises(ScannerUnavailable):
        parse_reply(b"INSTREAM size limit exceeded. ERROR\0")


async def scan(clamd: Clamd, data: bytes, chunk: int = 1000) -> Verdict:
    async with clamd.scan() as scanning:
        for start in range(0, len(data), chunk):
            await scanning.send(data[start:start + chunk])
        return await scanning.verdict()


@pytest.mark.integration
async def test_our_clamd_finds_eicar_alone_or_in_a_csv_and_passes_a_clean_file(clamd_socket):
    clamd = Clamd(clamd_socket)
    assert await clamd.ping()
    assert await scan(clamd, eicar()) == Verdict("Eicar-Test-Signature")
    assert await scan(clamd, b"Nom;Pr\xc3\xa9nom\nDupont;" + eicar() + b"\n") == Verdict("Eicar-Test-Signature")
    assert await scan(clamd, "Nom;Prénom\nDupont;Jean\n".encode() * 1000) == Verdict()
    assert await scan(clamd, b"") == Verdict()


@pytest.mark.integration
async def test_a_clamd_that_is_not_there_gives_no_verdict(tmp_path):
    clamd = Clamd(tmp_path / "absent.sock", timeout_s=2)
    assert not await clamd.ping()
    with pytest.raises(ScannerUnavailable):
        await scan(clamd, b"Nom\nDupont\n")
