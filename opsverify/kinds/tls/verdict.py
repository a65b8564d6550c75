"""What about a server's certificate contradicts its `tls:` entry: days left, hostname, chain."""

from __future__ import annotations

from opsverify.kinds.tls.facts import TlsFacts
from opsverify.kinds.tls.model import TlsCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import plural

RENEW = "renew it (e.g. `certbot renew`) and reload the server"
NAME_FIX = "install a certificate for this name, or set `server_name:` to the name clients use"
CHAIN_FIX = (
    "serve the full chain (leaf + intermediates), or set `verify:` to the CA bundle path, or `verify: false`"
)


def judge(entry: TlsCheck, facts: TlsFacts, rule: str | None = None) -> Judgement:
    """The certificate's problems (none: the check passes) and, when any, what the certificate says.

    `rule` is unused: tls entries have no rules.
    """
    if facts.error:
        return Judgement([Problem("connection", facts.error)])
    problems = []
    days_left = facts.days_left
    if days_left is not None and days_left < entry.min_days_left:
        if days_left < 0:
            found = f"0 days left: it expired {-days_left:.1f} days ago, on {facts.not_after}"
        else:
            found = f"{days_left:.1f} days left: it expires {facts.not_after}"
        wanted = f"at least {plural(entry.min_days_left, 'day')} left"
        problems.append(Problem("certificate", found, expected=wanted, fix=RENEW))
    if entry.check_hostname and facts.hostname_matches is False:
        if facts.sans:
            found = f"a certificate for {', '.join(facts.sans)}"
        else:
            found = f"a certificate with no subjectAltName (subject {facts.subject})"
        wanted = f"a certificate valid for {facts.server_name!r}"
        problems.append(Problem("hostname", found, expected=wanted, fix=NAME_FIX))
    if entry.verify is not False and facts.verified is False:
        hint = " (the certificate is self-signed)" if facts.self_signed else ""
        where = f"the CA bundle {entry.verify}" if isinstance(entry.verify, str) else "the system CA store"
        found = f"not verified: {facts.verify_error}{hint}"
        problems.append(Problem("chain", found, expected=f"verified against {where}", fix=CHAIN_FIX))
    return Judgement(problems, facts.summary() if problems else "")
