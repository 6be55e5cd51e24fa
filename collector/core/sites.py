"""Site configs: one declarative YAML file per site in ``configs/sites/KEY.yaml``.

The key is the file's stem. Unknown keys are an error naming the file and the key,
so a typo never silently disables a rule.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from croniter import croniter
from .errors import ConfigError  # noqa: F401  (raised here; defined with every error)



@dataclass(frozen=True)
class Chrome:
    lines: tuple[str, ...] = ()
    patterns: tuple[re.Pattern, ...] = ()
    xpaths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    schedule: str | None = None
    chrome: Chrome = field(default_factory=Chrome)
    path: str | None = None


_LIST_KEYS = ("domains", "aliases", "feeds", "sitemaps", "start_urls", "follow", "articles")
_TOP_KEYS = {"name", "schedule", "chrome", *_LIST_KEYS}
_CHROME_KEYS = {"lines", "patterns", "xpaths"}


def _str_list(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def load_site(path: Path) -> Site:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read site config: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a site config must be a mapping")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    chrome = load_chrome(raw.get("chrome") or {}, f"{path}: chrome")
    for key in ("follow", "articles"):
        for pattern in _str_list(raw.get(key), f"{path}: {key}"):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{path}: {key}: bad regex {pattern!r}: {exc}") from exc
    schedule = raw.get("schedule")
    if schedule is not None and not isinstance(schedule, str):
        raise ConfigError(f"{path}: schedule must be a cron expression string")
    if schedule is not None and not croniter.is_valid(schedule):
        raise ConfigError(f"{path}: schedule: {schedule!r} is not a cron expression (five fields, e.g. '*/30 * * * *')")
    lists = {k: _str_list(raw.get(k), f"{path}: {k}") for k in _LIST_KEYS}
    lists["domains"] = tuple(d.lower() for d in lists["domains"])
    _check_feeds(path, lists["feeds"], lists["domains"])
    return Site(
        key=path.stem,
        name=str(raw.get("name") or path.stem),
        schedule=schedule,
        chrome=chrome,
        path=str(path),
        **lists,
    )


def _check_feeds(path: Path, feeds: tuple[str, ...], domains: tuple[str, ...]) -> None:
    """A feed must be on one of the site's domains: its article links are taken as the
    site's, and a feed URL copied from another site's config would crawl that site."""
    if not domains:
        return
    probe = Sites([Site(key=path.stem, name=path.stem, domains=domains)])
    for feed in feeds:
        if host_of(feed) is None:
            raise ConfigError(f"{path}: feeds: {feed!r} is not an http(s) URL")
        if probe.for_url(feed) is None:
            raise ConfigError(f"{path}: feeds: {feed} is outside the site's domains ({', '.join(domains)}): add its host to domains, or fix the URL")


def _domain_key(domain: str) -> str:
    """Domains compared as ``Sites.for_url`` matches them: case and a leading www. ignored."""
    domain = domain.lower().rstrip(".")
    return domain[4:] if domain.startswith("www.") else domain


def check_domains(sites: list[Site]) -> None:
    """Two site configs claiming one domain: which site a URL belongs to would depend on
    file names, and the other site's crawl would store nothing. A config error."""
    owner: dict[str, Site] = {}
    for site in sites:
        for domain in site.domains:
            other = owner.setdefault(_domain_key(domain), site)
            if other is not site:
                raise ConfigError(f"{other.path} and {site.path} both claim the domain {domain}: keep it in one of them")


def load_chrome(raw, where: str, keys: set[str] = _CHROME_KEYS) -> Chrome:
    """A ``chrome`` mapping (lines, patterns, xpaths) as a ``Chrome``; ``where`` names it in errors."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping")
    unknown = set(raw) - keys
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    patterns = []
    for pattern in _str_list(raw.get("patterns"), f"{where}.patterns"):
        try:
            patterns.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"{where}.patterns: bad regex {pattern!r}: {exc}") from exc
    return Chrome(
        lines=tuple(normalize_line(s) for s in _str_list(raw.get("lines"), f"{where}.lines")),
        patterns=tuple(patterns),
        xpaths=_str_list(raw.get("xpaths"), f"{where}.xpaths"),
    )


#: Chrome of every site (``configs/chrome.yaml``): lines and patterns, applied to every document.
GENERIC_CHROME = "chrome.yaml"


def load_generic_chrome(path: Path) -> Chrome:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the chrome config: {exc}") from exc
    return load_chrome(raw, str(path), keys={"lines", "patterns"})


def normalize_line(line: str) -> str:
    """The form in which lines are compared: whitespace collapsed, ends stripped."""
    return " ".join(line.split())


def name_key(name: str) -> str:
    """Site names compared loosely: case, spaces and punctuation ignored."""
    return re.sub(r"[\W_]+", "", name.casefold())


@functools.lru_cache(maxsize=4096)  # every stage asks about the same few URLs of a document
def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    return f"{host}:{parts.port}" if parts.port else host


class Sites:
    """All configured sites, with the look-ups the stages need."""

    def __init__(self, sites: list[Site], generic: Chrome | None = None):
        self.by_key = {s.key: s for s in sites}
        self.generic = generic or Chrome()  # every site's chrome (``GENERIC_CHROME``)
        self._by_name: dict[str, Site] = {}
        for s in sites:
            for alias in (s.name, *s.aliases, s.key):
                self._by_name.setdefault(name_key(alias), s)
            for domain in s.domains:
                self._by_name.setdefault(name_key(domain), s)

    @classmethod
    def load(cls, directory: str | Path | None) -> "Sites":
        if directory is None:
            return cls([])
        root = Path(directory)
        folder = root / "sites" if (root / "sites").is_dir() else root
        if not folder.is_dir():
            raise ConfigError(f"{directory}: config folder not found")
        generic = root / GENERIC_CHROME
        sites = [load_site(p) for p in sorted(folder.glob("*.yaml")) if p != generic]
        check_domains(sites)
        return cls(sites, load_generic_chrome(generic) if generic.is_file() else None)

    def __iter__(self):
        return iter(self.by_key.values())

    def __len__(self):
        return len(self.by_key)

    def get(self, key: str | None) -> Site | None:
        return self.by_key.get(key) if key else None

    def for_url(self, url: str | None) -> Site | None:
        """The site whose domains include the URL's host (or a parent domain of it)."""
        host = host_of(url)
        if not host:
            return None
        bare = host.split(":")[0]
        for site in self.by_key.values():
            for domain in site.domains:
                if host == domain or (":" not in domain and (bare == domain or bare.endswith("." + domain))):
                    return site
                if domain.startswith("www.") and bare == domain[4:]:
                    return site
        if bare.startswith("www."):
            return self.for_url(url.replace("://www.", "://", 1))
        return None

    def for_name(self, name: str) -> Site | None:
        """Resolve a name from an attribution line ("Zero Hedge", "ZeroHedge.com")."""
        key = name_key(name)
        if not key:
            return None
        if key in self._by_name:
            return self._by_name[key]
        # "zerohedge.com" or "www.zerohedge.com" written as a name
        for suffix in ("com", "org", "net"):
            if key.endswith(suffix) and key[: -len(suffix)] in self._by_name:
                return self._by_name[key[: -len(suffix)]]
        if key.startswith("www") and key[3:] in self._by_name:
            return self._by_name[key[3:]]
        return None

    def recognise(self, lines: list[str]) -> Site | None:
        """The site whose configured chrome appears in these lines (for plain-text dumps)."""
        best, best_hits = None, 0
        normalized = [normalize_line(line) for line in lines]
        for site in self.by_key.values():
            wanted = set(site.chrome.lines)
            hits = sum(1 for line in normalized if line in wanted)
            hits += sum(1 for line in normalized if line and any(p.search(line) for p in site.chrome.patterns))
            if hits > best_hits:
                best, best_hits = site, hits
        return best
