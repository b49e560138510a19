"""Read a camera or a video file with PyAV: packets for the recorder, small frames for vision.

Every packet is stamped with the UTC time it was captured (ARCHITECTURE.md, principle 1): live
streams through a StreamClock anchored at receive time, files from a caller-supplied start time
plus their own timestamps. Failures surface as one StreamFailure with a reason the pipeline can act
on (retry soon, alert an operator, give up) and a message that is safe to show: passwords in the
URL never leave this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from types import TracebackType
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit
from urllib.request import url2pathname

import av
import av.error
import numpy as np
from av.video.reformatter import VideoReformatter

from pantau.media.clock import StreamClock
from pantau.registry.secrets import split_credentials

REASONS = (
    "auth_failed",
    "unreachable",
    "not_found",
    "unsupported_codec",
    "ended",
    "stalled",
    "corrupt",
    "not_video",
    "error",
)
CODECS = ("h264", "hevc")
SECRET_PARAMS = re.compile(r"^(pass(word|wd)?|pwd|token|auth|key|secret)$", re.IGNORECASE)
# Demuxers FFmpeg happily opens as "video" that no camera sends: still pictures, and text files
# (rendered as ANSI art by the tty demuxer).
STILL_FORMATS = re.compile(r"^(image2|.*_pipe)$")
TEXT_FORMATS = ("tty", "bin", "adf", "idf", "xbin")
# Consecutive demux errors after which a stream counts as corrupt rather than briefly damaged.
MAX_DEMUX_ERRORS = 100


class StreamFailure(Exception):
    """Why a stream could not be opened or read any further; `message` is safe to show and log."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown stream failure reason {reason!r}")
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def redact(url: str) -> str:
    """The URL with its password (and password-like query parameters) replaced by ***.

    The password is cut off the way the camera registry reads it (to the last "@" before the
    path), so one pasted unescaped ("pa#ss") is not mistaken for a fragment and shown.
    """
    bare, user, password = split_credentials(url)
    if password is not None:
        scheme, _, rest = bare.partition("://")
        host = rest.partition("@")[2] if user else rest
        url = f"{scheme}://{quote(user or '', safe='')}:***@{host}"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if SECRET_PARAMS.match(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secrets(url: str) -> list[str]:
    """Raw and decoded forms of every secret in the URL, to scrub from any text we pass on."""
    out: list[str] = []
    password = split_credentials(url)[2]
    if password:
        out += [password, quote(password, safe="")]
    try:
        parts = urlsplit(url)
        if parts.password and not password:
            out += [parts.password, unquote(parts.password)]
        out += [v for k, v in parse_qsl(parts.query) if SECRET_PARAMS.match(k)]
    except ValueError:
        pass
    return sorted({s for s in out if s}, key=len, reverse=True)


def _scrub(text: str, url: str) -> str:
    text = text.replace(url, redact(url))
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def _is_file(url: str) -> bool:
    return url.startswith("file:") or "://" not in url


def _local_path(url: str) -> str:
    """file:// URLs become plain paths (FFmpeg's file: protocol does not %-decode)."""
    if url.startswith("file:"):
        return url2pathname(unquote(urlsplit(url).path))
    return url


def classify(exc: BaseException, url: str) -> StreamFailure:
    """Map a PyAV/OS exception raised while opening or reading `url` to a StreamFailure.

    Uses the error's own text (strerror), never str(exc): PyAV appends the file name, which for a
    camera is the URL with its password.
    """
    if isinstance(exc, StreamFailure):
        return exc
    where = redact(url)
    detail = getattr(exc, "strerror", None) or type(exc).__name__
    is_file = _is_file(url)
    try:
        has_user = not is_file and bool(urlsplit(url).username)
    except ValueError:
        has_user = False

    def fail(reason: str, text: str) -> StreamFailure:
        return StreamFailure(reason, _scrub(text, url))

    # PyAV's classes also derive from the builtin OSError family: test the specific ones first.
    if isinstance(exc, av.error.HTTPUnauthorizedError):
        if has_user:
            return fail("auth_failed", f"{where}: the camera rejected the user name or password")
        return fail("auth_failed", f"{where}: the camera needs a user name and password in the URL")
    if isinstance(exc, av.error.HTTPForbiddenError):
        return fail("auth_failed", f"{where}: access forbidden (403) for this user")
    if isinstance(exc, av.error.HTTPNotFoundError):
        return fail("not_found", f"{where}: the camera has no stream at this path (404)")
    if isinstance(exc, FileNotFoundError):
        return fail("not_found", f"{where}: no such file")
    if isinstance(exc, av.error.HTTPError | av.error.HTTPClientError):
        return fail("error", f"{where}: the camera answered with an error ({detail})")
    if isinstance(exc, av.error.DecoderNotFoundError | av.error.PatchWelcomeError):
        return fail("unsupported_codec", f"{where}: FFmpeg cannot decode this stream ({detail})")
    if isinstance(exc, av.error.InvalidDataError):
        return fail("corrupt", f"{where}: invalid data, not a readable video stream ({detail})")
    if isinstance(exc, TimeoutError | av.error.ExitError):
        return fail("stalled", f"{where}: no data before the timeout ({detail})")
    if isinstance(exc, EOFError | av.error.EOFError):
        return fail("ended", f"{where}: the stream ended")
    if isinstance(exc, PermissionError):
        return fail("error", f"{where}: permission denied")
    if isinstance(exc, OSError) and is_file:
        return fail("error", f"{where}: cannot read ({detail})")
    if isinstance(exc, OSError):  # refused, reset, no route, name not resolved (EIO)...
        return fail("unreachable", f"{where}: cannot connect ({detail})")
    return fail("error", f"{where}: {type(exc).__name__}: {detail}")


@dataclass
class SampledFrame:
    """A decoded frame, shrunk for analytics; `at` is its capture time (UTC)."""

    at: datetime
    bgr: np.ndarray
    grey: np.ndarray
    keyframe: bool
    source_width: int
    source_height: int


@dataclass
class PacketInfo:
    """A demuxed video packet and its wall time (from the decode timestamp: never goes back)."""

    packet: av.Packet
    at: datetime
    keyframe: bool
    size: int


class StreamReader:
    """One connection to a camera, or one pass over a file. Not thread-safe; reconnect: new one."""

    def __init__(
        self,
        url: str,
        *,
        transport: str = "tcp",
        open_timeout: float = 10,
        stall_timeout: float = 10,
        sample: str = "keyframes",
        sample_fps: float = 1.0,
        analytics_width: int = 640,
        live: bool = True,
        start_time: datetime | None = None,
        keyframe_every: float = 0.0,
        keyframe_after: datetime | None = None,
    ) -> None:
        """`keyframe_every` (keyframes mode): decode a keyframe only when at least that many
        seconds of stream time have passed since the last decoded one (within 10 %), so a
        backfill sampling every 5 s of footage with a keyframe every second decodes one in five.
        `keyframe_after`: when the last one was decoded, from the previous file of a run.
        """
        if sample not in ("keyframes", "fps"):
            raise ValueError(f"sample must be 'keyframes' or 'fps', not {sample!r}")
        if sample_fps <= 0 or analytics_width < 2:
            raise ValueError("sample_fps must be > 0 and analytics_width >= 2")
        if start_time is not None and start_time.tzinfo is None:
            raise ValueError("start_time must be time-zone aware")
        self.url = url
        self.transport = transport
        self.open_timeout = open_timeout
        self.stall_timeout = stall_timeout
        self.sample_mode = sample
        self.sample_fps = sample_fps
        self.keyframe_every = max(0.0, keyframe_every)
        self._last_keyframe_at: datetime | None = keyframe_after
        self.analytics_width = analytics_width
        self.live = live
        self.start_time = start_time
        self.corrupt_packets = 0  # demux errors and packets flagged corrupt, skipped
        self.decode_errors = 0  # packets the decoder rejected, or frames it had to conceal
        self.packets_read = 0
        self.frames_sampled = 0
        self._container: av.container.InputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._clock: StreamClock | None = None
        self._next_ts: int | None = None  # files without timestamps (raw .h264): synthesised
        self._frame_ticks = 0
        self._decoding = False  # fps mode: started at the first keyframe
        self._keyframe_au: list[PacketInfo] = []  # packets of the keyframe being collected
        self._capture: dict[int, datetime] = {}  # pts -> capture time of packets in the decoder
        self._last_slot: int | None = None
        self._slot_origin: datetime | None = None
        self._source_size: tuple[int, int] | None = None
        self._bgr = VideoReformatter()
        self._grey = VideoReformatter()

    # -- opening -----------------------------------------------------------------------------

    def open(self) -> None:
        """Connect/open and check that this is H.264/H.265 video; raises StreamFailure."""
        if not self.live and self.start_time is None:
            raise StreamFailure(
                "error",
                f"{redact(self.url)}: no time information: supply the UTC time the recording "
                "started (start_time, or --start when analysing a file)",
            )
        target = _local_path(self.url) if _is_file(self.url) else self.url
        options: dict[str, str] = {}
        if not _is_file(self.url):
            options = {
                "timeout": str(int(self.stall_timeout * 1_000_000)),  # socket I/O, microseconds
                "fflags": "nobuffer",
                "analyzeduration": "100000",  # SDP has the parameters: open in ~0.2 s, not ~1 s
            }
            if self.url.startswith("rtsp"):
                options["rtsp_transport"] = self.transport
        try:
            container = av.open(
                target, options=options, timeout=(self.open_timeout, self.stall_timeout)
            )
        except Exception as exc:  # every failure is classified
            raise self._open_failure(exc) from None
        try:
            self._check(container)
        except StreamFailure:
            container.close()
            raise
        self._container = container

    def _open_failure(self, exc: Exception) -> StreamFailure:
        """Reasons read differently before the first packet: nothing is "ended" or "stalled" yet."""
        failure, where = classify(exc, self.url), redact(self.url)
        if failure.reason == "corrupt" or (failure.reason == "ended" and _is_file(self.url)):
            return StreamFailure("not_video", f"{where}: not video that FFmpeg can read")
        if failure.reason == "ended":
            return StreamFailure("unreachable", f"{where}: closed the connection while opening")
        if failure.reason == "stalled":
            wait = f"{self.open_timeout:g} s"
            return StreamFailure("unreachable", f"{where}: no answer within {wait}")
        return failure

    def _check(self, container: av.container.InputContainer) -> None:
        where = redact(self.url)
        if not container.streams.video:
            raise StreamFailure("not_video", f"{where}: has no video stream")
        if STILL_FORMATS.match(container.format.name):
            raise StreamFailure("not_video", f"{where}: is a still image, not video")
        if container.format.name in TEXT_FORMATS:
            raise StreamFailure("not_video", f"{where}: is text, not video")
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in CODECS:
            raise StreamFailure(
                "unsupported_codec", f"{where}: camera sends {codec}; Pantau records H.264/H.265"
            )
        cc = stream.codec_context
        if self.sample_mode == "keyframes":
            cc.skip_frame = "NONKEY"
            cc.flags |= av.codec.context.Flags.low_delay  # no reorder wait: one keyframe, one frame
        self._stream = stream
        fps = self.expected_fps or 25.0
        self._frame_ticks = max(1, round(1 / (fps * stream.time_base))) if stream.time_base else 1

    def __enter__(self) -> StreamReader:
        self.open()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            finally:
                self._container = None

    # -- properties --------------------------------------------------------------------------

    @property
    def video_stream(self) -> av.video.stream.VideoStream:
        """The input stream, as the template for SegmentRecorder.start()."""
        if self._stream is None:
            raise RuntimeError("StreamReader.open() first")
        return self._stream

    @property
    def width(self) -> int:
        """Source width: of the last decoded frame (resolution may change), else as announced."""
        return self._source_size[0] if self._source_size else self.video_stream.codec_context.width

    @property
    def height(self) -> int:
        return self._source_size[1] if self._source_size else self.video_stream.codec_context.height

    @property
    def codec_name(self) -> str:
        return self.video_stream.codec_context.name

    @property
    def expected_fps(self) -> float | None:
        """Announced frame rate (average, else FFmpeg's guess); None if the stream says nothing."""
        stream = self.video_stream
        rate = stream.average_rate or stream.guessed_rate
        return float(rate) if rate else None

    # -- reading -----------------------------------------------------------------------------

    def packets(self) -> Iterator[PacketInfo]:
        """Video packets in order, stamped with wall time; raises StreamFailure for live streams.

        A live stream never ends by itself, so the end of the demux loop (camera closed the
        connection, server killed) is a failure ("ended"); a file simply stops.
        """
        container, stream = self._container, self.video_stream
        assert container is not None
        errors = 0
        while True:
            try:
                for pkt in container.demux(stream):
                    if pkt.size == 0:  # PyAV's end-of-stream flush packet
                        continue
                    if pkt.is_corrupt:
                        self.corrupt_packets += 1
                        continue
                    errors = 0
                    self.packets_read += 1
                    yield PacketInfo(pkt, self._stamp(pkt), pkt.is_keyframe, pkt.size)
                break
            except (av.error.InvalidDataError, av.error.UndefinedError) as exc:
                # damaged bytes: the demuxer resyncs on the next call
                self.corrupt_packets += 1
                errors += 1
                if errors >= MAX_DEMUX_ERRORS:
                    raise classify(exc, self.url) from None
            except (TimeoutError, av.error.ExitError):
                raise StreamFailure(
                    "stalled", f"{redact(self.url)}: no video for {self.stall_timeout:g} s"
                ) from None
            except Exception as exc:
                raise classify(exc, self.url) from None
        if self.live:
            raise StreamFailure("ended", f"{redact(self.url)}: the camera closed the stream")

    def _stamp(self, pkt: av.Packet) -> datetime:
        """Wall time of a packet; also gives timestamp-less file packets (raw .h264) a timeline."""
        ts = pkt.dts if pkt.dts is not None else pkt.pts
        if ts is None and not self.live:
            ts = self._next_ts or 0
            pkt.pts = pkt.dts = ts
        if ts is not None and not self.live:
            self._next_ts = ts + (pkt.duration or self._frame_ticks)
        received = datetime.now(UTC) if self.live else None
        if self._clock is None:
            if ts is None:  # live, first packet(s) before any timestamp
                assert received is not None
                return received
            anchor = received if received is not None else self.start_time
            assert anchor is not None
            self._clock = StreamClock(self.video_stream.time_base or Fraction(1, 90000), anchor)
        at = self._clock.wall(ts, received)
        if pkt.pts is not None:  # capture time of the frame this packet holds (B-frames: pts > dts)
            shift = (pkt.pts - ts) * self._clock.time_base if ts is not None else 0
            self._capture[pkt.pts] = at + timedelta(seconds=float(shift))
            if len(self._capture) > 256:  # packets the decoder never returned a frame for
                self._capture.pop(next(iter(self._capture)))
        return at

    # -- sampling ----------------------------------------------------------------------------

    def sample(self, info: PacketInfo) -> SampledFrame | None:
        """Decode as little as the mode needs; a frame for vision, or None (not due / bad data)."""
        packet = info.packet
        if self.sample_mode == "keyframes":
            # A keyframe often arrives as several packets with the same pts (one per slice; only
            # the first is flagged). Decoding just the flagged one gives a picture whose lower
            # part is missing, so the whole access unit is collected and decoded as one packet
            # when the next picture starts.
            au = self._keyframe_au
            if au and packet.pts == au[0].packet.pts:
                au.append(info)
                return None
            self._keyframe_au = [info] if info.keyframe and self._keyframe_due(info.at) else []
            if not au:
                return None
            return self._decode(au[0], self._joined(au))
        if not self._decoding:
            if not info.keyframe:  # nothing before the first keyframe can be decoded
                return None
            self._decoding = True
        return self._decode(info, packet)

    def _decode(self, info: PacketInfo, packet: av.Packet) -> SampledFrame | None:
        cc = self.video_stream.codec_context
        try:
            frames = cc.decode(packet)
        except av.FFmpegError:
            self.decode_errors += 1
            return None
        if not frames and self.sample_mode == "keyframes":
            try:
                frames = cc.decode(None)  # low-delay decoders still hold the last picture
            except av.FFmpegError:
                frames = []
            cc.flush_buffers()
            if not frames:
                self.decode_errors += 1
                return None
        chosen = None
        for frame in frames:
            if frame.is_corrupt:
                self.decode_errors += 1
            at = self._capture.pop(frame.pts, info.at) if frame.pts is not None else info.at
            if self._due(at):
                chosen = (frame, at)
        if chosen is None:
            return None
        frame, at = chosen
        return self._shrink(frame, at)

    def sample_pending(self) -> SampledFrame | None:
        """The keyframe still being collected when the input ends (keyframes mode): it is
        otherwise decoded only when the next picture starts, which never comes."""
        if self.sample_mode != "keyframes" or not self._keyframe_au:
            return None
        au, self._keyframe_au = self._keyframe_au, []
        return self._decode(au[0], self._joined(au))

    @staticmethod
    def _joined(au: list[PacketInfo]) -> av.Packet:
        if len(au) == 1:
            return au[0].packet
        joined = av.Packet(b"".join(bytes(p.packet) for p in au))
        first = au[0].packet
        joined.pts, joined.dts, joined.time_base = first.pts, first.dts, first.time_base
        joined.is_keyframe = True
        return joined

    def _keyframe_due(self, at: datetime) -> bool:
        if self.keyframe_every <= 0:
            return True
        last = self._last_keyframe_at
        if last is not None and 0 <= (at - last).total_seconds() < 0.9 * self.keyframe_every:
            return False
        self._last_keyframe_at = at
        return True

    def _due(self, at: datetime) -> bool:
        if self.sample_mode == "keyframes":
            return True
        # fixed slots of 1/sample_fps from the first frame: exactly sample_fps on average, without
        # the drift of "at least 1/fps since the last one" on a 25 fps grid
        if self._slot_origin is None:
            self._slot_origin = at
        slot = int((at - self._slot_origin).total_seconds() * self.sample_fps + 1e-6)
        if self._last_slot is not None and slot <= self._last_slot:
            return False
        self._last_slot = slot
        return True

    def _shrink(self, frame: av.VideoFrame, at: datetime) -> SampledFrame:
        """BGR at analytics width (never upscaled) and grey at half that, straight from YUV."""
        sw, sh = frame.width, frame.height
        self._source_size = (sw, sh)
        w = min(self.analytics_width, sw)
        h = max(1, round(sh * w / sw))
        gw = max(1, w // 2)
        gh = max(1, round(sh * gw / sw))
        bgr = self._bgr.reformat(frame, w, h, "bgr24", interpolation="AREA").to_ndarray()
        grey = self._grey.reformat(frame, gw, gh, "gray", interpolation="AREA").to_ndarray()
        self.frames_sampled += 1
        return SampledFrame(at, bgr, grey, bool(frame.key_frame), sw, sh)
