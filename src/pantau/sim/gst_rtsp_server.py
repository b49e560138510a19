"""A real RTSP server on GStreamer's gst-rtsp-server (Debian packages), for the simulated
cameras and for the tests.

Runs under the *system* Python (/usr/bin/python3), which has the GObject bindings:

    /usr/bin/python3 gst_rtsp_server.py --port 0 --mount cam1=/path/a.h264 \\
        --mount kel-kambu/interior=udp:40001 [--user U --password P --auth basic|digest]

Prints "PORT <n>" once listening. Commands on stdin: "stall NAME", "resume NAME", "quit".
A file mount loops an Annex-B .h264 file forever with continuous timestamps; a `udp:PORT` mount
re-serves the MPEG-TS a simulated camera sends to that UDP port on 127.0.0.1 (UDP, so the
simulator never blocks when nobody watches).
"""

import argparse
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--port", default="0")
parser.add_argument("--fps", default="25")
parser.add_argument("--mount", action="append", default=[])
parser.add_argument("--user")
parser.add_argument("--password")
parser.add_argument("--auth", default="basic")
args = parser.parse_args()

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(args.port)
valves: dict = {}


def launch(src: str) -> str:
    if src.startswith("udp:"):
        return (
            # A large socket buffer: on a busy machine this process may not be scheduled for
            # a while, and a datagram the kernel drops is a broken picture in every recording.
            f"( udpsrc address=127.0.0.1 port={int(src[4:])} buffer-size=4194304 "
            'caps="video/mpegts,systemstream=(boolean)true,packetsize=(int)188" '
            "! tsdemux ! h264parse ! valve name=v drop=false "
            # x264 repeats SPS/PPS at each keyframe already; -1 would add them again before
            # every IDR *slice*, and a recorded keyframe then decodes as two half pictures
            "! rtph264pay name=pay0 pt=96 config-interval=0 )"
        )
    head = (
        f"multifilesrc location={src} loop=true "
        f"caps=video/x-h264,stream-format=byte-stream,framerate={args.fps}/1 ! h264parse name=parse"
    )
    return (
        f"( {head} ! identity sync=true ! valve name=v drop=false "
        "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )


def configure(name: str, media: GstRtspServer.RTSPMedia) -> None:
    element = media.get_element()
    valves[name] = element.get_by_name("v")
    parse = element.get_by_name("parse")
    if parse is None:  # udp mounts: the sender already timestamps
        return
    duration = Gst.SECOND // int(args.fps)
    count = [0]

    def stamp(_pad, info):  # raw Annex-B has no timestamps: frame n gets n/fps
        buf = info.get_buffer()
        buf.pts = buf.dts = count[0] * duration
        buf.duration = duration
        count[0] += 1
        return Gst.PadProbeReturn.OK

    parse.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, stamp)


for mount in args.mount:
    mount_name, source = mount.split("=", 1)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch(source))
    factory.set_shared(True)
    factory.connect("media-configure", lambda _f, media, n=mount_name: configure(n, media))
    if args.user:
        perms = GstRtspServer.RTSPPermissions()
        perms.add_permission_for_role("user", "media.factory.access", True)
        perms.add_permission_for_role("user", "media.factory.construct", True)
        factory.set_permissions(perms)
    server.get_mount_points().add_factory("/" + mount_name, factory)

if args.user:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "user")
    if args.auth == "digest":
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest(args.user, args.password, token)
    else:
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
    server.set_auth(auth)

if server.attach(None) == 0 or server.get_bound_port() <= 0:
    print(f"cannot listen on 127.0.0.1:{args.port} (port already in use?)", file=sys.stderr)
    sys.exit(2)
print("PORT", server.get_bound_port(), flush=True)
loop = GLib.MainLoop()


def read_commands() -> None:
    for line in sys.stdin:
        cmd, *rest = line.split() or [""]
        if cmd == "quit":
            GLib.idle_add(loop.quit)
            return
        valve = valves.get(rest[0]) if rest else None
        if valve is not None:
            valve.set_property("drop", cmd == "stall")
            print("OK", cmd, rest[0], flush=True)
        else:
            print("ERR", line.strip(), flush=True)
    GLib.idle_add(loop.quit)  # stdin closed: the test process is gone


threading.Thread(target=read_commands, daemon=True).start()
loop.run()
