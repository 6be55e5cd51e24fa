"""The rules a document was processed with, as a hash stored with it (``raw_inputs``).

A document's text, chrome, claims and signature follow from its raw input and these rules:
its site's config (name, domains, aliases, chrome lines, patterns and XPaths), what every
document shares (``chrome.yaml``, every site's names, aliases and domains, which attribution
resolves claims with, the extraction mode, the fingerprint parameters). ``reprocess`` takes
the documents whose hash is not their site's current one; ``stats`` and
``reprocess --dry-run`` name the sites whose rules changed, and what changed
(``rule_sets`` keeps each hash's rules).

Chrome learned from repetition is not a rule: it is data (``chrome_lines``), applied to
every document of the site as soon as it is learned.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property

from .fingerprint import FINGERPRINT
from .sites import Chrome, Site, Sites


def _chrome(chrome: Chrome) -> dict:
    return {"lines": list(chrome.lines), "patterns": [p.pattern for p in chrome.patterns], "xpaths": list(chrome.xpaths)}


def site_rules(site: Site | None) -> dict:
    if site is None:
        return {}
    return {"name": site.name, "domains": list(site.domains), "aliases": list(site.aliases), "chrome": _chrome(site.chrome)}


class Rules:
    """The current rules, and their hash per site key."""

    def __init__(self, sites: Sites, extraction: str | None):
        self.sites = sites
        self.shared = {
            "chrome.yaml": {k: v for k, v in _chrome(sites.generic).items() if k != "xpaths"},
            "names": {s.key: [s.name, *s.aliases, *s.domains] for s in sites},
            "extraction": extraction,
            "fingerprint": {k: str(v) for k, v in FINGERPRINT.items()},
        }
        self._hashes: dict[str, str] = {}

    def of(self, site_key: str) -> dict:
        return {"key": site_key, "site": site_rules(self.sites.get(site_key)), "shared": self.shared}

    def hash(self, site_key: str) -> str:
        if site_key not in self._hashes:
            self._hashes[site_key] = rules_hash(self.of(site_key))
        return self._hashes[site_key]

    @cached_property
    def shared_hash(self) -> str:
        return rules_hash(self.shared)


def rules_hash(rules: dict) -> str:
    data = json.dumps(rules, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def what_changed(old: dict | None, new: dict) -> list[str]:
    """The parts of the rules that differ, in the config's words ("chrome.lines +1 -0")."""
    if old is None:
        return ["rules not recorded (processed before rule hashes were kept)"]
    out = []
    old_site, new_site = old.get("site", {}), new["site"]
    if not old_site and new_site:
        out.append("site config added")
    elif old_site and not new_site:
        out.append("site config removed")
    else:
        for key in ("name", "domains", "aliases"):
            if old_site.get(key) != new_site.get(key):
                out.append(key)
        for key in ("lines", "patterns", "xpaths"):
            before, after = old_site.get("chrome", {}).get(key, []), new_site.get("chrome", {}).get(key, [])
            if before != after:
                out.append(f"chrome.{key} +{len(set(after) - set(before))} -{len(set(before) - set(after))}")
    old_shared, new_shared = old.get("shared", {}), new["shared"]
    for key, label in (("chrome.yaml", "chrome.yaml"), ("names", "site names/aliases/domains (attribution)"),
                       ("extraction", "extraction mode"), ("fingerprint", "fingerprint parameters")):
        if old_shared.get(key) != new_shared.get(key):
            out.append(label)
    return out or ["rules differ"]
