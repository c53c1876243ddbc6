"""Light pages on a weak signal: fingerprinted static files cached for a year, and compressed answers.

Every file under static/ gets a name carrying its content's hash (`app.css` -> `app.3f2a9c1b7d04.css`), computed
at start from the bytes alone, so every app server of a deployment names a file the same way without sharing
anything. `url_for('static', filename='app.css')` gives the fingerprinted address (a url_defaults hook): templates
keep the one helper they already use. A fingerprinted address never changes content, so it is served with
`Cache-Control: public, max-age=31536000, immutable`, from memory, gzip- or brotli-compressed once per process;
the plain address still works (Flask's own sending, revalidated each time) for anything that names a file
directly. Stylesheets' `url(...)` references to other static files are rewritten to fingerprinted names before
hashing, so a changed icon changes the stylesheet's address too.

HTML, JSON and the like are compressed by Flask-Compress (gzip or brotli, whichever the browser prefers), except
bodies too small to gain and streamed answers (exports, event streams), which go out as the view made them.
Compressing pages that carry a CSRF token is safe here because the session cookie is SameSite=Lax (BREACH needs
the victim's cookie on many cross-site requests; docs/SECURITY.md).
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, current_app, request

try:
    import brotli
except ImportError:  # pragma: no cover - Flask-Compress depends on it; gzip alone still works
    brotli = None

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12
# Images are compressed already; text below this size gains less than the header costs.
COMPRESSIBLE = {"text/css", "text/javascript", "application/javascript", "image/svg+xml", "application/json"}
MIN_SIZE = 1024
COMPRESS_CONFIG = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": MIN_SIZE,
    "COMPRESS_STREAMS": False,  # exports and event streams are sent as they are produced
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript",
                           "application/json", "image/svg+xml"],
}
_COMPRESSING = threading.Lock()
_CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""")


@dataclass
class Asset:
    """One static file: its fingerprinted name, its bytes and, made on first request, their compressed forms."""

    name: str
    hashed: str
    body: bytes
    mimetype: str
    digest: str
    encoded: dict[str, bytes] = field(default_factory=dict)

    def body_for(self, encoding: str | None) -> bytes:
        """The bytes in the given encoding (None: as they are); compressed once, then kept.

        Compressing takes up to ~0.1 s (Pico CSS at brotli's best): threads asking at once wait for the first."""
        if encoding is None:
            return self.body
        body = self.encoded.get(encoding)
        if body is None:
            with _COMPRESSING:
                body = self.encoded.get(encoding)
                if body is None:
                    body = self.encoded[encoding] = compress(self.body, encoding)
        return body


class Manifest:
    """The static files of one app, by plain and by fingerprinted name."""

    def __init__(self, folder: Path) -> None:
        self.by_name: dict[str, Asset] = {}
        self.by_hashed: dict[str, Asset] = {}
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        # Stylesheets last, so the files they reference already have their fingerprinted names.
        for path in sorted(files, key=lambda p: p.suffix == ".css"):
            name = path.relative_to(folder).as_posix()
            body = path.read_bytes()
            if path.suffix == ".css":
                body = self._rewrite_css(name, body)
            self._add(name, body)

    def _add(self, name: str, body: bytes) -> None:
        digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
        stem, dot, suffix = name.rpartition(".")
        hashed = f"{stem}.{digest}.{suffix}" if dot and "/" not in suffix else f"{name}.{digest}"
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        asset = Asset(name=name, hashed=hashed, body=body, mimetype=mimetype, digest=digest)
        self.by_name[name] = asset
        self.by_hashed[hashed] = asset

    def _rewrite_css(self, name: str, body: bytes) -> bytes:
        """Point a stylesheet's relative url(...) at the fingerprinted names of the files it uses."""
        base = name.rpartition("/")[0]

        def swap(match: re.Match) -> str:
            quote, target = match.group(1), match.group(2)
            full = f"{base}/{target}" if base else target
            asset = self.by_name.get(full)
            if asset is None:  # data: URIs, absolute addresses, files outside static/
                return match.group(0)
            return f"url({quote}{asset.hashed.rpartition('/')[2] if base else asset.hashed}{quote})"

        return _CSS_URL.sub(swap, body.decode("utf-8")).encode("utf-8")


def init_app(app: Flask) -> None:
    """Fingerprint static/, serve it from memory with a year's cache, and compress dynamic answers."""
    from flask_compress import Compress

    for key, value in COMPRESS_CONFIG.items():
        app.config.setdefault(key, value)
    Compress(app)
    if app.debug:  # files edited while the development server runs keep their plain, revalidated addresses
        return
    manifest = app.extensions["static_manifest"] = Manifest(Path(app.static_folder))
    plain_static = app.view_functions["static"]

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static":
            asset = manifest.by_name.get(values.get("filename", ""))
            if asset is not None:
                values["filename"] = asset.hashed

    def static(filename: str):
        """A fingerprinted file from memory, cached for a year; any other name as Flask sends it."""
        asset = manifest.by_hashed.get(filename)
        if asset is None:
            return plain_static(filename=filename)
        return asset_response(asset)

    app.view_functions["static"] = static


def asset_response(asset: Asset) -> Response:
    """The file in the best encoding the browser accepts, immutable, answering If-None-Match with 304."""
    encoding = choose_encoding(request.headers.get("Accept-Encoding", "")) if compressible(asset) else None
    response = current_app.response_class(asset.body_for(encoding), mimetype=asset.mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Cache-Control"] = IMMUTABLE
    response.vary.add("Accept-Encoding")
    response.set_etag(f"{asset.digest}-{encoding or 'identity'}")
    return response.make_conditional(request)


def compressible(asset: Asset) -> bool:
    """Text worth compressing: images stay as they are, and so do tiny files."""
    return asset.mimetype in COMPRESSIBLE and len(asset.body) >= MIN_SIZE


def choose_encoding(accept_encoding: str) -> str | None:
    """br when the browser takes it (and brotli is installed), else gzip, else none."""
    accepted = set()
    for part in accept_encoding.lower().split(","):
        coding, _semi, params = part.strip().partition(";")
        quality = params.strip().removeprefix("q=")
        if quality and _is_zero(quality):
            continue
        accepted.add(coding.strip())
    if brotli is not None and ("br" in accepted or "*" in accepted):
        return "br"
    if "gzip" in accepted or "*" in accepted:
        return "gzip"
    return None


def compress(body: bytes, encoding: str) -> bytes:
    """Compress at the strongest setting: done once per file and process, then served many times."""
    if encoding == "br":
        return brotli.compress(body, quality=11)
    return gzip.compress(body, compresslevel=9, mtime=0)


def _is_zero(quality: str) -> bool:
    try:
        return float(quality) == 0
    except ValueError:
        return False
