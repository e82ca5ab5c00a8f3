"""Serving a stored recording over HTTP with byte ranges, so a player seeks an hour-long call at
once: ``Range: bytes=a-b`` answers 206 with just those bytes (read from the file at that offset, or
a ranged GET on S3), an unsatisfiable range 416, no range the whole file.

The media is never at a public URL; callers decide who may have it (``TenantAccess``), and choose
the cache policy: the redacted rendition may be kept privately, raw audio is ``no-store``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) of a single satisfiable range; None for no (or an ignorable) range; False
    for one that can't be satisfied."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None  # absent, multiple ranges or another unit: the whole file, as RFC 9110 allows
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


def _local_chunks(storage, name: str, start: int, length: int) -> Iterator[bytes]:
    with storage.open(name, "rb") as file:
        file.seek(start)
        remaining = length
        while remaining > 0:
            chunk = file.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _s3_chunks(storage, name: str, start: int, end: int) -> Iterator[bytes]:
    from storages.utils import clean_name

    key = storage._normalize_name(clean_name(name))
    body = storage.connection.meta.client.get_object(
        Bucket=storage.bucket_name, Key=key, Range=f"bytes={start}-{end}"
    )["Body"]
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def _chunks(storage, name: str, start: int, end: int) -> Iterator[bytes]:
    if hasattr(storage, "bucket_name") and hasattr(storage, "connection"):
        return _s3_chunks(storage, name, start, end)
    return _local_chunks(storage, name, start, end - start + 1)


def media_response(
    request: HttpRequest,
    *,
    storage,
    name: str,
    size: int,
    content_type: str,
    etag: str,
    cache_control: str,
    filename: str,
) -> HttpResponse:
    """The file, or the one byte range asked for, with the headers a media element needs."""
    quoted = f'"{etag}"'
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    wanted = _range(header, size) if header and (not if_range or if_range == quoted) else None
    common = {
        "Accept-Ranges": "bytes",
        "ETag": quoted,
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    if wanted is False:
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        for key, value in common.items():
            response[key] = value
        return response
    if request.headers.get("If-None-Match") == quoted and not header and "no-store" not in cache_control:
        response = HttpResponse(status=304)
        for key, value in common.items():
            response[key] = value
        return response
    start, end = wanted if wanted else (0, size - 1)
    length = max(0, end - start + 1)
    body = _chunks(storage, name, start, end) if request.method != "HEAD" and length else iter(())
    response = StreamingHttpResponse(body, status=206 if wanted else 200, content_type=content_type)
    response["Content-Length"] = str(length)
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    for key, value in common.items():
        response[key] = value
    return response
