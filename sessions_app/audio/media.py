"""Reading and writing call audio: what a file is, its samples in blocks, and 16-bit WAV out.

PCM WAV (what Twilio records and most pipelines write) is read with the standard library, block
by block, with no decoder in between; MPEG, Ogg and WebM go through FFmpeg's decoders (PyAV).
Either way the samples arrive as int16 blocks of shape (frames, channels), so memory stays
bounded by the block size whatever the call's length.
"""

from __future__ import annotations

import contextlib
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

# The media types an upload may declare, and the file extension each is stored under.
CONTENT_TYPES = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/ogg": "ogg",
    "audio/webm": "webm",
}
# What the player is told each stored file is.
SERVED_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "webm": "audio/webm"}

BLOCK_FRAMES = 1 << 16
MAX_CHANNELS = 2


class MediaError(ValueError):
    """The bytes are not audio this app can read (bad header, no audio stream, undecodable)."""


@dataclass(frozen=True)
class MediaInfo:
    channels: int
    sample_rate: int
    # None when the container does not say (some WebM); known after decoding.
    duration_ms: int | None


def _wav_params(file: BinaryIO) -> wave._wave_params | None:
    file.seek(0)
    try:
        with contextlib.closing(wave.open(file, "rb")) as reader:
            return reader.getparams()
    except (wave.Error, EOFError):
        return None
    finally:
        file.seek(0)


def _is_plain_wav(params) -> bool:
    return params is not None and params.sampwidth in (1, 2, 3, 4) and params.comptype == "NONE"


def probe(file: BinaryIO, kind: str) -> MediaInfo:
    """What the file holds, read from its header (and for compressed media its first frames)."""
    if kind == "wav":
        params = _wav_params(file)
        if _is_plain_wav(params):
            if params.framerate <= 0:
                raise MediaError("The WAV header gives no sample rate.")
            return MediaInfo(
                channels=params.nchannels,
                sample_rate=params.framerate,
                duration_ms=params.nframes * 1000 // params.framerate,
            )
    import av

    file.seek(0)
    try:
        with av.open(file, mode="r") as container:
            if not container.streams.audio:
                raise MediaError("The file holds no audio stream.")
            stream = container.streams.audio[0]
            decoded = next(container.decode(stream), None)
            if decoded is None:
                raise MediaError("The audio stream holds no frames.")
            duration = container.duration
            return MediaInfo(
                channels=stream.layout.nb_channels,
                sample_rate=stream.rate,
                duration_ms=duration // 1000 if duration else None,
            )
    except av.FFmpegError as error:
        raise MediaError(f"The file could not be decoded as {kind}: {error}.") from error
    finally:
        file.seek(0)


def _wav_blocks(file: BinaryIO, block_frames: int) -> Iterator[np.ndarray]:
    file.seek(0)
    with contextlib.closing(wave.open(file, "rb")) as reader:
        channels, width = reader.getnchannels(), reader.getsampwidth()
        while True:
            data = reader.readframes(block_frames)
            if not data:
                return
            if width == 2:
                samples = np.frombuffer(data, dtype="<i2")
            elif width == 1:  # unsigned 8-bit
                samples = ((np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
            elif width == 3:
                raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
                samples = (raw[:, 1].astype(np.int16) | (raw[:, 2].astype(np.int16) << 8)).astype(np.int16)
            else:
                samples = (np.frombuffer(data, dtype="<i4") >> 16).astype(np.int16)
            yield samples[: len(samples) - len(samples) % channels].reshape(-1, channels)


def _decoded_blocks(file: BinaryIO) -> Iterator[np.ndarray]:
    import av

    file.seek(0)
    try:
        with av.open(file, mode="r") as container:
            stream = container.streams.audio[0]
            channels = stream.layout.nb_channels
            resampler = av.AudioResampler(format="s16", layout=stream.layout, rate=stream.rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1, channels)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1, channels)
    except av.FFmpegError as error:
        raise MediaError(f"The audio could not be decoded: {error}.") from error


def pcm_blocks(file: BinaryIO, kind: str, block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """The file's samples as int16 blocks of shape (frames, channels), in order."""
    if kind == "wav" and _is_plain_wav(_wav_params(file)):
        return _wav_blocks(file, block_frames)
    return _decoded_blocks(file)


class WavWriter:
    """16-bit PCM WAV written block by block (the header's sizes are filled in at close)."""

    def __init__(self, file: BinaryIO, *, channels: int, sample_rate: int):
        self._writer = wave.open(file, "wb")  # noqa: SIM115 - closed by close()
        self._writer.setnchannels(channels)
        self._writer.setsampwidth(2)
        self._writer.setframerate(sample_rate)

    def write(self, block: np.ndarray) -> None:
        self._writer.writeframesraw(np.ascontiguousarray(block, dtype="<i2").tobytes())

    def close(self) -> None:
        self._writer.close()
