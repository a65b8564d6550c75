"""A guide's lines and the shell commands in them, in every form operations docs write them.

Code blocks fenced with ``` or ~~~ and any info string (or none), indented blocks, inline code in prose and
tables; prompts (`$ `, `# ` in console blocks, `user@host:~$ `); `\\` continuations; several commands on one
line (`&&`, `;`); `sudo`, `su -c`, `sh -c` and the container wrappers `docker compose exec`, `docker exec`,
`kubectl exec` unwrapped to the command they run (the wrapper kept as where it runs).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

NOT_SHELL = {
    "yaml", "yml", "json", "sql", "python", "py", "ini", "toml", "nginx", "xml", "html", "js",
    "javascript", "ts", "typescript", "ruby", "rb", "go", "hcl", "conf", "cfg", "properties", "dockerfile",
    "apache", "env", "dotenv", "diff", "csv", "promql", "php", "java", "rust", "lua", "caddy", "caddyfile",
}  # fmt: skip
CONSOLE = {"console", "shell-session", "terminal", "sh-session", "bash-session", "session"}
KNOWN_PROGRAMS = re.compile(
    r"^(?:curl|wget|http|GET|HEAD|pg_dump|pg_dumpall|pg_restore|pg_isready|psql|createdb|mysqldump|mariadb-dump|"
    r"mysql|mariadb|mysqladmin|sqlite3|tar|gzip|gunzip|zcat|cat|docker|docker-compose|kubectl|sudo|su|"
    r"redis-cli|python3?|php|bundle|rake|bin/\S+|\./\S+|/\S+|flask|rails|npm|yarn|node|java|systemctl|"
    r"df|free|mongodump|mongorestore|restic|borg)$"
)
SHELLS = ("sh", "bash", "/bin/sh", "/bin/bash")
_PROMPT = re.compile(r"^(?:[\w.-]+@[\w.-]+(?::[^$#\s]*)?\s?[$#]|\$|%)\s+")
_CRON = re.compile(
    r"^(@(?:hourly|daily|midnight|weekly|monthly|yearly|annually)|(?:[\d*/,-]+\s+){4}[\d*/,A-Za-z-]+)\s+(.+)$"
)
_SUBSTITUTION = re.compile(r"\$\([^()]*(?:\([^()]*\)[^()]*)*\)|`[^`]*`")
_PLACEHOLDER = re.compile(r"<[A-Za-z][\w.-]*>")  # `<backup-name>.sql`: a name to fill in, not a redirection
SUB = "\x01"  # stands for a `$(...)` / backtick substitution inside a word (a date, usually)


@dataclass
class Line:
    number: int
    text: str
    heading: str  # the innermost heading above it
    headings: tuple[str, ...]
    code: str | None  # the code block's language ("" for none, "indented") when inside one


@dataclass
class Command:
    """One command of a guide: its pipeline's segments as words (wrappers unwrapped), its redirections."""

    line: Line
    text: str  # as written (without prompt), what a description quotes
    segments: list[list[str]]
    out: str | None = None  # `> FILE` / `>> FILE` of the pipeline
    into: str | None = None  # `< FILE`
    via: tuple[str, str] | None = None  # ("compose", service) / ("docker", container) / ("kubectl", pod)
    cron: str | None = None  # the schedule of a crontab line
    substitutions: list[str] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return [word for segment in self.segments for word in segment]

    def program(self, index: int = 0) -> str:
        segment = self.segments[index] if index < len(self.segments) else []
        return segment[0].rsplit("/", 1)[-1] if segment else ""


def parse_lines(text: str) -> list[Line]:
    """Every line that is not a heading or a fence, with its headings and code-block language."""
    lines: list[Line] = []
    headings: list[str] = []
    fence: str | None = None
    code: str | None = None
    raw_lines = text.splitlines()
    previous_blank, in_list = True, False
    for number, raw in enumerate(raw_lines, 1):
        stripped = raw.strip()
        if fence is None and (m := re.match(r"^(`{3,}|~{3,})\s*\{?\.?([\w+-]*)", stripped)):
            fence, code = m.group(1), m.group(2).lower()
            continue
        if fence is not None and stripped.startswith(fence) and not stripped[len(fence) :].strip():
            fence, code = None, None
            continue
        if fence is None:
            underline = re.match(r"^(=+|-+)\s*$", stripped)
            if underline and lines and lines[-1].code is None and lines[-1].text.strip() and number > 1:
                title = lines.pop()  # a setext heading: the line above, underlined
                level = 1 if stripped.startswith("=") else 2
                headings = [*headings[: level - 1], title.text.strip()]
                continue
            if m := re.match(r"^(#{1,6})\s+(.*?)\s*#*$", stripped):
                level = len(m.group(1))
                headings = [*headings[: level - 1], *[""] * max(0, level - 1 - len(headings)), m.group(2)]
                continue
            indented = bool(re.match(r"^(?: {4}|\t)", raw)) and bool(stripped)
            if indented and (previous_blank or (lines and lines[-1].code == "indented")) and not in_list:
                lines.append(Line(number, stripped, _innermost(headings), tuple(headings), "indented"))
                previous_blank = False
                continue
            if stripped and not indented:
                in_list = bool(re.match(r"^(?:[-*+]|\d+[.)])\s", stripped)) or (
                    in_list and not previous_blank
                )
            previous_blank = not stripped
        lines.append(Line(number, raw, _innermost(headings), tuple(headings), code))
    return lines


def _innermost(headings: list[str]) -> str:
    return next((h for h in reversed(headings) if h), "")


def joined(lines: list[Line]) -> list[Line]:
    """Lines with their `\\` continuations joined (numbered as the first line)."""
    out: list[Line] = []
    pending: Line | None = None
    for line in lines:
        text = line.text.rstrip()
        continued = text.endswith("\\") and line.code is not None
        body = text[:-1].rstrip() if continued else text
        if pending is not None:
            pending = Line(
                pending.number,
                pending.text + " " + body.strip(),
                pending.heading,
                pending.headings,
                pending.code,
            )
        else:
            pending = Line(line.number, body, line.heading, line.headings, line.code)
        if not continued:
            out.append(pending)
            pending = None
    if pending is not None:
        out.append(pending)
    return out


def command_texts(line: Line) -> list[str]:
    """The shell command texts of a line: a code line (prompt removed), or inline code naming a program."""
    if line.code is not None:
        if line.code in NOT_SHELL:
            return []
        text = line.text.strip()
        if prompt := _PROMPT.match(text):
            return [text[prompt.end() :]]
        if line.code in CONSOLE and text.startswith("# "):
            return [text[2:]]
        if text.startswith(("#", "//")) or not text:
            return []
        if line.code in CONSOLE:
            return []  # output of the command above
        return [text]
    found = []
    for m in re.finditer(r"`([^`]+)`", line.text):
        inner = _PROMPT.sub("", m.group(1).strip())
        first = inner.split(" ", 1)[0]
        if " " in inner and KNOWN_PROGRAMS.match(first):
            found.append(inner)
    return found


def commands(line: Line) -> list[Command]:
    """The commands of a line, each unwrapped and split into pipeline segments."""
    result = []
    for text in command_texts(line):
        cron = None
        if m := _CRON.match(text):
            cron, text = m.group(1), m.group(2).replace("\\%", "%")
            first, _, rest = text.partition(" ")
            after_user = rest.split(" ", 1)[0]
            user = (
                bool(rest) and re.fullmatch(r"[a-z_][a-z0-9_-]*", first) and not KNOWN_PROGRAMS.match(first)
            )
            if user and (KNOWN_PROGRAMS.match(after_user) or "/" in after_user):
                text = rest  # /etc/crontab's user field
        for part in _split_list(text):
            command = _command(line, part, cron)
            if command is not None:
                result.append(command)
    return result


def _tokens(text: str) -> tuple[list[str], list[str]] | None:
    substitutions: list[str] = []

    def hide(match: re.Match[str]) -> str:
        substitutions.append(match.group(0))
        return SUB

    hidden = _PLACEHOLDER.sub(hide, _SUBSTITUTION.sub(hide, text))
    lexer = shlex.shlex(hidden, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer), substitutions
    except ValueError:
        return None


def _split_list(text: str) -> list[str]:
    """`a && b; c` -> the three commands (quotes and substitutions respected)."""
    parts, current, quote, depth = [], "", "", 0
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif text.startswith("$(", index):
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth and (text.startswith("&&", index) or text.startswith("||", index) or char == ";"):
            parts.append(current)
            current = ""
            index += 1 if char == ";" else 2
            continue
        current += char
        index += 1
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _command(line: Line, text: str, cron: str | None) -> Command | None:
    tokens = _tokens(text)
    if tokens is None or not tokens[0]:
        return None
    words, substitutions = tokens
    segments: list[list[str]] = [[]]
    out = into = None
    index = 0
    while index < len(words):
        word = words[index]
        nxt = words[index + 1] if index + 1 < len(words) else None
        if word == "|":
            segments.append([])
        elif word in (">", ">>", ">|") and nxt is not None:
            if segments[-1] and segments[-1][-1] == "2":
                segments[-1].pop()  # 2> FILE: stderr
            elif not nxt.startswith("&") and nxt != "/dev/null":
                out = _restore(nxt, substitutions)
            index += 1
        elif word in (">&", "&>", "<<") and nxt is not None:
            index += 1
        elif word == "<" and nxt is not None:
            into = _restore(nxt, substitutions)
            index += 1
        elif word != "&":
            segments[-1].append(_restore(word, substitutions))
        index += 1
    via = None
    unwrapped: list[list[str]] = []
    for segment in segments:
        inner, where = unwrap(segment)
        via = via or where
        if inner:
            unwrapped.append(inner)
    if not unwrapped:
        return None
    return Command(line, text, unwrapped, out, into, via, cron, substitutions)


def _restore(word: str, substitutions: list[str]) -> str:
    for substitution in substitutions:
        word = word.replace(SUB, substitution, 1)
    return word


def unwrap(words: list[str]) -> tuple[list[str], tuple[str, str] | None]:
    """The command a wrapper runs (`sudo -u x CMD`, `docker compose exec -T db CMD`, `sh -c 'CMD'`) and where."""
    via: tuple[str, str] | None = None
    while words:
        program = words[0]
        if program in ("sudo", "doas"):
            words = _skip_options(words[1:], with_value={"-u", "-g", "-C", "-D", "-h", "-p", "-U"})
        elif program in ("env", "exec", "time", "nice", "ionice", "nohup"):
            words = _skip_options(words[1:], with_value={"-n", "-c"})
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", program):
            words = words[1:]
        elif (program == "su" and "-c" in words) or (program in SHELLS and "-c" in words[1:3]):
            position = words.index("-c")
            words = _split_words(words[position + 1]) if position + 1 < len(words) else []
        elif program in ("docker", "docker-compose", "podman"):
            rest = words[1:]
            if program == "docker" and rest[:1] == ["compose"]:
                rest, program = rest[1:], "docker-compose"
            rest = _skip_options(rest, with_value={"-f", "--file", "-p", "--project-name", "--env-file"})
            if not rest or rest[0] not in ("exec", "run"):
                return words, via
            run = rest[0] == "run"
            options = {
                "-u",
                "--user",
                "-e",
                "--env",
                "-w",
                "--workdir",
                "--name",
                "-v",
                "--volume",
                "--mount",
            }
            options |= {"--network", "--entrypoint", "-p", "--publish", "-l", "--label", "--env-file"}
            rest = _skip_options(rest[1:], with_value=options)
            if not rest:
                return words, via
            kind = "compose" if program == "docker-compose" else "docker"
            via = ("run" if run and kind == "docker" else kind, rest[0])
            words = rest[1:]
        elif program == "kubectl" and "exec" in words:
            rest = words[words.index("exec") + 1 :]
            pod = next(
                (w for w in _skip_options(rest, with_value={"-n", "--namespace", "-c", "--container"})), ""
            )
            via = ("kubectl", pod)
            words = rest[rest.index("--") + 1 :] if "--" in rest else []
        else:
            return words, via
    return words, via


def _skip_options(words: list[str], with_value: set[str]) -> list[str]:
    """The words after the options (`-u x`, `-iu x`: a cluster ending in an option that takes a value)."""
    index = 0
    while index < len(words) and words[index].startswith("-") and words[index] != "--":
        word = words[index]
        takes_value = word in with_value or (
            not word.startswith("--") and len(word) > 2 and "=" not in word and f"-{word[-1]}" in with_value
        )
        index += 2 if takes_value else 1
    if index < len(words) and words[index] == "--":
        index += 1
    return words[index:]


def _split_words(text: str) -> list[str]:
    tokens = _tokens(text)
    if tokens is None:
        return text.split()
    words, substitutions = tokens
    return [_restore(word, substitutions) for word in words if word not in ("|", ";", "&&")]
