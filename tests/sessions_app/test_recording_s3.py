"""Recordings in an S3-compatible bucket (django-storages), against a real S3 server: moto's
server mode on a local port. Upload, the redacted rendition, ranged reads (a ranged GET on the
bucket, not a download), no public URL, and the purge deleting both objects."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from django.utils import timezone

from sessions_app.models import Recording, RecordingStatus
from sessions_app.retention import tenant_purge_expired
from tests.audio.calls import TURNS, sample_call, wav_bytes
from tests.servers import free_port

BUCKET = "voice-recordings"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, settings, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "location": "recordings",
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": True,
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_recordings_live_in_the_bucket_and_play_by_range(
    s3, api, make_session, tenant, django_capture_on_commit_callbacks
):
    session = make_session(
        tenant, transcript=TURNS, function_calls=[], started_at=timezone.now() - dt.timedelta(days=40)
    )
    body = wav_bytes(sample_call())
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(
            f"/api/v1/voice-sessions/{session.pk}/recording", data=body, content_type="audio/wav"
        )
    assert response.status_code == 201
    recording = Recording.objects.get(session=session)
    assert recording.status == RecordingStatus.READY, recording.error
    keys = _keys(s3)
    assert len(keys) == 2 and all(key.startswith(f"recordings/{tenant.pk}/{session.pk}/") for key in keys)
    raw = s3.get_object(Bucket=BUCKET, Key=f"recordings/{recording.raw_name}")["Body"].read()
    assert raw == body

    url = f"/api/v1/voice-sessions/{session.pk}/recording"
    whole = b"".join(api.get(url).streaming_content)
    part = api.get(url, HTTP_RANGE="bytes=1000-1999")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 1000-1999/{len(whole)}"
    assert b"".join(part.streaming_content) == whole[1000:2000]

    tenant.retention_days = 30
    tenant.save()
    assert tenant_purge_expired(tenant=tenant).recordings == 1
    assert _keys(s3) == []
    assert Recording.objects.get(session=session).status == RecordingStatus.PURGED
