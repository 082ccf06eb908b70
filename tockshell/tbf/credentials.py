"""Credential checking of TBF objects, as Tock 2.3's process loader does it.

A board that checks credentials gives its ``SequentialProcessLoaderMachine`` a
``ProcessCheckerMachine`` (kernel/src/process_checker.rs) and a credentials
policy (an ``AppCredentialsPolicy``, e.g. ``AppCheckerSha256`` in
capsules/system/src/process_checker/basic.rs). After ``ProcessBinary::create``
accepted the header, the machine walks the Credentials Footers that follow the
binary and hands each one to the policy:

* the *integrity region* is the TBF from its first byte up to the Program
  TLV's ``binary_end_offset`` (header, protected trailer and binary; with a
  Main TLV the binary ends at ``total_size``, so there is no footer);
* footers are parsed as tock-tbf's ``parse_tbf_footer`` does: a TLV of type
  128 whose data begins with a 32-bit format and holds at least that
  format's fixed data length; the next footer starts right after the TLV's
  ``length`` bytes (no alignment). Fewer than 4 bytes left, or a TLV longer
  than what is left, is the end of the footers; any other TLV type, or an
  unknown format, is a bad footer, which also ends the walk;
* a footer the policy does not handle (``NOSUPPORT``), or one it lets
  through (``Pass``), moves on to the next footer; ``Accept`` loads the
  process with that credential; ``Reject`` refuses it with
  ``CredentialsRejected(index)``;
* at the end of the footers, a policy that requires credentials refuses the
  process with ``CredentialsNotAccepted``.

A refused binary never becomes a process (the loader drops it and tells its
client ``ProcessLoadError::CheckError``; nothing is printed unless the kernel
is built with ``debug_load_processes``). The words of the refusals are those
of ``ProcessLoadError``'s and ``ProcessCheckError``'s ``Debug`` output.

This module knows nothing of tockloader, the language or the shell: it works
on the bytes of one TBF object.
"""

from __future__ import annotations

import hashlib
import struct

import attrs

__all__ = [
    "FOOTER_CREDENTIALS", "CREDENTIAL_FORMATS", "POLICIES", "Footer", "FooterWalk", "FooterVerdict",
    "CredentialCheck", "AppCheckerSha256", "AppCheckerRsaSimulated", "walk_footers", "check_credentials",
    "format_name",
]

#: TLV type of a Credentials Footer (tock-tbf ``TbfHeaderTypes::TbfFooterCredentials``).
FOOTER_CREDENTIALS = 128

#: ``TbfFooterV2CredentialsType``: format number -> (Tock's name, fixed data length in bytes).
#: A format outside this table is ``BadTlvEntry(128)`` for Tock.
CREDENTIAL_FORMATS = {
    0: ("Reserved", 0),
    1: ("Rsa3072Key", 768),
    2: ("Rsa4096Key", 1024),
    3: ("SHA256", 32),
    4: ("SHA384", 48),
    5: ("SHA512", 64),
    6: ("EcdsaNistP256", 64),
}


def format_name(fmt: int) -> str:
    """Tock's name of a credentials format (``SHA256``...), or ``format N`` for one Tock does not know."""
    return CREDENTIAL_FORMATS[fmt][0] if fmt in CREDENTIAL_FORMATS else f"format {fmt}"


@attrs.frozen
class Footer:
    """One Credentials Footer as Tock parses it."""

    index: int          #: 0 for the first footer after the binary (``CredentialsRejected``'s number)
    offset: int         #: of its TLV, from the start of the TBF
    length: int         #: the TLV's length field (format + data + whatever follows, up to the next TLV)
    format: int         #: ``TbfFooterV2CredentialsType`` number
    data: bytes = attrs.field(repr=False)   #: the format's fixed-length data (what a checker reads)

    @property
    def name(self) -> str:
        return format_name(self.format)


@attrs.frozen
class FooterWalk:
    """Every footer Tock can parse, in order, and where and why the walk stops."""

    footers: tuple[Footer, ...]
    end_offset: int     #: where parsing stopped, from the start of the TBF
    region_end: int     #: the footer region is binary_end_offset .. this (total_size)
    bad: bool           #: True: a bad footer (``BadFooter``); False: the end of the region (``PastLastFooter``)
    reason: str         #: why, in words


def walk_footers(flash: bytes, binary_end: int, total_size: int) -> FooterWalk:
    """Parse the footer region ``flash[binary_end:total_size]`` as the ``ProcessCheckerMachine`` does.

    ``flash`` is the TBF object as the process sees it (shorter files read as
    zeros up to ``total_size``, as the model's flash does).
    """
    region = flash[binary_end:total_size]
    region += bytes(max(0, total_size - binary_end) - len(region))
    footers: list[Footer] = []
    pos = 0
    while True:
        bad, why = False, None
        left = len(region) - pos
        if left < 4:
            why = ("the footer region ends" if left == 0
                   else f"{left} byte{'s' if left > 1 else ''} left, too few for a TLV")
        else:
            tipe, length = struct.unpack_from("<HH", region, pos)
            if tipe != FOOTER_CREDENTIALS:
                what = "zero padding" if not any(region[pos:]) else f"a TLV of type {tipe}"
                bad, why = True, f"{what}, not a Credentials Footer (Tock: BadTlvEntry({tipe}))"
            elif length > left - 4:
                why = f"the footer's length {length} runs past total_size ({left - 4} bytes left)"
            elif length < 4:
                bad, why = True, f"the footer's length {length} has no room for its format"
            else:
                fmt = struct.unpack_from("<I", region, pos + 4)[0]
                need = CREDENTIAL_FORMATS[fmt][1] if fmt in CREDENTIAL_FORMATS else 0
                if fmt not in CREDENTIAL_FORMATS:
                    bad, why = True, f"credentials format {fmt} is unknown to Tock (Tock: BadTlvEntry(128))"
                elif length < 4 + need:
                    why = f"a {format_name(fmt)} footer needs length {4 + need}, this one has {length}"
        if why is not None:
            return FooterWalk(tuple(footers), binary_end + pos, total_size, bad, why)
        footers.append(Footer(len(footers), binary_end + pos, length, fmt, bytes(region[pos + 8:pos + 8 + need])))
        pos += 4 + length


# ---------------------------------------------------------------------------------------- policies
class AppCheckerSha256:
    """``AppCheckerSha256``: requires credentials; checks SHA256 footers against the integrity region.

    A SHA256 footer whose 32 bytes equal the SHA-256 of the integrity region
    is accepted, any other SHA256 footer rejected; other formats are not
    supported (``NOSUPPORT``: the machine goes on to the next footer).
    """

    name = "AppCheckerSha256"
    require_credentials = True

    def check(self, footer: Footer, integrity: bytes) -> tuple[str, str]:
        """``(verdict, why)``; verdict is ``Accept``, ``Reject``, ``Pass`` or ``NOSUPPORT``."""
        if footer.format != 3:
            return "NOSUPPORT", "AppCheckerSha256 checks SHA256 footers only"
        digest = hashlib.sha256(integrity).digest()
        span = f"bytes 0x0-{len(integrity):#x}"
        if footer.data == digest:
            return "Accept", f"matches the SHA-256 of {span}"
        return "Reject", f"the SHA-256 of {span} is {digest[:4].hex()}..., the footer holds {footer.data[:4].hex()}..."


class AppCheckerRsaSimulated:
    """``AppCheckerRsaSimulated``: Tock's test policy that accepts any Rsa3072Key or Rsa4096Key footer
    *without* checking the signature, and lets every other footer pass; requires credentials."""

    name = "AppCheckerRsaSimulated"
    require_credentials = True

    def check(self, footer: Footer, integrity: bytes) -> tuple[str, str]:
        """``(verdict, why)`` as :meth:`AppCheckerSha256.check`."""
        if footer.format in (1, 2):
            return "Accept", "any RSA key footer (the signature is not checked)"
        return "Pass", "not an RSA key footer"


#: ``config credentials`` value -> the policy (None: no checker, every binary loads).
POLICIES = {"none": None, "sha256": AppCheckerSha256(), "rsa_simulated": AppCheckerRsaSimulated()}


# ---------------------------------------------------------------------------------------- the machine
@attrs.frozen
class FooterVerdict:
    """What the policy said of one footer."""

    footer: Footer
    verdict: str        #: Accept, Reject, Pass, NOSUPPORT
    why: str


@attrs.frozen
class CredentialCheck:
    """The outcome of the ``ProcessCheckerMachine`` for one TBF under one policy."""

    policy: str                             #: Tock's type name (AppCheckerSha256)
    setting: str                            #: the ``config credentials`` word
    integrity_end: int                      #: the integrity region is bytes 0 .. this
    walk: FooterWalk
    verdicts: tuple[FooterVerdict, ...]     #: footers the policy examined, in order
    accepted: Footer | None                 #: the footer whose credential approved the binary
    error: str | None                       #: ``ProcessCheckError``'s Debug text, None when it loads

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def reached_end(self) -> bool:
        """True when every footer was examined (no Accept or Reject stopped the walk)."""
        return self.accepted is None and not (self.verdicts and self.verdicts[-1].verdict == "Reject")

    def refusal(self, source: str) -> str:
        """The one-line refusal for ``spawn``, in Tock's words, naming the file."""
        if self.error is None:
            return ""
        last = self.verdicts[-1] if self.verdicts else None
        if last is not None and last.verdict == "Reject":
            f = last.footer
            return (f"{source}: Error checking process: {self.error} ({self.policy}: footer {f.index}, {f.name} "
                    f"at {f.offset:#x}: {last.why}; the process is not loaded)")
        return f"{source}: Error checking process: {self.error} ({self.policy} requires credentials; {self.summary()})"

    def summary(self) -> str:
        """Why no credential was accepted, in a few words."""
        if not self.walk.footers:
            if self.integrity_end >= self.walk.region_end:
                return "the TBF has no footer region (binary_end_offset is total_size)"
            return f"no footer: {self.walk.reason} at {self.walk.end_offset:#x}"
        return f"footers {_runs(self.verdicts)}; then {self.walk.reason} at {self.walk.end_offset:#x}"

    def lines(self) -> list[str]:
        """Lines for ``process p``: the policy, then each footer and what the policy said of it."""
        head = f"credentials check: {self.policy} (config credentials = {self.setting}), integrity region " \
               f"0x0-{self.integrity_end:#x}: "
        if self.accepted is not None:
            head += f"accepted footer {self.accepted.index} ({self.accepted.name})"
        elif self.error is not None:
            head += f"refused: {self.error}"
        else:
            head += "no credential accepted, none required"
        out = [head]
        examined = {v.footer.index: v for v in self.verdicts}
        for f in self.walk.footers:
            v = examined.get(f.index)
            what = f"{v.verdict}: {v.why}" if v is not None else "not examined (the check ended before it)"
            out.append(f"  footer {f.index} at {f.offset:#x}: {f.name}, length {f.length}: {what}")
        if self.reached_end:
            out.append(f"  end of footers at {self.walk.end_offset:#x}: {self.walk.reason}")
        return out


def _runs(verdicts) -> str:
    """``SHA256 (passed), Reserved (passed) x299``: a run of like footers once, so a refusal stays one line."""
    parts: list[list] = []
    for v in verdicts:
        text = f"{v.footer.name} ({_plain(v.verdict)})"
        if parts and parts[-1][0] == text:
            parts[-1][1] += 1
        else:
            parts.append([text, 1])
    return ", ".join(text if n == 1 else f"{text} x{n}" for text, n in parts)


def _plain(verdict: str) -> str:
    return {"NOSUPPORT": "not supported", "Pass": "passed"}.get(verdict, verdict)


def check_credentials(flash: bytes, binary_end: int, total_size: int, setting: str) -> CredentialCheck | None:
    """Run the ``ProcessCheckerMachine`` with the policy ``config credentials = setting`` names.

    ``flash`` is the TBF object; ``binary_end`` the Program TLV's ``binary_end_offset``
    (``total_size`` for a Main TLV). Returns None for ``none`` (no checker).
    Raises KeyError for a setting not in :data:`POLICIES`.
    """
    policy = POLICIES[setting]
    if policy is None:
        return None
    integrity = flash[:binary_end]
    integrity += bytes(max(0, binary_end - len(integrity)))  # a short file reads as zeros, as its flash does
    walk = walk_footers(flash, binary_end, total_size)
    verdicts: list[FooterVerdict] = []
    accepted = None
    error = None
    for footer in walk.footers:
        verdict, why = policy.check(footer, integrity)
        verdicts.append(FooterVerdict(footer, verdict, why))
        if verdict == "Accept":
            accepted = footer
            break
        if verdict == "Reject":
            error = f"Credential {footer.index} rejected"
            break
    else:
        if policy.require_credentials:
            error = "No credentials accepted"
    return CredentialCheck(policy.name, setting, binary_end, walk, tuple(verdicts), accepted, error)
